"""welfare: officers' scope and what the delivery API and the coverage layer need (issue 14, slice 2)"""

from alembic import op  # noqa: F401

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
