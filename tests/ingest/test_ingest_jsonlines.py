"""The one JSON-lines reader (gis/jsonlines.py), read by ingest's NDJSON feeds and by `covidgis risk classify`:
every kind of unreadable line stops it with one message naming the line, the same through both. (Ingest's NDJSON
files with these lines are run through the CLI in test_ingest_malformed.py.)"""

from __future__ import annotations

import io
import subprocess

import pytest
from ingest_fixtures import COVIDGIS, ROOT

from gis import jsonlines

GOOD = '{"population": 10000}\n\n'  # line 1 an object, line 2 blank: the bad line is line 3
BAD = {
    "not_json": ('{"population": 10', "line 3 is not JSON"),
    "truncated_string": ('{"a": "x', "line 3 is not JSON"),
    "raw_nul": ('{"a": "x\0y"}', "line 3 is not JSON"),
    "deep_array": ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "line 3 nests objects or arrays too deeply"),
    "deep_object": ('{"a": ' * 50_000 + "1" + "}" * 50_000, "line 3 nests objects or arrays too deeply"),
    "digits": ('{"a": ' + "9" * 5_000 + "}", "line 3 is not JSON we read"),
    "array": ("[1, 2]", "line 3 is not a JSON object"),
    "string": ('"text"', "line 3 is not a JSON object"),
    "number": ("42", "line 3 is not a JSON object"),
    "null": ("null", "line 3 is not a JSON object"),
    "too_long": (
        '{"a": "' + "x" * jsonlines.MAX_LINE + '"}',
        f"line 3 is longer than {jsonlines.MAX_LINE:,} characters",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_the_reader_names_the_line_and_why(case):
    line, words = BAD[case]
    read = jsonlines.objects(io.StringIO(GOOD + line + "\n" + GOOD))
    assert next(read)[:2] == (1, {"population": 10000})
    with pytest.raises(jsonlines.JsonLinesError) as caught:
        next(read)
    assert str(caught.value).startswith(words) and len(str(caught.value)) < 200


def test_the_reader_numbers_lines_as_an_editor_does():
    text = '\ufeff{"a": 1}\n\n  \n{"a": 2}\r\n{"a": 3}'  # a BOM, blank lines, CRLF, no final line break
    assert [(n, obj) for n, obj, _ in jsonlines.objects(io.StringIO(text))] == [
        (1, {"a": 1}),
        (4, {"a": 2}),
        (5, {"a": 3}),
    ]


@pytest.mark.parametrize("case", ["not_json", "raw_nul", "deep_array", "digits", "array", "too_long"])  # each reason
def test_risk_classify_refuses_the_line_in_one_message(case):
    line, words = BAD[case]
    proc = subprocess.run(
        [str(COVIDGIS), "risk", "classify"], input=GOOD + line + "\n", capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr) < 400  # the message, not the line
