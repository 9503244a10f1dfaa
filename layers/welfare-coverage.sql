-- Public layer `welfare-coverage`: per hamlet and support programme, how many households are eligible, to confirm,
-- reached and delivered to, the share reached and the cash delivered, as `covidgis welfare coverage` last counted
-- them (welfare.coverage, migration 0019). No names, person keys, addresses or household ids: counts only, and
-- those by the published-numbers rule of the public zone layers (layers/README.md, "Small counts";
-- layers/_published_numbers.sql): a row holding a count above 0 and below B (risk.published.suppress_below) shows
-- `details_suppressed` and every number as null; every other row shows each count rounded down to its hamlet band
-- (pub.band_low with width B: 0 stays 0, then multiples of B), the share as the ratio of the rounded counts and the
-- value as the mean per delivered household times the rounded count delivered (to 1,000 VND). Hamlet rows only:
-- no commune or province row that a sum of hamlets could be subtracted from. A security_barrier view, so no
-- caller's filter runs below the suppression.
CREATE OR REPLACE VIEW pub.welfare_coverage WITH (security_barrier) AS
SELECT c.area_code || ':' || c.programme AS id,
       c.area_code AS code,
       a.name,
       c.commune_code,
       c.programme,
       c.title_vi,
       c.title_en,
       c.day,
       s.small AS details_suppressed,
       CASE WHEN NOT s.small THEN pub.band_low(c.eligible, p.base, p.base)::int END AS eligible,
       CASE WHEN NOT s.small THEN pub.band_low(c.to_confirm, p.base, p.base)::int END AS to_confirm,
       CASE WHEN NOT s.small THEN pub.band_low(c.reached, p.base, p.base)::int END AS reached,
       CASE WHEN NOT s.small AND c.eligible >= p.base
            THEN round((pub.band_low(c.reached, p.base, p.base) / pub.band_low(c.eligible, p.base, p.base))::numeric,
                       3)::float8 END AS share,
       CASE WHEN NOT s.small THEN pub.band_low(c.delivered, p.base, p.base)::int END AS delivered,
       CASE WHEN NOT s.small THEN
            CASE WHEN c.delivered = 0 THEN 0
                 ELSE (round(c.value_vnd::numeric / c.delivered * pub.band_low(c.delivered, p.base, p.base)::numeric,
                             -3))::bigint END END AS value_vnd,
       c.computed_at AS updated_at,
       a.geom
FROM welfare.coverage c
JOIN admin.area a ON a.code = c.area_code AND a.valid_to IS NULL
CROSS JOIN (SELECT r.suppress_below AS base FROM risk.published r WHERE r.id) p
CROSS JOIN LATERAL (
    SELECT EXISTS (SELECT 1 FROM unnest(ARRAY[c.eligible, c.to_confirm, c.reached, c.delivered]) n
                   WHERE n > 0 AND n < p.base) AS small
) s;
