"""The /map page: our own small template, served offline (Leaflet and every script and stylesheet come from our app)
and with no inline script or style, so the server's Content-Security-Policy needs no exception for it.

The page's configuration travels in a JSON data block (`<script type="application/json">`), which static/map.js reads
and which starts the map the way folium did (centre, zoom, zoom and scale controls); folium itself can only write the
map's script inline.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from gis.levels import ADMIN_LEVEL_EN, ADMIN_LEVEL_VI, COLOURS, NO_ZONE_HEX
from gis.maps.settings import MapSettings
from gis.risk.ruleset import RuleSet

LEAFLET = "vendor/leaflet-1.9.4"
TITLE = "Bản đồ cấp độ dịch COVID-19 — COVID-19 risk map"
# Đồng Nai's extent, shown until the boundaries arrive and the map fits them.
START_CENTRE, START_ZOOM = (11.05, 107.17), 9
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html", "j2"])
)


def page_config(settings: MapSettings, ruleset: RuleSet) -> dict:
    """What the script needs to know: where the API is, the rule set's levels and colours, the administrative levels,
    labels in two languages."""
    return {
        "api": f"{settings.prefix}/api",
        "view": {"center": list(START_CENTRE), "zoom": START_ZOOM},
        "refreshSeconds": settings.refresh_seconds,
        "historyDays": settings.history_days,
        "timezone": settings.timezone,
        "basemap": {"url": settings.basemap_url, "attribution": settings.basemap_attribution},
        "restrictedLayers": settings.restricted_layers,
        "restrictedLimit": settings.restricted_limit,
        "ruleset": {"id": ruleset.id, "version": ruleset.version, "title": ruleset.title},
        "levels": [
            {
                "level": lv.level,
                "colour": lv.colour,
                "hex": COLOURS[lv.colour].hex,
                "label_vi": lv.label_vi,
                "label_en": lv.label_en,
            }
            for lv in [*ruleset.levels, *([ruleset.not_available] if ruleset.not_available else [])]
        ],
        "colours": {key: {"hex": c.hex, "vi": c.vi, "en": c.en} for key, c in COLOURS.items()},
        "noZone": NO_ZONE_HEX,
        # The administrative levels by number, each language's names (gis/levels.py): the script has no copy.
        "adminLevels": {
            "vi": {int(level): name for level, name in ADMIN_LEVEL_VI.items()},
            "en": {int(level): name for level, name in ADMIN_LEVEL_EN.items()},
        },
    }


def build_page(settings: MapSettings, ruleset: RuleSet) -> str:
    """The whole HTML page; static, since the data comes from the API."""
    return TEMPLATES.get_template("map.html.j2").render(
        title=TITLE, static=f"{settings.prefix}/static", leaflet=LEAFLET, config=page_config(settings, ruleset)
    )
