"""HTTP caching tied to the zone snapshot: ETag, Last-Modified, Cache-Control, 304s, and a new tag right after a
recompute (with the new colour in the body, not a stale cached one)."""

import asyncio
import os
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from serve_support import DAYS, TAN_PHONG, compute, filled, served, tile_of  # noqa: F401
from support import put_indicators

from gis.serve.caching import ResponseCache, entry_bytes
from gis.serve.version import DataVersion, Version

URLS = [
    "/collections/zones/items?f=json&limit=50",
    "/collections/zones/items?f=html",
    "/collections",
    "/collections/areas/items?f=json&level=2",
    "/collections/zones/tiles/WebMercatorQuad/{}/{}/{}?f=mvt".format(*tile_of(106.82, 10.97, 12)),
]


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


MISSING = [
    "/collections/areas/items/no-such-code",
    "/collections/no-such-collection",
    "/no/such/path",
    "/collections/zones/items?admin_level=x",
    "/collections/zones-history/items?datetime=not-a-date",
    "/collections/zones/items?f=no-such-format",
]


def test_star_and_dates_revalidate_only_what_exists(served):
    """`If-None-Match: *` and If-Modified-Since match an existing resource, never a 404 or an invalid request."""
    ok = requests.get(served + URLS[0], timeout=30)
    conditions = [
        {"If-None-Match": "*"},
        {"If-None-Match": '"other", *'},
        {"If-Modified-Since": ok.headers["last-modified"]},
        {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
    ]
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


BUDGET = 2 << 20


def responses(count: int, body_bytes: int, header_count: int, header_bytes: int):
    """(etag, headers, body) of `count` distinct responses, made one at a time."""
    for i in range(count):
        yield (
            f'W/"v1-{i:016x}"',
            [(b"x-h%d" % n, os.urandom(header_bytes)) for n in range(header_count)],
            os.urandom(body_bytes),
        )


# Big bodies, small ones, none with many headers (a 304-like 200 of a HEAD-filled entry): the budget counts all.
SHAPES = [(200_000, 4, 30), (5_000, 6, 40), (100, 6, 40), (0, 40, 200)]


@pytest.mark.parametrize("body_bytes, header_count, header_bytes", SHAPES)
def test_response_cache_budget_bounds_the_memory_it_holds(body_bytes, header_count, header_bytes):
    cache = ResponseCache(BUDGET, BUDGET // 4)
    cache.get("v1", "")  # the current version
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for etag, headers, body in responses(3000, body_bytes, header_count, header_bytes):
            cache.put("v1", etag, 200, headers, body)
        del etag, headers, body  # only what the cache keeps stays alive
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert cache.size <= BUDGET
    assert held <= BUDGET * 1.05, f"the cache holds {held / 2**20:.1f} MB with a budget of {BUDGET / 2**20:.0f} MB"
    assert held >= cache.size * 0.8, "the accounting counts far more than is held: the budget is wasted"


def test_response_cache_accounts_exactly_what_it_keeps():
    cache = ResponseCache(BUDGET, BUDGET // 4)
    cache.get("v1", "")
    entries = list(responses(100, 50_000, 3, 20))
    for etag, headers, body in entries:
        cache.put("v1", etag, 200, headers, body)
    kept = [e for e in entries if cache.get("v1", e[0]) is not None]
    assert 0 < len(kept) < len(entries), "the budget evicts the oldest"
    assert cache.size == sum(entry_bytes(*e) for e in kept)
    etag, headers, body = kept[-1]
    cache.put("v1", etag, 200, headers, body)  # computed again (after an eviction while others waited)
    assert cache.size == sum(entry_bytes(*e) for e in kept), "a replaced entry is counted once"
    assert cache.get("v1", etag) == (200, headers, body)
    too_big = os.urandom(BUDGET // 4)
    cache.put("v1", 'W/"big"', 200, [], too_big)
    assert cache.get("v1", 'W/"big"') is None, "an entry over the entry limit (headers included) is not kept"
    assert cache.get("v2", etag) is None and cache.size == 0, "a new version empties the cache"


class CountedVersion(DataVersion):
    """The server's DataVersion, counting how often it asks the database."""

    reads = 0

    def read(self) -> Version:
        self.reads += 1
        return super().read()


def bump_snapshot(engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE risk.snapshot SET version = version + 1, changed_at = now()")


def test_data_version_is_read_once_per_ttl_by_one_reader(filled):
    version = CountedVersion(filled, ttl_seconds=3600)
    with ThreadPoolExecutor(8) as pool:  # threads (sync routes, providers) and the event loop ask at once
        seen = list(pool.map(lambda i: version.current() if i % 2 else asyncio.run(version.get()), range(32)))
    assert version.reads == 1 and len(set(seen)) == 1
    before = seen[0]
    bump_snapshot(filled)
    assert version.current() == before and asyncio.run(version.get()) == before, "within its ttl the memo answers"
    assert version.reads == 1
    now = DataVersion(filled, 0).current()
    assert now.zones == before.zones + 1 and now.tag != before.tag
    assert (now.boundaries, now.facilities) == (before.boundaries, before.facilities)
    assert now.tag == f"z{now.zones}.b{now.boundaries}.f{now.facilities}.t{now.trace}"


def test_data_version_without_a_ttl_follows_every_change(filled):
    version = CountedVersion(filled, ttl_seconds=0)
    first = version.current()
    bump_snapshot(filled)
    second = asyncio.run(version.get())
    assert version.reads == 2 and second.zones == first.zones + 1
    assert second.changed_at is not None and first.changed_at is not None and second.changed_at >= first.changed_at
