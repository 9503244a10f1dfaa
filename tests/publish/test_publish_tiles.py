"""The snapshot's PMTiles archive (issue 15, item 1) on real PostGIS, decoded with the pmtiles reader and
mapbox-vector-tile: the header's zooms and bounds, a hamlet's tile at z12 and the province's at z6 say what pub.zones
says, a tile outside the data is absent, latest.json's entry matches the file, and no tile carries a property outside
the contract (nothing personal, no decisive indicator or reasons)."""

import gzip
import hashlib
import json
import sys
from pathlib import Path

import mapbox_vector_tile
import pytest
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serve"))
from serve_support import SMALL_HAMLET, filled, tile_of  # noqa: E402, F401

from gis.publish.snapshot import publish_snapshot  # noqa: E402
from gis.publish.tiles import PROPERTIES, write_pmtiles, zoom_ranges  # noqa: E402

CONTRACT = {"code", "name", "admin_level", "level", "colour", "label_vi", "label_en"}


@pytest.fixture(scope="module")
def published(filled, tmp_path_factory):
    """One publish of the filled database: (folder, latest.json, the archive's entry, an open reader)."""
    out = tmp_path_factory.mktemp("tiles")
    publish_snapshot(filled, out, keep=3)
    latest = json.loads((out / "latest.json").read_text(encoding="utf-8"))
    entry = next(e for e in latest["files"] if e["kind"] == "pmtiles")
    with (out / entry["path"]).open("rb") as f:
        yield out, latest, entry, Reader(MmapSource(f))


def zone(engine, code: str) -> dict:
    """The contract's properties of one area in pub.zones, and a point inside it."""
    with engine.connect() as conn:
        row = (
            conn.execute(
                text(
                    "SELECT code, name, admin_level, level, colour, label_vi, label_en, "
                    "ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat "
                    "FROM pub.zones WHERE code = :c"
                ),
                {"c": code},
            )
            .mappings()
            .one()
        )
    return dict(row)


def features(reader: Reader, z: int, x: int, y: int) -> list[dict]:
    body = reader.get(z, x, y)
    assert body is not None, f"no tile {z}/{x}/{y}"
    layers = mapbox_vector_tile.decode(gzip.decompress(body))
    assert set(layers) == {"zones"} and layers["zones"]["extent"] == 4096
    return layers["zones"]["features"]


def test_zooms_per_admin_level_follow_the_contract():
    assert zoom_ranges([1, 2, 3, 4]) == {1: (5, 7), 2: (8, 9), 3: (10, 11), 4: (12, 14)}
    assert zoom_ranges([3, 1, 2]) == {1: (5, 7), 2: (8, 9), 3: (10, 14)}  # the deepest present reaches z14
    assert zoom_ranges([1, 4]) == {1: (5, 11), 4: (12, 14)}  # an absent level's zooms stay with the level before
    assert zoom_ranges([2]) == {2: (8, 14)} and zoom_ranges([]) == {}


def test_the_header_and_latest_entry_describe_the_archive(published, filled):
    out, latest, entry, reader = published
    header = reader.header()
    assert (header["min_zoom"], header["max_zoom"]) == (5, 14) == (entry["minzoom"], entry["maxzoom"])
    assert header["tile_type"] == TileType.MVT and header["tile_compression"] == Compression.GZIP
    assert header["clustered"]  # tiles written in tile-id order
    assert entry["zooms"] == {"1": [5, 7], "2": [8, 9], "3": [10, 11], "4": [12, 14]}
    assert entry["tiles"] == header["addressed_tiles_count"] > 0
    with filled.connect() as conn:
        extent = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM pub.zones) s"
            )
        ).one()
    assert entry["bounds"] == pytest.approx(list(extent), abs=1e-6)
    e7 = [header[k] / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7")]
    assert e7 == pytest.approx(list(extent), abs=1e-6)
    body = (out / entry["path"]).read_bytes()
    assert len(body) == entry["size"] and hashlib.sha256(body).hexdigest() == entry["sha256"]
    assert entry["path"] == f"v{latest['snapshot_version']}/zones.{entry['sha256'][:12]}.pmtiles"
    metadata = reader.metadata()
    assert metadata["vector_layers"][0]["id"] == "zones" and metadata["vector_layers"][0]["fields"] == PROPERTIES
    assert metadata["snapshot_version"] == latest["snapshot_version"] and metadata["ruleset"] == "vn-4800-2021"
    assert metadata["zooms"] == entry["zooms"]


def test_a_hamlet_tile_at_z12_and_the_province_at_z6_carry_their_zones(published, filled):
    _, _, _, reader = published
    hamlet = zone(filled, SMALL_HAMLET)
    found = {f["properties"]["code"]: f for f in features(reader, *tile_of(hamlet["lon"], hamlet["lat"], 12))}
    assert found[SMALL_HAMLET]["properties"] == {k: hamlet[k] for k in CONTRACT}
    assert found[SMALL_HAMLET]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert {f["properties"]["admin_level"] for f in found.values()} == {4}  # z12 is hamlets only
    with filled.connect() as conn:
        province_code = conn.execute(text("SELECT code FROM pub.zones WHERE admin_level = 1")).scalar_one()
    province = zone(filled, province_code)
    at_z6 = features(reader, *tile_of(province["lon"], province["lat"], 6))
    assert [f["properties"] for f in at_z6] == [{k: province[k] for k in CONTRACT}]
    # the commune of the hamlet at z10, the district at z8
    commune = zone(filled, SMALL_HAMLET.split("-")[0])
    at_z10 = {
        f["properties"]["code"]: f["properties"] for f in features(reader, *tile_of(hamlet["lon"], hamlet["lat"], 10))
    }
    assert at_z10[commune["code"]] == {k: commune[k] for k in CONTRACT}
    assert {p["admin_level"] for p in at_z10.values()} == {3}
    # overzoomed hamlets: the deepest level's last zoom
    assert SMALL_HAMLET in {
        f["properties"]["code"] for f in features(reader, *tile_of(hamlet["lon"], hamlet["lat"], 14))
    }


def test_a_tile_outside_the_data_is_absent(published):
    _, _, _, reader = published
    assert reader.get(*tile_of(105.85, 21.03, 12)) is None  # Hà Nội: no zone of this database
    assert reader.get(*tile_of(106.84, 10.96, 15)) is None  # beyond maxzoom (the map overzooms)
    assert reader.get(*tile_of(106.84, 10.96, 4)) is None  # below minzoom


def test_tiles_carry_only_the_contract_properties(published):
    _, _, entry, reader = published
    seen = 0
    for _, body in all_tiles(reader.get_bytes):
        for layer, content in mapbox_vector_tile.decode(gzip.decompress(body)).items():
            assert layer == "zones"
            for feature in content["features"]:
                assert set(feature["properties"]) == CONTRACT, feature["properties"]
                seen += 1
    assert seen > entry["tiles"]  # every tile holds features (most more than one)


def test_the_same_zones_give_the_same_archive(filled, tmp_path):
    """Deterministic bytes (gzip without a time stamp, no clock in the metadata): the hash names the content."""
    with filled.connect() as conn:
        digests = {write_pmtiles(conn, tmp_path / f"{i}.pmtiles", [1, 2, 3, 4], {}).sha256 for i in range(2)}
    assert len(digests) == 1


def test_a_folder_published_before_the_tiles_gets_them(filled, tmp_path):
    """The same snapshot version published by a version without the archive is not 'unchanged': it is written again."""
    publish_snapshot(filled, tmp_path, keep=3)
    latest = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    latest["files"] = [e for e in latest["files"] if e["kind"] != "pmtiles"]
    (tmp_path / "latest.json").write_text(json.dumps(latest), encoding="utf-8")
    again = publish_snapshot(filled, tmp_path, keep=3)
    assert not again.unchanged
    latest = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    entry = next(e for e in latest["files"] if e["kind"] == "pmtiles")
    assert (tmp_path / entry["path"]).stat().st_size == entry["size"]
