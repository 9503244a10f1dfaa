"""Rule-set loading: shipped sets validate, `extends` deep-merges, bad files fail with clear errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from gis.errors import CovidGisError
from gis.risk.errors import InvalidRuleset, UnknownRuleset
from gis.risk.ruleset import DEFAULT_RULESET, RULESET_DIR, deep_merge, list_rulesets, load_raw, load_ruleset

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
