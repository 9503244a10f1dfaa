-- Occupancy as the replay of admissions (care.stay, migration 0013) at one instant %(at)s: the stays opened before
-- it and not closed before it, i.e. the state after every event strictly before %(at)s. "The end of day D" is the
-- instant D+1 00:00 local (gis/care/occupancy.py), so a past day and live (now) are the same statement. Rooms are
-- the registry as it stands (events.rooms keeps no history; corrections are in ingest.audit). %(facility)s (or
-- NULL for every facility) narrows every statement to one facility.

-- name: stays_at
-- The one pass of the replay per call: the stays open at %(at)s, and the stays an `admit` of the same person
-- closed before it (double_admissions).
CREATE TEMP TABLE stays_at ON COMMIT DROP AS
SELECT s.*, s.from_at < %(at)s AND (s.to_at IS NULL OR s.to_at >= %(at)s) AS open
FROM care.stay s
WHERE ((s.from_at < %(at)s AND (s.to_at IS NULL OR s.to_at >= %(at)s)) OR (s.closed_by = 'admit' AND s.to_at < %(at)s))
  AND (%(facility)s::text IS NULL OR s.facility_id = %(facility)s::text)

-- name: per_room
-- One row per registered room, with its open stays; stays in a room the registry does not know (or with no room)
-- are a row of their own (registered = false), so every stay is counted somewhere. The other statements read this
-- temporary table (a facility, tier and commune are sums of rooms).
CREATE TEMP TABLE occupancy_room ON COMMIT DROP AS
WITH open AS (
    SELECT s.facility_id, s.room_id, count(*)::int AS occupied,
           (count(*) FILTER (WHERE s.role = 'f0'))::int AS f0, (count(*) FILTER (WHERE s.role = 'f1'))::int AS f1
    FROM stays_at s
    WHERE s.open
    GROUP BY s.facility_id, s.room_id
), rooms AS (
    SELECT r.* FROM events.rooms r WHERE %(facility)s::text IS NULL OR r.facility_id = %(facility)s::text
)
SELECT coalesce(r.facility_id, o.facility_id) AS facility_id, coalesce(r.room_id, o.room_id) AS room_id,
       r.kind, r.sex, r.beds, r.staffed_beds,
       coalesce(o.occupied, 0) AS occupied, coalesce(o.f0, 0) AS f0, coalesce(o.f1, 0) AS f1,
       r.room_id IS NOT NULL AS registered,
       -- a room's free beds are its own: an overfull room does not take free beds from the next one
       CASE WHEN r.room_id IS NOT NULL THEN greatest(r.beds - coalesce(o.occupied, 0), 0) END AS free_beds,
       CASE WHEN r.staffed_beds IS NOT NULL THEN greatest(r.staffed_beds - coalesce(o.occupied, 0), 0) END
           AS free_staffed_beds
FROM rooms r
FULL JOIN open o ON o.facility_id = r.facility_id AND o.room_id = r.room_id;
ANALYZE occupancy_room

-- name: rooms
SELECT r.*, f.name AS facility_name, f.tier
FROM occupancy_room r
LEFT JOIN events.facilities f ON f.facility_id = r.facility_id
ORDER BY r.facility_id, r.room_id NULLS LAST

-- name: per_facility
-- A facility's rooms summed, beside what the facilities feed reports (`occupied`, `beds`): the replayed figure is
-- the one used, the reported one is kept for the data-quality finding when they differ.
CREATE TEMP TABLE per_facility ON COMMIT DROP AS
SELECT r.facility_id, f.name, f.kind, f.tier, f.commune_code,
       (sum(r.beds))::int AS beds, (sum(r.staffed_beds))::int AS staffed_beds,
       (sum(r.occupied))::int AS occupied, (sum(r.f0))::int AS f0, (sum(r.f1))::int AS f1,
       (sum(r.free_beds))::int AS free_beds, (sum(r.free_staffed_beds))::int AS free_staffed_beds,
       (coalesce(sum(r.occupied) FILTER (WHERE NOT r.registered), 0))::int AS outside_registered_rooms,
       f.occupied AS reported_occupied, f.beds AS reported_beds
FROM occupancy_room r
LEFT JOIN events.facilities f ON f.facility_id = r.facility_id
GROUP BY r.facility_id, f.facility_id;
ANALYZE per_facility

-- name: facilities
SELECT p.*, p.occupied - p.reported_occupied AS reported_difference
FROM per_facility p
ORDER BY p.facility_id

-- name: tiers
-- Treatment facilities by tier (1-3); quarantine facilities (no tier) and facilities the feed does not know are
-- groups of their own.
SELECT p.kind, p.tier, count(*)::int AS facilities, (sum(p.beds))::int AS beds,
       (sum(p.staffed_beds))::int AS staffed_beds, (sum(p.occupied))::int AS occupied,
       (sum(p.free_beds))::int AS free_beds, (sum(p.free_staffed_beds))::int AS free_staffed_beds
FROM per_facility p
GROUP BY p.kind, p.tier
ORDER BY p.kind NULLS LAST, p.tier NULLS LAST

-- name: communes
-- By the commune the facility lies in (its located area, ingest/README.md "Locating a row").
SELECT p.commune_code, a.name AS commune_name, count(*)::int AS facilities, (sum(p.beds))::int AS beds,
       (sum(p.staffed_beds))::int AS staffed_beds, (sum(p.occupied))::int AS occupied,
       (sum(p.free_beds))::int AS free_beds, (sum(p.free_staffed_beds))::int AS free_staffed_beds
FROM per_facility p
LEFT JOIN admin.area a ON a.code = p.commune_code AND a.valid_to IS NULL
GROUP BY p.commune_code, a.name
ORDER BY p.commune_code NULLS LAST

-- name: double_admissions
-- Stays ended by an `admit` of the same person: an admit while admitted elsewhere that reached the table anyway
-- (ingested before the check, or written around the feed). The replay closes the earlier stay at the admit, so
-- the person is still counted once; each one is a data-quality finding.
SELECT s.event_id, s.facility_id, s.room_id, s.from_at, s.closed_by_event_id, s.to_at
FROM stays_at s
WHERE s.closed_by = 'admit' AND NOT s.open
ORDER BY s.to_at, s.event_id
