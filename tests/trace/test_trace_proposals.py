"""Narrow-lockdown proposals (issue 12, item 7) on real PostGIS with Đồng Nai's hamlets: exact thresholds, population,
reasons citing the parameters, withdrawal on re-run, the days a batch touches, adoption through `zones override`."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import run_cli
from trace_support import add_case, add_checkins, add_venue, empty, local

from gis.trace.engine import trace_cases
from gis.trace.proposals import days_touched_by_batch, proposal_id, propose
from gis.trace.rules import load_trace_rules
from gis.trace.settings import TraceSettings

RULES = load_trace_rules("vn-pccovid-2022")
SETTINGS = TraceSettings(ruleset="vn-pccovid-2022", publish_min_visitors=5, timezone="Asia/Ho_Chi_Minh")
DAY = "2021-07-19"
D = dt.date.fromisoformat(DAY)


@pytest.fixture(scope="module")
def hamlets(engine):
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT code, population FROM admin.area WHERE level = 4 AND valid_to IS NULL AND population > 0 "
            "ORDER BY code LIMIT 4"
        ).all()
    return [(r.code, r.population) for r in rows]


@pytest.fixture(autouse=True)
def clean(engine):
    empty(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE trace.proposal")
        conn.exec_driver_sql("DELETE FROM risk.override")


def place(engine, table: str, key: str, value: str, area: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"UPDATE events.{table} SET area_code = %(a)s WHERE {key} = %(v)s", {"a": area, "v": value}
        )


def venue_with_contacts(engine, venue: str, area: str, n: int) -> None:
    """An F0 visit at 10:00 on DAY and n contacts at the venue within the hour."""
    add_venue(engine, venue, "market")
    place(engine, "venues", "venue_id", venue, area)
    add_checkins(engine, [(f"{venue}-c{i:02d}", venue, local(DAY, f"10:{i:02d}")) for i in range(n)])


def test_exactly_min_contacts_is_proposed_one_fewer_is_not(engine, hamlets):
    (h1, pop1), (h2, _), *_ = hamlets
    n = RULES.lockdown_min_contacts
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    add_checkins(engine, [("p-f0", "VA", local(DAY, "10:00")), ("p-f0", "VB", local(DAY, "12:00"))])
    venue_with_contacts(engine, "VA", h1, n)
    add_venue(engine, "VB", "market")
    place(engine, "venues", "venue_id", "VB", h2)
    add_checkins(engine, [(f"VB-c{i:02d}", "VB", local(DAY, f"12:{i:02d}")) for i in range(n - 1)])
    trace_cases(engine, RULES, SETTINGS, cases=["F0-1"])
    summary = propose(engine, RULES, SETTINGS, D)
    assert (summary.new, summary.changed, summary.withdrawn) == (1, 0, 0)
    [p] = summary.proposals
    assert p.proposal_id == proposal_id(D, h1, RULES.id) == f"P-{DAY}-{h1}-vn-pccovid-2022"
    assert (p.area_code, p.admin_level, p.population, p.contacts, p.f0_residents) == (h1, 4, pop1, n, 0)
    assert p.venues == ["VA"] and p.cases == ["F0-1"]
    [reason] = p.reasons
    assert reason["parameter"] == "lockdown_min_contacts" and reason["threshold"] == n and reason["value"] == n
    assert reason["status"] == "open" and reason["source"]
    assert f"có {n} người tiếp xúc với F0 ngày 19/07/2021 (≥ {n}" in reason["vi"]
    assert f"had {n} contacts of F0 on {DAY}" in reason["en"]
    # the day after has no exposure venue: nothing proposed there
    assert propose(engine, RULES, SETTINGS, D + dt.timedelta(days=1)).proposals == []


def test_f0_residents_threshold_and_withdrawal(engine, hamlets):
    (_, _), (_, _), (h3, pop3), (h4, _) = hamlets
    m = RULES.lockdown_min_f0_residents
    for i in range(m):  # detected on DAY + i: windows (2 days before detection) all cover DAY
        add_case(engine, f"R3-{i}", f"p-r3-{i}", (D + dt.timedelta(days=i)).isoformat())
        place(engine, "cases", "case_id", f"R3-{i}", h3)
    for i in range(m - 1):
        add_case(engine, f"R4-{i}", f"p-r4-{i}", DAY)
        place(engine, "cases", "case_id", f"R4-{i}", h4)
    add_case(engine, "R4-late", "p-r4-late", (D + dt.timedelta(days=3)).isoformat())  # window starts after DAY
    place(engine, "cases", "case_id", "R4-late", h4)
    trace_cases(engine, RULES, SETTINGS)
    [p] = propose(engine, RULES, SETTINGS, D).proposals
    assert (p.area_code, p.population, p.f0_residents, p.contacts, p.venues) == (h3, pop3, m, 0, [])
    assert p.cases == sorted(f"R3-{i}" for i in range(m))
    assert p.reasons[0]["parameter"] == "lockdown_min_f0_residents" and p.reasons[0]["value"] == m
    # the same inputs again: nothing changes, updated_at stays
    again = propose(engine, RULES, SETTINGS, D)
    assert (again.new, again.changed, again.unchanged, again.withdrawn) == (0, 0, 1, 0)
    assert again.proposals[0].updated_at == p.updated_at
    # one resident's case withdrawn: the trace drops its window, the re-run withdraws the proposal (row kept)
    add_case(engine, "R3-0", "p-r3-0", DAY, status="withdrawn")
    trace_cases(engine, RULES, SETTINGS, cases=["R3-0"])
    after = propose(engine, RULES, SETTINGS, D)
    assert (after.withdrawn, after.proposals) == (1, [])
    with engine.connect() as conn:
        withdrawn_at = conn.exec_driver_sql(
            "SELECT withdrawn_at FROM trace.proposal WHERE proposal_id = %(p)s", {"p": p.proposal_id}
        ).scalar_one()
    assert withdrawn_at is not None


def test_days_touched_by_a_cases_batch(engine):
    add_case(engine, "F0-9", "p-9", "2021-07-20")
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE events.cases SET batch_id = 77 WHERE case_id = 'F0-9'")
    days = days_touched_by_batch(engine, "cases", 77, RULES, SETTINGS)
    assert days == [dt.date(2021, 7, 18), dt.date(2021, 7, 19), dt.date(2021, 7, 20)]
    assert days_touched_by_batch(engine, "tests", 77, RULES, SETTINGS) == []


def test_cli_proposals_and_adoption_by_override(engine, db_url, hamlets, tmp_path):
    (h1, _), *_ = hamlets
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    add_checkins(engine, [("p-f0", "VA", local(DAY, "10:00"))])
    venue_with_contacts(engine, "VA", h1, RULES.lockdown_min_contacts)
    trace_cases(engine, RULES, SETTINGS, cases=["F0-1"])
    env = {"COVIDGIS_VAR_DIR": str(tmp_path)}
    out = json.loads(run_cli("trace", "proposals", "--date", DAY, "--json", database_url=db_url, env=env).stdout)
    assert [p["proposal_id"] for p in out["proposals"]] == [f"P-{DAY}-{h1}-vn-pccovid-2022"]
    assert out["new"] == 1 and out["proposals"][0]["contacts"] == RULES.lockdown_min_contacts
    pid = out["proposals"][0]["proposal_id"]
    made = run_cli(
        "zones",
        "override",
        "--proposal",
        pid,
        "--level",
        "4",
        "--author",
        "BCĐ tỉnh",
        "--json",
        database_url=db_url,
        env=env,
    )
    override = json.loads(made.stdout)
    assert (override["area"], override["start"], override["level"]) == (h1, DAY, 4)
    with engine.connect() as conn:
        reason = conn.exec_driver_sql("SELECT reason FROM risk.override").scalar_one()
        status = conn.exec_driver_sql(
            "SELECT status FROM restricted.lockdown_proposals WHERE id = %(p)s", {"p": pid}
        ).scalar_one()
    assert reason.startswith(f"Phong tỏa hẹp theo đề xuất truy vết {pid} (lockdown_min_contacts ≥ 20)")
    assert "VA" not in reason and "Địa điểm" not in reason  # the reason is public with the zone: no venue
    assert status == "adopted"
    bad = run_cli(
        "zones",
        "override",
        "--proposal",
        "P-nope",
        "--level",
        "4",
        "--author",
        "x",
        database_url=db_url,
        env=env,
        check=False,
    )
    assert bad.returncode == 2 and "no proposal 'P-nope'" in bad.stderr


def test_a_cases_batch_traces_then_proposes_its_days(engine, db_url, hamlets, tmp_path):
    """gis/jobs.py after_batch: the trace of the batch's cases, then the proposals of the days they touch."""
    from gis.context import AppContext
    from gis.jobs import after_batch
    from gis.settings import Settings

    (h1, _), *_ = hamlets
    add_checkins(engine, [("p-f0", "VA", local(DAY, "10:00"))])
    venue_with_contacts(engine, "VA", h1, RULES.lockdown_min_contacts)
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE events.cases SET batch_id = 91 WHERE case_id = 'F0-1'")
    ctx = AppContext(settings=Settings.model_validate({"DATABASE_URL": db_url, "var_dir": tmp_path}), trace=SETTINGS)
    with ctx:
        summary = after_batch(ctx, "cases", 91, recompute=False)
    assert summary.trace is not None and summary.trace.cases == 1
    assert summary.proposals is not None
    assert summary.proposals.days == [D - dt.timedelta(days=1), D, D + dt.timedelta(days=1)]  # 18 … 20 July
    assert [p.proposal_id for p in summary.proposals.proposals] == [proposal_id(D, h1, RULES.id)]
    assert summary.to_json()["proposals"]["new"] == 1
