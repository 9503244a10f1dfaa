-- Public layer `data-quality`: problems found in the latest boundary load of each dataset (see `boundaries check`).
CREATE OR REPLACE VIEW pub.data_quality AS
SELECT p.id, p.kind, p.severity, p.code, p.other_code, p.level, round(p.area_m2::numeric, 1) AS area_m2,
       round(p.share::numeric, 4) AS share, p.detail, l.dataset, l.loaded_at, p.geom
FROM admin.boundary_problem p
JOIN admin.boundary_load l ON l.id = p.load_id
WHERE p.load_id IN (SELECT DISTINCT ON (dataset) id FROM admin.boundary_load ORDER BY dataset, id DESC);
