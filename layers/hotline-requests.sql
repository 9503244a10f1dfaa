-- Restricted layer `hotline-requests` (roles hotline, welfare): the 1022 hotline's queue per hamlet — requests
-- still open (open, assigned, in_progress, reopened) and closed, the persons affected by the open ones, the oldest
-- open request and the first missed deadline. Duplicates count in persons_affected of their first request, not
-- as requests of their own. No description, caller or point: the hamlet's polygon only.
CREATE OR REPLACE VIEW restricted.hotline_requests AS
SELECT r.area_code || ':' || r.service_code AS id, r.area_code AS code, a.name, r.commune_code, r.service_code,
       count(*) FILTER (WHERE r.status <> 'closed')::int AS open,
       count(*) FILTER (WHERE r.status = 'closed')::int AS closed,
       coalesce(sum(r.persons_affected) FILTER (WHERE r.status <> 'closed'), 0)::int AS persons_affected_open,
       min(r.requested_at) FILTER (WHERE r.status <> 'closed') AS oldest_open_at,
       min(r.expected_at) FILTER (WHERE r.status <> 'closed') AS next_deadline_at,
       max(r.updated_at) AS updated_at,
       a.geom
FROM hotline.request r
JOIN admin.area a ON a.code = r.area_code AND a.valid_to IS NULL
WHERE r.duplicate_of IS NULL
GROUP BY r.area_code, a.name, r.commune_code, r.service_code, a.geom;
