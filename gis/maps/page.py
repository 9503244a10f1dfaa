"""The /map page, built with folium but served offline: Leaflet and every script and stylesheet come from our app."""

from __future__ import annotations

import json

import folium
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from gis.maps.palette import ADMIN_LEVEL_EN, ADMIN_LEVEL_VI, HEX, NAME_EN, NAME_VI, NO_ZONE
from gis.maps.settings import MapSettings
from gis.risk.ruleset import RuleSet

LEAFLET = "vendor/leaflet-1.9.4"
# Đồng Nai's extent, shown until the boundaries arrive and the map fits them.
START_CENTRE, START_ZOOM = (11.05, 107.17), 9


class OfflineMap(folium.Map):
    """A folium map whose only assets are Leaflet and our own files under `static` (no CDN, no jQuery)."""

    def __init__(self, static: str, **kwargs):
        self.default_js = [("leaflet", f"{static}/{LEAFLET}/leaflet.js")]
        self.default_css = [("leaflet_css", f"{static}/{LEAFLET}/leaflet.css"), ("covidgis_css", f"{static}/map.css")]
        super().__init__(**kwargs)


class ZoneMapApp(JSCSSMixin, MacroElement):
    """Starts the page's script (static/map.js) on the folium map with the server's configuration."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            CovidGisMap.start({{ this._parent.get_name() }}, {{ this.config_json }});
        {% endmacro %}
    """)

    def __init__(self, static: str, config: dict):
        super().__init__()
        self._name = "ZoneMapApp"
        self.default_js = [("covidgis_map", f"{static}/map.js")]
        self.config_json = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")


def page_config(settings: MapSettings, ruleset: RuleSet) -> dict:
    """What the script needs to know: where the API is, the rule set's levels and colours, labels in two languages."""
    return {
        "api": f"{settings.prefix}/api",
        "refreshSeconds": settings.refresh_seconds,
        "historyDays": settings.history_days,
        "basemap": {"url": settings.basemap_url, "attribution": settings.basemap_attribution},
        "restrictedLayers": settings.restricted_layers,
        "restrictedLimit": settings.restricted_limit,
        "ruleset": {"id": ruleset.id, "version": ruleset.version, "title": ruleset.title},
        "levels": [{"level": lv.level, "colour": lv.colour, "hex": HEX[lv.colour], "label_vi": lv.label_vi,
                    "label_en": lv.label_en}
                   for lv in [*ruleset.levels, *([ruleset.not_available] if ruleset.not_available else [])]],
        "colours": {name: {"hex": HEX[name], "vi": NAME_VI[name], "en": NAME_EN[name]} for name in HEX},
        "noZone": NO_ZONE,
        "adminLevels": {"vi": ADMIN_LEVEL_VI, "en": ADMIN_LEVEL_EN},
    }


def build_page(settings: MapSettings, ruleset: RuleSet) -> str:
    """The whole HTML page; static, since the data comes from the API."""
    static = f"{settings.prefix}/static"
    fmap = OfflineMap(static, location=START_CENTRE, zoom_start=START_ZOOM, tiles=None, control_scale=True,
                      prefer_canvas=False, zoom_control=True)
    root = fmap.get_root()
    root.title = "Bản đồ cấp độ dịch COVID-19 — COVID-19 risk map"
    root.header.add_child(Element('<link rel="icon" href="data:,">'), name="favicon")  # no /favicon.ico request
    fmap.add_child(ZoneMapApp(static, page_config(settings, ruleset)))
    html = root.render()
    return html.replace("<html>", '<html lang="vi">', 1)
