-- A synthetic country for benchmarks: nested grid cells as provinces → districts → communes → hamlets, loaded as
-- one boundary load. :provinces provinces in a grid, :districts per province, :communes per district, :hamlets per
-- commune. Codes: P<p>, P<p>D<d>, P<p>D<d>C<c>, P<p>D<d>C<c>-<h>.
-- A province is a cell of 0.8° × 2° (63 of them: ~1.2 million km²) unless the transaction sets the cell's size in
-- degrees first (`SET LOCAL covidgis_bench.cell_width = '0.42'`, and `covidgis_bench.cell_height`):
-- benchmarks/publish.py sizes the country to Vietnam's land area that way; callers that set nothing get the old cells.

-- name: load
INSERT INTO admin.boundary_load (dataset, source, files, summary)
VALUES ('synthetic-country', 'benchmarks/country.sql (synthetic)', '{}', '{}') RETURNING id;

-- name: areas
WITH cell AS (
    SELECT coalesce(nullif(current_setting('covidgis_bench.cell_width', true), '')::float8, 0.8) AS cell_w,
           coalesce(nullif(current_setting('covidgis_bench.cell_height', true), '')::float8, 2.0) AS cell_h
), p AS (
    SELECT i AS p, 102.0 + (i % 9) * cell.cell_w AS x0, 9.0 + (i / 9) * cell.cell_h AS y0, cell.cell_w, cell.cell_h
    FROM cell, generate_series(0, :provinces - 1) i
), d AS (
    SELECT p.p, j AS d, p.x0, p.y0 + j * (p.cell_h / :districts) AS y0, p.cell_w, p.cell_h
    FROM p, generate_series(0, :districts - 1) j
), c AS (
    SELECT d.p, d.d, k AS c, d.x0 + k * (d.cell_w / :communes) AS x0, d.y0, d.cell_w, d.cell_h
    FROM d, generate_series(0, :communes - 1) k
), h AS (
    SELECT c.p, c.d, c.c, m AS h, c.x0, c.y0 + m * (c.cell_h / :districts / :hamlets) AS y0, c.cell_w, c.cell_h
    FROM c, generate_series(0, :hamlets - 1) m
), hamlets AS (
    SELECT format('P%sD%sC%s-%s', p, d, c, lpad(h::text, 2, '0')) AS code, 4 AS level,
           format('P%sD%sC%s', p, d, c) AS parent_code,
           ST_Multi(ST_MakeEnvelope(x0, y0, x0 + cell_w / :communes, y0 + cell_h / :districts / :hamlets, 4326))
               AS geom,
           800 + (hashtext(format('%s-%s-%s-%s', p, d, c, h)) & 1023) AS population
    FROM h
), communes AS (
    SELECT parent_code AS code, 3 AS level, regexp_replace(parent_code, 'C\d+$', '') AS parent_code,
           ST_Multi(ST_Union(geom)) AS geom, sum(population)::int AS population
    FROM hamlets GROUP BY parent_code
), districts AS (
    SELECT parent_code AS code, 2 AS level, regexp_replace(parent_code, 'D\d+$', '') AS parent_code,
           ST_Multi(ST_Union(geom)) AS geom, sum(population)::int AS population
    FROM communes GROUP BY parent_code
), provinces AS (
    SELECT parent_code AS code, 1 AS level, NULL AS parent_code, ST_Multi(ST_Union(geom)) AS geom,
           sum(population)::int AS population
    FROM districts GROUP BY parent_code
)
INSERT INTO admin.area (code, level, parent_code, name, geom, population, population_method, area_m2, valid_from,
                        status, synthetic, source, load_id)
SELECT code, level, parent_code, 'Synthetic ' || code, geom, population, 'synthetic',
       ST_Area(geom::geography), DATE '2021-01-01', 'current', true, 'synthetic country', :load_id
FROM (SELECT * FROM hamlets UNION ALL SELECT * FROM communes UNION ALL SELECT * FROM districts
      UNION ALL SELECT * FROM provinces) u;

-- name: hamlet_index
CREATE TEMP TABLE bench_hamlet AS
SELECT row_number() OVER (ORDER BY code) - 1 AS i, code, parent_code AS commune_code,
       ST_PointOnSurface(geom) AS pt
FROM admin.area WHERE level = 4 AND load_id = :load_id;

-- name: cases
-- :per_day cases a day over :days days ending :last_day, scattered over the hamlets; inserted day by day so that
-- rows lie on disk in arrival order, as daily ingest batches leave them.
INSERT INTO events.cases (case_id, person_key, birth_year, detected_on, detection_setting, source_known, cluster_id,
                          setting, status, area_code, commune_code, located_by, batch_id, row_hash)
SELECT 'bench-c-' || n, md5('p' || n), 1940 + n % 70, :last_day - d,
       (ARRAY['community', 'quarantine', 'lockdown'])[1 + n % 3], n % 4 <> 0, 'k' || (n % 5000),
       (ARRAY['industrial_zone', 'school', 'market', 'other', 'other'])[1 + n % 5],
       (ARRAY['home_treatment', 'field_hospital', 'hospital', 'icu'])[1 + n % 4],
       h.code, h.commune_code, 'code', 0, 'bench'
FROM generate_series(:days - 1, 0, -1) d, generate_series(0, :per_day - 1) k, LATERAL (SELECT d * :per_day + k AS n) x
JOIN bench_hamlet h ON h.i = (hashtext('c' || n) & 2147483647) % :hamlets
ORDER BY d DESC, k;  -- arrival order on disk

-- name: tests
INSERT INTO events.tests (sample_id, person_key, collected_at, test_type, pooled, result, area_code, commune_code,
                          located_by, batch_id, row_hash)
SELECT 'bench-t-' || n, md5('p' || (n * 7)), (:last_day - d)::timestamptz + interval '9 hours',
       'rt_pcr', false, CASE WHEN n % 50 = 0 THEN 'positive' ELSE 'negative' END,
       h.code, h.commune_code, 'code', 0, 'bench'
FROM generate_series(:days - 1, 0, -1) d, generate_series(0, :per_day - 1) k, LATERAL (SELECT d * :per_day + k AS n) x
JOIN bench_hamlet h ON h.i = (hashtext('t' || n) & 2147483647) % :hamlets
ORDER BY d DESC, k;  -- arrival order on disk

-- name: vaccinations
INSERT INTO events.vaccinations (dose_id, person_key, birth_year, dose_number, vaccine, vaccinated_on, area_code,
                                 commune_code, located_by, batch_id, row_hash)
SELECT 'bench-v-' || n, md5('v' || (n / 2)), 1930 + n % 75, 1 + n % 2, 'AZ', :last_day - d,
       h.code, h.commune_code, 'code', 0, 'bench'
FROM generate_series(:days - 1, 0, -1) d, generate_series(0, :per_day - 1) k, LATERAL (SELECT d * :per_day + k AS n) x
JOIN bench_hamlet h ON h.i = (hashtext('v' || (n / 2)) & 2147483647) % :hamlets
ORDER BY d DESC, k;  -- arrival order on disk

-- name: quarantine
INSERT INTO events.quarantine_stays (stay_id, person_key, facility_id, start_on, end_on, reason, area_code,
                                     commune_code, located_by, batch_id, row_hash)
SELECT 'bench-q-' || n, md5('q' || n), CASE WHEN n % 3 = 0 THEN 'F' || (n % 500) END, :last_day - d,
       :last_day - d + 14, 'f1_contact', h.code, h.commune_code, 'code', 0, 'bench'
FROM generate_series(:days - 1, 0, -1) d, generate_series(0, :per_day - 1) k, LATERAL (SELECT d * :per_day + k AS n) x
JOIN bench_hamlet h ON h.i = (hashtext('q' || n) & 2147483647) % :hamlets
ORDER BY d DESC, k;  -- arrival order on disk

-- name: zone_day
-- One day of indicators for every current area without events behind them: 90 per cent coverage, capacity met, and
-- a spread of community cases (0–39 a week by the code's hash), so that a day of zones has every level.
DELETE FROM stats.indicator WHERE day = :day;
INSERT INTO stats.indicator (day, area_code, admin_level, population, population_18plus, population_50plus,
                             population_65plus, vaccinated_18plus_1dose, vaccinated_50plus_full, vaccinated_65plus_full,
                             treatment_capacity_met, community_cases_7d)
SELECT :day, code, level, population, round(population * 0.7), round(population * 0.25), round(population * 0.08),
       round(population * 0.7 * 0.9), round(population * 0.25 * 0.9), round(population * 0.08 * 0.9), true,
       abs(hashtext(code)) % 40
FROM pub.areas;
