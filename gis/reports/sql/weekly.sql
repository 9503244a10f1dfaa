-- Statements of the weekly report (gis/reports/weekly.py). They only read what the pipeline stored: the daily
-- indicators (stats.indicator, 7-day windows ending on the day) and the zones (risk.zone) — no second computation.

-- name: published_ruleset
SELECT ruleset_id FROM risk.published;

-- name: last_day_in_week
-- The last day of the week that has both indicators and zones of the rule set (normally the Sunday).
SELECT max(z.day) FROM risk.zone z
WHERE z.ruleset_id = %(rs)s AND z.day BETWEEN %(first)s AND %(last)s AND z.admin_level = 1
  AND EXISTS (SELECT 1 FROM stats.indicator i WHERE i.day = z.day AND i.area_code = z.area_code);

-- name: has_zones
SELECT EXISTS (SELECT 1 FROM risk.zone WHERE ruleset_id = %(rs)s AND day = %(day)s);

-- name: districts
-- The province and its districts on the day: indicators of the 7 days ending on it, and their own zone.
SELECT a.code, a.name, a.level AS admin_level, i.cases_7d, i.community_cases_7d, i.tests_7d, i.positive_tests_7d,
       i.population_18plus, i.vaccinated_18plus_1dose, i.population_50plus, i.vaccinated_50plus_full,
       i.population_65plus, i.vaccinated_65plus_full, z.level, z.colour, z.label_vi
FROM stats.indicator i
JOIN admin.area a ON a.code = i.area_code AND a.valid_from <= %(day)s AND (a.valid_to IS NULL OR a.valid_to > %(day)s)
LEFT JOIN risk.zone z ON z.ruleset_id = %(rs)s AND z.day = i.day AND z.area_code = i.area_code
WHERE i.day = %(day)s AND i.admin_level IN (1, 2)
ORDER BY i.admin_level DESC, a.name;

-- name: units
-- Communes and hamlets in force on the day, with their district, their zone on the day and a week before.
WITH units AS (
    SELECT a.code, a.name, a.level AS admin_level,
           CASE a.level WHEN 3 THEN a.parent_code ELSE c.parent_code END AS district_code,
           CASE a.level WHEN 3 THEN a.name ELSE c.name END AS commune_name
    FROM admin.area a
    LEFT JOIN admin.area c ON a.level = 4 AND c.code = a.parent_code
     AND c.valid_from <= %(day)s AND (c.valid_to IS NULL OR c.valid_to > %(day)s)
    WHERE a.level IN (3, 4) AND a.valid_from <= %(day)s AND (a.valid_to IS NULL OR a.valid_to > %(day)s)
)
SELECT u.*, z.level, z.colour, z.label_vi, z.reasons, z.decisive, p.level AS prev_level, p.colour AS prev_colour
FROM units u
LEFT JOIN risk.zone z ON z.ruleset_id = %(rs)s AND z.day = %(day)s AND z.area_code = u.code
LEFT JOIN risk.zone p ON p.ruleset_id = %(rs)s AND p.day = %(prev)s AND p.area_code = u.code
ORDER BY u.district_code, u.commune_name, u.admin_level, u.name;

-- name: map_units
-- Commune and district shapes for the province map, with the communes' colour on the day.
SELECT a.code, a.level AS admin_level, a.name, z.colour, a.geom
FROM admin.area a
LEFT JOIN risk.zone z ON z.ruleset_id = %(rs)s AND z.day = %(day)s AND z.area_code = a.code
WHERE a.level IN (2, 3) AND a.valid_from <= %(day)s AND (a.valid_to IS NULL OR a.valid_to > %(day)s);

-- name: trace_ruleset
-- The trace rule set of the report's tracing section: the one asked for, else the one that traced the most F0
-- detected in the week (restricted.trace_indicators, layers/trace-indicators.sql).
SELECT ruleset_id FROM restricted.trace_indicators
WHERE period = 'week' AND period_start = %(monday)s AND venue_kind = 'all'
  AND (%(trs)s::text IS NULL OR ruleset_id = %(trs)s::text)
ORDER BY coalesce(f0, 0) DESC, ruleset_id
LIMIT 1;

-- name: trace
-- The week's tracing indicators of the rule set: the row of every venue kind ('all') last, the kinds by contacts.
SELECT venue_kind, f0, share_f0_with_checkin, contacts_per_f0, locations_published, seconds_to_publish_median,
       contacts, share_quarantined_24h, share_quarantined_72h, became_f0, yield_share
FROM restricted.trace_indicators
WHERE ruleset_id = %(trs)s AND period = 'week' AND period_start = %(monday)s
ORDER BY venue_kind = 'all', contacts DESC, venue_kind;
