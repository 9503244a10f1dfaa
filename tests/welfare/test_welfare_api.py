"""POST /welfare/api/deliveries against a running server on real PostGIS: 201, the duplicate's 409 naming the
earlier delivery, refusals with nothing written, credentials, and the race of concurrent officers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import run_cli, running_server
from sqlalchemy import text
from welfare_support import add_household, hamlets

RENTERS = "dongnai-4346-2021-renters"  # dedup person, 1 May–31 Dec 2021


@pytest.fixture(scope="module")
def places(engine):
    a, b = hamlets(engine, 2)
    add_household(engine, "API-1", a, ["k1a", "k1b"])
    add_household(engine, "API-B", b, ["kba"])
    for i in range(8):
        add_household(engine, f"RACE-{i}", a, [f"race{i}"])
    return a, b


@pytest.fixture(scope="module")
def server(engine, db_url, places, tmp_path_factory):
    with running_server(db_url, tmp_path_factory.mktemp("welfare-var"), COVIDGIS_SERVE_TOKEN_TTL_SECONDS="0") as base:
        yield base


@pytest.fixture(scope="module")
def tokens(server, db_url, places):
    (_, commune_a), (_, commune_b) = places
    add = lambda *a: run_cli("users", "add", *a, database_url=db_url).stdout.strip()  # noqa: E731
    return {
        "a": add("cb.a", "--role", "welfare", "--area", commune_a),
        "a2": add("cb.a2", "--role", "welfare", "--area", commune_a),
        "b": add("cb.b", "--role", "welfare", "--area", commune_b),
        "analyst": add("an.1", "--role", "analyst"),
    }


def post(server, token: str | None, body, raw: bytes | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if raw is not None:
        return requests.post(f"{server}/welfare/api/deliveries", data=raw, headers=headers, timeout=30)
    return requests.post(f"{server}/welfare/api/deliveries", json=body, headers=headers, timeout=30)


def body(household: str, **kw) -> dict:
    return {
        "programme": RENTERS,
        "household_id": household,
        "at": "2021-08-20T10:00:00+07:00",
        "amount_vnd": 300_000,
        **kw,
    }


def rows(engine, household: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM welfare.delivery WHERE household_id = :h"), {"h": household}
        ).scalar()


def test_201_then_409_naming_the_earlier_delivery(server, tokens, engine, places):
    first = post(server, tokens["a"], body("API-1"))
    assert first.status_code == 201, first.text
    stored = first.json()
    assert stored["officer"] == "cb.a" and stored["commune_code"] == places[0][1] and stored["entry_id"]
    again = post(server, tokens["a2"], body("API-1", at="2021-08-21T09:00:00+07:00"))
    assert again.status_code == 409, again.text
    refusal = again.json()
    assert refusal["reason"] == "duplicate"
    earlier = refusal["earlier"]
    assert (earlier["distribution_id"], earlier["officer"], earlier["day"]) == (
        stored["distribution_id"],
        "cb.a",
        "2021-08-20",
    )
    assert earlier["commune_code"] == places[0][1] and "subject_key" not in earlier
    assert rows(engine, "API-1") == 1


@pytest.mark.parametrize(
    "who, payload, status, reason",
    [
        ("a", body("NO-SUCH-HOUSEHOLD"), 422, "unknown_household"),
        ("a", body("API-B"), 422, "outside_scope"),  # commune B's household, commune A's officer
        ("a", body("API-B", at="2021-01-10T10:00:00+07:00"), 422, "programme_not_open"),
        ("a", body("API-B", programme="/etc/passwd"), 422, "unknown_programme"),
        ("a", body("API-B", amount_vnd="300000"), 422, "invalid_fields"),
        ("a", body("API-B", at="2021-08-20T10:00:00"), 422, "invalid_delivery"),  # no time zone
        ("a", body("API-B", officer="someone else"), 422, "invalid_fields"),
        ("a", {"household_id": "API-B"}, 422, "invalid_fields"),
        ("a", [1, 2], 400, "bad_json"),
        ("analyst", body("API-B"), 403, "forbidden"),
        (None, body("API-B"), 401, "unauthorized"),
    ],
)
def test_bad_requests_are_refused_with_a_reason_and_nothing_written(
    server, tokens, engine, who, payload, status, reason
):
    resp = post(server, tokens[who] if who else None, payload)
    assert resp.status_code == status, resp.text
    assert resp.json()["reason"] == reason and resp.json()["message"]
    assert rows(engine, "API-B") == 0


@pytest.mark.parametrize(
    "raw, status, reason",
    [
        (b'{"programme": ', 400, "bad_json"),
        (b"[" * 2000 + b"]" * 2000, 400, "bad_json"),  # nested past the parser's depth (was a 500)
        (b"\xff\xfe{}", 400, "bad_json"),
        (b'{"kit": "' + b"x" * 20_000 + b'"}', 413, "too_large"),
    ],
)
def test_broken_or_oversized_json_is_a_4xx(server, tokens, engine, raw, status, reason):
    resp = post(server, tokens["a"], None, raw=raw)
    assert resp.status_code == status and resp.json()["reason"] == reason, resp.text
    assert rows(engine, "API-B") == 0


def test_concurrent_officers_exactly_one_wins(server, tokens, engine):
    for i in range(8):
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(lambda n, h=f"RACE-{i}": post(server, tokens["a" if n % 2 else "a2"], body(h)), range(8))
            )
        codes = sorted(r.status_code for r in answers)
        assert codes == [201] + [409] * 7, [r.text for r in answers]
        assert rows(engine, f"RACE-{i}") == 1
