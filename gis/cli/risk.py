"""`covidgis risk …`: classify areas by a rule set from JSON lines on stdin."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer

from gis.risk.classify import classify_records
from gis.risk.errors import RiskError
from gis.risk.ruleset import ADMIN_LEVELS, DEFAULT_RULESET, list_rulesets, load_ruleset

app = typer.Typer(
    help="Risk levels of areas (Decision 4800 by default; also 2686, EU 2020/1475, CDC 2022).", no_args_is_help=True
)


class Level(StrEnum):
    province = "province"
    district = "district"
    commune = "commune"
    hamlet = "hamlet"


@app.callback()
def _group() -> None:
    """Risk levels of areas from their indicators."""


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


@app.command()
def classify(
    ruleset: Annotated[
        str, typer.Option(help=f"Rule set id ({', '.join(list_rulesets())}) or path to a YAML file.")
    ] = DEFAULT_RULESET,
    level: Annotated[Level, typer.Option(help="Administrative level of every input line.")] = Level.commune,
) -> None:
    """Read one JSON object of indicators per line on stdin; write one JSON level per line on stdout."""
    records = []
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            _fail(f"line {number}: not valid JSON: {e}")
        if not isinstance(record, dict):
            _fail(f"line {number}: expected a JSON object of indicator values")
        records.append(record)
    if not records:
        return
    try:
        results = classify_records(records, load_ruleset(ruleset), ADMIN_LEVELS[level.value])
    except RiskError as e:
        _fail(str(e))
    for result in results:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
