"""Two audiences, one source: anonymous callers see only public collections, restricted ones need a bearer token
whose role covers them, and the public side reads the database through a role that can only SELECT `pub`."""

import pytest
import requests
from conftest import run_cli
from serve_support import PUBLIC, RESTRICTED, bearer, filled, get_json, served, tokens  # noqa: F401
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

SUBPATHS = [
    "",
    "/",
    "/items",
    "/items?f=html",
    "/items/BN1",
    "/items/1",
    "/queryables",
    "/schema",
    "/tiles",
    "/tiles/WebMercatorQuad/10/480/816?f=mvt",
    "/nonexistent/deeper",
]


def ids(document: dict) -> set[str]:
    return {c["id"] for c in document["collections"]}


def test_anonymous_sees_only_public_collections(served):
    assert ids(get_json(f"{served}/collections")) == set(PUBLIC)
    html = requests.get(f"{served}/collections?f=html", timeout=30).text
    assert not any(f"/collections/{cid}" in html for cid in RESTRICTED)


def test_anonymous_openapi_has_no_restricted_paths(served, tokens):
    anonymous = requests.get(f"{served}/openapi?f=json", timeout=30).json()
    assert not [p for p in anonymous["paths"] if any(f"/collections/{cid}" in p for cid in RESTRICTED)]
    assert "/collections/zones/items" in anonymous["paths"]
    analyst = requests.get(f"{served}/openapi?f=json", headers=bearer(tokens["analyst"]), timeout=30).json()
    assert "/collections/cases/items" in analyst["paths"]


@pytest.mark.parametrize("cid", RESTRICTED)
def test_every_restricted_path_answers_401_without_credentials(served, cid):
    for sub in SUBPATHS:
        for method in ("GET", "HEAD", "POST", "OPTIONS"):
            resp = requests.request(method, f"{served}/collections/{cid}{sub}", timeout=30)
            assert resp.status_code == 401, (method, sub, resp.status_code)
            assert resp.headers["www-authenticate"].startswith("Bearer")


def test_tokens_by_role(served, tokens):
    analyst, committee = bearer(tokens["analyst"]), bearer(tokens["committee"])
    assert ids(get_json(f"{served}/collections", headers=analyst)) == set(PUBLIC) | set(RESTRICTED)
    cases = get_json(f"{served}/collections/cases/items", headers=analyst)
    assert cases["numberMatched"] == 3 and all(f["properties"]["person_key"] for f in cases["features"])
    rooms = get_json(f"{served}/collections/quarantine-facilities/items", headers=committee)["features"]
    assert [(f["properties"]["capacity"], f["properties"]["open_stays"]) for f in rooms] == [(300, 2)]
    assert ids(get_json(f"{served}/collections", headers=committee)) == set(PUBLIC) | set(RESTRICTED) - {
        "ingest-rejects"
    }
    assert requests.get(f"{served}/collections/ingest-rejects/items", headers=committee, timeout=30).status_code == 403
    rejects = get_json(f"{served}/collections/ingest-rejects/items", headers=analyst)["features"]
    assert rejects[0]["properties"]["reason"] == "unparseable_date"
    resp = requests.get(f"{served}/collections/cases/items", headers=analyst, timeout=30)
    assert resp.headers["cache-control"] == "private, no-store" and "etag" not in resp.headers


def test_bad_or_revoked_tokens_are_refused(served, db_url):
    assert requests.get(f"{served}/collections", headers=bearer("cgis_not-a-key"), timeout=30).status_code == 401
    assert requests.get(f"{served}/collections", headers={"Authorization": "Basic eDp5"}, timeout=30).status_code == 401
    token = run_cli("users", "add", "short-lived", "--role", "analyst", database_url=db_url).stdout.strip()
    assert requests.get(f"{served}/collections/cases/items", headers=bearer(token), timeout=30).status_code == 200
    listed = run_cli("users", "list", database_url=db_url).stdout
    assert "short-lived" in listed and token not in listed
    run_cli("users", "revoke", "short-lived", database_url=db_url)
    assert requests.get(f"{served}/collections/cases/items", headers=bearer(token), timeout=30).status_code == 401


def test_users_add_refuses_unknown_roles(db_url, served):
    proc = run_cli("users", "add", "someone", "--role", "admin", database_url=db_url, check=False)
    assert proc.returncode == 2 and "analyst" in proc.stderr


def _as(db_url: str, role: str):
    return create_engine(make_url(db_url).set(username=role))


@pytest.mark.parametrize(
    "table",
    [
        "events.cases",
        "risk.zone",
        "stats.indicator",
        "admin.area",
        "serve.api_key",
        "restricted.cases",
        "ingest.reject",
        "public.alembic_version",
    ],
)
def test_public_role_cannot_read_outside_pub(filled, db_url, table):
    engine = _as(db_url, "covidgis_public")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM pub.zones")).scalar() > 0
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1"))
    finally:
        engine.dispose()


def test_restricted_role_reads_views_not_tables(filled, db_url):
    engine = _as(db_url, "covidgis_restricted")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM restricted.cases")).scalar() == 3
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text("SELECT 1 FROM events.checkins LIMIT 1"))
    finally:
        engine.dispose()


def test_public_collections_connect_as_the_public_role(filled, served):
    with filled.connect() as conn:
        users = set(
            conn.execute(
                text(
                    "SELECT DISTINCT usename FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = 'pygeoapi'"
                )
            ).scalars()
        )
    assert "covidgis_public" in users and "postgres" not in users


def test_the_map_api_reads_as_the_public_role(filled, served):
    for path in (
        "/map",
        "/map/api/meta",
        "/map/api/areas?level=3",
        "/map/api/zones?level=3",
        "/map/api/zone/25996",
        "/map/api/search?q=tan%20phong",
        "/map/api/layers/sites",
    ):
        assert requests.get(served + path, timeout=30).status_code == 200, path
    with filled.connect() as conn:
        users = set(
            conn.execute(
                text(
                    "SELECT DISTINCT usename FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = 'covidgis-map'"
                )
            ).scalars()
        )
    assert users == {"covidgis_public"}
