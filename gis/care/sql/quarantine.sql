-- F1 quarantine orders (gis/care/quarantine.py): where they come from, their follow-up on a day and the KPIs. The
-- rule row of each order (end, monitoring, test days) is chosen in Python from the rule file; everything else here.

-- name: sources
-- One candidate order per F1 person and start: the quarantine stays of reason f1_contact, or of a person traced as
-- a close contact whose stay starts between their first close exposure and 14 days after the last (trace.contact's
-- own window for "quarantined"; arrivals excepted), one per (person, start): a facility's first, then the lowest
-- stay id; and, when %(from_contacts)s, each close contact with no stay in that window, from the last close
-- exposure to that F0. With the person's facts before the start: the last dose of a full primary course or later
-- (%(three_dose)s: vaccines of three doses, others two), the last dose numbered 2 or more, the last case detected
-- (not withdrawn).
WITH close AS MATERIALIZED (
    SELECT x.person_key, x.case_id, min(x.exposed_on) AS first_on, max(x.exposed_on) AS last_on
    FROM trace.exposure x
    WHERE x.risk = 'close'
    GROUP BY x.person_key, x.case_id
), stays AS (
    SELECT DISTINCT ON (q.person_key, q.start_on)
           'Q-' || q.stay_id AS order_id, q.person_key, q.stay_id, m.case_id, q.start_on, q.facility_id,
           q.commune_code, q.end_on AS registered_end_on
    FROM events.quarantine_stays q
    LEFT JOIN LATERAL (
        SELECT c.case_id FROM close c
        WHERE c.person_key = q.person_key AND q.start_on BETWEEN c.first_on AND c.last_on + 14
        ORDER BY c.last_on DESC, c.case_id
        LIMIT 1
    ) m ON true
    WHERE q.reason = 'f1_contact' OR (m.case_id IS NOT NULL AND q.reason IS DISTINCT FROM 'entry')
    ORDER BY q.person_key, q.start_on, q.facility_id IS NULL, q.stay_id
), contacts AS (
    SELECT DISTINCT ON (c.person_key, c.last_on)
           'T-' || left(md5(c.person_key || ':' || c.last_on::text), 16) AS order_id, c.person_key,
           NULL::text AS stay_id, c.case_id, c.last_on AS start_on, NULL::text AS facility_id,
           NULL::text AS commune_code, NULL::date AS registered_end_on
    FROM close c
    WHERE %(from_contacts)s
      AND NOT EXISTS (SELECT 1 FROM events.quarantine_stays q
                      WHERE q.person_key = c.person_key AND q.start_on BETWEEN c.first_on AND c.last_on + 14)
    ORDER BY c.person_key, c.last_on, c.case_id
), orders AS (
    SELECT * FROM stays
    UNION ALL
    SELECT * FROM contacts k WHERE NOT EXISTS (SELECT 1 FROM stays s
                                               WHERE s.person_key = k.person_key AND s.start_on = k.start_on)
)
SELECT o.*,
       (SELECT max(v.vaccinated_on) FROM events.vaccinations v
        WHERE v.person_key = o.person_key AND v.vaccinated_on < o.start_on
          AND v.dose_number >= CASE WHEN v.vaccine = ANY(%(three_dose)s) THEN 3 ELSE 2 END) AS last_course_on,
       (SELECT max(v.vaccinated_on) FROM events.vaccinations v
        WHERE v.person_key = o.person_key AND v.vaccinated_on < o.start_on AND v.dose_number >= 2) AS last_two_dose_on,
       (SELECT max(c.detected_on) FROM events.cases c
        WHERE c.person_key = o.person_key AND c.detected_on < o.start_on
          AND c.status IS DISTINCT FROM 'withdrawn') AS last_case_on
FROM orders o
ORDER BY o.order_id

-- name: create_new
CREATE TEMP TABLE f1_new (
    order_id text PRIMARY KEY, person_key text NOT NULL, stay_id text, case_id text, start_on date NOT NULL,
    place text NOT NULL, facility_id text, commune_code text, registered_end_on date, vaccination text NOT NULL,
    rule_id text, end_on date, monitor_until date, test_days date[] NOT NULL
) ON COMMIT DROP

-- name: insert_new
INSERT INTO f1_new (order_id, person_key, stay_id, case_id, start_on, place, facility_id, commune_code,
                    registered_end_on, vaccination, rule_id, end_on, monitor_until, test_days)
VALUES %s

-- name: follow_up
-- Each due test day of each order on %(day)s: met by the person's first test (any type or result: it was taken)
-- collected on the due day or within %(grace)s days after it, up to %(day)s; `missed` once the grace passed
-- without one, `due` within it, `upcoming` before it. Then each order's state: became_f0 on the first positive
-- test or case (not withdrawn) from its start to its end (or %(day)s when it has none), up to %(day)s; the longest
-- run of consecutive missed due days; lost at %(lost_after)s of them, or when the end passed plus the grace with
-- the final test day missed; completed after the end; else active. Overdue: any due day missed.
CREATE TEMP TABLE f1_due ON COMMIT DROP AS
SELECT n.order_id, d.due_on, t.sample_id, t.collected_on, t.result,
       CASE WHEN t.sample_id IS NOT NULL THEN 'tested'
            WHEN d.due_on > %(day)s THEN 'upcoming'
            WHEN d.due_on + %(grace)s < %(day)s THEN 'missed'
            ELSE 'due' END AS status
FROM f1_new n
CROSS JOIN LATERAL unnest(n.test_days) AS d(due_on)
LEFT JOIN LATERAL (
    SELECT t.sample_id, (t.collected_at AT TIME ZONE %(tz)s)::date AS collected_on, t.result
    FROM events.tests t
    WHERE t.person_key = n.person_key
      AND t.collected_at >= (d.due_on::timestamp AT TIME ZONE %(tz)s)
      AND t.collected_at < ((least(d.due_on + %(grace)s, %(day)s) + 1)::timestamp AT TIME ZONE %(tz)s)
    ORDER BY t.collected_at, t.sample_id
    LIMIT 1
) t ON true;
CREATE TEMP TABLE f1_state ON COMMIT DROP AS
WITH runs AS (
    SELECT order_id, status,
           row_number() OVER (PARTITION BY order_id ORDER BY due_on)
           - row_number() OVER (PARTITION BY order_id, status = 'missed' ORDER BY due_on) AS grp
    FROM f1_due
), longest AS (
    SELECT order_id, max(n) AS missed_in_row
    FROM (SELECT order_id, grp, count(*) AS n FROM runs WHERE status = 'missed' GROUP BY order_id, grp) r
    GROUP BY order_id
), missed AS (
    SELECT order_id, array_agg(due_on ORDER BY due_on) AS missed_days FROM f1_due WHERE status = 'missed'
    GROUP BY order_id
), final AS (
    SELECT DISTINCT ON (order_id) order_id, status AS final_status FROM f1_due ORDER BY order_id, due_on DESC
), f0 AS (
    SELECT DISTINCT ON (e.order_id) e.order_id, e.on_day, e.evidence
    FROM (
        SELECT n.order_id, (t.collected_at AT TIME ZONE %(tz)s)::date AS on_day, 'test:' || t.sample_id AS evidence
        FROM f1_new n
        JOIN events.tests t ON t.person_key = n.person_key AND t.result = 'positive'
        WHERE (t.collected_at AT TIME ZONE %(tz)s)::date BETWEEN n.start_on AND least(coalesce(n.end_on, %(day)s), %(day)s)
        UNION ALL
        SELECT n.order_id, c.detected_on, 'case:' || c.case_id
        FROM f1_new n
        JOIN events.cases c ON c.person_key = n.person_key AND c.status IS DISTINCT FROM 'withdrawn'
        WHERE c.detected_on BETWEEN n.start_on AND least(coalesce(n.end_on, %(day)s), %(day)s)
    ) e
    ORDER BY e.order_id, e.on_day, e.evidence
)
SELECT n.order_id,
       CASE WHEN f0.order_id IS NOT NULL THEN 'became_f0'
            WHEN coalesce(l.missed_in_row, 0) >= %(lost_after)s THEN 'lost'
            WHEN n.end_on + %(grace)s < %(day)s AND fi.final_status = 'missed' THEN 'lost'
            WHEN n.end_on < %(day)s THEN 'completed'
            ELSE 'active' END AS status,
       m.missed_days IS NOT NULL AS overdue,
       coalesce(m.missed_days, '{}') AS missed_days,
       f0.on_day AS became_f0_on, f0.evidence AS f0_evidence
FROM f1_new n
LEFT JOIN longest l ON l.order_id = n.order_id
LEFT JOIN missed m ON m.order_id = n.order_id
LEFT JOIN final fi ON fi.order_id = n.order_id
LEFT JOIN f0 ON f0.order_id = n.order_id

-- name: write
-- The orders replaced by the derived ones: those no longer derived (stay or contact gone) deleted with their test
-- days; the others inserted or updated, every column but transfer_request_id (the request opened once).
DELETE FROM care.f1_order o WHERE NOT EXISTS (SELECT 1 FROM f1_new n WHERE n.order_id = o.order_id);
INSERT INTO care.f1_order (order_id, person_key, stay_id, case_id, start_on, place, facility_id, commune_code,
                           registered_end_on, vaccination, ruleset, rule_id, end_on, monitor_until, test_days,
                           status, overdue, missed_days, became_f0_on, f0_evidence, day, derived_at)
SELECT n.order_id, n.person_key, n.stay_id, n.case_id, n.start_on, n.place, n.facility_id, n.commune_code,
       n.registered_end_on, n.vaccination, %(ruleset)s, n.rule_id, n.end_on, n.monitor_until, n.test_days,
       s.status, s.overdue, s.missed_days, s.became_f0_on, s.f0_evidence, %(day)s, now()
FROM f1_new n JOIN f1_state s ON s.order_id = n.order_id
ON CONFLICT (order_id) DO UPDATE SET
    person_key = excluded.person_key, stay_id = excluded.stay_id, case_id = excluded.case_id,
    start_on = excluded.start_on, place = excluded.place, facility_id = excluded.facility_id,
    commune_code = excluded.commune_code, registered_end_on = excluded.registered_end_on,
    vaccination = excluded.vaccination, ruleset = excluded.ruleset, rule_id = excluded.rule_id,
    end_on = excluded.end_on, monitor_until = excluded.monitor_until, test_days = excluded.test_days,
    status = excluded.status, overdue = excluded.overdue, missed_days = excluded.missed_days,
    became_f0_on = excluded.became_f0_on, f0_evidence = excluded.f0_evidence, day = excluded.day,
    derived_at = excluded.derived_at;
DELETE FROM care.f1_test_day;
INSERT INTO care.f1_test_day (order_id, due_on, status, sample_id, collected_on, result)
SELECT order_id, due_on, status, sample_id, collected_on, result FROM f1_due

-- name: transfer_candidates
-- F1 turned F0 with no transfer request recorded whose place now (care.current_stay) is a quarantine facility.
SELECT o.order_id, o.person_key, o.became_f0_on, o.f0_evidence, c.facility_id
FROM care.f1_order o
JOIN care.current_stay c ON c.person_key = o.person_key
JOIN events.facilities f ON f.facility_id = c.facility_id AND f.kind = 'quarantine'
WHERE o.status = 'became_f0' AND o.transfer_request_id IS NULL
ORDER BY o.became_f0_on, o.order_id

-- name: live_request
SELECT request_id FROM care.transfer_request WHERE person_key = %(person_key)s AND status IN ('open', 'accepted')

-- name: record_transfer
UPDATE care.f1_order SET transfer_request_id = %(request_id)s WHERE order_id = %(order_id)s

-- name: kpis
-- The counts on the day, and WHO's two indicators of contact follow-up: of the orders in force on %(day)s (started,
-- not past their end, not turned F0) the share followed up (active, no due test day missed); of the orders started
-- by %(day)s, the share lost to follow-up.
SELECT count(*)::int AS orders,
       (count(*) FILTER (WHERE status = 'active'))::int AS active,
       (count(*) FILTER (WHERE status = 'completed'))::int AS completed,
       (count(*) FILTER (WHERE status = 'became_f0'))::int AS became_f0,
       (count(*) FILTER (WHERE status = 'active' AND overdue))::int AS overdue,
       (count(*) FILTER (WHERE status = 'lost'))::int AS lost,
       (count(*) FILTER (WHERE rule_id IS NULL))::int AS without_rule,
       (count(*) FILTER (WHERE transfer_request_id IS NOT NULL))::int AS with_transfer,
       (count(*) FILTER (WHERE start_on <= %(day)s AND (end_on IS NULL OR end_on >= %(day)s)
                          AND status IN ('active', 'lost')))::int AS in_force,
       (count(*) FILTER (WHERE start_on <= %(day)s AND (end_on IS NULL OR end_on >= %(day)s)
                          AND status = 'active' AND NOT overdue))::int AS followed_up,
       (count(*) FILTER (WHERE start_on <= %(day)s))::int AS started
FROM care.f1_order

-- name: attention
-- The orders to act on: turned F0, lost, overdue (active with a missed due day); no sample or case id.
SELECT o.order_id, o.person_key, o.place, o.facility_id, o.start_on, o.end_on, o.status, o.overdue,
       o.missed_days, o.became_f0_on, o.rule_id, o.transfer_request_id
FROM care.f1_order o
WHERE o.status IN ('became_f0', 'lost') OR o.overdue
ORDER BY CASE o.status WHEN 'became_f0' THEN 0 WHEN 'lost' THEN 1 ELSE 2 END, o.start_on, o.order_id
LIMIT %(limit)s
