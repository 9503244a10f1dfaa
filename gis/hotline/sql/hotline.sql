-- Queries of the 1022 hotline's Open311 routes (gis/hotline/open311.py).

-- name: hamlet_at_point
-- The current hamlet containing the point, else the nearest within the snap tolerance (as ingest's locate.sql).
SELECT a.code, a.parent_code
FROM admin.area a
WHERE a.level = 4 AND a.valid_to IS NULL
  AND ST_DWithin(a.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(tolerance_deg)s)
  AND ST_DWithin(a.geom::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(tolerance_m)s)
ORDER BY ST_Distance(a.geom::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography), a.code
LIMIT 1;

-- name: area_by_code
-- A current hamlet (itself) or commune (its first hamlet stands for it: the queue is the commune's).
SELECT CASE WHEN a.level = 4 THEN a.code END AS code, CASE WHEN a.level = 4 THEN a.parent_code ELSE a.code END AS parent_code
FROM admin.area a WHERE a.code = %(code)s AND a.valid_to IS NULL AND a.level IN (3, 4);

-- name: area_by_name
-- An address naming a current hamlet or commune (accent- and case-sensitive match on the whole name).
SELECT CASE WHEN a.level = 4 THEN a.code END AS code, CASE WHEN a.level = 4 THEN a.parent_code ELSE a.code END AS parent_code
FROM admin.area a WHERE a.valid_to IS NULL AND a.level IN (3, 4) AND position(lower(a.name) IN lower(%(address)s)) > 0
ORDER BY a.level DESC, length(a.name) DESC, a.code LIMIT 1;

-- name: find_duplicate
-- The first request this one duplicates: same service, within 72 h, same caller or within 50 m.
SELECT r.request_id FROM hotline.request r
WHERE r.service_code = %(service_code)s AND r.duplicate_of IS NULL
  AND r.requested_at > now() - interval '72 hours'
  AND ((%(caller_key)s::text IS NOT NULL AND r.caller_key = %(caller_key)s)
       OR (%(lon)s::float8 IS NOT NULL AND r.geom IS NOT NULL
           AND ST_DWithin(r.geom::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, 50)))
ORDER BY r.requested_at, r.request_id LIMIT 1
FOR UPDATE;

-- name: insert_request
INSERT INTO hotline.request (token, service_code, description, address_string, caller_key, geom, area_code,
                             commune_code, located_by, duplicate_of, expected_at)
VALUES (%(token)s, %(service_code)s, %(description)s, %(address_string)s, %(caller_key)s,
        CASE WHEN %(lon)s::float8 IS NOT NULL THEN ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) END,
        %(area_code)s, %(commune_code)s, %(located_by)s, %(duplicate_of)s,
        now() + make_interval(hours => %(deadline_hours)s))
RETURNING request_id;

-- name: count_duplicate
UPDATE hotline.request SET persons_affected = persons_affected + 1, updated_at = now()
WHERE request_id = %(duplicate_of)s;

-- name: public_requests
-- What anyone may read: service, status, hamlet, times. No description, no caller, no point.
SELECT r.request_id, r.token, r.service_code, r.status, r.area_code, h.name AS hamlet_name, r.commune_code,
       c.name AS commune_name, r.duplicate_of, r.persons_affected, r.requested_at, r.updated_at, r.expected_at
FROM hotline.request r
LEFT JOIN admin.area h ON h.code = r.area_code AND h.valid_to IS NULL
LEFT JOIN admin.area c ON c.code = r.commune_code AND c.valid_to IS NULL
WHERE (%(ids)s::bigint[] IS NULL OR r.request_id = ANY(%(ids)s::bigint[]))
  AND (%(services)s::text[] IS NULL OR r.service_code = ANY(%(services)s::text[]))
  AND (%(statuses)s::text[] IS NULL OR r.status = ANY(%(statuses)s::text[]))
  AND (%(start)s::timestamptz IS NULL OR r.requested_at >= %(start)s::timestamptz)
  AND (%(end)s::timestamptz IS NULL OR r.requested_at <= %(end)s::timestamptz)
  AND (%(token)s::text IS NULL OR r.token = %(token)s)
ORDER BY r.requested_at DESC, r.request_id DESC
LIMIT %(limit)s;

-- name: lock_request
SELECT status FROM hotline.request WHERE request_id = %(id)s FOR UPDATE;

-- name: set_status
UPDATE hotline.request SET status = %(to)s, updated_at = now() WHERE request_id = %(id)s;

-- name: log_status
INSERT INTO hotline.status_change (request_id, from_status, to_status, operator, note)
VALUES (%(id)s, %(from)s, %(to)s, %(operator)s, %(note)s);
