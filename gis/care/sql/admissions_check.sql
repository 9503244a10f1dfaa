-- The admissions feed's cross-row check, for the ingest batch (gis/ingest/pipeline.py), run after the duplicate-key
-- check inside the batch transaction, on its temporary tables: `stage` (the file's rows as text, the person already
-- its key, vocabularies canonical, timestamps ISO local text) and `problem` (the rejects so far). %(tz)s is the feed's
-- time zone. A person is in at most one place at a time: an `admit` while the person's previous event (the batch's
-- good rows and the stored events of the same people, a corrected event as the batch has it) opened a stay that
-- nothing closed is rejected as `already_admitted`; a `move` is how a stay moves (it closes the old stay).
-- Set-based: one window over the batch's people, no per-person loop.

-- name: one_place_at_a_time
INSERT INTO problem (_row, field, reason, message)
WITH batch AS (
    SELECT s._row, s.event_id, s.person_key, s.event, s.facility_id, s.room_id,
           (s."at"::timestamp AT TIME ZONE %(tz)s) AS at
    FROM stage s
    WHERE NOT EXISTS (SELECT 1 FROM problem p WHERE p._row = s._row)
), history AS (
    SELECT b._row, b.event_id, b.person_key, b.event, b.facility_id, b.room_id, b.at FROM batch b
    UNION ALL
    SELECT NULL, a.event_id, a.person_key, a.event, a.facility_id, a.room_id, a.at
    FROM events.admissions a
    WHERE a.person_key IN (SELECT b.person_key FROM batch b)
      AND NOT EXISTS (SELECT 1 FROM batch b WHERE b.event_id = a.event_id)
), ordered AS (
    SELECT h._row, h.event, h.facility_id,
           lag(h.event) OVER w AS prev_event, lag(h.facility_id) OVER w AS prev_facility,
           lag(h.room_id) OVER w AS prev_room, lag(h.at) OVER w AS prev_at
    FROM history h
    WINDOW w AS (PARTITION BY h.person_key
                 ORDER BY h.at, CASE WHEN h.event IN ('admit', 'move') THEN 1 ELSE 0 END, h.event_id)
)
SELECT o._row, 'event', 'already_admitted',
       'Đang ở ' || o.prev_facility || coalesce(' phòng ' || o.prev_room, '') || ' từ '
       || to_char(o.prev_at AT TIME ZONE %(tz)s, 'DD/MM/YYYY HH24:MI')
       || ': ghi "Chuyển phòng" (move), hoặc ra viện / chuyển viện trước khi tiếp nhận tại ' || o.facility_id
       || ' — already admitted at ' || o.prev_facility || coalesce(' room ' || o.prev_room, '') || ' since '
       || to_char(o.prev_at AT TIME ZONE %(tz)s, 'DD/MM/YYYY HH24:MI')
       || ': record a move, or first the discharge or transfer out'
FROM ordered o
WHERE o._row IS NOT NULL AND o.event = 'admit' AND o.prev_event IN ('admit', 'move');
ANALYZE problem
