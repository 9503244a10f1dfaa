"""The delivery ledger on real PostGIS: duplicates refused at the moment of recording (household, person across
households and communes), freed by a reversal, bad input refused with nothing written, and the race."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from welfare_support import add_household, hamlets, local

from gis.welfare.errors import DuplicateDelivery, InvalidDelivery, ProgrammeNotOpen, UnknownHousehold
from gis.welfare.ledger import Delivery, record_delivery, record_reversal
from gis.welfare.programmes import load_programme, parse_programme
from gis.welfare.settings import WelfareSettings

SETTINGS = WelfareSettings()
POOR = load_programme("dongnai-4346-2021-poor-near-poor")  # dedup both
RENTERS = load_programme("dongnai-4346-2021-renters")  # dedup person, 1 May–31 Dec 2021
TEST = parse_programme(Path(__file__).parent / "fixtures" / "test-zone-programme.yml")  # dedup household


def delivery(programme, household: str, officer: str = "cb.an", day: str = "2021-08-20", **kw) -> Delivery:
    return Delivery(
        distribution_id=kw.pop("distribution_id", f"{programme.id}-{household}-{officer}-{day}"),
        programme=programme.id,
        household_id=household,
        at=local(day),
        officer=officer,
        amount_vnd=kw.pop("amount_vnd", 1_500_000),
        **kw,
    )


def ledger(engine, household: str) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT distribution_id, kind, programme FROM welfare.delivery WHERE household_id = :h "
                    "ORDER BY entry_id"
                ),
                {"h": household},
            )
        ]


@pytest.fixture(scope="module")
def places(engine):
    a, b = hamlets(engine, 2)
    assert a[1] != b[1]
    return a, b


def test_a_second_delivery_to_the_same_household_is_refused_naming_the_first(engine, places):
    add_household(engine, "H-1", places[0], ["p1a", "p1b"], poor=True)
    first = record_delivery(engine, TEST, delivery(TEST, "H-1", "cb.an", "2021-08-05"), SETTINGS)
    assert first.entry_id is not None and first.commune_code == places[0][1] and str(first.day) == "2021-08-05"
    with pytest.raises(DuplicateDelivery) as refused:
        record_delivery(engine, TEST, delivery(TEST, "H-1", "cb.binh", "2021-08-20"), SETTINGS)
    earlier = refused.value.earlier
    assert earlier["distribution_id"] == first.distribution_id
    assert (earlier["officer"], earlier["day"], earlier["commune_code"]) == ("cb.an", "2021-08-05", places[0][1])
    assert earlier["commune_name"] and earlier["commune_name"] in str(refused.value)
    assert "05/08/2021" in str(refused.value) and "cb.an" in str(refused.value)
    assert ledger(engine, "H-1") == [(first.distribution_id, "delivery", TEST.id)]


def test_the_same_person_in_another_household_in_another_commune_is_refused(engine, places):
    add_household(engine, "H-2", places[0], ["p2a", "p2b", "shared"])
    add_household(engine, "H-3", places[1], ["p3a", "shared"])  # a person listed in two households
    first = record_delivery(engine, RENTERS, delivery(RENTERS, "H-2", amount_vnd=300_000), SETTINGS)
    with pytest.raises(DuplicateDelivery) as refused:
        record_delivery(engine, RENTERS, delivery(RENTERS, "H-3", "cb.chi", amount_vnd=300_000), SETTINGS)
    assert refused.value.earlier["household_id"] == "H-2"
    assert refused.value.earlier["commune_code"] == places[0][1] != places[1][1]
    assert "shared" not in str(refused.value)  # the person key is not shown
    assert ledger(engine, "H-3") == []
    # another programme, or a household without a shared member, is not a duplicate
    add_household(engine, "H-4", places[1], ["p4a"])
    record_delivery(engine, RENTERS, delivery(RENTERS, "H-4", amount_vnd=300_000), SETTINGS)
    record_delivery(engine, POOR, delivery(POOR, "H-3"), SETTINGS)
    assert first.distribution_id in [r[0] for r in ledger(engine, "H-2")]


def test_both_scope_refuses_by_household_and_by_member(engine, places):
    add_household(engine, "H-5", places[0], ["p5a", "twice"])
    add_household(engine, "H-6", places[1], ["twice"])
    record_delivery(engine, POOR, delivery(POOR, "H-5"), SETTINGS)
    with pytest.raises(DuplicateDelivery):
        record_delivery(engine, POOR, delivery(POOR, "H-5", "cb.khac"), SETTINGS)
    with pytest.raises(DuplicateDelivery) as refused:
        record_delivery(engine, POOR, delivery(POOR, "H-6"), SETTINGS)
    assert refused.value.earlier["household_id"] == "H-5"


def test_a_reversal_frees_the_scope_and_the_ledger_keeps_both_entries(engine, places):
    add_household(engine, "H-7", places[0], ["p7a"])
    first = record_delivery(engine, TEST, delivery(TEST, "H-7"), SETTINGS)
    reversal = record_reversal(
        engine, first.distribution_id, "cb.an", "sai hộ / wrong household", local("2021-08-21"), SETTINGS
    )
    assert reversal.kind == "reversal" and reversal.reverses == first.distribution_id
    again = record_delivery(engine, TEST, delivery(TEST, "H-7", "cb.binh", "2021-08-22"), SETTINGS)
    assert [r[1] for r in ledger(engine, "H-7")] == ["delivery", "reversal", "delivery"]
    with pytest.raises(InvalidDelivery, match="reversed already"):
        record_reversal(engine, first.distribution_id, "cb.an", "again", local("2021-08-23"), SETTINGS)
    with pytest.raises(DuplicateDelivery) as refused:
        record_delivery(engine, TEST, delivery(TEST, "H-7", "cb.chi", "2021-08-25"), SETTINGS)
    assert refused.value.earlier["distribution_id"] == again.distribution_id


def test_the_ledger_is_append_only(engine, places):
    add_household(engine, "H-8", places[0], ["p8a"])
    record_delivery(engine, TEST, delivery(TEST, "H-8"), SETTINGS)
    for statement in (
        "UPDATE welfare.delivery SET amount_vnd = 1 WHERE household_id = 'H-8'",
        "DELETE FROM welfare.delivery WHERE household_id = 'H-8'",
        "TRUNCATE welfare.delivery CASCADE",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert len(ledger(engine, "H-8")) == 1


def test_bad_deliveries_are_refused_with_a_reason_and_nothing_written(engine, places):
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM welfare.delivery")).scalar()
    with pytest.raises(UnknownHousehold, match="H-none"):
        record_delivery(engine, TEST, delivery(TEST, "H-none"), SETTINGS)
    add_household(engine, "H-9", places[0], ["p9a"])
    with pytest.raises(ProgrammeNotOpen, match="2021-07-31"):
        record_delivery(engine, TEST, delivery(TEST, "H-9", day="2021-07-31"), SETTINGS)
    with pytest.raises(InvalidDelivery, match="amount"):
        record_delivery(engine, TEST, delivery(TEST, "H-9", amount_vnd=None), SETTINGS)
    with pytest.raises(InvalidDelivery, match="kit"):
        record_delivery(engine, TEST, delivery(TEST, "H-9", kit="food_bag"), SETTINGS)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM welfare.delivery")).scalar() == before


def test_sixteen_officers_recording_the_same_household_at_once_write_exactly_one(engine, places):
    add_household(engine, "H-race", places[1], ["r1", "r2", "r3"])
    add_household(engine, "H-race-2", places[0], ["r3"])  # shares a member: the person scope races too
    start = threading.Barrier(16)
    outcomes: list[str] = []
    lock = threading.Lock()

    def officer(i: int) -> None:
        household = "H-race" if i % 2 else "H-race-2"
        start.wait()
        try:
            record_delivery(engine, RENTERS, delivery(RENTERS, household, f"cb.{i}", amount_vnd=300_000), SETTINGS)
            result = "won"
        except DuplicateDelivery as exc:
            result = "refused:" + exc.earlier["distribution_id"]
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=officer, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("won") == 1, outcomes
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT distribution_id FROM welfare.delivery WHERE household_id IN ('H-race', 'H-race-2') "
                "AND programme = :p"
            ),
            {"p": RENTERS.id},
        ).all()
    assert len(rows) == 1
    assert {o for o in outcomes if o != "won"} == {"refused:" + rows[0][0]}
