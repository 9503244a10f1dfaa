"""The coordinator page's JSON API over real HTTP (`covidgis serve`): every /care/api route is 401 without a token
(WWW-Authenticate: Bearer) and 403 for another role; the requests with person keys, offers and waiting minutes; the
facilities' occupancy now without person data; an acceptance recorded under the token's user (never the body's);
bad bodies and unknown requests are 400 / 404 / 413 / 422 and refusals 409 with the reason, never a 5xx."""

from __future__ import annotations

import pytest
import requests
from care_page_support import MARKUP_NAME, MARKUP_REASON, P1, P2, P5, P7, seed
from care_support import person_key
from conftest import run_cli, running_server
from sqlalchemy import text

ROUTES = [("GET", "/care/api/transfers"), ("GET", "/care/api/facilities"), ("POST", "/care/api/transfers/1/accept")]
FACILITY_FIELDS = {
    "facility_id", "name", "kind", "tier", "beds", "staffed_beds", "occupied", "promised", "free_staffed_beds",
}  # fmt: skip


@pytest.fixture(scope="module")
def seeded(engine, tmp_path_factory):
    return seed(engine, tmp_path_factory.mktemp("care-api"))


@pytest.fixture(scope="module")
def served(seeded, db_url, tmp_path_factory):
    with running_server(db_url, tmp_path_factory.mktemp("care-api-var"), COVIDGIS_SERVE_TOKEN_TTL_SECONDS="0") as base:
        yield base


@pytest.fixture(scope="module")
def tokens(served, db_url):
    return {
        name: run_cli("users", "add", name, "--role", role, database_url=db_url).stdout.strip()
        for name, role in (("ca-truc-1", "coordinator"), ("an-analyst", "analyst"), ("a-tracer", "tracer"))
    }


def call(served, method, path, token=None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, served + path, headers={**headers, **kw.pop("headers", {})}, timeout=60, **kw)


def accept(served, token, request_id, body=None, **kw):
    return call(served, "POST", f"/care/api/transfers/{request_id}/accept", token, json=body, **kw)


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_api_route_is_401_without_a_token_and_403_for_another_role(served, tokens, method, path):
    anonymous = call(served, method, path, json={"facility": "H2A"})
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    assert anonymous.json()["reason"] == "unauthorized" and "coordinator" in anonymous.json()["message"]
    for role in ("an-analyst", "a-tracer"):
        denied = call(served, method, path, tokens[role], json={"facility": "H2A"})
        assert denied.status_code == 403, denied.text
        assert denied.json()["reason"] == "forbidden" and "may not coordinate transfers" in denied.json()["message"]
    unknown = call(served, method, path, "cgis_not-a-real-token", json={"facility": "H2A"})
    assert unknown.status_code == 401  # refused by the auth middleware before the route


def test_the_page_is_static_with_its_assets_from_this_server(served, seeded):
    page = requests.get(f"{served}/care", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    html = page.text
    assert '<html lang="vi">' in html and "Điều phối chuyển tầng F0" in html
    assert person_key(P1) not in html and "Trạm y tế" not in html  # no data in the page
    for asset in ("/care/static/care.js", "/care/static/care.css"):
        assert f'"{asset}"' in html
        assert requests.get(served + asset, timeout=30).status_code == 200
    assert "http://" not in html.replace(served, "") and "https://" not in html  # nothing from elsewhere


def test_transfers_lists_open_requests_with_person_keys_offers_and_waiting_minutes(served, tokens, seeded):
    resp = call(served, "GET", "/care/api/transfers", tokens["ca-truc-1"])
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "private, no-store"
    body = resp.json()
    by_id = {r["request_id"]: r for r in body["requests"]}
    assert list(by_id) == [seeded.r1, seeded.r2, seeded.r3]
    first = by_id[seeded.r1]
    assert (first["person_key"], first["from_facility"], first["from_name"]) == (
        person_key(P1), "T1", "Trạm y tế lưu động",
    )  # fmt: skip
    assert (first["required_tier"], first["reason"], first["status"]) == (2, MARKUP_REASON, "open")
    assert first["waiting_minutes"] >= 0
    assert [(o["facility_id"], o["name"], o["free_staffed_beds"]) for o in first["offers"]] == [
        ("H2A", "Bệnh viện tầng 2 A", 1),
        ("H2B", MARKUP_NAME, 2),
    ]
    assert first["offers"][0]["distance_km"] == pytest.approx(1.42, abs=0.02)  # 1.09 km great-circle × 1.3
    assert by_id[seeded.r3]["offers"] == [] and by_id[seeded.r3]["person_key"] == person_key(P2)
    assert [(k["required_tier"], k["requests"], k["placed"]) for k in body["kpis"]] == [(2, 2, 0), (3, 1, 0)]


def test_facilities_give_occupancy_now_without_person_data(served, tokens, seeded):
    resp = call(served, "GET", "/care/api/facilities", tokens["ca-truc-1"])
    assert resp.status_code == 200, resp.text
    rows = {f["facility_id"]: f for f in resp.json()["facilities"]}
    assert all(set(f) == FACILITY_FIELDS for f in rows.values())
    got = {
        k: (f["kind"], f["tier"], f["beds"], f["staffed_beds"], f["occupied"], f["free_staffed_beds"])
        for k, f in rows.items()
    }
    assert got == {
        "T1": ("treatment", 1, 10, 10, 2, 8),
        "H2A": ("treatment", 2, 1, 1, 0, 1),
        "H2B": ("treatment", 2, 3, 3, 1, 2),
        "Q1": ("quarantine", None, 20, 20, 1, 19),
    }
    assert list(rows)[-1] == "Q1"  # treatment facilities first
    assert rows["H2B"]["name"] == MARKUP_NAME
    assert not any(person_key(p) in resp.text for p in (P1, P2, P5, P7))


@pytest.mark.parametrize(
    ("data", "status", "reason", "says"),
    [
        (b"not json", 400, "bad_json", "not JSON"),
        (b'["H2A"]', 400, "bad_json", "must be a JSON object"),
        (b"[" * 2000 + b"]" * 2000, 400, "bad_json", "not JSON"),  # nested past the parser's depth
        (b"\xff\xfe{}", 400, "bad_json", "not JSON"),
        (b"{}", 422, "invalid_fields", "facility: Field required"),
        (b'{"facility": 7}', 422, "invalid_fields", "facility: Input should be a valid string"),
        (b'{"facility": ""}', 422, "invalid_fields", "facility: String should have at least 1 character"),
        (b'{"facility": "H2A", "by": "someone else"}', 422, "invalid_fields", "by: Extra inputs are not permitted"),
        (b'{"facility": "' + b"x" * 5000 + b'"}', 413, "too_large", "over 4096 bytes"),
    ],
)
def test_bad_bodies_are_4xx_with_the_reason(served, tokens, seeded, data, status, reason, says):
    resp = accept(served, tokens["ca-truc-1"], seeded.r1, data=data, headers={"Content-Type": "application/json"})
    assert resp.status_code == status, resp.text
    assert resp.json()["reason"] == reason and says in resp.json()["message"], resp.text


@pytest.mark.parametrize("request_id", ["99999", "abc", "9" * 30, "-1", "１２"])
def test_an_unknown_request_is_404(served, tokens, seeded, request_id):
    resp = accept(served, tokens["ca-truc-1"], request_id, {"facility": "H2A"})
    assert resp.status_code == 404, resp.text
    assert resp.json()["reason"] == "not_found" and "no transfer request" in resp.json()["message"]


def test_accept_records_the_token_user_then_refusals_are_409_with_the_reason(served, tokens, seeded, engine):
    coordinator = tokens["ca-truc-1"]
    done = accept(served, coordinator, seeded.r1, {"facility": "H2A"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["request_id"], body["status"], body["to_facility"], body["free_staffed_beds"]) == (
        seeded.r1, "accepted", "H2A", 1,
    )  # fmt: skip
    assert body["distance_km"] == pytest.approx(1.42, abs=0.02)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT status, to_facility, accepted_by FROM care.transfer_request WHERE request_id = :r"),
            {"r": seeded.r1},
        ).one()
    assert tuple(row) == ("accepted", "H2A", "ca-truc-1")

    refusals = [
        (seeded.r1, "H2B", "already accepted (to H2A)"),
        (seeded.r2, "H2A", "H2A has no free staffed bed of the right kind"),  # the last bed is promised to r1
        (seeded.r2, "T1", "T1 is not a tier 2 treatment facility (tier 1)"),
        (seeded.r2, "NOWHERE", "unknown facility 'NOWHERE'"),
        (seeded.r3, "H2B", "H2B is not a tier 3 treatment facility"),
    ]
    for request_id, facility, says in refusals:
        refused = accept(served, coordinator, request_id, {"facility": facility})
        assert refused.status_code == 409, refused.text
        assert refused.json()["reason"] == "refused" and says in refused.json()["message"], refused.text
        assert " — " in refused.json()["message"]  # Vietnamese first, then English

    facilities = {
        f["facility_id"]: f for f in call(served, "GET", "/care/api/facilities", coordinator).json()["facilities"]
    }
    assert (facilities["H2A"]["promised"], facilities["H2A"]["free_staffed_beds"]) == (1, 0)
    listed = {r["request_id"]: r for r in call(served, "GET", "/care/api/transfers", coordinator).json()["requests"]}
    assert (listed[seeded.r1]["status"], listed[seeded.r1]["to_name"]) == ("accepted", "Bệnh viện tầng 2 A")
    assert [o["facility_id"] for o in listed[seeded.r2]["offers"]] == ["H2B"]  # H2A is full now
