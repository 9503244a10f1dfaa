-- The logistics registries (migration 0024: events.support_teams, meal_contracts, waste_contracts) active on each
-- forecast day %(first)s .. %(last)s, per facility, for gis/care/logistics.py. A team or contract is active on a
-- day when from_on <= day and (to_on is empty or day <= to_on). %(facility)s (or NULL for every facility) narrows
-- each statement to one facility. People are not counted here: they are the replay of admissions (occupancy.sql).

-- name: teams
SELECT t.facility_id, d.day, (sum(t.headcount))::int AS headcount, count(*)::int AS teams,
       (coalesce(sum(t.headcount) FILTER (WHERE t.role = 'medical'), 0))::int AS medical,
       (coalesce(sum(t.headcount) FILTER (WHERE t.role = 'security'), 0))::int AS security,
       (coalesce(sum(t.headcount) FILTER (WHERE t.role = 'logistics'), 0))::int AS logistics,
       (coalesce(sum(t.headcount) FILTER (WHERE t.role = 'volunteer'), 0))::int AS volunteer
FROM (SELECT generate_series(%(first)s::date, %(last)s::date, interval '1 day')::date AS day) d
JOIN events.support_teams t ON t.from_on <= d.day AND (t.to_on IS NULL OR t.to_on >= d.day)
WHERE %(facility)s::text IS NULL OR t.facility_id = %(facility)s::text
GROUP BY t.facility_id, d.day
ORDER BY t.facility_id, d.day

-- name: meals
SELECT c.facility_id, d.day, (sum(c.meals_per_day))::int AS meals_per_day,
       jsonb_agg(jsonb_build_object('contract_id', c.contract_id, 'supplier', c.supplier,
                                    'meals_per_day', c.meals_per_day, 'price_vnd', c.price_vnd)
                 ORDER BY c.contract_id) AS contracts
FROM (SELECT generate_series(%(first)s::date, %(last)s::date, interval '1 day')::date AS day) d
JOIN events.meal_contracts c ON c.from_on <= d.day AND (c.to_on IS NULL OR c.to_on >= d.day)
WHERE %(facility)s::text IS NULL OR c.facility_id = %(facility)s::text
GROUP BY c.facility_id, d.day
ORDER BY c.facility_id, d.day

-- name: waste
SELECT c.facility_id, d.day, sum(c.kg_per_day) AS kg_per_day,
       jsonb_agg(jsonb_build_object('contract_id', c.contract_id, 'handler', c.handler, 'kg_per_day', c.kg_per_day)
                 ORDER BY c.contract_id) AS contracts
FROM (SELECT generate_series(%(first)s::date, %(last)s::date, interval '1 day')::date AS day) d
JOIN events.waste_contracts c ON c.from_on <= d.day AND (c.to_on IS NULL OR c.to_on >= d.day)
WHERE %(facility)s::text IS NULL OR c.facility_id = %(facility)s::text
GROUP BY c.facility_id, d.day
ORDER BY c.facility_id, d.day

-- name: registered
-- Facilities with a team or contract at all (active or not), with their name from the facilities feed: a facility
-- that holds nobody and has no room still shows its registries.
SELECT r.facility_id, f.name, f.kind, f.tier
FROM (SELECT facility_id FROM events.support_teams
      UNION SELECT facility_id FROM events.meal_contracts
      UNION SELECT facility_id FROM events.waste_contracts) r
LEFT JOIN events.facilities f ON f.facility_id = r.facility_id
WHERE %(facility)s::text IS NULL OR r.facility_id = %(facility)s::text
ORDER BY r.facility_id
