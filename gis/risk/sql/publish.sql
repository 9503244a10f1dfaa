-- What the public zones show (gis/risk/publish.py): run by `covidgis zones publish`, never by the server.

-- name: publish
-- Which rule set the public zones show and the suppression threshold (the one row, made again if it was removed);
-- returns a row only when something changed.
INSERT INTO risk.published AS p (id, ruleset_id, suppress_below, changed_at)
VALUES (true, %(ruleset)s, %(suppress_below)s, now())
ON CONFLICT (id) DO UPDATE SET ruleset_id = excluded.ruleset_id, suppress_below = excluded.suppress_below,
                               changed_at = excluded.changed_at
WHERE (p.ruleset_id, p.suppress_below) IS DISTINCT FROM (excluded.ruleset_id, excluded.suppress_below)
RETURNING ruleset_id;

-- name: published
SELECT ruleset_id, suppress_below, changed_at FROM risk.published;
