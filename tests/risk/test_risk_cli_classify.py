"""`covidgis risk classify`: JSON lines in, JSON lines out, exit code 2 with a message on errors."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from gis.cli import app  # the whole command: user errors exit 2 there, whichever sub-app raised them
from gis.risk.ruleset import RULESET_DIR, load_ruleset

runner = CliRunner()
QUIET = {
    "unknown_source_clusters_14d": 0,
    "hard_to_trace_cases_14d": 0,
    "unknown_source_cases_14d": 0,
    "known_source_community_cases_14d": 0,
    "f1_in_community": 0,
}


def run(lines, *args):
    return runner.invoke(app, ["risk", "classify", *args], input="".join(json.dumps(x) + "\n" for x in lines))


def test_one_json_line_per_input_in_order():
    result = run(
        [dict(QUIET, unknown_source_cases_14d=1), QUIET, dict(QUIET, adjacent_max_level=4)], "--ruleset", "vn-2686-2021"
    )
    assert result.exit_code == 0, result.output
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert [o["level"] for o in out] == [3, 1, 3]
    assert set(out[0]) == {"level", "colour", "label_vi", "label_en", "reasons"}
    assert out[0]["colour"] == "orange" and out[0]["label_vi"] == "Nguy cơ cao"
    assert "unknown_source_cases_14d = 1" in out[0]["reasons"][0]


def test_level_option_selects_the_district_rules():
    district = {
        "child_count": 10,
        "child_count_level_2": 0,
        "child_count_level_3": 0,
        "child_count_level_4": 1,
        "children_level_4_scattered": 0,
    }
    result = run([district], "--ruleset", "vn-2686-2021", "--level", "district")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["level"] == 3


def test_default_ruleset_is_4800_and_a_path_works():
    row = {
        "population": 100_000,
        "community_cases_7d": 62.5,
        "population_18plus": 1000,
        "vaccinated_18plus_1dose": 900,
        "population_65plus": 100,
        "vaccinated_65plus_full": 90,
        "treatment_capacity_met": True,
        "date": "2021-10-25",
    }
    default = run([row])
    assert default.exit_code == 0, default.output
    assert json.loads(default.stdout)["level"] == load_ruleset().parameters["m_high_band3"].value
    example = RULESET_DIR / "examples" / "dongnai-4800-example.yml"
    # the example's 2-week mean needs the previous week
    assert run([dict(row, community_cases_prev_7d=62.5)], "--ruleset", str(example)).exit_code == 0


def test_missing_needed_field_exits_2_naming_it():
    result = run([{k: v for k, v in QUIET.items() if k != "f1_in_community"}], "--ruleset", "vn-2686-2021")
    assert result.exit_code == 2
    assert "f1_in_community" in result.stderr and result.stdout == ""


def test_missing_data_gives_grey_where_the_ruleset_says_so():
    result = run([{"population": 100_000, "cases_7d": 10}], "--ruleset", "us-cdc-2022")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["colour"] == "grey"


def test_bad_input_and_unknown_ruleset_exit_2(tmp_path):
    bad = runner.invoke(app, ["risk", "classify", "--ruleset", "vn-2686-2021"], input="{not json\n")
    assert bad.exit_code == 2 and "line 1" in bad.stderr
    unknown = run([QUIET], "--ruleset", "nope")
    assert unknown.exit_code == 2 and "vn-4800-2021" in unknown.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(
        yaml.safe_dump({"extends": "vn-2686-2021", "id": "x", "parameters": {"yellow_f1_min": {"value": "x"}}})
    )
    assert run([QUIET], "--ruleset", str(broken)).exit_code == 2


def test_empty_input_writes_nothing():
    result = runner.invoke(app, ["risk", "classify"], input="\n")
    assert result.exit_code == 0 and result.stdout == ""
