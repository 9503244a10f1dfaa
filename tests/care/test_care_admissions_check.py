"""A person is in at most one place at a time: an admit while admitted elsewhere is a reject with row and reason
(sql/admissions_check.sql over the batch's staging), a move closes the old stay; the replay stays one place at a
time even for an admit that reached the table around the check."""

from __future__ import annotations

import datetime as dt

import pytest
from care_support import ADMISSIONS, FACILITIES, ROOMS, checked_batch, ingest, write_csv

from gis.care.occupancy import occupancy


@pytest.fixture(scope="module")
def stored(engine, tmp_path_factory):
    """Person 101 admitted at T1/R1 on 1 Aug and still there; person 102 admitted and discharged."""
    d = tmp_path_factory.mktemp("care-check")
    ingest(
        engine,
        "facilities",
        write_csv(
            d / "f.csv",
            FACILITIES,
            [["T1", "Cơ sở điều trị", "A", 1, 4, None, "25993"], ["T2", "Cơ sở điều trị", "B", 2, 4, None, "25993"]],
        ),
    )
    ingest(engine, "rooms", write_csv(d / "r.csv", ROOMS, [["T1", "R1", "F0", "Chung", 4, 4, 1]]))
    summary = ingest(
        engine,
        "admissions",
        write_csv(
            d / "a.csv",
            ADMISSIONS,
            [
                ["S1", "999000000101", "F0", "Tiếp nhận", "T1", "R1", "01/08/2021 08:00", None],
                ["S2", "999000000102", "F0", "Tiếp nhận", "T1", "R1", "01/08/2021 09:00", None],
                ["S3", "999000000102", "F0", "Ra viện", "T1", "R1", "04/08/2021 09:00", None],
            ],
        ),
    )
    assert summary["accepted"] == 3
    return d


def test_an_admit_while_admitted_elsewhere_is_rejected_and_a_move_is_not(engine, stored):
    path = write_csv(
        stored / "batch.csv",
        ADMISSIONS,
        [
            # row 2: 101 is in T1/R1 since 1 Aug: rejected
            ["B1", "999000000101", "F0", "Tiếp nhận", "T2", None, "05/08/2021 10:00", "chuyển tầng"],
            # row 3: the same person's move: accepted, it closes the stay at T1
            ["B2", "999000000101", "F0", "Chuyển nơi điều trị", "T2", None, "05/08/2021 11:00", None],
            # row 4: 102 was discharged on 4 Aug: a new admit is fine
            ["B3", "999000000102", "F0", "Tiếp nhận", "T2", None, "06/08/2021 08:00", None],
            # row 5: and a second admit of 102 in the same file, without a discharge between: rejected
            ["B4", "999000000102", "F0", "Nhập viện", "T1", "R1", "07/08/2021 08:00", None],
            # row 6: a new person admitted twice in one file: the later one is rejected
            ["B5", "999000000103", "F1", "Tiếp nhận", "T1", "R1", "02/08/2021 08:00", None],
            ["B6", "999000000103", "F1", "Tiếp nhận", "T2", None, "02/08/2021 07:00", None],
            # row 8: a transfer out and the next facility's admit at the same minute: out first, then in
            ["B7", "999000000104", "F0", "Tiếp nhận", "T1", "R1", "03/08/2021 08:00", None],
            ["B8", "999000000104", "F0", "Chuyển viện", "T1", "R1", "05/08/2021 08:00", None],
            ["B9", "999000000104", "F0", "Tiếp nhận", "T2", None, "05/08/2021 08:00", None],
        ],
    )
    problems = checked_batch(engine, path)
    assert [(row, reason) for row, reason, _ in problems] == [
        (2, "already_admitted"),
        (5, "already_admitted"),
        (6, "already_admitted"),  # B5 at 08:00 comes after B6 at 07:00
    ]
    message = problems[0][2]
    assert message.startswith("Đang ở T1 phòng R1 từ 01/08/2021 08:00")
    assert "already admitted at T1 room R1 since 01/08/2021 08:00: record a move" in message
    assert problems[1][2].startswith("Đang ở T2 từ 06/08/2021 08:00") and "tiếp nhận tại T1" in problems[1][2]


def test_a_corrected_row_is_checked_as_the_batch_has_it(engine, stored):
    """Re-sending the stored admit S1 (a correction of its time) is not an admit while admitted by itself."""
    path = write_csv(
        stored / "correction.csv",
        ADMISSIONS,
        [["S1", "999000000101", "F0", "Tiếp nhận", "T1", "R1", "01/08/2021 07:30", None]],
    )
    assert checked_batch(engine, path) == []


def test_the_replay_keeps_one_place_at_a_time_for_an_admit_around_the_check(engine, stored):
    """Ingested around the check (as before the ingest ran it, or written around the feed), 101's admit at T2 on
    5 Aug ends the stay at T1: 101 is counted once, at T2, and the double admission is a finding."""
    path = write_csv(
        stored / "around.csv",
        ADMISSIONS,
        [["X1", "999000000101", "F0", "Tiếp nhận", "T2", None, "05/08/2021 10:00", None]],
    )
    assert ingest(engine, "admissions", path, with_checks=False)["accepted"] == 1
    after = occupancy(engine, at=dt.datetime.fromisoformat("2021-08-06T00:00:00+07:00"))
    assert {f["facility_id"]: f["occupied"] for f in after.facilities} == {"T1": 0, "T2": 1}
    doubles = [f for f in after.findings if f["finding"] == "admit_while_admitted"]
    assert [(f["event_id"], f["closed_by_event_id"]) for f in doubles] == [("S1", "X1")]
