"""Alembic environment: the connection comes from `gis.db.migrate` (config.attributes), never from a file."""

from alembic import context

from gis.db.models import Base

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_schemas=True,
    version_table_schema="public",
    # Only our models are managed: PostGIS's spatial_ref_sys and alembic_version are not ours to drop.
    include_object=lambda obj, name, type_, reflected, compare_to: (
        not (type_ == "table" and reflected and compare_to is None)
    ),
)
with context.begin_transaction():
    context.run_migrations()
