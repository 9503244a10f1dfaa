-- Public layer `zones-history`: the zone of every area on every computed day, for the published rule set
-- (risk.published). `datetime=D` answers "what colour was this hamlet on date D, and why".
-- Small counts: where the area's indicators that day (stats.indicator, and any counts kept in the zone's inputs)
-- hold a count of people above 0 and below risk.published.suppress_below,
-- the observed values in `decisive` and `reasons` are masked (a rate of a small count gives the count back with
-- the population); the level, colour and which indicators decided stay visible. The raw inputs are never public.
CREATE OR REPLACE VIEW pub.zones_history AS
SELECT z.area_code || '@' || z.day AS id,
       z.area_code AS code,
       z.day,
       z.admin_level,
       a.name,
       a.parent_code,
       z.level,
       z.colour,
       z.label_vi,
       z.label_en,
       z.ruleset_id,
       z.ruleset_version,
       z.override_id IS NOT NULL AS overridden,
       s.small AS details_suppressed,
       CASE WHEN s.small
            THEN coalesce((SELECT jsonb_object_agg(k, NULL) FROM jsonb_object_keys(z.decisive) k), '{}'::jsonb)
            ELSE z.decisive END AS decisive,
       CASE WHEN s.small
            THEN (SELECT coalesce(jsonb_agg(regexp_replace(r, ' = [^ ]+', ' = (suppressed)', 'g')), '[]'::jsonb)
                  FROM jsonb_array_elements_text(z.reasons) r)
            ELSE z.reasons END AS reasons,
       a.geom
FROM risk.zone z
JOIN risk.published p ON p.ruleset_id = z.ruleset_id
JOIN admin.area a ON a.code = z.area_code AND a.valid_from <= z.day AND (a.valid_to IS NULL OR a.valid_to > z.day)
CROSS JOIN LATERAL (
    SELECT EXISTS (
        SELECT 1
        FROM jsonb_each(z.inputs || coalesce((SELECT to_jsonb(ind) FROM stats.indicator ind
                                              WHERE ind.day = z.day AND ind.area_code = z.area_code), '{}'::jsonb)) i
        WHERE i.key = ANY (ARRAY['cases_7d', 'cases_14d', 'community_cases_7d', 'community_cases_prev_7d',
                                 'unknown_source_cases_14d', 'unknown_source_clusters_14d', 'hard_to_trace_cases_14d',
                                 'known_source_community_cases_14d', 'f1_in_community', 'tests_7d',
                                 'positive_tests_7d', 'vaccinated_18plus_1dose', 'vaccinated_50plus_full',
                                 'vaccinated_65plus_full', 'admissions_7d'])
          AND jsonb_typeof(i.value) = 'number'
          AND (i.value)::numeric > 0 AND (i.value)::numeric < p.suppress_below) AS small
) s;
