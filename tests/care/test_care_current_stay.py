"""care.current_stay (migration 0020: kept by triggers on events.admissions in the writing transaction) equals the
replay's present, care.stay's stays that nothing closed, after every kind of write: batches with admits, moves,
transfers out, deaths and discharges; a correction that moves an event in time or to another person; a write around
the feed; a delete; a rolled-back batch; a truncate. And the offers read it: a bed taken now is not offered."""

from __future__ import annotations

import pytest
from care_support import ADMISSIONS, FACILITIES, ROOMS, ingest, person_key, write_csv

from gis.care.settings import CareSettings
from gis.care.transfers import nearest_free_bed

CURRENT = "SELECT person_key, event_id, role, opened_by, facility_id, room_id, from_at FROM care.current_stay"
REPLAY = (
    "SELECT person_key, event_id, role, opened_by, facility_id, room_id, from_at FROM care.stay WHERE to_at IS NULL"
)


def current(engine) -> set[tuple]:
    with engine.connect() as conn:
        return {tuple(r) for r in conn.exec_driver_sql(CURRENT)}


def replayed(engine) -> set[tuple]:
    with engine.connect() as conn:
        return {tuple(r) for r in conn.exec_driver_sql(REPLAY)}


def where(engine) -> dict[str, tuple[str, str | None]]:
    """person id (its last digits) -> (facility, room) now, from care.current_stay, checked against the replay."""
    now = current(engine)
    assert now == replayed(engine)
    keys = {person_key(f"9990000003{i:02d}"): f"3{i:02d}" for i in range(100)}
    return {keys[r[0]]: (r[4], r[5]) for r in now}


@pytest.fixture(scope="module")
def registry(engine, tmp_path_factory):
    d = tmp_path_factory.mktemp("care-current")
    ingest(
        engine,
        "facilities",
        write_csv(
            d / "f.csv",
            FACILITIES,
            [["T1", "Cơ sở điều trị", "A", 1, 4, None, "25993"], ["T2", "Cơ sở điều trị", "B", 1, 4, None, "25993"]],
        ),
    )
    ingest(
        engine,
        "rooms",
        write_csv(d / "r.csv", ROOMS, [["T1", "R1", "F0", "Chung", 2, 2, 1], ["T2", "R1", "F0", "Chung", 2, 2, 1]]),
    )
    return d


def test_current_stay_is_the_replay_after_every_write(engine, registry):
    d = registry
    ingest(
        engine,
        "admissions",
        write_csv(
            d / "a1.csv",
            ADMISSIONS,
            [
                ["E1", "999000000301", "F0", "Tiếp nhận", "T1", "R1", "01/08/2021 08:00", None],
                ["E2", "999000000302", "F0", "Tiếp nhận", "T1", "R1", "01/08/2021 09:00", None],
                ["E3", "999000000303", "F1", "Tiếp nhận", "T2", "R1", "01/08/2021 10:00", None],
                ["E4", "999000000304", "F0", "Tiếp nhận", "T2", "R1", "01/08/2021 11:00", None],
            ],
        ),
    )
    assert where(engine) == {"301": ("T1", "R1"), "302": ("T1", "R1"), "303": ("T2", "R1"), "304": ("T2", "R1")}
    summary = ingest(
        engine,
        "admissions",
        write_csv(
            d / "a2.csv",
            ADMISSIONS,
            [
                ["E5", "999000000301", "F0", "Chuyển nơi điều trị", "T2", "R1", "03/08/2021 08:00", None],  # move
                ["E6", "999000000302", "F0", "Tử vong", "T1", "R1", "03/08/2021 09:00", None],  # died
                ["E7", "999000000303", "F1", "Kết thúc cách ly", "T2", "R1", "03/08/2021 10:00", None],  # discharge
                ["E8", "999000000304", "F0", "Chuyển viện", "T2", "R1", "03/08/2021 11:00", None],  # transfer out
                ["E9", "999000000304", "F0", "Tiếp nhận", "T1", "R1", "03/08/2021 11:00", None],  # same minute: in
                ["E10", "999000000305", "F0", "Tiếp nhận", "T1", "R1", "02/08/2021 11:00", None],
            ],
        ),
    )
    assert summary["accepted"] == 6
    assert where(engine) == {"301": ("T2", "R1"), "304": ("T1", "R1"), "305": ("T1", "R1")}
    # corrections: 302's death was at 2 Aug, not 3 Aug (same place); 305's admit was another person's, 306
    summary = ingest(
        engine,
        "admissions",
        write_csv(
            d / "a3.csv",
            ADMISSIONS,
            [
                ["E6", "999000000302", "F0", "Tử vong", "T1", "R1", "02/08/2021 09:00", None],
                ["E10", "999000000306", "F0", "Tiếp nhận", "T1", "R1", "02/08/2021 11:00", None],
                [
                    "E7",
                    "999000000303",
                    "F1",
                    "Chuyển phòng",
                    "T2",
                    "R1",
                    "03/08/2021 10:00",
                    None,
                ],  # a move, not a discharge
            ],
        ),
    )
    assert summary["corrections"] == 3
    assert where(engine) == {"301": ("T2", "R1"), "303": ("T2", "R1"), "304": ("T1", "R1"), "306": ("T1", "R1")}
    # around the feed: a discharge written directly, and a delete of the move E5 (301 back in T1 from E1)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO events.admissions (event_id, person_key, role, event, facility_id, room_id, at, batch_id, "
            "row_hash) VALUES ('X1', %(key)s, 'f0', 'discharge', 'T1', 'R1', '2021-08-04T08:00+07', 0, '')",
            {"key": person_key("999000000306")},
        )
        conn.exec_driver_sql("DELETE FROM events.admissions WHERE event_id = 'E5'")
    assert where(engine) == {"301": ("T1", "R1"), "303": ("T2", "R1"), "304": ("T1", "R1")}
    # a write rolled back leaves nothing behind
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM events.admissions")
        assert conn.exec_driver_sql("SELECT count(*) FROM care.current_stay").scalar_one() == 0
        raise RuntimeError("roll back")
    assert len(where(engine)) == 3


def test_offers_count_the_people_in_the_rooms_now(engine, registry):
    """T1's R1 holds 301 and 304 (2 staffed beds): full; T2's R1 holds 303, an F1, in an F0 room: one bed free."""
    assert where(engine) == {"301": ("T1", "R1"), "303": ("T2", "R1"), "304": ("T1", "R1")}
    found = nearest_free_bed(engine, CareSettings(), 106.82, 10.95, 1).facilities
    assert [(f["facility_id"], f["free_staffed_beds"]) for f in found] == [("T2", 1)]


def test_a_truncate_empties_it(engine, registry):
    with engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE events.admissions")
    assert current(engine) == set() == replayed(engine)
