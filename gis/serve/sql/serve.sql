-- Queries of the serving layer (gis/serve), run with the server's own connection (not the public role).

-- name: data_version
SELECT zones, boundaries, facilities, trace, changed_at FROM pub.data_version;

-- name: api_key
SELECT name, role, area_code FROM serve.api_key WHERE token_sha256 = %(token_sha256)s AND revoked_at IS NULL;

-- name: add_key
INSERT INTO serve.api_key (name, role, token_sha256, area_code)
VALUES (%(name)s, %(role)s, %(token_sha256)s, %(area_code)s) RETURNING id;

-- name: list_keys
SELECT id, name, role, area_code, created_at, revoked_at FROM serve.api_key ORDER BY revoked_at IS NOT NULL, name, id;

-- name: revoke_key
UPDATE serve.api_key SET revoked_at = now() WHERE name = %(name)s AND revoked_at IS NULL RETURNING id;

-- name: area_level
SELECT level FROM admin.area WHERE code = %(code)s AND valid_to IS NULL;
