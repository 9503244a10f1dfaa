"""The incremental trace after a check-ins batch (checkin_within): the cases that batch only adds contacts to keep
their rows and get the batch's exposures; what it stores equals a full re-trace of the same cases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text
from trace_support import add_case, add_checkins, add_venue, contacts_of, empty, local

from gis.trace.engine import cases_touched_by_batch, trace_cases
from gis.trace.rules import load_trace_rules
from gis.trace.settings import TraceSettings

PCCOVID = load_trace_rules("vn-pccovid-2022")
SETTINGS = TraceSettings(ruleset="vn-pccovid-2022", publish_min_visitors=5, timezone="Asia/Ho_Chi_Minh")
DAY = "2021-07-19"
BATCH = 88


@pytest.fixture(scope="module")
def engine(empty_db_url):
    eng = create_engine(empty_db_url)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def clean(engine):
    empty(engine)


def stored(engine) -> tuple[set, set, set]:
    """Visits, exposures and locations as a full trace would write them (no clock columns)."""
    with engine.connect() as conn:
        visits = set(
            conn.execute(text("SELECT case_id, checkin_id, checked_in_at, venue_id, visit_end FROM trace.visit"))
        )
        exposures = set(
            conn.execute(
                text(
                    "SELECT case_id, checkin_id, checked_in_at, venue_id, person_key, case_checkin_id, risk, "
                    "exposed_on FROM trace.exposure"
                )
            )
        )
        locations = set(
            conn.execute(
                text(
                    "SELECT event_id, venue_id, day, start_at, end_at, exposure_type, cases, visitors, public, "
                    "published, withdrawn_at IS NULL FROM trace.location"
                )
            )
        )
    return visits, exposures, locations


def seed(engine) -> None:
    add_venue(engine, "V1", "market")
    add_venue(engine, "V2", "supermarket")
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    add_case(engine, "F0-2", "p-f0b", "2021-07-20")
    add_checkins(engine, [("p-f0", "V1", local(DAY, "10:00")), ("p-f0", "V2", local(DAY, "16:00"))])
    add_checkins(engine, [("p-f0b", "V1", local(DAY, "10:30"))])
    add_checkins(engine, [(f"p-old{i}", "V1", local(DAY, f"10:{10 + i}")) for i in range(3)])
    trace_cases(engine, PCCOVID, SETTINGS, cases=["F0-1", "F0-2"])


def computed_at(engine) -> dict[str, object]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT checkin_id, computed_at FROM trace.exposure")).all())


def test_batch_of_new_contacts_equals_a_full_retrace(engine):
    seed(engine)
    before = computed_at(engine)
    add_checkins(
        engine,
        [
            ("p-new59", "V1", local(DAY, "10:59")),
            ("p-new60", "V1", local(DAY, "11:00")),
            ("p-new91", "V1", local(DAY, "11:31")),  # 91 min after F0-1, 61 after F0-2: neither
            ("p-new-v2", "V2", local(DAY, "15:30")),
            ("p-new-v2b", "V2", local(DAY, "15:40")),
            ("p-f0b", "V2", local("2021-07-22", "09:00")),  # F0-2's own check-in, after its window and dwell
        ],
        batch_id=BATCH,
    )
    touched = cases_touched_by_batch(engine, "checkins", BATCH, PCCOVID, SETTINGS)
    assert touched == ["F0-1", "F0-2"]
    summary = trace_cases(engine, PCCOVID, SETTINGS, cases=touched, trigger="batch", batch_id=BATCH)
    assert contacts_of(engine, "F0-1") == {"p-f0b", "p-old0", "p-old1", "p-old2", "p-new59", "p-new60"} | {
        "p-new-v2",
        "p-new-v2b",
    }
    assert contacts_of(engine, "F0-2") == {"p-f0", "p-old0", "p-old1", "p-old2", "p-new59", "p-new60"}
    assert summary.cases == 2
    after = computed_at(engine)
    assert {k: after[k] for k in before} == before  # kept, not replaced
    assert len(after) > len(before)
    incremental = stored(engine)
    trace_cases(engine, PCCOVID, SETTINGS, cases=touched)  # the full re-trace
    assert stored(engine) == incremental


def test_batch_with_the_f0s_own_checkin_retraces_it(engine):
    seed(engine)
    before = computed_at(engine)
    # F0-1's own later check-in elsewhere ends its V1 visit and is a new visit; a contact comes with it
    add_checkins(engine, [("p-f0", "V2", local(DAY, "10:20")), ("p-x", "V2", local(DAY, "10:25"))], batch_id=BATCH)
    touched = cases_touched_by_batch(engine, "checkins", BATCH, PCCOVID, SETTINGS)
    trace_cases(engine, PCCOVID, SETTINGS, cases=touched, trigger="batch", batch_id=BATCH)
    assert "p-x" in contacts_of(engine, "F0-1")
    assert computed_at(engine) != before
    incremental = stored(engine)
    assert any(v[1].startswith("p-f0-V2-07191020") for v in incremental[0])
    trace_cases(engine, PCCOVID, SETTINGS, cases=touched)
    assert stored(engine) == incremental


@pytest.mark.parametrize(
    ("day", "hhmm", "touches"),
    [
        ("2021-07-17", "23:59", False),  # the minute before F0-1's window (2 days before its 20 July detection)
        ("2021-07-18", "00:00", True),  # the window's first minute
        ("2021-07-20", "23:59", True),  # its last
        ("2021-07-21", "00:00", False),  # after it
    ],
)
def test_an_f0s_own_checkin_in_a_batch_touches_it_exactly_inside_its_window(engine, day, hhmm, touches):
    """The cases looked for are only those detected on days the batch's window reaches: the edges hold."""
    seed(engine)
    add_venue(engine, "V9", "market")  # no visit there: only the own-check-in rule can touch F0-1
    add_checkins(engine, [("p-f0", "V9", local(day, hhmm))], batch_id=BATCH)
    touched = cases_touched_by_batch(engine, "checkins", BATCH, PCCOVID, SETTINGS)
    assert touched == (["F0-1"] if touches else [])


def test_a_corrected_checkin_touches_the_case_of_its_previous_version(engine):
    """A batch that moves an F0's check-in out of its window (the previous version, in ingest.audit, was inside)
    touches that F0, so its old visit goes."""
    seed(engine)
    add_venue(engine, "V9", "market")
    add_checkins(engine, [("p-other", "V9", local("2021-07-25", "09:00"))], batch_id=BATCH)
    previous = {
        "person_key": "p-f0",
        "venue_id": "V8",
        "checked_in_at": local(DAY, "16:00").isoformat(),
    }  # no visit at V8
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ingest.batch (id, feed, file_name, file_sha256, started_at) OVERRIDING SYSTEM VALUE "
                "VALUES (:b, 'checkins', 'fix.ndjson', 'fix', now()) ON CONFLICT DO NOTHING"
            ),
            {"b": BATCH},
        )
        conn.execute(
            text(
                "INSERT INTO ingest.audit (batch_id, feed, key, previous) "
                "VALUES (:b, 'checkins', CAST(:k AS jsonb), CAST(:p AS jsonb))"
            ),
            {"b": BATCH, "k": json.dumps({"checkin_id": "p-f0-V8-1600"}), "p": json.dumps(previous)},
        )
    touched = cases_touched_by_batch(engine, "checkins", BATCH, PCCOVID, SETTINGS)
    with engine.begin() as conn:  # the module's other tests see no correction
        conn.execute(text("DELETE FROM ingest.audit WHERE batch_id = :b"), {"b": BATCH})
        conn.execute(text("DELETE FROM ingest.batch WHERE id = :b"), {"b": BATCH})
    assert touched == ["F0-1"]
