"""Classification of observations by the clinical rule set, in SQL on real PostgreSQL: each class boundary on SpO2
and respiratory rate, the clinician-only class never given, warning-sign sets by date and province."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from gis.care.classify import classify
from gis.care.rules import load_clinical_rules

TZ = "Asia/Ho_Chi_Minh"
OCT_2021 = dt.datetime(2021, 10, 20, 8, 0, tzinfo=ZoneInfo(TZ))  # 4038's warning list (not found, empty) in force
FEB_2022 = dt.datetime(2022, 2, 10, 8, 0, tzinfo=ZoneInfo(TZ))  # 261/QĐ-BYT's 11 signs in force


def obs(obs_id: str, at: dt.datetime = OCT_2021, **vitals) -> dict:
    return {"obs_id": obs_id, "at": at, "conscious": True, "symptoms": "ho, sốt", **vitals}


@pytest.fixture(scope="module")
def classified(empty_db_url):
    from gis.db.engine import make_engine

    engine = make_engine(empty_db_url)

    def run(observations: list[dict], province: str | None = None) -> dict:
        return classify(engine, load_clinical_rules(), observations, TZ, province)

    yield run
    engine.dispose()


@pytest.mark.parametrize(
    ("spo2", "resp_rate", "symptoms", "severity", "tier"),
    [
        (93, 16, "ho", "severe", 2),  # SpO2 < 94
        (93.9, 16, "ho", "severe", 2),
        (94, 16, "ho", "moderate", 2),  # 94–96 inclusive
        (96, 16, "ho", "moderate", 2),
        (96.5, 16, "ho", "mild", 1),  # > 96
        (97, 19, "ho", "mild", 1),
        (97, 20, "ho", "moderate", 2),  # 20–25 inclusive
        (97, 25, "ho", "moderate", 2),
        (97, 26, "ho", "severe", 2),  # > 25
        (99, 12, None, "asymptomatic", 1),
        (99, 12, "  ", "asymptomatic", 1),  # blank symptoms are none
        (95, 30, None, "severe", 2),  # the most severe class that holds wins
        (None, 16, "ho", None, None),  # without SpO2 no class holds: the caller decides
        (99, None, None, None, None),
    ],
)
def test_class_boundaries(classified, spo2, resp_rate, symptoms, severity, tier):
    got = classified([obs("o1", spo2=spo2, resp_rate=resp_rate, symptoms=symptoms)])
    assert got == {"o1": {"severity": severity, "warning": False, "required_tier": tier}}


def test_critical_is_never_given_from_vitals(classified):
    pairs = [(60, 45), (80, 35)]
    got = classified([obs(f"o{i}", spo2=s, resp_rate=r, conscious=False) for i, (s, r) in enumerate(pairs)])
    assert {v["severity"] for v in got.values()} == {"severe"}


def test_warning_signs_by_date(classified):
    """A mild patient with a pulse of 130: no warning sign in Oct 2021 (4038's list was not found, so it is empty),
    a warning in Feb 2022 (261/QĐ-BYT: pulse > 120), which needs tier 2 although the class needs tier 1."""
    vitals = {"spo2": 98, "resp_rate": 16, "pulse": 130}
    got = classified([obs("oct", OCT_2021, **vitals), obs("feb", FEB_2022, **vitals)])
    assert got["oct"] == {"severity": "mild", "warning": False, "required_tier": 1}
    assert got["feb"] == {"severity": "mild", "warning": True, "required_tier": 2}
    boundary = classified(
        [
            obs("rr19", FEB_2022, spo2=98, resp_rate=19, pulse=80),
            obs("pulse120", FEB_2022, spo2=98, resp_rate=16, pulse=120),
            obs("pulse49", FEB_2022, spo2=98, resp_rate=16, pulse=49),
            obs("bp89", FEB_2022, spo2=98, resp_rate=16, pulse=80, systolic_bp=89),
            obs("confused", FEB_2022, spo2=98, resp_rate=16, pulse=80, conscious=False),
        ]
    )
    assert {k: v["warning"] for k, v in boundary.items()} == {
        "rr19": False,
        "pulse120": False,
        "pulse49": True,
        "bp89": True,
        "confused": True,
    }


def test_a_province_set_applies_in_its_province_only(classified):
    """Hồ Chí Minh City's list of 23 Nov 2021 (province 79): SpO2 < 96 or a pulse > 120 is a warning there."""
    dec = dt.datetime(2021, 12, 1, 9, 0, tzinfo=ZoneInfo(TZ))
    rows = [obs("p", dec, spo2=98, resp_rate=16, pulse=125)]
    assert classified(rows)["p"]["warning"] is False
    assert classified(rows, province="79")["p"] == {"severity": "mild", "warning": True, "required_tier": 2}
    before = [obs("p", dt.datetime(2021, 11, 22, 9, 0, tzinfo=ZoneInfo(TZ)), spo2=98, resp_rate=16, pulse=125)]
    assert classified(before, province="79")["p"]["warning"] is False


def test_many_observations_in_one_statement(classified):
    rows = [obs(f"o{i}", spo2=90 + i % 10, resp_rate=14 + i % 14) for i in range(2000)]
    got = classified(rows)

    def bands(spo2: int, rr: int) -> str:  # the bands of 4689 as the rule set states them
        if spo2 < 94 or rr > 25:
            return "severe"
        if 20 <= rr <= 25 or 94 <= spo2 <= 96:
            return "moderate"
        return "mild"

    assert {k: v["severity"] for k, v in got.items()} == {r["obs_id"]: bands(r["spo2"], r["resp_rate"]) for r in rows}
    assert {v["severity"] for v in got.values()} == {"severe", "moderate", "mild"}
