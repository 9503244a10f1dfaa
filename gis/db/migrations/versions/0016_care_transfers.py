"""care: observations, their classification, transfer requests and their placement (issue 13, slice 2)

`events.observations` is the observations feed (vitals of people under care, the person pseudonymised; no area of
its own: a person's place is their stay). `care.observation_class` keeps each classified observation's severity
class, warning sign and required tier beside the place the person was in (care.stay) at that instant;
`under_care = false` is the finding "an observation for a person not under care", kept, not lost.
`care.transfer_request` is a request opened by a batch whose observation needs a higher tier than the person's
current place (request → accepted → placed when the receiving facility's admit lands; refused or cancelled);
at most one live (open or accepted) request per person, by a partial unique index, so a second deteriorating
observation of the same person does not open a second request.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "observations",
        sa.Column("obs_id", sa.Text, nullable=False),
        sa.Column("person_key", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("spo2", sa.Integer),
        sa.Column("resp_rate", sa.Integer),
        sa.Column("pulse", sa.Integer),
        sa.Column("temp_c", sa.Double),
        sa.Column("systolic_bp", sa.Integer),
        sa.Column("conscious", sa.Boolean),
        sa.Column("symptoms", sa.Text),
        sa.Column("area_code", sa.Text),
        sa.Column("commune_code", sa.Text),
        sa.Column("located_by", sa.Text),
        sa.Column("snap_m", sa.Double),
        sa.Column("batch_id", sa.BigInteger, nullable=False),
        sa.Column("row_hash", sa.Text, nullable=False),
        sa.Column("ingested_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("obs_id"),
        schema="events",
    )
    op.create_index("observations_person_at_idx", "observations", ["person_key", "at"], schema="events")
    op.execute(
        "CREATE INDEX observations_batch_idx ON events.observations USING brin (batch_id) WITH (autosummarize = on)"
    )
    op.create_table(
        "observation_class",
        sa.Column("obs_id", sa.Text, primary_key=True),
        sa.Column("batch_id", sa.BigInteger, nullable=False),
        sa.Column("person_key", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("ruleset_id", sa.Text, nullable=False),
        sa.Column("severity", sa.Text),
        sa.Column("warning", sa.Boolean, nullable=False),
        sa.Column("required_tier", sa.SmallInteger),
        sa.Column("under_care", sa.Boolean, nullable=False),
        sa.Column("facility_id", sa.Text),
        sa.Column("place_role", sa.Text),
        sa.Column("place_tier", sa.SmallInteger),
        sa.Column("classified_at", TS, server_default=sa.func.now(), nullable=False),
        schema="care",
    )
    op.create_index("observation_class_batch_idx", "observation_class", ["batch_id"], schema="care")
    op.create_table(
        "transfer_request",
        sa.Column("request_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("person_key", sa.Text, nullable=False),
        sa.Column("obs_id", sa.Text, nullable=False),
        sa.Column("batch_id", sa.BigInteger, nullable=False),
        sa.Column("from_facility", sa.Text, nullable=False),
        sa.Column("from_tier", sa.SmallInteger),
        sa.Column("required_tier", sa.SmallInteger, nullable=False),
        sa.Column("severity", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_at", TS, nullable=False),  # the observation's instant
        sa.Column("opened_at", TS, nullable=False),  # when its batch opened it
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("to_facility", sa.Text),
        sa.Column("accepted_at", TS),
        sa.Column("accepted_by", sa.Text),
        sa.Column("placed_at", TS),
        sa.Column("placed_event_id", sa.Text),
        sa.CheckConstraint("status IN ('open', 'accepted', 'placed', 'cancelled')", name="transfer_request_status"),
        sa.CheckConstraint("required_tier BETWEEN 1 AND 3", name="transfer_request_tier"),
        schema="care",
    )
    op.execute(
        "CREATE UNIQUE INDEX transfer_request_live_idx ON care.transfer_request (person_key)"
        " WHERE status IN ('open', 'accepted')"
    )
    op.create_index("transfer_request_to_idx", "transfer_request", ["to_facility", "status"], schema="care")


def downgrade() -> None:
    op.drop_table("transfer_request", schema="care")
    op.drop_table("observation_class", schema="care")
    op.drop_table("observations", schema="events")
