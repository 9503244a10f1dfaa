"""Loading Đồng Nai (the demo dataset) and another province's files into a real PostGIS."""

import json
import re

import geopandas as gpd
import pandas as pd
import pytest
from conftest import DONGNAI, run_cli
from sqlalchemy import text

from gis.db.engine import make_engine

PROVINCE_POPULATION = 3_097_107


def scalar(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).mappings().all()


def test_top_unit_has_no_parent(engine):
    assert scalar(engine, "SELECT parent_code IS NULL FROM admin.area WHERE code = '75'")


def test_current_units_per_level(engine):
    counts = {
        r["level"]: r["n"]
        for r in rows(engine, "SELECT level, count(*) AS n FROM admin.area WHERE valid_to IS NULL GROUP BY level")
    }
    assert counts[1] == 1 and counts[2] == 11 and counts[3] == 170
    assert 170 * 5 <= counts[4] <= 170 * 15


def test_dissolved_commune_kept_with_its_validity(engine):
    [suoi_trau] = rows(engine, "SELECT * FROM admin.area WHERE code = '26407'")
    assert suoi_trau["name"] == "Xã Suối Trầu"
    assert suoi_trau["status"] == "dissolved_2019_2021"
    assert str(suoi_trau["valid_to"]) == "2020-01-01"
    assert scalar(engine, "SELECT count(*) FROM pub.areas WHERE code = '26407'") == 0


def test_population_sums_match_parents_exactly(engine):
    assert scalar(engine, "SELECT population FROM pub.areas WHERE level = 1") == PROVINCE_POPULATION
    assert scalar(engine, "SELECT sum(population) FROM pub.areas WHERE level = 3") == PROVINCE_POPULATION
    assert scalar(engine, "SELECT count(*) FROM pub.areas WHERE population IS NULL") == 0
    mismatched = rows(
        engine,
        """
        SELECT p.code, p.population, sum(c.population) AS children
        FROM pub.areas p JOIN pub.areas c ON c.parent_code = p.code
        GROUP BY p.code, p.population HAVING sum(c.population) <> p.population""",
    )
    assert mismatched == []


def test_dissolved_population_went_to_neighbours(engine):
    census = pd.read_csv(DONGNAI / "population.csv", dtype={"code": str}).set_index("code")["pop_total_2019"]
    reallocated = rows(engine, "SELECT code, population FROM pub.areas WHERE population_method = 'census+reallocated'")
    assert reallocated, "Suối Trầu's people must go to some neighbour"
    gained = sum(r["population"] - census[r["code"]] for r in reallocated)
    assert gained == census["26407"]
    assert scalar(engine, "SELECT count(*) FROM pub.data_quality WHERE kind = 'population_reallocated'") == 1


def test_hamlets_are_synthetic_tile_their_commune_and_are_labelled(engine):
    bad_codes = rows(engine, r"SELECT code FROM pub.areas WHERE level = 4 AND code !~ '^\d{5}-\d{2}$'")
    assert bad_codes == []
    assert scalar(engine, "SELECT bool_and(synthetic) FROM pub.areas WHERE level = 4")
    assert scalar(engine, "SELECT bool_and(source ILIKE '%synthetic%') FROM pub.areas WHERE level = 4")
    assert not scalar(engine, "SELECT bool_or(synthetic) FROM pub.areas WHERE level < 4")
    # Voronoi cells clipped to the commune tile it: no area left over or doubled beyond floating-point noise.
    worst = scalar(
        engine,
        """
        SELECT max(ST_Area(ST_SymDifference(c.geom, h.geom)) / ST_Area(c.geom)) FROM pub.areas c
        JOIN (SELECT parent_code, ST_Union(geom) AS geom FROM pub.areas WHERE level = 4 GROUP BY 1) h
          ON h.parent_code = c.code""",
    )
    assert worst < 1e-6
    overlap = scalar(
        engine,
        """
        SELECT coalesce(max(ST_Area(ST_Intersection(a.geom, b.geom)) / ST_Area(a.geom)), 0)
        FROM pub.areas a JOIN pub.areas b
          ON a.parent_code = b.parent_code AND a.code < b.code AND ST_Intersects(a.geom, b.geom)
        WHERE a.level = 4 AND b.level = 4""",
    )
    assert overlap < 1e-6


def test_problems_stored_for_the_data_quality_layer(engine):
    summary = {
        r["kind"]: r["n"] for r in rows(engine, "SELECT kind, count(*) AS n FROM pub.data_quality GROUP BY kind")
    }
    assert summary["sibling_overlap"] >= 347  # 347 commune pairs, plus any between hamlets/districts
    assert scalar(engine, "SELECT count(*) FROM pub.data_quality WHERE kind = 'sibling_overlap' AND level = 3") == 347
    assert scalar(engine, "SELECT count(*) FROM pub.data_quality WHERE kind = 'gap' AND level = 3") == 556
    assert scalar(engine, "SELECT code FROM pub.data_quality WHERE kind = 'dissolved'") == "26407"
    assert scalar(engine, "SELECT code FROM pub.data_quality WHERE kind = 'renamed'") == "26326"
    assert scalar(engine, "SELECT count(*) FROM pub.data_quality WHERE kind = 'outside_parent'") > 0


def test_reloading_the_same_dataset_changes_nothing(db_url, engine):
    before = scalar(engine, "SELECT count(*) FROM admin.area")
    out = json.loads(run_cli("boundaries", "load", str(DONGNAI), "--json", database_url=db_url).stdout)
    assert out["inserted"] == 0 and out["corrected"] == 0
    assert out["unchanged"] == before
    assert scalar(engine, "SELECT count(*) FROM admin.area") == before


def test_check_reports_the_known_defects_without_a_database(db_url):
    report = json.loads(
        run_cli(
            "boundaries", "check", str(DONGNAI), "--json", database_url="postgresql://nobody@127.0.0.1:1/none"
        ).stdout
    )
    summary = report["summary"]
    assert summary["dissolved"]["count"] == 1
    assert summary["renamed"]["count"] == 1
    # PROVENANCE.md: 347 overlapping commune pairs (16.6 km²) and 556 sliver gaps (17.2 km²) at commune level.
    assert summary["sibling_overlap"]["by_level"]["3"] == 347
    assert summary["gap"]["by_level"]["3"] == 556
    commune_overlap_m2 = sum(
        p["area_m2"] for p in report["problems"] if p["kind"] == "sibling_overlap" and p["level"] == 3
    )
    assert 16.5e6 < commune_overlap_m2 < 16.7e6
    assert summary["outside_parent"]["count"] > 0
    assert summary["coverage"]["by_level"]["2"] == 11


@pytest.fixture
def fake_province(tmp_path):
    """Biên Hòa's communes renamed as province 99 with one district, as a GeoPackage + code list + census."""
    communes = gpd.read_file(DONGNAI / "communes.geojson")
    districts = gpd.read_file(DONGNAI / "districts.geojson")
    bien_hoa = communes[communes["parent_code"] == "731"].copy()
    bien_hoa["code"] = "9" + bien_hoa["code"]
    bien_hoa["parent_code"] = "999"
    district = districts[districts["code"] == "731"].copy()
    district["code"], district["parent_code"] = "999", "99"
    province = district.copy()
    province["code"], province["parent_code"] = "99", None
    layer = pd.concat([province, district, bien_hoa[["code", "name", "parent_code", "geometry"]]], ignore_index=True)
    layer[["code", "name", "geometry"]].to_file(tmp_path / "units.gpkg", driver="GPKG")
    codes = pd.DataFrame(
        {
            "code": layer["code"],
            "name": layer["name"].fillna("Tỉnh Giả lập"),
            "level": [1, 2] + [3] * len(bien_hoa),
            "parent_code": layer["parent_code"],
        }
    )
    codes.to_csv(tmp_path / "codes.csv", index=False)
    pop = pd.DataFrame({"code": codes["code"], "people": [0, 0] + [1000 + i for i in range(len(bien_hoa))]})
    pop.loc[:1, "people"] = pop["people"].iloc[2:].sum()
    pop.to_csv(tmp_path / "pop.csv", index=False)
    return tmp_path, len(bien_hoa), int(pop["people"].iloc[0])


def test_another_province_loads_with_the_same_commands(fake_province, empty_db_url):
    folder, n_communes, total = fake_province
    out = json.loads(
        run_cli(
            "boundaries",
            "load",
            str(folder / "units.gpkg"),
            "--codes",
            str(folder / "codes.csv"),
            "--population",
            str(folder / "pop.csv"),
            "--pop-column",
            "people",
            "--valid-from",
            "2021-01-01",
            "--name",
            "fake99",
            "--json",
            database_url=empty_db_url,
        ).stdout
    )
    assert out["units_by_level"] == {"province": 1, "district": 1, "commune": n_communes}
    engine = make_engine(empty_db_url)
    assert scalar(engine, "SELECT sum(population) FROM pub.areas WHERE level = 3") == total
    assert scalar(engine, "SELECT parent_code FROM pub.areas WHERE code = '925993'") == "999"
    engine.dispose()


def test_bad_code_list_is_rejected_with_a_clear_message_and_nothing_written(fake_province, empty_db_url, tmp_path):
    folder, _, _ = fake_province
    (tmp_path / "bad.csv").write_text("code,name\n99,X\n", encoding="utf-8")
    engine = make_engine(empty_db_url)
    loads_before = scalar(engine, "SELECT count(*) FROM admin.boundary_load")
    proc = run_cli(
        "boundaries",
        "load",
        str(folder / "units.gpkg"),
        "--codes",
        str(tmp_path / "bad.csv"),
        database_url=empty_db_url,
        check=False,
    )
    assert proc.returncode == 2
    assert re.search(r"bad\.csv.*level", proc.stderr.replace("\n", " "))
    assert scalar(engine, "SELECT count(*) FROM admin.boundary_load") == loads_before
    engine.dispose()
