-- Statements of the zone computation, run by gis/risk/zones.py (parameters %(name)s; placeholders {name} filled by
-- gis.sqlfiles.compose).

-- name: adjacency_state
SELECT (SELECT max(load_id) FROM admin.area) AS newest_load,  -- the newest load that changed an area
       (SELECT max(load_id) FROM risk.adjacency) AS adjacency_load,
       (SELECT max(tolerance_m) FROM risk.adjacency) AS tolerance_m;

-- name: rebuild_adjacency
-- Pairs of current units of one level whose boundaries come within `tol` metres. The distance is taken in degrees
-- of latitude (1° ≈ 111.32 km), which overstates east-west distances by 1/cos(latitude) (≤ 6 per cent in Vietnam):
-- good enough for a tolerance, and two orders of magnitude faster than geography on 100,000 hamlets.
DELETE FROM risk.adjacency;
INSERT INTO risk.adjacency (code, neighbour_code, tolerance_m, load_id)
SELECT a.code, b.code, %(tol)s, (SELECT max(load_id) FROM admin.area)
FROM admin.area a
CROSS JOIN LATERAL (  -- lateral: one GiST lookup per unit, never a join of every unit with every other
    SELECT n.code FROM admin.area n
    WHERE ST_DWithin(a.geom, n.geom, %(tol)s / 111320.0)
      AND n.level = a.level AND n.code <> a.code AND n.valid_to IS NULL
) b
WHERE a.valid_to IS NULL;

-- name: indicators_for_day
-- The indicators a rule set reads of every unit in force on the day, its place in the hierarchy and its level the
-- day before. {columns}: `, i."name"` for each column of stats.indicator the rule set reads.
SELECT i.area_code, i.admin_level, a.parent_code, p.level AS previous_level {columns}
FROM stats.indicator i
JOIN admin.area a ON a.code = i.area_code
 AND a.valid_from <= %(day)s AND (a.valid_to IS NULL OR a.valid_to > %(day)s)
LEFT JOIN risk.zone p ON p.ruleset_id = %(ruleset)s AND p.day = %(day)s::date - 1 AND p.area_code = i.area_code
WHERE i.day = %(day)s
  AND (CAST(%(scope)s AS text[]) IS NULL OR i.area_code = ANY(CAST(%(scope)s AS text[])));

-- name: indicator_columns
SELECT column_name FROM information_schema.columns WHERE table_schema = 'stats' AND table_name = 'indicator';

-- name: overrides_for_day
SELECT id, area_code, level, reason, author FROM risk.override
WHERE start_day <= %(day)s AND (end_day IS NULL OR end_day >= %(day)s)
ORDER BY created_at;  -- a later override wins

-- name: adjacency
SELECT code, neighbour_code FROM risk.adjacency;

-- name: copy_zones
-- A day computed for the first time: its zones straight in. {columns}: the columns of the COPY text.
COPY risk.zone ({columns}) FROM STDIN;

-- name: copy_stage
COPY zone_stage ({columns}) FROM STDIN;

-- name: create_stage
CREATE TEMP TABLE zone_stage (LIKE risk.zone INCLUDING DEFAULTS) ON COMMIT DROP;

-- name: merge_stage
-- Insert or update the rows whose digest changed; a row counts only when something a user sees changed (or it had no
-- digest yet, written before migration 0006).
INSERT INTO risk.zone AS z (ruleset_id, day, area_code, admin_level, ruleset_version, level, colour, label_vi,
                            label_en, computed_level, override_id, reasons, decisive, inputs, row_hash)
SELECT ruleset_id, day, area_code, admin_level, ruleset_version, level, colour, label_vi, label_en,
       computed_level, override_id, reasons, decisive, inputs, row_hash
FROM zone_stage
ON CONFLICT (ruleset_id, day, area_code) DO UPDATE
SET admin_level = excluded.admin_level, ruleset_version = excluded.ruleset_version, level = excluded.level,
    colour = excluded.colour, label_vi = excluded.label_vi, label_en = excluded.label_en,
    computed_level = excluded.computed_level, override_id = excluded.override_id, reasons = excluded.reasons,
    decisive = excluded.decisive, inputs = excluded.inputs, row_hash = excluded.row_hash, computed_at = now()
WHERE (z.ruleset_version, z.level, z.computed_level, z.override_id, z.reasons, z.decisive, z.inputs, z.row_hash)
      IS DISTINCT FROM
      (excluded.ruleset_version, excluded.level, excluded.computed_level, excluded.override_id, excluded.reasons,
       excluded.decisive, excluded.inputs, excluded.row_hash);

-- name: bump_snapshot
UPDATE risk.snapshot SET version = version + 1, changed_at = now() RETURNING version;

-- name: stored_digests
-- The digests of the zones stored for the day (of these areas): a recompute sends only rows whose digest differs.
SELECT area_code, row_hash FROM risk.zone
WHERE ruleset_id = %(ruleset)s AND day = %(day)s
  AND (CAST(%(codes)s AS text[]) IS NULL OR area_code = ANY(CAST(%(codes)s AS text[])));
