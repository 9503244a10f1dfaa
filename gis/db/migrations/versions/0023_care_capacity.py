"""care: criterion 3 computed per province and district (issue 13) — placeholder, filled by the stage that needs it"""

from alembic import op  # noqa: F401

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
