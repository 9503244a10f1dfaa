"""The 1022 hotline's Open311 GeoReport v2 endpoints on real PostGIS and a running server."""

from __future__ import annotations

import pytest
import requests
from conftest import run_cli, running_server
from sqlalchemy import text

BASE = "/open311/v2"
HAMLET, COMMUNE = "25996-01", "25996"
SCRIPT = "<script>alert('loi')</script> Nhà tôi hết gạo"


@pytest.fixture(scope="module")
def served(db_url, tmp_path_factory):
    with running_server(db_url, tmp_path_factory.mktemp("hotline-var"), COVIDGIS_SERVE_TOKEN_TTL_SECONDS="0") as base:
        yield base


@pytest.fixture(scope="module")
def hotline_token(served, db_url):
    return run_cli("users", "add", "test-hotline", "--role", "hotline", database_url=db_url).stdout.strip()


def post(base, **fields):
    return requests.post(f"{base}{BASE}/requests.json", data=fields, timeout=10)


def assert_error(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"]


def test_services(served):
    services = requests.get(f"{served}{BASE}/services.json", timeout=10).json()
    assert [s["service_code"] for s in services] == ["food_support", "medical_help", "violation", "other"]
    assert services[0]["service_name"].startswith("Hỗ trợ")


def test_post_routes_to_the_commune_and_links_duplicates(served, engine):
    with engine.connect() as conn:  # a point inside the hamlet
        POINT = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM admin.area"
                " WHERE code = :c AND valid_to IS NULL) x"
            ),
            {"c": HAMLET},
        ).one()
    first = post(
        served, service_code="food_support", lat=POINT[1], long=POINT[0], description=SCRIPT, phone="0912 345 678"
    )
    assert first.status_code == 201, first.text
    created = first.json()[0]
    second = post(served, service_code="food_support", lat=POINT[1] + 0.0002, long=POINT[0])  # ~22 m away
    by_caller = post(served, service_code="food_support", area_code="26002", phone="+84912345678")
    other_service = post(served, service_code="violation", lat=POINT[1], long=POINT[0])
    with engine.connect() as conn:
        rows = (
            conn.execute(
                text(
                    "SELECT request_id, area_code, commune_code, duplicate_of, persons_affected,"
                    " caller_key, description"
                    " FROM hotline.request ORDER BY request_id"
                )
            )
            .mappings()
            .all()
        )
    ids = {r["request_id"]: r for r in rows}
    head = ids[int(created["service_request_id"])]
    assert (head["area_code"], head["commune_code"]) == (HAMLET, COMMUNE)
    assert head["persons_affected"] == 3
    assert head["caller_key"] and "0912" not in head["caller_key"]
    assert head["description"] == SCRIPT
    assert ids[int(second.json()[0]["service_request_id"])]["duplicate_of"] == head["request_id"]
    assert ids[int(by_caller.json()[0]["service_request_id"])]["duplicate_of"] == head["request_id"]
    assert ids[int(other_service.json()[0]["service_request_id"])]["duplicate_of"] is None

    one = requests.get(f"{served}{BASE}/requests/{created['service_request_id']}.json", timeout=10)
    assert one.status_code == 200
    public = one.json()[0]
    assert public["hamlet_code"] == HAMLET and public["status"] == "open" and public["persons_affected"] == 3
    for page in (one.text, requests.get(f"{served}{BASE}/requests.json", timeout=10).text):
        assert "script" not in page and "hết gạo" not in page and "0912" not in page
        assert str(POINT[0])[:7] not in page and '"lat"' not in page and '"long"' not in page
    token = requests.get(f"{served}{BASE}/tokens/{created['token']}.json", timeout=10).json()
    assert token == [{"service_request_id": created["service_request_id"], "token": created["token"]}]
    filtered = requests.get(f"{served}{BASE}/requests.json", params={"service_code": "violation"}, timeout=10).json()
    assert {r["service_code"] for r in filtered} == {"violation"}


def test_status_updates_need_the_hotline_role(served, hotline_token):
    rid = post(served, service_code="medical_help", area_code=HAMLET).json()[0]["service_request_id"]
    url = f"{served}{BASE}/requests/{rid}/status"
    assert_error(requests.post(url, data={"status": "assigned"}, timeout=10), 401)
    auth = {"Authorization": f"Bearer {hotline_token}"}
    for status in ("assigned", "in_progress", "closed", "reopened"):
        answer = requests.post(url, data={"status": status}, headers=auth, timeout=10)
        assert answer.status_code == 200 and answer.json()[0]["status"] == status, answer.text
    assert_error(requests.post(url, data={"status": "open"}, headers=auth, timeout=10), 400)
    assert_error(
        requests.post(f"{served}{BASE}/requests/999999/status", data={"status": "closed"}, headers=auth, timeout=10),
        404,
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"service_code": "pizza", "area_code": HAMLET},
        {"service_code": "other"},
        {"service_code": "other", "lat": "10.0", "long": "100.0"},
        {"service_code": "other", "area_code": HAMLET, "description": "x" * 4001},
        {"service_code": "other", "lat": "nan", "long": "106.8"},
        {"service_code": "other", "area_code": "99999"},
    ],
)
def test_bad_input_is_the_error_array(served, fields):
    assert_error(post(served, **fields), 400)


def test_unknown_ids_are_404(served):
    assert_error(requests.get(f"{served}{BASE}/requests/424242.json", timeout=10), 404)
    assert_error(requests.get(f"{served}{BASE}/requests/abc.json", timeout=10), 404)
    assert_error(requests.get(f"{served}{BASE}/tokens/nope.json", timeout=10), 404)
    assert_error(requests.get(f"{served}{BASE}/requests.json", params={"status": "lost"}, timeout=10), 400)


def test_queue_layer_is_for_hotline_and_welfare(served, db_url, hotline_token):
    post(served, service_code="other", area_code=HAMLET)
    url = f"{served}/collections/hotline-requests/items?f=json&limit=1000"
    assert requests.get(url, timeout=10).status_code == 401
    analyst = run_cli("users", "add", "test-analyst-h", "--role", "analyst", database_url=db_url).stdout.strip()
    assert requests.get(url, headers={"Authorization": f"Bearer {analyst}"}, timeout=10).status_code == 403
    answer = requests.get(url, headers={"Authorization": f"Bearer {hotline_token}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    rows = [f["properties"] for f in answer.json()["features"] if f["properties"]["code"] == HAMLET]
    assert rows and sum(r["open"] for r in rows) >= 1
    assert "script" not in answer.text and all("description" not in r and "phone" not in r for r in rows)
