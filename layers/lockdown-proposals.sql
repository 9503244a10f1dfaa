-- Restricted layer `lockdown-proposals` (roles committee, analyst, tracer): the narrow lockdowns the trace proposes
-- (trace.proposal, gis/trace/proposals.py), one feature per (rule set, day, hamlet), withdrawn ones included, drawn on
-- the committee's map with the hamlet's boundary of that day. Nothing here is applied: the committee adopts a proposal
-- with `covidgis zones override --proposal ID`, whose reason names the proposal.
--   contacts       distinct contacts exposed at the hamlet's exposure venues that day
--   f0_residents   F0 living in the hamlet infectious that day
--   venues         the exposure venues that reached lockdown_min_contacts; reasons: vi/en texts citing the parameters
--   status         proposed | adopted (an override of the area cites the proposal id) | withdrawn (no longer
--                  supported by the trace; an adoption stays the committee's decision)
CREATE OR REPLACE VIEW restricted.lockdown_proposals AS
SELECT p.proposal_id AS id,
       p.ruleset_id,
       p.day,
       p.area_code,
       a.name AS area_name,
       p.admin_level,
       c.code AS commune_code,
       c.name AS commune_name,
       p.population,
       p.contacts,
       p.f0_residents,
       p.venues,
       p.cases,
       p.reasons,
       array_to_string(ARRAY(SELECT r ->> 'vi' FROM jsonb_array_elements(p.reasons) r), E'\n') AS reasons_vi,
       array_to_string(ARRAY(SELECT r ->> 'en' FROM jsonb_array_elements(p.reasons) r), E'\n') AS reasons_en,
       CASE WHEN p.withdrawn_at IS NOT NULL THEN 'withdrawn'
            WHEN o.id IS NOT NULL THEN 'adopted' ELSE 'proposed' END AS status,
       o.id AS override_id,
       p.created_at,
       p.updated_at,
       p.withdrawn_at,
       a.geom
FROM trace.proposal p
LEFT JOIN admin.area a ON a.code = p.area_code AND a.valid_from <= p.day AND (a.valid_to IS NULL OR a.valid_to > p.day)
LEFT JOIN admin.area c ON c.code = a.parent_code AND c.valid_from <= p.day AND (c.valid_to IS NULL OR c.valid_to > p.day)
LEFT JOIN LATERAL (
    SELECT max(r.id) AS id FROM risk.override r
    WHERE r.area_code = p.area_code AND strpos(r.reason, p.proposal_id) > 0
) o ON true;
