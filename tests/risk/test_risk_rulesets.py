"""Rule-set loading: shipped sets validate, `extends` deep-merges, bad files fail with clear errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from gis.errors import CovidGisError
from gis.risk.classify import classify
from gis.risk.errors import InvalidRuleset, UnknownRuleset
from gis.risk.ruleset import (
    DEFAULT_RULESET,
    RULESET_DIR,
    RuleSet,
    deep_merge,
    list_rulesets,
    load_raw,
    load_ruleset,
)

EXAMPLE = RULESET_DIR / "examples" / "dongnai-4800-example.yml"


def test_shipped_ids_and_default():
    assert list_rulesets() == ["eu-2020-1475", "us-cdc-2022", "vn-2686-2021", "vn-4800-2021"]
    assert DEFAULT_RULESET == "vn-4800-2021"
    assert load_ruleset().id == "vn-4800-2021"


@pytest.mark.parametrize("rid", list_rulesets())
def test_shipped_ruleset_validates_and_id_matches_file(rid):
    rs = load_ruleset(rid)
    assert rs.id == rid
    assert rs.decision.number and rs.decision.issuer and rs.decision.date
    assert len({d.level for d in rs.levels}) == len(rs.levels)
    for p in rs.open_settings().values():
        assert p.source.strip() and p.note.strip()


@pytest.mark.parametrize(
    ("rid", "colours", "grey"),
    [
        ("vn-4800-2021", ["green", "yellow", "orange", "red"], False),
        ("vn-2686-2021", ["green", "yellow", "orange", "red"], False),
        ("eu-2020-1475", ["green", "orange", "red", "dark_red"], True),
        ("us-cdc-2022", ["green", "yellow", "orange"], True),
    ],
)
def test_levels_and_colours(rid, colours, grey):
    rs = load_ruleset(rid)
    assert [d.colour for d in sorted(rs.levels, key=lambda d: d.level)] == colours
    assert (rs.not_available is not None and rs.not_available.colour == "grey") is grey


def test_2686_is_dated_31_may_2021():
    assert load_ruleset("vn-2686-2021").decision.date == dt.date(2021, 5, 31)


def test_unconfirmed_cells_are_settings():
    assert set(load_ruleset("vn-4800-2021").open_settings()) >= {"criterion1_window", "m_high_band2", "m_low_band1"}
    assert set(load_ruleset("vn-2686-2021").open_settings()) >= {"require_scattered", "province_red_very_high_share_op"}


def test_deep_merge_merges_mappings_and_replaces_lists():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1}
    assert deep_merge(base, {"a": {"y": [3]}, "c": 2}) == {"a": {"x": 1, "y": [3]}, "b": 1, "c": 2}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 1}


def test_example_override_extends_the_default():
    base, ex = load_ruleset("vn-4800-2021"), load_ruleset(EXAMPLE)
    raw = yaml.safe_load(EXAMPLE.read_text())
    assert ex.id == "dongnai-4800-example" and ex.extends == "vn-4800-2021"
    assert ex.parameters["coverage_18plus_1dose_min"].value == raw["parameters"]["coverage_18plus_1dose_min"]["value"]
    # a partial override keeps the base's other keys (status, source)
    assert ex.parameters["criterion1_window"].value == "2w_mean"
    assert ex.parameters["criterion1_window"].source == base.parameters["criterion1_window"].source
    assert ex.parameters["c1_band4_min"] == base.parameters["c1_band4_min"]
    assert ex.assessments == base.assessments


def test_extends_a_relative_path(tmp_path: Path):
    (tmp_path / "parent.yml").write_text(yaml.safe_dump({"extends": "vn-2686-2021", "id": "parent"}))
    child = tmp_path / "child.yml"
    child.write_text(
        yaml.safe_dump({"extends": "parent.yml", "id": "child", "parameters": {"require_scattered": {"value": False}}})
    )
    rs = load_ruleset(child)
    assert rs.id == "child" and rs.parameters["require_scattered"].value is False


def test_extends_loop_is_refused(tmp_path: Path):
    (tmp_path / "a.yml").write_text("extends: b.yml\nid: a\n")
    (tmp_path / "b.yml").write_text("extends: a.yml\nid: b\n")
    with pytest.raises(InvalidRuleset, match="loops"):
        load_raw(tmp_path / "a.yml")


def test_unknown_ruleset_lists_the_shipped_ones(tmp_path: Path):
    with pytest.raises(UnknownRuleset, match="vn-4800-2021") as e:
        load_ruleset("vn-9999")
    assert isinstance(e.value, CovidGisError)
    with pytest.raises(UnknownRuleset):
        load_ruleset(tmp_path / "absent.yml")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"parameters": {"c1_band2_min": {"value": "twenty"}}}, "not a numeric parameter"),
        (
            {
                "derived": {
                    "coverage_18plus_1dose": {"kind": "ratio", "numerator": ["nope"], "denominator": "population"}
                }
            },
            "unknown indicator 'nope'",
        ),
        ({"parameters": {"criterion1_window": {"value": "3w"}}}, "must hold one of"),
        ({"parameters": {"m_low_band1": {"note": ""}}}, "needs a note"),
        ({"parameters": {"c1_band3_min": {"value": 10}}}, "edges must increase"),
        ({"levels": [{"level": 1, "colour": "purple", "label_vi": "x", "label_en": "x"}]}, "colour"),
    ],
)
def test_invalid_override_fails_at_load(tmp_path: Path, override, message):
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump({"extends": "vn-4800-2021", "id": "bad", **override}, allow_unicode=True))
    with pytest.raises(InvalidRuleset, match=message):
        load_ruleset(path)


def test_not_yaml_mapping(tmp_path: Path):
    path = tmp_path / "list.yml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(InvalidRuleset, match="mapping"):
        load_ruleset(path)


def _p(value, status="confirmed"):
    return {"value": value, "status": status, "source": "test"}


# A small rule set with every kind of derived indicator, condition and step, each referring to what it may.
EVERY_KIND = {
    "id": "every-kind",
    "version": "1",
    "title": "every kind",
    "decision": {"number": "1", "date": "2021-01-01", "issuer": "test"},
    "levels": [
        {"level": n, "colour": c, "label_vi": c, "label_en": c}
        for n, c in ((1, "green"), (2, "yellow"), (3, "orange"), (4, "red"))
    ],
    "not_available": {"level": 0, "colour": "grey", "label_vi": "x", "label_en": "x"},
    "indicators": {
        "cases": {},
        "population": {},
        "tests": {},
        "before": {},
        "after": {},
        "previous": {"optional": True},
    },
    "parameters": {
        "edge": _p(10),
        "top": _p(3),
        "cap": _p(4),
        "on": _p(True),
        "window": _p("a"),
        "ge": _p(">="),
    },
    "derived": {
        "rate": {"kind": "ratio", "numerator": ["cases"], "denominator": "population", "scale": 100000},
        "total": {"kind": "sum", "fields": ["cases", "tests"]},
        "picked": {"kind": "choice", "parameter": "window", "options": {"a": "cases", "b": "tests"}},
        "dated": {"kind": "by_date", "periods": [{"use": "before"}, {"start": "2021-11-01", "use": "after"}]},
    },
    "missing": {"not_available_when": [["tests"]], "fill": {"cases": 0}},
    "assessments": {
        "all": {
            "admin_levels": [1, 2, 3, 4],
            "steps": [
                {
                    "type": "bands",
                    "output": "band",
                    "indicator": "rate",
                    "edges": ["edge", 50],
                    "values": [1, 2, 3],
                    "cite": "c",
                },
                {
                    "type": "bands",
                    "output": "cls",
                    "indicator": "total",
                    "edges": [5],
                    "values": ["low", "high"],
                    "cite": "c",
                },
                {
                    "type": "matrix",
                    "output": "level",
                    "row": "cls",
                    "column": "band",
                    "columns": [1, 2, 3],
                    "cells": {"low": [1, 2, 3], "high": [1, 1, "top"]},
                    "cite": "c",
                },
                {
                    "type": "rules",
                    "output": "alarm",
                    "otherwise": 1,
                    "rules": [
                        {
                            "level": 4,
                            "cite": "c",
                            "when": {
                                "all": [
                                    {"indicator": "picked", "op": "ge", "value": "edge"},
                                    {
                                        "any": [{"indicator": "dated", "op": ">", "value": 1, "enabled": "on"}],
                                        "enabled": "on",
                                    },
                                ]
                            },
                        }
                    ],
                },
                {
                    "type": "raise",
                    "by": 1,
                    "max": "cap",
                    "enabled": "on",
                    "cite": "c",
                    "when": {"indicator": "alarm", "op": "==", "value": 4},
                },
                {
                    "type": "not_below",
                    "indicator": "previous",
                    "enabled": "on",
                    "cite": "c",
                    "when": {"indicator": "cases", "op": ">", "value": 0},
                },
            ],
        }
    },
}
STEPS = ("assessments", "all", "steps")


def _with(change: dict) -> dict:
    """EVERY_KIND with values replaced at paths ("a.b.0.c": value)."""
    data = yaml.safe_load(yaml.safe_dump(EVERY_KIND))  # a deep copy
    for path, value in change.items():
        *parents, last = [int(k) if k.isdigit() else k for k in path.split(".")]
        node = data
        for key in parents:
            node = node[key]
        node[last] = value
    return data


def test_every_kind_loads_and_classifies():
    rs = RuleSet.model_validate(EVERY_KIND)
    frame = pd.DataFrame(
        {
            "admin_level": [3, 3, 3, 3],
            "cases": [0, 60, 60, None],
            "population": [100000] * 4,
            "tests": [10, 10, None, 10],
            "before": [0, 2, 2, 2],
            "after": [0, 0, 0, 0],
            "previous": [3, None, None, None],
            "date": ["2021-10-01"] * 4,
        }
    )
    out = classify(frame, rs)
    # no cases: band 1, low → 1 (the floor needs cases); 60 cases: band 3, high → level `top`, raised to the cap;
    # no tests: not available; missing cases read as 0 → level 1
    assert out["level"].tolist() == [1, 4, 0, 1]
    assert any("level raised by 1" in r for r in out["reasons"][1])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"derived.rate.numerator": ["nope"]}, "derived rate: unknown indicator 'nope'"),
        ({"derived.rate.denominator": "nope"}, "derived rate: unknown indicator 'nope'"),
        ({"derived.rate.scale": "on"}, "derived rate: 'on' is not a numeric parameter"),
        ({"derived.total.fields": ["cases", "nope"]}, "derived total: unknown indicator 'nope'"),
        ({"derived.picked.options": {"b": "tests"}}, r"derived picked: parameter 'window' must hold one of \['b'\]"),
        ({"derived.picked.options.a": "nope"}, "derived picked: unknown indicator 'nope'"),
        ({"derived.dated.periods.1.use": "nope"}, "derived dated: unknown indicator 'nope'"),
        ({"missing.not_available_when": [["nope"]]}, "missing.not_available_when: unknown indicator 'nope'"),
        ({"not_available": None}, "missing.not_available_when needs a `not_available` level"),
        ({"missing.fill": {"nope": 0}}, "missing.fill: unknown indicator 'nope'"),
        ({"missing.fill": {"cases": "window"}}, "missing.fill: 'window' is not a numeric parameter"),
        ({"assessments.all.steps.0.indicator": "nope"}, r"step 1 \(bands\): unknown indicator 'nope'"),
        ({"assessments.all.steps.0.edges": ["absent", 50]}, r"step 1 \(bands\): 'absent' is not a numeric parameter"),
        ({"assessments.all.steps.0.edges": [50, 10]}, r"step 1 \(bands\): edges must increase, got \[50.0, 10.0\]"),
        ({"assessments.all.steps.2.row": "nope"}, r"step 3 \(matrix\): unknown indicator 'nope'"),
        ({"assessments.all.steps.2.column": "alarm"}, r"step 3 \(matrix\): unknown indicator 'alarm'"),  # set later
        ({"assessments.all.steps.2.cells.high.2": "on"}, r"step 3 \(matrix\): 'on' is not a numeric parameter"),
        ({"assessments.all.steps.3.rules.0.level": 7}, r"step 4 \(rules\): undefined levels \[7\]"),
        ({"assessments.all.steps.3.otherwise": 9}, r"step 4 \(rules\): undefined levels \[9\]"),
        ({"assessments.all.steps.3.rules.0.when.all.0.indicator": "nope"}, r"step 4 \(rules\): unknown indicator"),
        ({"assessments.all.steps.3.rules.0.when.all.0.value": "ge"}, r"step 4 \(rules\): 'ge' is not a numeric"),
        ({"assessments.all.steps.3.rules.0.when.all.0.op": "window"}, r"step 4 \(rules\): 'window' is neither an op"),
        ({"assessments.all.steps.3.rules.0.when.all.0.op": "=>"}, r"step 4 \(rules\): '=>' is neither an operator"),
        ({"assessments.all.steps.3.rules.0.when.all.1.any.0.enabled": "edge"}, r"'edge' is not a true/false param"),
        ({"assessments.all.steps.3.rules.0.when.all.1.enabled": "edge"}, r"'edge' is not a true/false parameter"),
        ({"assessments.all.steps.4.by": "on"}, r"step 5 \(raise\): 'on' is not a numeric parameter"),
        ({"assessments.all.steps.4.max": "absent"}, r"step 5 \(raise\): 'absent' is not a numeric parameter"),
        ({"assessments.all.steps.4.enabled": "cap"}, r"step 5 \(raise\): 'cap' is not a true/false parameter"),
        ({"assessments.all.steps.4.when.indicator": "nope"}, r"step 5 \(raise\): unknown indicator 'nope'"),
        ({"assessments.all.steps.5.indicator": "nope"}, r"step 6 \(not_below\): unknown indicator 'nope'"),
        ({"assessments.all.steps.5.enabled": "absent"}, r"step 6 \(not_below\): 'absent' is not a true/false"),
        ({"assessments.all.steps.5.when.value": "absent"}, r"step 6 \(not_below\): 'absent' is not a numeric"),
        (
            {f"assessments.all.steps.{i}.output": "grade" for i in (2, 4, 5)},
            "assessment all: no step sets `level`",
        ),
        ({"levels.0.colour": "purple"}, "colour 'purple' is not one of green, yellow"),
        ({"assessments.all.admin_levels": [3, 5]}, "admin_levels"),
    ],
)
def test_every_reference_of_every_kind_is_checked_at_load(change, message):
    with pytest.raises(ValidationError, match=message):
        RuleSet.model_validate(_with(change))
