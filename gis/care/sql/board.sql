-- What the coordinator page (/care, gis/care/board.py) reads beside gis/care/transfers.py's requests: who each
-- listed request is for and how long it has waited, and every facility's occupancy now. Counts from the replay's
-- present (care.current_stay, migration 0020), never the facilities feed's typed-in `occupied`.

-- name: request_people
-- The person key, the names of the facilities left and chosen, and the minutes since the request (open or accepted:
-- still waiting for a bed) of the listed requests.
SELECT t.request_id, t.person_key, ff.name AS from_name, tf.name AS to_name,
       CASE WHEN t.status IN ('open', 'accepted')
            THEN floor(extract(epoch FROM now() - t.requested_at) / 60.0)::bigint END AS waiting_minutes
FROM care.transfer_request t
LEFT JOIN events.facilities ff ON ff.facility_id = t.from_facility
LEFT JOIN events.facilities tf ON tf.facility_id = t.to_facility
WHERE t.request_id = ANY(%(ids)s)

-- name: request_exists
SELECT 1 FROM care.transfer_request WHERE request_id = %(request_id)s

-- name: facilities_now
-- Per facility with registered rooms: its beds and staffed beds, the people in it now (in any of its rooms), the
-- beds promised to accepted requests not yet placed, and its free staffed beds: each room's staffed beds less the
-- people in it (an overfull room takes none from the next, as the layer `beds`), less the promises. No person data.
WITH people AS (
    SELECT s.facility_id, s.room_id, count(*)::int AS occupied
    FROM care.current_stay s
    GROUP BY s.facility_id, s.room_id
), rooms AS (
    SELECT r.facility_id, sum(r.beds)::int AS beds, sum(r.staffed_beds)::int AS staffed_beds,
           sum(greatest(coalesce(r.staffed_beds, 0) - coalesce(p.occupied, 0), 0))::int AS free
    FROM events.rooms r
    LEFT JOIN people p ON p.facility_id = r.facility_id AND p.room_id = r.room_id
    GROUP BY r.facility_id
), here AS (
    SELECT facility_id, sum(occupied)::int AS occupied FROM people GROUP BY facility_id
), promised AS (
    SELECT t.to_facility AS facility_id, count(*)::int AS promised
    FROM care.transfer_request t
    WHERE t.status = 'accepted'
    GROUP BY t.to_facility
)
SELECT f.facility_id, f.name, f.kind, f.tier, r.beds, r.staffed_beds, coalesce(h.occupied, 0) AS occupied,
       coalesce(p.promised, 0) AS promised, greatest(r.free - coalesce(p.promised, 0), 0) AS free_staffed_beds
FROM rooms r
JOIN events.facilities f ON f.facility_id = r.facility_id
LEFT JOIN here h ON h.facility_id = r.facility_id
LEFT JOIN promised p ON p.facility_id = r.facility_id
ORDER BY f.kind DESC, f.tier NULLS LAST, f.facility_id
