"""Our pygeoapi provider on its own: no count when the page tells the total, counts cached per data version,
CRS84 spatial CQL, typed property filters, deep pages that are the same rows as a full read, a statement timeout on
every connection, items by id."""

import pytest
from pygeoapi.provider.base import ProviderInvalidQueryError, ProviderItemNotFoundError
from pygeoapi.util import modify_pygeofilter
from pygeofilter.parsers.ecql import parse
from serve_support import TAN_PHONG, filled  # noqa: F401
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from gis.serve.provider import MAX_OFFSET, PostgreSQLProvider, QueryTooSlow
from gis.serve.tiles import MVTProvider

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def definition(db_url: str, **data) -> dict:
    url = make_url(db_url)
    return {
        "name": "gis.serve.provider.PostgreSQLProvider",
        "type": "feature",
        "table": "zones",
        "id_field": "code",
        "geom_field": "geom",
        "storage_crs": CRS84,
        "data": {
            "host": url.host,
            "port": url.port,
            "dbname": url.database,
            "user": "covidgis_public",
            "password": "",
            "search_path": ["pub", "public"],
            **data,
        },
    }


@pytest.fixture(scope="module")
def provider(filled, db_url):
    """The zones provider, reading the data version on every query (so a new snapshot shows at once)."""
    return PostgreSQLProvider(definition(db_url, version_ttl_seconds=0))


@pytest.fixture
def counts(provider):
    seen = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        if "count(*)" in statement:
            seen.append(statement)

    event.listen(provider._engine, "before_cursor_execute", spy)
    yield seen
    event.remove(provider._engine, "before_cursor_execute", spy)


def test_last_page_needs_no_count(provider, counts):
    page = provider.query(limit=5000)
    assert page["numberMatched"] == page["numberReturned"] > 1900
    tail = provider.query(offset=1900, limit=2000)
    assert tail["numberMatched"] == 1900 + tail["numberReturned"]
    assert counts == []


def test_first_page_counts_once_per_filter_and_version(provider, counts, filled):
    first = provider.query(limit=10, properties=[("admin_level", "4")])
    again = provider.query(limit=10, offset=10, properties=[("admin_level", "4")])
    assert first["numberMatched"] == again["numberMatched"] == 1735
    assert len(counts) == 1
    provider.query(limit=10, properties=[("admin_level", "3")])
    assert len(counts) == 2
    with filled.begin() as conn:
        conn.exec_driver_sql("UPDATE risk.snapshot SET version = version + 1")
    provider.query(limit=10, properties=[("admin_level", "4")])
    assert len(counts) == 3, "a new snapshot counts again"


def test_spatial_cql_with_crs84_storage(provider):
    ast = modify_pygeofilter(
        parse("INTERSECTS(geom, POINT(106.82 10.975)) AND admin_level = 3"),
        filter_crs_uri=CRS84,
        storage_crs_uri=CRS84,
        geometry_column_name="geom",
    )
    assert [f["id"] for f in provider.query(filterq=ast)["features"]] == [TAN_PHONG]


def test_property_values_are_typed(provider):
    with pytest.raises(ProviderInvalidQueryError, match="admin_level"):
        provider.query(properties=[("admin_level", "three")])
    with pytest.raises(ProviderInvalidQueryError, match="datetime"):
        provider._get_datetime_filter("2021-10-20")  # zones has no time field


def by(*names: str) -> list[dict]:
    return [{"property": n.lstrip("-"), "order": "-" if n.startswith("-") else "+"} for n in names]


@pytest.mark.parametrize(
    "sortby",
    [
        [],
        by("-level"),
        by("name"),
        by("admin_level", "-colour"),
        by("parent_code"),
        by("-parent_code", "level"),
        by("-code"),
        by("level", "-level", "level"),
        by("details_suppressed", "-day", "code"),
    ],
)
def test_deep_pages_are_the_rows_of_a_full_read(provider, sortby):
    everything = [f["id"] for f in provider.query(limit=5000, sortby=sortby, skip_geometry=True)["features"]]
    assert len(everything) == len(set(everything)) > 1900
    for offset, limit in [
        (1, 10),
        (999, 100),
        (1900, 50),
        (len(everything) - 1, 10),
        (len(everything), 10),
        (len(everything) + 500, 10),
    ]:
        page = provider.query(offset=offset, limit=limit, sortby=sortby)
        assert [f["id"] for f in page["features"]] == everything[offset : offset + limit], offset
        assert page["numberMatched"] == len(everything)
        assert all(f["geometry"]["type"].endswith("Polygon") for f in page["features"])


def test_offsets_beyond_the_deepest_page_are_refused(provider):
    assert provider.query(offset=MAX_OFFSET, limit=1)["features"] == []
    with pytest.raises(ProviderInvalidQueryError, match="narrow"):
        provider.query(offset=MAX_OFFSET + 1, limit=1)


@pytest.mark.parametrize("make", [PostgreSQLProvider, MVTProvider])
def test_every_connection_has_the_statement_timeout(filled, db_url, make):
    tiles = {"options": {"zoom": {"min": 0, "max": 18}}, "format": {"name": "pbf", "mimetype": "application/x-pbf"}}
    extra = tiles if make is MVTProvider else {}
    default = make({**definition(db_url), **extra})
    quick = make({**definition(db_url, statement_timeout_seconds="0.25"), **extra})
    with Session(default._engine) as session:
        assert session.execute(text("SHOW statement_timeout")).scalar() == "10s"
    with Session(quick._engine) as session:
        assert session.execute(text("SHOW statement_timeout")).scalar() == "250ms"
        with pytest.raises(QueryTooSlow, match="narrow") as raised:
            PostgreSQLProvider._run(session, text("SELECT pg_sleep(5)"))
    assert raised.value.http_status_code == 503


def test_items_by_id(provider):
    item = provider.get(TAN_PHONG)
    assert item["id"] == TAN_PHONG and item["geometry"]["type"].endswith("Polygon")
    assert item["prev"] < TAN_PHONG < item["next"] and "code" not in item["properties"]
    for missing in ["nope", "\x00", TAN_PHONG + "\x00", "x" * 5000]:
        with pytest.raises(ProviderItemNotFoundError):
            provider.get(missing)


@pytest.mark.parametrize(
    "cql, word",
    [
        ("nonexistent = 1", "nonexistent"),
        ("decisive IS NULL", "decisive"),
        ("admin_level = 'NaN'", "admin_level"),
        ("name = 3", "name"),
        ("INTERSECTS(geom, POINT(1e400 0))", "finite"),
        ("geom = 'x'", "geom"),
    ],
)
def test_cql_names_what_is_wrong(provider, cql, word):
    with pytest.raises(ProviderInvalidQueryError, match=word):
        provider.query(filterq=parse(cql))


def test_properties_named_thousands_of_times_are_selected_once(provider):
    """PostgreSQL takes at most 1,664 columns: 2,000 names were a 'database not reachable' 503."""
    names = ["name", "level", "colour", "day", "admin_level"]
    page = provider.query(limit=3, select_properties=names * 400, sortby=[{"property": "level", "order": "-"}] * 2000)
    assert [set(f["properties"]) for f in page["features"]] == [set(names)] * 3


def test_next_pages_start_from_the_remembered_key(provider):
    """Following next links, a page reads only the rows after the last one served: no search for its start."""
    statements = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    seen, offset = [], 0
    event.listen(provider._engine, "before_cursor_execute", spy)
    try:
        while True:
            page = provider.query(offset=offset, limit=400, properties=[("admin_level", "4")], skip_geometry=True)
            seen += [f["id"] for f in page["features"]]
            offset += 400
            if len(page["features"]) < 400:
                break
    finally:
        event.remove(provider._engine, "before_cursor_execute", spy)
    assert len(seen) == len(set(seen)) == 1735 and seen == sorted(seen)
    assert not [s for s in statements if "OFFSET" in s.upper()], "every page after the first started from its key"
