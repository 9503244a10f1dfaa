"""SQLAlchemy models of the tables; Alembic migrations (gis/db/migrations) are the only DDL."""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import (BigInteger, Boolean, Date, DateTime, Double, ForeignKey, Index, Integer, SmallInteger, Text,
                        func, text)
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
        Index("area_level_idx", "level"),
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
