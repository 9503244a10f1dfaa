"""HTTP pull of a feed's URL: conditional GET, unchanged exports skipped, retries while the server is down, errors
logged without holding back the drop folder. A real HTTP server on 127.0.0.1 and the real `covidgis ingest watch`."""

from __future__ import annotations

import email.utils
import hashlib
import json
import subprocess
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from conftest import free_port
from ingest_fixtures import COVIDGIS, ROOT, covidgis, ingest_env, ingest_json  # noqa: F401  (fixtures)
from sqlalchemy import text

HEADER = "Mã mẫu,Số CCCD/SĐT,Ngày lấy mẫu,Loại xét nghiệm,Kết quả,Mã địa bàn\n"


def _tests_csv(prefix: str, first: int, n: int) -> bytes:
    """n test rows with sample ids <prefix>0001…; ID card numbers start with the non-existent province code 999."""
    rows = "".join(
        f"{prefix}{i:04d},9991902{i:05d},16/07/2021 09:00,RT-PCR,Âm tính,26020-01\n" for i in range(first, first + n)
    )
    return (HEADER + rows).encode("utf-8")


class Export:
    """What the fake export server answers: the current body with the validators it keeps, or an error status."""

    def __init__(self, body: bytes, validators: str = "etag"):
        self.validators = validators  # "etag", "last_modified" or "none"
        self.status = 200
        self.cut_short = 0  # answers still to send cut to half their body (Content-Length says the whole)
        self.answers: list[int] = []
        self.conditional: list[dict] = []  # the validators each request sent back
        self.version = 0
        self.publish(body)

    def publish(self, body: bytes) -> None:
        self.body = body
        self.version += 1
        self.etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        self.modified = email.utils.formatdate(1_626_400_000 + 3600 * self.version, usegmt=True)


class _Server(ThreadingHTTPServer):
    export: Export  # what the handler serves


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        assert isinstance(self.server, _Server)
        export = self.server.export
        sent = {"etag": self.headers.get("If-None-Match"), "last_modified": self.headers.get("If-Modified-Since")}
        export.conditional.append(sent)
        if export.status != 200:
            export.answers.append(export.status)
            self.send_error(export.status)
            return
        unchanged = (export.validators == "etag" and sent["etag"] == export.etag) or (
            export.validators == "last_modified" and sent["last_modified"] == export.modified
        )
        export.answers.append(304 if unchanged else 200)
        self.send_response(export.answers[-1])
        if export.validators == "etag":
            self.send_header("ETag", export.etag)
        if export.validators == "last_modified":
            self.send_header("Last-Modified", export.modified)
        if unchanged:
            self.end_headers()
            return
        self.send_header("Content-Type", "text/csv; charset=utf-8")
        self.send_header("Content-Length", str(len(export.body)))
        self.end_headers()
        if export.cut_short:
            export.cut_short -= 1
            self.wfile.write(export.body[: len(export.body) // 2])
            self.close_connection = True
            return
        self.wfile.write(export.body)

    def log_message(self, *args):
        pass


@contextmanager
def serving(export: Export, port: int):
    server = _Server(("127.0.0.1", port), _Handler)
    server.export = export
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def pull_env(ingest_env, tmp_path) -> dict:
    """Feeds as shipped, but `tests` pulled from a local URL; a private drop folder; a short back-off."""
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}/xet-nghiem.csv"
    for path in (ROOT / "ingest" / "feeds").glob("*.yml"):
        definition = yaml.safe_load(path.read_text(encoding="utf-8"))
        if path.stem == "tests":
            definition["schedule"] = {**definition.get("schedule", {}), "url": url}
        (feeds / path.name).write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    return {
        **ingest_env,
        "COVIDGIS_INGEST_FEEDS_DIR": str(feeds),
        "COVIDGIS_INGEST_DROP_DIR": str(tmp_path / "drop"),
        "COVIDGIS_INGEST_RETRY_BACKOFF_S": "0.5",
        "COLUMNS": "400",
        "PORT": str(port),
    }


def _watch_once(covidgis, env: dict) -> tuple[list[dict], str]:
    proc = covidgis("ingest", "watch", "--once", env=env)
    return json.loads(proc.stdout)["results"], proc.stderr


def _drop(env: dict, feed: str = "tests") -> Path:
    return Path(env["COVIDGIS_INGEST_DROP_DIR"]) / feed


def _waiting(env: dict, feed: str = "tests") -> list[str]:
    """Files in the feed's drop folder not ingested yet (the pull's own state and scratch folder aside)."""
    return sorted(p.name for p in _drop(env, feed).iterdir() if p.is_file() and not p.name.startswith("."))


def _batches(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM ingest.batch WHERE feed = 'tests'")).scalar()


def _rows(engine, prefix: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM events.tests WHERE sample_id LIKE :p"), {"p": f"{prefix}%"}
        ).scalar()


def _of_feed(results: list[dict], feed: str = "tests") -> list[dict]:
    return [r for r in results if r["feed"] == feed]


def test_a_served_export_is_pulled_and_ingested(engine, covidgis, pull_env):
    body = _tests_csv("XN-PA", 1, 40)
    export = Export(body)
    with serving(export, int(pull_env["PORT"])):
        results, _ = _watch_once(covidgis, pull_env)
    [batch] = _of_feed(results)
    assert (batch["accepted"], batch["rejected"], batch["sha256"]) == (40, 0, hashlib.sha256(body).hexdigest())
    assert _rows(engine, "XN-PA") == 40
    done = _drop(pull_env) / "done"
    assert [p.name for p in done.iterdir()] == [f"{batch['batch_id']}-{batch['file']}"]
    assert (done / f"{batch['batch_id']}-{batch['file']}").read_bytes() == body
    assert _waiting(pull_env) == [] and list((_drop(pull_env) / ".partial").iterdir()) == []
    state = json.loads((_drop(pull_env) / ".pull-state.json").read_text())
    assert (state["etag"], state["sha256"], state["file"]) == (export.etag, batch["sha256"], batch["file"])


@pytest.mark.parametrize("validators, second_answer", [("etag", 304), ("last_modified", 304), ("none", 200)])
def test_an_unchanged_export_is_not_pulled_again(engine, covidgis, pull_env, validators, second_answer):
    prefix = f"XN-PB{validators[0].upper()}"
    export = Export(_tests_csv(prefix, 1, 25), validators)
    with serving(export, int(pull_env["PORT"])):
        first, _ = _watch_once(covidgis, pull_env)
        batches = _batches(engine)
        second, err = _watch_once(covidgis, pull_env)
    assert _of_feed(first)[0]["accepted"] == 25
    assert _of_feed(second) == []  # no file, so no batch of duplicates
    assert _batches(engine) == batches and _rows(engine, prefix) == 25
    assert export.answers == [200, second_answer]
    sent = export.conditional[1]
    assert sent == {
        "etag": export.etag if validators == "etag" else None,
        "last_modified": export.modified if validators == "last_modified" else None,
    }
    assert len(list((_drop(pull_env) / "done").iterdir())) == 1 and _waiting(pull_env) == []
    assert ("not modified" if second_answer == 304 else "same SHA-256") in err


def test_a_changed_export_is_pulled_as_a_new_batch(engine, covidgis, pull_env):
    export = Export(_tests_csv("XN-PC", 1, 30))
    with serving(export, int(pull_env["PORT"])):
        first, _ = _watch_once(covidgis, pull_env)
        export.publish(_tests_csv("XN-PC", 1, 45))  # the export grew: 15 new rows
        second, _ = _watch_once(covidgis, pull_env)
        third, _ = _watch_once(covidgis, pull_env)
    [a], [b] = _of_feed(first), _of_feed(second)
    assert (a["accepted"], b["accepted"], b["duplicates"]) == (30, 15, 30)
    assert b["batch_id"] > a["batch_id"] and b["sha256"] == hashlib.sha256(export.body).hexdigest()
    assert _of_feed(third) == [] and export.answers == [200, 200, 304]
    assert export.conditional[1]["etag"] != export.etag  # it asked with the old version's tag
    assert _rows(engine, "XN-PC") == 45
    assert len(list((_drop(pull_env) / "done").iterdir())) == 2


def test_the_pull_retries_until_the_server_comes_up(engine, covidgis, pull_env):
    export = Export(_tests_csv("XN-PD", 1, 20))
    proc = subprocess.Popen(
        [str(COVIDGIS), "ingest", "watch", "--once"],
        cwd=ROOT,
        env=pull_env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        seen = []
        assert proc.stderr is not None  # piped
        for line in proc.stderr:  # nothing listens yet: the first attempt is refused
            seen.append(line)
            if "retry 1 of" in line:
                break
        assert any("retry 1 of" in line for line in seen), "".join(seen)
        with serving(export, int(pull_env["PORT"])):  # comes up during the back-off
            out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, "".join(seen) + err
    assert "Connection refused" in "".join(seen)
    [batch] = _of_feed(json.loads(out)["results"])
    assert batch["accepted"] == 20 and _rows(engine, "XN-PD") == 20
    assert export.answers == [200]


def test_a_body_cut_short_is_never_ingested_as_half_a_file(engine, covidgis, pull_env):
    body = _tests_csv("XN-PF", 1, 60)
    export = Export(body)
    export.cut_short = 1
    with serving(export, int(pull_env["PORT"])):
        results, err = _watch_once(covidgis, pull_env)
    assert f"ended after {len(body) // 2} of {len(body)} bytes" in err and "retry 1 of" in err
    [batch] = _of_feed(results)
    assert (batch["rows"], batch["accepted"], batch["rejected"]) == (60, 60, 0)
    assert batch["sha256"] == hashlib.sha256(body).hexdigest() and export.answers == [200, 200]
    assert list((_drop(pull_env) / ".partial").iterdir()) == []


@pytest.mark.parametrize("failure", [404, 500, "unreachable"])
def test_a_failed_pull_is_logged_and_the_drop_folder_still_ingested(engine, covidgis, pull_env, failure):
    prefix = f"XN-PE{failure if failure != 'unreachable' else 'U'}-"
    dropped = _drop(pull_env)
    dropped.mkdir(parents=True)
    (dropped / "tests_dropped.csv").write_bytes(_tests_csv(prefix, 1, 10))
    venues = _drop(pull_env, "venues")
    venues.mkdir(parents=True)
    venue_id = f"QR-{prefix}1"
    (venues / "venues.csv").write_text(f"Mã địa điểm,Tên địa điểm,Mã địa bàn\n{venue_id},Chợ,26020\n", encoding="utf-8")
    export = Export(_tests_csv(prefix, 100, 5))
    export.status = failure if failure != "unreachable" else 200
    env = {**pull_env, "COVIDGIS_INGEST_RETRIES": "2", "COVIDGIS_INGEST_RETRY_BACKOFF_S": "0.1"}
    if failure == "unreachable":
        results, err = _watch_once(covidgis, env)
    else:
        with serving(export, int(pull_env["PORT"])):
            results, err = _watch_once(covidgis, env)
    [pull_error, batch] = _of_feed(results)
    expected = f"HTTP {failure}" if failure != "unreachable" else "failed after 2 retries"
    assert expected in pull_error["error"] and pull_error["url"].endswith("/xet-nghiem.csv")
    assert expected in err and "Traceback" not in err
    assert (batch["file"], batch["accepted"]) == ("tests_dropped.csv", 10)
    assert _rows(engine, prefix) == 10  # only the dropped file's rows: nothing was pulled
    assert [r["accepted"] for r in _of_feed(results, "venues")] == [1]
    assert export.answers == ([] if failure == "unreachable" else [failure])  # an HTTP error is not retried
    assert not (dropped / ".pull-state.json").exists() and _waiting(pull_env) == []
