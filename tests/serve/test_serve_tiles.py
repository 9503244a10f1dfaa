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
    assert {"WebMercatorQuad", "WorldCRS84Quad"} <= {
        t["tileMatrixSetURI"].rsplit("/", 1)[-1] for t in tilesets["tilesets"]
    }
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
    x, y = int((106.82 + 180) / (180 / 2**z)), int((90 - 10.975) / (180 / 2**z))
    assert {f["properties"]["admin_level"] for f in tile(served, z, x, y, "WorldCRS84Quad")["zones"]["features"]}


def test_empty_and_invalid_tiles(served):
    empty = requests.get(f"{served}/collections/zones/tiles/WebMercatorQuad/10/100/100?f=mvt", timeout=30)
    assert empty.status_code == 200 and empty.content == b""
    for path in ["3/9/1", "3/1/9", "-1/0/0", "a/b/c", "40/0/0"]:
        resp = requests.get(f"{served}/collections/zones/tiles/WebMercatorQuad/{path}?f=mvt", timeout=30)
        assert resp.status_code in (400, 404), (path, resp.status_code)
    assert requests.get(f"{served}/collections/zones/tiles/NoSuchTMS/1/0/0?f=mvt", timeout=30).status_code in (400, 404)


TILESET_FORMATS = [None, "json", "jsonld", "html", "tilejson", "TileJSON", "mvt", "pbf", "csv", "xyz", "\x00"]


@pytest.mark.parametrize("f", TILESET_FORMATS)
@pytest.mark.parametrize("suffix", ["", "/metadata"])
@pytest.mark.parametrize("tms", ["WebMercatorQuad", "WorldCRS84Quad", "Nope", "webmercatorquad", "%00", "x" * 300])
def test_tileset_metadata_in_every_format_and_matrix_set(served, tms, suffix, f):
    resp = requests.get(f"{served}/collections/zones/tiles/{tms}{suffix}", params={"f": f} if f else {}, timeout=30)
    assert resp.status_code < 500, resp.text[:300]
    known = tms in ("WebMercatorQuad", "WorldCRS84Quad")
    if not known:
        assert resp.status_code in (400, 404) and resp.text.strip()
    elif f in (None, "json", "jsonld"):
        assert resp.status_code == 200 and resp.json()["tileMatrixSetURI"].endswith(tms)
    elif f == "html":
        assert resp.status_code == 200 and "<html" in resp.text
    elif f == "tilejson" and tms == "WebMercatorQuad":
        assert resp.status_code == 200 and resp.json()["tilejson"] == "3.0.0"
    else:
        assert resp.status_code == 400 and resp.json()["description"], resp.text[:300]


def test_tilejson_gives_the_tiles_and_their_fields(served):
    doc = get_json(f"{served}/collections/zones/tiles/WebMercatorQuad/metadata", f="tilejson")
    template = doc["tiles"][0]
    assert template.endswith("/collections/zones/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt")
    layer = doc["vector_layers"][0]
    assert (
        layer["id"] == "zones" and layer["fields"]["admin_level"] == "Number" and layer["fields"]["colour"] == "String"
    )
    z, x, y = tile_of(106.82, 10.975, 12)
    resp = requests.get(template.format(z=z, x=x, y=y), timeout=30)
    assert resp.status_code == 200 and layer["id"] in mapbox_vector_tile.decode(resp.content)
    assert doc["minzoom"] == 0 and doc["maxzoom"] == 18


@pytest.mark.parametrize(
    "path",
    ["/tiles", "/tiles/WebMercatorQuad", "/tiles/WebMercatorQuad/metadata", "/tiles/WebMercatorQuad/0/0/0?f=mvt"],
)
@pytest.mark.parametrize("cid", ["areas", "zones-history", "facilities-public", "data-quality"])
def test_collections_without_tiles_say_which_have_them(served, cid, path):
    resp = requests.get(f"{served}/collections/{cid}{path}", timeout=30)
    assert resp.status_code == 404 and "zones" in resp.json()["description"]


def test_tiles_read_the_zones_rows_with_boundaries_stored_in_web_mercator(filled, served):
    """pub.zone_tiles (what the tiles read) holds pub.zones' rows and tile properties, and its stored boundaries are
    pub.zones' projected (admin.area.geom_webmercator, kept by PostgreSQL): a tile lists the areas pub.zones has."""
    props = "code, day, admin_level, name, parent_code, level, colour, label_vi, label_en"
    with filled.connect() as conn:
        tiles = conn.exec_driver_sql(f"SELECT {props} FROM pub.zone_tiles ORDER BY code").all()
        zones = conn.exec_driver_sql(f"SELECT {props} FROM pub.zones ORDER BY code").all()
        far = conn.exec_driver_sql(
            "SELECT count(*) FROM pub.zone_tiles t JOIN pub.zones z USING (code) "
            "WHERE ST_SRID(t.geom) <> 3857 OR NOT ST_Equals(ST_SnapToGrid(t.geom, 0.01), "
            "ST_SnapToGrid(ST_Transform(z.geom, 3857), 0.01))"
        ).scalar()
        z, x, y = 12, *tile_of(106.82, 10.975, 12)[1:]
        inside = {
            code
            for (code,) in conn.exec_driver_sql(
                "SELECT code FROM pub.zones "
                "WHERE ST_Intersects(ST_Transform(geom, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s))",
                {"z": z, "x": x, "y": y},
            )
        }
    assert tiles == zones and len(tiles) > 100
    assert far == 0, f"{far} stored boundaries differ from pub.zones' projected"
    shown = {f["properties"]["code"] for f in tile(served, z, x, y)["zones"]["features"]}
    assert inside and inside <= shown
