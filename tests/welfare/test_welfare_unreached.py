"""The not-yet-reached list on real PostGIS: eligible households without a delivery of the programme within N days
(or in its dedup period), reversals undone, later deliveries ignored, the window's edge, one commune, the order
(highest zone level, then the most vulnerable), and the CLI's summary."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import run_cli
from welfare_support import add_household, add_zone, hamlets, local

from gis.welfare.ledger import Delivery, record_delivery, record_reversal
from gis.welfare.programmes import parse_programme
from gis.welfare.settings import WelfareSettings
from gis.welfare.unreached import unreached

FIXTURES = Path(__file__).parent / "fixtures"
ONCE = parse_programme(FIXTURES / "test-zone-programme.yml")  # poor or near-poor, zone 3–4, once in August 2021
DAILY = parse_programme(FIXTURES / "test-daily-programme.yml")  # F0/F1 households, per day in August 2021
DAY = dt.date(2021, 8, 20)
SETTINGS = WelfareSettings()


def deliver(engine, programme, household: str, day: str, amount: int = 1_000_000) -> Delivery:
    return record_delivery(
        engine,
        programme,
        Delivery(
            distribution_id=f"{programme.id}-{household}-{day}",
            programme=programme.id,
            household_id=household,
            at=local(day),
            officer="cb.an",
            amount_vnd=amount,
        ),
        SETTINGS,
    )


@pytest.fixture(scope="module")
def seeded(engine):
    z4, z3, z2 = hamlets(engine, 3)
    add_zone(engine, z4[0], "2021-08-20", 4)
    add_zone(engine, z3[0], "2021-08-20", 3)
    add_zone(engine, z2[0], "2021-08-20", 2)
    add_household(engine, "U1", z4, ["u1"], poor=True)
    add_household(engine, "U2", z3, ["u2"], near_poor=True, elderly_alone=True, disabled=True)
    add_household(engine, "U3", z4, ["u3"], poor=True, elderly_alone=True, disabled=True)
    add_household(engine, "U4", z4, ["u4"])  # not eligible
    add_household(engine, "U5", z4, ["u5"], poor=True)  # reached on the 5th (once per period)
    add_household(engine, "U6", z4, ["u6"], poor=True)  # reached, then the delivery reversed
    add_household(engine, "U7", z4, ["u7"], poor=True)  # reached only after the day asked
    add_household(engine, "U8", z4, ["u8"], poor=None)  # the feed left the flag empty: an officer confirms
    add_household(engine, "U9", z2, ["u9"], poor=True)  # zone 2: not eligible
    deliver(engine, ONCE, "U5", "2021-08-05")
    deliver(engine, ONCE, "U6", "2021-08-06")
    record_reversal(
        engine, f"{ONCE.id}-U6-2021-08-06", "cb.an", "nhầm hộ / wrong household", local("2021-08-07"), SETTINGS
    )
    deliver(engine, ONCE, "U7", "2021-08-25")
    # per day, a 3-day window up to the 20th: the 18th, 19th and 20th count
    for name, day in (("F1", "2021-08-18"), ("F2", "2021-08-17"), ("F3", "2021-08-20"), ("F4", "2021-08-21")):
        add_household(engine, name, z3, [name.lower()], covid_household=True)
        deliver(engine, DAILY, name, day, 80_000)
    add_household(engine, "F5", z2, ["f5"], covid_household=True)  # never reached
    return z4, z3, z2


def ids(result) -> list[str]:
    return [h["household_id"] for h in result.households]


def test_eligible_not_reached_in_order(engine, seeded):
    result = unreached(engine, ONCE, DAY, 7)
    # zone 4 before zone 3; within zone 4 the most vulnerable (three flags) first, then by id; U5 reached in the
    # period, U6's delivery reversed, U7's after the day; U4, U9 not eligible, U8 to confirm
    assert ids(result) == ["U3", "U1", "U6", "U7", "U2"]
    assert result.unreached == 5 and result.period_start == dt.date(2021, 8, 1) and result.open
    first = result.households[0]
    assert first["zone_level"] == 4 and first["vulnerability"] == 3 and first["eligible"] is True
    assert set(first["flags"]) == {"poor", "elderly_alone", "disabled"}
    z4, z3, _ = seeded
    assert result.by_commune == {z4[1]: 4, z3[1]: 1}
    u6 = next(h for h in result.households if h["household_id"] == "U6")
    assert u6["last_delivery_day"] is None  # its only delivery was reversed
    # the day after U7's delivery it is reached
    assert "U7" not in ids(unreached(engine, ONCE, dt.date(2021, 8, 25), 7))


def test_to_confirm_is_listed_only_when_asked(engine, seeded):
    with_confirm = unreached(engine, ONCE, DAY, 7, to_confirm=True)
    assert "U8" in ids(with_confirm) and "U8" not in ids(unreached(engine, ONCE, DAY, 7))
    assert next(h for h in with_confirm.households if h["household_id"] == "U8")["eligible"] is None


def test_window_edge_per_day(engine, seeded):
    result = unreached(engine, DAILY, DAY, 3)
    listed = [h for h in ids(result) if h.startswith("F")]
    # F1 (the 18th: the window's first day) and F3 (the day itself) are reached; F2 (the 17th: one day before the
    # window) and F4 (the 21st: after the day) are not; F5 never was
    assert sorted(listed) == ["F2", "F4", "F5"]
    f2 = next(h for h in result.households if h["household_id"] == "F2")
    assert f2["last_delivery_day"] == dt.date(2021, 8, 17)
    assert sorted(h for h in ids(unreached(engine, DAILY, DAY, 4)) if h.startswith("F")) == ["F4", "F5"]


def test_one_commune(engine, seeded):
    z4, z3, _ = seeded
    result = unreached(engine, ONCE, DAY, 7, commune_code=z3[1])
    assert ids(result) == ["U2"] and result.commune_code == z3[1]
    assert ids(unreached(engine, ONCE, DAY, 7, commune_code=z4[1])) == ["U3", "U1", "U6", "U7"]


def test_outside_the_period_nobody(engine, seeded):
    result = unreached(engine, ONCE, dt.date(2021, 9, 1), 7)
    assert not result.open and result.households == []


def test_cli_json(db_url, seeded):
    z4, _, _ = seeded
    proc = run_cli(
        "welfare", "unreached", "--programme", str(FIXTURES / "test-zone-programme.yml"), "--date", "2021-08-20",
        "--commune", z4[1], "--json", database_url=db_url,
    )  # fmt: skip
    summary = json.loads(proc.stdout)
    assert [h["household_id"] for h in summary["households"]] == ["U3", "U1", "U6", "U7"]
    assert summary["days"] == 7 and summary["unreached"] == 4 and summary["by_commune"] == {z4[1]: 4}
    text_out = run_cli(
        "welfare", "unreached", "--programme", str(FIXTURES / "test-zone-programme.yml"), "--date", "2021-08-20",
        "--days", "3", database_url=db_url, env={"COLUMNS": "200"},
    ).stdout  # fmt: skip
    assert "U3" in text_out and "5 hộ chưa được hỗ trợ trong 3 ngày" in text_out
