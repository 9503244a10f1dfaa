"""Vectorised classification: every band edge of the shipped rule sets, missing data, adjustments, roll-up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from gis.risk.classify import classify, classify_records
from gis.risk.errors import InvalidIndicator, MissingIndicator, UnsupportedLevel
from gis.risk.ruleset import load_ruleset

VN4800 = load_ruleset("vn-4800-2021")
VN2686 = load_ruleset("vn-2686-2021")
EU = load_ruleset("eu-2020-1475")
CDC = load_ruleset("us-cdc-2022")


def P(rs, name):
    """A parameter's value as written in the YAML."""
    return rs.parameters[name].value


def one(rs, admin_level=3, **values):
    """Classify a single area and return its result row as a dict."""
    return classify(pd.DataFrame([{"admin_level": admin_level, **values}]), rs).iloc[0].to_dict()


def override(tmp_path: Path, base: str, **parameters):
    """A rule set extending `base` with some parameter values changed."""
    path = tmp_path / "override.yml"
    doc = {"extends": base, "id": "test-override", "parameters": {k: {"value": v} for k, v in parameters.items()}}
    path.write_text(yaml.safe_dump(doc))
    return load_ruleset(path)


# --- Decision 4800 -----------------------------------------------------------------------------

POP = 10_000_000  # rate per 100k = cases / 100, so one case less is 0.01 below an edge


def area4800(rate, coverage="high", date="2021-10-20", capacity=True, previous=None, elderly=0.9):
    """A 4800 input with a given criterion-1 rate and coverage class (elderly target met by default)."""
    cov_min = P(VN4800, "coverage_18plus_1dose_min")
    vaccinated = round(cov_min * 1000) + (50 if coverage == "high" else -50)
    return {
        "population": POP,
        "community_cases_7d": rate * POP / 100_000,
        "date": date,
        "population_18plus": 1000,
        "vaccinated_18plus_1dose": vaccinated,
        "population_65plus": 1000,
        "vaccinated_65plus_full": elderly * 1000,
        "population_50plus": 1000,
        "vaccinated_50plus_full": elderly * 1000,
        "treatment_capacity_met": capacity,
        "previous_level": previous,
    }


def cell(coverage, band):
    return P(VN4800, f"m_{coverage}_band{band}")


def c1_edges():
    return [P(VN4800, k) for k in ("c1_band2_min", "c1_band3_min", "c1_band4_min")]


@pytest.mark.parametrize("coverage", ["high", "low"])
@pytest.mark.parametrize("k", [0, 1, 2])
def test_4800_criterion1_edges(coverage, k):
    edge = c1_edges()[k]
    on = one(VN4800, **area4800(edge, coverage))
    below = one(VN4800, **area4800(edge - 0.01, coverage))
    assert on["level"] == cell(coverage, k + 2)
    assert below["level"] == cell(coverage, k + 1)
    assert on["decisive"]["community_cases_7d_per_100k"] == edge
    assert any(f"community_cases_7d_per_100k = {edge:g} ≥ {edge:g}" in r and "criterion 1" in r for r in on["reasons"])


def test_4800_zero_cases_is_band_1():
    assert one(VN4800, **area4800(0, "high"))["level"] == cell("high", 1)
    assert one(VN4800, **area4800(0, "low"))["level"] == cell("low", 1)


def test_4800_coverage_edge_is_half_open():
    rate = c1_edges()[1]  # band 3, where high and low coverage differ
    assert cell("high", 3) != cell("low", 3)
    base = area4800(rate)
    at = dict(base, population_18plus=1000, vaccinated_18plus_1dose=P(VN4800, "coverage_18plus_1dose_min") * 1000)
    below = dict(at, vaccinated_18plus_1dose=at["vaccinated_18plus_1dose"] - 1)
    assert one(VN4800, **at)["level"] == cell("high", 3)
    assert one(VN4800, **below)["level"] == cell("low", 3)


def test_4800_hcmc_worked_example_with_two_week_mean(tmp_path):
    """SCS 24 Oct 2021: (6815 + 6635) / 2 / 9,145,000 × 100k = 73.5, high coverage → level 2."""
    rs = override(tmp_path, "vn-4800-2021", criterion1_window="2w_mean")
    row = dict(area4800(0), population=9_145_000, community_cases_7d=6815, community_cases_prev_7d=6635)
    out = one(rs, admin_level=1, **row)
    assert out["level"] == 2 and out["colour"] == "yellow"
    assert out["decisive"]["community_cases_7d_per_100k"] == pytest.approx(73.5, abs=0.05)  # published rounded to 0.1
    # the default one-week window reads only this week and does not need the previous one
    assert one(VN4800, admin_level=1, **dict(row, community_cases_prev_7d=None))["decisive"][
        "community_cases_7d_per_100k"
    ] == pytest.approx(6815 * 1e5 / 9_145_000)


def test_4800_elderly_target_edge_and_date_switch():
    target = P(VN4800, "elderly_full_min")
    base_level = cell("high", 3)
    rate = c1_edges()[1]
    assert one(VN4800, **area4800(rate, elderly=target))["level"] == base_level
    missed = one(VN4800, **area4800(rate, elderly=target - 0.01))
    assert missed["level"] == base_level + 1
    assert any("elderly_full_share" in r for r in missed["reasons"])
    # October reads 65+, November 50+
    oct_row = dict(area4800(rate), vaccinated_65plus_full=100, vaccinated_50plus_full=None, population_50plus=None)
    nov_row = dict(area4800(rate, date="2021-11-02"), vaccinated_50plus_full=100, vaccinated_65plus_full=None)
    assert one(VN4800, **oct_row)["level"] == base_level + 1
    assert one(VN4800, **nov_row)["level"] == base_level + 1
    with pytest.raises(MissingIndicator) as e:
        one(VN4800, **dict(area4800(rate), date=None))
    assert e.value.field == "date"


def test_4800_elderly_raise_capped_and_exempt_without_cases(tmp_path):
    assert one(VN4800, **area4800(c1_edges()[2], "low", elderly=0.1))["level"] == P(VN4800, "level_max")
    assert one(VN4800, **area4800(0, "high", elderly=0.1))["level"] == cell("high", 1)
    off = override(tmp_path, "vn-4800-2021", elderly_target_raises_level=False)
    row = dict(area4800(c1_edges()[1]), population_65plus=None, vaccinated_65plus_full=None)
    assert one(off, **row)["level"] == cell("high", 3)


def test_4800_capacity_not_met_keeps_previous_level():
    rate = c1_edges()[0] - 0.01
    computed = cell("high", 1)
    kept = one(VN4800, **area4800(rate, capacity=False, previous=3))
    assert kept["level"] == 3 and kept["decisive"]["previous_level"] == 3
    assert any("not lowered while capacity is not met" in r for r in kept["reasons"])
    assert one(VN4800, **area4800(rate, capacity=True, previous=3))["level"] == computed
    assert one(VN4800, **area4800(rate, capacity=False, previous=None))["level"] == computed
    # not met, but the computed level is higher than before: no upgrade clause is applied
    high = one(VN4800, **area4800(c1_edges()[2], "low", capacity=False, previous=1))
    assert high["level"] == cell("low", 4)


def test_4800_all_admin_levels_use_own_totals():
    rows = pd.DataFrame([dict(area4800(62.5), admin_level=lv) for lv in (1, 2, 3, 4)])
    assert classify(rows, VN4800)["level"].nunique() == 1


@pytest.mark.parametrize(
    "field", ["population", "community_cases_7d", "vaccinated_18plus_1dose", "treatment_capacity_met"]
)
def test_4800_missing_needed_input_is_an_error_naming_it(field):
    with pytest.raises(MissingIndicator) as e:
        one(VN4800, **dict(area4800(30), **{field: None}))
    assert e.value.field == field


@pytest.mark.parametrize("date", [None, "absent"])
def test_date_a_rule_set_reads_missing_is_an_error_naming_it(date):
    """A rule set choosing inputs by date (4800's elderly target) names `date` when a row has none."""
    row = {k: v for k, v in area4800(30).items() if k != "date"}
    with pytest.raises(MissingIndicator) as e:
        one(VN4800, **(row if date == "absent" else dict(row, date=date)))
    assert e.value.field == "date"


def test_4800_zero_population_and_bad_values():
    with pytest.raises(MissingIndicator, match="is 0"):
        one(VN4800, **dict(area4800(30), population=0))
    with pytest.raises(InvalidIndicator, match="community_cases_7d"):
        one(VN4800, **dict(area4800(30), community_cases_7d="many"))


def test_vectorised_many_rows_keep_order_and_index():
    rates = [0, 19.99, 20, 49.99, 50, 149.99, 150, 400]
    df = pd.DataFrame([dict(area4800(r), admin_level=3) for r in rates], index=[f"c{i}" for i in range(len(rates))])
    out = classify(df, VN4800)
    assert list(out.index) == list(df.index)
    bands = np.searchsorted(c1_edges(), rates, side="right") + 1
    assert list(out["level"]) == [cell("high", b) for b in bands]
    assert list(out.columns) == ["level", "colour", "label_vi", "label_en", "reasons", "decisive"]


# --- Decision 2686: communes -------------------------------------------------------------------

QUIET = {
    "unknown_source_clusters_14d": 0,
    "hard_to_trace_cases_14d": 0,
    "unknown_source_cases_14d": 0,
    "known_source_community_cases_14d": 0,
    "f1_in_community": 0,
    "adjacent_max_level": None,
}


@pytest.mark.parametrize(
    ("field", "param", "level"),
    [
        ("unknown_source_clusters_14d", "red_unknown_source_clusters_min", 4),
        ("hard_to_trace_cases_14d", "red_hard_to_trace_cases_min", 4),
        ("unknown_source_cases_14d", "orange_unknown_source_cases_min", 3),
        ("known_source_community_cases_14d", "yellow_known_source_cases_min", 2),
        ("f1_in_community", "yellow_f1_min", 2),
        ("adjacent_max_level", "orange_adjacent_level_min", 3),
        ("adjacent_max_level", "yellow_adjacent_level_min", 2),
    ],
)
def test_2686_commune_triggers_on_and_below(field, param, level):
    threshold = P(VN2686, param)
    assert one(VN2686, **dict(QUIET, **{field: threshold}))["level"] == level
    below = one(VN2686, **dict(QUIET, **{field: threshold - 1}))["level"]
    assert below < level


def test_2686_commune_top_down_and_residual():
    both = dict(QUIET, unknown_source_clusters_14d=1, unknown_source_cases_14d=3, f1_in_community=1)
    assert one(VN2686, **both)["level"] == 4
    quiet = one(VN2686, **QUIET)
    assert quiet["level"] == 1 and quiet["colour"] == "green" and quiet["label_en"] == "New normal"


def test_2686_adjacency_and_hamlet():
    assert one(VN2686, **dict(QUIET, adjacent_max_level=4))["colour"] == "orange"
    assert one(VN2686, **dict(QUIET, adjacent_max_level=3))["colour"] == "yellow"
    assert one(VN2686, **dict(QUIET, adjacent_max_level=2))["colour"] == "green"
    assert one(VN2686, admin_level=4, **dict(QUIET, adjacent_max_level=4))["level"] == 3


def test_2686_commune_missing_trigger_is_an_error():
    with pytest.raises(MissingIndicator) as e:
        one(VN2686, **dict(QUIET, f1_in_community=None))
    assert e.value.field == "f1_in_community"


# --- Decision 2686: districts and provinces from their children's shares ---------------------------


def kids(n=100, l2=0, l3=0, l4=0, scattered=1):
    return {
        "child_count": n,
        "child_count_level_2": l2,
        "child_count_level_3": l3,
        "child_count_level_4": l4,
        "children_level_4_scattered": scattered,
    }


def pct(param):
    """A share parameter as a count of 100 children."""
    return round(P(VN2686, param) * 100)


def test_2686_district_very_high_share_edge():
    edge = pct("district_red_very_high_share_min")
    assert one(VN2686, 2, **kids(l4=edge))["level"] == 4
    assert one(VN2686, 2, **kids(l4=edge - 1))["level"] == 3  # one very-high commune → high
    assert one(VN2686, 2, **kids(l4=edge, scattered=0))["level"] == 3


def test_2686_district_high_and_risk_share_edges():
    red, orange, risk = pct("red_high_share_min"), pct("orange_high_share_min"), pct("orange_risk_share_min")
    assert one(VN2686, 2, **kids(l3=red))["level"] == 4
    assert one(VN2686, 2, **kids(l3=red - 1))["level"] == 3
    assert one(VN2686, 2, **kids(l3=orange))["level"] == 3
    assert one(VN2686, 2, **kids(l3=orange - 1))["level"] == 2
    assert one(VN2686, 2, **kids(l2=risk))["level"] == 3
    assert one(VN2686, 2, **kids(l2=risk - 1))["level"] == 2
    assert one(VN2686, 2, **kids())["level"] == 1


def test_2686_district_small_counts_and_inclusive_setting(tmp_path):
    """Ambiguity 3: 3 very high + 2 high of 10, not scattered."""
    row = kids(n=10, l3=2, l4=3, scattered=0)
    assert one(VN2686, 2, **row)["level"] == 3
    inclusive = override(tmp_path, "vn-2686-2021", shares_count_higher_levels="inclusive")
    assert one(inclusive, 2, **row)["level"] == 4


def test_2686_province_strict_30_percent_and_analogy_switch(tmp_path):
    edge = pct("province_red_very_high_share_min")
    assert P(VN2686, "province_red_very_high_share_op") == ">"
    assert one(VN2686, 1, **kids(l4=edge))["level"] == 3
    assert one(VN2686, 1, **kids(l4=edge + 1))["level"] == 4
    assert one(VN2686, 1, **kids(l3=pct("red_high_share_min")))["level"] == 4
    no_analogy = override(tmp_path, "vn-2686-2021", province_lower_levels_by_analogy=False)
    assert one(no_analogy, 1, **kids(l3=pct("orange_high_share_min")))["level"] == 1


def test_2686_mixed_levels_in_one_frame_and_missing_children():
    df = pd.DataFrame(
        [
            dict(QUIET, admin_level=3, unknown_source_cases_14d=1),
            dict(kids(l4=1), admin_level=2),
            dict(kids(n=10, l4=4), admin_level=1),
        ]
    )
    assert list(classify(df, VN2686)["level"]) == [3, 3, 4]
    with pytest.raises(MissingIndicator) as e:
        one(VN2686, 2, **dict(kids(), child_count=None))
    assert e.value.field == "child_count"


# --- EU 2020/1475 as amended by 2021/119 --------------------------------------------------------


def eu(n, p, t=1000.0):
    """Population 100k so rates equal counts; tests chosen to give the testing rate t and positivity p."""
    return {"population": 100_000, "cases_14d": n, "tests_7d": t, "positive_tests_7d": p * t / 100}


@pytest.mark.parametrize(
    ("n", "p", "colour"),
    [
        ("n_orange_min", "below", "orange"),
        ("n_orange_min-", "below", "green"),
        ("n_red_min", "p_min", "red"),
        ("n_red_min-", "p_min", "orange"),
        ("n_red_mid", "below", "orange"),
        ("n_red_mid", "p_min", "red"),
        ("n_red_mid+", "below", "red"),
        ("n_dark_red_min", "below", "dark_red"),
        ("n_dark_red_min-", "below", "red"),
        ("zero", "p_min", "orange"),
        ("zero", "below", "green"),
    ],
)
def test_eu_edges(n, p, colour):
    def value(key):
        if key == "zero":
            return 0.0
        return P(EU, key.rstrip("+-")) + (0.01 if key.endswith("+") else -0.01 if key.endswith("-") else 0)

    positivity = P(EU, "p_min") - 0.01 if p == "below" else P(EU, p)
    assert one(EU, **eu(value(n), positivity))["colour"] == colour


def test_eu_testing_rate_edge_and_grey_precedence():
    t = P(EU, "t_grey_below")
    assert one(EU, **eu(30, 1, t=t))["colour"] == "orange"
    germany = one(EU, **eu(30, 1, t=t - 0.01))
    assert EU.not_available is not None
    assert germany["colour"] == "grey" and germany["level"] == EU.not_available.level
    assert one(EU, **eu(600, 1, t=t - 0.01))["colour"] == "grey"


@pytest.mark.parametrize("field", ["population", "tests_7d", "positive_tests_7d", "cases_14d"])
def test_eu_missing_is_grey(field):
    out = one(EU, **dict(eu(200, 5), **{field: None}))
    assert out["colour"] == "grey" and "not available" in out["reasons"][0]


# --- CDC Community Levels -----------------------------------------------------------------------


def cdc(c, a=0.0, b=0.0):
    """Population 100k so rates equal counts; 1000 staffed beds so b is the % of beds."""
    return {
        "population": 100_000,
        "cases_7d": c,
        "admissions_7d": a,
        "covid_inpatient_beds_7d_avg": b * 10,
        "staffed_inpatient_beds_7d_avg": 1000,
    }


LEVEL = {1: "green", 2: "yellow", 3: "orange"}


def test_cdc_case_row_edge():
    split = P(CDC, "cases_split")
    assert one(CDC, **cdc(split))["level"] == 2
    assert one(CDC, **cdc(split - 0.01))["level"] == 1


@pytest.mark.parametrize("metric", ["a", "b"])
def test_cdc_hospital_edges(metric):
    name = "admissions" if metric == "a" else "beds"
    med, high, split = P(CDC, f"{name}_medium_min"), P(CDC, f"{name}_high_min"), P(CDC, "cases_split")
    level = lambda c, v: one(CDC, **cdc(c, **{metric: v}))["level"]  # noqa: E731
    assert [level(0, med - 0.01), level(0, med), level(0, high - 0.01), level(0, high)] == [1, 2, 2, 3]
    assert [level(split, med - 0.01), level(split, med)] == [2, 3]
    assert one(CDC, **cdc(0, **{metric: high}))["colour"] == LEVEL[3]


def test_cdc_missing_data():
    both = one(CDC, **dict(cdc(300), admissions_7d=None, covid_inpatient_beds_7d_avg=None))
    assert both["colour"] == "grey" and both["label_en"] == "Not available"
    no_cases = one(CDC, **dict(cdc(0, a=P(CDC, "admissions_high_min")), cases_7d=None))
    assert no_cases["level"] == 3  # the '< 200' row
    only_beds = one(CDC, **dict(cdc(0, b=P(CDC, "beds_medium_min")), admissions_7d=None))
    assert only_beds["level"] == 2


# --- general ------------------------------------------------------------------------------------


def test_classify_records_ignores_unneeded_inputs():
    out = classify_records([dict(QUIET, population=5, something_else="x")], VN2686, admin_level=3)
    assert out == [
        {
            "level": 1,
            "colour": "green",
            "label_vi": "Bình thường mới",
            "label_en": "New normal",
            "reasons": [out[0]["reasons"][0]],
        }
    ]


def test_unsupported_or_absent_admin_level():
    with pytest.raises(UnsupportedLevel):
        one(VN2686, admin_level=7, **QUIET)
    with pytest.raises(MissingIndicator, match="admin_level"):
        classify(pd.DataFrame([QUIET]), VN2686)


def test_missing_error_names_the_input_of_the_active_period():
    nov = dict(area4800(30, date="2021-11-02"), vaccinated_65plus_full=None, population_50plus=None)
    with pytest.raises(MissingIndicator) as e:
        one(VN4800, **nov)
    assert e.value.field == "population_50plus"
    with pytest.raises(MissingIndicator) as e:
        one(VN4800, **dict(area4800(30), community_cases_7d=0, population=0))
    assert e.value.field == "population"
