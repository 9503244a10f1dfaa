"""The SYNTHETIC demo feeds: deterministic, labelled, and ingestible with few rejects."""

from __future__ import annotations

import hashlib
import json

import pytest
from ingest_fixtures import covidgis, ingest_env, ingest_json  # noqa: F401  (fixtures)
from sqlalchemy import text

ARGS = ["--start", "2021-07-01", "--end", "2021-07-31", "--scale", "0.3", "--seed", "7"]


@pytest.fixture(scope="module")
def demo(covidgis, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = json.loads(covidgis("ingest", "demo-data", "--out", str(out), *ARGS, "--load", "--json").stdout)
    return out, result


def _digest(folder) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.suffix != ".xlsx"
    }  # xlsx embeds its save time


def test_same_seed_same_files(covidgis, demo, tmp_path):
    out, _ = demo
    covidgis("ingest", "demo-data", "--out", str(tmp_path), *ARGS)
    assert _digest(tmp_path) == _digest(out)
    assert "SYNTHETIC" in (out / "SYNTHETIC.txt").read_text()


def test_demo_feeds_ingest(engine, demo):
    _, result = demo
    batches = {b["feed"]: b for b in result["batches"]}
    assert list(batches) == [
        "facilities",
        "rooms",
        "venues",
        "cases",
        "tests",
        "vaccinations",
        "quarantine",
        "checkins",
        "admissions",
        "observations",
        "households",
        "support_teams",
        "meal_contracts",
        "waste_contracts",
    ]
    for feed, b in batches.items():
        assert b["accepted"] > 0, feed
        assert b["rejected"] <= 0.01 * b["rows"] + 2, (feed, b["rejected_by_reason"])
    with engine.connect() as conn:
        first_week = conn.execute(
            text(
                "SELECT commune_code, count(*) FROM events.cases WHERE detected_on < '2021-07-08' "
                "GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
            )
        ).one()
        tested_cases = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM events.tests t WHERE t.person_key = c.person_key "
                "AND t.result = 'positive')) * 1.0 / count(*) FROM events.cases c"
            )
        ).scalar()
    assert first_week.commune_code in ("26020", "26050", "26056", "26374")  # Biên Hòa's industrial wards
    assert tested_cases > 0.95  # every case has its positive test (a few test rows carry defects)
