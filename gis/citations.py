"""The official texts rule sets cite: one model for every stage's rule sets (risk, trace, and those to come)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict


class Instrument(BaseModel):
    """A legal or official text (decision, guidance, protocol) a rule set implements or cites."""

    model_config = ConfigDict(extra="forbid", frozen=True)  # a typo must not silently drop a citation

    number: str
    date: dt.date
    issuer: str
    title: str = ""
    article: str = ""
    url: str = ""
