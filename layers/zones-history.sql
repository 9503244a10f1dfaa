-- Public layer `zones-history`: the zone of every area on every computed day, for the published rule set
-- (risk.published). `datetime=D` answers "what colour was this hamlet on date D, and why".
-- Small counts (layers/README.md, "Small counts"): where the area's counts of people that day (stats.indicator, and
-- any counts kept in the zone's inputs) hold one above 0 and below risk.published.suppress_below, every number in
-- `decisive` and `reasons` is masked; elsewhere each number computed from counts of people is published from the
-- counts rounded down to their band (from the threshold on, bands of the threshold's width for a hamlet, of twice it
-- above: layers/_published_numbers.sql), so that no combination of published numbers (parents and children, days)
-- gives a suppressed count back. The level, colour and which indicators decided stay visible. The raw inputs are never
-- public.
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
       pub.has_small_count(c.counts, p.suppress_below) AS details_suppressed,
       pub.published_numbers(z.decisive, c.counts, p.suppress_below) -> 'decisive' AS decisive,
       pub.published_reasons(z.reasons, pub.published_numbers(z.decisive, c.counts, p.suppress_below) -> 'shown')
           AS reasons,
       a.geom
FROM risk.zone z
JOIN risk.published p ON p.ruleset_id = z.ruleset_id
JOIN admin.area a ON a.code = z.area_code AND a.valid_from <= z.day AND (a.valid_to IS NULL OR a.valid_to > z.day)
LEFT JOIN stats.indicator ind ON ind.day = z.day AND ind.area_code = z.area_code
CROSS JOIN LATERAL (SELECT z.inputs || coalesce(to_jsonb(ind), '{}'::jsonb) AS counts) c;
