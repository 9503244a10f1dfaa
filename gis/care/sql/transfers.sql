-- Observations batch → classes → transfer requests, and the transfers' offers, acceptance and placement
-- (gis/care/transfers.py). Set-based; {classification} is gis/care/classify.py's SELECT over the batch.

-- name: classify_batch
-- Each observation of batch %(batch_id)s classified, beside the person's place at its instant (the F0 stay open
-- then, care.stay); no stay open: under_care = false, the finding "observation for a person not under care".
-- A quarantine facility (no tier) counts as tier 0: any class sends its F0 to a treatment tier; an F1's stay (a
-- contact in quarantine, not a patient) opens no request from its observations (issue 13 item 5 does, on a test).
INSERT INTO care.observation_class (obs_id, batch_id, person_key, at, ruleset_id, severity, warning, required_tier,
                                    under_care, facility_id, place_role, place_tier)
WITH batch AS MATERIALIZED (
    SELECT o.obs_id, o.batch_id, o.person_key, o.at FROM events.observations o WHERE o.batch_id = %(batch_id)s
), place AS (  -- one pass of the replay over the batch's people (a hash join, not a lookup per observation)
    SELECT DISTINCT ON (b.obs_id) b.obs_id, st.facility_id, st.role
    FROM batch b
    JOIN care.stay st ON st.person_key = b.person_key AND st.from_at <= b.at AND (st.to_at IS NULL OR st.to_at > b.at)
    WHERE st.person_key IN (SELECT person_key FROM batch)
    ORDER BY b.obs_id, st.from_at DESC
)
SELECT b.obs_id, b.batch_id, b.person_key, b.at, %(ruleset_id)s, c.severity, c.warning, c.required_tier,
       s.facility_id IS NOT NULL, s.facility_id, s.role, CASE WHEN s.facility_id IS NOT NULL THEN coalesce(f.tier, 0) END
FROM batch b
JOIN ({classification}) c ON c.obs_id = b.obs_id
LEFT JOIN place s ON s.obs_id = b.obs_id
LEFT JOIN events.facilities f ON f.facility_id = s.facility_id
ON CONFLICT (obs_id) DO UPDATE SET batch_id = excluded.batch_id, severity = excluded.severity,
    warning = excluded.warning, required_tier = excluded.required_tier, under_care = excluded.under_care,
    facility_id = excluded.facility_id, place_role = excluded.place_role, place_tier = excluded.place_tier, ruleset_id = excluded.ruleset_id,
    classified_at = now()

-- name: open_requests
-- One request per person whose observation of this batch needs a tier above their place's, from the person's
-- first such observation of the batch (the highest tier, then the earliest); a person with a live (open or
-- accepted) request gets none (the partial unique index would refuse it). requested_at is the observation's
-- instant (what the KPIs measure placement from, also for a batch ingested late); opened_at when the batch ran.
INSERT INTO care.transfer_request (person_key, obs_id, batch_id, from_facility, from_tier, required_tier, severity,
                                   reason, requested_at, opened_at)
SELECT DISTINCT ON (k.person_key) k.person_key, k.obs_id, k.batch_id, k.facility_id, k.place_tier, k.required_tier,
       k.severity,
       %(ruleset_id)s || ': ' || coalesce(k.severity, 'warning_sign') || CASE WHEN k.warning THEN ' + dấu hiệu cảnh báo (warning sign)' ELSE '' END
       || ' — SpO2 ' || coalesce(o.spo2::text, '?') || ' %%, nhịp thở ' || coalesce(o.resp_rate::text, '?')
       || '/phút → tầng ' || k.required_tier || ' (tier ' || k.required_tier || '), đang ở tầng ' || k.place_tier,
       k.at, now()
FROM care.observation_class k
JOIN events.observations o ON o.obs_id = k.obs_id
WHERE k.batch_id = %(batch_id)s AND k.under_care AND k.place_role = 'f0' AND k.required_tier > k.place_tier
  AND NOT EXISTS (SELECT 1 FROM care.transfer_request t
                  WHERE t.person_key = k.person_key AND t.status IN ('open', 'accepted'))
ORDER BY k.person_key, k.required_tier DESC, k.at, k.obs_id
RETURNING request_id, required_tier

-- name: batch_counts
SELECT count(*)::int AS classified, (count(*) FILTER (WHERE NOT under_care))::int AS not_under_care,
       (count(*) FILTER (WHERE severity IS NULL AND NOT warning))::int AS unclassified
FROM care.observation_class WHERE batch_id = %(batch_id)s

-- name: not_under_care
SELECT obs_id, at FROM care.observation_class WHERE batch_id = %(batch_id)s AND NOT under_care ORDER BY at, obs_id

-- name: free_rooms
-- Free staffed beds per facility of a tier, of a room kind (f0 rooms and mixed rooms take F0) and sex (a room of
-- `any` sex or no sex takes anyone): the rooms' staffed beds less the people in them now (care.current_stay, the
-- replay's present kept by the admissions' triggers, migration 0020: no replay per call) less the beds promised to
-- accepted requests not yet placed; a facility with no point has no distance and is offered last. Every part reads
-- only the tier's treatment facilities (or the one %(facility)s).
WITH candidates AS MATERIALIZED (
    SELECT f.facility_id, f.name, f.tier, f.geom
    FROM events.facilities f
    WHERE f.kind = 'treatment' AND f.tier = %(tier)s
      AND (%(facility)s::text IS NULL OR f.facility_id = %(facility)s::text)
), open_now AS (
    SELECT st.facility_id, st.room_id, count(*)::int AS occupied
    FROM care.current_stay st
    WHERE st.facility_id IN (SELECT c.facility_id FROM candidates c)
    GROUP BY st.facility_id, st.room_id
), promised AS (
    SELECT t.to_facility AS facility_id, count(*)::int AS promised
    FROM care.transfer_request t
    WHERE t.status = 'accepted' AND t.to_facility IN (SELECT c.facility_id FROM candidates c)
    GROUP BY t.to_facility
), free AS (
    SELECT r.facility_id, (sum(greatest(coalesce(r.staffed_beds, 0) - coalesce(o.occupied, 0), 0)))::int AS free
    FROM events.rooms r
    LEFT JOIN open_now o ON o.facility_id = r.facility_id AND o.room_id = r.room_id
    WHERE r.facility_id IN (SELECT c.facility_id FROM candidates c)
      AND r.kind IN (%(kind)s, 'mixed')
      AND (%(sex)s::text IS NULL OR r.sex IS NULL OR r.sex IN ('any', %(sex)s::text))
    GROUP BY r.facility_id
)
SELECT c.facility_id, c.name, c.tier, fr.free - coalesce(p.promised, 0) AS free_staffed_beds,
       round((ST_DistanceSphere(c.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)) / 1000.0
              * %(detour)s)::numeric, 2)::float8 AS distance_km
FROM free fr
JOIN candidates c ON c.facility_id = fr.facility_id
LEFT JOIN promised p ON p.facility_id = fr.facility_id
WHERE fr.free - coalesce(p.promised, 0) > 0
ORDER BY distance_km NULLS LAST, c.facility_id

-- name: request
-- A request with the point of the facility it leaves (where offers are measured from); `accept` adds FOR UPDATE OF t.
SELECT t.*, ST_X(f.geom) AS lon, ST_Y(f.geom) AS lat
FROM care.transfer_request t
LEFT JOIN events.facilities f ON f.facility_id = t.from_facility
WHERE t.request_id = %(request_id)s

-- name: lock_facility
-- Serialises acceptances to one facility: two coordinators taking its last bed wait on this transaction advisory
-- lock (key: 'care.accept' and the facility), and the second counts the first's promise. An advisory lock, not a
-- row lock, so the restricted role the processes run as needs no write right on events.facilities.
SELECT pg_advisory_xact_lock(hashtext('care.accept'), hashtext(%(facility)s))

-- name: facility
SELECT facility_id, kind, tier FROM events.facilities WHERE facility_id = %(facility)s

-- name: open_request
-- A coordinator's request for a person under care now (care.current_stay), from their place (a quarantine facility
-- counts as tier 0); nothing when the person has a live request (the partial unique index) or no open stay.
INSERT INTO care.transfer_request (person_key, from_facility, from_tier, required_tier, reason, requested_at,
                                   opened_at, requested_by)
SELECT c.person_key, c.facility_id, coalesce(f.tier, 0), %(tier)s, %(reason)s, now(), now(), %(by)s
FROM care.current_stay c
LEFT JOIN events.facilities f ON f.facility_id = c.facility_id
WHERE c.person_key = %(person_key)s
ON CONFLICT (person_key) WHERE status IN ('open', 'accepted') DO NOTHING
RETURNING request_id, from_facility, from_tier, required_tier, requested_at

-- name: place_now
SELECT c.facility_id, coalesce(f.tier, 0) AS tier
FROM care.current_stay c LEFT JOIN events.facilities f ON f.facility_id = c.facility_id
WHERE c.person_key = %(person_key)s

-- name: live_request
SELECT request_id, status, to_facility FROM care.transfer_request
WHERE person_key = %(person_key)s AND status IN ('open', 'accepted')

-- name: accept
UPDATE care.transfer_request SET status = 'accepted', to_facility = %(facility)s, accepted_at = now(),
       accepted_by = %(by)s
WHERE request_id = %(request_id)s AND status = 'open'

-- name: place
-- Accepted requests closed by the receiving facility's admit (or move) of that person after the acceptance.
UPDATE care.transfer_request t SET status = 'placed', placed_at = a.at, placed_event_id = a.event_id
FROM (SELECT DISTINCT ON (t2.request_id) t2.request_id, a2.at, a2.event_id
      FROM care.transfer_request t2
      JOIN events.admissions a2 ON a2.person_key = t2.person_key AND a2.facility_id = t2.to_facility
                                AND a2.event IN ('admit', 'move') AND a2.at >= t2.requested_at
      WHERE t2.status = 'accepted'
      ORDER BY t2.request_id, a2.at, a2.event_id) a
WHERE t.request_id = a.request_id

-- name: requests
SELECT t.request_id, t.status, t.from_facility, t.from_tier, t.required_tier, t.severity, t.reason,
       t.requested_at, t.to_facility, t.accepted_at, t.placed_at,
       round((extract(epoch FROM t.placed_at - t.requested_at) / 60.0)::numeric, 1)::float8 AS minutes_to_placement
FROM care.transfer_request t
WHERE NOT %(open)s OR t.status IN ('open', 'accepted')
ORDER BY t.requested_at, t.request_id

-- name: kpis
SELECT t.required_tier, count(*)::int AS requests, (count(*) FILTER (WHERE t.status = 'placed'))::int AS placed,
       round((count(*) FILTER (WHERE t.status = 'placed'))::numeric / count(*), 3)::float8 AS share_placed,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.placed_at - t.requested_at) / 60.0)
              FILTER (WHERE t.status = 'placed'))::numeric, 1)::float8 AS median_minutes_to_placement
FROM care.transfer_request t
GROUP BY t.required_tier
ORDER BY t.required_tier
