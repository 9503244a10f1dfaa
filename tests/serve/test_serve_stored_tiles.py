"""The zones tiles the publish step stores (gis/publish/apitiles.py, risk.zone_tile): the computed tiles, read by the
public tile route while they are of the current snapshot, never after it moved."""

import time

import mapbox_vector_tile
import pytest
import requests
from serve_support import filled, served, tile_of  # noqa: F401
from sqlalchemy.engine import make_url

from gis.publish.apitiles import ZOOMS, store_zone_tiles
from gis.serve.app import PYGEOAPI_CONFIG
from gis.serve.fasttiles import tile_provider
from gis.serve.ogc import load_config
from gis.serve.tiles import MVTProvider

BASE = "/collections/zones/tiles/WebMercatorQuad"
STORED = "SELECT tile FROM pub.zone_tiles_stored WHERE z = %(z)s AND x = %(x)s AND y = %(y)s"


def decoded(body: bytes) -> dict:
    return {
        name: sorted((repr(f["properties"]), repr(f["geometry"])) for f in layer["features"])
        for name, layer in mapbox_vector_tile.decode(body).items()
    }


@pytest.fixture(scope="module")
def provider(filled, db_url):
    url = make_url(db_url)
    environment = {"COVIDGIS_DB_HOST": str(url.host), "COVIDGIS_DB_PORT": str(url.port)}
    environment["COVIDGIS_DB_NAME"] = str(url.database)
    return MVTProvider(tile_provider(load_config(PYGEOAPI_CONFIG, environment)))


@pytest.fixture(scope="module")
def stored(filled):
    return store_zone_tiles(filled)


def computed(provider, z, x, y) -> bytes:
    return provider.get_tiles(provider.get_layer(), "WebMercatorQuad", z, y, x, "mvt")


def test_every_zoom_is_stored_once_per_snapshot(filled, stored):
    assert sorted(stored.seconds_by_zoom) == list(ZOOMS) and stored.tiles > 100
    with filled.connect() as conn:
        zooms = dict(conn.exec_driver_sql("SELECT z, count(*) FROM pub.zone_tiles_stored GROUP BY z").all())
    assert sorted(zooms) == list(ZOOMS) and sum(zooms.values()) == stored.tiles
    again = store_zone_tiles(filled)
    assert again.unchanged and again.tiles == stored.tiles


@pytest.mark.parametrize("z", [5, 8, 10, 12, 14])
def test_stored_tiles_are_the_computed_ones(filled, stored, provider, z):
    z, x, y = tile_of(106.82, 10.975, z)
    with filled.connect() as conn:
        tile = conn.exec_driver_sql(STORED, {"z": z, "x": x, "y": y}).scalar_one()
    assert decoded(bytes(tile)) == decoded(computed(provider, z, x, y)) and decoded(bytes(tile))["zones"]


def test_the_route_reads_the_stored_tile_of_the_current_snapshot_only(filled, stored, served, provider):
    z, x, y = tile_of(106.84, 10.96, 13)
    _, ox, oy = tile_of(106.90, 11.05, 13)  # another stored tile: its bytes put in place of the first's
    with filled.begin() as conn:
        other = conn.exec_driver_sql(STORED, {"z": z, "x": ox, "y": oy}).scalar_one()
        conn.exec_driver_sql(
            "UPDATE risk.zone_tile SET tile = %(tile)s WHERE z = %(z)s AND x = %(x)s AND y = %(y)s",
            {"tile": other, "z": z, "x": x, "y": y},
        )
    url = f"{served}{BASE}/{z}/{y}/{x}?f=mvt"
    assert decoded(bytes(other)) != decoded(computed(provider, z, x, y))
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 200 and resp.content == bytes(other)  # read from the store, not computed
    with filled.begin() as conn:  # a new snapshot: the stored tiles are of the previous one
        conn.exec_driver_sql("UPDATE risk.snapshot SET version = version + 1, changed_at = now()")
    with filled.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM pub.zone_tiles_stored").scalar_one() == 0
    for _ in range(50):  # the server's data version (and so its response cache key) follows within its ttl
        resp = requests.get(url, timeout=30)
        if resp.content != bytes(other):
            break
        time.sleep(0.1)
    assert resp.status_code == 200 and decoded(resp.content) == decoded(computed(provider, z, x, y))
    again = store_zone_tiles(filled)  # the next publish stores the new snapshot's and drops the old
    with filled.connect() as conn:
        versions = conn.exec_driver_sql("SELECT DISTINCT snapshot FROM risk.zone_tile").scalars().all()
        current = conn.exec_driver_sql("SELECT version FROM risk.snapshot").scalar_one()
    assert not again.unchanged and versions == [current]


def test_the_stored_zooms_follow_the_setting():
    from pydantic import ValidationError

    from gis.publish.settings import PublishSettings

    assert PublishSettings().api_tile_zooms == ZOOMS == range(5, 15)
    assert PublishSettings(api_tiles_maxzoom=12).api_tile_zooms == range(5, 13)
    assert not PublishSettings(api_tiles_maxzoom=4).api_tile_zooms
    with pytest.raises(ValidationError):
        PublishSettings(api_tiles_maxzoom=15)
