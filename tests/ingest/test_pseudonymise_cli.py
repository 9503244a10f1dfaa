"""`covidgis pseudonymise`: a register's phone column gets exactly the person keys ingest stored for those people.

The keys are compared with what the real pipeline (`covidgis ingest` of a cases and a checkins file) wrote to
PostGIS, for the spellings a clerk uses ("+84 912 345 678", "0912345678", "84912345678"); the raw numbers never
appear on stdout or stderr.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from ingest_fixtures import SECRET, covidgis, ingest_env, ingest_json  # noqa: F401  (fixtures)
from sqlalchemy import text

PHONE = "912345678"  # a synthetic mobile number (9 digits after 0 / +84)
OTHER = "389876543"


@pytest.fixture(scope="module")
def stored(ingest_json, engine, tmp_path_factory) -> dict[str, str]:
    """Ingest one case and two check-ins carrying phone numbers; the stored person keys by record id."""
    d = tmp_path_factory.mktemp("pseudonymise-feeds")
    venues = d / "venues.csv"
    venues.write_text(
        "Mã địa điểm,Tên địa điểm,Loại địa điểm,Mã địa bàn,Kinh độ,Vĩ độ\nQR-PS,Chợ thử (synthetic),Chợ,26020-01,,\n",
        encoding="utf-8",
    )
    cases = d / "cases.csv"
    cases.write_text(
        "\ufeffMã ca bệnh,Số CCCD/SĐT,Năm sinh,Giới tính,Ngày phát hiện,Nơi phát hiện,Mã địa bàn\n"
        f"BN-PS1,0{PHONE},1990,Nam,16/07/2021,Cộng đồng,26020-01\n",
        encoding="utf-8",
    )
    checkins = d / "checkins.ndjson"
    checkins.write_text(
        f'{{"id": "CK-PS1", "phone": "+84 {PHONE[:2]} {PHONE[2:5]} {PHONE[5:]}", "venue": "QR-PS",'
        ' "time": "2021-07-14T09:30:00"}\n'
        f'{{"id": "CK-PS2", "phone": "0{OTHER}", "venue": "QR-PS", "time": "2021-07-14T09:40:00"}}\n',
        encoding="utf-8",
    )
    for path, feed in ((venues, "venues"), (cases, "cases"), (checkins, "checkins")):
        summary = ingest_json(path, feed)
        assert summary["accepted"] == summary["rows"], summary
    with engine.connect() as conn:
        case_key = conn.execute(text("SELECT person_key FROM events.cases WHERE case_id = 'BN-PS1'")).scalar_one()
        rows = conn.execute(text("SELECT checkin_id, person_key FROM events.checkins WHERE venue_id = 'QR-PS'")).all()
    keys = {"BN-PS1": case_key, **{r.checkin_id: r.person_key for r in rows}}
    assert keys["BN-PS1"] == keys["CK-PS1"] != keys["CK-PS2"]  # the pipeline itself links the two spellings
    return keys


def _register(path: Path, lines: list[str]) -> Path:
    path.write_text("\ufeff" + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_keys_match_what_ingest_stored(covidgis, stored, tmp_path):
    register = _register(
        tmp_path / "so-dang-ky.csv",
        [
            "Họ tên,Số điện thoại,Ghi chú",
            'Nguyễn Văn A,+84 912 345 678,"tổ 3, ấp 1"',
            f"Trần Thị B,0{PHONE},",
            f"Lê Văn C,84{PHONE},khác",
            f"Phạm D,0{OTHER},",
            "Không số,,",
        ],
    )
    out = tmp_path / "keys.csv"
    proc = covidgis("pseudonymise", str(register), "--column", "Số điện thoại", "--out", str(out))
    rows = _read(out)
    assert [r["Số điện thoại"] for r in rows] == [stored["CK-PS1"]] * 3 + [stored["CK-PS2"], ""]
    assert stored["BN-PS1"] == stored["CK-PS1"]  # the case's key too
    # every other column untouched, the header and the BOM kept
    assert [(r["Họ tên"], r["Ghi chú"]) for r in rows] == [
        ("Nguyễn Văn A", "tổ 3, ấp 1"),
        ("Trần Thị B", ""),
        ("Lê Văn C", "khác"),
        ("Phạm D", ""),
        ("Không số", ""),
    ]
    assert out.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in out.read_bytes()
    # nothing raw printed
    for raw in (PHONE, OTHER):
        assert raw not in proc.stdout.replace(" ", "") and raw not in proc.stderr.replace(" ", "")
        assert raw not in out.read_text(encoding="utf-8-sig")
    assert "5 rows" in proc.stderr and "4 keyed, 1 blank" in proc.stderr


def test_secret_file_gives_the_same_keys(covidgis, stored, tmp_path):
    register = _register(tmp_path / "r.csv", ["sdt", f"0{PHONE}"])
    secret = tmp_path / "hmac.key"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    out = tmp_path / "k.csv"
    # another var dir and no COVIDGIS_HMAC_SECRET: only --secret-file can give the deployment's keys
    env = {"COVIDGIS_HMAC_SECRET": "", "COVIDGIS_VAR_DIR": str(tmp_path / "other-var")}
    covidgis("pseudonymise", str(register), "--column", "sdt", "--out", str(out), "--secret-file", str(secret), env=env)
    assert _read(out)[0]["sdt"] == stored["CK-PS1"]
    wrong = tmp_path / "wrong.key"
    wrong.write_text("another-secret-0123456789", encoding="utf-8")
    covidgis("pseudonymise", str(register), "--column", "sdt", "--out", str(out), "--secret-file", str(wrong))
    assert _read(out)[0]["sdt"] != stored["CK-PS1"]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("column", "no column 'phone' (columns: sdt, tên)"),
        ("file", "no such file"),
        ("secret", "no such secret file"),
    ],
)
def test_errors_are_one_line_naming_what_is_missing(covidgis, tmp_path, case, expected):
    register = _register(tmp_path / "r.csv", ["sdt,tên", f"0{PHONE},A"])
    args = [str(register), "--column", "sdt", "--out", str(tmp_path / "o.csv")]
    if case == "column":
        args[2] = "phone"
    elif case == "file":
        args[0] = str(tmp_path / "absent.csv")
    else:
        args += ["--secret-file", str(tmp_path / "absent.key")]
    proc = covidgis("pseudonymise", *args, check=False)
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], proc.stderr
    named = {"column": str(register), "file": str(tmp_path / "absent.csv"), "secret": str(tmp_path / "absent.key")}
    assert named[case] in errors[0]
    assert PHONE not in proc.stderr
    assert not (tmp_path / "o.csv").exists()
