"""SQLAlchemy models of the tables; Alembic migrations (gis/db/migrations) are the only DDL."""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ADMIN = "admin"  # boundaries and their lineage
PUB = "pub"  # public views: aggregated, no personal data


class Base(DeclarativeBase):
    pass


class BoundaryLoad(Base):
    """One run of `covidgis boundaries load`: what was read, from where, and the check report."""

    __tablename__ = "boundary_load"
    __table_args__ = {"schema": ADMIN}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    dataset: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    files: Mapped[dict] = mapped_column(JSONB)  # file name -> sha256
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    summary: Mapped[dict] = mapped_column(JSONB)  # counts per level and per problem kind


class Area(Base):
    """An administrative unit of any level (1 province, 2 district, 3 commune, 4 hamlet) over a validity interval."""

    __tablename__ = "area"
    __table_args__ = (
        Index("area_code_current_uq", "code", unique=True, postgresql_where=text("valid_to IS NULL")),
        Index("area_code_valid_from_uq", "code", "valid_from", unique=True),
        Index("area_parent_idx", "parent_code"),
        {"schema": ADMIN},
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(Text)
    level: Mapped[int] = mapped_column(SmallInteger)
    parent_code: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False)
    population: Mapped[int | None] = mapped_column(Integer)
    population_method: Mapped[str | None] = mapped_column(Text)  # census | raster | area | reallocated
    area_m2: Mapped[float] = mapped_column(Double)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)  # exclusive; NULL = current
    status: Mapped[str] = mapped_column(Text, server_default="current")
    synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")
    source: Mapped[str] = mapped_column(Text)
    load_id: Mapped[int] = mapped_column(ForeignKey(f"{ADMIN}.boundary_load.id"))


class BoundaryProblem(Base):
    """A data-quality problem found in a boundary load, located where it is, for the data-quality layer."""

    __tablename__ = "boundary_problem"
    __table_args__ = {"schema": ADMIN}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    load_id: Mapped[int] = mapped_column(ForeignKey(f"{ADMIN}.boundary_load.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(Text)
    other_code: Mapped[str | None] = mapped_column(Text)
    level: Mapped[int | None] = mapped_column(SmallInteger)
    area_m2: Mapped[float | None] = mapped_column(Double)
    share: Mapped[float | None] = mapped_column(Double)
    detail: Mapped[str] = mapped_column(Text)
    geom = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=True)


# --- ingest (issue 3): lineage in schema `ingest`, located pseudonymised events in schema `events` -----------------
INGEST = "ingest"  # batches, rejects, audit of corrections, scheduler jobs
EVENTS = "events"  # one table per feed; personal data (pseudonymised), never readable by the public role


class IngestBatch(Base):
    """One file through `covidgis ingest`: where it came from and what became of its rows (lineage)."""

    __tablename__ = "batch"
    __table_args__ = {"schema": INGEST}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    feed: Mapped[str] = mapped_column(Text, index=True)
    file_name: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str] = mapped_column(Text, index=True)
    rows_read: Mapped[int] = mapped_column(Integer, server_default="0")
    accepted: Mapped[int] = mapped_column(Integer, server_default="0")  # new records
    rejected: Mapped[int] = mapped_column(Integer, server_default="0")
    duplicates: Mapped[int] = mapped_column(Integer, server_default="0")  # identical to a stored record
    corrections: Mapped[int] = mapped_column(Integer, server_default="0")  # same key, new content
    rejected_by_reason: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class IngestReject(Base):
    """A problem with one row of a batch, in words a clerk can act on; the row is kept with person_id pseudonymised."""

    __tablename__ = "reject"
    __table_args__ = {"schema": INGEST}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey(f"{INGEST}.batch.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(Text)
    row_number: Mapped[int] = mapped_column(Integer)  # as a spreadsheet shows it: the header is row 1
    field: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)  # stable code, e.g. unparseable_date
    message: Mapped[str] = mapped_column(Text)
    record: Mapped[dict] = mapped_column(JSONB)


class IngestAudit(Base):
    """The previous version of a record that a later batch corrected (same natural key, different content)."""

    __tablename__ = "audit"
    __table_args__ = {"schema": INGEST}

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey(f"{INGEST}.batch.id", ondelete="CASCADE"), index=True)
    feed: Mapped[str] = mapped_column(Text)
    key: Mapped[dict] = mapped_column(JSONB)
    previous: Mapped[dict] = mapped_column(JSONB)
    corrected_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SchedulerJob(Base):
    """APScheduler's SQLAlchemyJobStore table, created here so that Alembic stays the only DDL."""

    __tablename__ = "scheduler_job"
    __table_args__ = {"schema": INGEST}

    id: Mapped[str] = mapped_column(String(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Double, index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)


class _Located:
    """Columns every located event carries: where it was placed, how, and the batch that last wrote it."""

    area_code: Mapped[str | None] = mapped_column(Text)  # hamlet when known, else commune
    commune_code: Mapped[str | None] = mapped_column(Text)
    located_by: Mapped[str | None] = mapped_column(Text)  # code | point | snapped | venue
    snap_m: Mapped[float | None] = mapped_column(Double)  # distance moved when snapped into the nearest area
    batch_id: Mapped[int] = mapped_column(BigInteger)  # lineage; no FK: bulk tables keep COPY speed
    row_hash: Mapped[str] = mapped_column(Text)  # content hash: same key + other hash = correction
    ingested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Case(_Located, Base):
    """A confirmed case (F0)."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("cases_commune_day_idx", "commune_code", "detected_on"),
        Index("cases_person_idx", "person_key", postgresql_using="hash"),
        {"schema": EVENTS},
    )

    case_id: Mapped[str] = mapped_column(Text, primary_key=True)
    person_key: Mapped[str] = mapped_column(Text)
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    sex: Mapped[str | None] = mapped_column(Text)
    detected_on: Mapped[dt.date] = mapped_column(Date)
    detection_setting: Mapped[str | None] = mapped_column(Text)
    source_known: Mapped[bool | None] = mapped_column(Boolean)
    cluster_id: Mapped[str | None] = mapped_column(Text)
    setting: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(Text)
    facility_id: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)


class TestResult(_Located, Base):
    """A sample taken and its result."""

    __tablename__ = "tests"
    __table_args__ = (
        Index("tests_commune_day_idx", "commune_code", "collected_at"),
        Index("tests_person_idx", "person_key", postgresql_using="hash"),
        {"schema": EVENTS},
    )

    sample_id: Mapped[str] = mapped_column(Text, primary_key=True)
    person_key: Mapped[str] = mapped_column(Text)
    collected_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    test_type: Mapped[str] = mapped_column(Text)
    pooled: Mapped[bool | None] = mapped_column(Boolean)
    result: Mapped[str] = mapped_column(Text)
    result_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    lab_id: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)


class Vaccination(_Located, Base):
    """One vaccine dose given."""

    __tablename__ = "vaccinations"
    __table_args__ = (
        Index("vaccinations_commune_day_idx", "commune_code", "vaccinated_on"),
        Index("vaccinations_person_idx", "person_key", postgresql_using="hash"),
        {"schema": EVENTS},
    )

    dose_id: Mapped[str] = mapped_column(Text, primary_key=True)
    person_key: Mapped[str] = mapped_column(Text)
    birth_year: Mapped[int | None] = mapped_column(SmallInteger)
    dose_number: Mapped[int] = mapped_column(SmallInteger)
    vaccine: Mapped[str] = mapped_column(Text)
    vaccinated_on: Mapped[dt.date] = mapped_column(Date)
    site_id: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)


class QuarantineStay(_Located, Base):
    """A contact's (F1) quarantine stay, at a facility or at home (facility_id empty)."""

    __tablename__ = "quarantine_stays"
    __table_args__ = (
        Index("quarantine_stays_commune_day_idx", "commune_code", "start_on"),
        Index("quarantine_stays_person_idx", "person_key", postgresql_using="hash"),
        {"schema": EVENTS},
    )

    stay_id: Mapped[str] = mapped_column(Text, primary_key=True)
    person_key: Mapped[str] = mapped_column(Text)
    facility_id: Mapped[str | None] = mapped_column(Text)
    start_on: Mapped[dt.date] = mapped_column(Date)
    end_on: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)


class Facility(_Located, Base):
    """A treatment (tier 1–3) or quarantine facility, testing or vaccination site, or essential-goods point."""

    __tablename__ = "facilities"
    __table_args__ = {"schema": EVENTS}

    facility_id: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    tier: Mapped[int | None] = mapped_column(SmallInteger)
    beds: Mapped[int | None] = mapped_column(Integer)
    icu_beds: Mapped[int | None] = mapped_column(Integer)
    rooms: Mapped[int | None] = mapped_column(Integer)
    occupied: Mapped[int | None] = mapped_column(Integer)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=True)


class Venue(_Located, Base):
    """A place with a PC-Covid QR code."""

    __tablename__ = "venues"
    __table_args__ = {"schema": EVENTS}

    venue_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=True)


class Checkin(_Located, Base):
    """A QR check-in; partitioned by local day of checked_in_at (partitions are made by the batch that needs them)."""

    __tablename__ = "checkins"
    __table_args__ = (
        Index("checkins_venue_time_idx", "venue_id", "checked_in_at"),
        Index("checkins_person_time_idx", "person_key", "checked_in_at"),
        {"schema": EVENTS, "postgresql_partition_by": "RANGE (checked_in_at)"},
    )

    checkin_id: Mapped[str] = mapped_column(Text, primary_key=True)
    checked_in_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    person_key: Mapped[str] = mapped_column(Text)
    venue_id: Mapped[str] = mapped_column(Text)
