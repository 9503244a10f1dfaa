"""boundaries: area, boundary_load, boundary_problem

Revision ID: 0001
Revises:
Create Date: 2026-11-26 01:58:32.586958
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE SCHEMA IF NOT EXISTS admin")
    op.execute("CREATE SCHEMA IF NOT EXISTS pub")
    op.create_table(
        "boundary_load",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("files", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema="admin",
    )
    op.create_table(
        "area",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("parent_code", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("population_method", sa.Text(), nullable=True),
        sa.Column("area_m2", sa.Double(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("status", sa.Text(), server_default="current", nullable=False),
        sa.Column("synthetic", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("load_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["load_id"],
            ["admin.boundary_load.id"],
        ),
        sa.CheckConstraint("level BETWEEN 1 AND 4", name="area_level_ck"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="area_validity_ck"),
        sa.PrimaryKeyConstraint("id"),
        schema="admin",
    )
    op.create_index(
        "area_code_current_uq",
        "area",
        ["code"],
        unique=True,
        schema="admin",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index("area_code_valid_from_uq", "area", ["code", "valid_from"], unique=True, schema="admin")
    op.create_index("area_parent_idx", "area", ["parent_code"], unique=False, schema="admin")
    op.create_table(
        "boundary_problem",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("load_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("other_code", sa.Text(), nullable=True),
        sa.Column("level", sa.SmallInteger(), nullable=True),
        sa.Column("area_m2", sa.Double(), nullable=True),
        sa.Column("share", sa.Double(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(srid=4326, dimension=2, from_text="ST_GeomFromEWKT", name="geometry"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(["load_id"], ["admin.boundary_load.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        schema="admin",
    )
    op.create_index(
        op.f("ix_admin_boundary_problem_load_id"), "boundary_problem", ["load_id"], unique=False, schema="admin"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_admin_boundary_problem_load_id"), table_name="boundary_problem", schema="admin")
    op.drop_table("boundary_problem", schema="admin")
    op.drop_index("area_parent_idx", table_name="area", schema="admin")
    op.drop_index("area_code_valid_from_uq", table_name="area", schema="admin")
    op.drop_index(
        "area_code_current_uq", table_name="area", schema="admin", postgresql_where=sa.text("valid_to IS NULL")
    )
    op.drop_table("area", schema="admin")
    op.drop_table("boundary_load", schema="admin")
    op.execute("DROP SCHEMA IF EXISTS pub CASCADE")
    op.execute("DROP SCHEMA IF EXISTS admin CASCADE")
