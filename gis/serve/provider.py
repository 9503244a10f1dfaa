"""pygeoapi's PostgreSQL provider, fixed for serving (referenced by dotted path in pygeoapi-config.yml).

What changes against pygeoapi.provider.sql.PostgreSQLProvider:
- GeoJSON geometry is written by PostGIS (ST_AsGeoJSON) instead of WKB → shapely → mapping per feature; for a plain
  GeoJSON page (no CQL, sortby, properties, skipGeometry or crs: gis/serve/fastjson.py) the whole feature is, and its
  text goes into the response without a dict per feature;
- numberMatched without a count per request: one row more than the page tells whether the page is the last one
  (then the total is known), otherwise the count is cached per filter and data version (gis/serve/version.py);
  providers with `count: exact` (restricted ones, whose data the version does not track) count every time;
- a deep page costs no more than the first one: keyset paging behind the numbered `next` links QGIS, GDAL and
  OWSLib follow (see `_page`); offsets beyond MAX_OFFSET are a 400 that says to narrow the request;
- every connection has a statement timeout (`statement_timeout_seconds` in the provider's `data`); a slower query is
  a 503 that says so, never a hang;
- the storage SRID is an integer worked out once (no pyproj per request) and bbox uses it;
- spatial CQL with a CRS84 storage CRS works (pygeofilter would send `SRID=CRS84` to PostGIS);
- filters, query parameters and sortby name properties the collection has and can compare (not JSON objects or
  lists); an unknown or unusable one, a value of the wrong type or a geometry that is not finite is a 400 naming it,
  in our words, never the database's (pygeoapi ignores unknown query parameters, and pygeofilter compares an
  unknown CQL property as a constant string, so both answered 200 with nothing);
- a collection with `change_feed: true` (zones) answers our extension `changed-since=V`: the features whose level or
  colour changed after snapshot version V (pub.zone_changes, written by gis/risk/changes.py), and says in
  `snapshotVersion` which version every response of it is at least as new as; V not an integer is a 400, V older
  than the oldest kept a 410 naming it, V at or after the current version an empty collection.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import math
import re
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from http import HTTPStatus

from cachetools import LRUCache
from geoalchemy2.functions import ST_Intersects, ST_MakeEnvelope
from pygeoapi.provider.base import (
    ProviderConnectionError,
    ProviderInvalidQueryError,
    ProviderItemNotFoundError,
    ProviderQueryError,
)
from pygeoapi.provider.sql import PostgreSQLProvider as _PygeoapiPostgreSQLProvider
from pygeofilter import ast, values
from pygeofilter.backends.sqlalchemy.filters import function_map
from sqlalchemy import (
    JSON,
    ColumnElement,
    Engine,
    Row,
    Text,
    and_,
    column,
    false,
    func,
    literal,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from gis.serve import fastjson
from gis.serve.version import DataVersion

LOG = logging.getLogger(__name__)

CRS84_NAMES = ("CRS84", "OGC::CRS84", "OGC/1.3/CRS84", "OGC/0/CRS84")
GEOJSON_DECIMALS = 7  # ~1 cm at the equator
# The deepest page served. Paging through more than a million features is a download, not a map: narrow it.
MAX_OFFSET = 1_000_000
# PostgreSQL's FUNC_MAX_ARGS: json_build_object takes a name and a value per property; wider rows take the usual path.
MAX_FUNCTION_ARGS = 100
MAX_FILTER_DEPTH = 100  # nesting of a CQL filter; deeper ones would exhaust Python's recursion translating them
# ServeSettings.statement_timeout_seconds reaches providers as `statement_timeout_seconds` in their `data`.
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 10.0
# How long a provider reuses the data version (`version_ttl_seconds` in its `data`), as the server's cache does.
DEFAULT_VERSION_TTL_SECONDS = 1.0
SHOWN_CHARS = 40  # a value echoed in a message is cut to this
JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    Decimal: "number",
    dict: "object",
    list: "array",
    str: "string",
}
COMPARABLE = {"boolean", "integer", "number", "string"}  # JSON objects and lists cannot be filtered or sorted by
KIND_WORDS = {
    bool: "true or false",
    int: "an integer",
    float: "a number",
    Decimal: "a number",
    str: "text in quotes",
    dt.date: "a date (YYYY-MM-DD)",
    dt.datetime: "a date and time (RFC 3339)",
}
SPATIAL_PREDICATES = (ast.SpatialComparisonPredicate, ast.Relate, ast.SpatialDistancePredicate, ast.BBox)
TYPED_PREDICATES = (ast.Comparison, ast.Between, ast.In, ast.Like)
LITERALS = tuple(t for t in values.LITERALS if t is not list)
MISMATCHED_TYPES = {"42725", "42804", "42883"}  # ambiguous or undefined function or operator, datatype mismatch
# The change feed (layers/_zone_changes.sql): codes per snapshot version, and the versions it answers.
CHANGED_SINCE = "changed-since"
ZONE_CHANGES = table("zone_changes", column("version"), column("code"), schema="pub")
ZONE_FEED = table("zone_feed", column("oldest_version"), column("current_version"), schema="pub")
VERSION_TEXT = re.compile(r"[0-9]{1,18}")


class DatabaseUnavailable(ProviderConnectionError):
    """The database did not answer: a 503, so clients retry."""

    http_status_code = HTTPStatus.SERVICE_UNAVAILABLE


class ChangesGone(ProviderQueryError):
    """changed-since names a version older than the changes kept: a 410 naming the oldest one kept."""

    http_status_code = HTTPStatus.GONE
    ogc_exception_code = "Gone"


class QueryTooSlow(ProviderQueryError):
    """A query ran into the statement timeout: a 503 that says how to ask for less."""

    http_status_code = HTTPStatus.SERVICE_UNAVAILABLE
    ogc_exception_code = "ServiceUnavailable"


def storage_srid(storage_crs: str) -> int:
    """EPSG code of a storage CRS URI; CRS84 is 4326 (PostGIS stores lon/lat either way)."""
    if storage_crs.rstrip("/").endswith(CRS84_NAMES) or storage_crs.endswith("CRS84"):
        return 4326
    code = storage_crs.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    if not code.isdigit():
        raise ProviderConnectionError(f"storage_crs {storage_crs!r}: expected an EPSG code or CRS84")
    return int(code)


def with_statement_timeout(provider_def: dict) -> dict:
    """The provider definition with a statement timeout among its connection options (pygeoapi hands the scalar
    `options` to psycopg2), so no query of a request holds a connection longer than the server allows."""
    seconds = float(provider_def["data"].get("statement_timeout_seconds", DEFAULT_STATEMENT_TIMEOUT_SECONDS))
    # JIT compiles a plan per query: on these views it cost more than it saved (a day's page 0.27 s → 1.3 s).
    timeout = f"-c statement_timeout={max(1, round(seconds * 1000))} -c jit=off"
    return {**provider_def, "options": {**(provider_def.get("options") or {}), "options": timeout}}


@contextmanager
def database_errors():
    """Database errors in our words: the driver's text names SQL types and echoes values, so it only goes to the log
    (cut short); a statement timeout is a 503 saying how to ask for less, a lost database a 503."""
    try:
        yield
    except DBAPIError as exc:
        orig = getattr(exc, "orig", None)
        code = getattr(orig, "pgcode", None) or ""
        LOG.warning("query refused (%s): %.300s", code or type(exc).__name__, str(orig or exc).strip().split("\n")[0])
        if code == "57014":  # query_canceled: the statement timeout
            raise QueryTooSlow(
                user_msg="the query took longer than the server allows one request: narrow it with "
                "bbox, datetime or property filters, or ask for fewer items (limit)"
            ) from exc
        if code.startswith("54"):  # program_limit_exceeded: too many columns, too deep an expression
            raise ProviderInvalidQueryError(
                user_msg="the request is too large: name fewer properties or write a shorter filter"
            ) from exc
        if isinstance(exc, OperationalError):
            raise DatabaseUnavailable(user_msg="the database is not reachable") from exc
        if code.startswith("22"):  # data_exception: a value the column's type cannot hold
            raise ProviderInvalidQueryError(
                user_msg="a value in the request does not fit the property it is "
                "compared with (the collection's queryables give the types)"
            ) from exc
        if code in MISMATCHED_TYPES:
            raise ProviderInvalidQueryError(
                user_msg="the filter compares values of different types: compare text "
                "with 'quoted text', numbers with numbers, dates with "
                "'YYYY-MM-DD'"
            ) from exc
        raise
    except ValueError as exc:  # psycopg2 refuses some values before sending them
        LOG.warning("value refused by the driver: %.300s", exc)
        raise ProviderInvalidQueryError(
            user_msg="a value in the request holds a NUL character, which no property can hold"
        ) from exc


class PostgreSQLProvider(_PygeoapiPostgreSQLProvider):
    """PostgreSQL/PostGIS features for pygeoapi, fast enough to serve QGIS and the public (see module docstring)."""

    def __init__(self, provider_def: dict):
        # pygeoapi passes every query parameter that is not its own to the provider, which refuses unknown ones.
        super().__init__({**with_statement_timeout(provider_def), "include_extra_query_parameters": True})
        self.srid = storage_srid(self.storage_crs)
        self.count_mode = provider_def.get("count", "cached")
        self.version_ttl = float(provider_def["data"].get("version_ttl_seconds", DEFAULT_VERSION_TTL_SECONDS))
        self.change_feed = bool(provider_def.get("change_feed", False))

    def get_fields(self):
        """JSON-schema types of the columns (dates, JSON and booleans included, without a warning per request)."""
        if not self._fields:
            for column in self.table_model.__table__.columns:
                if column.name != self.geom:
                    self._fields[column.name] = json_schema(column.type)
        return self._fields

    def _column(self, name: str, use: str = "filter by"):
        """The column of a property the caller may filter or sort by; otherwise a 400 naming it and the usable ones."""
        kind = self.fields.get(name, {}).get("type") if not self.properties or name in self.properties else None
        if kind in COMPARABLE:
            return self.table_model.__table__.c[name]
        usable = ", ".join(
            n
            for n, f in self.fields.items()
            if f["type"] in COMPARABLE and (not self.properties or n in self.properties)
        )
        if name == self.geom:
            reason = f"{name} is the geometry: filter it with bbox or a spatial filter (INTERSECTS, WITHIN, BBOX…)"
        elif kind is None:
            reason = f"{shown(name)} is not a property of this collection"
        else:
            reason = f"{name} holds {'a list' if kind == 'array' else 'JSON'}, which you cannot {use}"
        raise ProviderInvalidQueryError(user_msg=f"{reason}; you can {use}: {usable}")

    # --- filters --------------------------------------------------------------------------------------------
    def _get_bbox_filter(self, bbox):
        if not bbox:
            return True
        if len(bbox) == 6:  # 3-D bbox: PostGIS envelopes are 2-D
            bbox = [bbox[0], bbox[1], bbox[3], bbox[4]]
        return ST_Intersects(ST_MakeEnvelope(*bbox, self.srid), getattr(self.table_model, self.geom))

    def _get_cql_filters(self, filterq):
        if not filterq:
            return True
        self._check_filter(filterq)
        try:
            return super()._get_cql_filters(filterq)
        except (AttributeError, KeyError, TypeError, ValueError, NotImplementedError) as exc:
            LOG.warning("CQL filter not translated: %.300r", exc)
            raise ProviderInvalidQueryError(
                user_msg="the filter cannot be applied to this collection: use its "
                "properties with comparisons, LIKE, IN, BETWEEN, IS NULL and "
                f"spatial predicates on {self.geom}"
            ) from None

    def _check_filter(self, root) -> None:
        """Refuse, naming the property, what PostgreSQL would refuse or answer with nothing (pygeofilter turns an
        unknown property into a constant string); label CRS84 geometries EPSG:4326 (pygeoapi labels them with the
        storage CRS, which PostGIS cannot read)."""
        pending = [(root, "value", 1)]  # node, what an attribute in it may be (value, spatial, null), depth
        while pending:
            node, context, depth = pending.pop()
            if depth > MAX_FILTER_DEPTH:
                raise ProviderInvalidQueryError(
                    user_msg=f"the filter is nested more than {MAX_FILTER_DEPTH} levels "
                    "deep: write it with IN lists or fewer parentheses"
                )
            if isinstance(node, ast.Attribute):
                self._check_attribute(node.name, context)
            elif isinstance(node, values.Geometry):
                name = node.geometry.get("crs", {}).get("properties", {}).get("name", "")
                if name.endswith("CRS84"):
                    node.geometry["crs"] = {"properties": {"name": "urn:ogc:def:crs:EPSG::4326"}}
                _require_finite(node.geometry.get("coordinates", node.geometry.get("geometries")))
            elif isinstance(node, values.Envelope):
                _require_finite([node.x1, node.y1, node.x2, node.y2])
            elif isinstance(node, ast.BBox):
                _require_finite([node.minx, node.miny, node.maxx, node.maxy])
            elif isinstance(node, ast.SpatialDistancePredicate):
                _require_finite([node.distance])
            elif isinstance(node, ast.Function) and node.name not in function_map:
                raise ProviderInvalidQueryError(
                    user_msg=f"{shown(node.name)}(): not a function this server knows ({', '.join(function_map)})"
                )
            elif isinstance(node, TYPED_PREDICATES) and isinstance(node.lhs, ast.Attribute):
                column = self._column(node.lhs.name)
                if isinstance(node, ast.Like) and python_type(column) is not str:
                    raise ProviderInvalidQueryError(
                        user_msg=f"{node.lhs.name}: LIKE compares text, and this property is not text"
                    )
                for operand in node.get_sub_nodes()[1:]:
                    if isinstance(operand, LITERALS):
                        _typed(column, node.lhs.name, operand)
            if isinstance(node, ast.Node):
                inner = (
                    "spatial"
                    if isinstance(node, SPATIAL_PREDICATES)
                    else "null"
                    if isinstance(node, ast.IsNull)
                    else "value"
                )
                pending.extend((child, inner, depth + 1) for child in node.get_sub_nodes())
            elif isinstance(node, list):
                pending.extend((child, context, depth + 1) for child in node)

    def _check_attribute(self, name: str, context: str) -> None:
        """A property named in a filter: the geometry in spatial predicates (and IS NULL), any other where values
        are compared."""
        if context == "spatial" and name != self.geom:
            raise ProviderInvalidQueryError(
                user_msg=f"{shown(name)}: spatial predicates compare the geometry, {self.geom}"
            )
        if name != self.geom or context == "value":
            self._column(name)

    def _get_property_filters(self, properties):
        if not properties:
            return True
        clauses = []
        for name, value in properties:
            column = self._column(name)
            clauses.append(column == _typed(column, name, value))
        return and_(*clauses)

    def _get_datetime_filter(self, datetime_):
        if datetime_ in (None, "../.."):
            return True
        if self.time_field is None:
            raise ProviderInvalidQueryError(user_msg="this collection has no time: drop the datetime parameter")
        column = self.table_model.__table__.c[self.time_field]
        if "/" in datetime_:
            begin, end = (
                _typed(column, "datetime", part) if part not in ("..", "") else None for part in datetime_.split("/", 1)
            )
            if begin is not None and end is not None:
                return column.between(begin, end)
            return column >= begin if begin is not None else (column <= end if end is not None else true())
        return column == _typed(column, "datetime", datetime_)

    def _order(self, sortby: list[dict]) -> list[tuple]:
        """(column, descending) of the requested order, then the id, so that pages never overlap or skip rows."""
        named = {s["property"]: s["order"] == "-" for s in reversed(sortby)}  # a property named twice: its first
        order = [(self._column(name, "sort by"), named[name]) for name in dict.fromkeys(s["property"] for s in sortby)]
        if self.id_field not in named:
            order.append((self.table_model.__table__.c[self.id_field], False))
        return order

    # --- queries ---------------------------------------------------------------------------------------------
    def query(
        self,
        offset=0,
        limit=10,
        resulttype="results",
        bbox=None,
        datetime_=None,
        properties=None,
        sortby=None,
        select_properties=None,
        skip_geometry=False,
        q=None,
        filterq=None,
        crs_transform_spec=None,
        **kwargs,
    ):
        if offset > MAX_OFFSET:
            raise ProviderInvalidQueryError(
                user_msg=f"offset: at most {MAX_OFFSET:,} (the deepest page served); narrow the request with "
                "datetime, bbox or property filters instead"
            )
        properties, since = self._changed_since(properties or [])
        where = and_(
            true(),
            self._get_property_filters(properties),
            self._get_cql_filters(filterq),
            self._get_bbox_filter(bbox or []),
            self._get_datetime_filter(datetime_),
        )
        order = self._order(sortby or [])
        filters: tuple = (tuple(properties), tuple(bbox or ()), datetime_, repr(filterq))
        response = {"type": "FeatureCollection", "features": [], "numberMatched": 0, "numberReturned": 0}
        with self._session() as session:
            if self.change_feed:  # read first: the rows read next are at least as new as the version it says
                changes, feed = self._changes(session, since)
                where = and_(where, changes)
                filters = (*filters, since, feed["snapshotVersion"])
                response.update(feed)
            # What a count or a page position holds for: this collection, its data version, these filters.
            scope = functools.cache(lambda: (self.table, self._version(), *filters))
            if resulttype == "hits":
                response["numberMatched"] = self._count(session, where, scope)
                return response
            prebuilt = fastjson.enabled() and not (
                select_properties or skip_geometry or sortby or filterq is not None or crs_transform_spec is not None
            )
            columns = self._columns(select_properties, skip_geometry)
            if prebuilt:
                prebuilt = 2 * len(columns) <= MAX_FUNCTION_ARGS
                if prebuilt:
                    columns = [columns[0], _feature_text(columns).label("__feature")]
            rows = self._page(session, columns, where, order, offset, limit, scope)
            more = len(rows) > limit
            rows = rows[:limit]
            if not more and (rows or offset == 0):
                matched = offset + len(rows)
            else:
                matched = self._count(session, where, scope)
        features: list = (
            fastjson.offer(",".join(row[1] for row in rows), len(rows))  # (__id, __feature, keys)
            if prebuilt
            else self._features(rows, crs_transform_spec)
        )
        response.update(features=features, numberMatched=matched, numberReturned=len(features))
        return response

    def _changed_since(self, properties: list) -> tuple[list, int | None]:
        """The query parameters without changed-since, and its version (None when not asked for); a 400 unless it is
        a whole number and the collection has a change feed."""
        given = [value for name, value in properties if name == CHANGED_SINCE]
        if not given:
            return properties, None
        if not self.change_feed:
            raise ProviderInvalidQueryError(user_msg=f"{CHANGED_SINCE}: only the zones collection has a change feed")
        value = str(given[-1]).strip()
        if not VERSION_TEXT.fullmatch(value):
            raise ProviderInvalidQueryError(
                user_msg=f"{CHANGED_SINCE}: {shown(value)} is not a snapshot version (a whole number, as "
                "snapshotVersion gives it)"
            )
        return [(name, v) for name, v in properties if name != CHANGED_SINCE], int(value)

    def _changes(self, session: Session, since: int | None) -> tuple[ColumnElement[bool], dict]:
        """The condition for changed-since=`since` (none when None) and the members it adds to the response; a 410
        when the changes after `since` are no longer all kept."""
        feed = self._run(session, select(ZONE_FEED.c.oldest_version, ZONE_FEED.c.current_version))
        oldest, current = (int(v) for v in feed[0]) if feed else (0, 0)
        if since is None:
            return true(), {"snapshotVersion": current}
        if since < oldest:
            raise ChangesGone(
                user_msg=f"{CHANGED_SINCE}={since}: the oldest version whose changes are kept is {oldest} (the "
                f"current one is {current}); read the whole collection again and ask from its snapshotVersion"
            )
        members = {"snapshotVersion": current, "changedSince": since, "oldestVersion": oldest}
        if since >= current:
            return false(), members
        codes = select(ZONE_CHANGES.c.code).where(ZONE_CHANGES.c.version > since, ZONE_CHANGES.c.version <= current)
        return self.table_model.__table__.c[self.id_field].in_(codes), members

    def get(self, identifier, crs_transform_spec=None, **kwargs):
        """One feature by id, with the ids before and after it (pygeoapi's item links)."""
        id_column = self.table_model.__table__.c[self.id_field]
        try:
            key = _typed(id_column, self.id_field, identifier)
        except ProviderInvalidQueryError:
            key = None
        if key is None or "\x00" in str(key):
            raise ProviderItemNotFoundError(user_msg=f"no such item: {shown(identifier)}")
        with self._session() as session:
            rows = self._run(session, select(*self._columns()).where(id_column == key))
            if not rows:
                raise ProviderItemNotFoundError(user_msg=f"no such item: {shown(identifier)}")
            neighbours = select(
                select(func.max(id_column)).where(id_column < key).scalar_subquery(),
                select(func.min(id_column)).where(id_column > key).scalar_subquery(),
            )
            prev, next_ = self._run(session, neighbours)[0]
        feature = self._features(rows, crs_transform_spec)[0]
        return {**feature, "prev": identifier if prev is None else prev, "next": identifier if next_ is None else next_}

    def _columns(self, select_properties=None, skip_geometry=False) -> list:
        """The id as `__id`, the asked-for properties once each, and the geometry as GeoJSON text as `__geom`."""
        table = self.table_model.__table__
        names = [n for n in dict.fromkeys(select_properties or self.fields) if n in table.c and n != self.geom]
        if self.properties:
            names = [n for n in names if n in self.properties]
        columns = [table.c[self.id_field].label("__id"), *(table.c[n] for n in names if n != self.id_field)]
        if self.geom in table.c and not skip_geometry:
            columns.append(func.ST_AsGeoJSON(table.c[self.geom], GEOJSON_DECIMALS).label("__geom"))
        return columns

    def _page(
        self, session: Session, columns: list, where, order: list[tuple], offset: int, limit: int, scope
    ) -> Sequence[Row]:
        """A page of rows (and one more, if there is one), by keyset. PostgreSQL computes every output column of the
        rows an OFFSET skips (a view's masking expressions, the GeoJSON: 19.6 s at offset 350,000 of zones-history),
        so a page beyond the first reads the rows after the sort key of the row before it: remembered from the page
        before when a client follows `next` links, otherwise read with the sort columns only."""
        clauses = [column.desc() if descending else column.asc() for column, descending in order]
        keys = [column.label(f"__key{i}") for i, (column, _) in enumerate(order)]
        stmt = select(*columns, *keys).where(where).order_by(*clauses).limit(limit + 1)
        positions = tuple((column.name, descending) for column, descending in order)
        if offset:
            with _LOCK:
                start = _PAGE_KEYS.get((*scope(), positions, offset))
            if start is None:
                found = self._run(
                    session,
                    select(*(column for column, _ in order))
                    .where(where)
                    .order_by(*clauses)
                    .offset(offset - 1)
                    .limit(1),
                )
                if not found:
                    return []
                start = tuple(found[0])
            stmt = stmt.where(_after(order, start))
        rows = self._run(session, stmt)
        if limit and len(rows) > limit:  # where the next page starts
            with _LOCK:
                _PAGE_KEYS[(*scope(), positions, offset + limit)] = tuple(rows[limit - 1][-len(order) :])
        return rows

    def _features(self, rows: Sequence[Row], crs_transform_spec=None) -> list[dict]:
        features = []
        for row in rows:
            props = {name: value for name, value in row._mapping.items() if not name.startswith("__key")}
            ident = props.pop("__id")
            geom = props.pop("__geom", None)
            features.append(
                {"type": "Feature", "id": ident, "geometry": json.loads(geom) if geom else None, "properties": props}
            )
        if crs_transform_spec is not None:
            transform = self._get_crs_transform(crs_transform_spec)
            for feature in features:
                if feature["geometry"]:
                    feature["geometry"] = _transformed(feature["geometry"], transform)
        return features

    def _session(self) -> Session:
        return Session(self._engine)

    @staticmethod
    def _run(session: Session, stmt) -> Sequence[Row]:
        with database_errors():
            return session.execute(stmt).all()

    def _version(self) -> str | None:
        """The data version counts and page positions hold for; None for `count: exact` (not tracked)."""
        if self.count_mode == "exact":
            return None
        with database_errors():
            return _data_version(self._engine, self.version_ttl).current().tag

    def _count(self, session: Session, where, scope) -> int:
        count_stmt = select(func.count()).select_from(self.table_model.__table__).where(where)
        if self.count_mode == "exact":
            return self._run(session, count_stmt)[0][0]
        with _LOCK:
            matched = _COUNTS.get(scope())
        if matched is None:
            matched = self._run(session, count_stmt)[0][0]
            with _LOCK:
                _COUNTS[scope()] = matched
        return matched


# The server's threads share these (cachetools caches are not thread-safe: every use holds _LOCK).
_LOCK = threading.Lock()
_COUNTS: LRUCache[tuple, int] = LRUCache(2048)  # numberMatched per collection, data version and filters
# The sort key a page ends with, per scope, order and offset: next links need no search.
_PAGE_KEYS: LRUCache[tuple, tuple] = LRUCache(4096)


@functools.cache
def _data_version(engine: Engine, ttl_seconds: float) -> DataVersion:
    """The data version as read through a provider's engine: pygeoapi makes one engine per connection definition
    but a provider per request, so the memo lives here."""
    return DataVersion(engine, ttl_seconds)


def python_type(column) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def json_schema(column_type) -> dict:
    """A column type as JSON schema: what the queryables say and TileJSON's field types are made from."""
    if isinstance(column_type, JSON):  # python_type is `object` for JSON and JSONB
        return {"type": "object"}
    try:
        kind = column_type.python_type
    except NotImplementedError:
        return {"type": "string"}
    if kind is dt.datetime:
        return {"type": "string", "format": "date-time"}
    if kind is dt.date:
        return {"type": "string", "format": "date"}
    return {"type": JSON_TYPES.get(kind, "string")}


def shown(value) -> str:
    """A value for a message: repr, cut short (it came from the caller)."""
    shown = repr(value)
    return shown if len(shown) <= SHOWN_CHARS else shown[:SHOWN_CHARS] + "…"


def _typed(column, name: str, value):
    """A query value (text, or a CQL literal) as the column's Python type, or a 400 saying what was expected."""
    kind = python_type(column)
    if kind is None:  # a type without a Python one: PostgreSQL reads the value as given
        return value
    try:
        if kind is str:
            if not isinstance(value, str):
                raise ValueError(value)
            return value
        if kind is bool:
            lowered = str(value).lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError(value)
            return lowered in ("true", "1")
        if kind is dt.date:
            if isinstance(value, dt.date):
                return value if not isinstance(value, dt.datetime) else value.date()
            value_text = str(value)
            if len(value_text) <= 10:
                return dt.date.fromisoformat(value_text)
            return dt.datetime.fromisoformat(value_text).date()
        if kind is dt.datetime:
            if isinstance(value, dt.datetime):
                return value
            return dt.datetime.fromisoformat(str(value))
        if kind in (int, float, Decimal):
            if isinstance(value, bool):
                raise ValueError(value)
            number = kind(value)
            if kind is int and not -(2**63) <= number < 2**63 or kind is float and not math.isfinite(number):
                raise ValueError(value)
            return number
    except (TypeError, ValueError, OverflowError, InvalidOperation):
        raise ProviderInvalidQueryError(user_msg=f"{name}: {shown(value)} is not {KIND_WORDS[kind]}") from None
    return value


def _after(order: list[tuple], key) -> ColumnElement[bool]:
    """Rows after `key` in `order` (PostgreSQL's: NULLs last ascending, first descending); the last column, the id,
    is unique and never NULL."""

    def later(column, descending, value):
        if value is None:
            return column.isnot(None) if descending else false()
        value = literal(value, column.type)  # a bound value even for True/False
        return column < value if descending else or_(column > value, column.is_(None))

    def same(column, value):
        return column.is_(None) if value is None else column == literal(value, column.type)

    return or_(
        *(
            and_(*(same(c, v) for (c, _), v in zip(order[:i], key)), later(column, descending, key[i]))
            for i, (column, descending) in enumerate(order)
        )
    )


def _feature_text(columns: list) -> ColumnElement:
    """A GeoJSON Feature as JSON text written by PostgreSQL, as `_features` builds it from `columns` (`_columns`): the
    id, the properties by their names, the geometry as ST_AsGeoJSON wrote it (concatenated: not parsed again)."""
    by_name = {c.name: c for c in columns}
    props = [part for name, c in by_name.items() if name not in ("__id", "__geom") for part in (literal(name), c)]
    geometry = func.coalesce(by_name["__geom"].element, "null") if "__geom" in by_name else literal("null")
    return (
        literal('{"type":"Feature","id":', Text)
        + func.to_json(by_name["__id"].element).cast(Text)
        + literal(',"geometry":', Text)
        + geometry
        + literal(',"properties":', Text)
        + func.json_build_object(*props).cast(Text)
        + literal("}", Text)
    )


def _require_finite(coordinates) -> None:
    """Coordinates (nested lists of numbers) that PostGIS can read: 1e400 is infinite, and a 400."""
    pending = [coordinates]
    while pending:
        item = pending.pop()
        if isinstance(item, (list, tuple)):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.append(item.get("coordinates", item.get("geometries")))
        elif isinstance(item, (int, float)) and not math.isfinite(item):
            raise ProviderInvalidQueryError(
                user_msg="the filter's geometry has a coordinate that is not a finite number"
            )


def _transformed(geometry: dict, transform) -> dict:
    import shapely.geometry

    return shapely.geometry.mapping(transform(shapely.geometry.shape(geometry)))
