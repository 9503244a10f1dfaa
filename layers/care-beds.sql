-- Restricted layer `beds` (issue 13 item 8): per facility and room kind, the facility's tier, rooms, beds, staffed
-- beds, the people in them now and the free staffed beds (a room's free staffed beds are its own: an overfull room
-- takes none from the next one). People are counted from the replay's present (care.current_stay, migration 0020,
-- tested equal to care.stay), never the facilities feed's typed-in `occupied`, which is kept beside it as
-- `reported_occupied` (per facility: the same on each of its rows). Counts only: no person key, stay or event. The
-- facility's point. Treatment and quarantine facilities with registered rooms.
CREATE OR REPLACE VIEW restricted.care_beds AS
WITH people AS (
    SELECT s.facility_id, s.room_id, count(*)::int AS occupied
    FROM care.current_stay s
    GROUP BY s.facility_id, s.room_id
)
SELECT r.facility_id || ':' || r.kind AS id,
       r.facility_id,
       f.name,
       f.kind AS facility_kind,
       f.tier,
       r.kind AS room_kind,
       count(*)::int AS rooms,
       sum(r.beds)::int AS beds,
       sum(r.staffed_beds)::int AS staffed_beds,
       coalesce(sum(p.occupied), 0)::int AS occupied,
       sum(greatest(coalesce(r.staffed_beds, 0) - coalesce(p.occupied, 0), 0))::int AS free_staffed_beds,
       f.occupied AS reported_occupied,
       f.area_code,
       f.commune_code,
       f.geom
FROM events.rooms r
JOIN events.facilities f ON f.facility_id = r.facility_id
LEFT JOIN people p ON p.facility_id = r.facility_id AND p.room_id = r.room_id
GROUP BY r.facility_id, r.kind, f.facility_id;
