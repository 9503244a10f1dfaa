-- What the public zones show (gis/risk/publish.py): run by `covidgis zones publish`, never by the server.

-- name: publish
-- Which rule set the public zones show and the suppression threshold; returns a row only when something changed.
UPDATE risk.published SET ruleset_id = :ruleset, suppress_below = :suppress_below, changed_at = now()
WHERE (ruleset_id, suppress_below) IS DISTINCT FROM (:ruleset, :suppress_below)
RETURNING ruleset_id;

-- name: bump_snapshot
UPDATE risk.snapshot SET version = version + 1, changed_at = now() RETURNING version;

-- name: published
SELECT ruleset_id, suppress_below, changed_at FROM risk.published;
