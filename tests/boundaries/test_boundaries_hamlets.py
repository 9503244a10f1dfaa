"""Synthetic hamlets: reproducible points and Voronoi polygons that tile their commune."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.boundaries.check import check_boundaries
from gis.boundaries.errors import HamletPointError
from gis.boundaries.hamlets import hamlet_polygons_from_points, synthetic_hamlet_points

DATA = Path(__file__).resolve().parents[2] / "boundaries" / "dongnai"


@pytest.fixture(scope="module")
def communes() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "communes.geojson")


@pytest.fixture(scope="module")
def points(communes) -> gpd.GeoDataFrame:
    return synthetic_hamlet_points(communes)


@pytest.fixture(scope="module")
def polygons(points, communes) -> gpd.GeoDataFrame:
    return hamlet_polygons_from_points(points, communes)


def test_points_cover_every_live_commune(points, communes):
    assert list(points.columns) == ["code", "name", "level", "parent_code", "status", "synthetic", "geometry"]
    assert "26407" not in set(points["parent_code"])  # Suối Trầu was dissolved
    assert set(points["parent_code"]) == set(communes["code"]) - {"26407"}
    per = points.groupby("parent_code").size()
    assert per.min() >= 5 and per.max() <= 15 and per.nunique() > 3
    assert points["level"].eq(4).all() and points["synthetic"].all() and points["code"].is_unique
    assert points["code"].str.fullmatch(r"\d{5}-\d{2}").all()
    first = points.groupby("parent_code")["code"].first()
    assert (first == first.index + "-01").all()
    home = communes.set_index("code").geometry.loc[points["parent_code"]].to_numpy()
    assert shapely.contains(home, points.geometry.to_numpy()).all()


def test_names_follow_commune_type(points, communes):
    names = communes.set_index("code")["name"]
    urban = names.loc[points["parent_code"]].str.match("Phường|Thị trấn").to_numpy()
    assert points.loc[urban, "name"].str.fullmatch(r"Khu phố \d+").all()
    assert points.loc[~urban, "name"].str.fullmatch(r"Ấp \d+").all()
    assert urban.any() and (~urban).any()
    assert points.loc[points.code == "25993-03", "name"].item() == "Khu phố 3"  # Phường Trảng Dài


def test_points_are_reproducible_and_order_free(points, communes):
    again = synthetic_hamlet_points(communes)
    assert again.to_json() == points.to_json()
    assert again.geometry.to_wkb().tolist() == points.geometry.to_wkb().tolist()
    shuffled = synthetic_hamlet_points(communes.sample(frac=1, random_state=7))
    assert shuffled.to_json() == points.to_json()
    one = synthetic_hamlet_points(communes[communes.code == "26266"])
    assert one.to_json() == points[points.parent_code == "26266"].reset_index(drop=True).to_json()
    other = synthetic_hamlet_points(communes, seed=2022)
    assert other.to_json() != points.to_json()


def test_polygons_tile_each_commune(polygons, points, communes):
    assert list(polygons.columns) == list(points.columns)
    assert polygons.index.equals(points.index) and polygons["code"].equals(points["code"])
    assert polygons.geom_type.eq("MultiPolygon").all() and polygons.is_valid.all()
    assert shapely.contains(polygons.geometry.to_numpy(), points.geometry.to_numpy()).all()
    by_code = communes.set_index("code").geometry
    for code, group in polygons.groupby("parent_code"):
        commune = by_code[code]
        assert shapely.area(group.geometry.to_numpy()).sum() == pytest.approx(commune.area, rel=1e-9)
        union = shapely.union_all(group.geometry.to_numpy())
        assert shapely.symmetric_difference(union, commune).area < 1e-9 * commune.area


def test_real_hamlets_pass_the_boundary_check(polygons, communes):
    units = pd.concat([communes, polygons], ignore_index=True)
    codes = pd.read_csv(DATA / "admin_codes.csv", dtype=str)
    report = check_boundaries(units, codes)
    hamlet = [p for p in report.problems if p.level == 4]
    kinds = {p.kind for p in hamlet}
    assert kinds <= {"sibling_overlap", "gap"}  # no unknown codes, no hamlet outside its commune
    assert not [p for p in hamlet if p.kind == "sibling_overlap" and "same parent" in p.detail]
    assert not [p for p in report.problems if p.kind == "coverage" and p.level == 3]
    # status_2021 of the communes survives next to the hamlets' status column
    assert [p.code for p in report.problems if p.kind == "dissolved"] == ["26407"]


def square_commune(code="26000", name="Xã Thử"):
    return gpd.GeoDataFrame(
        {"code": [code], "name": [name], "level": [3], "parent_code": ["700"]},
        geometry=[shapely.box(107, 11, 107.02, 11.02)],
        crs="EPSG:4326",
    )


def hamlet_points(xy, parent="26000"):
    return gpd.GeoDataFrame(
        {
            "code": [f"{parent}-{k:02d}" for k in range(1, len(xy) + 1)],
            "name": "Ấp",
            "level": 4,
            "parent_code": parent,
            "synthetic": True,
        },
        geometry=shapely.points(np.asarray(xy, dtype=float)),
        crs="EPSG:4326",
    )


def test_one_point_gets_the_whole_commune():
    commune = square_commune()
    [geom] = hamlet_polygons_from_points(hamlet_points([(107.005, 11.005)]), commune).geometry
    assert geom.geom_type == "MultiPolygon" and geom.equals(commune.geometry.iloc[0])


def test_two_and_collinear_points_split_evenly():
    commune = square_commune()
    halves = hamlet_polygons_from_points(hamlet_points([(107.005, 11.01), (107.015, 11.01)]), commune)
    assert shapely.area(halves.geometry.to_numpy()).tolist() == pytest.approx([0.0002, 0.0002])
    assert halves.geometry.iloc[0].bounds == pytest.approx((107, 11, 107.01, 11.02))
    strips = hamlet_polygons_from_points(hamlet_points([(107.002, 11.01), (107.006, 11.01), (107.01, 11.01)]), commune)
    assert shapely.area(strips.geometry.to_numpy()).sum() == pytest.approx(0.0004)
    assert strips.geometry.iloc[1].bounds[0::2] == pytest.approx((107.004, 107.008))


def test_concave_commune_cells_stay_inside():
    u_shape = shapely.Polygon(
        [
            (107, 11),
            (107.03, 11),
            (107.03, 11.03),
            (107.02, 11.03),
            (107.02, 11.01),
            (107.01, 11.01),
            (107.01, 11.03),
            (107, 11.03),
        ]
    )
    commune = square_commune().set_geometry([u_shape], crs="EPSG:4326")
    cells = hamlet_polygons_from_points(hamlet_points([(107.005, 11.02), (107.025, 11.02), (107.015, 11.005)]), commune)
    assert shapely.area(cells.geometry.to_numpy()).sum() == pytest.approx(u_shape.area)
    assert all(u_shape.buffer(1e-12).contains(g) for g in cells.geometry)


def test_bad_points_raise_clear_errors():
    commune = square_commune()
    with pytest.raises(HamletPointError, match="26000-02 lies outside its commune 26000"):
        hamlet_polygons_from_points(hamlet_points([(107.005, 11.005), (107.5, 11.5)]), commune)
    with pytest.raises(HamletPointError, match="parent commune 26999 has no polygon"):
        hamlet_polygons_from_points(hamlet_points([(107.005, 11.005)], parent="26999"), commune)
    with pytest.raises(HamletPointError, match="26000-02 has the same location"):
        hamlet_polygons_from_points(hamlet_points([(107.005, 11.005), (107.005, 11.005)]), commune)


def test_generator_skips_dissolved_and_validates_counts():
    commune = square_commune(name="Phường Một")
    commune["status"] = ["dissolved_2019_2021"]
    assert len(synthetic_hamlet_points(commune)) == 0
    points = synthetic_hamlet_points(square_commune(name="Phường Một"), min_per_commune=3, max_per_commune=3)
    assert points["name"].tolist() == ["Khu phố 1", "Khu phố 2", "Khu phố 3"]
    with pytest.raises(ValueError):
        synthetic_hamlet_points(square_commune(), min_per_commune=4, max_per_commune=2)
