"""care: support teams, meal and waste contracts (schema events, filled by their feeds; issue 13 item 1)

The logistics registries of a facility, as `events.rooms` (migration 0013) is its room registry: `support_teams`
(a team, its role and headcount, the days it serves), `meal_contracts` (a supplier, meals a day and the price of a
meal) and `waste_contracts` (a handler and the kilograms a day it collects), each with the days it runs (`from_on`
.. `to_on`, `to_on` empty: open-ended). gis/care/logistics.py sets them against the forecast of the people a
facility holds (the replay of admissions).

Indexes: (facility_id, from_on) is what the forecast of one facility reads; BRIN on batch_id as for the other feeds.
The restricted role reads them (as it reads events.facilities and events.rooms, migration 0020); the public role
gets nothing: supplier and handler names are not public.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
TABLES = ("support_teams", "meal_contracts", "waste_contracts")


def _lineage() -> list[sa.Column]:
    """The columns every event table carries: its area (through its facility), lineage and row hash."""
    return [
        sa.Column("area_code", sa.Text),
        sa.Column("commune_code", sa.Text),
        sa.Column("located_by", sa.Text),
        sa.Column("snap_m", sa.Double),
        sa.Column("batch_id", sa.BigInteger, nullable=False),
        sa.Column("row_hash", sa.Text, nullable=False),
        sa.Column("ingested_at", TS, server_default=sa.func.now(), nullable=False),
    ]


def _period() -> list[sa.Column]:
    return [sa.Column("from_on", sa.Date, nullable=False), sa.Column("to_on", sa.Date)]


def upgrade() -> None:
    op.create_table(
        "support_teams",
        sa.Column("team_id", sa.Text, nullable=False),
        sa.Column("facility_id", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("headcount", sa.Integer, nullable=False),
        *_period(),
        *_lineage(),
        sa.PrimaryKeyConstraint("team_id"),
        schema="events",
    )
    op.create_table(
        "meal_contracts",
        sa.Column("contract_id", sa.Text, nullable=False),
        sa.Column("facility_id", sa.Text, nullable=False),
        sa.Column("supplier", sa.Text),
        sa.Column("meals_per_day", sa.Integer, nullable=False),
        sa.Column("price_vnd", sa.Integer),
        *_period(),
        *_lineage(),
        sa.PrimaryKeyConstraint("contract_id"),
        schema="events",
    )
    op.create_table(
        "waste_contracts",
        sa.Column("contract_id", sa.Text, nullable=False),
        sa.Column("facility_id", sa.Text, nullable=False),
        sa.Column("handler", sa.Text),
        sa.Column("kg_per_day", sa.Double, nullable=False),
        *_period(),
        *_lineage(),
        sa.PrimaryKeyConstraint("contract_id"),
        schema="events",
    )
    for table in TABLES:
        op.create_index(f"{table}_facility_from_idx", table, ["facility_id", "from_on"], schema="events")
        op.execute(f"CREATE INDEX {table}_batch_idx ON events.{table} USING brin (batch_id) WITH (autosummarize = on)")
    op.execute(
        "GRANT SELECT ON events.support_teams, events.meal_contracts, events.waste_contracts TO covidgis_restricted"
    )


def downgrade() -> None:
    op.execute(
        "REVOKE SELECT ON events.support_teams, events.meal_contracts, events.waste_contracts FROM covidgis_restricted"
    )
    for table in reversed(TABLES):
        op.drop_table(table, schema="events")
