"""Developer tool: autogenerate a new Alembic revision from the models (`python -m gis.db.revision "message"`)."""

import sys

from alembic import command

from gis.db.engine import start_database
from gis.db.migrate import alembic_config
from gis.settings import Settings

if __name__ == "__main__":
    engine = start_database(Settings())
    with engine.begin() as conn:
        command.revision(alembic_config(conn), message=sys.argv[1], autogenerate=True)
