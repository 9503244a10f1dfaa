"""Spreadsheet-safe CSV cells, for every CSV the project writes (the OGC API's f=csv, `covidgis trace contacts`).

Text that a spreadsheet would read as a formula (= + - @, TAB, CR first: OWASP's CSV-injection list) gets a leading
`'`, which Excel and LibreOffice hide and which keeps it text; numbers stay numbers; dates are ISO 8601 (a datetime
with its offset); JSON values are JSON text.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may evaluate (OWASP CSV injection)


def cell(value) -> str | int | float | Decimal:
    """One CSV cell: numbers as numbers, everything else as spreadsheet-safe text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
