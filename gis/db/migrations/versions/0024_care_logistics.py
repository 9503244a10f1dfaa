"""care: support teams, meal and waste contracts (issue 13) — placeholder, filled by the stage that needs it"""

from alembic import op  # noqa: F401

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
