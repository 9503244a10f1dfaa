"""The /map page's HTML (gis/maps/page.py), without a browser: nothing inline for the policy to refuse, and a
configuration block that no value can break out of. Operator text reaches it (the basemap's attribution, a rule set's
own title and labels), so each is tried with script break-outs and other markup."""

import json
import re
from html.parser import HTMLParser

import pytest

from gis.levels import ADMIN_LEVEL_EN, ADMIN_LEVEL_VI, COLOURS, NO_ZONE_HEX
from gis.maps.app import STATIC
from gis.maps.page import build_page, page_config
from gis.maps.settings import MapSettings
from gis.risk.ruleset import load_ruleset

HOSTILE = [
    "</script><script>alert(1)</script>",
    "</SCRIPT ><script>alert(1)</script>",
    "</script\t><img src=x onerror=alert(1)>",
    "<!--<script>alert(1)//-->",
    "]]><script>alert(1)</script><![CDATA[",
    "\u2028\u2029';alert(1);//",
    "<style>body{display:none}</style>",
    '" onmouseover="alert(1)" style="x',
    "&lt;/script&gt; &amp; &#60;b&#62; {{7*7}}",
]


class Elements(HTMLParser):
    """Every element with its attributes, and the text of each script."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, list[str]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts.append((dict(attrs), []))

    def handle_data(self, data):
        if self.cdata_elem == "script":  # inside a script (the parser ends it where a browser would)
            self.scripts[-1][1].append(data)


def hostile_inputs(value: str):
    ruleset = load_ruleset()
    ruleset = ruleset.model_copy(
        update={
            "title": value,
            "levels": [lv.model_copy(update={"label_vi": value, "label_en": value}) for lv in ruleset.levels],
        }
    )
    return MapSettings(basemap_attribution=value), ruleset


@pytest.mark.parametrize("value", HOSTILE)
def test_configuration_block_holds_any_value_as_data(value):
    settings, ruleset = hostile_inputs(value)
    page = Elements(build_page(settings, ruleset))
    blocks = ["".join(text) for attrs, text in page.scripts if attrs.get("id") == "cg-config"]
    assert len(blocks) == 1 and json.loads(blocks[0]) == json.loads(json.dumps(page_config(settings, ruleset)))
    assert [attrs for attrs, _ in page.scripts if attrs.get("id") != "cg-config"] == [
        {"src": "/map/static/vendor/leaflet-1.9.4/leaflet.js"},
        {"src": "/map/static/map.js"},
    ]


@pytest.mark.parametrize("value", [HOSTILE[0], "Bản đồ"])
def test_page_has_no_inline_script_style_or_handler(value):
    page = Elements(build_page(*hostile_inputs(value)))
    inline = [attrs for attrs, _ in page.scripts if "src" not in attrs and attrs.get("type") != "application/json"]
    assert inline == []
    assert [tag for tag, _ in page.elements if tag == "style"] == []
    assert [
        (tag, name) for tag, attrs in page.elements for name in attrs if name == "style" or name.startswith("on")
    ] == []
    stylesheets = [attrs["href"] for tag, attrs in page.elements if tag == "link" and attrs.get("rel") == "stylesheet"]
    assert stylesheets == ["/map/static/vendor/leaflet-1.9.4/leaflet.css", "/map/static/map.css"]


def test_configuration_hands_the_script_the_levels_and_colours():
    """gis/levels.py is the one vocabulary: the page's data carries it, and map.js keeps no copy of its own."""
    config = json.loads(json.dumps(page_config(MapSettings(), load_ruleset())))  # as the script reads it
    assert config["adminLevels"] == {
        "vi": {str(int(level)): name for level, name in ADMIN_LEVEL_VI.items()},
        "en": {str(int(level)): name for level, name in ADMIN_LEVEL_EN.items()},
    }
    assert config["colours"] == {key: {"hex": c.hex, "vi": c.vi, "en": c.en} for key, c in COLOURS.items()}
    assert config["noZone"] == NO_ZONE_HEX
    assert {lv["hex"] for lv in config["levels"]} <= {c.hex for c in COLOURS.values()}
    script = (STATIC / "map.js").read_text(encoding="utf-8")
    assert not re.search(r"\{\s*1\s*:", script), "map.js has a table keyed by level number"
    assert [c.hex for c in COLOURS.values() if c.hex.lower() in script.lower()] == []
    names = {n.lower() for n in [*ADMIN_LEVEL_VI.values(), *ADMIN_LEVEL_EN.values()]}
    names |= {c.vi.lower() for c in COLOURS.values()} | {c.en.lower() for c in COLOURS.values()}
    assert [n for n in names if re.search(rf"['\"]{re.escape(n)}['\"]", script, re.IGNORECASE)] == []
