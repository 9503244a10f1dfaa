"""Our pygeoapi provider on its own: no count when the page tells the total, counts cached per data version,
CRS84 spatial CQL, typed property filters."""

import pytest
from pygeoapi.provider.base import ProviderInvalidQueryError
from pygeofilter.parsers.ecql import parse
from pygeoapi.util import modify_pygeofilter
from sqlalchemy import event
from sqlalchemy.engine import make_url

from serve_support import TAN_PHONG, filled  # noqa: F401
from gis.serve.provider import PostgreSQLProvider

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


@pytest.fixture(scope="module")
def provider(filled, db_url):
    url = make_url(db_url)
    return PostgreSQLProvider({
        "name": "gis.serve.provider.PostgreSQLProvider", "type": "feature", "table": "zones", "id_field": "code",
        "geom_field": "geom", "storage_crs": CRS84,
        "data": {"host": url.host, "port": url.port, "dbname": url.database, "user": "covidgis_public",
                 "password": "", "search_path": ["pub", "public"]}})


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
    ast = modify_pygeofilter(parse("INTERSECTS(geom, POINT(106.82 10.975)) AND admin_level = 3"),
                             filter_crs_uri=CRS84, storage_crs_uri=CRS84, geometry_column_name="geom")
    assert [f["id"] for f in provider.query(filterq=ast)["features"]] == [TAN_PHONG]


def test_property_values_are_typed(provider):
    with pytest.raises(ProviderInvalidQueryError, match="admin_level"):
        provider.query(properties=[("admin_level", "three")])
    with pytest.raises(ProviderInvalidQueryError, match="datetime"):
        provider._get_datetime_filter("2021-10-20")  # zones has no time field
