"""Styles with the official colours, and `covidgis export gpkg` with the styles embedded for QGIS."""

import json
import re
import sqlite3
import xml.etree.ElementTree as ET

import pyogrio
import yaml
from conftest import ROOT, run_cli
from serve_support import PUBLIC, filled  # noqa: F401
from sqlalchemy import text

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


def _schema(data: dict) -> str:
    return data["search_path"][0]


def test_every_style_names_only_fields_of_its_collection(engine):
    """Each layers/<collection>.qml (public or restricted) draws and labels fields its collection's view has: a
    renamed column would leave QGIS drawing nothing without an error."""
    config = yaml.safe_load((ROOT / "pygeoapi-config.yml").read_text(encoding="utf-8"))["resources"]
    styled = sorted(p.stem for p in LAYERS.glob("*.qml"))
    assert {"beds", "treatment-capacity", "welfare-coverage"} <= set(styled)
    for name in styled:
        provider = next(p for p in config[name]["providers"] if p["type"] == "feature")
        with engine.connect() as conn:
            columns = set(
                conn.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns WHERE table_schema = :s AND table_name = :t"
                    ),
                    {"s": _schema(provider["data"]), "t": provider["table"]},
                ).scalars()
            )
        assert columns, name
        root = ET.parse(LAYERS / f"{name}.qml").getroot()
        renderer = root.find("renderer-v2")
        named = {a.get("field") for a in root.iter("alias")}
        attr = renderer.get("attr") if renderer is not None else None
        if attr:
            named |= set(re.findall(r'"([^"]+)"', attr)) if '"' in attr else {attr}
        for option in root.iter("Option"):
            if option.get("name") == "expression":
                named |= set(re.findall(r'"([^"]+)"', option.get("value") or ""))
        assert named and named <= columns, (name, named - columns)
