"""welfare: households (feed), their members, and the append-only delivery ledger with its dedup claims

Issue 14, first slice. The `households` feed writes `events.households` through the ingest machinery, one row per
member of a household (key: household, person key), so a household that moves to another hamlet is a correction of
its rows (audited in `ingest.audit`), never a second household. Schema `welfare` holds what the stage reads and
writes:

- `welfare.household` and `welfare.member`: views over the feed's rows (members who left are not members; a
  household's hamlet, size, address and flags are its head's row, else its latest row).
- `welfare.delivery`: the ledger. Append-only: a trigger refuses every UPDATE, DELETE and TRUNCATE; a correction is a
  reversing entry (`kind = 'reversal'`, `reverses` the delivery it cancels, at most once).
- `welfare.delivery_claim`: one row per dedup key a delivery holds (programme, period, person or household key).
  Its primary key is what refuses a second delivery inside a scope at the moment it is recorded, whichever
  officer, commune or process records it: the claim is inserted in the delivery's transaction, so of two
  transactions claiming the same key one waits for the other and, when the first commits, finds the key taken.
  A reversal deletes its delivery's claims (the ledger keeps both entries), freeing the scope.

Restricted: the restricted role may read the schema (addresses and person keys are personal data); the public role
gets nothing here.

Revision ID: 0014
Revises: 0013
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
FLAGS = ("poor", "near_poor", "elderly_alone", "disabled", "lost_income", "migrant_worker", "covid_household")

HOUSEHOLD_VIEW = f"""
CREATE VIEW welfare.household AS
-- One row per household: its head's row (else its latest row) gives hamlet, commune, size, address and flags.
SELECT DISTINCT ON (h.household_id)
    h.household_id, h.area_code, h.commune_code, h.size, h.address,
    {", ".join(f"h.{f}" for f in FLAGS)},
    (SELECT x.person_key FROM events.households x
     WHERE x.household_id = h.household_id AND x.role = 'head' ORDER BY x.batch_id DESC LIMIT 1) AS head_person_key,
    (SELECT count(*)::int FROM events.households x
     WHERE x.household_id = h.household_id AND x.role IS DISTINCT FROM 'left') AS members
FROM events.households h
WHERE h.role IS DISTINCT FROM 'left'
ORDER BY h.household_id, (h.role = 'head') DESC, h.batch_id DESC, h.person_key
"""

MEMBER_VIEW = """
CREATE VIEW welfare.member AS
-- A person key in a household (a person listed in two households is a member of both: the ledger's person scope
-- is what refuses them a second delivery).
SELECT h.person_key, h.household_id, coalesce(h.role, 'member') AS role
FROM events.households h
WHERE h.role IS DISTINCT FROM 'left'
"""

APPEND_ONLY = """
CREATE FUNCTION welfare.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'welfare.delivery is append-only: record a reversing entry instead of %', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$
"""


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS welfare")
    op.create_table(
        "households",
        sa.Column("household_id", sa.Text, nullable=False),
        sa.Column("person_key", sa.Text, nullable=False),
        sa.Column("role", sa.Text),
        sa.Column("size", sa.Integer),
        sa.Column("address", sa.Text),
        *[sa.Column(flag, sa.Boolean) for flag in FLAGS],
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326, spatial_index=False, name="geometry"),
        ),
        sa.Column("area_code", sa.Text),
        sa.Column("commune_code", sa.Text),
        sa.Column("located_by", sa.Text),
        sa.Column("snap_m", sa.Double),
        sa.Column("batch_id", sa.BigInteger, nullable=False),
        sa.Column("row_hash", sa.Text, nullable=False),
        sa.Column("ingested_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("household_id", "person_key"),
        sa.CheckConstraint("role IN ('head', 'member', 'left')", name="households_role_ck"),
        schema="events",
    )
    op.create_index("households_person_idx", "households", ["person_key"], schema="events", postgresql_using="hash")
    op.create_index("households_area_idx", "households", ["commune_code", "area_code"], schema="events")
    op.execute(HOUSEHOLD_VIEW)
    op.execute(MEMBER_VIEW)
    op.create_table(
        "delivery",
        sa.Column("entry_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("distribution_id", sa.Text, nullable=False, unique=True),
        sa.Column("kind", sa.Text, nullable=False, server_default="delivery"),
        sa.Column("reverses", sa.Text, sa.ForeignKey("welfare.delivery.distribution_id"), unique=True),
        sa.Column("programme", sa.Text, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),  # the dedup period: the programme's, or the day
        sa.Column("household_id", sa.Text, nullable=False),
        sa.Column("area_code", sa.Text),  # the household's hamlet and commune when it was recorded
        sa.Column("commune_code", sa.Text),
        sa.Column("amount_vnd", sa.BigInteger),
        sa.Column("kit", sa.Text),
        sa.Column("at", TS, nullable=False),
        sa.Column("day", sa.Date, nullable=False),  # local day of `at`
        sa.Column("officer", sa.Text, nullable=False),
        sa.Column("warehouse_id", sa.Text),
        sa.Column("receipt_code", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("lon", sa.Double),
        sa.Column("lat", sa.Double),
        sa.Column("recorded_at", TS, server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("kind IN ('delivery', 'reversal')", name="delivery_kind_ck"),
        sa.CheckConstraint("(kind = 'reversal') = (reverses IS NOT NULL)", name="delivery_reverses_ck"),
        sa.CheckConstraint("(amount_vnd IS NULL) <> (kit IS NULL)", name="delivery_amount_or_kit_ck"),
        sa.CheckConstraint("amount_vnd IS NULL OR amount_vnd > 0", name="delivery_amount_ck"),
        sa.CheckConstraint("(lon IS NULL) = (lat IS NULL)", name="delivery_point_ck"),
        schema="welfare",
    )
    op.create_index("delivery_household_idx", "delivery", ["household_id", "programme"], schema="welfare")
    op.create_index("delivery_commune_day_idx", "delivery", ["commune_code", "day"], schema="welfare")
    op.create_table(
        "delivery_claim",
        sa.Column("programme", sa.Text, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("subject_key", sa.Text, nullable=False),
        sa.Column("distribution_id", sa.Text, sa.ForeignKey("welfare.delivery.distribution_id"), nullable=False),
        sa.PrimaryKeyConstraint("programme", "period_start", "subject", "subject_key"),
        sa.CheckConstraint("subject IN ('person', 'household')", name="delivery_claim_subject_ck"),
        schema="welfare",
    )
    op.create_index("delivery_claim_distribution_idx", "delivery_claim", ["distribution_id"], schema="welfare")
    op.execute(APPEND_ONLY)
    op.execute(
        "CREATE TRIGGER delivery_append_only BEFORE UPDATE OR DELETE ON welfare.delivery "
        "FOR EACH ROW EXECUTE FUNCTION welfare.refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER delivery_no_truncate BEFORE TRUNCATE ON welfare.delivery "
        "FOR EACH STATEMENT EXECUTE FUNCTION welfare.refuse_change()"
    )
    op.execute("GRANT USAGE ON SCHEMA welfare TO covidgis_restricted")
    op.execute("GRANT SELECT ON ALL TABLES IN SCHEMA welfare TO covidgis_restricted")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA welfare GRANT SELECT ON TABLES TO covidgis_restricted")


def downgrade() -> None:
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA welfare REVOKE SELECT ON TABLES FROM covidgis_restricted")
    op.execute("REVOKE ALL ON ALL TABLES IN SCHEMA welfare FROM covidgis_restricted")
    op.execute("REVOKE USAGE ON SCHEMA welfare FROM covidgis_restricted")
    op.execute("DROP SCHEMA IF EXISTS welfare CASCADE")
    op.execute("DROP TABLE IF EXISTS events.households")
