"""What the travel rule set says about a level and a route, as JSON-ready dicts (the contract of issue 15)."""

from __future__ import annotations

from collections.abc import Sequence

from gis.travel.rules import load_travel_rules


def _rules(ruleset_id: str):
    return load_travel_rules(ruleset_id)


def travel_measures_document(ruleset_id: str) -> dict:
    """`{"ruleset": {...citation...}, "levels": {"1": {"measures": [...]}, ...}, "requirements": [...]}`."""
    rules = _rules(ruleset_id)
    main = next(iter(rules.instruments.values()))
    return {
        "ruleset": {
            **rules.summary(),
            "risk_rulesets": list(rules.risk_rulesets),
            "citation": main.model_dump(mode="json"),
        },
        "levels": {str(level): {"measures": rules.measures_of(level)} for level in sorted(rules.levels)},
        "requirements": [rules.requirement_document(r) for r in rules.requirements],
    }


def measures_at(level: int, risk_ruleset: str, ruleset_id: str) -> dict:
    """The measures of `level` of a zone computed by `risk_ruleset`; none when that rule set's levels are others."""
    rules = _rules(ruleset_id)
    applies = risk_ruleset in rules.risk_rulesets
    return {
        "ruleset": rules.summary(),
        "level": level,
        "applies": applies,
        "items": rules.measures_of(level) if applies else [],
    }


def route_requirements(crossings: Sequence[dict], ruleset_id: str) -> dict:
    """What a traveller along `crossings` (in route order, each with code, level, ruleset_id) needs.

    `leaving` a level applies when an area of that level is crossed before the last one, `entering` when one is
    crossed after the first. Only areas whose zones come from a risk rule set the travel rule set covers count.
    """
    rules = _rules(ruleset_id)
    items = []
    last = len(crossings) - 1
    for req in rules.requirements:
        zones = [
            c["code"]
            for i, c in enumerate(crossings)
            if c["level"] in req.levels
            and c.get("ruleset_id") in rules.risk_rulesets
            and (i < last if req.when == "leaving" else i > 0)
        ]
        if zones:
            items.append({**rules.requirement_document(req), "zones": list(dict.fromkeys(zones))})
    return {"ruleset": rules.summary(), "items": items}
