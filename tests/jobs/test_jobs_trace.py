"""After a batch, trace runs by itself (ingest -> trace -> zones): cases, check-ins and venues files through the real
`covidgis ingest`, a withdrawal through a correction, and the indicators no longer counting the withdrawn case."""

from __future__ import annotations

import json

from conftest import run_cli
from sqlalchemy import text

COMMUNE = "25996"  # Phường Tân Phong, Biên Hòa
CASES = (
    "case_id,person_id,birth_year,sex,detected_on,detection_setting,source_known,cluster_id,setting,"
    "area_code,lon,lat,status,facility_id\n"
)
F0_PHONE = "0912000001"


def ingest(db_url, tmp_path, name, feed, body):
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    env = {"COVIDGIS_VAR_DIR": str(tmp_path)}
    return json.loads(run_cli("ingest", str(path), "--feed", feed, "--json", database_url=db_url, env=env).stdout)


def test_batches_trace_by_themselves_and_a_withdrawal_withdraws(db_url, engine, tmp_path):
    def case_row(status):
        return f"TRACE-1,{F0_PHONE},1985,Nam,12/08/2021,Cộng đồng,Có,,,{COMMUNE},,,{status},\n"

    out = ingest(db_url, tmp_path, "cases.csv", "cases", CASES + case_row("Điều trị tại nhà"))
    assert out["accepted"] == 1 and out["trace"]["cases"] == 1 and out["trace"]["visits"] == 0
    assert out["recomputed"]["first"] == "2021-08-12"  # the existing key is kept beside the new one

    checkins = [{"id": "C-F0", "phone": F0_PHONE, "venue": "VEN-CHO-1", "time": "2021-08-11T10:00:00"}]
    checkins += [
        {"id": f"C-{i}", "phone": f"09130000{i:02d}", "venue": "VEN-CHO-1", "time": f"2021-08-11T10:{10 + i}:00"}
        for i in range(6)
    ]
    checkins.append({"id": "C-LATE", "phone": "0913999999", "venue": "VEN-CHO-1", "time": "2021-08-11T11:01:00"})
    body = "".join(json.dumps(c) + "\n" for c in checkins)
    out = ingest(db_url, tmp_path, "checkins.ndjson", "checkins", body)
    assert out["accepted"] == 8
    assert out["trace"]["cases"] == 1 and out["trace"]["visits"] == 1 and out["trace"]["contacts"] == 6
    assert out["trace"]["locations"] == 0  # the venue is not in the registry yet

    venues = "Mã địa điểm,Tên địa điểm,Loại địa điểm,Mã địa bàn,Kinh độ,Vĩ độ\n"
    out = ingest(db_url, tmp_path, "venues.csv", "venues", venues + f"VEN-CHO-1,Chợ Tân Phong,Chợ,{COMMUNE},,\n")
    assert out["trace"]["locations"] == 1
    with engine.connect() as conn:
        loi = conn.execute(text("SELECT * FROM trace.location WHERE venue_id = 'VEN-CHO-1'")).mappings().one()
        runs = conn.execute(text("SELECT trigger, batch_id IS NOT NULL FROM trace.run")).all()
    assert loi["published"] and loi["visitors"] == 7 and loi["withdrawn_at"] is None
    assert runs == [("batch", True)] * 3

    def cases_7d():
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT cases_7d FROM stats.indicator WHERE day = '2021-08-12' AND area_code = :c"),
                {"c": COMMUNE},
            ).scalar_one()

    assert cases_7d() == 1
    out = ingest(db_url, tmp_path, "cases-withdrawn.csv", "cases", CASES + case_row("Loại trừ"))
    assert out["corrections"] == 1 and out["trace"]["cases"] == 0 and out["trace"]["locations"] == 1
    with engine.connect() as conn:
        after = conn.execute(text("SELECT * FROM trace.location WHERE venue_id = 'VEN-CHO-1'")).mappings().one()
        left = conn.execute(text("SELECT count(*) FROM trace.exposure")).scalar_one()
        status = conn.execute(text("SELECT status FROM events.cases WHERE case_id = 'TRACE-1'")).scalar_one()
    assert status == "withdrawn"
    assert not after["published"] and after["withdrawn_at"] is not None and after["event_id"] == loi["event_id"]
    assert left == 0
    assert cases_7d() == 0  # a withdrawn case is no case in the indicators either
