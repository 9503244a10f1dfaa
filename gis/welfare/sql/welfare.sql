-- The welfare stage's statements (gis/welfare/programmes.py, gis/welfare/ledger.py), psycopg2 parameters.

-- name: published_ruleset
SELECT ruleset_id FROM risk.published WHERE id

-- name: eligible
-- Every household with its flags and its hamlet's zone level on the day ({verdict}: the programme's conditions as
-- one boolean expression over h and z, NULL where an officer must confirm).
SELECT h.household_id, h.area_code, h.commune_code,
       h.poor, h.near_poor, h.elderly_alone, h.disabled, h.lost_income, h.migrant_worker, h.covid_household,
       z.level AS zone_level,
       ({verdict}) AS verdict
FROM welfare.household h
LEFT JOIN risk.zone z ON z.ruleset_id = %(ruleset_id)s AND z.day = %(day)s AND z.area_code = h.area_code
WHERE %(commune_code)s::text IS NULL OR h.commune_code = %(commune_code)s
ORDER BY h.commune_code, h.area_code, h.household_id

-- name: household
SELECT h.household_id, h.area_code, h.commune_code, c.parent_code AS district_code
FROM welfare.household h
LEFT JOIN admin.area c ON c.code = h.commune_code AND c.valid_to IS NULL
WHERE h.household_id = %(household_id)s

-- name: members
SELECT DISTINCT m.person_key FROM welfare.member m WHERE m.household_id = %(household_id)s ORDER BY 1

-- name: insert_delivery
INSERT INTO welfare.delivery (
    distribution_id, kind, reverses, programme, period_start, household_id, area_code, commune_code, amount_vnd,
    kit, at, day, officer, warehouse_id, receipt_code, reason, lon, lat)
VALUES (
    %(distribution_id)s, %(kind)s, %(reverses)s, %(programme)s, %(period_start)s, %(household_id)s, %(area_code)s,
    %(commune_code)s, %(amount_vnd)s, %(kit)s, %(at)s, %(day)s, %(officer)s, %(warehouse_id)s, %(receipt_code)s,
    %(reason)s, %(lon)s, %(lat)s)
ON CONFLICT (distribution_id) DO NOTHING
RETURNING entry_id, recorded_at

-- name: claim
-- The delivery's dedup keys, in sorted order (two transactions claiming overlapping keys take them in the same
-- order, so they queue rather than deadlock). A key another transaction holds makes this wait for it; a key
-- taken by a committed delivery is skipped: fewer rows returned than keys given = a duplicate.
INSERT INTO welfare.delivery_claim (programme, period_start, subject, subject_key, distribution_id)
SELECT %(programme)s, %(period_start)s, k.subject, k.subject_key, %(distribution_id)s
FROM unnest(%(subjects)s::text[], %(keys)s::text[]) AS k(subject, subject_key)
ORDER BY k.subject, k.subject_key
ON CONFLICT DO NOTHING
RETURNING subject, subject_key

-- name: earlier
-- The delivery holding one of the keys (the first by time), with its commune's name.
SELECT d.distribution_id, d.programme, d.household_id, d.area_code, d.commune_code, a.name AS commune_name,
       d.day, d.at, d.officer, c.subject, c.subject_key
FROM welfare.delivery_claim c
JOIN welfare.delivery d ON d.distribution_id = c.distribution_id
LEFT JOIN admin.area a ON a.code = d.commune_code AND a.valid_to IS NULL
WHERE c.programme = %(programme)s AND c.period_start = %(period_start)s
  AND (c.subject, c.subject_key) IN (SELECT * FROM unnest(%(subjects)s::text[], %(keys)s::text[]))
ORDER BY d.at, d.entry_id
LIMIT 1

-- name: delivery_for_reversal
SELECT d.distribution_id, d.kind, d.programme, d.period_start, d.household_id, d.area_code, d.commune_code,
       d.amount_vnd, d.kit, d.warehouse_id,
       (SELECT r.distribution_id FROM welfare.delivery r WHERE r.reverses = d.distribution_id) AS reversed_by
FROM welfare.delivery d
WHERE d.distribution_id = %(distribution_id)s
FOR UPDATE

-- name: release_claims
DELETE FROM welfare.delivery_claim WHERE distribution_id = %(distribution_id)s

-- name: decided
-- Fragment: every household (of one commune when %(commune_code)s is given) with its flags, its hamlet's zone level
-- on the day in the published rule set and the programme's verdict ({verdict}: its conditions as one boolean over
-- h and z, NULL where an officer must confirm), decided for all at once.
SELECT h.household_id, h.area_code, h.commune_code, h.size, h.members,
       h.poor, h.near_poor, h.elderly_alone, h.disabled, h.lost_income, h.migrant_worker, h.covid_household,
       z.level AS zone_level,
       ({verdict}) AS verdict
FROM welfare.household h
LEFT JOIN risk.zone z ON z.ruleset_id = (SELECT p.ruleset_id FROM risk.published p WHERE p.id)
                     AND z.day = %(day)s AND z.area_code = h.area_code
WHERE %(commune_code)s::text IS NULL OR h.commune_code = %(commune_code)s

-- name: counted_delivery
-- Fragment: x is a delivery of the programme on or before the day, not reversed by then.
x.programme = %(programme)s AND x.kind = 'delivery' AND x.day <= %(day)s
AND NOT EXISTS (SELECT 1 FROM welfare.delivery r WHERE r.reverses = x.distribution_id AND r.day <= %(day)s)

-- name: reaches
-- Fragment: the counted delivery x reaches its household on the day: within the last %(days)s days, or in the
-- dedup period a delivery on the day would claim (%(period_start)s: a second one there would be refused anyway).
(x.day > %(day)s::date - %(days)s OR x.period_start = %(period_start)s)

-- name: unreached
-- The eligible households of a programme not reached on a day, in one set-based statement: the counted deliveries
-- of the programme's period grouped per household in one pass (the last one's day; whether one reaches), joined to
-- every household's verdict; kept: eligible and none reaches. Order: the hamlet's zone level on the day (highest
-- first, none last), then the programme's hints met, then the vulnerability flags held ({vulnerability}), then the
-- household. %(to_confirm)s: also those an officer confirms.
WITH decided AS ({decided}),
given AS (
    SELECT x.household_id, max(x.day) AS last_day, bool_or({reaches}) AS reaches
    FROM welfare.delivery x
    WHERE {counted} AND x.day >= %(period_from)s
    GROUP BY x.household_id
)
SELECT d.household_id, d.area_code, d.commune_code, d.size, d.members, d.zone_level, d.verdict,
       ({hints}) AS hints_met, ({vulnerability}) AS vulnerability,
       d.poor, d.near_poor, d.elderly_alone, d.disabled, d.lost_income, d.migrant_worker, d.covid_household,
       g.last_day AS last_delivery_day
FROM decided d
LEFT JOIN given g ON g.household_id = d.household_id
WHERE (d.verdict OR (%(to_confirm)s AND d.verdict IS NULL)) AND g.reaches IS NOT TRUE
ORDER BY d.zone_level DESC NULLS LAST, hints_met DESC, vulnerability DESC, d.household_id

-- name: coverage_clear
DELETE FROM welfare.coverage WHERE programme = %(programme)s

-- name: coverage
-- One programme's coverage per hamlet on the day: households, eligible, to confirm, reached (eligible and reached
-- by the not-yet-reached list's rule), delivered (holding a counted delivery in the programme's period, whatever
-- their verdict) and the cash of those deliveries.
INSERT INTO welfare.coverage (programme, area_code, commune_code, title_vi, title_en, day, households, eligible,
                              to_confirm, reached, delivered, value_vnd)
WITH decided AS ({decided}),
given AS (
    SELECT x.household_id, bool_or({reaches}) AS reaches, coalesce(sum(x.amount_vnd), 0) AS value_vnd
    FROM welfare.delivery x
    WHERE {counted} AND x.day >= %(period_from)s
    GROUP BY x.household_id
)
SELECT %(programme)s, d.area_code, min(d.commune_code), %(title_vi)s, %(title_en)s, %(day)s, count(*)::int,
       (count(*) FILTER (WHERE d.verdict))::int,
       (count(*) FILTER (WHERE d.verdict IS NULL))::int,
       (count(*) FILTER (WHERE d.verdict AND g.reaches))::int,
       count(g.household_id)::int,
       coalesce(sum(g.value_vnd), 0)
FROM decided d
LEFT JOIN given g ON g.household_id = d.household_id
WHERE d.area_code IS NOT NULL
GROUP BY d.area_code

-- name: coverage_totals
SELECT coalesce(sum(households), 0)::int AS households, coalesce(sum(eligible), 0)::int AS eligible,
       coalesce(sum(to_confirm), 0)::int AS to_confirm, coalesce(sum(reached), 0)::int AS reached,
       coalesce(sum(delivered), 0)::int AS delivered, coalesce(sum(value_vnd), 0)::bigint AS value_vnd
FROM welfare.coverage WHERE programme = %(programme)s
