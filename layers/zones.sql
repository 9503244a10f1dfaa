-- Public layer `zones`: the current zone of every area — the latest computed day of the published rule set.
-- Same columns and suppression as `zones-history` (layers/zones-history.sql), one feature per area, id = area code.
-- The masked columns (details_suppressed, decisive, reasons) are read from risk.zone_current (migration 0012), where
-- gis/risk/changes.py stores them when a snapshot changes, computed by the same functions from the same rows. A stored
-- row is taken only while the zone, its indicator row and risk.published are the row versions (xmin) it was computed
-- from; otherwise they are computed here as zones-history does, so what is shown never depends on the store being
-- current. Unasked-for masked columns cost nothing (the store's join is removed: its key is unique).
CREATE OR REPLACE VIEW pub.zones AS
SELECT z.area_code AS code,
       z.day,
       z.admin_level,
       a.name,
       a.parent_code,
       z.level,
       z.colour,
       z.label_vi,
       z.label_en,
       z.ruleset_id,
       z.ruleset_version,
       z.override_id IS NOT NULL AS overridden,
       CASE WHEN m.code IS NOT NULL THEN m.details_suppressed
            ELSE pub.has_small_count(c.counts, p.suppress_below) END AS details_suppressed,
       CASE WHEN m.code IS NOT NULL THEN m.decisive
            ELSE pub.published_numbers(z.decisive, c.counts, p.suppress_below) -> 'decisive' END AS decisive,
       CASE WHEN m.code IS NOT NULL THEN m.reasons
            ELSE pub.published_reasons(z.reasons,
                                       pub.published_numbers(z.decisive, c.counts, p.suppress_below) -> 'shown')
            END AS reasons,
       a.geom
FROM risk.zone z
JOIN risk.published p ON p.ruleset_id = z.ruleset_id
JOIN admin.area a ON a.code = z.area_code AND a.valid_from <= z.day AND (a.valid_to IS NULL OR a.valid_to > z.day)
LEFT JOIN stats.indicator ind ON ind.day = z.day AND ind.area_code = z.area_code
LEFT JOIN risk.zone_current m ON m.code = z.area_code AND m.day = z.day AND m.ruleset_id = z.ruleset_id
     AND m.zone_xmin = z.xmin AND m.published_xmin = p.xmin AND m.indicator_xmin IS NOT DISTINCT FROM ind.xmin
CROSS JOIN LATERAL (SELECT z.inputs || coalesce(to_jsonb(ind), '{}'::jsonb) AS counts) c
WHERE z.day = (SELECT max(z.day) FROM risk.zone z WHERE z.ruleset_id = (SELECT ruleset_id FROM risk.published));
