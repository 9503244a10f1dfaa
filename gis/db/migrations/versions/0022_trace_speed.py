"""trace: exposures derived on read from the F0 visits and the check-ins, not stored one row per contact (issue 12)

A trace of 1,000 F0 at a large province's peak wrote about 605,000 exposure rows (one per F0 visit × contact
check-in) and their three indexes: 13 of its 14.6 s (benchmarks/trace.py). An exposure depends only on the F0's visit
and the contact's check-in, both already stored, so this revision stores each visit's contact range instead:

- trace.visit gains contact_from / contact_to (the instants, inclusive, a contact's check-in at the venue can have:
  ±covisit_minutes around the F0's check-in under checkin_within; the venue kind's dwell before it to the visit's end
  under overlap), dwell (the venue kind's, which the overlap rule caps the contact's stay with), the F0's person_key,
  and the rule-set values an exposure row is made of: covisit, exposure_risk (checkin_within's risk), close_minutes
  (overlap's close threshold), tz (the local day of exposed_on); computed_at (when the visit was stored);
- trace.exposure_pair (view): every (F0 visit, contact check-in) pair that is an exposure, read through
  checkins_venue_time_idx per visit, which now carries person_key (INCLUDE) so the contacts come from the index
  alone: what the trace's contact count reads;
- trace.exposure (view, same columns as the table it replaces): one row per contact check-in per F0, the pair of its
  nearest F0 check-in (checkin_within) or its longest overlap (overlap), ties to the lower F0 check-in id, as the
  engine's DISTINCT ON chose; then the rows of trace.exposure_kept;
- trace.exposure_kept: the stored rows, the old table renamed: exposures traced before this revision (their visits
  have no contact range, so they derive nothing; a re-trace of the case replaces them) and those whose contact
  check-in retention is about to drop (gis/trace/retention.py stores them first: what tracing derived stays).

The views that read trace.exposure (trace.contact, and the layers exposure-contacts, exposure-venues,
trace-indicators, which gis/db/migrate.py re-creates from layers/*.sql after the migrations) are dropped and made
again over the view.

Revision ID: 0022
Revises: 0021
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

LAYER_VIEWS = ("restricted.exposure_contacts", "restricted.exposure_venues", "restricted.trace_indicators")

# The pairs: a contact check-in at the visit's venue inside its contact range, of anyone but the F0; under overlap
# only with more than zero minutes of overlap (the contact's stay ends at their next check-in elsewhere, capped by
# the dwell). One branch per co-visit rule, so a checkin_within visit never runs the overlap rule's next check-in
# probe. A visit without a contact range (traced before 0022) gives none.
PAIR_COLUMNS = """v.ruleset_id, v.case_id, v.checkin_id AS case_checkin_id, v.checked_in_at AS case_checked_in_at,
       v.venue_id, v.visit_end, v.dwell, v.covisit, v.exposure_risk, v.close_minutes, v.tz, v.computed_at,
       k.checkin_id, k.checked_in_at, k.person_key"""
EXPOSURE_PAIR_VIEW = f"""
CREATE VIEW trace.exposure_pair AS
SELECT {PAIR_COLUMNS}, NULL::timestamptz AS next_at, NULL::double precision AS minutes
FROM trace.visit v
JOIN events.checkins k
  ON k.venue_id = v.venue_id AND k.checked_in_at >= v.contact_from AND k.checked_in_at <= v.contact_to
 AND k.person_key <> v.person_key
WHERE v.covisit = 'checkin_within'
UNION ALL
SELECT {PAIR_COLUMNS}, nx.next_at, o.minutes
FROM trace.visit v
JOIN events.checkins k
  ON k.venue_id = v.venue_id AND k.checked_in_at >= v.contact_from AND k.checked_in_at <= v.contact_to
 AND k.person_key <> v.person_key
CROSS JOIN LATERAL (
    SELECT min(n.checked_in_at) AS next_at FROM events.checkins n
    WHERE n.person_key = k.person_key AND n.checked_in_at > k.checked_in_at
      AND n.checked_in_at < k.checked_in_at + v.dwell AND n.venue_id <> k.venue_id
) nx
CROSS JOIN LATERAL (
    SELECT extract(epoch FROM least(v.visit_end, k.checked_in_at + v.dwell, coalesce(nx.next_at, 'infinity'))
                              - greatest(v.checked_in_at, k.checked_in_at))::double precision / 60 AS minutes
) o
WHERE v.covisit = 'overlap' AND o.minutes > 0
"""

# One row per (F0, contact check-in): the pair no other visit of the same F0 at the venue beats (checkin_within: the
# nearer F0 check-in; overlap: the longer overlap; then the lower F0 check-in id and instant), as the engine's
# DISTINCT ON chose before; then the stored rows.
EXPOSURE_VIEW = """
CREATE VIEW trace.exposure AS
SELECT p.ruleset_id, p.case_id, p.checkin_id, p.checked_in_at, p.venue_id, p.person_key, p.case_checkin_id,
       p.minutes AS overlap_minutes,
       CASE WHEN p.covisit = 'checkin_within' THEN p.exposure_risk
            WHEN p.minutes >= p.close_minutes THEN 'close' ELSE 'casual' END AS risk,
       (p.checked_in_at AT TIME ZONE p.tz)::date AS exposed_on,
       p.computed_at
FROM trace.exposure_pair p
WHERE NOT EXISTS (
    SELECT 1 FROM trace.visit b
    WHERE b.ruleset_id = p.ruleset_id AND b.case_id = p.case_id AND b.venue_id = p.venue_id
      AND p.checked_in_at >= b.contact_from AND p.checked_in_at <= b.contact_to
      AND (b.checkin_id, b.checked_in_at) <> (p.case_checkin_id, p.case_checked_in_at)
      AND (CASE WHEN p.covisit = 'overlap'
                THEN -extract(epoch FROM least(b.visit_end, p.checked_in_at + b.dwell, coalesce(p.next_at, 'infinity'))
                                         - greatest(b.checked_in_at, p.checked_in_at))::double precision / 60
                ELSE abs(extract(epoch FROM p.checked_in_at - b.checked_in_at))::double precision END,
           b.checkin_id, b.checked_in_at)
          < (CASE WHEN p.covisit = 'overlap' THEN -p.minutes
                  ELSE abs(extract(epoch FROM p.checked_in_at - p.case_checked_in_at))::double precision END,
             p.case_checkin_id, p.case_checked_in_at))
UNION ALL
SELECT x.ruleset_id, x.case_id, x.checkin_id, x.checked_in_at, x.venue_id, x.person_key, x.case_checkin_id,
       x.overlap_minutes, x.risk, x.exposed_on, x.computed_at
FROM trace.exposure_kept x
"""

CONTACT_VIEW = """
CREATE VIEW trace.contact AS
-- One contact per (rule set, person key) with all its exposures; status derived from the events, never typed in:
--   became_f0    a case of the same key (not withdrawn, not one of the exposing cases) detected on or after the
--                first exposure day and at most 14 days after the last;
--   quarantined  a quarantine stay of the key starting on or after the first exposure day (and at most 14 days
--                after the last: a stay months later is not this exposure's);
--   cleared      14 days passed since the last exposure with neither;
--   notified     `covidgis trace mark` recorded a notification;
--   new          none of these.
WITH e AS (
    SELECT x.ruleset_id, x.person_key, array_agg(DISTINCT x.case_id ORDER BY x.case_id) AS cases,
           count(*)::int AS exposures,
           min(x.checked_in_at) AS first_exposed_at, max(x.checked_in_at) AS last_exposed_at,
           min(x.exposed_on) AS first_exposed_on, max(x.exposed_on) AS last_exposed_on,
           CASE WHEN bool_or(x.risk = 'close') THEN 'close' ELSE 'casual' END AS risk
    FROM trace.exposure x
    GROUP BY x.ruleset_id, x.person_key
)
SELECT e.ruleset_id, e.person_key, e.cases, e.exposures, e.first_exposed_at, e.last_exposed_at, e.risk,
    CASE
        WHEN EXISTS (SELECT 1 FROM events.cases c
                     WHERE c.person_key = e.person_key AND c.case_id <> ALL (e.cases)
                       AND c.status IS DISTINCT FROM 'withdrawn'
                       AND c.detected_on >= e.first_exposed_on AND c.detected_on <= e.last_exposed_on + 14)
            THEN 'became_f0'
        WHEN EXISTS (SELECT 1 FROM events.quarantine_stays q
                     WHERE q.person_key = e.person_key
                       AND q.start_on >= e.first_exposed_on AND q.start_on <= e.last_exposed_on + 14)
            THEN 'quarantined'
        WHEN now() >= e.last_exposed_at + interval '14 days' THEN 'cleared'
        WHEN EXISTS (SELECT 1 FROM trace.notification n
                     WHERE n.ruleset_id = e.ruleset_id AND n.person_key = e.person_key)
            THEN 'notified'
        ELSE 'new'
    END AS status
FROM e
"""


def _drop_readers() -> None:
    for view in LAYER_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    op.execute("DROP VIEW IF EXISTS trace.contact")


def upgrade() -> None:
    _drop_readers()
    op.execute("ALTER TABLE trace.exposure RENAME TO exposure_kept")
    op.execute("ALTER INDEX trace.exposure_pkey RENAME TO exposure_kept_pkey")
    op.execute("ALTER INDEX trace.exposure_person_idx RENAME TO exposure_kept_person_idx")
    op.execute("ALTER INDEX trace.exposure_venue_idx RENAME TO exposure_kept_venue_idx")
    # what an exposure row is made of, on the visit: its contact range, the F0's key (not a contact of itself), the
    # dwell (overlap), the rule set's values, the local time zone; computed_at when the visit was stored
    op.execute(
        "ALTER TABLE trace.visit ADD COLUMN contact_from timestamptz, ADD COLUMN contact_to timestamptz, "
        "ADD COLUMN dwell interval, ADD COLUMN person_key text, ADD COLUMN covisit text, "
        "ADD COLUMN exposure_risk text, ADD COLUMN close_minutes double precision, ADD COLUMN tz text, "
        "ADD COLUMN computed_at timestamptz NOT NULL DEFAULT now(), "
        "ADD CONSTRAINT visit_covisit_ck CHECK (covisit IN ('checkin_within', 'overlap')), "
        "ADD CONSTRAINT visit_exposure_risk_ck CHECK (exposure_risk IN ('close', 'casual'))"
    )
    # the other visits of the F0 at the venue (the view's nearest-visit rule), the exposures of one F0 visit
    # (exposure-venues, proposals)
    op.execute("CREATE INDEX visit_case_venue_idx ON trace.visit (ruleset_id, case_id, venue_id)")
    # the contacts of a visit, and the visitors of a location's window, read from the index alone (measured on the
    # benchmark's province: the contact join of 1,000 F0 0.09 s instead of 1.2 s of heap fetches)
    op.execute("DROP INDEX events.checkins_venue_time_idx")
    op.execute("CREATE INDEX checkins_venue_time_idx ON events.checkins (venue_id, checked_in_at) INCLUDE (person_key)")
    op.execute(EXPOSURE_PAIR_VIEW)
    op.execute(EXPOSURE_VIEW)
    op.execute(CONTACT_VIEW)
    op.execute("GRANT SELECT ON trace.exposure_pair, trace.exposure, trace.contact TO covidgis_restricted")


def downgrade() -> None:
    _drop_readers()
    op.execute("DROP VIEW trace.exposure")
    op.execute("DROP VIEW trace.exposure_pair")
    op.execute("DROP INDEX events.checkins_venue_time_idx")
    op.execute("CREATE INDEX checkins_venue_time_idx ON events.checkins (venue_id, checked_in_at)")
    op.execute("DROP INDEX trace.visit_case_venue_idx")
    op.execute(
        "ALTER TABLE trace.visit DROP COLUMN contact_from, DROP COLUMN contact_to, DROP COLUMN dwell, "
        "DROP COLUMN person_key, DROP COLUMN covisit, DROP COLUMN exposure_risk, DROP COLUMN close_minutes, "
        "DROP COLUMN tz, DROP COLUMN computed_at"
    )
    op.execute("ALTER INDEX trace.exposure_kept_pkey RENAME TO exposure_pkey")
    op.execute("ALTER INDEX trace.exposure_kept_person_idx RENAME TO exposure_person_idx")
    op.execute("ALTER INDEX trace.exposure_kept_venue_idx RENAME TO exposure_venue_idx")
    op.execute("ALTER TABLE trace.exposure_kept RENAME TO exposure")  # the derived rows are not stored back
    op.execute(CONTACT_VIEW)
