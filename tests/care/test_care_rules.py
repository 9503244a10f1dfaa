"""The clinical rule set loads, every value cites a known text, and a bad file names what is wrong (no database)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from gis.care.errors import InvalidCareRules, UnknownCareRules
from gis.care.rules import (
    CARE_RULESET_DIR,
    DEFAULT_CLINICAL_RULESET,
    Criterion,
    available_clinical_rulesets,
    cited_values,
    load_clinical_rules,
    parse_clinical_rules,
)
from gis.cli import app

SHIPPED = CARE_RULESET_DIR / f"{DEFAULT_CLINICAL_RULESET}.yml"


def test_the_shipped_rule_set_loads():
    rules = load_clinical_rules()
    assert rules.id == DEFAULT_CLINICAL_RULESET
    assert [c.id for c in rules.classes] == ["critical", "severe", "moderate", "mild", "asymptomatic"]
    assert {c.id: c.required_tier.value for c in rules.classes} == {
        "critical": 3,
        "severe": 2,
        "moderate": 2,
        "mild": 1,
        "asymptomatic": 1,
    }
    assert available_clinical_rulesets() == [DEFAULT_CLINICAL_RULESET]  # the F1 and capacity files are not clinical


def test_every_threshold_cites_a_known_instrument():
    rules = load_clinical_rules()
    thresholds = [(p, c) for p, c in cited_values(rules) if isinstance(c, Criterion)]
    assert len(thresholds) >= 20
    for path, c in thresholds:
        assert c.source in rules.instruments or c.source in rules.undated_sources, path
        if c.source in rules.undated_sources:
            assert c.status == "open", path  # an undated text never confirms a value alone
        assert c.article, path
    class_thresholds = [c for cls in rules.classes for c in cls.criteria]
    assert class_thresholds and all(c.source in rules.instruments for c in class_thresholds)
    # the classes' thresholds on SpO2 and respiratory rate are the confirmed ones of 4689/QĐ-BYT
    confirmed = {(c.vital, c.op, json.dumps(c.value)) for c in class_thresholds if c.status == "confirmed"}
    assert {("spo2", "lt", "94"), ("resp_rate", "gt", "25"), ("spo2", "between", "[94, 96]")} <= confirmed
    assert rules.instruments["qd4689"].number == "4689/QĐ-BYT"


def _broken(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["classes"][1]["criteria"][0].update(sorce="qd4689"), "classes.1.criteria.0.sorce: unknown key"),
        (
            lambda d: d["classes"][1]["criteria"][0].update(source="qd9999"),
            "classes.1.criteria.0.source: 'qd9999' is not in instruments or undated_sources",
        ),
        (
            lambda d: d["warning_signs"][1]["criteria"][0].update(status="confirmed"),
            "warning_signs.1.criteria.0.status: confirmed on the undated source 'syt_hcm_goi_cham_soc_2311' alone",
        ),
        (lambda d: d["classes"][2]["criteria"][0].update(value=[25, 20]), "value must be [low, high]"),
        (lambda d: d["classes"][1]["criteria"][0].update(value="94"), "classes.1.criteria.0"),
        (lambda d: d["classes"][1]["criteria"][0].update(vital="spo3"), "classes.1.criteria.0.vital"),
        (lambda d: d["classes"][1]["criteria"][0].update(status="maybe"), "classes.1.criteria.0.status"),
        (lambda d: d["classes"][1]["required_tier"].update(value=4), "classes.1.required_tier.value"),
        (lambda d: d["tiers"][1]["receives"].append("moderat"), "tiers.1.receives: unknown class 'moderat'"),
        (lambda d: d["classes"][0].update(assessed_by=None), "not both"),
        (lambda d: d["instruments"]["qd4689"].update(date="6/10/2021"), "instruments.qd4689.date"),
        (lambda d: d["classes"].append(dict(d["classes"][1])), "classes: id 'severe' given twice"),
    ],
)
def test_a_bad_file_names_the_key(tmp_path, change, expected):
    path = _broken(tmp_path, change)
    with pytest.raises(InvalidCareRules) as info:
        parse_clinical_rules(path)
    assert str(path) in str(info.value) and expected in str(info.value)


def test_an_unknown_rule_set_lists_the_shipped_ones():
    with pytest.raises(UnknownCareRules) as info:
        load_clinical_rules("vn-f1-quarantine-2021")  # shipped, but not a clinical rule set
    assert DEFAULT_CLINICAL_RULESET in str(info.value)


def test_the_cli_lists_classes_thresholds_and_citations():
    result = CliRunner().invoke(app, ["care", "rules", "--json"])
    assert result.exit_code == 0, result.output
    listing = json.loads(result.stdout)
    assert listing["ruleset"] == DEFAULT_CLINICAL_RULESET
    severe = next(c for c in listing["classes"] if c["id"] == "severe")
    assert severe["required_tier"] == 2 and severe["label_vi"] == "Nặng"
    spo2 = next(c for c in severe["criteria"] if c["vital"] == "spo2")
    assert (spo2["op"], spo2["value"], spo2["unit"]) == ("lt", 94, "%")
    assert spo2["citation"]["number"] == "4689/QĐ-BYT" and spo2["citation"]["date"] == "2021-10-06"
    assert "SpO2 < 94%" in spo2["citation"]["article"]
    assert [w["id"] for w in listing["warning_signs"]] == ["byt4038-2021", "syt-hcm-2021-11-23", "byt261-2022"]
    text = CliRunner().invoke(app, ["care", "rules"])
    assert text.exit_code == 0 and "Nặng (Severe)" in text.stdout and "4689/QĐ-BYT" in text.stdout
    bad = CliRunner().invoke(app, ["care", "rules", "--ruleset", "nope"])
    assert bad.exit_code == 2 and "unknown clinical rule set 'nope'" in bad.stderr
