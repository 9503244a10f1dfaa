"""Privacy: every public collection in every format (collection, items, one item; json, html, jsonld; MVT tiles;
processes) carries no person key, raw ID or phone number, case point, or unsuppressed small count; the locations of
interest no case id and no venue that is not published (non-public kind, too few visitors, withdrawn)."""

import json
import re

import mapbox_vector_tile
import pytest
import requests
from serve_support import (
    CASE_POINTS,
    PERSON_KEYS,
    PUBLIC,
    SMALL_HAMLET,
    TAN_PHONG,
    TRACE_CASES,
    TRACE_PUBLISHED,
    TRACE_VENUES,
    fill_trace,
    fill_welfare,
    filled,  # noqa: F401  (a fixture)
    get_json,
    served,  # noqa: F401  (a fixture)
    tile_of,
    trace_key,
    withdraw_trace_case,
)
from sqlalchemy import text

FORMATS = ["json", "html", "jsonld"]
COUNT_KEYS = {
    "cases_7d",
    "cases_14d",
    "community_cases_7d",
    "community_cases_prev_7d",
    "unknown_source_cases_14d",
    "unknown_source_clusters_14d",
    "hard_to_trace_cases_14d",
    "known_source_community_cases_14d",
    "f1_in_community",
    "tests_7d",
    "positive_tests_7d",
    "vaccinated_18plus_1dose",
    "vaccinated_50plus_full",
    "vaccinated_65plus_full",
    "admissions_7d",
    "open_stays",
    "occupied",
    "eligible",  # welfare-coverage: households
    "to_confirm",
    "reached",
    "delivered",
}
RAW_ID = re.compile(r"(?<![\d.])(\d{12}|\d{9})(?![\d.])")  # CCCD (12 digits) or CMND (9 digits)
PHONE = re.compile(r"(?<![\d.])(?:\+84|0)(?:3|5|7|8|9)\d{8}(?![\d.])")
THRESHOLD = 5


@pytest.fixture(scope="module")
def secrets_in_db(filled):
    """What must never reach the public: person keys, case coordinates, the small count's exact rate; of tracing, the
    F0s' and contacts' keys, the case ids and the venues not published."""
    fill_trace(filled)
    withdraw_trace_case(filled)
    with filled.connect() as conn:
        trace_keys = conn.execute(text("SELECT DISTINCT person_key FROM events.checkins")).scalars().all()
    assert {trace_key("f0-1"), trace_key("VN-PUB-0")} <= set(trace_keys)
    hidden = [v for v in TRACE_VENUES if v not in TRACE_PUBLISHED]
    with filled.connect() as conn:
        decisive = conn.execute(
            text("SELECT decisive FROM risk.zone WHERE area_code = :c ORDER BY day DESC LIMIT 1"), {"c": SMALL_HAMLET}
        ).scalar_one()
        reasons = conn.execute(
            text("SELECT reasons FROM risk.zone WHERE area_code = :c ORDER BY day DESC LIMIT 1"), {"c": SMALL_HAMLET}
        ).scalar_one()
    rate = decisive["community_cases_7d_per_100k"]
    assert 0 < rate, "the small-count hamlet has a non-zero rate that would give its count back"
    found = re.search(r"community_cases_7d_per_100k = ([0-9.]+)", " ".join(reasons))
    assert found, reasons
    shown = found.group(1)
    welfare = fill_welfare(filled)
    return {
        "welfare households, members, addresses": welfare,
        "person keys": PERSON_KEYS + trace_keys,
        "small-count rate": [shown, repr(rate)[:10]],
        "case ids": list(TRACE_CASES.values()),
        "venues not published": hidden + [TRACE_VENUES[v][0] for v in hidden],
    }


def case_point_patterns() -> list[re.Pattern]:
    """A case point as a coordinate pair (lon, lat) at any precision down to 4 decimals (~10 m)."""
    return [re.compile(re.escape(f"{lon:.4f}") + r"\d*\s*,\s*" + re.escape(f"{lat:.4f}")) for lon, lat in CASE_POINTS]


def public_urls(base: str) -> list[str]:
    urls = [f"{base}/", f"{base}/collections", f"{base}/openapi?f=json", f"{base}/processes"]
    for cid in PUBLIC:
        items = get_json(f"{base}/collections/{cid}/items", limit=1)
        one = [f"/items/{items['features'][0]['id']}"] if items["features"] else []
        urls += [
            f"{base}/collections/{cid}{suffix}?f={fmt}" + ("&limit=10000" if suffix == "/items" else "")
            for suffix in ["", "/items", *one]
            for fmt in FORMATS
        ]
        urls.append(f"{base}/collections/{cid}/queryables?f=json")
    urls.append(f"{base}/collections/zones-history/items?f=json&code={SMALL_HAMLET}")
    return urls


def tiles(base: str) -> list[bytes]:
    """The WebMercatorQuad tiles over the case points (and the small-count hamlet) from z=8 to z=16."""
    out = []
    for z, x, y in [tile_of(lon, lat, z) for lon, lat in CASE_POINTS for z in (8, 12, 14, 16)]:
        resp = requests.get(f"{base}/collections/zones/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt", timeout=30)
        assert resp.status_code == 200, resp.text[:300]
        out.append(resp.content)
    return out


def small_counts(value, path="") -> list[str]:
    """Count-valued keys anywhere in a JSON document that are above 0 and below the threshold."""
    found = []
    if isinstance(value, dict):
        for key, child in value.items():
            if (
                key in COUNT_KEYS
                and isinstance(child, (int, float))
                and not isinstance(child, bool)
                and 0 < child < THRESHOLD
            ):
                found.append(f"{path}/{key}={child}")
            found += small_counts(child, f"{path}/{key}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += small_counts(child, f"{path}[{i}]")
    return found


def check(label: str, body: str, secrets: dict) -> None:
    for kind, values in secrets.items():
        for value in values:
            assert value not in body, f"{label}: contains {kind} {value}"
    for what, patterns in (
        ("a case point", case_point_patterns()),
        ("an ID-number-like value", [RAW_ID]),
        ("a phone-number-like value", [PHONE]),
    ):
        for pattern in patterns:
            found = pattern.search(body)
            assert found is None, f"{label}: contains {what} {found.group(0)}"
    try:
        document = json.loads(body)
    except ValueError:
        return
    assert not small_counts(document), f"{label}: unsuppressed small counts {small_counts(document)}"


def test_no_personal_data_or_small_counts_in_any_public_response(served, secrets_in_db):
    checked = 0
    for url in public_urls(served):
        resp = requests.get(url, timeout=60)
        assert resp.status_code == 200, f"{url}: {resp.status_code} {resp.text[:300]}"
        check(url, resp.text, secrets_in_db)
        checked += 1
    assert checked >= 45
    for i, tile in enumerate(tiles(served)):
        decoded = mapbox_vector_tile.decode(tile)
        check(f"tile {i}", json.dumps(decoded, ensure_ascii=False), secrets_in_db)
        for secret in [s for values in secrets_in_db.values() for s in values]:
            assert secret.encode() not in tile


def test_processes_answer_without_small_counts(served, secrets_in_db, filled):
    with filled.connect() as conn:
        lon, lat = conn.execute(
            text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM pub.areas WHERE code = :c) s"),
            {"c": SMALL_HAMLET},
        ).one()
    resp = requests.post(
        f"{served}/processes/zone-at-point/execution", json={"inputs": {"lon": lon, "lat": lat}}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    hamlet = [a for a in resp.json()["areas"] if a["admin_level"] == 4]
    assert hamlet and hamlet[0]["code"] == SMALL_HAMLET
    assert hamlet[0]["details_suppressed"] is True
    body = resp.text.replace(f'"lon": {lon}', "").replace(f'"lat": {lat}', "")  # the question asked, echoed
    check("zone-at-point", body, secrets_in_db)


def test_small_count_is_suppressed_but_the_zone_stays_explained(served):
    feature = get_json(f"{served}/collections/zones/items/{SMALL_HAMLET}")
    props = feature["properties"]
    assert props["details_suppressed"] is True
    assert all(v is None for v in props["decisive"].values()) and props["decisive"]
    assert any("community_cases_7d_per_100k = (suppressed)" in r for r in props["reasons"])
    assert props["colour"] and props["label_vi"]
    bigger = get_json(f"{served}/collections/zones/items/25996")["properties"]  # above the threshold: shown
    assert bigger["details_suppressed"] is False and bigger["decisive"]["community_cases_7d_per_100k"] > 0


def test_shown_numbers_are_rounded_to_the_threshold(served, filled):
    """A shown rate is that of the count rounded down to its band (a commune's: 2 × the threshold values from the
    threshold on, pub.band_low), and the reasons give the
    range the true rate lies in (tests/serve/test_serve_differencing.py attacks the demo with them)."""
    with filled.connect() as conn:
        population, cases = conn.execute(
            text(
                "SELECT population, community_cases_7d FROM stats.indicator WHERE area_code = :c "
                "ORDER BY day DESC LIMIT 1"
            ),
            {"c": TAN_PHONG},
        ).one()
    band = 2 * THRESHOLD
    assert (cases - THRESHOLD) % band, "the test needs a count that rounding changes"
    props = get_json(f"{served}/collections/zones/items/{TAN_PHONG}")["properties"]
    rate = props["decisive"]["community_cases_7d_per_100k"]
    assert rate * population / 100_000 == pytest.approx(THRESHOLD + (cases - THRESHOLD) // band * band)
    shown = [re.search(r"community_cases_7d_per_100k = ([0-9.]+)–([0-9.]+) ", r) for r in props["reasons"]]
    low, high = [float(x) for x in next(m for m in shown if m).groups()]
    exact = cases * 100_000 / population
    assert low <= rate < exact <= high and (high - low) * population / 100_000 >= THRESHOLD - 1 - 1e-3


def test_welfare_coverage_is_banded_and_suppressed(served, secrets_in_db):
    features = get_json(f"{served}/collections/welfare-coverage/items", limit=1000)["features"]
    rows = {f["properties"]["code"]: f["properties"] for f in features}
    big, small = rows["25996-02"], rows[SMALL_HAMLET]
    assert not big["details_suppressed"] and (big["eligible"], big["reached"], big["share"]) == (10, 5, 0.5)
    assert big["value_vnd"] == 7_500_000  # 1.5 M a household × the 5 households of the rounded count
    assert small["details_suppressed"] and small["eligible"] is None and small["reached"] is None


def test_facilities_public_has_places_without_occupancy(served):
    features = get_json(f"{served}/collections/facilities-public/items")["features"]
    assert {f["properties"]["kind"] for f in features} == {"testing", "vaccination", "essential_goods", "quarantine"}
    for f in features:
        assert not {"beds", "rooms", "occupied", "capacity", "open_stays"} & set(f["properties"])


def test_locations_of_interest_list_published_venues_only(served, secrets_in_db):
    features = get_json(f"{served}/collections/locations-of-interest/items", limit=10000)["features"]
    assert {f["properties"]["venue_id"] for f in features} == TRACE_PUBLISHED
    for f in features:
        assert not {"person_key", "case_id", "cases", "visitors", "contacts", "f0"} & set(f["properties"])
