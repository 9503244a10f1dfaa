"""`covidgis hotline list|update` through the real CLI on real PostGIS: the same transition rules as the Open311
status route (one function), refusals exit 2 naming why, the change kept with operator and note, `--open`."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli
from sqlalchemy import text

HAMLET, COMMUNE = "25996-01", "25996"
INSERT = """
INSERT INTO hotline.request (token, service_code, description, caller_key, area_code, commune_code, located_by)
VALUES ('t1', 'food_support', 'Nhà tôi hết gạo, gọi 0912345678', 'k1', :a, :c, 'code'),
       ('t2', 'violation', 'tụ tập', NULL, :a, :c, 'code')
RETURNING request_id
"""


@pytest.fixture(scope="module")
def requests_made(engine):
    """Two requests (food support, a violation) straight into the table, as the POST writes them."""
    with engine.begin() as conn:
        ids = conn.execute(text(INSERT), {"a": HAMLET, "c": COMMUNE}).scalars().all()
    return [str(i) for i in ids]


def cli(db_url, *args, check=True):
    return run_cli("hotline", *args, database_url=db_url, check=check, env={"COLUMNS": "200"})


def test_update_follows_the_routes_rules(db_url, engine, requests_made):
    first, _ = requests_made
    moved = json.loads(cli(db_url, "update", first, "--status", "assigned", "--note", "giao tổ 3", "--operator",
                           "tv.lan", "--json").stdout)  # fmt: skip
    assert moved["count"] == 1 and moved["requests"][0]["status"] == "assigned"
    assert "description" not in moved["requests"][0]
    refused = cli(db_url, "update", first, "--status", "open", check=False)  # assigned → open: not a move
    assert refused.returncode == 2 and "cannot become open" in refused.stderr
    unknown = cli(db_url, "update", first, "--status", "done", check=False)
    assert unknown.returncode == 2 and "unknown status" in unknown.stderr
    missing = cli(db_url, "update", "999999", "--status", "closed", check=False)
    assert missing.returncode == 2 and "no request 999999" in missing.stderr
    for status in ("in_progress", "closed", "reopened"):
        cli(db_url, "update", first, "--status", status, "--operator", "tv.lan")
    with engine.connect() as conn:
        log = conn.execute(
            text("SELECT from_status, to_status, operator, note FROM hotline.status_change WHERE request_id = :i "
                 "ORDER BY change_id"), {"i": int(first)},
        ).all()  # fmt: skip
    moves = [("open", "assigned"), ("assigned", "in_progress"), ("in_progress", "closed"), ("closed", "reopened")]
    assert [tuple(r[:2]) for r in log] == moves  # the refused moves left nothing
    assert ("tv.lan", "giao tổ 3") in {(r[2], r[3]) for r in log}


def test_list_open_and_all(db_url, requests_made):
    first, second = requests_made
    cli(db_url, "update", second, "--status", "closed")
    everything = json.loads(cli(db_url, "list", "--json").stdout)
    assert {r["service_request_id"] for r in everything["requests"]} >= {first, second}
    still_open = json.loads(cli(db_url, "list", "--open", "--json").stdout)
    assert still_open["open_only"] is True
    assert second not in {r["service_request_id"] for r in still_open["requests"]}
    assert all(r["status"] != "closed" for r in still_open["requests"])
    shown = cli(db_url, "list").stdout
    assert "0912345678" not in shown and "hết gạo" not in shown and "food_support" in shown
