"""HTTP caching tied to the zone snapshot: ETag, Last-Modified, Cache-Control, 304s, and a new tag right after a
recompute (with the new colour in the body, not a stale cached one)."""

import time

import requests

from serve_support import DAYS, TAN_PHONG, compute, filled, served, tile_of  # noqa: F401
from test_zones import put_indicators

URLS = ["/collections/zones/items?f=json&limit=50", "/collections/zones/items?f=html", "/collections",
        "/collections/areas/items?f=json&level=2",
        "/collections/zones/tiles/WebMercatorQuad/{}/{}/{}?f=mvt".format(*tile_of(106.82, 10.97, 12))]


def test_public_responses_carry_validators_and_revalidate(served):
    for url in URLS:
        first = requests.get(served + url, timeout=30)
        assert first.status_code == 200, url
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert etag.startswith('W/"') and "public, max-age=" in first.headers["cache-control"]
        again = requests.get(served + url, headers={"If-None-Match": etag}, timeout=30)
        assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
        assert requests.get(served + url, headers={"If-Modified-Since": modified}, timeout=30).status_code == 304
        listed = requests.get(served + url, headers={"If-None-Match": f'"other", {etag}'}, timeout=30)
        assert listed.status_code == 304
        assert requests.get(served + url, headers={"If-None-Match": '"other"'}, timeout=30).status_code == 200
    tags = {requests.get(served + url, timeout=30).headers["etag"] for url in URLS}
    assert len(tags) == len(URLS), "the URL is part of the tag"


def test_cached_body_is_the_computed_one(served):
    url = served + "/collections/zones/items?f=json&limit=5&admin_level=3"
    first, second = requests.get(url, timeout=30), requests.get(url, timeout=30)
    assert first.content == second.content and first.headers["etag"] == second.headers["etag"]
    other_language = requests.get(url, headers={"Accept-Language": "en"}, timeout=30)
    assert other_language.headers["etag"] != first.headers["etag"]


MISSING = ["/collections/areas/items/no-such-code", "/collections/no-such-collection", "/no/such/path",
           "/collections/zones/items?admin_level=x", "/collections/zones-history/items?datetime=not-a-date",
           "/collections/zones/items?f=no-such-format"]


def test_star_and_dates_revalidate_only_what_exists(served):
    """`If-None-Match: *` and If-Modified-Since match an existing resource, never a 404 or an invalid request."""
    ok = requests.get(served + URLS[0], timeout=30)
    conditions = [{"If-None-Match": "*"}, {"If-None-Match": '"other", *'},
                  {"If-Modified-Since": ok.headers["last-modified"]},
                  {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}]
    for url in MISSING:
        plain = requests.get(served + url, timeout=30).status_code
        assert plain in (400, 404), url
        for headers in conditions:
            for method in ("GET", "HEAD"):
                resp = requests.request(method, served + url, headers=headers, timeout=30)
                assert resp.status_code == plain, (method, url, headers, resp.status_code)
    for url in ["/collections/zones/items?f=json&limit=3", "/collections/areas/items/" + TAN_PHONG + "?f=json"]:
        for headers in conditions:
            for method in ("GET", "HEAD"):
                resp = requests.request(method, served + url, headers=headers, timeout=30)
                assert resp.status_code == 304 and resp.headers["etag"] and not resp.content, (method, url, headers)


def test_head_answers_like_get_without_a_body(served):
    url = served + "/collections/areas/items?f=json&level=1"  # asked first with HEAD: its GET must still have a body
    head, get = requests.head(url, timeout=30), requests.get(url, timeout=30)
    assert head.status_code == 200 and not head.content and get.json()["features"]
    assert head.headers["etag"] == get.headers["etag"] and head.headers["content-type"] == get.headers["content-type"]
    assert requests.head(served + "/collections/areas/items/no-such-code", timeout=30).status_code == 404


def test_errors_and_health_are_not_cached(served):
    bad = requests.get(served + "/collections/zones/items?admin_level=x", timeout=30)
    assert bad.status_code == 400 and "etag" not in bad.headers
    assert requests.get(served + "/health", timeout=30).headers["cache-control"] == "no-store"


def test_new_snapshot_changes_the_tag_at_once(served, filled):
    url = served + f"/collections/zones/items/{TAN_PHONG}?f=json"
    before = requests.get(url, timeout=30)
    assert before.json()["properties"]["colour"] == "orange"
    put_indicators(filled, DAYS[-1])  # Tân Phong quiet again
    compute(filled, [DAYS[-1]])
    deadline = time.monotonic() + 5
    while True:
        after = requests.get(url, headers={"If-None-Match": before.headers["etag"]}, timeout=30)
        if after.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert after.status_code == 200, "the old tag still validates after a recompute"
    assert time.monotonic() < deadline
    assert after.headers["etag"] != before.headers["etag"]
    assert after.json()["properties"]["colour"] == "green"
