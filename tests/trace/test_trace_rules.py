"""Trace rule sets: the shipped ones load and are fully cited; every bad input fails at load naming file and key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from gis.trace.errors import InvalidTraceRules, UnknownTraceRules
from gis.trace.rules import (
    DEFAULT_TRACE_RULESET,
    TRACE_RULESET_DIR,
    TraceRules,
    describe,
    load_trace_rules,
    trace_rule_ids,
    venue_kinds,
)

SHIPPED = ["de-cwa-2021", "vn-pccovid-2022"]


def test_shipped_rule_sets_load_with_their_documented_values() -> None:
    assert trace_rule_ids() == SHIPPED
    assert DEFAULT_TRACE_RULESET in SHIPPED
    pc = load_trace_rules("vn-pccovid-2022")
    assert (pc.covisit, pc.covisit_minutes, pc.overlap_close_minutes) == ("checkin_within", 60, None)
    assert pc.window_before_days == 2 and pc.window_end == "isolation_or_detection"
    assert pc.checkin_within_exposure == "casual"
    assert "office" not in pc.public_kinds and "industrial_zone" not in pc.public_kinds
    assert "market" in pc.public_kinds
    cwa = load_trace_rules("de-cwa-2021")
    assert (cwa.covisit, cwa.overlap_close_minutes) == ("overlap", 10)
    assert cwa.cluster["market"].cases == 3
    for rules in (pc, cwa):
        assert rules.dwell_for("no-such-kind") == rules.dwell_minutes["other"]
        assert set(rules.advice) == {"close", "casual"}
        assert rules.lockdown_min_contacts >= 1 and rules.lockdown_min_f0_residents >= 1


def test_load_by_path_and_unknown_id() -> None:
    assert load_trace_rules(str(TRACE_RULESET_DIR / "de-cwa-2021.yml")).id == "de-cwa-2021"
    with pytest.raises(UnknownTraceRules, match="vn-pccovid-2022"):
        load_trace_rules("no-such-rules")


@pytest.mark.parametrize("rid", SHIPPED)
def test_every_parameter_is_cited(rid: str) -> None:
    text = (TRACE_RULESET_DIR / f"{rid}.yml").read_text(encoding="utf-8")
    assert "TODO" not in text.upper()
    rules = load_trace_rules(rid)
    assert rules.id == rid  # file stem = id
    assert rules.decision.url.startswith("http") and rules.decision.issuer
    for name, p in rules.parameters.items():
        assert p.status in ("confirmed", "open"), name
        assert len(p.source.strip()) > 20, f"{rid}: {name} has no real source"
        if p.status == "open":
            assert p.note.strip(), f"{rid}: open parameter {name} needs a note saying what is open"
    for name in ("lockdown_min_contacts", "lockdown_min_f0_residents"):
        p = rules.parameters[name]
        assert p.status == "open" and "not an official threshold" in p.note


def test_venue_kinds_come_from_the_feed_file() -> None:
    feed = yaml.safe_load((Path(__file__).parents[2] / "ingest/feeds/venues.yml").read_text(encoding="utf-8"))
    assert venue_kinds() == set(feed["fields"]["kind"]["values"])
    assert "other" in venue_kinds()


def test_describe_is_json_ready() -> None:
    import json

    d = describe(load_trace_rules("vn-pccovid-2022"))
    back = json.loads(json.dumps(d))
    assert back["id"] == "vn-pccovid-2022" and back["covisit"] == "checkin_within"
    assert back["parameters"]["covisit_minutes"]["value"] == 60
    assert back["decision"]["date"] == "2022-01-15"
    assert "lockdown_min_contacts" in back["open"] and "covisit_minutes" not in back["open"]


# --- bad input: each case names the file and the key path -------------------------------------------


def _base() -> dict[str, Any]:
    return yaml.safe_load((TRACE_RULESET_DIR / "vn-pccovid-2022.yml").read_text(encoding="utf-8"))


def _drop(d: dict[str, Any], *path: str) -> None:
    for k in path[:-1]:
        d = d[k]
    del d[path[-1]]


def _set(d: dict[str, Any], value: Any, *path: str) -> None:
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value


def _overlap_without_threshold(d: dict[str, Any]) -> None:
    d["covisit"] = "overlap"


BAD: list[tuple[str, Any, str]] = [
    ("unknown top-level key", lambda d: _set(d, "red", "colour"), r"colour: unknown key"),
    (
        "unknown parameter",
        lambda d: _set(d, {"value": 1, "status": "open", "source": "x"}, "parameters", "foo"),
        r"parameters\.foo: unknown parameter",
    ),
    ("missing parameter", lambda d: _drop(d, "parameters", "covisit_minutes"), r"parameters\.covisit_minutes: missing"),
    (
        "overlap needs its threshold",
        _overlap_without_threshold,
        r"parameters\.overlap_close_minutes: missing \(needed by covisit: overlap\)",
    ),
    (
        "string instead of int",
        lambda d: _set(d, "60", "parameters", "covisit_minutes", "value"),
        r"parameters\.covisit_minutes\.value: .*integer",
    ),
    (
        "bool instead of int",
        lambda d: _set(d, True, "parameters", "window_before_days", "value"),
        r"parameters\.window_before_days\.value: .*integer",
    ),
    (
        "float instead of int",
        lambda d: _set(d, 60.5, "parameters", "covisit_minutes", "value"),
        r"parameters\.covisit_minutes\.value: .*integer",
    ),
    (
        "bad dwell value",
        lambda d: _set(d, "long", "parameters", "dwell_minutes", "value", "market"),
        r"parameters\.dwell_minutes\.value\.market: .*integer",
    ),
    (
        "bad cluster field",
        lambda d: _set(d, {"cases": 3}, "parameters", "cluster", "value", "market"),
        r"parameters\.cluster\.value\.market\.within_minutes: missing",
    ),
    (
        "bad status",
        lambda d: _set(d, "maybe", "parameters", "covisit_minutes", "status"),
        r"parameters\.covisit_minutes\.status: .*'confirmed' or 'open'",
    ),
    (
        "inferred is not a trace status",
        lambda d: _set(d, "inferred", "parameters", "covisit_minutes", "status"),
        r"parameters\.covisit_minutes\.status",
    ),
    (
        "missing source",
        lambda d: _drop(d, "parameters", "covisit_minutes", "source"),
        r"parameters\.covisit_minutes\.source: missing",
    ),
    ("bad covisit", lambda d: _set(d, "nearby", "covisit"), r"covisit: .*'checkin_within' or 'overlap'"),
    (
        "bad window_end",
        lambda d: _set(d, "onset", "parameters", "window_end", "value"),
        r"parameters\.window_end\.value: ",
    ),
    (
        "unknown public kind",
        lambda d: _set(d, ["market", "bar"], "parameters", "public_kinds", "value"),
        r"parameters\.public_kinds\.value: 'bar' is not a venue kind of ingest/feeds/venues\.yml",
    ),
    (
        "unknown dwell kind",
        lambda d: _set(d, 30, "parameters", "dwell_minutes", "value", "karaoke"),
        r"parameters\.dwell_minutes\.value: 'karaoke' is not a venue kind",
    ),
    (
        "unknown cluster kind",
        lambda d: _set(d, {"cases": 2, "within_minutes": 60}, "parameters", "cluster", "value", "stadium"),
        r"parameters\.cluster\.value: 'stadium' is not a venue kind",
    ),
    (
        "dwell without other",
        lambda d: _drop(d, "parameters", "dwell_minutes", "value", "other"),
        r"parameters\.dwell_minutes\.value: needs the fallback kind 'other'",
    ),
    (
        "zero dwell",
        lambda d: _set(d, 0, "parameters", "dwell_minutes", "value", "market"),
        r"parameters\.dwell_minutes\.value\.market: must be at least 1 minute",
    ),
    ("missing advice", lambda d: _drop(d, "advice", "close"), r"advice\.close: missing"),
    ("bad decision date", lambda d: _set(d, "soon", "decision", "date"), r"decision\.date: "),
]


@pytest.mark.parametrize(("case", "mutate", "expected"), BAD, ids=[b[0] for b in BAD])
def test_bad_rule_set_names_file_and_key(tmp_path: Path, case: str, mutate: Any, expected: str) -> None:
    data = _base()
    mutate(data)
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidTraceRules) as exc:
        load_trace_rules(str(path))
    message = str(exc.value)
    assert message.startswith(f"{path}: "), message
    assert re.search(expected, message), message
    assert "\n" not in message  # one line for the CLI


def test_not_yaml_and_not_a_mapping(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidTraceRules, match=re.escape(str(bad)) + ": not valid YAML"):
        load_trace_rules(str(bad))
    bad.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(InvalidTraceRules, match="must be a YAML mapping"):
        load_trace_rules(str(bad))


def test_rules_are_frozen() -> None:
    rules: TraceRules = load_trace_rules()
    with pytest.raises(ValueError):
        rules.covisit = "overlap"
