-- Public layer `zones`: the current zone of every area — the latest computed day of the published rule set (the rows
-- of risk.zone_rows, layers/_zone_rows.sql, which the tiles' pub.zone_tiles reads too).
-- Same columns and suppression as `zones-history` (layers/zones-history.sql), one feature per area, id = area code.
-- The masked columns (details_suppressed, decisive, reasons) are read from risk.zone_current (migration 0012), where
-- gis/risk/changes.py stores them when a snapshot changes, computed by the same functions from the same rows. A stored
-- row is taken only while the zone, its indicator row and risk.published are the row versions (xmin) it was computed
-- from; otherwise they are computed here as zones-history does, so what is shown never depends on the store being
-- current. Unasked-for masked columns cost nothing (the store's join is removed: its key is unique).
CREATE OR REPLACE VIEW pub.zones AS
SELECT r.area_code AS code,
       r.day,
       r.admin_level,
       r.name,
       r.parent_code,
       r.level,
       r.colour,
       r.label_vi,
       r.label_en,
       r.ruleset_id,
       r.ruleset_version,
       r.override_id IS NOT NULL AS overridden,
       CASE WHEN m.code IS NOT NULL THEN m.details_suppressed
            ELSE pub.has_small_count(c.counts, r.suppress_below) END AS details_suppressed,
       CASE WHEN m.code IS NOT NULL THEN m.decisive
            ELSE pub.published_numbers(r.decisive, c.counts, r.suppress_below) -> 'decisive' END AS decisive,
       CASE WHEN m.code IS NOT NULL THEN m.reasons
            ELSE pub.published_reasons(r.reasons,
                                       pub.published_numbers(r.decisive, c.counts, r.suppress_below) -> 'shown')
            END AS reasons,
       r.geom
FROM risk.zone_rows r
LEFT JOIN stats.indicator ind ON ind.day = r.day AND ind.area_code = r.area_code
LEFT JOIN risk.zone_current m ON m.code = r.area_code AND m.day = r.day AND m.ruleset_id = r.ruleset_id
     AND m.zone_xmin = r.zone_xmin AND m.published_xmin = r.published_xmin
     AND m.indicator_xmin IS NOT DISTINCT FROM ind.xmin
CROSS JOIN LATERAL (SELECT r.inputs || coalesce(to_jsonb(ind), '{}'::jsonb) AS counts) c;
