"""hotline: the 1022 hotline's Open311 requests (issue 14 item 9)"""

from alembic import op  # noqa: F401

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
