"""Trace scenarios on real PostGIS with exact expected contacts (issue 12, "Done when")."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, text
from trace_support import TZ, add_case, add_checkins, add_venue, contacts_of, empty, exposures, local, location

from gis.trace.engine import mark_notified, trace_cases, trace_venue_batch
from gis.trace.rules import load_trace_rules
from gis.trace.settings import TraceSettings

PCCOVID = load_trace_rules("vn-pccovid-2022")
CWA = load_trace_rules("de-cwa-2021")
SETTINGS = TraceSettings(ruleset="vn-pccovid-2022", publish_min_visitors=5, timezone="Asia/Ho_Chi_Minh")


@pytest.fixture(scope="module")
def engine(empty_db_url):
    eng = create_engine(empty_db_url)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def clean(engine):
    empty(engine)


def run(engine, rules=PCCOVID, **kw):
    return trace_cases(engine, rules, SETTINGS, **kw)


def test_the_60_minute_edges_are_inclusive(engine):
    add_venue(engine, "V1", "market")
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    day = "2021-07-19"
    add_checkins(engine, [("p-f0", "V1", local(day, "10:00"))])
    add_checkins(
        engine,
        [
            ("p-after59", "V1", local(day, "10:59")),
            ("p-after60", "V1", local(day, "11:00")),
            ("p-after61", "V1", local(day, "11:01")),
            ("p-before59", "V1", local(day, "09:01")),
            ("p-before60", "V1", local(day, "09:00")),
            ("p-before61", "V1", local(day, "08:59")),
            ("p-elsewhere", "V2", local(day, "10:00")),
        ],
    )
    summary = run(engine, cases=["F0-1"])
    assert contacts_of(engine, "F0-1") == {"p-after59", "p-after60", "p-before59", "p-before60"}
    assert exposures(engine) == {("F0-1", p, "casual") for p in ("p-after59", "p-after60", "p-before59", "p-before60")}
    assert (summary.cases, summary.visits, summary.venues, summary.contacts) == (1, 1, 1, 4)


def test_window_first_and_last_local_day(engine):
    """Window: local midnight 2 days before detection (18 Jul) to the end of the detection day (20 Jul), in
    Asia/Ho_Chi_Minh: 00:30 local on the 18th is 17:30 UTC on the 17th and is in; 23:59 local on the 17th is out."""
    add_venue(engine, "V1", "market")
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    ids = add_checkins(
        engine,
        [
            ("p-f0", "V1", local("2021-07-17", "23:59")),
            ("p-f0", "V1", local("2021-07-18", "00:00")),
            ("p-f0", "V1", local("2021-07-18", "00:30")),
            ("p-f0", "V1", local("2021-07-20", "23:59")),
            ("p-f0", "V1", local("2021-07-21", "00:00")),
        ],
    )
    run(engine, cases=["F0-1"])
    with engine.connect() as conn:
        visits = set(conn.execute(text("SELECT checkin_id FROM trace.visit")).scalars())
        start, end = conn.execute(text("SELECT window_start, window_end FROM trace.case_window")).one()
    assert visits == {ids[1], ids[2], ids[3]}
    assert start == local("2021-07-18", "00:00") and end == local("2021-07-21", "00:00")
    assert local("2021-07-18", "00:30").utctimetuple()[:4] == (2021, 7, 17, 17)


def test_contacts_across_midnight_two_partitions(engine):
    add_venue(engine, "V1", "market")
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    add_checkins(engine, [("p-f0", "V1", local("2021-07-19", "23:30"))])
    add_checkins(
        engine,
        [("p-next-day", "V1", local("2021-07-20", "00:20")), ("p-too-late", "V1", local("2021-07-20", "00:31"))],
    )
    run(engine, cases=["F0-1"])
    assert contacts_of(engine, "F0-1") == {"p-next-day"}
    with engine.connect() as conn:
        parts = set(
            conn.execute(text("SELECT tableoid::regclass::text FROM events.checkins WHERE venue_id = 'V1'")).scalars()
        )
        exposed_on = conn.execute(text("SELECT exposed_on::text FROM trace.exposure")).scalar_one()
    assert parts == {"events.checkins_20210719", "events.checkins_20210720"}
    assert exposed_on == "2021-07-20"  # the local day


def test_overlap_rule(engine):
    """de-cwa-2021: market dwell 60 min; F0 10:00, next elsewhere 10:40 (visit 10:00-10:40); >= 10 min is close."""
    add_venue(engine, "V1", "market")
    add_venue(engine, "V2", "office")
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    d = "2021-07-19"
    add_checkins(
        engine,
        [
            ("p-f0", "V1", local(d, "10:00")),
            ("p-f0", "V2", local(d, "10:40")),
            ("p-left", "V1", local(d, "09:00")),  # left for V3 at 09:20, before the F0 came: no contact
            ("p-left", "V3", local(d, "09:20")),
            ("p-close", "V1", local(d, "09:30")),  # stays to 10:30 (dwell): 30 min overlap
            ("p-casual", "V1", local(d, "10:35")),  # 10:35-10:40: 5 min
            ("p-at-end", "V1", local(d, "10:40")),  # came as the F0 left: no overlap
            ("p-dwell-out", "V1", local(d, "09:00")),  # dwell ends 10:00 as the F0 comes: no overlap
        ],
    )
    run(engine, CWA, cases=["F0-1"])
    assert exposures(engine) == {("F0-1", "p-close", "close"), ("F0-1", "p-casual", "casual")}
    with engine.connect() as conn:
        minutes = dict(conn.execute(text("SELECT person_key, overlap_minutes FROM trace.exposure")).all())
        visit_end = conn.execute(text("SELECT visit_end FROM trace.visit WHERE venue_id = 'V1'")).scalar_one()
    assert minutes == {"p-close": 30.0, "p-casual": 5.0}
    assert visit_end == local(d, "10:40")


def test_two_f0_at_one_venue_one_contact_two_exposures(engine):
    add_venue(engine, "V1", "market")
    add_case(engine, "F0-A", "p-a", "2021-07-20")
    add_case(engine, "F0-B", "p-b", "2021-07-20")
    d = "2021-07-19"
    add_checkins(
        engine,
        [("p-a", "V1", local(d, "10:00")), ("p-b", "V1", local(d, "10:30")), ("p-z", "V1", local(d, "10:15"))],
    )
    summary = run(engine, day=dt.date(2021, 7, 20))
    assert summary.cases == 2
    assert contacts_of(engine, "F0-A") == {"p-b", "p-z"} and contacts_of(engine, "F0-B") == {"p-a", "p-z"}
    with engine.connect() as conn:
        z = conn.execute(text("SELECT * FROM trace.contact WHERE person_key = 'p-z'")).mappings().one()
        count = conn.execute(text("SELECT count(*) FROM trace.contact")).scalar_one()
    assert z["cases"] == ["F0-A", "F0-B"] and z["exposures"] == 2
    assert count == 3  # p-z, and each F0 a contact of the other


def _crowd(engine, venue, n, day="2021-07-19", at="10:00"):
    add_checkins(engine, [(f"p-{venue}-{i}", venue, local(day, at)) for i in range(n)])


def test_withdrawn_case_withdraws_its_location(engine):
    add_venue(engine, "V1", "market")
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    add_checkins(engine, [("p-f0", "V1", local("2021-07-19", "10:00"))])
    _crowd(engine, "V1", 5)
    run(engine, cases=["F0-1"])
    (loi,) = location(engine, "V1")
    assert loi["published"] and loi["published_at"] is not None and loi["withdrawn_at"] is None
    assert loi["visitors"] == 6 and loi["cases"] == 1 and loi["exposure_type"] == "casual"
    assert loi["start_at"] == local("2021-07-19", "09:00") and loi["end_at"] == local("2021-07-19", "11:00")
    assert loi["advice_vi"] == PCCOVID.advice["casual"].vi
    add_case(engine, "F0-1", "p-f0", "2021-07-20", status="withdrawn")
    summary = run(engine, cases=["F0-1"])
    (after,) = location(engine, "V1")
    assert after["event_id"] == loi["event_id"]
    assert not after["published"] and after["withdrawn_at"] is not None
    assert after["published_at"] == loi["published_at"]
    assert summary.cases == 0 and exposures(engine) == set()


def test_location_below_visitor_threshold_not_published(engine):
    add_venue(engine, "V1", "market")
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    add_checkins(engine, [("p-f0", "V1", local("2021-07-19", "10:00"))])
    _crowd(engine, "V1", 3)  # 4 people with the F0: below 5
    run(engine, cases=["F0-1"])
    (loi,) = location(engine, "V1")
    assert loi["visitors"] == 4 and loi["public"] and not loi["published"] and loi["published_at"] is None
    _crowd(engine, "V1", 4, at="10:30")  # p-V1-3 is new: 5 people
    run(engine, cases=["F0-1"])
    (loi,) = location(engine, "V1")
    assert loi["visitors"] == 5 and loi["published"]


def test_non_public_venue_kind_never_published(engine):
    add_venue(engine, "V1", "office")
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    add_checkins(engine, [("p-f0", "V1", local("2021-07-19", "10:00"))])
    _crowd(engine, "V1", 20)
    run(engine, cases=["F0-1"])
    (loi,) = location(engine, "V1")
    assert loi["visitors"] == 21 and not loi["public"] and not loi["published"]
    assert len(contacts_of(engine, "F0-1")) == 20  # its contacts are traced all the same


def test_unknown_venue_traced_then_located_when_it_arrives(engine):
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    add_checkins(engine, [("p-f0", "V9", local("2021-07-19", "10:00"))])
    _crowd(engine, "V9", 5)
    run(engine, cases=["F0-1"])
    assert len(contacts_of(engine, "F0-1")) == 5 and location(engine, "V9") == []
    add_venue(engine, "V9", "supermarket", batch_id=77)
    summary = trace_venue_batch(engine, PCCOVID, SETTINGS, 77)
    (loi,) = location(engine, "V9")
    assert loi["published"] and summary.locations == 1 and summary.venues == 1


def test_case_without_checkins_has_no_visits(engine):
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    summary = run(engine, cases=["F0-1"])
    assert (summary.cases, summary.visits, summary.contacts, summary.locations) == (1, 0, 0, 0)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT cases, visits FROM trace.run")).one() == (1, 0)


def test_contact_status_is_derived_from_events(engine):
    """new, notified (trace mark), quarantined (a stay from the exposure day), became_f0 (a case within 14 days),
    cleared (14 days passed with neither)."""
    today = dt.datetime.now(TZ).date()
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    add_venue(engine, "V1", "market")
    add_case(engine, "F0-S", "p-f0", today.isoformat())
    add_checkins(engine, [("p-f0", "V1", local(yesterday, "10:00"))])
    for i, person in enumerate(["p-new", "p-notified", "p-quarantined", "p-became"]):
        add_checkins(engine, [(person, "V1", local(yesterday, f"10:{10 * (i + 1)}"))])
    add_case(engine, "F0-OLD", "p-old-f0", "2021-07-20")
    add_checkins(
        engine, [("p-old-f0", "V1", local("2021-07-19", "10:00")), ("p-cleared", "V1", local("2021-07-19", "10:05"))]
    )
    add_case(engine, "LATER", "p-became", today.isoformat())
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO events.quarantine_stays (stay_id, person_key, start_on, batch_id, row_hash) "
                "VALUES ('S1', 'p-quarantined', :d, 0, 'seed')"
            ),
            {"d": today},
        )
    run(engine, cases=["F0-S", "F0-OLD"])
    assert mark_notified(engine, PCCOVID.id, "p-notified", "Trạm y tế") is not None
    assert mark_notified(engine, PCCOVID.id, "p-nobody", None) is None
    with engine.connect() as conn:
        status = dict(conn.execute(text("SELECT person_key, status FROM trace.contact")).all())
    assert status == {
        "p-new": "new",
        "p-notified": "notified",
        "p-quarantined": "quarantined",
        "p-became": "became_f0",
        "p-cleared": "cleared",
    }
