"""`covidgis risk …`: classify areas by a rule set from JSON lines on stdin."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from gis import jsonlines
from gis.cli.options import level_option
from gis.levels import AdminLevel
from gis.risk.classify import classify_records
from gis.risk.errors import RiskError
from gis.risk.ruleset import DEFAULT_RULESET, list_rulesets, load_ruleset

app = typer.Typer(
    help="Risk levels of areas (Decision 4800 by default; also 2686, EU 2020/1475, CDC 2022).", no_args_is_help=True
)


LEVEL = level_option("Administrative level of every input line.")


@app.callback()
def _group() -> None:
    """Risk levels of areas from their indicators."""


@app.command()
def classify(
    ruleset: Annotated[
        str, typer.Option(help=f"Rule set id ({', '.join(list_rulesets())}) or path to a YAML file.")
    ] = DEFAULT_RULESET,
    level: AdminLevel = LEVEL,
) -> None:
    """Read one JSON object of indicators per line on stdin; write one JSON level per line on stdout."""
    try:
        records = [record for _, record, _ in jsonlines.objects(sys.stdin)]
    except jsonlines.JsonLinesError as e:
        raise RiskError(f"{e}: give one JSON object of indicator values a line") from e
    if not records:
        return
    for result in classify_records(records, load_ruleset(ruleset), int(level)):
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
