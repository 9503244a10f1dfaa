"""zones: one view of the current zone rows, read by pub.zones and pub.zone_tiles (issue 15)"""

from alembic import op  # noqa: F401

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
