"""Errors stop a load: a province whose districts' shapes are swapped, or whose commune lies wholly outside its coded
district, is refused with the findings named and nothing written; accepted on purpose, the graded severities are what
the data-quality layer shows."""

import datetime as dt
import json
import re

import pytest
from conftest import run_cli
from sqlalchemy import text
from test_boundaries_check import hierarchy  # the synthetic provinces of the check tests

from gis.boundaries.dataset import Dataset
from gis.boundaries.load import prepare, store
from gis.db.engine import make_engine

CASES = {  # name -> (hierarchy arguments, findings that must be named)
    "swapped": ({"n_parents": 3, "shapes": {"11": 1, "12": 0}}, ["look swapped", "11 (Unit A) and 12 (Unit B)"]),
    "miscoded": ({"n_parents": 2, "moved": {"112": (0, "12")}}, ["outside_parent 112", "lies in Unit A (11)"]),
}


def write_dataset(folder, **kwargs):
    """The synthetic province as files a user would give `covidgis boundaries load`."""
    units, codes = hierarchy(**kwargs)
    units.to_file(folder / "units.geojson", driver="GeoJSON")
    codes.to_csv(folder / "codes.csv", index=False)
    return folder / "units.geojson", folder / "codes.csv"


def count(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


@pytest.mark.parametrize("case", CASES)
def test_a_load_with_errors_is_refused_and_writes_nothing(case, empty_db_url, tmp_path):
    kwargs, named = CASES[case]
    layer, codes = write_dataset(tmp_path, **kwargs)
    engine = make_engine(empty_db_url)
    before = count(engine, "SELECT count(*) FROM admin.boundary_load"), count(engine, "SELECT count(*) FROM admin.area")
    proc = run_cli(
        "boundaries",
        "load",
        str(layer),
        "--codes",
        str(codes),
        "--name",
        case,
        "--valid-from",
        "2021-01-01",
        database_url=empty_db_url,
        check=False,
    )
    message = re.sub(r"\s+", " ", proc.stderr)
    assert proc.returncode == 2, proc.stderr
    assert "nothing was loaded" in message and all(n in message for n in named), message
    after = count(engine, "SELECT count(*) FROM admin.boundary_load"), count(engine, "SELECT count(*) FROM admin.area")
    assert after == before
    engine.dispose()


@pytest.mark.parametrize("case", CASES)
def test_check_reports_the_errors_with_their_severity(case, tmp_path):
    kwargs, _ = CASES[case]
    layer, codes = write_dataset(tmp_path, **kwargs)
    report = json.loads(
        run_cli(
            "boundaries",
            "check",
            str(layer),
            "--codes",
            str(codes),
            "--json",
            database_url="postgresql://nobody@127.0.0.1:1/none",
        ).stdout
    )
    assert report["parameters"]["outside_share_error"] == 0.5
    assert report["summary"]["outside_parent"]["severity"] == "error"
    assert ("swapped_geometry" in report["summary"]) == (case == "swapped")
    assert all(p["severity"] == "error" for p in report["problems"] if p["kind"] == "swapped_geometry")


def test_accepted_errors_reach_the_data_quality_layer_graded(empty_db_url, tmp_path):
    # swapped A and B, and C2 pushed 0.3 % over the province's edge: errors for the swap, a warning for the sliver
    layer, codes = write_dataset(tmp_path, n_parents=3, shapes={"11": 1, "12": 0}, moved={"132": (0.003, None)})
    ds = Dataset(name="accepted", source="test", valid_from=dt.date(2021, 1, 1), codes=codes, layers=[layer])
    engine = make_engine(empty_db_url)
    store(engine, ds, prepare(ds), accept_errors=True)
    with engine.connect() as conn:
        graded = {
            (r.kind, r.code): (r.severity, r.detail)
            for r in conn.execute(
                text("SELECT kind, code, severity, detail FROM pub.data_quality WHERE dataset = 'accepted'")
            )
        }
    engine.dispose()
    assert graded[("swapped_geometry", "11")][0] == "error" and "look swapped" in graded[("swapped_geometry", "11")][1]
    assert {c for (k, c), (sev, _) in graded.items() if k == "outside_parent" and sev == "error"} == {
        "111",
        "112",
        "121",
        "122",
    }
    assert graded[("outside_parent", "132")][0] == "warning"
