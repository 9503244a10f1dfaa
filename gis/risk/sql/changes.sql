-- The change feed of the public zones (gis/risk/changes.py), run in the transaction that bumps risk.snapshot.
-- Tables: migration 0010. The public role reads them through layers/_zone_changes.sql.

-- name: record_changes
-- The public current zones (pub.zones semantics: the latest computed day of the published rule set, areas in force
-- that day) against the ones last recorded: each code whose (level, colour) differs is logged under %(version)s
-- (NULLs: it left the public zones) and the recorded state follows. Every statement of the WITH sees the state before
-- it, so the diff is taken once. Returns how many codes changed.
WITH now_public AS (
    SELECT z.area_code AS code, z.level, z.colour
    FROM risk.zone z
    JOIN risk.published p ON p.ruleset_id = z.ruleset_id
    JOIN admin.area a ON a.code = z.area_code AND a.valid_from <= z.day AND (a.valid_to IS NULL OR a.valid_to > z.day)
    WHERE z.day = (SELECT max(m.day) FROM risk.zone m WHERE m.ruleset_id = p.ruleset_id)
), diff AS (
    SELECT coalesce(n.code, o.code) AS code, n.level, n.colour
    FROM now_public n
    FULL JOIN risk.zone_public o ON o.code = n.code
    WHERE (n.level, n.colour) IS DISTINCT FROM (o.level, o.colour)
), logged AS (
    INSERT INTO risk.zone_change (version, code, level, colour)
    SELECT %(version)s, code, level, colour FROM diff
    RETURNING code
), kept AS (
    INSERT INTO risk.zone_public AS o (code, level, colour, version)
    SELECT code, level, colour, %(version)s FROM diff WHERE level IS NOT NULL
    ON CONFLICT (code) DO UPDATE SET level = excluded.level, colour = excluded.colour, version = excluded.version
    RETURNING o.code
), gone AS (
    DELETE FROM risk.zone_public o USING diff d WHERE d.code = o.code AND d.level IS NULL
    RETURNING o.code
)
SELECT (SELECT count(*) FROM logged) AS changed;

-- name: shows_current
-- Does a day of this rule set hold what the public zones show (the published rule set's latest computed day)? Any
-- other day's recompute leaves them as they are, so the diff (~0.8 s at country scale, estimated) is skipped.
SELECT %(ruleset)s = (SELECT ruleset_id FROM risk.published)
       AND %(day)s >= (SELECT max(day) FROM risk.zone WHERE ruleset_id = %(ruleset)s);

-- name: prune_changes
-- Keep the changes of the last %(keep)s versions: changed-since=V stays answerable for V ≥ %(version)s − %(keep)s.
DELETE FROM risk.zone_change WHERE version <= %(version)s - %(keep)s;
UPDATE risk.zone_feed SET oldest_version = greatest(oldest_version, %(version)s - %(keep)s);

-- name: feed_state
SELECT f.oldest_version, s.version AS current_version FROM risk.zone_feed f CROSS JOIN risk.snapshot s;
