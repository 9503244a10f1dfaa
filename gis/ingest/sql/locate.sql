-- Locate each staged row: an area code (current hamlet or commune), else the point's containing hamlet, else the
-- nearest hamlet within the snap tolerance; or, for feeds located through another record, that record's area.
-- Only rows located by their point are written down here (table `located`): an area code, or the record a row
-- points to, is a hash join that the merge (merge.sql, `incoming`) does as it inserts, so the common case (a code)
-- costs no intermediate table.

-- name: create_points
-- Rows with no area code and a point that parses and lies on the globe.
CREATE TEMP TABLE point ON COMMIT DROP AS
SELECT s._row, ST_SetSRID(ST_MakePoint(s.{lon}::float8, s.{lat}::float8), 4326) AS geom
FROM stage s
WHERE {no_code}
  AND CASE WHEN s.{lon} ~ {pattern} AND s.{lat} ~ {pattern}
           THEN abs(s.{lon}::float8) <= 180 AND abs(s.{lat}::float8) <= 90 ELSE false END;
ANALYZE point

-- name: locate_by_point
-- The current hamlet containing the point (GiST index on area.geom); where hamlets overlap the lowest code wins.
INSERT INTO located (_row, area_code, commune_code, located_by)
SELECT p._row, h.code, h.parent_code, 'point'
FROM point p
CROSS JOIN LATERAL (SELECT a.code, a.parent_code FROM admin.area a
                    WHERE a.level = 4 AND a.valid_to IS NULL AND ST_Intersects(a.geom, p.geom)
                    ORDER BY a.code LIMIT 1) h

-- name: locate_by_snap
-- A point in a sliver gap: the nearest current hamlet, measured on the spheroid (geography), if within the
-- tolerance. ST_DWithin in degrees (a generous bound of the tolerance) lets the GiST index pre-filter.
INSERT INTO located (_row, area_code, commune_code, located_by, snap_m)
SELECT p._row, h.code, h.parent_code, 'snapped', h.distance
FROM point p
CROSS JOIN LATERAL (SELECT a.code, a.parent_code, ST_Distance(a.geom::geography, p.geom::geography) AS distance
                    FROM admin.area a
                    WHERE a.level = 4 AND a.valid_to IS NULL AND ST_DWithin(a.geom, p.geom, %(tolerance_deg)s)
                    ORDER BY 3, a.code LIMIT 1) h
WHERE NOT EXISTS (SELECT 1 FROM located l WHERE l._row = p._row) AND h.distance <= %(tolerance_m)s

-- name: check_location
-- Rows still unplaced: an unknown code, a point outside the province, or nothing to locate them by.
-- (A point that is not a number was already reported by validate.sql.)
INSERT INTO problem (_row, field, reason, message)
SELECT _row, field, reason, message FROM (
  SELECT s._row,
         CASE WHEN s.{code} IS NOT NULL THEN {code_field}
              WHEN s.{lon} IS NOT NULL AND s.{lat} IS NOT NULL THEN {lon_field}
              ELSE {code_field} END AS field,
         CASE WHEN s.{code} IS NOT NULL THEN 'unknown_area_code'
              WHEN s.{lon} ~ {pattern} AND s.{lat} ~ {pattern} THEN 'point_outside_province'
              WHEN s.{lon} IS NULL OR s.{lat} IS NULL THEN 'missing_required' END AS reason,
         CASE WHEN s.{code} IS NOT NULL
                   THEN {code_label} || ': "' || {code_value} || '" is not the code of a current hamlet or commune'
              WHEN s.{lon} IS NOT NULL AND s.{lat} IS NOT NULL
                   THEN 'the point (' || {lon_value} || ', ' || {lat_value} || ') is outside the province (more than '
                        || round(%(tolerance_m)s::numeric) || ' m from any hamlet)'
              ELSE 'no area code and no coordinates: give ' || {code_label} || ' or ' || {lon_label} || ' and '
                   || {lat_label} END AS message
  FROM stage s
  LEFT JOIN admin.area a ON a.code = s.{code} AND a.valid_to IS NULL AND a.level IN (3, 4)
  WHERE a.code IS NULL AND NOT EXISTS (SELECT 1 FROM located l WHERE l._row = s._row)
) unplaced
WHERE reason IS NOT NULL
