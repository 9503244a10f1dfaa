"""care: F1 quarantine orders and their follow-up test days (issue 13 item 5)

`care.f1_order` holds one order per F1 person and start, derived (never typed in) by gis/care/quarantine.py from
the quarantine stays (events.quarantine_stays of reason f1_contact, or of a person traced as a close contact) and
the close contacts traced with no stay (trace.exposure): where it came from (`stay_id` and/or the F0's `case_id`),
the place (centralised when the stay names a facility, else home), the person's vaccination status at the start
(full | not_full | not_assessed, as gis/care/f1rules.py reads the rule row's note), the governing row of the F1 rule
file (`ruleset`, `rule_id`; NULL when no row is in force, e.g. a home order before 14 Jul 2021) and what it sets:
`end_on` (the last day of quarantine), `monitor_until`, `test_days` (the due dates). The status on `day`
(active | completed | became_f0 | lost), `overdue` (a due test day passed, plus the grace, without a test) and the
evidence of an F1 turned F0 (`became_f0_on`, `f0_evidence`: test:<sample_id> or case:<case_id>) are derived with it.
`transfer_request_id` records the one transfer request opened for an F1 turned F0 in a quarantine facility: a
refresh updates every other column of an order and keeps it, so the request is opened once only.

`care.f1_test_day` is the daily follow-up: one row per order and due test day, its status on the order's day
(tested, due, missed, upcoming) and the test that met it. A refresh re-derives both tables whole (same rows on
re-running; an order whose stay or contact is gone is deleted with its test days).

Both are read by the restricted role through the care schema's default privileges (migration 0013); the layer
f1-orders (layers/care-f1-orders.sql) shows no sample, case or stay id.

Revision ID: 0025
Revises: 0024
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE care.f1_order (
            order_id text PRIMARY KEY,          -- Q-<stay_id>, or T-<hash of person and start> for a contact only
            person_key text NOT NULL,
            stay_id text,                       -- the quarantine stay (events.quarantine_stays)
            case_id text,                       -- the F0 of the tracing contact, when one matches
            start_on date NOT NULL,             -- day 1
            place text NOT NULL CHECK (place IN ('centralised', 'home')),
            facility_id text,
            commune_code text,
            registered_end_on date,             -- the stay's end as the register has it (beside the rule's)
            vaccination text NOT NULL CHECK (vaccination IN ('full', 'not_full', 'not_assessed')),
            ruleset text NOT NULL,              -- rule file id (version)
            rule_id text,                       -- the governing row; NULL: no row in force
            end_on date,                        -- start_on + days - 1
            monitor_until date,                 -- end_on + monitor_days
            test_days date[] NOT NULL DEFAULT '{}',
            status text NOT NULL CHECK (status IN ('active', 'completed', 'became_f0', 'lost')),
            overdue boolean NOT NULL DEFAULT false,
            missed_days date[] NOT NULL DEFAULT '{}',
            became_f0_on date,
            f0_evidence text,
            transfer_request_id bigint,
            day date NOT NULL,                  -- the day the status is for
            derived_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX f1_order_person_idx ON care.f1_order (person_key, start_on)")
    op.execute("CREATE INDEX f1_order_status_idx ON care.f1_order (status)")
    op.execute(
        """
        CREATE TABLE care.f1_test_day (
            order_id text NOT NULL REFERENCES care.f1_order (order_id) ON DELETE CASCADE,
            due_on date NOT NULL,
            status text NOT NULL CHECK (status IN ('tested', 'due', 'missed', 'upcoming')),
            sample_id text,
            collected_on date,
            result text,
            PRIMARY KEY (order_id, due_on)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE care.f1_test_day")
    op.execute("DROP TABLE care.f1_order")
