"""The `areas` and `data-quality` collections over real HTTP, read by real OGC clients."""

import json
import shutil
import subprocess

import pytest
import requests
from owslib.ogcapi.features import Features
from sqlalchemy import text


@pytest.fixture(scope="module")
def current_counts(engine):
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT level, count(*) FROM pub.areas GROUP BY level")).all())


def get_json(url, **params):
    resp = requests.get(url, params={"f": "json", **params}, timeout=30)
    assert resp.status_code == 200, resp.text[:500]
    return resp.json()


def test_health_and_collections(server):
    assert requests.get(f"{server}/health", timeout=5).json()["status"] == "ok"
    ids = {c["id"] for c in get_json(f"{server}/collections")["collections"]}
    assert {"areas", "data-quality"} <= ids


def test_areas_filtered_by_level_with_population(server):
    communes = get_json(f"{server}/collections/areas/items", level=3, limit=2000)
    assert communes["numberMatched"] == 170
    assert len(communes["features"]) == 170
    assert sum(f["properties"]["population"] for f in communes["features"]) == 3_097_107
    names = {f["properties"]["name"] for f in communes["features"]}
    assert "Phường Trảng Dài" in names  # UTF-8 with diacritics, as in the code list
    province = get_json(f"{server}/collections/areas/items", level=1)["features"]
    assert [f["id"] for f in province] == ["75"]


def test_areas_filtered_by_parent(server):
    bien_hoa = get_json(f"{server}/collections/areas/items", parent_code="731", limit=100)
    assert bien_hoa["numberMatched"] == 30
    assert {f["properties"]["level"] for f in bien_hoa["features"]} == {3}


def test_paging_with_next_links(server, current_counts):
    total = sum(current_counts.values())
    first = get_json(f"{server}/collections/areas/items", limit=1000)
    assert len(first["features"]) == 1000
    nxt = [link["href"] for link in first["links"] if link["rel"] == "next"]
    assert nxt, "a full page must link to the next one"
    second = requests.get(nxt[0], timeout=30).json()
    seen = {f["id"] for f in first["features"]} | {f["id"] for f in second["features"]}
    assert len(seen) == min(total, 2000)


def test_owslib_reads_every_area(server, current_counts):
    api = Features(server)
    items = api.collection_items("areas", limit=2000)
    features = list(items["features"])
    offset = len(features)
    while offset < sum(current_counts.values()):
        page = api.collection_items("areas", limit=2000, offset=offset)["features"]
        assert page
        features += page
        offset += len(page)
    assert len({f["id"] for f in features}) == sum(current_counts.values())


@pytest.mark.skipif(not shutil.which("ogrinfo"), reason="gdal-bin is installed by make test")
def test_gdal_oapif_driver_counts_areas(server, current_counts):
    proc = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", f"OAPIF:{server}/collections/areas", "--config", "OGR_WFS_PAGE_SIZE", "2000"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    count = int(next(line for line in proc.stdout.splitlines() if "Feature Count" in line).split(":")[1])
    assert count == sum(current_counts.values())


def test_data_quality_layer_locates_problems(server):
    overlaps = get_json(f"{server}/collections/data-quality/items", kind="sibling_overlap", level=3, limit=2000)
    assert overlaps["numberMatched"] == 347
    assert all(f["geometry"] is not None for f in overlaps["features"])
    detail = json.dumps(overlaps["features"][0]["properties"], ensure_ascii=False)
    assert "area_m2" in detail
