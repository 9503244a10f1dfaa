"""Coverage per hamlet and programme on real PostGIS: the exact counts of `welfare coverage` (eligible − reached =
the not-yet-reached list), and the public view `pub.welfare_coverage` read as `covidgis_public`: small counts
suppressed, the rest rounded down to the hamlet band, no household, person or address in any column."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import run_cli
from sqlalchemy import text
from welfare_support import add_household, add_zone, hamlets, local

from gis.welfare.coverage import refresh_coverage
from gis.welfare.ledger import Delivery, record_delivery, record_reversal
from gis.welfare.programmes import parse_programme
from gis.welfare.settings import WelfareSettings
from gis.welfare.unreached import unreached

FIXTURES = Path(__file__).parent / "fixtures"
ONCE = parse_programme(FIXTURES / "test-zone-programme.yml")  # poor or near-poor, zone 3–4, once in August 2021
DAY = dt.date(2021, 8, 20)
SETTINGS = WelfareSettings()


def deliver(engine, household: str, day: str = "2021-08-05", amount: int = 1_000_000) -> None:
    record_delivery(
        engine,
        ONCE,
        Delivery(f"cov-{household}", ONCE.id, household, local(day), "cb.an", amount_vnd=amount),
        SETTINGS,
    )


@pytest.fixture(scope="module")
def seeded(engine):
    """Hamlet `big` (zone 4): 23 eligible, 12 reached (one more reached, then reversed), 2 not eligible;
    hamlet `small` (zone 3): 3 eligible, 1 reached (a small count)."""
    big, small = hamlets(engine, 2)
    add_zone(engine, big[0], "2021-08-20", 4)
    add_zone(engine, small[0], "2021-08-20", 3)
    for i in range(23):
        add_household(engine, f"B{i:02d}", big, [f"b{i}", f"b{i}x"], poor=True)
    add_household(engine, "BN1", big, ["bn1"], migrant_worker=True, poor=True)
    add_household(engine, "BN2", big, ["bn2"])
    for i in range(12):
        deliver(engine, f"B{i:02d}")
    deliver(engine, "B12")
    record_reversal(engine, "cov-B12", "cb.an", "nhầm / mistaken", local("2021-08-06"), SETTINGS)
    deliver(engine, "BN1", amount=500_000)  # delivered to a household that is not eligible
    for i in range(3):
        add_household(engine, f"S{i}", small, [f"s{i}"], near_poor=True)
    deliver(engine, "S0")
    summary = refresh_coverage(engine, DAY, 7, [ONCE])
    return big, small, summary


def rows(engine, sql: str, **params) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r["code"]: dict(r) for r in conn.execute(text(sql), params).mappings()}


def test_exact_counts_agree_with_the_unreached_list(engine, seeded):
    big, small, summary = seeded
    exact = rows(engine, "SELECT area_code AS code, * FROM welfare.coverage WHERE programme = :p", p=ONCE.id)
    assert (exact[big[0]]["eligible"], exact[big[0]]["reached"], exact[big[0]]["delivered"]) == (23, 12, 13)
    assert exact[big[0]]["value_vnd"] == 12 * 1_000_000 + 500_000  # the reversed delivery is not counted
    assert (exact[small[0]]["eligible"], exact[small[0]]["reached"]) == (3, 1)
    listed = unreached(engine, ONCE, DAY, 7)
    for code, row in exact.items():
        assert row["eligible"] - row["reached"] == sum(h["area_code"] == code for h in listed.households)
    totals = next(p for p in summary.programmes if p["programme"] == ONCE.id)
    assert totals["eligible"] == sum(r["eligible"] for r in exact.values())


def test_public_view_suppresses_and_bands(engine, seeded):
    big, small, _ = seeded
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL ROLE covidgis_public"))
        public = {
            r["code"]: dict(r)
            for r in conn.execute(
                text("SELECT * FROM pub.welfare_coverage WHERE programme = :p"), {"p": ONCE.id}
            ).mappings()
        }
        with pytest.raises(Exception, match="permission denied"):
            conn.execute(text("SELECT count(*) FROM welfare.coverage"))
    b = public[big[0]]
    assert b["details_suppressed"] is False
    # 23 → 20, 12 → 10, 13 → 10; the share of the rounded counts; the mean per delivered household × 10
    assert (b["eligible"], b["reached"], b["delivered"], b["to_confirm"]) == (20, 10, 10, 0)
    assert b["share"] == 0.5
    assert b["value_vnd"] == round((12_500_000 / 13) * 10, -3)
    s = public[small[0]]
    assert s["details_suppressed"] is True
    assert [s[k] for k in ("eligible", "to_confirm", "reached", "delivered", "share", "value_vnd")] == [None] * 6
    columns = set(b)
    assert not columns & {"household_id", "person_key", "address", "head_person_key", "households", "officer"}
    texts = [v for r in public.values() for k, v in r.items() if isinstance(v, str) and k != "geom"]
    assert texts and not any(h in v for v in texts for h in ("B00", "b0", "S0", "s0", "BN1"))


def test_cli_refreshes_and_prints_the_summary(db_url, seeded):
    proc = run_cli(
        "welfare", "coverage", "--date", "2021-08-20", "--programme", str(FIXTURES / "test-zone-programme.yml"),
        "--json", database_url=db_url,
    )  # fmt: skip
    summary = json.loads(proc.stdout)
    (one,) = summary["programmes"]
    assert one["programme"] == ONCE.id and one["eligible"] == 26 and one["reached"] == 13 and one["hamlets"] >= 2
    later = run_cli(
        "welfare", "coverage", "--date", "2021-07-01", "--programme", str(FIXTURES / "test-zone-programme.yml"),
        "--json", database_url=db_url,
    )  # fmt: skip
    assert json.loads(later.stdout)["skipped"] == [ONCE.id]  # not begun: its rows are cleared
