-- Public layer `treatment-capacity`: per district and treatment tier, the treatment facilities, their beds and
-- staffed beds (the rooms feed), the people in them now and the free staffed beds — the people counted from the
-- replay of admissions (care.current_stay, migration 0020: the replay's present, tested equal to care.stay), never
-- the facilities feed's typed-in `occupied`. No facility, point, person key or stay: one row per district and tier,
-- the district's boundary as geometry (treatment facilities' places are not public, layers/facilities-public.sql).
-- Small counts by the published-numbers rule (layers/README.md, "Small counts"; layers/_published_numbers.sql): a
-- row whose people count is above 0 and below B (risk.published.suppress_below) shows `details_suppressed` and
-- `occupied` and `free_staffed_beds` as null (the free beds and the staffed beds would give the count back);
-- every other row shows both rounded down to bands of width B (pub.band_low: 0 stays 0, then multiples of B), so
-- staffed beds less free beds does not give the exact count either. Registry counts (facilities, beds, staffed
-- beds) are shown as they are: they count beds, not people. District rows only, per tier, no total row that a
-- sum could be subtracted from. A security_barrier view, so no caller's filter runs below the suppression.
CREATE OR REPLACE VIEW pub.treatment_capacity WITH (security_barrier) AS
WITH treatment AS (
    SELECT f.facility_id, f.tier, d.code AS district_code
    FROM events.facilities f
    JOIN admin.area c ON c.code = f.commune_code AND c.valid_to IS NULL
    JOIN admin.area d ON d.code = c.parent_code AND d.valid_to IS NULL AND d.level = 2
    WHERE f.kind = 'treatment' AND f.tier IS NOT NULL
), people AS (  -- every stay open now at the facility, in a registered room or not
    SELECT s.facility_id, s.room_id, count(*)::int AS occupied
    FROM care.current_stay s
    WHERE s.facility_id IN (SELECT t.facility_id FROM treatment t)
    GROUP BY s.facility_id, s.room_id
), rooms AS (  -- a room's free staffed beds are its own: an overfull room takes none from the next one
    SELECT r.facility_id, sum(r.beds)::int AS beds, sum(r.staffed_beds)::int AS staffed_beds,
           sum(greatest(coalesce(r.staffed_beds, 0) - coalesce(p.occupied, 0), 0))::int AS free
    FROM events.rooms r
    LEFT JOIN people p ON p.facility_id = r.facility_id AND p.room_id = r.room_id
    WHERE r.facility_id IN (SELECT t.facility_id FROM treatment t)
    GROUP BY r.facility_id
), per AS (
    SELECT t.district_code, t.tier, count(*)::int AS facilities,
           coalesce(sum(r.beds), 0)::int AS beds, coalesce(sum(r.staffed_beds), 0)::int AS staffed_beds,
           coalesce(sum(p.occupied), 0)::int AS occupied, coalesce(sum(r.free), 0)::int AS free
    FROM treatment t
    LEFT JOIN rooms r ON r.facility_id = t.facility_id
    LEFT JOIN (SELECT facility_id, sum(occupied)::int AS occupied FROM people GROUP BY facility_id) p
           ON p.facility_id = t.facility_id
    GROUP BY t.district_code, t.tier
)
SELECT p.district_code || ':' || p.tier AS id,
       p.district_code AS code,
       d.name,
       p.tier::int AS tier,
       p.facilities,
       p.beds,
       p.staffed_beds,
       s.small AS details_suppressed,
       CASE WHEN NOT s.small THEN pub.band_low(p.occupied, b.base, b.base)::int END AS occupied,
       CASE WHEN NOT s.small THEN pub.band_low(p.free, b.base, b.base)::int END AS free_staffed_beds,
       d.geom
FROM per p
JOIN admin.area d ON d.code = p.district_code AND d.valid_to IS NULL
CROSS JOIN (SELECT r.suppress_below AS base FROM risk.published r WHERE r.id) b
CROSS JOIN LATERAL (SELECT p.occupied > 0 AND p.occupied < b.base AS small) s;
