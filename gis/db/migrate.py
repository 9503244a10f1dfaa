"""Bring a database to the current schema: Alembic migrations, then the layer views in layers/*.sql."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from gis.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
LAYERS_DIR = PROJECT_ROOT / "layers"


def alembic_config(connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, layers_dir: Path = LAYERS_DIR) -> None:
    """Run migrations to head, then (re)create the layer views, all in one transaction.

    Layer views are repeatable migrations: each layers/<name>.sql is idempotent
    (CREATE OR REPLACE VIEW), so editing a view needs no new Alembic revision.
    """
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
        for sql_file in sorted(layers_dir.glob("*.sql")):
            log.info("layer view %s", sql_file.name)
            conn.exec_driver_sql(sql_file.read_text(encoding="utf-8"))


def head_revision() -> str:
    """The newest migration in gis/db/migrations (there must be exactly one)."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations in {MIGRATIONS}")
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT to_regclass('public.alembic_version')")).scalar()
        if not exists:
            return None
        return conn.execute(text("SELECT version_num FROM public.alembic_version")).scalar()
