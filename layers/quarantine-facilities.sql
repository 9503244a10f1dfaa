-- Restricted layer `quarantine-facilities`: quarantine facilities with capacity, reported occupancy, and the stays
-- open today according to the quarantine feed.
CREATE OR REPLACE VIEW restricted.quarantine_facilities AS
SELECT f.facility_id, f.name, f.rooms, f.beds, coalesce(f.beds, f.rooms) AS capacity, f.occupied,
       (SELECT count(*) FROM events.quarantine_stays s
        WHERE s.facility_id = f.facility_id AND s.start_on <= current_date
          AND (s.end_on IS NULL OR s.end_on >= current_date))::integer AS open_stays,
       f.area_code, f.commune_code, f.batch_id, f.ingested_at, f.geom
FROM events.facilities f
WHERE f.kind = 'quarantine';
