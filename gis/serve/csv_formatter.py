"""`f=csv` for every collection: a spreadsheet-safe CSV of one page of features.

pygeoapi 0.21 loads its formatter by the name `CSV` from pygeoapi.plugin.PLUGINS for every items request with
`f=csv`; `register()` points that name at this class. What changes against pygeoapi's CSVFormatter:
- a feature without geometry is a row with empty geometry cells (pygeoapi read the first feature's geometry type
  and answered 500 when it had none, and left out every row's geometry when it was not a point);
- the geometry columns are decided for the whole page, not by its first feature: `x`, `y` (first) when every
  geometry on it is a point (a point layer keeps its columns when some rows have no location), otherwise `wkt`
  (last), in the CRS of the response;
- the item id (the collection's `id_field`, which the provider keeps out of the properties) is the first column;
- text that a spreadsheet would read as a formula (= + - @, TAB, CR first: OWASP's CSV-injection list) gets a
  leading `'`, which Excel and LibreOffice hide and which keeps it text; numbers stay numbers. Dates are ISO 8601,
  JSON values (decisive, reasons, a reject's record) are JSON text, as in f=json.

defusedcsv was not taken: it leaves TAB and CR unprefixed and rewrites `|` inside the text.
"""

from __future__ import annotations

import csv
import io

import shapely.geometry
from pygeoapi.formatter.csv_ import CSVFormatter as _PygeoapiCSVFormatter
from pygeoapi.plugin import PLUGINS

from gis.csvcell import cell


class CSVFormatter(_PygeoapiCSVFormatter):
    """pygeoapi's CSV formatter for pages with or without geometry, safe to open in a spreadsheet."""

    def write(self, options: dict | None = None, data: dict | None = None) -> bytes:
        features = (data or {}).get("features") or []
        id_column = ((options or {}).get("provider_def") or {}).get("id_field") or "id"
        properties = list(dict.fromkeys(k for f in features for k in (f.get("properties") or {})))
        geometries = [f.get("geometry") for f in features]
        points = all(g["type"] == "Point" for g in geometries if g)
        geometry_columns = (["x", "y"] if points else ["wkt"]) if self.geom else []
        rest = [p for p in properties if p != id_column and p not in geometry_columns]
        header = [id_column, *geometry_columns, *rest] if points else [id_column, *rest, *geometry_columns]
        output = io.StringIO()
        writer = csv.writer(output, lineterminator="\r\n")
        writer.writerow(header)
        for feature, geometry in zip(features, geometries):
            row = {p: cell(v) for p, v in (feature.get("properties") or {}).items()}
            row[id_column] = cell(feature["id"]) if "id" in feature else row.get(id_column, "")
            if self.geom and points:
                row["x"], row["y"] = geometry["coordinates"][:2] if geometry else ("", "")
            elif self.geom:
                row["wkt"] = shapely.geometry.shape(geometry).wkt if geometry else ""
            writer.writerow([row.get(column, "") for column in header])
        return output.getvalue().encode("utf-8")


def register() -> None:
    """Make pygeoapi's `f=csv` use this formatter (idempotent; the format's name stays `csv`)."""
    PLUGINS["formatter"]["CSV"] = f"{__name__}.{CSVFormatter.__name__}"
