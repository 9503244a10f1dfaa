"""Bad input is a 4xx with a message in our words — never a 5xx, never the database's text.

Whole classes, on every collection (public ones anonymously, restricted ones with an analyst's token): NUL, huge and
garbage values in every path and query parameter; unknown, unfilterable or mistyped properties in query parameters
and CQL; CQL geometries that are not finite; offsets beyond the deepest page; process bodies nested deep.
"""

import json
from urllib.parse import quote

import pytest
import requests
from serve_support import PUBLIC, RESTRICTED, bearer, filled, served, tokens  # noqa: F401

GARBAGE = [
    "\x00",
    "a\x00b",
    "9" * 4000,
    "-" * 3000,
    "1e400",
    "-1e400",
    "NaN",
    "Infinity",
    "-1",
    "0",
    "'",
    '"',
    "{}",
    "[]",
    "%",
    "%00",
    "..",
    "/",
    "\\",
    ";",
    "Ω☃💥",
    " ",
    "",
    "x" * 300,
    "<script>alert(1)</script>",
    "2021-02-30",
    "9999999999-01-01",
    "2021-10-20/2021-10-19/..",
    "1,2,3,4,5,6,7",
    "DROP TABLE x",
]
RESERVED = [
    "f",
    "lang",
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "sortby",
    "properties",
    "skipGeometry",
    "resulttype",
    "filter",
    "filter-lang",
    "filter-crs",
    "q",
]
# Phrases of PostgreSQL, psycopg2, SQLAlchemy or Python that must never reach a caller.
LEAKS = [
    "syntax for type",
    "operator does not exist",
    "psycopg",
    "sqlalchemy",
    "select ",
    "line 1",
    "smallint",
    "jsonb",
    "error:",
    "traceback",
    "canceling statement",
    "comparator",
    "instrumentedattribute",
    "keyerror",
]


@pytest.fixture(scope="module")
def session():
    with requests.Session() as s:
        yield s


@pytest.fixture(scope="module")
def audiences(tokens):
    """Each collection with the headers that may read it."""
    analyst = bearer(tokens["analyst"])
    return {**{cid: {} for cid in PUBLIC}, **{cid: analyst for cid in RESTRICTED}}


@pytest.fixture(scope="module")
def queryables(served, session, audiences):
    """Each collection's properties and their JSON types."""
    return {
        cid: {
            name: spec.get("type")
            for name, spec in session.get(
                f"{served}/collections/{cid}/queryables",
                params={"f": "json"},
                headers=headers,
                timeout=30,
            )
            .json()["properties"]
            .items()
            if name != "geometry"
        }
        for cid, headers in audiences.items()
    }


def problem(resp: requests.Response) -> str | None:
    """What is wrong with an answer to bad input: a 5xx, an error without a message, or the database's words."""
    if resp.status_code >= 500:
        return f"{resp.status_code}: {resp.text[:200]}"
    if resp.status_code < 400:
        return None
    if "json" in resp.headers.get("content-type", ""):
        message = str(resp.json().get("description", ""))
    else:
        message = resp.text
    if not message.strip():
        return f"{resp.status_code} without a message"
    leaked = [phrase for phrase in LEAKS if phrase in message.lower()]
    return f"{resp.status_code} leaks {leaked}: {message[:200]}" if leaked else None


def check_all(session, requests_: list[tuple[str, str, dict, dict]]) -> None:
    failures = []
    for method, url, params, headers in requests_:
        resp = session.request(method, url, params=params, headers=headers, timeout=60)
        found = problem(resp)
        if found:
            failures.append(f"{method} {url} {json.dumps(params)[:120]} → {found}")
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(failures[:30])


def message_of(resp: requests.Response) -> str:
    return resp.json()["description"]


@pytest.mark.parametrize("cid", PUBLIC + RESTRICTED)
def test_garbage_in_every_query_parameter(served, session, audiences, queryables, cid):
    items = f"{served}/collections/{cid}/items"
    params = [*RESERVED, *queryables[cid], "nonexistent"]
    check_all(
        session,
        [
            ("GET", items, {"f": "json", "limit": "1", name: value}, audiences[cid])
            for name in params
            for value in GARBAGE
        ],
    )


@pytest.mark.parametrize("cid", PUBLIC + RESTRICTED)
def test_garbage_in_every_path_parameter(served, session, audiences, cid):
    c = f"{served}/collections/{cid}"
    headers = audiences[cid]
    urls = []
    for value in GARBAGE:
        v = quote(value, safe="")
        urls += [
            f"{c}/items/{v}",
            f"{c}/items/{v}?f=html",
            f"{c}/tiles/{v}",
            f"{c}/tiles/{v}/metadata",
            f"{c}/tiles/{v}/0/0/0?f=mvt",
            f"{c}/tiles/WebMercatorQuad/{v}/0/0?f=mvt",
            f"{c}/tiles/WebMercatorQuad/0/{v}/0?f=mvt",
            f"{c}/tiles/WebMercatorQuad/0/0/{v}?f=mvt",
            f"{c}/queryables?properties={v}",
            f"{served}/collections/{v}",
            f"{served}/collections/{v}/items",
            f"{served}/TileMatrixSets/{v}",
            f"{served}/processes/{v}",
            f"{served}/jobs/{v}",
            f"{served}/jobs/{v}/results",
        ]
    check_all(session, [("GET", url, {}, headers) for url in urls])


def test_nul_in_an_item_id_is_a_400_that_says_so(served, session):
    resp = session.get(f"{served}/collections/areas/items/%00", timeout=30)
    assert resp.status_code == 400 and "NUL" in message_of(resp)


@pytest.mark.parametrize("cid", PUBLIC + RESTRICTED)
@pytest.mark.parametrize("name", ["nonexistent", "Code", "geometry", "geom", "id.x", "'1'"])
def test_unknown_query_parameters_are_400_listing_the_queryables(served, session, audiences, queryables, cid, name):
    resp = session.get(
        f"{served}/collections/{cid}/items", params={"f": "json", name: "1"}, headers=audiences[cid], timeout=30
    )
    if name in queryables[cid]:
        pytest.skip(f"{name} is a property of {cid}")
    assert resp.status_code == 400, resp.text[:300]
    message = message_of(resp)
    # the usable ones: JSON and lists (proposals' venues and cases, a contact's cases) cannot be filtered by
    assert name in message and all(
        p in message for p in queryables[cid] if queryables[cid][p] not in ("object", "array")
    )


def _typed_property(types: dict, kind: str) -> str | None:
    return next((name for name, t in types.items() if t == kind), None)


def bad_filters(types: dict) -> list[tuple[str, str | None]]:
    """CQL filters a collection must refuse, each with the word its message must hold (None: any message)."""
    text = _typed_property(types, "string")
    number = _typed_property(types, "integer") or _typed_property(types, "number")
    found: list[tuple[str, str | None]] = [
        (f"nonexistent {op}", "nonexistent")
        for op in ("= 1", "IS NULL", "LIKE 'a%'", "IN (1, 2)", "BETWEEN 1 AND 2", "<> 'x'")
    ]
    found += [
        (f"{text} = 'a' AND nonexistent = 1", "nonexistent"),
        ("NOT nonexistent = 1", "nonexistent"),
        ("lower(nonexistent) = 'a'", "nonexistent"),
        ("INTERSECTS(nonexistent, POINT(1 1))", "nonexistent"),
        (f"INTERSECTS({text}, POINT(1 1))", text),
        ("geom = 'x'", "geom"),
        ("geom > 3", "geom"),
        ("geom LIKE 'a%'", "geom"),
        ("geom IN ('a', 'b')", "geom"),
        (f"{text} = 3", text),
        ("foo(geom) = 'a'", "foo"),
    ]
    found += [
        (f"INTERSECTS(geom, {wkt})", "finite")
        for wkt in (
            "POINT(1e400 0)",
            "POINT(0 -1e400)",
            "LINESTRING(0 0, 1e999 1)",
            "POLYGON((0 0, 1 0, 1 1e400, 0 0))",
            "MULTIPOINT((0 0), (1e400 1))",
            "GEOMETRYCOLLECTION(POINT(0 0), POINT(1e400 0))",
        )
    ]
    found += [
        ("BBOX(geom, 1e400, 0, 1, 1)", "finite"),
        ("DWITHIN(geom, POINT(0 0), 1e400, meters)", "finite"),
        (" AND ".join([f"{text} = 'a'"] * 150), None),
        ("nonsense(((", None),
        ("", None),
    ]
    if number:
        found += [
            (f"{number} = 'x'", number),
            (f"{number} = 'NaN'", number),
            (f"{number} LIKE 'a%'", number),
            (f"{number} BETWEEN 'a' AND 'b'", number),
            (f"{number} IN ('a', 1)", number),
            (f"{number} + 'a' = 3", None),
        ]
    found += [(f"{name} = 'x'", name) for name, t in types.items() if t == "object"]
    found += [(f"{name} IS NULL", name) for name, t in types.items() if t == "object"]
    return found


@pytest.mark.parametrize("cid", PUBLIC + RESTRICTED)
def test_bad_cql_is_a_400_naming_what_is_wrong(served, session, audiences, queryables, cid):
    failures = []
    for cql, word in bad_filters(queryables[cid]):
        resp = session.get(
            f"{served}/collections/{cid}/items", params={"f": "json", "filter": cql}, headers=audiences[cid], timeout=30
        )
        found = problem(resp) or (None if resp.status_code == 400 else f"{resp.status_code}, not 400")
        if not found and word and word not in message_of(resp):
            found = f"message does not name {word!r}: {message_of(resp)[:200]}"
        if found:
            failures.append(f"{cql[:80]!r}: {found}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("cid", ["zones", "zones-history"])
def test_json_properties_cannot_be_filtered_or_sorted_by(served, session, cid):
    for params in (
        {"decisive": "{}"},
        {"reasons": "[]"},
        {"sortby": "decisive"},
        {"sortby": "-reasons"},
        {"filter": "decisive = '{}'"},
    ):
        resp = session.get(f"{served}/collections/{cid}/items", params={"f": "json", **params}, timeout=30)
        assert resp.status_code == 400, (params, resp.text[:300])
        name = next(v.strip("-") if k == "sortby" else k for k, v in params.items())
        assert (name if name != "filter" else "decisive") in message_of(resp)


@pytest.mark.parametrize("offset", [1_000_001, 2**63 - 1, 2**63, 10**30])
def test_offsets_beyond_the_deepest_page_are_400(served, session, offset):
    resp = session.get(f"{served}/collections/zones-history/items", params={"f": "json", "offset": offset}, timeout=30)
    assert resp.status_code == 400 and "offset" in message_of(resp) and "narrow" in message_of(resp)


def test_many_property_names_are_each_served_once(served, session, queryables):
    """`properties` and `sortby` naming properties many times over (as long as a URL may be): each once, no 503."""
    names = [n for n in queryables["zones"] if n != "code"][:5]
    repeated = ",".join(names * (2500 // len(",".join(names))))  # commas are sent as %2C
    resp = session.get(
        f"{served}/collections/zones/items", params={"f": "json", "limit": "3", "properties": repeated}, timeout=60
    )
    assert resp.status_code == 200, resp.text[:300]
    assert all(set(f["properties"]) == set(names) for f in resp.json()["features"])
    resp = session.get(
        f"{served}/collections/zones/items", params={"f": "json", "limit": "3", "sortby": repeated}, timeout=60
    )
    assert resp.status_code == 200, resp.text[:300]


@pytest.mark.parametrize(
    "datetime_",
    [
        "1" * 4000,
        "1" * 4000 + "/..",
        "../" + "2" * 4000,
        "20211020",
        "2021-10-20T",
        "2021-10-20/2021-10-21/2021-10-22",
        "/",
        "tomorrow",
        "2021-10-20 garbage",
    ],
)
@pytest.mark.parametrize("cid", ["zones-history", "zones", "areas"])
def test_unreadable_datetimes_are_400(served, session, cid, datetime_):
    resp = session.get(f"{served}/collections/{cid}/items", params={"f": "json", "datetime": datetime_}, timeout=30)
    assert resp.status_code == 400 and problem(resp) is None and "datetime" in message_of(resp)


def nested(depth: int, kind: str):
    """A JSON value `depth` arrays or objects deep."""
    text = "1"
    for _ in range(depth):
        text = f"[{text}]" if kind == "array" else f'{{"a": {text}}}'
    return text


@pytest.mark.parametrize("process", ["zone-at-point", "route-risk"])
@pytest.mark.parametrize("depth", [40, 1000, 100_000])
@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("where", ["body", "input"])
def test_deeply_nested_process_bodies_are_400(served, session, process, depth, kind, where):
    body = nested(depth, kind) if where == "body" else f'{{"inputs": {{"lon": {nested(depth, kind)}}}}}'
    resp = session.post(
        f"{served}/processes/{process}/execution", data=body, headers={"Content-Type": "application/json"}, timeout=60
    )
    assert resp.status_code == 400 and problem(resp) is None, resp.text[:300]
    assert "nested" in message_of(resp) or where == "body" and depth < 50


@pytest.mark.parametrize("lang", ["vi", "en", "fr"])
def test_html_pages_of_every_audience_in_every_language(served, session, audiences, lang):
    """Each audience's pages come from its own config, whichever audience rendered a language first (pygeoapi cached
    one per language for the whole process: the analyst's pages of restricted collections were 500s)."""
    analyst = audiences[RESTRICTED[0]]
    for headers, cids in [({}, PUBLIC), (analyst, PUBLIC + RESTRICTED), ({}, PUBLIC)]:
        for cid in cids:
            for path in (f"/collections/{cid}", f"/collections/{cid}/items?limit=2", f"/collections/{cid}/queryables"):
                resp = session.get(f"{served}{path}", params={"f": "html", "lang": lang}, headers=headers, timeout=60)
                assert resp.status_code == 200, (path, bool(headers), resp.status_code)
        if not headers:
            pages = session.get(f"{served}/collections", params={"f": "html", "lang": lang}, timeout=30).text
            assert not [cid for cid in RESTRICTED if f"/collections/{cid}" in pages]
