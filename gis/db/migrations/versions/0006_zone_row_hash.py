"""risk.zone.row_hash: a digest of what a zone row says, so a recompute sends only the rows that changed

Recomputing a computed day (115,000 areas at country scale) used to COPY every zone into a staging table to find
the few that changed; with the digest the computation reads (area, digest) pairs and sends only rows whose digest
differs. Rows written before this migration have none and count as changed once.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("zone", sa.Column("row_hash", sa.Text), schema="risk")


def downgrade() -> None:
    op.drop_column("zone", "row_hash", schema="risk")
