"""The restore drill: a backup counts only once it has been restored.

On a project-local cluster of its own (archiving needs its own configuration; the session's cluster does not archive),
through the real `covidgis` command and pgBackRest: load Đồng Nai, ingest a feed, take a full backup, ingest more,
take an incremental one, ingest more, note a time, ingest more, then restore to the noted time into a new cluster
beside the running one. The restored cluster must hold exactly the rows of that time — every table of every schema,
zones and person keys included — and, with the HMAC secret the restore put beside it, a feed ingested again gives the
same person keys as in the original (so links between people survive a restore).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from backup_support import assert_one_line_error, covidgis, local_env
from conftest import DONGNAI, free_port
from sqlalchemy import text

from gis.db.cluster import Cluster
from gis.db.engine import make_engine

SCHEMAS = ("admin", "events", "ingest", "stats", "risk")
PERSON_TABLES = {"cases": "case_id", "tests": "sample_id", "quarantine_stays": "stay_id"}
SPLIT = ("cases.csv", "tests.csv", "quarantine.csv")  # cut in four parts: before the full, the incr, the time, after
DOTENV = "# the drill's .env: part of the backup\nCOVIDGIS_RISK_RULESET=vn-4800-2021\n"


def state(url: str) -> dict:
    """Every table of our schemas as (rows, digest of its rows), the zones by level, the person keys per feed."""
    engine = make_engine(url)
    with engine.connect() as conn:
        tables = conn.execute(
            text(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_schema = ANY(:s) AND table_type = 'BASE TABLE' ORDER BY 1"
            ),
            {"s": list(SCHEMAS)},
        ).scalars()
        digests = {
            t: tuple(
                conn.execute(
                    text(f"SELECT count(*), md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), '')) FROM {t} r")
                ).one()
            )
            for t in tables
        }
        zones: dict[int, int] = dict(conn.execute(text("SELECT level, count(*) FROM risk.zone GROUP BY level")).all())
        keys = {
            t: set(conn.execute(text(f"SELECT {k}, person_key FROM events.{t}")).all())
            for t, k in PERSON_TABLES.items()
        }
        linked = conn.execute(
            text(
                "SELECT count(DISTINCT c.person_key) FROM events.cases c "
                "JOIN events.quarantine_stays q USING (person_key)"
            )
        ).scalar()
    engine.dispose()
    return {"tables": digests, "zones": zones, "keys": keys, "linked": linked}


def split_feeds(demo: Path, parts: int) -> list[dict[str, Path]]:
    """The person feeds cut into `parts` files each (header repeated), in order: the batches of the drill."""
    out: list[dict[str, Path]] = [{} for _ in range(parts)]
    for name in SPLIT:
        with open(demo / name, encoding="utf-8-sig", newline="") as f:
            header, *rows = list(csv.reader(f))
        size = -(-len(rows) // parts)
        for i in range(parts):
            path = demo / f"part{i}-{name}"
            with open(path, "w", encoding="utf-8-sig", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(header)
                writer.writerows(rows[i * size : (i + 1) * size])
            out[i][name.split(".")[0]] = path
    return out


@dataclass
class Drill:
    top: Path
    env: dict
    port: int
    restored_port: int
    batches: list[dict[str, Path]]
    noted: datetime
    at_noted: dict
    after: dict  # the original after the last batch
    restored: dict  # the restored cluster, before anything else touched it
    restore_out: str
    seconds: dict = field(default_factory=dict)

    @property
    def var(self) -> Path:
        return self.top / "var"

    @property
    def into(self) -> Path:
        return self.top / "restored"

    def url(self, port: int) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{port}/covidgis"


def ingest(env: dict, top: Path, batch: dict[str, Path]) -> None:
    for feed in ("quarantine", "cases", "tests"):
        covidgis(env, "ingest", str(batch[feed]), "--feed", feed, "--json", cwd=top)


@pytest.fixture(scope="module")
def drill():
    top = Path(tempfile.mkdtemp(prefix="covidgis-test-drill-"))
    top.chmod(0o755)
    (top / ".env").write_text(DOTENV)
    port, restored_port = free_port(), free_port()
    env = local_env(top / "var", port)
    seconds = {}
    began = time.monotonic()
    covidgis(env, "db", "start", cwd=top)
    covidgis(env, "db", "upgrade", cwd=top)
    covidgis(env, "boundaries", "load", str(DONGNAI), cwd=top)
    demo = top / "demo"
    covidgis(
        env,
        "ingest",
        "demo-data",
        "--out",
        str(demo),
        "--start",
        "2021-07-01",
        "--end",
        "2021-07-14",
        "--scale",
        "0.2",
        "--seed",
        "5",
        cwd=top,
    )
    batches = split_feeds(demo, 4)
    covidgis(env, "ingest", str(demo / "facilities.csv"), "--feed", "facilities", "--json", cwd=top)
    ingest(env, top, batches[0])
    seconds["load and first batch"] = time.monotonic() - began
    t = time.monotonic()
    covidgis(env, "db", "backup", "--type", "full", cwd=top)
    seconds["full backup"] = time.monotonic() - t
    ingest(env, top, batches[1])
    t = time.monotonic()
    covidgis(env, "db", "backup", "--type", "incr", cwd=top)
    seconds["incremental backup"] = time.monotonic() - t
    ingest(env, top, batches[2])
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/covidgis"
    time.sleep(1)  # commits before the noted time are a second older than it, those after a second newer
    engine = make_engine(url)
    with engine.connect() as conn:
        noted = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    engine.dispose()
    at_noted = state(url)
    time.sleep(1)
    ingest(env, top, batches[3])
    after = state(url)
    t = time.monotonic()
    proc = covidgis(
        env,
        "db",
        "restore",
        "--to",
        noted.isoformat(),
        "--into",
        str(top / "restored"),
        "--port",
        str(restored_port),
        cwd=top,
    )
    seconds["restore (base backup + WAL to the noted time, start, promotion)"] = time.monotonic() - t
    restored = state(f"postgresql+psycopg2://postgres@127.0.0.1:{restored_port}/covidgis")
    seconds["whole drill"] = time.monotonic() - began
    print("\nrestore drill timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    yield Drill(
        top=top,
        env=env,
        port=port,
        restored_port=restored_port,
        batches=batches,
        noted=noted,
        at_noted=at_noted,
        after=after,
        restored=restored,
        restore_out=proc.stdout,
        seconds=seconds,
    )
    for data, p in ((top / "restored" / "pgdata", restored_port), (top / "var" / "pgdata", port)):
        Cluster(data_dir=data, socket_dir=data.parent / "pgsock", port=p).stop()
    shutil.rmtree(top, ignore_errors=True)


def test_restored_cluster_holds_exactly_the_noted_time(drill):
    noted, restored = drill.at_noted, drill.restored
    assert set(restored["tables"]) == set(noted["tables"]) and "risk.zone" in noted["tables"]
    differing = {
        t: (restored["tables"][t], noted["tables"][t])
        for t in noted["tables"]
        if restored["tables"][t] != noted["tables"][t]
    }
    assert not differing  # every row of every table: events, batches, rejects, audit, indicators, zones, areas
    assert restored["zones"] == noted["zones"] and sum(noted["zones"].values()) > 0
    assert restored["keys"] == noted["keys"] and all(noted["keys"].values())
    assert restored["linked"] == noted["linked"] > 0  # F1s who became cases are still one person


def test_the_drill_restored_a_past_state_not_the_latest(drill):
    """The last batch came after the noted time: the original has it, the restored cluster must not."""
    for table in ("events.cases", "events.tests", "events.quarantine_stays", "ingest.batch"):
        assert drill.after["tables"][table][0] > drill.restored["tables"][table][0], table
    assert drill.restored["tables"]["ingest.batch"][0] == drill.at_noted["tables"]["ingest.batch"][0]


def test_restore_leaves_the_running_cluster_alone(drill):
    assert Cluster(data_dir=drill.var / "pgdata", socket_dir=drill.var / "pgsock", port=drill.port).running()
    assert state(drill.url(drill.port)) == drill.after
    assert f"127.0.0.1:{drill.restored_port}" in drill.restore_out and str(drill.into) in drill.restore_out


def test_restored_copy_does_not_archive_into_the_original_repository(drill):
    engine = make_engine(drill.url(drill.restored_port))
    with engine.connect() as conn:
        assert conn.execute(text("SHOW archive_mode")).scalar() == "off"
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is False  # promoted: it takes writes
    engine.dispose()


def test_secret_and_settings_restored_beside_the_data_for_their_owner_only(drill):
    key = drill.into / "hmac.key"
    assert key.read_bytes() == (drill.var / "hmac.key").read_bytes()
    assert (drill.into / "settings" / "dotenv").read_text() == DOTENV
    environment = (drill.into / "settings" / "environment").read_text()
    assert f"COVIDGIS_PG_PORT={drill.port}" in environment
    secrets = drill.var / "backup" / "secrets"
    private = [key, drill.into / "settings", *(drill.into / "settings").iterdir(), secrets, *secrets.rglob("*")]
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    if os.geteuid() == 0:  # the database's OS user can read the data, never the secret
        for path in (key, *secrets.rglob("hmac.key")):
            assert subprocess.run(["runuser", "-u", "postgres", "--", "test", "-r", str(path)]).returncode != 0
    assert not list((drill.var / "backup" / "repo").rglob("hmac.key"))  # the repository holds no secret


def test_feeds_after_a_restore_give_the_same_person_keys(drill):
    """The last batch again, into the restored cluster with the restored secret: the same keys as the original's."""
    env = {
        **drill.env,
        "DATABASE_URL": drill.url(drill.restored_port).replace("+psycopg2", ""),
        "COVIDGIS_VAR_DIR": str(drill.into),
    }
    ingest(env, drill.top, drill.batches[3])
    again = state(drill.url(drill.restored_port))
    assert again["keys"] == drill.after["keys"]
    assert again["linked"] == drill.after["linked"]
    for table in ("events.cases", "events.tests", "events.quarantine_stays", "risk.zone"):
        assert again["tables"][table][0] == drill.after["tables"][table][0], table


def test_backup_list_shows_what_exists(drill):
    listed = json.loads(covidgis(drill.env, "db", "backup", "list", "--json", cwd=drill.top).stdout)
    assert [b["type"] for b in listed["backups"]] == ["full", "incr"]
    for b in listed["backups"]:
        assert b["database_bytes"] > 1e6 and 0 < b["stored_bytes"] <= b["database_bytes"]
        assert datetime.fromisoformat(b["started"]) <= datetime.fromisoformat(b["finished"]) <= drill.noted
    assert listed["wal"] and listed["wal"][0] <= listed["backups"][0]["wal"][0]
    assert len(listed["secrets"]) == 2  # one copy of the secret and settings per backup
    table = covidgis(drill.env, "db", "backup", "list", cwd=drill.top).stdout
    assert all(b["label"] in table for b in listed["backups"]) and "MB" in table


def test_backup_check_passes_when_archiving_works(drill):
    proc = covidgis(drill.env, "db", "backup", "check", cwd=drill.top)
    assert "WAL archiving" in proc.stdout and "HMAC secret" in proc.stdout


@pytest.mark.parametrize(
    "case",
    ["future", "not a time", "before every backup", "into a non-empty directory", "into the running cluster's data"],
)
def test_restore_refuses_clearly(drill, case):
    into = drill.top / f"refused-{case.replace(' ', '-')}"
    to = drill.noted.isoformat()
    if case == "future":
        to = "2999-01-01 00:00:00"
    elif case == "not a time":
        to = "last tuesday" + "x" * 500
    elif case == "before every backup":
        to = "2000-01-01T00:00:00+07:00"
    elif case == "into a non-empty directory":
        into.mkdir()
        (into / "something").write_text("keep me")
    else:
        into = drill.var / "pgdata" / "restore"
    proc = covidgis(drill.env, "db", "restore", "--to", to, "--into", str(into), cwd=drill.top, check=False)
    word = {
        "future": "future",
        "not a time": "not a time",
        "before every backup": "no backup",
        "into a non-empty directory": "not empty",
        "into the running cluster's data": "data directory",
    }[case]
    line = assert_one_line_error(proc, word)
    assert len(line) < 400
    if case == "into a non-empty directory":
        assert [p.name for p in into.iterdir()] == ["something"]
    assert not (drill.var / "pgdata" / "restore").exists()


def test_the_restored_cluster_can_become_the_database(drill):
    """The runbook's switch-over: stop the copy, start it as the project-local cluster, back it up, check it."""
    Cluster(data_dir=drill.into / "pgdata", socket_dir=drill.into / "pgsock", port=drill.restored_port).stop()
    env = local_env(drill.into, drill.restored_port)
    covidgis(env, "db", "start", cwd=drill.top)
    covidgis(env, "db", "backup", "--type", "full", cwd=drill.top)
    checked = covidgis(env, "db", "backup", "check", cwd=drill.top).stdout
    assert str(drill.into / "backup" / "repo") in checked  # its own repository, not the original's
    listed = json.loads(covidgis(env, "db", "backup", "list", "--json", cwd=drill.top).stdout)
    assert [b["type"] for b in listed["backups"]] == ["full"]
    assert (drill.into / "backup" / "secrets").is_dir() and (drill.into / "hmac.key").exists()
