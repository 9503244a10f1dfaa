-- Restricted layer `exposure-contacts` (roles tracer, analyst, committee): one feature per contact check-in per F0
-- (trace.exposure) with the contact's derived status (trace.contact: new | notified | quarantined | became_f0 |
-- cleared) and every case that exposed the person. Pseudonymised person keys only (the raw register stays with the
-- office that holds it: `covidgis pseudonymise`). The point is the venue's: where the exposure happened, not where the
-- person lives.
CREATE OR REPLACE VIEW restricted.exposure_contacts AS
SELECT left(md5(concat_ws('|', e.ruleset_id, e.case_id, e.checkin_id, extract(epoch FROM e.checked_in_at))), 20) AS id,
       e.ruleset_id,
       e.person_key,
       e.case_id,
       k.cases,
       k.exposures,
       e.checkin_id,
       e.checked_in_at,
       e.exposed_on,
       e.case_checkin_id,
       e.venue_id,
       v.name AS venue_name,
       v.kind AS venue_kind,
       e.overlap_minutes,
       e.risk,
       k.risk AS contact_risk,
       k.status,
       k.first_exposed_at,
       k.last_exposed_at,
       v.area_code,
       v.commune_code,
       v.geom
FROM trace.exposure e
LEFT JOIN events.venues v ON v.venue_id = e.venue_id
LEFT JOIN LATERAL (
    SELECT t.cases, t.exposures, t.risk, t.status, t.first_exposed_at, t.last_exposed_at
    FROM trace.contact t
    WHERE t.ruleset_id = e.ruleset_id AND t.person_key = e.person_key
) k ON true;
