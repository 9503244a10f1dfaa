"""Exposures derived on read (migration 0022): the view trace.exposure gives what the engine stored before, row for
row: one row per (F0, contact check-in), assigned to the nearest F0 check-in (checkin_within) or the longest overlap
(overlap), ties to the lower F0 check-in id; nothing per contact is written by a trace; stored rows
(trace.exposure_kept) are read beside the derived ones and replaced by a re-trace of their case."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from trace_support import add_case, add_checkins, add_venue, contacts_of, empty, local

from gis.trace.engine import trace_cases
from gis.trace.rules import load_trace_rules
from gis.trace.settings import TraceSettings

PCCOVID = load_trace_rules("vn-pccovid-2022")
CWA = load_trace_rules("de-cwa-2021")
SETTINGS = TraceSettings(ruleset="vn-pccovid-2022", publish_min_visitors=5, timezone="Asia/Ho_Chi_Minh")
DAY = "2021-07-19"

# The statement the engine stored exposures with before 0022 (checkin_within), over the stored visits: the reference.
STORED_BEFORE = """
SELECT DISTINCT ON (v.case_id, k.checkin_id, k.checked_in_at)
       v.case_id, k.checkin_id, k.checked_in_at, k.venue_id, k.person_key, v.checkin_id AS case_checkin_id, 'casual',
       (k.checked_in_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
FROM trace.visit v
JOIN trace.case_window w ON w.ruleset_id = v.ruleset_id AND w.case_id = v.case_id
JOIN events.checkins k
  ON k.venue_id = v.venue_id
 AND k.checked_in_at BETWEEN v.checked_in_at - interval '60 minutes' AND v.checked_in_at + interval '60 minutes'
 AND k.person_key <> w.person_key
ORDER BY v.case_id, k.checkin_id, k.checked_in_at, abs(extract(epoch FROM k.checked_in_at - v.checked_in_at)),
         v.checkin_id
"""
VIEW = (
    "SELECT case_id, checkin_id, checked_in_at, venue_id, person_key, case_checkin_id, risk, exposed_on "
    "FROM trace.exposure"
)


@pytest.fixture(scope="module")
def engine(empty_db_url):
    eng = create_engine(empty_db_url)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def clean(engine):
    empty(engine)


def rows(engine, statement: str) -> set[tuple]:
    with engine.connect() as conn:
        return set(map(tuple, conn.execute(text(statement)).all()))


def test_checkin_within_rows_equal_the_stored_statement_nearest_f0_checkin(engine):
    add_venue(engine, "V1", "market")
    add_venue(engine, "V2", "office")
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    add_case(engine, "F0-2", "p-f0b", "2021-07-20")
    f0 = add_checkins(
        engine,
        [
            ("p-f0", "V1", local(DAY, "10:00")),
            ("p-f0", "V2", local(DAY, "10:30")),
            ("p-f0", "V1", local(DAY, "11:00")),
            ("p-f0b", "V1", local(DAY, "10:40")),
        ],
    )
    add_checkins(
        engine,
        [
            ("p-a", "V1", local(DAY, "10:20")),  # nearer 10:00
            ("p-b", "V1", local(DAY, "10:45")),  # nearer 11:00
            ("p-tie", "V1", local(DAY, "10:30")),  # 30 minutes from both: the lower F0 check-in id
            ("p-c", "V2", local(DAY, "11:30")),  # V2 at 10:30 +60: the edge, inclusive
            ("p-late", "V1", local(DAY, "12:01")),  # 61 minutes after 11:00: none
        ],
    )
    trace_cases(engine, PCCOVID, SETTINGS, cases=["F0-1", "F0-2"])
    derived = rows(engine, VIEW)
    assert derived == rows(engine, STORED_BEFORE)
    assigned = {(r[0], r[4]): r[5] for r in derived}
    assert assigned[("F0-1", "p-a")] == f0[0] and assigned[("F0-1", "p-b")] == f0[2]
    assert assigned[("F0-1", "p-tie")] == min(f0[0], f0[2]) and assigned[("F0-1", "p-c")] == f0[1]
    assert assigned[("F0-1", "p-f0b")] == f0[2]  # 10:40: 20 minutes from 11:00, 40 from 10:00
    assert ("F0-1", "p-late") not in assigned and ("F0-1", "p-f0") not in assigned  # never its own contact
    with engine.connect() as conn:  # nothing per contact was written
        assert conn.execute(text("SELECT count(*) FROM trace.exposure_kept")).scalar_one() == 0
        # F0-1: p-a, p-b, p-tie, p-f0b, p-c; F0-2: p-a, p-b, p-tie and both of p-f0's V1 check-ins
        assert conn.execute(text("SELECT count(*) FROM trace.exposure")).scalar_one() == 10


def test_overlap_longest_overlap_and_a_later_checkin_elsewhere_ending_the_contacts_stay(engine):
    """de-cwa-2021: market dwell 60 min. F0 at V1 10:00 (to V2 10:40), back at V1 11:00 (to 12:00)."""
    add_venue(engine, "V1", "market")
    add_venue(engine, "V2", "office")
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    f0 = add_checkins(
        engine,
        [("p-f0", "V1", local(DAY, "10:00")), ("p-f0", "V2", local(DAY, "10:40")), ("p-f0", "V1", local(DAY, "11:00"))],
    )
    add_checkins(
        engine,
        [
            ("p-x", "V1", local(DAY, "10:30")),  # stays to 11:30: 10 min with the first visit, 30 with the second
            ("p-y", "V1", local(DAY, "10:20")),  # leaves for V2 at 10:50: 20 min with the first visit, none after
            ("p-y", "V2", local(DAY, "10:50")),
        ],
    )
    trace_cases(engine, CWA, SETTINGS, cases=["F0-1"])
    with engine.connect() as conn:
        got = {
            r.person_key: (r.case_checkin_id, r.overlap_minutes, r.risk)
            for r in conn.execute(text("SELECT * FROM trace.exposure WHERE venue_id = 'V1'"))
        }
    assert got == {"p-x": (f0[2], 30.0, "close"), "p-y": (f0[0], 20.0, "close")}
    # p-y is a contact at V2 too: there 10:50 while the F0 was (10:40 to its next check-in at 11:00)
    assert exposures_at(engine, "V2") == {("p-y", f0[1], 10.0)}


def exposures_at(engine, venue: str) -> set[tuple]:
    with engine.connect() as conn:
        statement = text("SELECT person_key, case_checkin_id, overlap_minutes FROM trace.exposure WHERE venue_id = :v")
        return set(map(tuple, conn.execute(statement, {"v": venue}).all()))


def test_stored_rows_are_read_and_replaced_by_a_retrace(engine):
    add_venue(engine, "V1", "market")
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    add_checkins(engine, [("p-f0", "V1", local(DAY, "10:00")), ("p-now", "V1", local(DAY, "10:10"))])
    summary = trace_cases(engine, PCCOVID, SETTINGS, cases=["F0-1"])
    assert summary.contacts == 1
    with engine.begin() as conn:  # a row kept from before (a check-in retention dropped, or a pre-0022 trace)
        conn.execute(
            text(
                "INSERT INTO trace.exposure_kept (ruleset_id, case_id, checkin_id, checked_in_at, venue_id, person_key,"
                " case_checkin_id, risk, exposed_on) VALUES ('vn-pccovid-2022', 'F0-1', 'gone', :t, 'V1', 'p-gone',"
                " 'p-f0-V1-07191000', 'close', '2021-07-19')"
            ),
            {"t": local(DAY, "09:30")},
        )
    assert contacts_of(engine, "F0-1") == {"p-now", "p-gone"}
    with engine.connect() as conn:
        status = dict(conn.execute(text("SELECT person_key, status FROM trace.contact")).all())
    assert set(status) == {"p-now", "p-gone"}
    again = trace_cases(engine, PCCOVID, SETTINGS, cases=["F0-1"])  # the case is re-traced: what it derives now
    assert again.contacts == 1 and contacts_of(engine, "F0-1") == {"p-now"}


def test_restricted_role_reads_the_views(empty_db_url):
    engine = create_engine(empty_db_url)
    with engine.connect() as conn:
        for view in ("trace.exposure", "trace.exposure_pair", "trace.contact"):
            assert conn.execute(
                text("SELECT has_table_privilege('covidgis_restricted', CAST(:v AS text), 'SELECT')"), {"v": view}
            ).scalar_one(), view
    engine.dispose()
