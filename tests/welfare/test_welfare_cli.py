"""The households feed and `covidgis welfare` through the real CLI: Vietnamese headers, pseudonymised members, a
move as an audited correction; programmes, eligibility and recording (a duplicate exits 2 naming the first)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from sqlalchemy import text
from welfare_support import hamlets

from gis.ingest.pseudonym import Pseudonymiser

SECRET = "welfare-cli-test-secret"
TEST_PROGRAMME = str(Path(__file__).parent / "fixtures" / "test-zone-programme.yml")
HEADER = "Mã hộ,Số CCCD/SĐT,Quan hệ với chủ hộ,Mã ấp,Số nhân khẩu,Địa chỉ,Hộ nghèo,Hộ cận nghèo,Lao động ngoại tỉnh\n"


def key(raw: str) -> str:
    return Pseudonymiser(SECRET.encode()).key(raw) or ""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return {"COVIDGIS_VAR_DIR": str(tmp_path_factory.mktemp("var")), "COVIDGIS_HMAC_SECRET": SECRET}


def ingest(tmp_path: Path, name: str, body: str, db_url: str, env: dict) -> dict:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    proc = run_cli(
        "ingest", str(path), "--feed", "households", "--json", "--no-recompute", database_url=db_url, env=env
    )
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def places(engine):
    return hamlets(engine, 2)


@pytest.fixture(scope="module")
def loaded(engine, db_url, env, places, tmp_path_factory):
    """Two households (and a row with an unknown hamlet) ingested, then HK-1 moved to the other hamlet; what the
    database held after each batch."""
    (a, _), (b, _) = places
    folder = tmp_path_factory.mktemp("households")
    body = (
        f"HK-1,079201000001,Chủ hộ,{a},3,12 Đường Số 1,có,không,không\n"
        f"HK-1,079201000002,Vợ,{a},3,12 Đường Số 1,có,không,không\n"
        f"HK-1,079201000003,Con,{a},3,12 Đường Số 1,có,không,không\n"
        f"HK-2,0912345678,Chủ hộ,{b},1,5 Hẻm 7,không,có,x\n"
        f"HK-2,079201000009,Đã chuyển đi,{b},1,5 Hẻm 7,không,có,x\n"
        f"HK-3,079201000010,Chủ hộ,NOPE,1,?,không,không,không\n"
    )
    first = ingest(folder, "households.csv", body, db_url, env)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT row_to_json(h)::text FROM events.households h")).scalars().all()
        households = conn.execute(
            text("SELECT household_id, area_code, members, head_person_key, poor FROM welfare.household ORDER BY 1")
        ).all()
        members = conn.execute(text("SELECT person_key FROM welfare.member WHERE household_id = 'HK-2'")).all()
    # the same household in another hamlet: a correction of its rows, audited, not a second household
    moved = ingest(folder, "households-2.csv", body.replace(f",{a},", f",{b},"), db_url, env)
    with engine.connect() as conn:
        hk1 = conn.execute(text("SELECT area_code FROM welfare.household WHERE household_id = 'HK-1'")).all()
        audited = conn.execute(
            text("SELECT count(*) FROM ingest.audit WHERE feed = 'households' AND batch_id = :b"),
            {"b": moved["batch_id"]},
        ).scalar()
    return {
        "first": first, "stored": stored, "households": households, "members": members,
        "moved": moved, "hk1": hk1, "audited": audited,
    }  # fmt: skip


def test_households_feed_pseudonymises_members_and_a_move_is_a_correction(loaded, places):
    (a, _), (b, _) = places
    first = loaded["first"]
    assert (first["accepted"], first["rejected"]) == (5, 1)
    assert first["rejected_by_reason"] == {"unknown_area_code": 1}
    assert not any("079201000001" in row or "0912345678" in row for row in loaded["stored"])  # raw ids nowhere
    assert [tuple(h) for h in loaded["households"]] == [
        ("HK-1", a, 3, key("079201000001"), True),
        ("HK-2", b, 1, key("0912345678"), False),
    ]
    assert [m[0] for m in loaded["members"]] == [key("0912345678")]  # who moved out is no member
    assert loaded["moved"]["corrections"] == 3 and loaded["moved"]["accepted"] == 0
    assert loaded["hk1"] == [(b,)]
    assert loaded["audited"] == 3


def test_programmes_eligible_and_record(engine, db_url, env, places, loaded):
    listing = json.loads(run_cli("welfare", "programmes", "--json", database_url=db_url, env=env).stdout)
    assert any(p["id"] == "vn-68-2021-work-stoppage" for p in listing["programmes"])
    result = json.loads(
        run_cli(
            "welfare",
            "eligible",
            "--programme",
            TEST_PROGRAMME,
            "--date",
            "2021-08-20",
            "--json",
            database_url=db_url,
            env=env,
        ).stdout
    )
    by_id = {h["household_id"]: h for h in result["households"]}
    assert by_id["HK-2"]["eligible"] is False  # a migrant worker
    assert by_id["HK-1"]["eligible"] is None  # poor, but no zone computed for the hamlet that day
    assert result["eligible"] + result["to_confirm"] + result["not_eligible"] == len(by_id)
    record = ("welfare", "record", "--programme", "dongnai-4346-2021-poor-near-poor", "--household", "HK-1")
    stored = json.loads(
        run_cli(
            *record,
            "--officer",
            "cb.an",
            "--at",
            "2021-08-20T09:30",
            "--amount",
            "1500000",
            "--json",
            database_url=db_url,
            env=env,
        ).stdout
    )
    assert stored["day"] == "2021-08-20" and stored["at"].endswith("+07:00") and stored["entry_id"]
    refused = run_cli(
        *record,
        "--officer",
        "cb.binh",
        "--at",
        "2021-08-21T09:30",
        "--amount",
        "1500000",
        database_url=db_url,
        env=env,
        check=False,
    )
    assert refused.returncode == 2, refused.stderr
    assert "cb.an" in refused.stderr and "20/08/2021" in refused.stderr and "Traceback" not in refused.stderr
    unknown = run_cli(
        "welfare",
        "record",
        "--programme",
        "dongnai-4346-2021-renters",
        "--household",
        "HK-none",
        "--officer",
        "x",
        "--at",
        "2021-08-20T09:30",
        "--amount",
        "300000",
        database_url=db_url,
        env=env,
        check=False,
    )
    assert unknown.returncode == 2 and "HK-none" in unknown.stderr
    reversal = run_cli(
        "welfare",
        "record",
        "--reverses",
        stored["distribution_id"],
        "--officer",
        "cb.an",
        "--reason",
        "nhầm hộ",
        "--at",
        "2021-08-21T10:00",
        "--json",
        database_url=db_url,
        env=env,
    )
    assert json.loads(reversal.stdout)["reverses"] == stored["distribution_id"]
    run_cli(
        *record,
        "--officer",
        "cb.binh",
        "--at",
        "2021-08-22T09:30",
        "--amount",
        "1500000",
        database_url=db_url,
        env=env,
    )
