"""ingest: batches, rejects, audit, scheduler jobs (schema ingest) and the located events of each feed (schema events)

Check-ins are range-partitioned by checked_in_at; their day partitions are created by the ingest batch that first
needs them (gis/ingest/sql/merge.sql), inside its transaction, so a killed batch leaves no partition behind.

Revision ID: 0002
Revises: 0001
"""

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS ingest")
    op.execute("CREATE SCHEMA IF NOT EXISTS events")
    op.create_table(
        "cases",
        sa.Column("case_id", sa.Text(), nullable=False),
        sa.Column("person_key", sa.Text(), nullable=False),
        sa.Column("birth_year", sa.SmallInteger(), nullable=True),
        sa.Column("sex", sa.Text(), nullable=True),
        sa.Column("detected_on", sa.Date(), nullable=False),
        sa.Column("detection_setting", sa.Text(), nullable=True),
        sa.Column("source_known", sa.Boolean(), nullable=True),
        sa.Column("cluster_id", sa.Text(), nullable=True),
        sa.Column("setting", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("facility_id", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("area_code", sa.Text(), nullable=True),
        sa.Column("commune_code", sa.Text(), nullable=True),
        sa.Column("located_by", sa.Text(), nullable=True),
        sa.Column("snap_m", sa.Double(), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.Text(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
        schema="events",
    )
    op.create_index("cases_commune_day_idx", "cases", ["commune_code", "detected_on"], unique=False, schema="events")
    op.create_index("cases_person_idx", "cases", ["person_key"], unique=False, schema="events")
    op.create_table(
        "checkins",
        sa.Column("checkin_id", sa.Text(), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("person_key", sa.Text(), nullable=False),
        sa.Column("venue_id", sa.Text(), nullable=False),
        sa.Column("area_code", sa.Text(), nullable=True),
        sa.Column("commune_code", sa.Text(), nullable=True),
        sa.Column("located_by", sa.Text(), nullable=True),
        sa.Column("snap_m", sa.Double(), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.Text(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("checkin_id", "checked_in_at"),
        schema="events",
        postgresql_partition_by="RANGE (checked_in_at)",
    )
    op.create_index(
        "checkins_person_time_idx", "checkins", ["person_key", "checked_in_at"], unique=False, schema="events"
    )
    op.create_index("checkins_venue_time_idx", "checkins", ["venue_id", "checked_in_at"], unique=False, schema="events")
    op.create_table(
        "facilities",
        sa.Column("facility_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=True),
        sa.Column("beds", sa.Integer(), nullable=True),
        sa.Column("icu_beds", sa.Integer(), nullable=True),
        sa.Column("rooms", sa.Integer(), nullable=True),
        sa.Column("occupied", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT", srid=4326, dimension=2, from_text="ST_GeomFromEWKT", name="geometry"
            ),
            nullable=True,
        ),
        sa.Column("area_code", sa.Text(), nullable=True),
        sa.Column("commune_code", sa.Text(), nullable=True),
        sa.Column("located_by", sa.Text(), nullable=True),
        sa.Column("snap_m", sa.Double(), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.Text(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("facility_id"),
        schema="events",
    )
    op.create_table(
        "quarantine_stays",
        sa.Column("stay_id", sa.Text(), nullable=False),
        sa.Column("person_key", sa.Text(), nullable=False),
        sa.Column("facility_id", sa.Text(), nullable=True),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("area_code", sa.Text(), nullable=True),
        sa.Column("commune_code", sa.Text(), nullable=True),
        sa.Column("located_by", sa.Text(), nullable=True),
        sa.Column("snap_m", sa.Double(), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.Text(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("stay_id"),
        schema="events",
    )
    op.create_index(
        "quarantine_stays_commune_day_idx",
        "quarantine_stays",
        ["commune_code", "start_on"],
        unique=False,
        schema="events",
    )
    op.create_index("quarantine_stays_person_idx", "quarantine_stays", ["person_key"], unique=False, schema="events")
    op.create_table(
        "tests",
        sa.Column("sample_id", sa.Text(), nullable=False),
        sa.Column("person_key", sa.Text(), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("test_type", sa.Text(), nullable=False),
        sa.Column("pooled", sa.Boolean(), nullable=True),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("result_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lab_id", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("area_code", sa.Text(), nullable=True),
        sa.Column("commune_code", sa.Text(), nullable=True),
        sa.Column("located_by", sa.Text(), nullable=True),
        sa.Column("snap_m", sa.Double(), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.Text(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("sample_id"),
        schema="events",
    )
    op.create_index("tests_commune_day_idx", "tests", ["commune_code", "collected_at"], unique=False, schema="events")
    op.create_index("tests_person_idx", "tests", ["person_key"], unique=False, schema="events")
    op.create_table(
        "vaccinations",
        sa.Column("dose_id", sa.Text(), nullable=False),
        sa.Column("person_key", sa.Text(), nullable=False),
        sa.Column("birth_year", sa.SmallInteger(), nullable=True),
        sa.Column("dose_number", sa.SmallInteger(), nullable=False),
        sa.Column("vaccine", sa.Text(), nullable=False),
        sa.Column("vaccinated_on", sa.Date(), nullable=False),
        sa.Column("site_id", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("area_code", sa.Text(), nullable=True),
        sa.Column("commune_code", sa.Text(), nullable=True),
        sa.Column("located_by", sa.Text(), nullable=True),
        sa.Column("snap_m", sa.Double(), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.Text(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("dose_id"),
        schema="events",
    )
    op.create_index(
        "vaccinations_commune_day_idx", "vaccinations", ["commune_code", "vaccinated_on"], unique=False, schema="events"
    )
    op.create_index("vaccinations_person_idx", "vaccinations", ["person_key"], unique=False, schema="events")
    op.create_table(
        "venues",
        sa.Column("venue_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT", srid=4326, dimension=2, from_text="ST_GeomFromEWKT", name="geometry"
            ),
            nullable=True,
        ),
        sa.Column("area_code", sa.Text(), nullable=True),
        sa.Column("commune_code", sa.Text(), nullable=True),
        sa.Column("located_by", sa.Text(), nullable=True),
        sa.Column("snap_m", sa.Double(), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.Text(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("venue_id"),
        schema="events",
    )
    op.create_table(
        "batch",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("feed", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.Text(), nullable=False),
        sa.Column("rows_read", sa.Integer(), server_default="0", nullable=False),
        sa.Column("accepted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("duplicates", sa.Integer(), server_default="0", nullable=False),
        sa.Column("corrections", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rejected_by_reason", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        schema="ingest",
    )
    op.create_index(op.f("ix_ingest_batch_feed"), "batch", ["feed"], unique=False, schema="ingest")
    op.create_index(op.f("ix_ingest_batch_file_sha256"), "batch", ["file_sha256"], unique=False, schema="ingest")
    op.create_table(
        "scheduler_job",
        sa.Column("id", sa.String(length=191), nullable=False),
        sa.Column("next_run_time", sa.Double(), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        schema="ingest",
    )
    op.create_index(
        op.f("ix_ingest_scheduler_job_next_run_time"), "scheduler_job", ["next_run_time"], unique=False, schema="ingest"
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("feed", sa.Text(), nullable=False),
        sa.Column("key", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("previous", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["ingest.batch.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        schema="ingest",
    )
    op.create_index(op.f("ix_ingest_audit_batch_id"), "audit", ["batch_id"], unique=False, schema="ingest")
    op.create_table(
        "reject",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("field", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("record", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["ingest.batch.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        schema="ingest",
    )
    op.create_index(op.f("ix_ingest_reject_batch_id"), "reject", ["batch_id"], unique=False, schema="ingest")


def downgrade() -> None:
    op.drop_index(op.f("ix_ingest_reject_batch_id"), table_name="reject", schema="ingest")
    op.drop_table("reject", schema="ingest")
    op.drop_index(op.f("ix_ingest_audit_batch_id"), table_name="audit", schema="ingest")
    op.drop_table("audit", schema="ingest")
    op.drop_index(op.f("ix_ingest_scheduler_job_next_run_time"), table_name="scheduler_job", schema="ingest")
    op.drop_table("scheduler_job", schema="ingest")
    op.drop_index(op.f("ix_ingest_batch_file_sha256"), table_name="batch", schema="ingest")
    op.drop_index(op.f("ix_ingest_batch_feed"), table_name="batch", schema="ingest")
    op.drop_table("batch", schema="ingest")
    op.drop_table("venues", schema="events")
    op.drop_index("vaccinations_person_idx", table_name="vaccinations", schema="events")
    op.drop_index("vaccinations_commune_day_idx", table_name="vaccinations", schema="events")
    op.drop_table("vaccinations", schema="events")
    op.drop_index("tests_person_idx", table_name="tests", schema="events")
    op.drop_index("tests_commune_day_idx", table_name="tests", schema="events")
    op.drop_table("tests", schema="events")
    op.drop_index("quarantine_stays_person_idx", table_name="quarantine_stays", schema="events")
    op.drop_index("quarantine_stays_commune_day_idx", table_name="quarantine_stays", schema="events")
    op.drop_table("quarantine_stays", schema="events")
    op.drop_table("facilities", schema="events")
    op.drop_index("checkins_venue_time_idx", table_name="checkins", schema="events")
    op.drop_index("checkins_person_time_idx", table_name="checkins", schema="events")
    op.drop_table("checkins", schema="events")
    op.drop_index("cases_person_idx", table_name="cases", schema="events")
    op.drop_index("cases_commune_day_idx", table_name="cases", schema="events")
    op.drop_table("cases", schema="events")
    op.execute("DROP SCHEMA IF EXISTS events CASCADE")
    op.execute("DROP SCHEMA IF EXISTS ingest CASCADE")
