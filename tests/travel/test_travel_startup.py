"""A bad travel rule set setting stops the server at start (one clear error), never a 5xx at the first request."""

from __future__ import annotations

import pytest

from gis.context import AppContext
from gis.serve.app import create_app
from gis.travel.errors import UnknownTravelRules
from gis.travel.settings import TravelSettings


def test_create_app_refuses_an_unknown_travel_ruleset_before_touching_the_database() -> None:
    ctx = AppContext(travel=TravelSettings(ruleset="no-such-travel-rules"))
    with pytest.raises(UnknownTravelRules, match="no-such-travel-rules"):
        create_app(ctx)
    assert "engine" not in ctx.__dict__  # refused before any database was started
