-- Public layer `areas`: the current administrative units of every level, with population. No personal data.
CREATE OR REPLACE VIEW pub.areas AS
SELECT a.code,
       a.level,
       CASE a.level WHEN 1 THEN 'tỉnh' WHEN 2 THEN 'huyện' WHEN 3 THEN 'xã' ELSE 'ấp' END AS level_name_vi,
       CASE a.level WHEN 1 THEN 'province' WHEN 2 THEN 'district' WHEN 3 THEN 'commune' ELSE 'hamlet' END
           AS level_name_en,
       a.parent_code,
       a.name,
       a.population,
       a.population_method,
       round((a.area_m2 / 1e6)::numeric, 3) AS area_km2,
       a.valid_from,
       a.status,
       a.synthetic,
       a.source,
       a.geom
FROM admin.area a
WHERE a.valid_to IS NULL;
