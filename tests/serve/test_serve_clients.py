"""Paging and filters for real clients: next links and numberMatched through 2,000-feature pages, bbox, datetime,
property filters and CQL; OWSLib and GDAL's OAPIF driver read every public collection."""

import shutil
import subprocess

import pytest
import requests
from owslib.ogcapi.features import Features
from serve_support import (  # noqa: F401
    DAYS,
    PUBLIC,
    TAN_PHONG,
    fill_care_rooms,
    fill_trace,
    fill_welfare,
    filled,
    get_json,
    served,
    withdraw_trace_case,
)
from sqlalchemy import text

VIEWS = {
    "areas": "pub.areas",
    "zones": "pub.zones",
    "zones-history": "pub.zones_history",
    "facilities-public": "pub.facilities_public",
    "data-quality": "pub.data_quality",
    "locations-of-interest": "pub.locations_of_interest",
    "locations-of-interest-withdrawn": "pub.locations_of_interest_withdrawn",
    "welfare-coverage": "pub.welfare_coverage",
    "treatment-capacity": "pub.treatment_capacity",
}


@pytest.fixture(scope="module")
def counts(filled):
    fill_trace(filled)  # published and withdrawn locations of interest
    withdraw_trace_case(filled)
    fill_welfare(filled)  # welfare-coverage rows
    fill_care_rooms(filled)  # treatment-capacity's staffed beds
    with filled.connect() as conn:
        assert set(VIEWS) == set(PUBLIC), "every public collection is counted here"
        return {cid: conn.execute(text(f"SELECT count(*) FROM {view}")).scalar_one() for cid, view in VIEWS.items()}


def test_zones_history_pages_by_2000_with_next_links(served, counts):
    total = counts["zones-history"]
    assert total > 2000
    url: str | None = f"{served}/collections/zones-history/items?f=json&limit=2000"
    seen: set[str] = set()
    pages = 0
    while url:
        page = requests.get(url, timeout=60).json()
        assert page["numberMatched"] == total
        assert len(page["features"]) == min(2000, total - len(seen))
        seen |= {f["id"] for f in page["features"]}
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        pages += 1
    assert len(seen) == total and pages == -(-total // 2000)
    beyond = get_json(f"{served}/collections/zones-history/items", offset=total + 10, limit=10)
    assert beyond["numberMatched"] == total and beyond["features"] == []


def test_filters(served, counts):
    items = f"{served}/collections/zones/items"
    communes = get_json(items, admin_level=3, limit=2000)
    assert communes["numberMatched"] == 170
    orange = get_json(items, colour="orange")
    assert [f["id"] for f in orange["features"]] == [TAN_PHONG]
    assert get_json(items, level=3)["numberMatched"] == 1
    boxed = get_json(items, bbox="106.80,10.95,106.85,10.99", admin_level=3)
    assert TAN_PHONG in {f["id"] for f in boxed["features"]} and boxed["numberMatched"] < 20
    day_one = get_json(f"{served}/collections/zones-history/items", datetime=str(DAYS[0]), code=TAN_PHONG)
    assert [f["properties"]["colour"] for f in day_one["features"]] == ["green"]
    both = get_json(f"{served}/collections/zones-history/items", datetime=f"{DAYS[0]}/{DAYS[-1]}", code=TAN_PHONG)
    assert both["numberMatched"] == 2
    open_end = get_json(f"{served}/collections/zones-history/items", datetime=f"{DAYS[-1]}/..", admin_level=1)
    assert open_end["numberMatched"] == 1
    assert get_json(items, sortby="-level", limit=1)["features"][0]["id"] == TAN_PHONG


def test_cql_text_including_spatial(served):
    items = f"{served}/collections/zones/items"
    point = get_json(
        items, None, filter="admin_level=3 AND INTERSECTS(geom, POINT(106.82 10.975))", **{"filter-lang": "cql-text"}
    )
    assert [f["id"] for f in point["features"]] == [TAN_PHONG]
    box = get_json(items, filter="admin_level=2 AND BBOX(geom, 106.80, 10.95, 106.85, 10.99)")
    assert box["numberMatched"] >= 1
    like = get_json(items, filter="name LIKE 'Phường Tân%' AND admin_level=3")
    assert TAN_PHONG in {f["id"] for f in like["features"]}


@pytest.mark.parametrize(
    "params",
    [
        {"filter": "admin_level = 'x'"},
        {"filter": "nonsense((("},
        {"datetime": "2021-02-30"},
        {"bbox": "1,2,3"},
        {"admin_level": "3.5"},
        {"limit": "-1"},
        {"sortby": "nope"},
    ],
)
def test_bad_queries_are_400(served, params):
    resp = requests.get(f"{served}/collections/zones-history/items", params={"f": "json", **params}, timeout=30)
    assert resp.status_code == 400, resp.text[:300]


def test_owslib_reads_every_public_collection(served, counts):
    api = Features(served)
    for cid in PUBLIC:
        features, offset = [], 0
        while True:
            page = api.collection_items(cid, limit=2000, offset=offset)["features"]
            features += page
            offset += len(page)
            if len(page) < 2000:
                break
        assert len({f["id"] for f in features}) == counts[cid], cid


@pytest.mark.skipif(not shutil.which("ogrinfo"), reason="gdal-bin is installed by make test")
@pytest.mark.parametrize("cid", PUBLIC)
def test_gdal_oapif_reads_every_public_collection(served, counts, cid):
    proc = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", f"OAPIF:{served}/collections/{cid}", "--config", "OGR_WFS_PAGE_SIZE", "2000"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    count = int(next(line for line in proc.stdout.splitlines() if "Feature Count" in line).split(":")[1])
    assert count == counts[cid]


@pytest.mark.skipif(not shutil.which("ogr2ogr"), reason="gdal-bin is installed by make test")
def test_gdal_pages_through_zones_history(served, counts, tmp_path):
    out = tmp_path / "history.gpkg"
    proc = subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "GPKG",
            str(out),
            f"OAPIF:{served}/collections/zones-history",
            "--config",
            "OGR_WFS_PAGE_SIZE",
            "2000",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    info = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(out)], capture_output=True, text=True).stdout
    assert f"Feature Count: {counts['zones-history']}" in info
