"""Features written by PostGIS (gis/serve/fastjson.py) are the features pygeoapi's usual path writes.

Over real HTTP (the response cache off, so every request reaches pygeoapi): for pages 1 and 2, a bbox, a limit, an
offset, a property filter and the change feed, the body of the fast path (a plain f=json request) equals the body
of the usual path (the same request with `sortby=code`, the order the fast path pages in, which makes the provider
take the usual path) apart from timeStamp and the sortby in the links. On the provider itself: the prebuilt features
of every public collection parse to the features it builds in Python.
"""

import json

import pytest
import requests
from pygeoapi.util import json_serial
from serve_support import SMALL_HAMLET, TAN_PHONG, filled, running_server  # noqa: F401
from test_serve_provider import definition

from gis.serve import fastjson
from gis.serve.provider import PostgreSQLProvider

ITEMS = "/collections/zones/items"


@pytest.fixture(scope="module")
def uncached(filled, db_url, tmp_path_factory):
    """The server without its response cache: every request goes through pygeoapi and PostGIS."""
    with running_server(db_url, tmp_path_factory.mktemp("serve-var"), COVIDGIS_SERVE_RESPONSE_CACHE_MB="0") as base:
        yield base


def fetch(base: str, path: str, params: dict) -> dict:
    resp = requests.get(base + path, params=params, timeout=60)
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["content-type"].startswith("application/"), resp.headers
    assert resp.headers.get("etag") and resp.headers.get("cache-control")
    return resp.json()


def comparable(body: dict) -> dict:
    """The body without what differs between two requests of the same page: the time and the sortby in the links."""
    body = dict(body)
    assert body.pop("timeStamp")
    body["links"] = [
        {**link, "href": link["href"].replace("&sortby=code", "").replace("sortby=code&", "")} for link in body["links"]
    ]
    return body


@pytest.mark.parametrize(
    "params",
    [
        {"f": "json", "limit": "50"},
        {"f": "json", "limit": "50", "offset": "50"},
        {"f": "json", "limit": "7", "offset": "1000"},
        {"f": "json", "admin_level": "4", "limit": "1000"},
        {"f": "json", "admin_level": "4", "limit": "1000", "offset": "1000"},
        {"f": "json", "bbox": "106.80,10.90,106.90,11.00", "limit": "100"},
        {"f": "json", "bbox": "106.80,10.90,106.90,11.00", "limit": "100", "offset": "100"},
        {"f": "json", "code": SMALL_HAMLET},
        {"f": "json", "parent_code": TAN_PHONG, "limit": "3", "offset": "2"},
        {"f": "json", "changed-since": "0", "limit": "20"},
        {"f": "json", "offset": "100000"},
        {},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "no-params",
)
def test_fast_body_equals_the_usual_one(uncached, params):
    fast = fetch(uncached, ITEMS, params)
    usual = fetch(uncached, ITEMS, {**params, "sortby": "code"})
    assert comparable(fast) == comparable(usual)
    assert fast["numberReturned"] == len(fast["features"])
    if params.get("code") == SMALL_HAMLET:
        (hamlet,) = fast["features"]
        assert hamlet["properties"]["details_suppressed"] is True
        assert all(v is None for v in hamlet["properties"]["decisive"].values())


def test_following_next_links_reads_every_feature_once(uncached):
    """Keyset paging through the fast path: the next links of 4-item pages give the same features as one read."""
    whole = fetch(uncached, ITEMS, {"f": "json", "parent_code": TAN_PHONG, "limit": "1000"})["features"]
    seen, url = [], f"{uncached}{ITEMS}?f=json&parent_code={TAN_PHONG}&limit=4"
    while url:
        page = requests.get(url, timeout=60).json()
        seen += page["features"]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)  # type: ignore[assignment]
        if url and not url.startswith("http"):
            url = uncached + url
    assert len(whole) > 4
    assert seen == whole


def test_other_formats_and_options_take_the_usual_path(uncached):
    html = requests.get(f"{uncached}{ITEMS}", params={"f": "html", "limit": "3"}, timeout=60)
    assert html.status_code == 200 and "<html" in html.text.lower()
    assert html.headers["content-type"].startswith("text/html")
    skipped = fetch(uncached, ITEMS, {"f": "json", "limit": "3", "skipGeometry": "true"})
    assert [f["geometry"] for f in skipped["features"]] == [None, None, None]
    chosen = fetch(uncached, ITEMS, {"f": "json", "limit": "3", "properties": "level,colour"})
    assert {tuple(sorted(f["properties"])) for f in chosen["features"]} == {("colour", "level")}
    csv = requests.get(f"{uncached}{ITEMS}", params={"f": "csv", "limit": "3"}, timeout=60)
    assert csv.status_code == 200 and csv.text.count("\n") >= 3
    bad = requests.get(f"{uncached}{ITEMS}", params={"f": "json", "admin_level": "four"}, timeout=60)
    assert bad.status_code == 400 and "admin_level" in bad.json()["description"]
    gone = requests.get(f"{uncached}{ITEMS}", params={"f": "json", "changed-since": "x"}, timeout=60)
    assert gone.status_code == 400


@pytest.mark.parametrize(
    "table, id_field, extra, params",
    [
        ("zones", "code", {}, {}),
        ("zones_history", "id", {"time_field": "day"}, {"datetime_": "2021-10-20"}),
        ("areas", "code", {}, {"bbox": [106.80, 10.90, 106.90, 11.00]}),
        ("facilities_public", "id", {}, {}),
        ("data_quality", "id", {}, {}),
        ("locations_of_interest", "id", {"time_field": "start"}, {}),
        ("locations_of_interest_withdrawn", "id", {}, {}),
    ],
)
def test_prebuilt_features_parse_to_the_usual_ones(filled, db_url, table, id_field, extra, params):
    provider = PostgreSQLProvider({**definition(db_url), "table": table, "id_field": id_field, **extra})
    usual = provider.query(limit=200, **params)
    with fastjson.allowed():
        fast = provider.query(limit=200, **params)
        body = fastjson.take()
    assert isinstance(fast["features"], fastjson.Prebuilt) and body is not None
    assert len(fast["features"]) == usual["numberReturned"] == fast["numberReturned"]
    assert json.loads(f"[{body}]") == json.loads(json.dumps(usual["features"], default=json_serial))
    assert fast["numberMatched"] == usual["numberMatched"]
    if table == "zones":
        assert usual["numberReturned"] == 200


def test_splice_refuses_what_is_not_an_empty_collection():
    assert fastjson.splice('{"type":"FeatureCollection","features":[],"x":1}', '{"a":1}') == (
        '{"type":"FeatureCollection","features":[{"a":1}],"x":1}'
    )
    with pytest.raises(ValueError):
        fastjson.splice('{"type":"FeatureCollection","features":[{"a":1}]}', "{}")
