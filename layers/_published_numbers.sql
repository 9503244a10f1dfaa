-- Not a collection: how the public zone layers (zones-history.sql, and zones.sql through it) publish the numbers
-- behind a zone. Pure functions of their arguments (they read no table), so the public role may call them. They are
-- called in the views' output columns, so a query that does not ask for a column (a count, a page's keys) does not
-- pay for it; PL/pgSQL keeps them to expressions (no query per zone).
-- The rule and why it holds against differencing: layers/README.md, "Small counts".

-- The counts of people a zone's inputs hold (stats.indicator columns): one above 0 and below the threshold
-- suppresses the zone's details.
CREATE OR REPLACE FUNCTION pub.people_counts() RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT ARRAY['cases_7d', 'cases_14d', 'community_cases_7d', 'community_cases_prev_7d', 'unknown_source_cases_14d',
             'unknown_source_clusters_14d', 'hard_to_trace_cases_14d', 'known_source_community_cases_14d',
             'f1_in_community', 'tests_7d', 'positive_tests_7d', 'vaccinated_18plus_1dose', 'vaccinated_50plus_full',
             'vaccinated_65plus_full', 'admissions_7d']
$$;

-- Does a zone hold a count of people above 0 and below base? counts: its stats.indicator row and inputs as JSON.
CREATE OR REPLACE FUNCTION pub.has_small_count(counts jsonb, base integer) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    name text;
    n jsonb;
BEGIN
    FOREACH name IN ARRAY pub.people_counts() LOOP
        n := counts -> name;
        IF jsonb_typeof(n) = 'number' AND n::numeric > 0 AND n::numeric < base THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;

-- The width of the bands a zone's counts are published in: the threshold for a hamlet (admin level 4), twice the
-- threshold for a province, district or commune (or a row without its level), whose counts are sums of counts that
-- are published too (why: layers/README.md, "Small counts"). counts: its stats.indicator row and inputs as JSON.
CREATE OR REPLACE FUNCTION pub.band_width(counts jsonb, base integer) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT CASE WHEN counts ->> 'admin_level' = '4' THEN base ELSE 2 * base END
$$;

-- The band of `width` values a count x is published as (base: the threshold, width: band_width): 0 alone, then
-- 1 … base − 1 (which would have been suppressed), then bands of width from base on — base + k·width … base +
-- (k + 1)·width − 1 — so a zero stays exact and every published count is a multiple of base (for a hamlet,
-- width = base: x rounded down to a multiple of base). band_low is the published count, band_high the largest value
-- that is published as it.
CREATE OR REPLACE FUNCTION pub.band_low(x float8, base integer, width integer) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT CASE WHEN x < base THEN 0 ELSE base + floor((x - base) / width) * width END
$$;

CREATE OR REPLACE FUNCTION pub.band_high(x float8, base integer, width integer) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT CASE WHEN x = 0 THEN 0 WHEN x < base THEN base ELSE pub.band_low(x, base, width) + width END
       - CASE WHEN x = 0 THEN 0 WHEN x = trunc(x) THEN 1 ELSE 0 END
$$;

-- A range as the reasons show it: "45.51–54.62" (4 significant digits, rounded outwards), one number if low = high.
CREATE OR REPLACE FUNCTION pub.range_text(low float8, high float8) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    lo numeric := power(10::numeric, 3 - floor(log(greatest(abs(low), 1e-300)))::int);
    hi numeric := power(10::numeric, 3 - floor(log(greatest(abs(high), 1e-300)))::int);
    shown text := trim_scale(floor(low::numeric * lo) / lo)::text;
BEGIN
    RETURN CASE WHEN low = high THEN shown ELSE shown || '–' || trim_scale(ceil(high::numeric * hi) / hi)::text END;
END
$$;

-- A zone's `decisive` as published, and what its reasons show for each value: {"decisive": {…}, "shown": {…}}.
-- counts: the zone's stats.indicator row and inputs as JSON; base: the threshold.
-- - A zone holding a small count (has_small_count) shows every value as null and no number in its reasons.
-- - A value computed from counts of people is traced back to them: each candidate ratio below (numerator fields,
--   `mean` of them or their sum, denominator field, scale; a count of people is its own candidate) is computed from
--   `counts` as the classifier computes it (numerator × scale / denominator), and the one equal to the value is
--   taken — a rule set's `choice` and `by_date` indicators have several. The value published is the same ratio of
--   the counts rounded down to their band (band_low: a multiple of base; bands of base values for a hamlet, of
--   2 × base above, band_width; a denominator that counts people too); `shown` is the range the true value lies in.
-- - Values that count no people (levels, children's levels, yes/no) are published as they are (shown: null, the
--   reasons keep their own text). A number no candidate explains is not published (null, "(suppressed)").
CREATE OR REPLACE FUNCTION pub.published_numbers(decisive jsonb, counts jsonb, base integer) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    ratios CONSTANT jsonb := '{
        "community_cases_7d_per_100k": [
            {"num": ["community_cases_7d"], "den": "population", "scale": 1e5},
            {"num": ["community_cases_7d", "community_cases_prev_7d"], "mean": true, "den": "population",
             "scale": 1e5}],
        "community_cases_1w": [{"num": ["community_cases_7d"], "den": "population", "scale": 1e5}],
        "community_cases_2w_mean": [{"num": ["community_cases_7d", "community_cases_prev_7d"], "mean": true,
                                     "den": "population", "scale": 1e5}],
        "coverage_18plus_1dose": [{"num": ["vaccinated_18plus_1dose"], "den": "population_18plus"}],
        "coverage_65plus_full": [{"num": ["vaccinated_65plus_full"], "den": "population_65plus"}],
        "coverage_50plus_full": [{"num": ["vaccinated_50plus_full"], "den": "population_50plus"}],
        "elderly_full_share": [{"num": ["vaccinated_65plus_full"], "den": "population_65plus"},
                               {"num": ["vaccinated_50plus_full"], "den": "population_50plus"}],
        "cases_7d_per_100k": [{"num": ["cases_7d"], "den": "population", "scale": 1e5}],
        "cases_14d_per_100k": [{"num": ["cases_14d"], "den": "population", "scale": 1e5}],
        "tests_7d_per_100k": [{"num": ["tests_7d"], "den": "population", "scale": 1e5}],
        "admissions_7d_per_100k": [{"num": ["admissions_7d"], "den": "population", "scale": 1e5}],
        "test_positivity_pct": [{"num": ["positive_tests_7d"], "den": "tests_7d", "scale": 100}],
        "covid_beds_pct": [{"num": ["covid_inpatient_beds_7d_avg"], "den": "staffed_inpatient_beds_7d_avg",
                            "scale": 100}]}';
    counting_no_people CONSTANT text[] := ARRAY[
        'previous_level', 'adjacent_max_level', 'treatment_capacity_met', 'child_count', 'child_count_level_2',
        'child_count_level_3', 'child_count_level_4', 'children_level_2_or_more', 'children_level_4_scattered',
        'share_level_2', 'share_level_3', 'share_level_4', 'share_level_2_literal', 'share_level_2_inclusive',
        'share_level_3_literal', 'share_level_3_inclusive'];
    small CONSTANT boolean := pub.has_small_count(counts, base);
    width CONSTANT integer := pub.band_width(counts, base);
    published jsonb := '{}';
    shown jsonb := '{}';
    key text;
    value jsonb;
    candidates jsonb;
    candidate jsonb;
    num float8;
    den float8;
    scale float8;
    den_low float8;
    den_high float8;
BEGIN
    FOR key, value IN SELECT * FROM jsonb_each(decisive) LOOP
        IF small THEN
            published := published || jsonb_build_object(key, NULL);
            CONTINUE;
        END IF;
        IF jsonb_typeof(value) <> 'number' OR key = ANY (counting_no_people) THEN
            published := published || jsonb_build_object(key, value);
            shown := shown || jsonb_build_object(key, NULL);
            CONTINUE;
        END IF;
        published := published || jsonb_build_object(key, NULL);  -- unless a candidate explains it
        shown := shown || jsonb_build_object(key, '(suppressed)');
        candidates := coalesce(ratios -> key, CASE WHEN key = ANY (pub.people_counts())  -- a count as it is
                                                   THEN jsonb_build_array(jsonb_build_object('num', jsonb_build_array(key)))
                                                   END, '[]');
        FOR i IN 0 .. jsonb_array_length(candidates) - 1 LOOP
            candidate := candidates -> i;
            num := 0;
            FOR j IN 0 .. jsonb_array_length(candidate -> 'num') - 1 LOOP
                num := num + (counts ->> (candidate -> 'num' ->> j))::float8;
            END LOOP;
            scale := coalesce((candidate ->> 'scale')::float8, 1)
                / CASE WHEN (candidate ->> 'mean')::boolean THEN jsonb_array_length(candidate -> 'num') ELSE 1 END;
            den := coalesce((counts ->> (candidate ->> 'den'))::float8, 1);
            CONTINUE WHEN num IS NULL OR den = 0 OR abs(num * scale / den - value::float8) > 1e-9 * abs(value::float8);
            den_low := CASE WHEN candidate ->> 'den' = ANY (pub.people_counts())
                            THEN pub.band_low(den, base, width) ELSE den END;
            den_high := CASE WHEN candidate ->> 'den' = ANY (pub.people_counts())
                             THEN pub.band_high(den, base, width) ELSE den END;
            EXIT WHEN den_low = 0;
            published := published || jsonb_build_object(key, pub.band_low(num, base, width) * scale / den_low);
            shown := shown || jsonb_build_object(key, pub.range_text(
                pub.band_low(num, base, width) * scale / den_high, pub.band_high(num, base, width) * scale / den_low));
            EXIT;
        END LOOP;
    END LOOP;
    RETURN jsonb_build_object('decisive', published, 'shown', shown);
END
$$;

-- A zone's reasons as published: each "name = value" shows `shown ->> name` (the range of a number counting people;
-- its own text where that is null: a value counting no people), or "(suppressed)" for a name `shown` lacks.
CREATE OR REPLACE FUNCTION pub.published_reasons(reasons jsonb, shown jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    result jsonb := '[]';
    reason text;
    parts text[];
    out text;
    name text;
    token text;
BEGIN
    FOR reason IN SELECT jsonb_array_elements_text(reasons) LOOP
        parts := string_to_array(reason, ' = ');
        out := parts[1];
        FOR i IN 2 .. coalesce(array_length(parts, 1), 1) LOOP
            name := coalesce(substring(parts[i - 1] FROM '(\w+)$'), '');
            token := split_part(parts[i], ' ', 1);
            out := out || ' = ' || CASE WHEN shown ? name THEN coalesce(shown ->> name, token) ELSE '(suppressed)' END
                || substr(parts[i], length(token) + 1);
        END LOOP;
        result := result || jsonb_build_array(out);
    END LOOP;
    RETURN result;
END
$$;
