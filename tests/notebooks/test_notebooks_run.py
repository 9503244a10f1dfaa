"""The analyst notebooks run top to bottom against the test database (nbclient, DATABASE_URL in the environment)."""

import datetime as dt
import os

import nbformat
import pytest
from conftest import ROOT
from nbclient import NotebookClient
from sqlalchemy import text
from support import put_quiet_indicators

from gis.risk.ruleset import load_ruleset
from gis.risk.settings import RiskSettings
from gis.risk.zones import compute_zones

NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "test-artifacts" / "notebooks"
DAYS = [dt.date(2021, 9, 1) + dt.timedelta(days=i) for i in range(4)]
TAN_PHONG = "25996"
RULESETS = ["vn-4800-2021", "vn-2686-2021"]


def put_indicators(engine, day, per_100k: float, hard_to_trace: int):
    """Quiet, vaccinated province; Tân Phong with that many community cases per 100,000 and hard-to-trace cases."""
    with engine.begin() as conn:
        put_quiet_indicators(conn, day)
        conn.execute(
            text("""
            UPDATE stats.indicator SET community_cases_7d = ceil(population * :r / 100000.0),
                   vaccinated_18plus_1dose = 0, hard_to_trace_cases_14d = :h,
                   cases_14d = ceil(population * :r / 100000.0)
            WHERE day = :d AND area_code = :c"""),
            {"r": per_100k, "h": hard_to_trace, "d": day, "c": TAN_PHONG},
        )


@pytest.fixture(scope="module")
def sample(engine, db_url):
    """Four days of zones with both rule sets: Tân Phong rises from green to red and falls back."""
    for day, rate, hard in zip(DAYS, [0, 60, 200, 25], [0, 0, 2, 0]):
        put_indicators(engine, day, rate, hard)
    for rs in RULESETS:
        compute_zones(engine, DAYS, load_ruleset(rs), RiskSettings())
    return db_url


def run(name: str, db_url: str, **env) -> str:
    """Execute a notebook in a fresh kernel; returns its printed and displayed text."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    saved = dict(os.environ)
    os.environ.update({"DATABASE_URL": db_url, **env})  # the kernel inherits the environment
    try:
        client = NotebookClient(
            nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, ARTIFACTS / f"{name}.ipynb")
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", "") or out.get("data", {}).get("text/plain", ""))
    return "\n".join(texts)


def test_commune_history_notebook(sample):
    map_out = ARTIFACTS / "commune-map.html"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    map_out.unlink(missing_ok=True)
    out = run("commune-zone-history", sample, COMMUNE=TAN_PHONG, MAP_OUT=str(map_out))
    assert "Phường Tân Phong (25996), vn-4800-2021" in out
    assert "2021-09-03: Cấp 4 – Nguy cơ rất cao" in out  # the day it turned red, with its reasons below
    assert "community_cases_7d_per_100k" in out
    assert "3 changes of level over 4 days" in out
    assert f"communes written to {map_out}" in out
    page = map_out.read_text(encoding="utf-8")
    assert '"code": "25996"' in page and "L.geoJson" in page  # a Leaflet page with the commune among its features


def test_ruleset_comparison_notebook(sample, engine):
    out = run("ruleset-comparison", sample)
    assert f"{170 * len(DAYS)} unit-days classified by both vn-4800-2021 and vn-2686-2021, {len(DAYS)} days" in out
    with engine.connect() as conn:
        same = conn.execute(
            text("""
            SELECT avg((a.level = b.level)::int) FROM risk.zone a JOIN risk.zone b USING (day, area_code)
            WHERE a.ruleset_id = 'vn-4800-2021' AND b.ruleset_id = 'vn-2686-2021'
              AND a.admin_level = 3""")
        ).scalar_one()
    assert f"same level on {float(same):.1%} of unit-days" in out
