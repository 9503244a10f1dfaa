-- Restricted layer `indicators`: the full daily indicator table per area (small counts unsuppressed).
CREATE OR REPLACE VIEW restricted.indicators AS
SELECT i.area_code || '@' || i.day AS id, i.*, a.name, a.geom
FROM stats.indicator i
LEFT JOIN admin.area a ON a.code = i.area_code AND a.valid_from <= i.day AND (a.valid_to IS NULL OR a.valid_to > i.day);
