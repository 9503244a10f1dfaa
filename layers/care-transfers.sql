-- Restricted layer `transfers` (issue 13 item 8): one feature per open or accepted transfer request
-- (care.transfer_request): the facility it leaves, the required tier, minutes waiting since the request, and the best
-- offer — for an open request the nearest treatment facility of that tier with a free staffed bed in an f0 or mixed
-- room (its rooms' staffed beds less the people in them now, care.current_stay, less the beds promised to accepted
-- requests: gis/care/sql/transfers.sql free_rooms' count, any sex), for an accepted one the facility it was accepted
-- to — and its great-circle distance in km. The distance has no detour factor (a view cannot read
-- COVIDGIS_CARE_DETOUR_FACTOR; the factor scales every offer alike, so the nearest is the same as the CLI's). No
-- person key, reason or vital sign. The geometry is a LineString from the leaving facility to the best offer; with
-- no offer (or no point for it) a zero-length line at the leaving facility.
CREATE OR REPLACE VIEW restricted.care_transfers AS
WITH occupied AS (
    SELECT s.facility_id, s.room_id, count(*)::int AS people
    FROM care.current_stay s
    GROUP BY s.facility_id, s.room_id
), promised AS (
    SELECT t.to_facility AS facility_id, count(*)::int AS promised
    FROM care.transfer_request t
    WHERE t.status = 'accepted'
    GROUP BY t.to_facility
), free AS (
    SELECT f.facility_id, f.tier, f.geom,
           sum(greatest(coalesce(r.staffed_beds, 0) - coalesce(o.people, 0), 0))::int - coalesce(max(p.promised), 0)
               AS free_staffed_beds
    FROM events.facilities f
    JOIN events.rooms r ON r.facility_id = f.facility_id AND r.kind IN ('f0', 'mixed')
    LEFT JOIN occupied o ON o.facility_id = r.facility_id AND o.room_id = r.room_id
    LEFT JOIN promised p ON p.facility_id = f.facility_id
    WHERE f.kind = 'treatment' AND f.tier IS NOT NULL
    GROUP BY f.facility_id
)
SELECT t.request_id AS id,
       t.status,
       t.from_facility,
       t.required_tier,
       floor(extract(epoch FROM now() - t.requested_at) / 60.0)::int AS waiting_minutes,  -- whole minutes
       b.facility_id AS best_offer_facility,
       round((ST_DistanceSphere(src.geom, b.geom) / 1000.0)::numeric, 2)::float8 AS best_offer_km,
       CASE WHEN src.geom IS NOT NULL
            THEN ST_MakeLine(src.geom, coalesce(b.geom, src.geom))::geometry(LineString, 4326) END AS geom
FROM care.transfer_request t
LEFT JOIN events.facilities src ON src.facility_id = t.from_facility
LEFT JOIN LATERAL (
    SELECT fa.facility_id, fa.geom
    FROM events.facilities fa
    WHERE t.status = 'accepted' AND fa.facility_id = t.to_facility
    UNION ALL
    (SELECT fr.facility_id, fr.geom
     FROM free fr
     WHERE t.status = 'open' AND fr.tier = t.required_tier AND fr.free_staffed_beds > 0
     ORDER BY ST_DistanceSphere(src.geom, fr.geom) NULLS LAST, fr.facility_id
     LIMIT 1)
) b ON true
WHERE t.status IN ('open', 'accepted');
