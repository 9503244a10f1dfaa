"""The demo's vaccination ramp follows the cited first-dose coverage (gis/ingest/demo_ramp.yml): computed from the
ingested feed, the full-coverage commune's coverage of adults is the published one at every cited date, and on late
October days Decision 4800's high-coverage column decides its zones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import run_cli
from sqlalchemy import Engine, text

from gis.ingest.demo_data import read_ramp
from gis.ingest.demo_feeds import FULL_COVERAGE_COMMUNES
from gis.stats.settings import StatsSettings

LATE_OCTOBER = (dt.date(2021, 10, 25), dt.date(2021, 10, 31))
RAMP = read_ramp()
TOLERANCE = 0.02  # doses placed at a hamlet's corner may be located in the neighbouring commune


@pytest.fixture(scope="module")
def demo(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default demo feeds (1 Jul – 31 Oct 2021, scale 1) ingested, and zones computed for late October."""
    env = {"COVIDGIS_VAR_DIR": str(tmp_path_factory.mktemp("var")), "COVIDGIS_HMAC_SECRET": "demo-ramp-test-secret"}
    out = tmp_path_factory.mktemp("demo-feeds")
    run_cli("ingest", "demo-data", "--out", str(out), "--load", database_url=db_url, env=env)
    first, last = (d.isoformat() for d in LATE_OCTOBER)
    run_cli("zones", "compute", "--from", first, "--to", last, database_url=db_url, env=env)
    return out


def first_dose_coverage(engine: Engine, commune: str, day: dt.date) -> float:
    """Adults with a first dose located in the commune (or its hamlets) by the day, over its adults."""
    with engine.connect() as conn:
        doses = conn.execute(
            text(
                "SELECT count(*) FROM events.vaccinations v JOIN admin.area a ON a.code = v.area_code "
                "WHERE (a.code = :c OR a.parent_code = :c) AND v.dose_number = 1 AND v.vaccinated_on <= :day "
                "AND extract(year FROM v.vaccinated_on) - v.birth_year >= 18"
            ),
            {"c": commune, "day": day},
        ).scalar_one()
        population = conn.execute(
            text("SELECT population FROM admin.area WHERE code = :c AND valid_to IS NULL"), {"c": commune}
        ).scalar_one()
    return doses / (population * StatsSettings().share_18plus)


def test_the_label_names_the_matched_figures(demo: Path) -> None:
    label = (demo / "SYNTHETIC.txt").read_text(encoding="utf-8")
    assert "SYNTHETIC" in label
    for point in RAMP:
        assert (point.label() in label) == (point.status == "confirmed")


@pytest.mark.parametrize("point", [p for p in RAMP if p.status == "confirmed"], ids=lambda p: p.date.isoformat())
@pytest.mark.parametrize("commune", FULL_COVERAGE_COMMUNES)
def test_first_dose_coverage_is_the_cited_one(demo: Path, engine: Engine, commune: str, point) -> None:
    coverage = first_dose_coverage(engine, commune, point.date)
    assert point.coverage - TOLERANCE <= coverage <= min(point.coverage + TOLERANCE, 1.0), (point, coverage)


def test_the_rest_of_the_province_stays_below_the_threshold(demo: Path, engine: Engine) -> None:
    """Elsewhere the feed carries a small share of the doses: no other commune reaches 70 % (the label says so)."""
    with engine.connect() as conn:
        others = conn.execute(
            text(
                "SELECT area_code FROM stats.indicator WHERE day = :day AND admin_level = 3 "
                "AND vaccinated_18plus_1dose >= 0.7 * population_18plus"
            ),
            {"day": LATE_OCTOBER[1]},
        ).scalars()
        assert set(others) <= set(FULL_COVERAGE_COMMUNES)


def test_late_october_zones_use_the_high_coverage_column(demo: Path, engine: Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT z.day, z.area_code, z.reasons::text FROM risk.zone z JOIN admin.area a ON a.code = z.area_code "
                "WHERE z.day BETWEEN :a AND :b AND z.ruleset_id = 'vn-4800-2021' "
                "AND (a.code = ANY(:full) OR a.parent_code = ANY(:full))"
            ),
            {"a": LATE_OCTOBER[0], "b": LATE_OCTOBER[1], "full": FULL_COVERAGE_COMMUNES},
        ).all()
    assert {r.day for r in rows} == {LATE_OCTOBER[0] + dt.timedelta(days=k) for k in range(7)}
    assert all("high" in r.reasons for r in rows if r.area_code in FULL_COVERAGE_COMMUNES), rows[:3]


@pytest.mark.parametrize("commune", FULL_COVERAGE_COMMUNES)
@pytest.mark.parametrize(("age", "share"), [(18, "share_18plus"), (50, "share_50plus"), (65, "share_65plus")])
def test_no_age_group_is_vaccinated_beyond_its_people(demo: Path, engine: Engine, commune: str, age: int, share: str):
    """Each age group's first doses stay within its census share of the commune (a believable map: no 65+ at 300 %)."""
    with engine.connect() as conn:
        doses, population = conn.execute(
            text(
                "SELECT count(*), min(c.population) FROM events.vaccinations v "
                "JOIN admin.area a ON a.code = v.area_code JOIN admin.area c ON c.code = :c AND c.valid_to IS NULL "
                "WHERE (a.code = :c OR a.parent_code = :c) AND v.dose_number = 1 "
                "AND extract(year FROM v.vaccinated_on) - v.birth_year >= :age"
            ),
            {"c": commune, "age": age},
        ).one()
    coverage = doses / (population * getattr(StatsSettings(), share))
    assert 0.5 < coverage <= 1.0, (age, coverage)
