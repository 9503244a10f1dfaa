"""`covidgis export gpkg`: the public layers in one GeoPackage, with their QGIS styles in `layer_styles`.

Reads the public views as the public role (what the API serves, nothing more), so an analyst can open the file
offline in QGIS and see the official colours.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
from psycopg2 import sql
from sqlalchemy import Engine

from gis import sqlfiles
from gis.settings import PROJECT_ROOT
from gis.summary import Summary

log = logging.getLogger(__name__)
LAYERS_DIR = PROJECT_ROOT / "layers"
# layer name → (view, geometry type). zones-history is optional: it grows by one copy of every area per day.
PUBLIC_LAYERS = {
    "areas": ("pub.areas", "MultiPolygon"),
    "zones": ("pub.zones", "MultiPolygon"),
    "facilities-public": ("pub.facilities_public", "Point"),
    "data-quality": ("pub.data_quality", "Unknown"),
}
HISTORY = {"zones-history": ("pub.zones_history", "MultiPolygon")}


@dataclass
class ExportSummary(Summary):
    """The GeoPackage written: features per layer, and the layers whose QGIS style is embedded."""

    path: str
    features: dict[str, int] = field(default_factory=dict)
    styles: list[str] = field(default_factory=list)


def export_gpkg(engine: Engine, out: Path, history: bool = False, layers_dir: Path = LAYERS_DIR) -> ExportSummary:
    """Write each public layer as a GeoPackage table named like its collection, then embed the styles."""
    out.unlink(missing_ok=True)
    summary = ExportSummary(str(out))
    layers = {**PUBLIC_LAYERS, **(HISTORY if history else {})}
    with engine.connect() as conn:
        for name, (view, geometry_type) in layers.items():
            select = sqlfiles.compose(conn, "SELECT * FROM {view}", view=sql.Identifier(*view.split(".")))
            frame = gpd.read_postgis(select, conn, geom_col="geom")
            for column in frame.columns:
                if frame[column].dtype == object and column != "geom":
                    frame[column] = frame[column].map(_plain)
            frame.to_file(out, layer=name, driver="GPKG", geometry_type=geometry_type, engine="pyogrio")
            summary.features[name] = len(frame)
    summary.styles = embed_styles(out, list(layers), layers_dir)
    return summary


def embed_styles(gpkg: Path, layers: list[str], layers_dir: Path) -> list[str]:
    """QGIS's `layer_styles` table: the default style of each layer, read by QGIS when it opens the layer."""
    rows = []
    for name in layers:
        qml = layers_dir / f"{name}.qml"
        if not qml.exists():
            continue
        sld = layers_dir / f"{name}.sld"
        rows.append(
            (
                "",
                "",
                name,
                "geom",
                name,
                qml.read_text(encoding="utf-8"),
                sld.read_text(encoding="utf-8") if sld.exists() else "",
                1,
                f"covid-gis style for {name}",
                "covid-gis",
                "",
                dt.datetime.now(dt.UTC).isoformat(),
            )
        )
    with sqlite3.connect(gpkg) as db:
        db.executescript(LAYER_STYLES_DDL)
        db.executemany(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
            "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles')"
        )
    return [row[2] for row in rows]


def _plain(value):
    """GeoPackage columns hold scalars: JSON for objects and lists."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


LAYER_STYLES_DDL = """
CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256),
    styleName TEXT(30), styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30),
    ui TEXT(30), update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
"""
