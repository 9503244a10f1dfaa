-- Not a collection: the current zone rows — the latest computed day of the published rule set, each with the area
-- version valid on that day — read by both public views of them: pub.zones (layers/zones.sql, with the masking) and
-- pub.zone_tiles (layers/zone-tiles.sql, the tiles' properties), so the two can never disagree on which rows are
-- current. The row versions (xmin) of the zone and of risk.published are for pub.zones' stored masked numbers.
CREATE OR REPLACE VIEW risk.zone_rows AS
SELECT z.area_code,
       z.day,
       z.admin_level,
       z.level,
       z.colour,
       z.label_vi,
       z.label_en,
       z.ruleset_id,
       z.ruleset_version,
       z.override_id,
       z.decisive,
       z.reasons,
       z.inputs,
       z.xmin AS zone_xmin,
       p.suppress_below,
       p.xmin AS published_xmin,
       a.name,
       a.parent_code,
       a.geom,
       a.geom_webmercator
FROM risk.zone z
JOIN risk.published p ON p.ruleset_id = z.ruleset_id
JOIN admin.area a ON a.code = z.area_code AND a.valid_from <= z.day AND (a.valid_to IS NULL OR a.valid_to > z.day)
WHERE z.day = (SELECT max(z.day) FROM risk.zone z WHERE z.ruleset_id = (SELECT ruleset_id FROM risk.published));
