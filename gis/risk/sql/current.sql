-- The masked numbers of the public current zones (risk.zone_current, migration 0012), stored by gis/risk/changes.py
-- in the transaction that bumps risk.snapshot; layers/zones.sql reads them.

-- name: store_current
-- Every current public zone (pub.zones' rows: the latest computed day of the published rule set, areas in force that
-- day) whose stored row is missing or was computed from other row versions of its zone, indicator row or
-- risk.published gets its masked columns computed as layers/zones-history.sql computes them (published_numbers once
-- per zone, not once per column); rows of zones no longer current go. Returns how many rows were computed.
WITH now_public AS (  -- keys and row versions only: a zone's counts are built below, for the stale ones
    SELECT z.area_code AS code, z.day, z.ruleset_id, z.xmin AS zone_xmin, ind.xmin AS indicator_xmin,
           p.xmin AS published_xmin
    FROM risk.zone z
    JOIN risk.published p ON p.ruleset_id = z.ruleset_id
    JOIN admin.area a ON a.code = z.area_code AND a.valid_from <= z.day AND (a.valid_to IS NULL OR a.valid_to > z.day)
    LEFT JOIN stats.indicator ind ON ind.day = z.day AND ind.area_code = z.area_code
    WHERE z.day = (SELECT max(m.day) FROM risk.zone m WHERE m.ruleset_id = p.ruleset_id)
), stale AS (
    SELECT n.*
    FROM now_public n
    LEFT JOIN risk.zone_current s ON s.code = n.code AND s.day = n.day AND s.ruleset_id = n.ruleset_id
         AND s.zone_xmin = n.zone_xmin AND s.published_xmin = n.published_xmin
         AND s.indicator_xmin IS NOT DISTINCT FROM n.indicator_xmin
    WHERE s.code IS NULL
), gone AS (
    DELETE FROM risk.zone_current s WHERE NOT EXISTS (SELECT 1 FROM now_public n WHERE n.code = s.code)
    RETURNING s.code
), computed AS MATERIALIZED (  -- published_numbers once per zone
    SELECT t.*, z.reasons, p.suppress_below, c.counts,
           pub.published_numbers(z.decisive, c.counts, p.suppress_below) AS numbers
    FROM stale t
    JOIN risk.zone z ON z.ruleset_id = t.ruleset_id AND z.day = t.day AND z.area_code = t.code
    JOIN risk.published p ON p.ruleset_id = t.ruleset_id
    LEFT JOIN stats.indicator ind ON ind.day = t.day AND ind.area_code = t.code
    CROSS JOIN LATERAL (SELECT z.inputs || coalesce(to_jsonb(ind), '{}'::jsonb) AS counts) c
), stored AS (
    INSERT INTO risk.zone_current AS s (code, day, ruleset_id, zone_xmin, indicator_xmin, published_xmin,
                                        details_suppressed, decisive, reasons)
    SELECT t.code, t.day, t.ruleset_id, t.zone_xmin, t.indicator_xmin, t.published_xmin,
           pub.has_small_count(t.counts, t.suppress_below), t.numbers -> 'decisive',
           pub.published_reasons(t.reasons, t.numbers -> 'shown')
    FROM computed t
    ON CONFLICT (code) DO UPDATE SET day = excluded.day, ruleset_id = excluded.ruleset_id,
        zone_xmin = excluded.zone_xmin, indicator_xmin = excluded.indicator_xmin,
        published_xmin = excluded.published_xmin, details_suppressed = excluded.details_suppressed,
        decisive = excluded.decisive, reasons = excluded.reasons
    RETURNING s.code
)
SELECT (SELECT count(*) FROM stored) AS computed, (SELECT count(*) FROM gone) AS dropped;
