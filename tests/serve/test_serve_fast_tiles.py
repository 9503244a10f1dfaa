"""The direct route of the public zones' tiles (gis/serve/fasttiles.py): the provider's tiles, pygeoapi's headers,
the middleware stack's headers and cache, and every other request still answered by pygeoapi."""

import mapbox_vector_tile
import pytest
import requests
from serve_support import filled, served, tile_of  # noqa: F401
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from gis.serve.app import PYGEOAPI_CONFIG
from gis.serve.fasttiles import ZoneTiles, tile_provider
from gis.serve.ogc import load_config
from gis.serve.tiles import MVTProvider

MVT = "application/vnd.mapbox-vector-tile"
BASE = "/collections/zones/tiles/WebMercatorQuad"
# Headers a response of either path carries, whatever its body: compared between the two paths.
COMPARED = ["content-type", "x-powered-by", "content-language", "cache-control", "vary", "content-security-policy"]
COMPARED += ["x-content-type-options", "referrer-policy"]


@pytest.fixture(scope="module")
def provider(filled, db_url):
    """pygeoapi's tile provider of `zones`, as pygeoapi-config.yml defines it, over the module's database."""
    url = make_url(db_url)
    environment = {"COVIDGIS_DB_HOST": str(url.host), "COVIDGIS_DB_PORT": str(url.port)}
    environment["COVIDGIS_DB_NAME"] = str(url.database)
    return MVTProvider(tile_provider(load_config(PYGEOAPI_CONFIG, environment)))


def decoded(body: bytes) -> dict:
    """The tile's features by code (ST_AsMVT's feature order follows the scan, which may differ between runs)."""
    layers = mapbox_vector_tile.decode(body)
    return {
        name: sorted((repr(f["properties"]), repr(f["geometry"])) for f in layer["features"])
        for name, layer in layers.items()
    }


@pytest.mark.parametrize("z", [5, 9, 12, 15])
def test_the_route_answers_the_providers_tile(served, provider, z):
    z, x, y = tile_of(106.82, 10.975, z)
    resp = requests.get(f"{served}{BASE}/{z}/{y}/{x}?f=mvt", timeout=30)
    assert resp.status_code == 200 and resp.headers["content-type"] == MVT
    ours = decoded(resp.content)
    assert ours == decoded(provider.get_tiles(provider.get_layer(), "WebMercatorQuad", z, y, x, "mvt"))
    assert ours["zones"] and all("colour" in p for p, _ in ours["zones"])


def test_headers_are_pygeoapis_and_the_stacks(served):
    z, x, y = tile_of(106.82, 10.975, 12)
    fast = requests.get(f"{served}{BASE}/{z}/{y}/{x}?f=mvt", timeout=30)
    # Another query than f=mvt goes to pygeoapi (any f answers the tile there): the same tile, its headers.
    slow = requests.get(f"{served}{BASE}/{z}/{y}/{x}?f=mvt&lang=en", timeout=30)
    assert fast.status_code == slow.status_code == 200
    assert {h: fast.headers.get(h) for h in COMPARED} == {h: slow.headers.get(h) for h in COMPARED}
    assert fast.headers["x-powered-by"].startswith("pygeoapi") and fast.headers["content-language"]
    assert fast.headers["cache-control"].startswith("public") and fast.headers["etag"].startswith('W/"z')
    assert decoded(fast.content) == decoded(slow.content)
    assert int(fast.headers["content-length"]) == len(fast.content)
    # The cache middleware answers a revalidation; HEAD carries the headers without the body.
    again = requests.get(fast.url, headers={"If-None-Match": fast.headers["etag"]}, timeout=30)
    assert again.status_code == 304 and again.content == b""
    head = requests.head(fast.url, timeout=30)
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == fast.headers["etag"]


def test_the_mvt_accept_header_without_a_query(served, provider):
    z, x, y = tile_of(106.82, 10.975, 9)
    resp = requests.get(f"{served}{BASE}/{z}/{y}/{x}", headers={"Accept": MVT}, timeout=30)
    assert resp.status_code == 200 and resp.headers["content-type"] == MVT
    assert decoded(resp.content) == decoded(provider.get_tiles(provider.get_layer(), "WebMercatorQuad", z, y, x, "mvt"))
    # No format at all: pygeoapi's 400, as before.
    assert requests.get(f"{served}{BASE}/{z}/{y}/{x}", headers={"Accept": "*/*"}, timeout=30).status_code == 400


@pytest.mark.parametrize(
    "path, status",
    [
        ("10/100/100", 200),  # inside the matrix set, no zone: an empty tile
        ("3/9/1", 404),  # row beyond the matrix
        ("3/1/9", 404),
        ("30/0/0", 404),  # deeper than the matrix set
        ("-1/0/0", 404),
        ("a/b/c", 400),
        ("12/%2B1/1", 200),  # not plain digits: pygeoapi's int() reads +1
    ],
)
def test_edges_answer_as_pygeoapi(served, path, status):
    resp = requests.get(f"{served}{BASE}/{path}?f=mvt", timeout=30)
    assert resp.status_code == status, (path, resp.status_code, resp.text[:200])
    if path == "10/100/100":
        assert resp.content == b"" and resp.headers["content-type"] == MVT
    assert "content-security-policy" in resp.headers


def test_other_methods_and_tile_matrix_sets_stay_with_pygeoapi(served):
    assert requests.post(f"{served}{BASE}/1/0/0?f=mvt", timeout=30).status_code == 405
    z, x, y = 8, int((106.82 + 180) / (180 / 2**8)), int((90 - 10.975) / (180 / 2**8))
    resp = requests.get(f"{served}/collections/zones/tiles/WorldCRS84Quad/{z}/{y}/{x}?f=mvt", timeout=30)
    assert resp.status_code == 200 and mapbox_vector_tile.decode(resp.content)["zones"]["features"]


@pytest.mark.parametrize(
    "method, query, accept, path, answered",
    [
        ("GET", b"f=mvt", b"*/*", ("12", "1922", "3263"), (12, 3263, 1922)),
        ("HEAD", b"f=mvt", b"", ("0", "0", "0"), (0, 0, 0)),
        ("GET", b"", MVT.encode(), ("3", "1", "2"), (3, 2, 1)),
        ("GET", b"", b"text/html, " + MVT.encode(), ("3", "1", "2"), None),  # pygeoapi reads html first
        ("GET", b"", b"*/*", ("3", "1", "2"), None),
        ("GET", b"f=mvt&lang=en", b"", ("3", "1", "2"), None),
        ("GET", b"f=pbf", b"", ("3", "1", "2"), None),
        ("POST", b"f=mvt", b"", ("3", "1", "2"), None),
        ("GET", b"f=mvt", b"", ("3", "8", "1"), None),
        ("GET", b"f=mvt", b"", ("3", "-1", "1"), None),
        ("GET", b"f=mvt", b"", ("30", "0", "0"), None),
        ("GET", b"", MVT.encode() + b";q=0", ("3", "1", "2"), None),
    ],
)
def test_which_requests_the_route_answers_itself(method, query, accept, path, answered):
    """Only a plain tile request inside the matrix set; everything else goes to pygeoapi (the fallback)."""
    config = load_config(PYGEOAPI_CONFIG, {})
    engine = create_engine("postgresql+psycopg2://nobody@127.0.0.1:1/none")  # never connected
    route = ZoneTiles(fallback=None, engine=engine, config=config)  # type: ignore[arg-type]
    z, y, x = path
    scope = {
        "method": method,
        "query_string": query,
        "headers": [(b"accept", accept)] if accept else [],
        "path_params": {"z": z, "y": y, "x": x},
    }
    assert route.tile_of(scope) == answered
