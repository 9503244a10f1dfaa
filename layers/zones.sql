-- Public layer `zones`: the current zone of every area — the latest computed day of the published rule set.
-- Same columns and suppression as `zones-history` (layers/zones-history.sql), one feature per area, id = area code.
CREATE OR REPLACE VIEW pub.zones AS
SELECT h.code, h.day, h.admin_level, h.name, h.parent_code, h.level, h.colour, h.label_vi, h.label_en,
       h.ruleset_id, h.ruleset_version, h.overridden, h.details_suppressed, h.decisive, h.reasons, h.geom
FROM pub.zones_history h
WHERE h.day = (SELECT max(z.day) FROM risk.zone z WHERE z.ruleset_id = (SELECT ruleset_id FROM risk.published));
