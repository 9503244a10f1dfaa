"""Feeds for the care scenarios, written as clerks' CSV files and ingested through the real ingest machinery."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from gis.ingest.feeds import Feed, load_feed
from gis.ingest.pipeline import CopyStream, ingest_file
from gis.ingest.pseudonym import Pseudonymiser
from gis.ingest.read import open_source
from gis.ingest.settings import IngestSettings
from gis.ingest.statements import FeedSql, statement
from gis.ingest.transform import plan, records

ROOT = Path(__file__).resolve().parents[2]
FEEDS = ROOT / "ingest" / "feeds"
CHECK = ROOT / "gis" / "care" / "sql" / "admissions_check.sql"
PSEUDONYMISER = Pseudonymiser(b"care-test-secret-0123456789abcdef")
FACILITIES = ["Mã cơ sở", "Loại cơ sở", "Tên cơ sở", "Tầng điều trị", "Số giường", "Đang sử dụng", "Mã địa bàn"]
ROOMS = ["Mã cơ sở", "Mã phòng", "Loại phòng", "Giới tính", "Số giường", "Giường có nhân lực", "Số ngày vệ sinh"]
ADMISSIONS = ["Mã sự kiện", "Số CCCD/SĐT", "Đối tượng", "Sự kiện", "Mã cơ sở", "Mã phòng", "Thời gian", "Lý do"]
OBSERVATIONS = [
    "Mã lần đo", "Số CCCD/SĐT", "Thời gian", "SpO2", "Nhịp thở", "Mạch", "Nhiệt độ", "Huyết áp tối đa", "Tỉnh táo",
    "Triệu chứng",
]  # fmt: skip
OBSERVATIONS_CHECK = ROOT / "gis" / "care" / "sql" / "observations_check.sql"


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    return path


def ingest(engine: Engine, feed: str, path: Path, with_checks: bool = True) -> dict[str, Any]:
    """One file as one batch of the feed (`covidgis ingest FILE --feed NAME --no-recompute`), its summary;
    with_checks=False: without the feed's cross-row checks (rows written around them, as before they ran)."""
    definition = load_feed(feed, FEEDS)
    if not with_checks:
        definition = definition.model_copy(update={"checks": []})
    return ingest_file(engine, definition, path, PSEUDONYMISER, IngestSettings()).to_json()


def person_key(raw: str) -> str:
    key = PSEUDONYMISER.key(raw)
    assert key is not None
    return key


def checked_batch(
    engine: Engine, path: Path, feed_name: str = "admissions", check: Path = CHECK, name: str = "one_place_at_a_time"
) -> list[tuple[int, str, str]]:
    """(row, reason, message) of the file's rejects when the batch runs its checks and then the feed's cross-row
    check (statement `name` of `check`: by default sql/admissions_check.sql's), as the batch would run it after its
    duplicate-key check; rolled back, nothing stored. The staging is the pipeline's own: the file read and
    pseudonymised by the ingest reader, COPY into its staging table, its set-based checks."""
    from gis.sqlfiles import load

    feed: Feed = load_feed(feed_name, FEEDS)
    q = FeedSql(feed)
    conn = engine.raw_connection()
    try:
        cur = conn.driver_connection.cursor()  # type: ignore[union-attr]
        with open_source(path, feed) as source:
            plan(feed, source.header, path.name)
            lines = records(feed, source.header, source.rows(), PSEUDONYMISER, path.name, source.width)
            cur.execute(q.create_stage())
            cur.copy_expert(q.copy_stage().as_string(cur), CopyStream(lines, source, None), size=1 << 20)
        cur.execute(statement("stage", "create_work"))
        cur.execute(q.insert_problems())
        cur.execute(q.check_duplicate_keys())
        cur.execute(load(check)[name], {"tz": feed.timezone})
        cur.execute("SELECT _row, reason, message FROM problem ORDER BY _row, reason")
        return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.rollback()
        conn.close()
