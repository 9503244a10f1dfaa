"""Travel rule sets: the shipped one loads and is cited; bad files fail at load naming the file and the key."""

from pathlib import Path

import pytest
import yaml

from gis.travel.errors import InvalidTravelRules, UnknownTravelRules
from gis.travel.measures import route_requirements, travel_measures_document
from gis.travel.rules import TRAVEL_RULESET_DIR, load_travel_rules, parse_travel_rules
from gis.travel.settings import TravelSettings

SHIPPED = TRAVEL_RULESET_DIR / "vn-128-2021.yml"


def test_the_shipped_rule_set_gives_every_measure_of_every_level_cited():
    doc = travel_measures_document("vn-128-2021")
    assert doc["ruleset"]["id"] == "vn-128-2021" and doc["ruleset"]["citation"]["number"] == "128/NQ-CP"
    assert sorted(doc["levels"]) == ["1", "2", "3", "4"]
    ids = [m["id"] for m in doc["levels"]["1"]["measures"]]
    assert "gatherings" in ids and "travel_out" in ids
    for level in doc["levels"].values():
        assert [m["id"] for m in level["measures"]] == ids
        for m in level["measures"]:
            assert m["status"] in ("confirmed", "open")
            assert m["citation"]["number"] and m["citation"]["date"] and m["citation"]["article"]
            assert m["value"]["vi"] and m["value"]["en"]
            assert m["status"] == "confirmed" or m["note"], m  # an open measure says why
    assert {r["id"] for r in doc["requirements"]} >= {"test_leaving_level4"}


def test_the_default_comes_from_the_setting(monkeypatch, tmp_path):
    other = tmp_path / "other.yml"
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    data["id"] = "other-rules"
    other.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("COVIDGIS_TRAVEL_RULESET", str(other))
    assert travel_measures_document(TravelSettings().ruleset)["ruleset"]["id"] == "other-rules"
    monkeypatch.delenv("COVIDGIS_TRAVEL_RULESET")
    assert travel_measures_document(TravelSettings().ruleset)["ruleset"]["id"] == "vn-128-2021"


def _broken(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["levels"][4]["schools"].update(statsu="open"), "levels.4.schools.statsu: unknown key"),
        (lambda d: d["levels"][2]["gatherings"].update(status="maybe"), "levels.2.gatherings.status"),
        (lambda d: d["levels"][3]["travel_out"].pop("article"), "levels.3.travel_out.article"),
        (lambda d: d["levels"][1].pop("schools"), "levels.1.schools: missing"),
        (lambda d: d["levels"][1].update(curfew=d["levels"][1]["schools"]), "levels.1.curfew: unknown measure"),
        (lambda d: d["levels"][4]["schools"].update(source="nq999"), "levels.4.schools.source: 'nq999'"),
        (lambda d: d["instruments"]["nq128"].pop("date"), "instruments.nq128.date"),
        (lambda d: d["instruments"]["nq128"].update(artikel="x"), "instruments.nq128.artikel: unknown key"),
        (lambda d: d["requirements"][0].update(test_within_hours="72"), "requirements.0.test_within_hours"),
        (lambda d: d["requirements"][0].update(levels=[5]), "requirements.0.levels: 5 is not a level"),
        (lambda d: d["requirements"][1].update(when="passing"), "requirements.1.when"),
        (lambda d: d.pop("risk_rulesets"), "risk_rulesets"),
        (lambda d: d.update(colour="red"), "colour: unknown key"),
    ],
)
def test_bad_rule_sets_fail_at_load_naming_file_and_key(tmp_path, change, message):
    path = _broken(tmp_path, change)
    with pytest.raises(InvalidTravelRules) as info:
        parse_travel_rules(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_unknown_and_unparseable_rule_sets(tmp_path):
    with pytest.raises(UnknownTravelRules, match="vn-128-2021"):
        load_travel_rules("vn-999")
    bad = tmp_path / "bad.yml"
    bad.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(InvalidTravelRules, match="bad.yml: not valid YAML"):
        parse_travel_rules(bad)


def zone(code: str, level: int, ruleset: str = "vn-4800-2021") -> dict:
    return {"code": code, "level": level, "ruleset_id": ruleset}


def test_route_requirements_leaving_a_level_4_area():
    ids = lambda crossings: [r["id"] for r in route_requirements(crossings, "vn-128-2021")["items"]]  # noqa: E731
    out = route_requirements([zone("A", 4), zone("B", 1)], "vn-128-2021")["items"]
    test = next(r for r in out if r["id"] == "test_leaving_level4")
    assert test["zones"] == ["A"] and test["test_within_hours"] == 72 and test["citation"]["date"]
    assert ids([zone("A", 1), zone("B", 4)]) == []  # ends in the level-4 area: it never leaves it
    assert ids([zone("A", 1), zone("B", 2)]) == []
    assert ids([zone("A", 3), zone("B", 1)]) == ["vaccinated_or_test_leaving_level34_by_coach"]
    assert ids([zone("A", 4, "us-cdc-2022"), zone("B", 1)]) == []  # another rule set's level 4 is not NQ 128's
