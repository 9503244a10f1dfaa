"""Check-in retention (issue 12, item 9) on real PostGIS: exact partitions dropped and kept, derived rows survive."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import run_cli
from sqlalchemy import create_engine
from trace_support import add_case, add_checkins, add_venue, contacts_of, empty, local

from gis.trace.engine import trace_cases
from gis.trace.errors import TraceError
from gis.trace.retention import drop_old_checkins
from gis.trace.rules import load_trace_rules
from gis.trace.settings import TraceSettings

RULES = load_trace_rules("vn-pccovid-2022")
SETTINGS = TraceSettings(ruleset="vn-pccovid-2022", retention_days=21, timezone="Asia/Ho_Chi_Minh")
TODAY = dt.date(2021, 8, 10)


@pytest.fixture(scope="module")
def engine(empty_db_url):
    eng = create_engine(empty_db_url)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def clean(engine):
    empty(engine)
    with engine.begin() as conn:
        for name in conn.exec_driver_sql(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'events.checkins'::regclass"
        ).scalars():
            conn.exec_driver_sql(f"DROP TABLE events.{name}")


def partitions(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(
            conn.exec_driver_sql(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'events.checkins'::regclass"
            ).scalars()
        )


def day(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


def test_drops_the_22_day_old_partition_keeps_the_21_day_one_and_the_exposures(engine):
    add_venue(engine, "V1", "market")
    add_case(engine, "F0-1", "p-f0", day(21))  # window: days 23 … 21 before today
    add_checkins(
        engine,
        [
            ("p-f0", "V1", local(day(22), "10:00")),
            ("p-contact", "V1", local(day(22), "10:30")),
            ("p-later", "V1", local(day(21), "23:59")),  # 21 days old: kept (late evening, still that local day)
            ("p-today", "V1", local(day(0), "00:01")),
            ("p-tomorrow", "V1", local(day(-1), "09:00")),
        ],
    )
    trace_cases(engine, RULES, SETTINGS, cases=["F0-1"])
    assert contacts_of(engine, "F0-1") == {"p-contact"}
    every = [f"checkins_{(TODAY - dt.timedelta(days=n)):%Y%m%d}" for n in (22, 21, 0, -1)]
    assert partitions(engine) == sorted(every)

    dry = drop_old_checkins(engine, SETTINGS, TODAY, dry_run=True)
    assert dry.dropped == [f"events.{every[0]}"] and dry.kept == 3 and partitions(engine) == sorted(every)

    done = drop_old_checkins(engine, SETTINGS, TODAY)
    assert done.dropped == [f"events.{every[0]}"] and done.dropped_days == [TODAY - dt.timedelta(days=22)]
    assert done.oldest_kept == TODAY - dt.timedelta(days=21) and done.kept == 3
    assert partitions(engine) == sorted(every[1:])
    with engine.connect() as conn:
        left = set(conn.exec_driver_sql("SELECT person_key FROM events.checkins").scalars())
        visits = conn.exec_driver_sql("SELECT count(*) FROM trace.visit").scalar_one()
        windows = conn.exec_driver_sql("SELECT count(*) FROM trace.case_window").scalar_one()
    assert left == {"p-later", "p-today", "p-tomorrow"}
    # what tracing derived stays: the exposure (with its check-in id), the visit, the window, the contact
    assert contacts_of(engine, "F0-1") == {"p-contact"} and (visits, windows) == (1, 1)
    assert drop_old_checkins(engine, SETTINGS, TODAY).dropped == []  # nothing more to drop


def test_never_today_or_later_even_with_zero_days(engine):
    add_checkins(engine, [("p", "V1", local(day(1), "12:00")), ("p", "V1", local(day(0), "12:00"))])
    zero = TraceSettings(retention_days=0, timezone="Asia/Ho_Chi_Minh")
    assert drop_old_checkins(engine, zero, TODAY).dropped_days == [TODAY - dt.timedelta(days=1)]
    assert partitions(engine) == [f"checkins_{TODAY:%Y%m%d}"]
    with pytest.raises(TraceError, match="COVIDGIS_TRACE_RETENTION_DAYS must be 0 or more"):
        drop_old_checkins(engine, TraceSettings(retention_days=-1), TODAY)


def test_cli_dry_run_json(engine, empty_db_url, tmp_path):
    add_checkins(engine, [("p", "V1", local("2021-07-19", "12:00"))])  # long past the real today's retention
    env = {"COVIDGIS_VAR_DIR": str(tmp_path), "COVIDGIS_TRACE_RETENTION_DAYS": "21"}
    out = json.loads(run_cli("trace", "retention", "--dry-run", "--json", database_url=empty_db_url, env=env).stdout)
    assert out["dry_run"] is True and out["retention_days"] == 21 and out["dropped"] == ["events.checkins_20210719"]
    assert partitions(engine) == ["checkins_20210719"]


def test_retrace_after_retention_keeps_the_exposures_and_says_skipped(engine, empty_db_url, tmp_path):
    add_venue(engine, "V1", "market")
    add_case(engine, "F0-1", "p-f0", day(21))  # window from day 23 before today; its visit on day 22 is dropped
    add_case(engine, "F0-2", "p-f0b", day(1))  # window well inside the kept partitions: traced again as usual
    add_checkins(
        engine,
        [
            ("p-f0", "V1", local(day(22), "10:00")),
            ("p-contact", "V1", local(day(22), "10:30")),
            ("p-f0b", "V1", local(day(2), "09:00")),
            ("p-contact2", "V1", local(day(2), "09:20")),
        ],
    )
    first = trace_cases(engine, RULES, SETTINGS, cases=["F0-1", "F0-2"])
    assert (first.cases, first.skipped_retained) == (2, 0)
    drop_old_checkins(engine, SETTINGS, TODAY)
    assert f"checkins_{(TODAY - dt.timedelta(days=22)):%Y%m%d}" not in partitions(engine)

    again = trace_cases(engine, RULES, SETTINGS, cases=["F0-1", "F0-2"])
    assert again.skipped_retained == 1 and again.cases == 1 and again.contacts == 1  # F0-2 only
    assert contacts_of(engine, "F0-1") == {"p-contact"} and contacts_of(engine, "F0-2") == {"p-contact2"}
    assert again.to_json()["skipped_retained"] == 1

    out = run_cli("trace", "run", database_url=empty_db_url, env={"COVIDGIS_VAR_DIR": str(tmp_path)}).stdout
    assert "1 traced cases skipped: retention dropped check-ins" in out, out
    assert contacts_of(engine, "F0-1") == {"p-contact"}

    add_case(engine, "F0-3", "p-f0c", day(21))  # never traced: traced with what is left, nothing to keep
    assert trace_cases(engine, RULES, SETTINGS, cases=["F0-3"]).skipped_retained == 0
