"""Observations → classes → transfer requests in the same batch, offers nearest first with a free staffed bed of the
right kind and sex, the last-bed race between two coordinators, refusals, placement by the receiving admit and the
KPIs: on real PostGIS, every feed ingested through the real ingest machinery."""

from __future__ import annotations

import json
import threading
import time

import pytest
from care_support import (
    ADMISSIONS,
    OBSERVATIONS,
    OBSERVATIONS_CHECK,
    ROOMS,
    checked_batch,
    ingest,
    person_key,
    write_csv,
)
from conftest import run_cli
from sqlalchemy import text

from gis.care.errors import CareError
from gis.care.settings import CareSettings
from gis.care.transfers import AcceptSummary, TransferRefused, accept, nearest_free_bed, offers, transfers
from gis.context import AppContext
from gis.jobs import after_batch

COMMUNE = "25993"  # Phường Trảng Dài (Biên Hòa)
FACILITIES = ["Mã cơ sở", "Loại cơ sở", "Tên cơ sở", "Tầng điều trị", "Số giường", "Mã địa bàn", "Kinh độ", "Vĩ độ"]
SETTINGS = CareSettings()
P1, P2, P3, P5 = "999000000001", "999000000002", "999000000003", "999000000005"


@pytest.fixture(scope="module")
def seeded(engine, tmp_path_factory):
    d = tmp_path_factory.mktemp("transfers")
    facilities = [
        ["T1", "Cơ sở điều trị", "Trạm y tế lưu động", 1, 10, COMMUNE, 106.860, 10.980],
        ["H2N", "Cơ sở điều trị", "Bệnh viện gần, thiếu nhân lực", 2, 5, COMMUNE, 106.862, 10.980],
        ["H2A", "Cơ sở điều trị", "Bệnh viện tầng 2 A", 2, 1, COMMUNE, 106.870, 10.980],
        ["H2B", "Cơ sở điều trị", "Bệnh viện tầng 2 B", 2, 3, COMMUNE, 106.950, 10.980],
        ["H3", "Cơ sở điều trị", "Bệnh viện tầng 3", 3, 3, COMMUNE, 106.861, 10.980],
    ]
    rooms = [
        ["T1", "R1", "F0", "Chung", 10, 10, 1],
        ["H2N", "W", "F0", "Chung", 5, 0, 1],  # physical beds free, none staffed: not a free bed
        ["H2A", "W", "F0", "Nam", 1, 1, 1],  # the last bed, men only
        ["H2A", "Q", "F1", "Chung", 5, 5, 1],  # quarantine room: the wrong kind
        ["H2B", "W", "Hỗn hợp", "Chung", 3, 3, 1],
        ["H3", "ICU", "F0", "Chung", 3, 3, 1],
    ]
    admissions = [
        ["A1", P1, "F0", "Tiếp nhận", "T1", "R1", "20/10/2021 08:00", None],
        ["A2", P2, "F0", "Tiếp nhận", "T1", "R1", "20/10/2021 08:00", None],
        ["A5", P5, "F0", "Tiếp nhận", "T1", "R1", "20/10/2021 08:00", None],
    ]
    observations = [
        ["O1", P1, "20/10/2021 12:00", 93, 16, 90, 37.5, 120, "Có", "ho, sốt"],  # severe: tier 2
        ["O2", P1, "20/10/2021 18:00", 92, 18, 95, 38.0, 118, "Có", "ho"],  # the same person: one request
        ["O3", P2, "20/10/2021 12:00", 98, 16, 80, 37.0, 120, "Có", "ho"],  # mild: tier 1, stays
        ["O4", P3, "20/10/2021 12:00", 90, 28, 110, 38.5, 110, "Có", "khó thở"],  # nobody's patient: a finding
        ["O5", P5, "20/10/2021 13:00", 95, 26, 100, 38.0, 115, "Có", "ho"],  # severe (RR > 25): tier 2
        ["O6", P2, "20/10/2021 13:00", 101, 16, 80, 37.0, 120, "Có", ""],  # impossible SpO2
        ["O7", P2, "20/10/2021 14:00", 25, 16, 80, 37.0, 120, "Có", ""],  # impossible SpO2
    ]
    out = {
        "facilities": ingest(engine, "facilities", write_csv(d / "facilities.csv", FACILITIES, facilities)),
        "rooms": ingest(engine, "rooms", write_csv(d / "rooms.csv", ROOMS, rooms)),
        "admissions": ingest(engine, "admissions", write_csv(d / "admissions.csv", ADMISSIONS, admissions)),
        "observations": ingest(engine, "observations", write_csv(d / "obs.csv", OBSERVATIONS, observations)),
    }
    ctx = AppContext()
    ctx.__dict__["engine"] = engine  # the module's database; the context's own settings (COVIDGIS_CARE_*)
    out["after"] = after_batch(ctx, "observations", out["observations"]["batch_id"], recompute=False).to_json()
    out["dir"] = d
    return out


def test_impossible_spo2_is_rejected_with_a_reason(seeded, engine):
    obs = seeded["observations"]
    assert (obs["accepted"], obs["rejected"]) == (5, 2)
    assert obs["rejected_by_reason"] == {"out_of_range": 2}
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT obs_id FROM events.observations ORDER BY obs_id")).scalars().all()
    assert ids == ["O1", "O2", "O3", "O4", "O5"]


def test_impossible_temperature_is_rejected_by_the_feeds_check(engine, tmp_path):
    rows = [
        ["T-OK", P2, "20/10/2021 12:00", 97, 16, 80, "36,8", 120, "Có", ""],
        ["T-HOT", P2, "20/10/2021 12:00", 97, 16, 80, "45.5", 120, "Có", ""],
        ["T-COLD", P2, "20/10/2021 12:00", 97, 16, 80, "29.9", 120, "Có", ""],
        ["T-EDGE", P2, "20/10/2021 12:00", 97, 16, 80, "45", 120, "Có", ""],
    ]
    path = write_csv(tmp_path / "temps.csv", OBSERVATIONS, rows)
    problems = checked_batch(engine, path, "observations", OBSERVATIONS_CHECK, "impossible_temperature")
    assert [(r, reason) for r, reason, _m in problems] == [
        (3, "impossible_value"),
        (4, "impossible_value"),
    ]  # row 1 is the header
    assert "45.5 °C" in problems[0][2] and "30–45" in problems[0][2]


def test_a_low_spo2_observation_opens_a_transfer_to_the_required_tier_in_the_same_batch(seeded, engine):
    care = seeded["after"]["care"]
    assert care["classified"] == 5
    assert care["requests_opened"] == 2 and care["requests_by_tier"] == {"2": 2}
    assert [f["obs_id"] for f in care["findings"]] == ["O4"]  # kept and flagged, not lost
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT person_key, obs_id, from_facility, from_tier, required_tier, severity, reason, status, batch_id"
                " FROM care.transfer_request ORDER BY obs_id"
            )
        ).mappings()
        got = [dict(r) for r in rows]
        kept = conn.execute(text("SELECT under_care FROM care.observation_class WHERE obs_id = 'O4'")).scalar_one()
    assert kept is False
    assert [(r["person_key"], r["obs_id"], r["from_facility"], r["from_tier"], r["required_tier"]) for r in got] == [
        (person_key(P1), "O1", "T1", 1, 2),  # the earliest of P1's two severe observations
        (person_key(P5), "O5", "T1", 1, 2),
    ]
    assert all(r["status"] == "open" and r["batch_id"] == seeded["observations"]["batch_id"] for r in got)
    assert got[0]["severity"] == "severe" and "SpO2 93" in got[0]["reason"]
    assert "vn-moh-clinical-2021" in got[0]["reason"] and "tầng 2" in got[0]["reason"]


def test_offers_are_nearest_first_with_a_free_staffed_bed_of_the_right_kind_and_sex(seeded, engine):
    with engine.connect() as conn:
        men = offers(conn, SETTINGS, 106.860, 10.980, 2, sex="m")
        women = offers(conn, SETTINGS, 106.860, 10.980, 2, sex="f")
        tier3 = offers(conn, SETTINGS, 106.860, 10.980, 3)
    assert [o["facility_id"] for o in men] == ["H2A", "H2B"]  # H2N is nearer, but has no staffed bed
    assert [o["facility_id"] for o in women] == ["H2B"]  # H2A's only F0 bed is a men's room; its F1 room is not F0
    assert men[0]["free_staffed_beds"] == 1 and men[1]["free_staffed_beds"] == 3
    # great-circle × 1.3: 0.01° of longitude at 10.98° N is about 1.09 km
    assert men[0]["distance_km"] == pytest.approx(1.09 * 1.3, abs=0.02)
    assert set(men[0]) == {"facility_id", "name", "tier", "free_staffed_beds", "distance_km"}  # no personal data
    assert [o["facility_id"] for o in tier3] == ["H3"]


def test_nearest_free_bed_from_a_point(seeded, engine):
    near_b = nearest_free_bed(engine, SETTINGS, 106.949, 10.980, 2).to_json()
    assert [f["facility_id"] for f in near_b["facilities"]] == ["H2B", "H2A"]  # from beside H2B, H2B first
    assert near_b["detour_factor"] == 1.3 and near_b["room_kind"] == "f0"
    women = nearest_free_bed(engine, SETTINGS, 106.860, 10.980, 2, sex="f").to_json()
    assert [f["facility_id"] for f in women["facilities"]] == ["H2B"]
    f1_rooms = nearest_free_bed(engine, SETTINGS, 106.860, 10.980, 2, room_kind="f1").to_json()
    assert [f["facility_id"] for f in f1_rooms["facilities"]] == ["H2A", "H2B"]  # H2A's F1 room, H2B's mixed one
    with pytest.raises(CareError, match="tier must be"):
        nearest_free_bed(engine, SETTINGS, 106.86, 10.98, 4)
    with pytest.raises(CareError, match="room_kind"):
        nearest_free_bed(engine, SETTINGS, 106.86, 10.98, 2, room_kind="icu")


def _request(engine, obs_id: str) -> int:
    with engine.connect() as conn:
        sql_ = "SELECT request_id FROM care.transfer_request WHERE obs_id = :o"
        return conn.execute(text(sql_), {"o": obs_id}).scalar_one()


def test_two_coordinators_accepting_the_last_bed_exactly_one_wins(seeded, engine):
    """Both acceptances are held at the receiving facility's lock (a third session takes it first), so they are
    truly concurrent when it is released: exactly one takes the last bed, the other counts its promise."""
    requests = [_request(engine, "O1"), _request(engine, "O5")]
    results: dict[int, object] = {}

    def take(request_id: int) -> None:
        try:
            results[request_id] = accept(engine, SETTINGS, request_id, "H2A", by="coordinator")
        except TransferRefused as exc:
            results[request_id] = exc

    holder = engine.connect()
    holder.execute(text("SELECT pg_advisory_xact_lock(hashtext('care.accept'), hashtext('H2A'))"))
    threads = [threading.Thread(target=take, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    waiting = 0
    deadline = time.monotonic() + 20
    with engine.connect() as watch:
        while waiting < 2 and time.monotonic() < deadline:
            waiting = watch.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%pg_advisory_xact_lock%'"
                )
            ).scalar_one()
            watch.rollback()  # a transaction keeps its first snapshot of the activity statistics
            time.sleep(0.05)
    holder.rollback()
    holder.close()
    for t in threads:
        t.join(30)
    assert waiting == 2  # both acceptances waited on the facility's lock
    won = [r for r, v in results.items() if isinstance(v, AcceptSummary)]
    lost = [v for v in results.values() if isinstance(v, TransferRefused)]
    assert len(won) == 1 and len(lost) == 1
    assert "no free staffed bed" in str(lost[0])
    with engine.connect() as conn:
        accepted = conn.execute(text("SELECT count(*) FROM care.transfer_request WHERE to_facility = 'H2A'")).scalar()
        free = offers(conn, SETTINGS, 106.860, 10.980, 2, sex="m")
    assert accepted == 1
    assert [o["facility_id"] for o in free] == ["H2B"]  # the promised bed is no longer offered


def test_accepted_twice_or_to_the_wrong_tier_is_refused(seeded, engine):
    with engine.connect() as conn:
        sql_ = "SELECT request_id, status FROM care.transfer_request ORDER BY status, request_id"
        (taken, _), (still_open, _) = conn.execute(text(sql_)).all()
    with pytest.raises(TransferRefused, match="already accepted"):
        accept(engine, SETTINGS, taken, "H2B", by="coordinator")
    with pytest.raises(TransferRefused, match="not a tier 2 treatment facility"):
        accept(engine, SETTINGS, still_open, "H3", by="coordinator")
    with pytest.raises(TransferRefused, match="no transfer request"):
        accept(engine, SETTINGS, 999_999, "H2B", by="coordinator")


def test_the_receiving_admit_places_the_transfer_and_the_kpis_count_it(seeded, engine):
    with engine.connect() as conn:
        person = conn.execute(
            text("SELECT person_key FROM care.transfer_request WHERE status = 'accepted'")
        ).scalar_one()
    raw = P1 if person == person_key(P1) else P5
    d = seeded["dir"]
    moves = [
        ["M1", raw, "F0", "Chuyển viện", "T1", "R1", "20/10/2021 19:00", "SpO2 thấp"],
        ["M2", raw, "F0", "Tiếp nhận", "H2A", "W", "20/10/2021 19:40", None],
    ]
    ingest(engine, "admissions", write_csv(d / "moves.csv", ADMISSIONS, moves))
    summary = transfers(engine, SETTINGS).to_json()
    placed = [r for r in summary["requests"] if r["status"] == "placed"]
    assert len(placed) == 1 and placed[0]["to_facility"] == "H2A"
    still = [r for r in summary["requests"] if r["status"] == "open"]
    assert [o["facility_id"] for o in still[0]["offers"]] == ["H2B"]  # H2A's bed is now occupied
    assert summary["kpis"] == [
        {
            "required_tier": 2,
            "requests": 2,
            "placed": 1,
            "share_placed": 0.5,
            "median_minutes_to_placement": placed[0]["minutes_to_placement"],
        }
    ]


def test_cli_transfers_open_json(seeded, db_url):
    proc = run_cli("care", "transfers", "--open", "--json", database_url=db_url)
    summary = json.loads(proc.stdout)
    assert summary["open_only"] is True
    assert [r["status"] for r in summary["requests"]] == ["open"]
    assert {"requests", "kpis"} <= set(summary)


def test_cli_accept_refuses_with_a_reason(seeded, db_url):
    proc = run_cli("care", "accept", "999999", "--facility", "H2B", database_url=db_url, check=False)
    assert proc.returncode == 2
    assert "no transfer request 999999" in proc.stderr
