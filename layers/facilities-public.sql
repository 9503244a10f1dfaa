-- Public layer `facilities-public`: where people can get tested or vaccinated, buy essential goods, and where the
-- quarantine areas are — places only: no capacity, occupancy or stays (those are in restricted.quarantine_facilities).
CREATE OR REPLACE VIEW pub.facilities_public AS
SELECT f.facility_id AS id,
       f.kind,
       CASE f.kind WHEN 'testing' THEN 'Điểm xét nghiệm' WHEN 'vaccination' THEN 'Điểm tiêm'
                   WHEN 'essential_goods' THEN 'Điểm cung ứng hàng thiết yếu'
                   ELSE 'Khu cách ly tập trung' END AS kind_vi,
       f.name,
       f.area_code,
       f.commune_code,
       f.geom
FROM events.facilities f
WHERE f.kind IN ('testing', 'vaccination', 'essential_goods', 'quarantine');
