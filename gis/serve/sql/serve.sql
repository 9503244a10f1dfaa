-- Queries of the serving layer (gis/serve), run with the server's own connection (not the public role).

-- name: publish
-- Which rule set the public zones show and the suppression threshold; returns a row only when something changed.
UPDATE risk.published SET ruleset_id = :ruleset, suppress_below = :suppress_below, changed_at = now()
WHERE (ruleset_id, suppress_below) IS DISTINCT FROM (:ruleset, :suppress_below)
RETURNING ruleset_id;

-- name: bump_snapshot
UPDATE risk.snapshot SET version = version + 1, changed_at = now() RETURNING version;

-- name: data_version
SELECT zones, boundaries, facilities, changed_at FROM pub.data_version;

-- name: api_key
SELECT name, role FROM serve.api_key WHERE token_sha256 = :token_sha256 AND revoked_at IS NULL;

-- name: add_key
INSERT INTO serve.api_key (name, role, token_sha256) VALUES (:name, :role, :token_sha256) RETURNING id;

-- name: list_keys
SELECT id, name, role, created_at, revoked_at FROM serve.api_key ORDER BY revoked_at IS NOT NULL, name, id;

-- name: revoke_key
UPDATE serve.api_key SET revoked_at = now() WHERE name = :name AND revoked_at IS NULL RETURNING id;
