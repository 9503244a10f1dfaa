"""`covidgis publish` (issue 15, item 1) on real PostGIS: the static files say what the public API says, file names
carry their content hash, latest.json is replaced last (a crash mid-publish leaves the previous one whole), a second
publish of the same snapshot changes nothing and only the newest N snapshot folders stay."""

import csv
import datetime as dt
import hashlib
import io
import json
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serve"))
from conftest import run_cli  # noqa: E402
from serve_support import DAYS, fill_trace, filled, withdraw_trace_case  # noqa: E402, F401

from gis.publish import snapshot as snapshot_module  # noqa: E402
from gis.publish.errors import PublishError  # noqa: E402
from gis.publish.snapshot import publish_snapshot  # noqa: E402
from gis.risk.ruleset import load_ruleset  # noqa: E402
from gis.risk.settings import RiskSettings  # noqa: E402
from gis.risk.zones import compute_zones  # noqa: E402


@pytest.fixture(scope="module")
def traced(filled):
    fill_trace(filled)
    return filled


def api_zones(engine) -> dict[int, dict[str, tuple[int, str]]]:
    """pub.zones per admin level: code → (level, colour), as the API serves them."""
    out: dict[int, dict[str, tuple[int, str]]] = {}
    with engine.connect() as conn:
        for r in conn.execute(text("SELECT admin_level, code, level, colour FROM pub.zones")):
            out.setdefault(r.admin_level, {})[r.code] = (r.level, r.colour)
    return out


def files_of(out: Path, latest: dict, kind: str) -> dict[int, Path]:
    return {e["admin_level"]: out / e["path"] for e in latest["files"] if e["kind"] == kind and "admin_level" in e}


def bump(engine) -> None:
    """A recompute of the shown day: a new snapshot version."""
    compute_zones(engine, [DAYS[-1]], load_ruleset("vn-4800-2021"), RiskSettings())
    with engine.begin() as conn:
        conn.execute(text("UPDATE risk.snapshot SET version = version + 1"))


def test_the_files_say_what_the_api_says(traced, tmp_path):
    summary = publish_snapshot(traced, tmp_path, keep=3, extra_documents={"travel-measures": {"levels": {"1": {}}}})
    latest = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    assert latest["snapshot_version"] == summary.snapshot_version and latest["ruleset"] == "vn-4800-2021"
    expected = api_zones(traced)
    assert set(expected) == {1, 2, 3, 4}
    for kind in ("geojson", "csv", "flatgeobuf"):
        assert set(files_of(tmp_path, latest, kind)) == set(expected), kind
    for admin_level, path in files_of(tmp_path, latest, "geojson").items():
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        got = {f["id"]: (f["properties"]["level"], f["properties"]["colour"]) for f in features}
        assert got == expected[admin_level]
        assert all(f["geometry"]["type"] == "MultiPolygon" for f in features)
    for admin_level, path in files_of(tmp_path, latest, "flatgeobuf").items():
        frame = gpd.read_file(path)
        assert (
            dict(zip(frame["code"], zip(frame["level"], frame["colour"], strict=True), strict=True))
            == expected[admin_level]
        )
        assert frame.crs.to_epsg() == 4326
    for admin_level, path in files_of(tmp_path, latest, "csv").items():
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        assert {r["code"]: (int(r["level"]), r["colour"]) for r in rows} == expected[admin_level]
    # every file named by latest.json is there, with the size and sha256 it says, the hash in its name
    for entry in latest["files"]:
        body = (tmp_path / entry["path"]).read_bytes()
        assert len(body) == entry["size"] and hashlib.sha256(body).hexdigest() == entry["sha256"]
        assert entry["sha256"][:12] in entry["path"] and entry["path"].startswith(f"v{summary.snapshot_version}/")
    search = json.loads(next(tmp_path / e["path"] for e in latest["files"] if e["kind"] == "search").read_text())
    assert len(search) == sum(len(v) for v in expected.values())
    hamlet = next(s for s in search if s["admin_level"] == 4)
    west, south, east, north = hamlet["bbox"]
    assert west < east and south < north and hamlet["admin_level_vi"] == "ấp"
    travel = next(e for e in latest["files"] if e["path"].split("/")[1].startswith("travel-measures."))
    assert json.loads((tmp_path / travel["path"]).read_text()) == {"levels": {"1": {}}}


def test_locations_of_interest_are_the_public_ones_without_personal_data(traced, tmp_path):
    publish_snapshot(traced, tmp_path, keep=3)
    latest = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    entry = next(e for e in latest["files"] if "locations-of-interest" in e["path"])
    features = json.loads((tmp_path / entry["path"]).read_text(encoding="utf-8"))["features"]
    with traced.connect() as conn:
        public = set(conn.execute(text("SELECT event_id FROM pub.locations_of_interest")).scalars())
    assert public and {f["id"] for f in features} == public
    text_of_file = (tmp_path / entry["path"]).read_text(encoding="utf-8")
    assert "person_key" not in text_of_file and "case_id" not in text_of_file


def test_a_second_publish_of_the_same_snapshot_changes_nothing(traced, tmp_path):
    first = publish_snapshot(traced, tmp_path, keep=3)
    before = (tmp_path / "latest.json").read_bytes()
    again = publish_snapshot(traced, tmp_path, keep=3)
    assert again.unchanged and not first.unchanged
    assert (tmp_path / "latest.json").read_bytes() == before  # not even generated_at moves
    assert again.snapshot_version == first.snapshot_version and again.files == first.files


def test_a_crash_mid_publish_leaves_the_previous_latest_whole(traced, tmp_path, monkeypatch):
    publish_snapshot(traced, tmp_path, keep=3)
    before = (tmp_path / "latest.json").read_bytes()
    bump(traced)

    calls = {"n": 0}
    real = snapshot_module._hashed

    def crash_on_the_fifth_file(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError("disk full (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(snapshot_module, "_hashed", crash_on_the_fifth_file)
    with pytest.raises(OSError, match="simulated"):
        publish_snapshot(traced, tmp_path, keep=3)
    assert (tmp_path / "latest.json").read_bytes() == before
    latest = json.loads(before)
    assert all((tmp_path / e["path"]).stat().st_size == e["size"] for e in latest["files"])
    assert not list(tmp_path.glob(".staging-*"))  # no half folder left behind
    monkeypatch.setattr(snapshot_module, "_hashed", real)
    after = publish_snapshot(traced, tmp_path, keep=3)
    assert after.snapshot_version == latest["snapshot_version"] + 1


def test_only_the_newest_snapshots_are_kept(traced, tmp_path):
    versions = []
    for _ in range(4):
        versions.append(publish_snapshot(traced, tmp_path, keep=2).snapshot_version)
        bump(traced)
    kept = sorted(int(p.name[1:]) for p in tmp_path.glob("v*"))
    assert kept == versions[-2:]
    latest = json.loads((tmp_path / "latest.json").read_text())
    assert latest["kept"] == versions[-2:] and latest["snapshot_version"] == versions[-1]


def test_the_command_prints_a_summary_and_refuses_a_file_as_folder(traced, db_url, tmp_path):
    done = json.loads(run_cli("publish", "--out", str(tmp_path / "site"), "--json", database_url=db_url).stdout)
    assert done["files"] >= 13 and done["bytes"] > 0 and Path(done["out"]) == (tmp_path / "site").resolve()
    (tmp_path / "a-file").write_text("x")
    proc = run_cli("publish", "--out", str(tmp_path / "a-file"), database_url=db_url, check=False)
    assert proc.returncode == 2 and "is not a folder" in proc.stderr


def test_nothing_published_is_a_clear_error(empty_db_url, tmp_path):
    from gis.db.engine import make_engine

    engine = make_engine(empty_db_url)
    try:
        with pytest.raises(PublishError, match="no public zones to publish yet"):
            publish_snapshot(engine, tmp_path, keep=3)
    finally:
        engine.dispose()
    assert not (tmp_path / "latest.json").exists()


def test_a_trace_run_that_changes_the_locations_publishes_the_same_snapshot_again(traced, tmp_path):
    """Last in this module: it withdraws a case (a trace run, no new snapshot version)."""
    publish_snapshot(traced, tmp_path, keep=3)
    before = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    with traced.connect() as conn:
        day = conn.execute(text("SELECT max(day) FROM pub.zones")).scalar_one()
    assert before["zones_day"] == day.isoformat()
    old = next(e for e in before["files"] if "locations-of-interest" in e["path"])
    withdraw_trace_case(traced)
    again = publish_snapshot(traced, tmp_path, keep=3)
    after = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    assert not again.unchanged and again.snapshot_version == before["snapshot_version"]
    assert after["trace_run"] > before["trace_run"]
    new = next(e for e in after["files"] if "locations-of-interest" in e["path"])
    assert new["path"] != old["path"]  # the changed list, under its new hash
    with traced.connect() as conn:
        public = {
            (r.event_id, str(r.updated_at))
            for r in conn.execute(text("SELECT event_id, updated_at FROM pub.locations_of_interest"))
        }
    features = json.loads((tmp_path / new["path"]).read_text(encoding="utf-8"))["features"]
    assert {(f["id"], str(dt.datetime.fromisoformat(f["properties"]["updated_at"]))) for f in features} == public
    assert (tmp_path / old["path"]).is_file()  # a cached latest.json still names it
    assert all((tmp_path / e["path"]).stat().st_size == e["size"] for e in after["files"])
    third = publish_snapshot(traced, tmp_path, keep=3)
    assert third.unchanged and json.loads((tmp_path / "latest.json").read_text(encoding="utf-8")) == after
