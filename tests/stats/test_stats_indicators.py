"""Daily indicators from the event tables: windows, levels, age groups, capacity, local days; then zones via the CLI."""

import datetime as dt
import json
from typing import Any

import pytest
from conftest import run_cli
from sqlalchemy import text

from gis.stats.indicators import compute_indicators
from gis.stats.settings import StatsSettings

DAY = dt.date(2021, 8, 12)
HAMLET, HAMLET2, COMMUNE, DISTRICT, PROVINCE = "25996-01", "25996-02", "25996", "731", "75"
FAR_COMMUNE = "26008"
LOCATED = "batch_id, row_hash, commune_code, area_code"


@pytest.fixture(scope="module")
def events(engine):
    rows: dict[str, list[tuple[Any, ...]]] = {
        "cases": [
            # case_id, detected_on, detection_setting, source_known, cluster_id, setting, status, area
            ("A", "2021-08-10", "community", False, "K1", "industrial_zone", "hospital", HAMLET),
            ("B", "2021-08-05", "quarantine", True, None, None, "home_treatment", COMMUNE),
            ("C", "2021-07-20", "community", True, None, None, "recovered", FAR_COMMUNE),
        ],
        "tests": [  # sample_id, collected_at, result, area
            ("T1", "2021-08-11 10:00+07", "positive", HAMLET),
            ("T2", "2021-08-11 10:00+07", "negative", HAMLET),
            ("T3", "2021-08-11 10:00+07", "negative", HAMLET),
            ("T4", "2021-08-05 18:00+00", "negative", HAMLET),  # 6 Aug 01:00 in Vietnam: inside the window
            ("T5", "2021-08-05 10:00+07", "negative", HAMLET),  # 5 Aug: outside
        ],
        "vaccinations": [  # dose_id, person, birth_year, dose_number, vaccinated_on, area
            ("V1", "P1", 1950, 1, "2021-08-01", HAMLET),
            ("V2", "P1", 1950, 2, "2021-08-10", HAMLET),
            ("V3", "P2", 2010, 1, "2021-08-01", COMMUNE),
            ("V4", "P3", 1980, 1, "2021-08-20", COMMUNE),
        ],
        "quarantine_stays": [  # stay_id, facility_id, start_on, end_on, area
            ("Q1", None, "2021-08-01", "2021-08-20", HAMLET2),
            ("Q2", "F-QT", "2021-08-01", "2021-08-20", HAMLET2),
            ("Q3", None, "2021-08-03", "2021-08-10", HAMLET2),  # ended two days before DAY
        ],
        "facilities": [  # facility_id, kind, name, beds, occupied, area
            ("H1", "treatment", "Bệnh viện dã chiến 1", 100, 95, COMMUNE),
            ("H2", "treatment", "Bệnh viện Tân Phú", 100, 10, "26116"),
        ],
    }
    parent = {HAMLET: COMMUNE, HAMLET2: COMMUNE}
    with engine.begin() as conn:
        for r in rows["cases"]:
            conn.execute(
                text(
                    f"INSERT INTO events.cases (case_id, person_key, detected_on, detection_setting, "
                    f"source_known, cluster_id, setting, status, {LOCATED}) VALUES (:id, 'k' || :id, :d, "
                    ":ds, :sk, :cl, :st, :status, 0, 'h', :commune, :area)"
                ),
                dict(zip(["id", "d", "ds", "sk", "cl", "st", "status", "area"], r), commune=parent.get(r[-1], r[-1])),
            )
        for sid, at, result, area in rows["tests"]:
            conn.execute(
                text(
                    f"INSERT INTO events.tests (sample_id, person_key, collected_at, test_type, result, "
                    f"{LOCATED}) VALUES (:s, 'k', :at, 'rt_pcr', :r, 0, 'h', :c, :a)"
                ),
                {"s": sid, "at": at, "r": result, "c": parent.get(area, area), "a": area},
            )
        for did, person, born, dose, on, area in rows["vaccinations"]:
            conn.execute(
                text(
                    f"INSERT INTO events.vaccinations (dose_id, person_key, birth_year, dose_number, "
                    f"vaccine, vaccinated_on, {LOCATED}) VALUES (:d, :p, :b, :n, 'AZ', :on, 0, 'h', :c, :a)"
                ),
                {"d": did, "p": person, "b": born, "n": dose, "on": on, "c": parent.get(area, area), "a": area},
            )
        for sid, fac, start, end, area in rows["quarantine_stays"]:
            conn.execute(
                text(
                    f"INSERT INTO events.quarantine_stays (stay_id, person_key, facility_id, start_on, "
                    f"end_on, {LOCATED}) VALUES (:s, 'k', :f, :a0, :a1, 0, 'h', :c, :a)"
                ),
                {"s": sid, "f": fac, "a0": start, "a1": end, "c": COMMUNE, "a": area},
            )
        for fid, kind, name, beds, occ, area in rows["facilities"]:
            conn.execute(
                text(
                    f"INSERT INTO events.facilities (facility_id, kind, name, beds, occupied, {LOCATED}) "
                    f"VALUES (:f, :k, :n, :b, :o, 0, 'h', :a, :a)"
                ),
                {"f": fid, "k": kind, "n": name, "b": beds, "o": occ, "a": area},
            )
    summary = compute_indicators(engine, [DAY], StatsSettings())
    assert summary.rows > 1900
    return rows


def ind(engine, code):
    with engine.connect() as conn:
        return (
            conn.execute(text("SELECT * FROM stats.indicator WHERE day = :d AND area_code = :c"), {"d": DAY, "c": code})
            .mappings()
            .one()
        )


def test_case_windows_at_every_level(engine, events):
    hamlet = ind(engine, HAMLET)
    assert (hamlet["cases_7d"], hamlet["cases_14d"], hamlet["community_cases_7d"]) == (1, 1, 1)
    assert (hamlet["unknown_source_cases_14d"], hamlet["unknown_source_clusters_14d"]) == (1, 1)
    assert (hamlet["hard_to_trace_cases_14d"], hamlet["admissions_7d"]) == (1, 1)
    for code in (COMMUNE, DISTRICT, PROVINCE):
        unit = ind(engine, code)
        # B (5 Aug) is 7 days back: in the 14-day window, not the 7-day one; it was found in quarantine.
        assert (unit["cases_7d"], unit["cases_14d"], unit["community_cases_prev_7d"]) == (1, 2, 0), code
        assert unit["known_source_community_cases_14d"] == 0
    assert ind(engine, FAR_COMMUNE)["cases_14d"] == 0  # C is older than 14 days
    assert ind(engine, HAMLET2)["cases_14d"] == 0  # B was located to the commune only


def test_tests_counted_by_local_day(engine, events):
    hamlet = ind(engine, HAMLET)
    assert (hamlet["tests_7d"], hamlet["positive_tests_7d"]) == (4, 1)


def test_vaccinated_people_by_age_group(engine, events):
    commune = ind(engine, COMMUNE)
    assert commune["vaccinated_18plus_1dose"] == 1  # P1; P2 is a child, P3 later
    assert commune["vaccinated_50plus_full"] == 1 and commune["vaccinated_65plus_full"] == 1
    assert ind(engine, HAMLET)["vaccinated_18plus_1dose"] == 1


def test_home_quarantine_counts_as_f1_in_community(engine, events):
    assert ind(engine, HAMLET2)["f1_in_community"] == 1
    assert ind(engine, COMMUNE)["f1_in_community"] == 1
    assert ind(engine, HAMLET)["f1_in_community"] == 0


def test_running_totals_chained_day_by_day_equal_counting_from_events(engine, events):
    cumulative = (
        "vaccinated_18plus_1dose",
        "vaccinated_50plus_full",
        "vaccinated_65plus_full",
        "f1_in_community",
        "tests_7d",
        "positive_tests_7d",
    )
    codes = (HAMLET, HAMLET2, COMMUNE, DISTRICT, PROVINCE)
    counted = {c: {k: ind(engine, c)[k] for k in cumulative} for c in codes}
    # 7 Aug is counted from the events, then each day continues from the one before (V2, Q3's end, T5 leaving the
    # tests' window on the way).
    summary = compute_indicators(engine, [DAY - dt.timedelta(days=n) for n in range(6)], StatsSettings())
    assert summary.days == 6
    assert {c: {k: ind(engine, c)[k] for k in cumulative} for c in codes} == counted


def all_indicators(engine) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM stats.indicator WHERE day = :d"), {"d": DAY}).mappings().all()
    return {r["area_code"]: {k: v for k, v in r.items() if k != "computed_at"} for r in rows}


@pytest.mark.parametrize("workers", [2, 1])
def test_a_day_on_two_connections_equals_one(engine, events, workers):
    """Case windows counted on a second connection give what one connection gives."""
    compute_indicators(engine, [DAY], StatsSettings(workers=1))
    serial = all_indicators(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM stats.indicator WHERE day = :d"), {"d": DAY})
        conn.execute(text("UPDATE stats.daily SET tests = -1 WHERE day = :d"), {"d": DAY})  # must be recounted
    summary = compute_indicators(engine, [DAY], StatsSettings(workers=workers))
    assert summary.rows == len(serial)
    assert all_indicators(engine) == serial
    assert serial[COMMUNE]["cases_14d"] == 2 and serial[PROVINCE]["cases_14d"] == 2  # C is older than 14 days


def test_population_by_age_share(engine, events):
    unit = ind(engine, COMMUNE)
    shares = StatsSettings()
    assert unit["population_18plus"] == round(unit["population"] * shares.share_18plus)
    assert unit["population_65plus"] == round(unit["population"] * shares.share_65plus)


def test_treatment_capacity_from_the_district_beds(engine, events):
    assert ind(engine, HAMLET)["treatment_capacity_met"] is False  # Biên Hòa: 95 of 100 beds taken
    assert ind(engine, DISTRICT)["staffed_inpatient_beds_7d_avg"] == 100
    assert ind(engine, "734")["treatment_capacity_met"] is True  # Tân Phú: 10 of 100
    assert ind(engine, "26119")["treatment_capacity_met"] is True  # a commune of Tân Phú uses its district's beds
    assert ind(engine, "25993")["treatment_capacity_met"] is False  # another Biên Hòa ward: the same full beds
    assert ind(engine, "742")["treatment_capacity_met"] is False  # no treatment beds at all: not met
    assert ind(engine, PROVINCE)["treatment_capacity_met"] is True  # 105 of 200 beds province-wide


def test_zones_compute_cli_classifies_every_area(db_url, engine, events):
    proc = run_cli("zones", "compute", "--date", str(DAY), "--json", database_url=db_url)
    with engine.connect() as conn:
        zones = conn.execute(text("SELECT count(*) FROM risk.zone WHERE day = :d"), {"d": DAY}).scalar_one()
        areas = conn.execute(text("SELECT count(*) FROM pub.areas")).scalar_one()
    assert zones == areas
    assert f'"zones": {areas}' in proc.stdout


def test_a_recompute_after_events_are_withdrawn_leaves_no_stale_count(engine, events):
    """Rows are rewritten only when they change, so a unit whose events are gone must get its zeros written."""
    days = [DAY - dt.timedelta(days=1), DAY]  # T1 was collected the day before DAY: both days change
    before = ind(engine, HAMLET)["positive_tests_7d"]
    with engine.begin() as conn:
        withdrawn = conn.execute(text("DELETE FROM events.tests WHERE sample_id = 'T1' RETURNING *")).mappings().one()
    try:
        compute_indicators(engine, days, StatsSettings())
        assert ind(engine, HAMLET)["positive_tests_7d"] == before - 1 == 0
        assert ind(engine, COMMUNE)["positive_tests_7d"] == 0
        with engine.connect() as conn:
            daily = conn.execute(
                text("SELECT positive_tests FROM stats.daily WHERE day = :d AND area_code = :c"),
                {"d": days[0], "c": HAMLET},
            ).scalar_one()
        assert daily == 0
    finally:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO events.tests SELECT * FROM json_populate_record(NULL::events.tests, "
                    "CAST(:row AS json))"
                ),
                {"row": json.dumps(dict(withdrawn), default=str)},
            )
        compute_indicators(engine, days, StatsSettings())
    assert ind(engine, HAMLET)["positive_tests_7d"] == before
