"""Population split: exact integer totals, raster zonal sums and the area fallback."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from gis.boundaries.errors import PopulationError
from gis.boundaries.population import distribute_population, largest_remainder, zonal_sums

DATA = Path(__file__).resolve().parents[2] / "boundaries" / "dongnai"


def test_largest_remainder_known_cases():
    assert largest_remainder(10, np.array([1, 1, 1])).tolist() == [4, 3, 3]
    assert largest_remainder(7, np.array([0.5, 0.25, 0.25])).tolist() == [3, 2, 2]
    assert largest_remainder(3, np.array([1.0, 1.0])).tolist() == [2, 1]  # a tie goes to the earlier one
    assert largest_remainder(5, np.zeros(4)).tolist() == [2, 1, 1, 1]
    assert largest_remainder(0, np.array([3.0, 1.0])).tolist() == [0, 0]
    assert largest_remainder(9, np.array([0.0, 2.0])).tolist() == [0, 9]
    assert largest_remainder(0, np.zeros(0)).tolist() == []
    assert largest_remainder(3, np.array([1.0])).dtype == np.int64


def test_largest_remainder_always_sums_exactly():
    rng = np.random.default_rng(1)
    for _ in range(500):
        weights = rng.random(rng.integers(1, 40)) ** 3
        total = int(rng.integers(0, 5_000_000))
        shares = largest_remainder(total, weights)
        assert shares.sum() == total and (shares >= 0).all()
        assert np.abs(shares - total * weights / weights.sum()).max() < 1


@pytest.mark.parametrize("total, weights", [(5, [1.0, -1.0]), (5, [np.nan, 1.0]), (-1, [1.0]), (3, [])])
def test_largest_remainder_rejects_bad_input(total, weights):
    with pytest.raises(ValueError):
        largest_remainder(total, np.array(weights))


def write_raster(path, values, crs="EPSG:32648", origin=(700_000, 1_200_000), size=100, nodata=-1.0):
    """A float32 test raster with the given rows of values, north-up, square pixels."""
    values = np.asarray(values, dtype="float32")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=values.shape[0],
        width=values.shape[1],
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_origin(*origin, size, size),
        nodata=nodata,
    ) as dst:
        dst.write(values, 1)
    return path


def cells(*boxes, crs="EPSG:32648"):
    """Polygons from pixel boxes (col0, row0, col1, row1) of the test raster's grid."""
    geoms = [
        shapely.box(700_000 + c0 * 100, 1_200_000 - r1 * 100, 700_000 + c1 * 100, 1_200_000 - r0 * 100)
        for c0, r0, c1, r1 in boxes
    ]
    return gpd.GeoDataFrame(
        {"code": [f"c{i}" for i in range(len(geoms))], "parent_code": "p"}, geometry=geoms, crs="EPSG:32648"
    ).to_crs(crs)


@pytest.fixture
def raster(tmp_path):
    values = np.arange(16, dtype="float32").reshape(4, 4)
    values[3, 3] = -1.0  # nodata
    values[0, 3] = np.nan
    return write_raster(tmp_path / "pop.tif", values)


def test_zonal_sums_counts_pixel_centres_and_skips_nodata(raster):
    polys = cells((0, 0, 2, 2), (2, 2, 4, 4), (0, 2, 2, 4), (2, 0, 4, 2))
    assert zonal_sums(raster, polys).tolist() == [0 + 1 + 4 + 5, 10 + 11 + 14, 8 + 9 + 12 + 13, 2 + 6 + 7]
    # polygons in lon/lat are reprojected to the raster's CRS first
    assert zonal_sums(raster, polys.to_crs("EPSG:4326")) == pytest.approx([10, 35, 42, 15])
    # a sliver through no pixel centre and a polygon off the raster get 0
    off = cells((0, 0, 0.3, 4), (10, 10, 12, 12))
    assert zonal_sums(raster, off).tolist() == [0, 0]


def test_zonal_sums_reports_unreadable_raster(tmp_path):
    with pytest.raises(PopulationError, match="cannot read population raster"):
        zonal_sums(tmp_path / "missing.tif", cells((0, 0, 1, 1)))


def test_distribute_by_raster_with_exact_totals(raster):
    polys = cells((0, 0, 2, 2), (2, 2, 4, 4), (0, 2, 2, 4), (2, 0, 4, 2))
    result = distribute_population(polys, {"p": 1020}, raster)
    assert result.index.tolist() == ["c0", "c1", "c2", "c3"] and result.dtype == np.int64
    assert result.tolist() == [100, 350, 420, 150]


def test_zero_raster_parent_falls_back_to_area(tmp_path):
    path = write_raster(tmp_path / "zero.tif", np.zeros((4, 4)))
    polys = cells((0, 0, 1, 4), (1, 0, 4, 4))
    assert distribute_population(polys, {"p": 1000}, path).tolist() == [250, 750]
    assert distribute_population(polys, {"p": 1000}).tolist() == [250, 750]


def test_missing_parent_population_is_an_error():
    polys = cells((0, 0, 1, 1), (1, 0, 2, 1))
    polys["parent_code"] = ["p", "q"]
    with pytest.raises(PopulationError, match="no population given for parent.* q"):
        distribute_population(polys, {"p": 10})


def test_real_district_totals_split_among_communes():
    communes = gpd.read_file(DATA / "communes.geojson")
    census = pd.read_csv(DATA / "population.csv", dtype={"code": str, "parent_code": str})
    districts = {str(k): int(v) for k, v in census[census.level == 2].set_index("code")["pop_total_2019"].items()}
    result = distribute_population(communes, districts)
    assert len(result) == 171 and result.sum() == 3_097_107
    by_district = result.groupby(communes.set_index("code")["parent_code"]).sum()
    assert by_district.to_dict() == districts
