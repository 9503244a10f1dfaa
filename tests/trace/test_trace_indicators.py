"""Tracing indicators (issue 12, item 8): restricted.trace_indicators on real PostGIS with exact values for a seeded
scenario (two F0, five contacts at a market and a factory, stays on the day and two days later, a contact who became
F0), per day, per week and per venue kind, and the seconds from a batch landing to its location being published."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine
from trace_support import TZ, add_case, add_checkins, add_venue, empty, local

from gis.trace.engine import trace_cases
from gis.trace.rules import load_trace_rules
from gis.trace.settings import TraceSettings

RULES = load_trace_rules("vn-pccovid-2022")
SETTINGS = TraceSettings(ruleset="vn-pccovid-2022", publish_min_visitors=5, timezone="Asia/Ho_Chi_Minh")
DAY = "2021-07-19"  # a Monday: the ISO week starts that day


@pytest.fixture(scope="module")
def engine(empty_db_url):
    eng = create_engine(empty_db_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def indicators(engine):
    empty(engine)
    add_venue(engine, "V1", "market")
    add_venue(engine, "V2", "factory")
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    add_case(engine, "F0-2", "p-f0b", "2021-07-20")  # no check-in in its window
    add_case(engine, "F0-3", "c4", "2021-07-25")  # a contact who became F0 (not traced here)
    add_checkins(engine, [("p-f0", "V1", local(DAY, "10:00")), ("p-f0", "V2", local(DAY, "14:00"))])
    add_checkins(
        engine, [(p, "V1", local(DAY, f"10:{m}")) for p, m in (("c1", 10), ("c2", 20), ("c3", 30), ("c5", 40))]
    )
    add_checkins(engine, [("c4", "V2", local(DAY, "14:10"))])
    with engine.begin() as conn:
        for stay, person, start in (("S1", "c1", "2021-07-19"), ("S2", "c2", "2021-07-21"), ("S3", "c3", "2021-07-30")):
            conn.exec_driver_sql(
                "INSERT INTO events.quarantine_stays (stay_id, person_key, start_on, batch_id, row_hash) "
                "VALUES (%(s)s, %(p)s, %(d)s, 0, 'seed')",
                {"s": stay, "p": person, "d": dt.date.fromisoformat(start)},
            )
        batch = conn.exec_driver_sql(
            "INSERT INTO ingest.batch (feed, file_name, file_sha256, started_at, finished_at) "
            "VALUES ('cases', 'cases.csv', 'x', now() - interval '31 seconds', now() - interval '30 seconds') "
            "RETURNING id"
        ).scalar_one()
    trace_cases(engine, RULES, SETTINGS, cases=["F0-1", "F0-2"], trigger="batch", batch_id=batch)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM restricted.trace_indicators").mappings().all()
    return {(r["period"], r["period_start"].isoformat(), r["venue_kind"]): dict(r) for r in rows}


def pick(row, *names):
    return tuple(row[n] for n in names)


def test_f0_indicators_by_detection_day_and_week(indicators):
    for key in (("day", "2021-07-20", "all"), ("week", DAY, "all")):
        row = indicators[key]
        assert pick(row, "f0", "f0_with_checkin", "share_f0_with_checkin", "contacts_per_f0") == (2, 1, 0.5, 2.5)
    assert indicators[("week", DAY, "all")]["period_end"] == dt.date(2021, 7, 25)


def test_contact_indicators_by_first_exposure_day_and_venue_kind(indicators):
    names = ("contacts", "quarantined_24h", "share_quarantined_24h", "quarantined_72h", "share_quarantined_72h")
    yields = ("became_f0", "yield_share")
    everything = indicators[("day", DAY, "all")]
    assert pick(everything, *names) == (5, 1, 0.2, 2, 0.4) and pick(everything, *yields) == (1, 0.2)
    market = indicators[("day", DAY, "market")]
    assert pick(market, *names) == (4, 1, 0.25, 2, 0.5) and pick(market, *yields) == (0, 0.0)
    factory = indicators[("day", DAY, "factory")]
    assert pick(factory, *names) == (1, 0, 0.0, 0, 0.0) and pick(factory, *yields) == (1, 1.0)
    assert factory["f0"] is None and factory["locations_published"] is None  # F0 columns only on 'all' rows
    assert pick(indicators[("week", DAY, "market")], *names) == pick(market, *names)


def test_seconds_from_the_batch_to_the_published_location(indicators):
    today = dt.datetime.now(TZ).date().isoformat()
    row = indicators[("day", today, "all")]
    assert row["locations_published"] == 1  # the market (5 visitors); the factory is not a public kind
    assert 30 <= row["seconds_to_publish_median"] < 120 and row["seconds_to_publish_p90"] >= 30
