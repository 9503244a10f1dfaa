"""Styles with the official colours, and `covidgis export gpkg` with the styles embedded for QGIS."""

import json
import sqlite3
import xml.etree.ElementTree as ET

import pyogrio
import yaml
from conftest import ROOT, run_cli
from serve_support import PUBLIC, filled  # noqa: F401

LAYERS = ROOT / "layers"


def ruleset_colours() -> set[str]:
    colours = set()
    for path in (ROOT / "gis" / "risk" / "rulesets").glob("*.yml"):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        colours |= {level["colour"] for level in spec["levels"]}
        if spec.get("not_available"):
            colours.add(spec["not_available"]["colour"])
    return colours


def test_every_public_layer_has_a_qgis_style():
    for name in PUBLIC:
        root = ET.parse(LAYERS / f"{name}.qml").getroot()
        assert root.tag == "qgis" and root.find("renderer-v2") is not None, name


def test_zone_styles_cover_every_rule_set_colour():
    for name in ("zones", "zones-history"):
        qml = ET.parse(LAYERS / f"{name}.qml").getroot()
        categories = {c.get("value") for c in qml.iter("category")}
        assert ruleset_colours() <= categories, ruleset_colours() - categories
        sld = (LAYERS / f"{name}.sld").read_text(encoding="utf-8")
        assert all(f"<ogc:Literal>{c}</ogc:Literal>" in sld for c in ruleset_colours())


def test_export_gpkg_with_embedded_styles(filled, db_url, tmp_path):
    out = tmp_path / "covidgis.gpkg"
    summary = json.loads(run_cli("export", "gpkg", "--out", str(out), "--json", database_url=db_url).stdout)
    layers = dict(pyogrio.list_layers(out))
    assert {"areas", "zones", "facilities-public", "data-quality"} <= set(layers)
    assert summary["features"]["zones"] == pyogrio.read_info(out, layer="zones")["features"] > 1900
    zones = pyogrio.read_dataframe(out, layer="zones")
    assert set(zones["colour"]) >= {"green", "orange"} and zones["reasons"].str.startswith("[").all()
    with sqlite3.connect(out) as db:
        styles = dict(db.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault").fetchall())
    assert set(styles) == {"areas", "zones", "facilities-public", "data-quality"}
    assert 'attr="colour"' in styles["zones"]
