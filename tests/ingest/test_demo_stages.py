"""The SYNTHETIC demo's care, welfare and hotline parts on PostGIS: rooms, admissions consistent with the cases,
observations that open transfer requests, households per hamlet with the cases among their members, deliveries
through the ledger, hotline requests through the Open311 code, all labelled and added once.

A short period at a small scale (as the other demo-feed tests), ingested and classified as `covidgis demo` does;
the full demo's figures are checked through the CLI in tests/demo/test_demo.py."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import text

from gis.care.occupancy import end_of_day, occupancy
from gis.care.rules import load_clinical_rules
from gis.care.settings import CareSettings
from gis.care.transfers import classify_batch, transfers
from gis.hotline.open311 import Hotline
from gis.ingest.demo_data import FILES, OWN_GENERATOR, DemoOptions, feed_of, write_demo_feeds
from gis.ingest.demo_stages import MARK, demo_stages
from gis.ingest.feeds import load_feed
from gis.ingest.pipeline import ingest_file
from gis.ingest.pseudonym import Pseudonymiser
from gis.ingest.settings import IngestSettings
from gis.welfare.settings import WelfareSettings

OPTIONS = DemoOptions(start=dt.date(2021, 7, 1), end=dt.date(2021, 8, 15), seed=5, scale=0.3)
SECRET = b"test-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def demo(engine, tmp_path_factory):
    """The feeds written and ingested in order, each observations batch classified, then the demo's records."""
    out = tmp_path_factory.mktemp("demo-stages")
    written = write_demo_feeds(engine, out, OPTIONS)
    ingest, pseudonymiser = IngestSettings(), Pseudonymiser(SECRET)
    for path in written.paths:
        feed = load_feed(feed_of(path), ingest.feeds_dir)
        batch = ingest_file(engine, feed, path, pseudonymiser, ingest)
        if feed.table == "observations":
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE events.admissions; ANALYZE events.observations")
            classify_batch(engine, load_clinical_rules(CareSettings().ruleset), batch.batch_id, feed.timezone)
    first = demo_stages(engine, CareSettings(), WelfareSettings(), pseudonymiser, ingest.snap_tolerance_m)
    return out, written, first, pseudonymiser


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_care_and_welfare_feeds_are_the_same_written_alone(engine, demo, tmp_path):
    """An older demo folder gets only the new feeds (`covidgis demo` writes the missing ones): same bytes."""
    out, written, _, _ = demo
    assert list(written.files) == list(FILES.values())
    again = write_demo_feeds(engine, tmp_path, OPTIONS, only=sorted(OWN_GENERATOR))
    assert sorted(again.files) == sorted(FILES[f] for f in OWN_GENERATOR)
    for name in again.files:
        assert _digest(tmp_path / name) == _digest(out / name), name
    notice = (out / "SYNTHETIC.txt").read_text(encoding="utf-8")
    assert all(name in notice for name in FILES.values()) and MARK in notice


def test_admissions_follow_the_cases(engine, demo):
    with engine.connect() as conn:
        not_a_case = conn.execute(
            text(
                "SELECT count(*) FROM events.admissions a "
                "WHERE NOT EXISTS (SELECT 1 FROM events.cases c WHERE c.person_key = a.person_key)"
            )
        ).scalar()
        # Every case the register places in a facility at the end is in that facility then (its open stay).
        in_care = conn.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM care.stay s "
                "WHERE s.person_key = c.person_key AND s.facility_id = c.facility_id AND s.to_at IS NULL)) "
                "FROM events.cases c WHERE c.status IN ('field_hospital', 'hospital', 'icu')"
            )
        ).one()
        died = conn.execute(
            text(
                "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM events.admissions a "
                "WHERE a.person_key = c.person_key AND a.event = 'died')) FROM events.cases c WHERE c.status = 'died'"
            )
        ).one()
        events = dict(conn.execute(text("SELECT event, count(*) FROM events.admissions GROUP BY 1")).all())
        rejected = conn.execute(
            text("SELECT sum(rejected) FROM ingest.batch WHERE feed IN ('rooms', 'admissions', 'observations')")
        ).scalar()
    assert not_a_case == 0
    assert in_care[0] > 0 and in_care[1] == in_care[0]
    assert died[0] > 0 and died[1] == died[0]
    assert events["admit"] > 0 and events["move"] > 0 and events["discharge"] > 0
    assert rejected == 0


def test_occupancy_within_staffed_beds_and_open_transfer_requests(engine, demo):
    _, _, first, _ = demo
    at_end = occupancy(engine, at=end_of_day(OPTIONS.end, "Asia/Ho_Chi_Minh"))
    treated = {t["tier"]: t["occupied"] for t in at_end.tiers if t["kind"] == "treatment"}
    assert all(treated.get(tier, 0) > 0 for tier in (1, 2)), treated
    assert not [f for f in at_end.findings if f["finding"] in ("over_staffed_beds", "stays_outside_registered_rooms")]
    listed = transfers(engine, CareSettings())
    by_status: dict[str, int] = {}
    for r in listed.requests:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    assert by_status.get("open", 0) >= 1  # a low SpO2 in the period's last days, not moved yet
    assert by_status.get("placed", 0) >= 1 and by_status["placed"] == first.transfers_placed  # the moves up a tier
    assert all(r["from_tier"] == 1 and r["required_tier"] == 2 for r in listed.requests)


def test_households_per_hamlet_with_the_cases_among_members(engine, demo):
    with engine.connect() as conn:
        hamlets, covered = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM admin.area WHERE level = 4 AND valid_to IS NULL), "
                "(SELECT count(DISTINCT area_code) FROM welfare.household)"
            )
        ).one()
        cases_listed = conn.execute(
            text(
                "SELECT count(*) FILTER (WHERE person_key IN (SELECT person_key FROM welfare.member)) * 1.0 / count(*)"
                " FROM events.cases"
            )
        ).scalar()
        covid, poor = conn.execute(
            text("SELECT count(*) FILTER (WHERE covid_household), count(*) FILTER (WHERE poor) FROM welfare.household")
        ).one()
    assert covered == hamlets
    assert cases_listed == 1  # every case is a member of a household
    assert covid > 0 and poor > 0


def test_deliveries_refusals_and_hotline_requests(engine, demo):
    _, _, first, pseudonymiser = demo
    assert first.deliveries > 0 and first.reversals == 1
    assert first.refused.get("DuplicateDelivery", 0) >= 1  # a second officer, a member listed in two households
    with engine.connect() as conn:
        ledger = dict(conn.execute(text("SELECT kind, count(*) FROM welfare.delivery GROUP BY 1")).all())
        unlabelled = conn.execute(
            text("SELECT count(*) FROM hotline.request WHERE position(:m IN description) = 0"), {"m": MARK}
        ).scalar()
    assert ledger == {"delivery": first.deliveries, "reversal": 1}
    assert unlabelled == 0
    public = Hotline(engine, pseudonymiser, IngestSettings().snap_tolerance_m).read()
    assert len(public) == first.hotline_requests >= 10
    linked = [r for r in public if r["duplicate_of"] is not None]
    assert len(linked) == first.hotline_linked >= 2  # within 50 m, or the same caller
    assert {r["status"] for r in public} >= {"open", "assigned", "closed"}


def test_a_second_run_adds_nothing(engine, demo):
    _, _, _, pseudonymiser = demo

    def counts() -> tuple:
        with engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM care.transfer_request), "
                    "(SELECT count(*) FILTER (WHERE status = 'open') FROM care.transfer_request), "
                    "(SELECT count(*) FROM welfare.delivery), (SELECT count(*) FROM hotline.request)"
                )
            ).one()

    before = counts()
    again = demo_stages(engine, CareSettings(), WelfareSettings(), pseudonymiser, IngestSettings().snap_tolerance_m)
    assert (again.transfers_accepted, again.deliveries, again.hotline_requests) == (0, 0, 0)
    assert counts() == before
