"""Vector tiles (OGC API Tiles, MVT) of `zones` at every admin level, in both tile matrix sets."""

import mapbox_vector_tile
import pytest
import requests

from serve_support import TAN_PHONG, filled, get_json, served, tile_of  # noqa: F401

MVT = "application/vnd.mapbox-vector-tile"


def tile(served, z, x, y, tms="WebMercatorQuad"):
    resp = requests.get(f"{served}/collections/zones/tiles/{tms}/{z}/{y}/{x}?f=mvt", timeout=30)
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["content-type"] == MVT
    return mapbox_vector_tile.decode(resp.content)


def test_tile_metadata_is_ogc(served):
    tilesets = get_json(f"{served}/collections/zones/tiles")
    assert {"WebMercatorQuad", "WorldCRS84Quad"} <= {t["tileMatrixSetURI"].rsplit("/", 1)[-1]
                                                     for t in tilesets["tilesets"]}
    assert any(link["rel"] == "item" for link in get_json(f"{served}/collections/zones/tiles/WebMercatorQuad")["links"])


@pytest.mark.parametrize("z", [6, 9, 12, 15])
def test_tiles_hold_every_admin_level_with_colours(served, z):
    layer = tile(served, *tile_of(106.82, 10.975, z))["zones"]
    levels = {f["properties"]["admin_level"] for f in layer["features"]}
    assert levels == {1, 2, 3, 4}
    props = next(f["properties"] for f in layer["features"] if f["properties"]["code"] == TAN_PHONG)
    assert props["colour"] == "orange" and props["level"] == 3 and props["label_vi"]
    assert "reasons" not in props and "decisive" not in props


def test_world_crs84_quad(served):
    z = 8
    x, y = int((106.82 + 180) / (180 / 2 ** z)), int((90 - 10.975) / (180 / 2 ** z))
    assert {f["properties"]["admin_level"] for f in tile(served, z, x, y, "WorldCRS84Quad")["zones"]["features"]}


def test_empty_and_invalid_tiles(served):
    empty = requests.get(f"{served}/collections/zones/tiles/WebMercatorQuad/10/100/100?f=mvt", timeout=30)
    assert empty.status_code == 200 and empty.content == b""
    for path in ["3/9/1", "3/1/9", "-1/0/0", "a/b/c", "40/0/0"]:
        resp = requests.get(f"{served}/collections/zones/tiles/WebMercatorQuad/{path}?f=mvt", timeout=30)
        assert resp.status_code in (400, 404), (path, resp.status_code)
    assert requests.get(f"{served}/collections/zones/tiles/NoSuchTMS/1/0/0?f=mvt", timeout=30).status_code in (
        400, 404)
