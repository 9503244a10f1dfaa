-- Daily indicators, one day at a time (gis/stats/indicators.py; parameters %(name)s, placeholders {name} filled by
-- gis.sqlfiles.compose). An event counts in the unit it was located in (a
-- hamlet when known, else a commune) and in every unit above it. Windows are the 7 or 14 days ending on the day.
-- The big feeds (tests, vaccinations, quarantine stays) are first counted per unit and day into stats.daily;
-- indicators then sum a few daily rows. Running totals (people vaccinated, F1 at home) continue from the day
-- before when it was computed, and are counted from the events otherwise; the tests' 7-day window slides the same way.

-- name: day_units
-- The units in force on the day (and out_units: those to recompute — all, or a scope), each with itself and its
-- ancestors (at most four levels: no recursion), as temporary tables with statistics: as CTEs the planner misjudged
-- their joins by twelve orders of magnitude at 100,000 hamlets. With a scope, only the provinces it reaches are
-- loaded (their units are all a scoped recompute reads).
-- For the day's transaction: JIT off (compiling these one-off aggregations cost more, 0.3-0.5 s, than it saved);
-- no nested loops: the day's new rows (stats.daily) are not in the planner's statistics yet, so it takes them for
-- one row, and nested loops over the unindexed temporary tables then ran a 0.05 s roll-up for minutes (a whole day)
-- and a 0.1 s scoped insert for 7 s (one province).
SET LOCAL jit = off;
SET LOCAL enable_nestloop = off;
CREATE TEMP TABLE units ON COMMIT DROP AS
WITH RECURSIVE tree AS (
    SELECT code, level, parent_code, population FROM admin.area
    WHERE valid_from <= %(day)s AND (valid_to IS NULL OR valid_to > %(day)s) AND parent_code IS NULL
      AND (CAST(%(scope)s AS text[]) IS NULL OR code = ANY(CAST(%(scope)s AS text[])))
    UNION ALL
    SELECT a.code, a.level, a.parent_code, a.population FROM admin.area a JOIN tree t ON a.parent_code = t.code
    WHERE a.valid_from <= %(day)s AND (a.valid_to IS NULL OR a.valid_to > %(day)s)
)
SELECT * FROM tree WHERE CAST(%(scope)s AS text[]) IS NOT NULL
UNION ALL
SELECT code, level, parent_code, population FROM admin.area
WHERE CAST(%(scope)s AS text[]) IS NULL AND valid_from <= %(day)s AND (valid_to IS NULL OR valid_to > %(day)s);
ANALYZE units;  -- before lineage joins it: without statistics that join took 0.5 s at 115,000 units, with them 0.2 s
CREATE TEMP TABLE out_units ON COMMIT DROP AS
SELECT * FROM units WHERE CAST(%(scope)s AS text[]) IS NULL OR code = ANY(CAST(%(scope)s AS text[]));
CREATE TEMP TABLE lineage ON COMMIT DROP AS
SELECT u.code, x.ancestor, x.ancestor_level
FROM units u
LEFT JOIN units p1 ON p1.code = u.parent_code
LEFT JOIN units p2 ON p2.code = p1.parent_code
LEFT JOIN units p3 ON p3.code = p2.parent_code
CROSS JOIN LATERAL (VALUES (u.code, u.level), (p1.code, p1.level), (p2.code, p2.level), (p3.code, p3.level))
    x (ancestor, ancestor_level)
WHERE x.ancestor IS NOT NULL;
ANALYZE out_units;
ANALYZE lineage;

-- name: delete_daily_gone
-- Rows of units no longer in force that day (every unit in force gets a row, zeros included, so none else is stale).
DELETE FROM stats.daily d
WHERE d.day = %(day)s AND (CAST(%(scope)s AS text[]) IS NULL OR d.area_code = ANY(CAST(%(scope)s AS text[])))
  AND NOT EXISTS (SELECT 1 FROM out_units o WHERE o.code = d.area_code);

-- name: create_daily_parts
-- The day's counts per commune and hamlet, by feed: rows of daily_by_ancestor, the tests' counted here, the other
-- feeds' here or (a whole day) on a second connection and copied in.
CREATE TEMP TABLE daily_parts (code text, tests bigint, positive_tests bigint, first_doses_18plus bigint,
    full_doses_50plus bigint, full_doses_65plus bigint, home_stays_started bigint, home_stays_ended bigint)
    ON COMMIT DROP;

-- name: insert_daily_parts
-- {rows}: daily_by_ancestor of one source (located_tests or located_other_feeds).
INSERT INTO daily_parts {rows};

-- name: copy_daily_parts
COPY daily_parts FROM STDIN;

-- name: insert_daily_local
-- Communes and hamlets from the events located in them (scoped: only the communes a batch touched), a row for every
-- one in force (zeros too), from daily_parts. {changed_only}: daily_changed_only when the day has rows already.
INSERT INTO stats.daily AS d (day, area_code, tests, positive_tests, first_doses_18plus, full_doses_50plus,
                              full_doses_65plus, home_stays_started, home_stays_ended)
SELECT %(day)s, o.code, coalesce(p.tests, 0), coalesce(p.positive_tests, 0), coalesce(p.first_doses_18plus, 0),
       coalesce(p.full_doses_50plus, 0), coalesce(p.full_doses_65plus, 0), coalesce(p.home_stays_started, 0),
       coalesce(p.home_stays_ended, 0)
FROM out_units o
LEFT JOIN (SELECT code, sum(tests) AS tests, sum(positive_tests) AS positive_tests,
                  sum(first_doses_18plus) AS first_doses_18plus, sum(full_doses_50plus) AS full_doses_50plus,
                  sum(full_doses_65plus) AS full_doses_65plus, sum(home_stays_started) AS home_stays_started,
                  sum(home_stays_ended) AS home_stays_ended
           FROM daily_parts GROUP BY code) p ON p.code = o.code
WHERE o.level >= 3
{changed_only};

-- name: daily_by_ancestor
-- The day's counts of the located rows ({located}: events per area code, located_tests or located_other_feeds) in
-- the hamlet and the commune above it.
SELECT l.ancestor AS code, sum(tests) AS tests, sum(positive_tests) AS positive_tests,
       sum(first_doses_18plus) AS first_doses_18plus, sum(full_doses_50plus) AS full_doses_50plus,
       sum(full_doses_65plus) AS full_doses_65plus, sum(home_stays_started) AS home_stays_started,
       sum(home_stays_ended) AS home_stays_ended
FROM ({located}) located
JOIN lineage l ON l.code = located.area_code AND l.ancestor_level >= 3
-- scoped: never a unit outside the scope (an event's stored commune may predate a boundary change)
WHERE CAST(%(scope)s AS text[]) IS NULL OR l.ancestor = ANY(CAST(%(scope)s AS text[]))
GROUP BY l.ancestor

-- name: located_tests
SELECT area_code, count(*) AS tests, count(*) FILTER (WHERE result = 'positive') AS positive_tests,
       0 AS first_doses_18plus, 0 AS full_doses_50plus, 0 AS full_doses_65plus, 0 AS home_stays_started,
       0 AS home_stays_ended
FROM events.tests  -- the local day, as a range the index on collected_at serves
WHERE collected_at >= %(day)s::timestamp AT TIME ZONE %(tz)s
  AND collected_at < (%(day)s::date + 1)::timestamp AT TIME ZONE %(tz)s
  AND (CAST(%(communes)s AS text[]) IS NULL OR commune_code = ANY(CAST(%(communes)s AS text[])))
GROUP BY area_code

-- name: located_other_feeds
SELECT area_code, 0 AS tests, 0 AS positive_tests,  -- age at the dose
       count(*) FILTER (WHERE dose_number = 1 AND extract(year FROM vaccinated_on) - birth_year >= 18)
           AS first_doses_18plus,
       count(*) FILTER (WHERE dose_number = 2 AND extract(year FROM vaccinated_on) - birth_year >= 50)
           AS full_doses_50plus,
       count(*) FILTER (WHERE dose_number = 2 AND extract(year FROM vaccinated_on) - birth_year >= 65)
           AS full_doses_65plus,
       0 AS home_stays_started, 0 AS home_stays_ended
FROM events.vaccinations
WHERE vaccinated_on = %(day)s
  AND (CAST(%(communes)s AS text[]) IS NULL OR commune_code = ANY(CAST(%(communes)s AS text[])))
GROUP BY area_code
UNION ALL
SELECT area_code, 0, 0, 0, 0, 0, count(*), 0
FROM events.quarantine_stays
WHERE facility_id IS NULL AND start_on = %(day)s
  AND (CAST(%(communes)s AS text[]) IS NULL OR commune_code = ANY(CAST(%(communes)s AS text[])))
GROUP BY area_code
UNION ALL  -- a stay that ended yesterday is no longer active today
SELECT area_code, 0, 0, 0, 0, 0, 0, count(*)
FROM events.quarantine_stays
WHERE facility_id IS NULL AND end_on = %(day)s::date - 1
  AND (CAST(%(communes)s AS text[]) IS NULL OR commune_code = ANY(CAST(%(communes)s AS text[])))
GROUP BY area_code

-- name: insert_daily_rollup
-- Units of one level (districts, then provinces) as the sum of their children's rows ({changed_only} as above).
INSERT INTO stats.daily AS d (day, area_code, tests, positive_tests, first_doses_18plus, full_doses_50plus,
                              full_doses_65plus, home_stays_started, home_stays_ended)
SELECT %(day)s, o.code, coalesce(sum(c.tests), 0), coalesce(sum(c.positive_tests), 0),
       coalesce(sum(c.first_doses_18plus), 0), coalesce(sum(c.full_doses_50plus), 0),
       coalesce(sum(c.full_doses_65plus), 0), coalesce(sum(c.home_stays_started), 0),
       coalesce(sum(c.home_stays_ended), 0)
FROM out_units o
LEFT JOIN units child ON child.parent_code = o.code
LEFT JOIN stats.daily c ON c.day = %(day)s AND c.area_code = child.code
WHERE o.level = %(level)s
GROUP BY o.code
{changed_only};

-- name: create_cumulative_chained
-- The running totals and the tests' window of out_units, continued from the day before.
CREATE TEMP TABLE cumulative ON COMMIT DROP AS
    SELECT u.code,
           coalesce(p.vaccinated_18plus_1dose, 0) + coalesce(t.first_doses_18plus, 0) AS vaccinated_18plus_1dose,
           coalesce(p.vaccinated_50plus_full, 0) + coalesce(t.full_doses_50plus, 0) AS vaccinated_50plus_full,
           coalesce(p.vaccinated_65plus_full, 0) + coalesce(t.full_doses_65plus, 0) AS vaccinated_65plus_full,
           coalesce(p.f1_in_community, 0) + coalesce(t.home_stays_started, 0) - coalesce(t.home_stays_ended, 0)
               AS f1_in_community,
           -- the 7-day window slides: add the day, drop the day that left it
           coalesce(p.tests_7d, 0) + coalesce(t.tests, 0) - coalesce(gone.tests, 0) AS tests_7d,
           coalesce(p.positive_tests_7d, 0) + coalesce(t.positive_tests, 0) - coalesce(gone.positive_tests, 0)
               AS positive_tests_7d
    FROM out_units u
    LEFT JOIN stats.indicator p ON p.day = %(day)s::date - 1 AND p.area_code = u.code
    LEFT JOIN stats.daily t ON t.day = %(day)s AND t.area_code = u.code
    LEFT JOIN stats.daily gone ON gone.day = %(day)s::date - 7 AND gone.area_code = u.code;

-- name: create_cumulative_from_events
-- The same, counted from the events (the day before was not computed).
CREATE TEMP TABLE cumulative ON COMMIT DROP AS
    SELECT u.code, coalesce(v.first_18, 0) AS vaccinated_18plus_1dose, coalesce(v.full_50, 0) AS vaccinated_50plus_full,
           coalesce(v.full_65, 0) AS vaccinated_65plus_full, coalesce(f.n, 0) AS f1_in_community,
           coalesce(w.tests_7d, 0) AS tests_7d, coalesce(w.positive_tests_7d, 0) AS positive_tests_7d
    FROM out_units u
    LEFT JOIN (
        SELECT area_code AS code, sum(tests) AS tests_7d, sum(positive_tests) AS positive_tests_7d
        FROM stats.daily WHERE day > %(day)s::date - 7 AND day <= %(day)s
        GROUP BY area_code
    ) w ON w.code = u.code
    LEFT JOIN (
        SELECT l.ancestor AS code,
               count(*) FILTER (WHERE dose_number = 1 AND extract(year FROM vaccinated_on) - birth_year >= 18) AS first_18,
               count(*) FILTER (WHERE dose_number = 2 AND extract(year FROM vaccinated_on) - birth_year >= 50) AS full_50,
               count(*) FILTER (WHERE dose_number = 2 AND extract(year FROM vaccinated_on) - birth_year >= 65) AS full_65
        FROM events.vaccinations v JOIN lineage l ON l.code = v.area_code
        WHERE v.vaccinated_on <= %(day)s
        GROUP BY l.ancestor
    ) v ON v.code = u.code
    LEFT JOIN (
        SELECT l.ancestor AS code, count(*) AS n
        FROM events.quarantine_stays q JOIN lineage l ON l.code = q.area_code
        WHERE q.facility_id IS NULL AND q.start_on <= %(day)s AND (q.end_on IS NULL OR q.end_on >= %(day)s)
        GROUP BY l.ancestor
    ) f ON f.code = u.code;

-- name: delete_indicators_gone
-- Rows of units no longer in force that day (every unit in force gets a row).
DELETE FROM stats.indicator i
WHERE i.day = %(day)s AND (CAST(%(scope)s AS text[]) IS NULL OR i.area_code = ANY(CAST(%(scope)s AS text[])))
  AND NOT EXISTS (SELECT 1 FROM out_units o WHERE o.code = i.area_code);

-- name: create_case_window
CREATE TEMP TABLE case_window (code text PRIMARY KEY, cases_7d integer, cases_14d integer, community_cases_7d integer,
    community_cases_prev_7d integer, unknown_source_cases_14d integer, hard_to_trace_cases_14d integer,
    known_source_community_cases_14d integer, admissions_7d integer, unknown_source_clusters_14d integer)
    ON COMMIT DROP;

-- name: insert_case_window
-- {case_windows}: the statement below, when one connection does everything.
INSERT INTO case_window {case_windows};

-- name: copy_case_window
COPY case_window FROM STDIN;

-- name: case_windows
-- The case counts of the 7- and 14-day windows of every unit to recompute that had a case in them (the rest have
-- none). A query of its own: for a whole day it runs on a second connection while the first counts the big feeds.
WITH per_area AS (  -- counted per area code first: far fewer rows than cases go through the ancestors
    SELECT c.area_code,
        count(*) FILTER (WHERE c.detected_on > %(day)s::date - 7)::int AS cases_7d,
        count(*)::int AS cases_14d,
        count(*) FILTER (WHERE c.detected_on > %(day)s::date - 7 AND c.detection_setting = 'community')::int
            AS community_cases_7d,
        count(*) FILTER (WHERE c.detected_on <= %(day)s::date - 7 AND c.detection_setting = 'community')::int
            AS community_cases_prev_7d,
        count(*) FILTER (WHERE c.source_known IS FALSE)::int AS unknown_source_cases_14d,
        count(*) FILTER (WHERE c.setting IN ('industrial_zone', 'school', 'supermarket', 'market'))::int
            AS hard_to_trace_cases_14d,
        count(*) FILTER (WHERE c.detection_setting = 'community' AND c.source_known IS TRUE)::int
            AS known_source_community_cases_14d,
        count(*) FILTER (WHERE c.detected_on > %(day)s::date - 7 AND c.status IN ('hospital', 'icu'))::int
            AS admissions_7d
    FROM events.cases c
    WHERE c.detected_on > %(day)s::date - 14 AND c.detected_on <= %(day)s
      AND c.status IS DISTINCT FROM 'withdrawn'  -- not a case after all
    GROUP BY c.area_code
), case_counts AS (
    SELECT l.ancestor AS code, sum(p.cases_7d) AS cases_7d, sum(p.cases_14d) AS cases_14d,
           sum(p.community_cases_7d) AS community_cases_7d, sum(p.community_cases_prev_7d) AS community_cases_prev_7d,
           sum(p.unknown_source_cases_14d) AS unknown_source_cases_14d,
           sum(p.hard_to_trace_cases_14d) AS hard_to_trace_cases_14d,
           sum(p.known_source_community_cases_14d) AS known_source_community_cases_14d,
           sum(p.admissions_7d) AS admissions_7d
    FROM per_area p
    JOIN lineage l ON l.code = p.area_code
    JOIN out_units o ON o.code = l.ancestor
    GROUP BY l.ancestor
), cluster_counts AS (  -- apart from case_counts: a DISTINCT there would sort every case row
    SELECT l.ancestor AS code, count(DISTINCT c.cluster_id) AS unknown_source_clusters_14d
    FROM (SELECT DISTINCT area_code, cluster_id FROM events.cases
          WHERE detected_on > %(day)s::date - 14 AND detected_on <= %(day)s AND source_known IS FALSE
            AND status IS DISTINCT FROM 'withdrawn'
            AND cluster_id IS NOT NULL) c
    JOIN lineage l ON l.code = c.area_code
    JOIN out_units o ON o.code = l.ancestor
    GROUP BY l.ancestor
)
SELECT c.code, c.cases_7d, c.cases_14d, c.community_cases_7d, c.community_cases_prev_7d, c.unknown_source_cases_14d,
       c.hard_to_trace_cases_14d, c.known_source_community_cases_14d, c.admissions_7d,
       coalesce(k.unknown_source_clusters_14d, 0) AS unknown_source_clusters_14d
FROM case_counts c LEFT JOIN cluster_counts k ON k.code = c.code

-- name: insert_indicators
-- Reads the temporary tables cumulative and case_window. {changed_only}: indicators_changed_only when the day has rows.
WITH served_by AS (  -- whose treatment beds serve a unit: its district's (the province's own for the province)
    SELECT o.code, coalesce(l.ancestor, o.code) AS served_by
    FROM out_units o
    LEFT JOIN lineage l ON l.code = o.code AND l.ancestor_level = 2
), beds AS (  -- treatment beds located in each unit (the facilities feed is a current snapshot, not a history)
    SELECT l.ancestor AS code, sum(f.beds) AS beds, sum(coalesce(f.occupied, 0)) AS occupied
    FROM events.facilities f JOIN lineage l ON l.code = f.area_code
    WHERE f.kind = 'treatment' AND f.beds > 0
    GROUP BY l.ancestor
)
INSERT INTO stats.indicator AS i (day, area_code, admin_level, population, population_18plus, population_50plus,
    population_65plus, cases_7d, cases_14d, community_cases_7d, community_cases_prev_7d, unknown_source_cases_14d,
    unknown_source_clusters_14d, hard_to_trace_cases_14d, known_source_community_cases_14d, f1_in_community,
    tests_7d, positive_tests_7d, vaccinated_18plus_1dose, vaccinated_50plus_full, vaccinated_65plus_full,
    admissions_7d, covid_inpatient_beds_7d_avg, staffed_inpatient_beds_7d_avg, treatment_capacity_met)
SELECT %(day)s, u.code, u.level, u.population,
    round(u.population * %(share_18plus)s), round(u.population * %(share_50plus)s),
    round(u.population * %(share_65plus)s),
    coalesce(c.cases_7d, 0), coalesce(c.cases_14d, 0), coalesce(c.community_cases_7d, 0),
    coalesce(c.community_cases_prev_7d, 0), coalesce(c.unknown_source_cases_14d, 0),
    coalesce(c.unknown_source_clusters_14d, 0), coalesce(c.hard_to_trace_cases_14d, 0),
    coalesce(c.known_source_community_cases_14d, 0), cu.f1_in_community,
    cu.tests_7d, cu.positive_tests_7d, cu.vaccinated_18plus_1dose,
    cu.vaccinated_50plus_full, cu.vaccinated_65plus_full, coalesce(c.admissions_7d, 0),
    b.occupied, b.beds,
    -- criterion 3 computed by care (gis/care/capacity.py) when the serving unit has a row that day; else the
    -- facilities feed's beds against max_occupancy (deployments without a rooms feed)
    coalesce(k.met, b.beds > 0 AND b.occupied < b.beds * %(max_occupancy)s, false)
FROM out_units u
JOIN cumulative cu ON cu.code = u.code
JOIN served_by s ON s.code = u.code
LEFT JOIN case_window c ON c.code = u.code
LEFT JOIN beds b ON b.code = s.served_by
LEFT JOIN care.capacity k ON k.day = %(day)s AND k.area_code = s.served_by
{changed_only};

-- name: unit_count
SELECT count(*) FROM out_units;

-- name: refreshed_days
SELECT DISTINCT day FROM stats.daily_day WHERE day BETWEEN %(first)s AND %(last)s;

-- name: mark_refreshed
INSERT INTO stats.daily_day (day) VALUES (%(day)s) ON CONFLICT (day) DO UPDATE SET refreshed_at = now();

-- name: daily_changed_only
-- The {changed_only} of the inserts of stats.daily when the day has rows already: a row is written only when it changed, so
-- recomputing a day that is right writes nothing (a first computation inserts without it: cheaper).
ON CONFLICT (day, area_code) DO UPDATE SET
    tests = excluded.tests, positive_tests = excluded.positive_tests,
    first_doses_18plus = excluded.first_doses_18plus, full_doses_50plus = excluded.full_doses_50plus,
    full_doses_65plus = excluded.full_doses_65plus, home_stays_started = excluded.home_stays_started,
    home_stays_ended = excluded.home_stays_ended
WHERE (d.tests, d.positive_tests, d.first_doses_18plus, d.full_doses_50plus, d.full_doses_65plus,
       d.home_stays_started, d.home_stays_ended)
      IS DISTINCT FROM
      (excluded.tests, excluded.positive_tests, excluded.first_doses_18plus, excluded.full_doses_50plus,
       excluded.full_doses_65plus, excluded.home_stays_started, excluded.home_stays_ended)

-- name: indicators_changed_only
-- The same for stats.indicator (computed_at says when a row last changed).
ON CONFLICT (day, area_code) DO UPDATE SET
    admin_level = excluded.admin_level, population = excluded.population,
    population_18plus = excluded.population_18plus, population_50plus = excluded.population_50plus,
    population_65plus = excluded.population_65plus, cases_7d = excluded.cases_7d,
    cases_14d = excluded.cases_14d, community_cases_7d = excluded.community_cases_7d,
    community_cases_prev_7d = excluded.community_cases_prev_7d,
    unknown_source_cases_14d = excluded.unknown_source_cases_14d,
    unknown_source_clusters_14d = excluded.unknown_source_clusters_14d,
    hard_to_trace_cases_14d = excluded.hard_to_trace_cases_14d,
    known_source_community_cases_14d = excluded.known_source_community_cases_14d,
    f1_in_community = excluded.f1_in_community, tests_7d = excluded.tests_7d,
    positive_tests_7d = excluded.positive_tests_7d, vaccinated_18plus_1dose = excluded.vaccinated_18plus_1dose,
    vaccinated_50plus_full = excluded.vaccinated_50plus_full,
    vaccinated_65plus_full = excluded.vaccinated_65plus_full, admissions_7d = excluded.admissions_7d,
    covid_inpatient_beds_7d_avg = excluded.covid_inpatient_beds_7d_avg,
    staffed_inpatient_beds_7d_avg = excluded.staffed_inpatient_beds_7d_avg,
    treatment_capacity_met = excluded.treatment_capacity_met, computed_at = now()
WHERE (i.admin_level, i.population, i.population_18plus, i.population_50plus, i.population_65plus, i.cases_7d,
       i.cases_14d, i.community_cases_7d, i.community_cases_prev_7d, i.unknown_source_cases_14d,
       i.unknown_source_clusters_14d, i.hard_to_trace_cases_14d, i.known_source_community_cases_14d,
       i.f1_in_community, i.tests_7d, i.positive_tests_7d, i.vaccinated_18plus_1dose, i.vaccinated_50plus_full,
       i.vaccinated_65plus_full, i.admissions_7d, i.covid_inpatient_beds_7d_avg,
       i.staffed_inpatient_beds_7d_avg, i.treatment_capacity_met)
      IS DISTINCT FROM
      (excluded.admin_level, excluded.population, excluded.population_18plus, excluded.population_50plus,
       excluded.population_65plus, excluded.cases_7d, excluded.cases_14d, excluded.community_cases_7d,
       excluded.community_cases_prev_7d, excluded.unknown_source_cases_14d,
       excluded.unknown_source_clusters_14d, excluded.hard_to_trace_cases_14d,
       excluded.known_source_community_cases_14d, excluded.f1_in_community, excluded.tests_7d,
       excluded.positive_tests_7d, excluded.vaccinated_18plus_1dose, excluded.vaccinated_50plus_full,
       excluded.vaccinated_65plus_full, excluded.admissions_7d, excluded.covid_inpatient_beds_7d_avg,
       excluded.staffed_inpatient_beds_7d_avg, excluded.treatment_capacity_met)

-- name: has_daily
SELECT EXISTS (SELECT 1 FROM stats.daily WHERE day = %(day)s);

-- name: has_indicators
SELECT EXISTS (SELECT 1 FROM stats.indicator WHERE day = %(day)s);

-- name: scope_of_communes
-- The units a change in these communes reaches: the communes, their hamlets, and every unit above them.
WITH RECURSIVE up AS (
    SELECT code, parent_code FROM admin.area
    WHERE valid_to IS NULL AND (code = ANY(CAST(%(communes)s AS text[])) OR parent_code = ANY(CAST(%(communes)s AS text[])))
    UNION
    SELECT a.code, a.parent_code FROM admin.area a JOIN up ON a.code = up.parent_code WHERE a.valid_to IS NULL
)
SELECT array_agg(code) FROM up;
