"""hotline: the 1022 hotline's Open311 GeoReport v2 requests (issue 14 item 9)

`hotline.request`: one row per Open311 request. Located to a current hamlet (point, address string naming a
hamlet or commune code, or an area code) and routed to that hamlet's commune, with the service's deadline
(`expected_at`, NULL when the service has no cited deadline). The caller's phone is kept only as the HMAC key of
the project's pseudonymisation (gis/ingest/pseudonym.py). `duplicate_of` links a duplicate (same caller, or within
50 m, same service, 72 h) to the first request; `persons_affected` counts the first and its duplicates.
`hotline.status_change`: every status update (who, when, from, to, note).

Restricted: the restricted role may read the schema; the public role reads only what the Open311 routes show.

Revision ID: 0017
Revises: 0016
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
STATUSES = ("open", "assigned", "in_progress", "closed", "reopened")


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS hotline")
    op.create_table(
        "request",
        sa.Column("request_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("token", sa.Text, nullable=False, unique=True),
        sa.Column("service_code", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("description", sa.Text),
        sa.Column("address_string", sa.Text),
        sa.Column("caller_key", sa.Text),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326, spatial_index=True, name="geometry"),
        ),
        sa.Column("area_code", sa.Text),  # NULL: located to a commune only
        sa.Column("commune_code", sa.Text, nullable=False),
        sa.Column("located_by", sa.Text, nullable=False),
        sa.Column("duplicate_of", sa.BigInteger, sa.ForeignKey("hotline.request.request_id")),
        sa.Column("persons_affected", sa.Integer, nullable=False, server_default="1"),
        sa.Column("requested_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("expected_at", TS),
        sa.CheckConstraint(f"status IN {STATUSES!r}", name="request_status_ck"),
        sa.CheckConstraint("length(description) <= 4000", name="request_description_ck"),
        schema="hotline",
    )
    op.create_index("request_dup_idx", "request", ["service_code", "requested_at"], schema="hotline")
    op.create_index("request_caller_idx", "request", ["caller_key", "requested_at"], schema="hotline")
    op.create_index("request_commune_idx", "request", ["commune_code", "status"], schema="hotline")
    op.create_table(
        "status_change",
        sa.Column("change_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("request_id", sa.BigInteger, sa.ForeignKey("hotline.request.request_id"), nullable=False),
        sa.Column("from_status", sa.Text, nullable=False),
        sa.Column("to_status", sa.Text, nullable=False),
        sa.Column("operator", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("at", TS, server_default=sa.func.now(), nullable=False),
        schema="hotline",
    )
    op.execute("GRANT USAGE ON SCHEMA hotline TO covidgis_restricted")
    op.execute("GRANT SELECT ON ALL TABLES IN SCHEMA hotline TO covidgis_restricted")


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS hotline CASCADE")
