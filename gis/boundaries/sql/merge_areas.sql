-- Merge the staged units (temp table area_stage) into admin.area as new versions; one statement per step,
-- run in order in the load's transaction. Returns nothing; counts come from each statement's rowcount.

-- name: drop_unchanged
-- Same unit, same version, same content: nothing to do (re-loading a dataset is idempotent).
DELETE FROM area_stage s USING admin.area a
WHERE a.code = s.code AND a.valid_from = s.valid_from
  AND a.valid_to IS NOT DISTINCT FROM s.valid_to
  AND (a.level, a.parent_code, a.name, a.population, a.population_method, a.status, a.synthetic, a.source)
      IS NOT DISTINCT FROM (s.level, s.parent_code, s.name, s.population, s.population_method, s.status, s.synthetic, s.source)
  AND ST_AsEWKB(a.geom) = ST_AsEWKB(s.geom);

-- name: correct_in_place
-- Same version (code and valid_from) with other content: a correction of that version.
UPDATE admin.area a SET level = s.level, parent_code = s.parent_code, name = s.name, geom = s.geom,
       population = s.population, population_method = s.population_method, area_m2 = s.area_m2,
       valid_to = s.valid_to, status = s.status, synthetic = s.synthetic, source = s.source, load_id = s.load_id
FROM area_stage s
WHERE a.code = s.code AND a.valid_from = s.valid_from;

-- name: drop_corrected
DELETE FROM area_stage s USING admin.area a WHERE a.code = s.code AND a.valid_from = s.valid_from;

-- name: close_superseded
-- A later version of a unit ends the current one the day the new one starts.
UPDATE admin.area a SET valid_to = s.valid_from
FROM area_stage s
WHERE a.code = s.code AND a.valid_to IS NULL AND a.valid_from < s.valid_from;

-- name: insert_new
INSERT INTO admin.area (code, level, parent_code, name, geom, population, population_method, area_m2,
                        valid_from, valid_to, status, synthetic, source, load_id)
SELECT code, level, parent_code, name, geom, population, population_method, area_m2,
       valid_from, valid_to, status, synthetic, source, load_id
FROM area_stage;
