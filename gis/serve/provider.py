"""pygeoapi's PostgreSQL provider, fixed for serving (referenced by dotted path in pygeoapi-config.yml).

What changes against pygeoapi.provider.sql.PostgreSQLProvider:
- GeoJSON geometry is written by PostGIS (ST_AsGeoJSON) instead of WKB → shapely → mapping per feature;
- numberMatched without a count per request: one row more than the page tells whether the page is the last one
  (then the total is known), otherwise the count is cached per filter and data version (pub.data_version);
  providers with `count: exact` (restricted ones, whose data the version does not track) count every time;
- the storage SRID is an integer worked out once (no pyproj per request) and bbox uses it;
- spatial CQL with a CRS84 storage CRS works (pygeofilter would send `SRID=CRS84` to PostGIS);
- bad values (a text for an integer property, an impossible date) are 400s, not database errors.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from http import HTTPStatus
from collections import OrderedDict
from decimal import Decimal

from geoalchemy2.functions import ST_Intersects, ST_MakeEnvelope
from pygeoapi.provider.base import (ProviderConnectionError, ProviderInvalidQueryError,
                                    ProviderItemNotFoundError)
from pygeoapi.provider.sql import PostgreSQLProvider as _PygeoapiPostgreSQLProvider
from sqlalchemy import and_, func, select, text, true
from sqlalchemy.exc import DataError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

LOG = logging.getLogger(__name__)

CRS84_NAMES = ("CRS84", "OGC::CRS84", "OGC/1.3/CRS84", "OGC/0/CRS84")
GEOJSON_DECIMALS = 7  # ~1 cm at the equator
_COUNTS: OrderedDict[tuple, int] = OrderedDict()
_COUNTS_LOCK = threading.Lock()
_COUNTS_MAX = 2048
JSON_TYPES = {bool: "boolean", int: "integer", float: "number", Decimal: "number", dict: "object", list: "array",
              str: "string"}


class DatabaseUnavailable(ProviderConnectionError):
    """The database did not answer: a 503, so clients retry."""

    http_status_code = HTTPStatus.SERVICE_UNAVAILABLE


def storage_srid(storage_crs: str) -> int:
    """EPSG code of a storage CRS URI; CRS84 is 4326 (PostGIS stores lon/lat either way)."""
    if storage_crs.rstrip("/").endswith(CRS84_NAMES) or storage_crs.endswith("CRS84"):
        return 4326
    code = storage_crs.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    if not code.isdigit():
        raise ProviderConnectionError(f"storage_crs {storage_crs!r}: expected an EPSG code or CRS84")
    return int(code)


def crs84_as_epsg4326(node) -> None:
    """pygeoapi labels filter geometries with the storage CRS, which PostGIS cannot read for CRS84: relabel them."""
    geometry = getattr(node, "geometry", None)
    if isinstance(geometry, dict):
        name = geometry.get("crs", {}).get("properties", {}).get("name", "")
        if name.endswith("CRS84"):
            geometry["crs"] = {"properties": {"name": "urn:ogc:def:crs:EPSG::4326"}}
    try:
        children = node.get_sub_nodes()
    except AttributeError:
        children = node if isinstance(node, (list, tuple)) else []
    for child in children:
        crs84_as_epsg4326(child)


class PostgreSQLProvider(_PygeoapiPostgreSQLProvider):
    """PostgreSQL/PostGIS features for pygeoapi, fast enough to serve QGIS and the public (see module docstring)."""

    def __init__(self, provider_def: dict):
        super().__init__(provider_def)
        self.srid = storage_srid(self.storage_crs)
        self.count_mode = provider_def.get("count", "cached")

    def get_fields(self):
        """JSON-schema types of the columns (dates, JSON and booleans included, without a warning per request)."""
        if not self._fields:
            for column in self.table_model.__table__.columns:
                if column.name != self.geom:
                    self._fields[column.name] = _json_schema(column.type)
        return self._fields

    # --- filters --------------------------------------------------------------------------------------------
    def _get_bbox_filter(self, bbox):
        if not bbox:
            return True
        if len(bbox) == 6:  # 3-D bbox: PostGIS envelopes are 2-D
            bbox = [bbox[0], bbox[1], bbox[3], bbox[4]]
        return ST_Intersects(ST_MakeEnvelope(*bbox, self.srid), getattr(self.table_model, self.geom))

    def _get_cql_filters(self, filterq):
        if filterq:
            crs84_as_epsg4326(filterq)
        try:
            return super()._get_cql_filters(filterq)
        except (AttributeError, KeyError, TypeError, ValueError, NotImplementedError) as exc:
            raise ProviderInvalidQueryError(user_msg=f"the filter cannot be applied to this collection: {exc}")

    def _get_property_filters(self, properties):
        if not properties:
            return True
        table = self.table_model.__table__
        clauses = []
        for name, value in properties:
            column = table.c[name]
            clauses.append(column == _typed(column, name, value))
        return and_(*clauses)

    def _get_datetime_filter(self, datetime_):
        if datetime_ in (None, "../.."):
            return True
        if self.time_field is None:
            raise ProviderInvalidQueryError(user_msg="this collection has no time: drop the datetime parameter")
        column = self.table_model.__table__.c[self.time_field]
        if "/" in datetime_:
            begin, end = (_typed(column, "datetime", part) if part not in ("..", "") else None
                          for part in datetime_.split("/", 1))
            if begin is not None and end is not None:
                return column.between(begin, end)
            return column >= begin if begin is not None else (column <= end if end is not None else true())
        return column == _typed(column, "datetime", datetime_)

    # --- queries ---------------------------------------------------------------------------------------------
    def query(self, offset=0, limit=10, resulttype="results", bbox=None, datetime_=None, properties=None,
              sortby=None, select_properties=None, skip_geometry=False, q=None, filterq=None,
              crs_transform_spec=None, **kwargs):
        table = self.table_model.__table__
        where = and_(true(), self._get_property_filters(properties or []), self._get_cql_filters(filterq),
                     self._get_bbox_filter(bbox or []), self._get_datetime_filter(datetime_))
        response = {"type": "FeatureCollection", "features": [], "numberMatched": 0, "numberReturned": 0}
        with self._session() as session:
            if resulttype == "hits":
                response["numberMatched"] = self._count(session, where, (properties, bbox, datetime_, filterq))
                return response
            names = [n for n in (select_properties or self.fields.keys()) if n in table.c and n != self.geom]
            if self.properties:
                names = [n for n in names if n in self.properties]
            columns = [table.c[self.id_field].label("__id"), *(table.c[n] for n in names if n != self.id_field)]
            has_geom = self.geom in table.c and not skip_geometry
            if has_geom:
                columns.append(func.ST_AsGeoJSON(table.c[self.geom], GEOJSON_DECIMALS).label("__geom"))
            stmt = (select(*columns).where(where).order_by(*self._get_order_by_clauses(sortby or [], self.table_model))
                    .offset(offset).limit(limit + 1))
            rows = self._run(session, stmt)
            more = len(rows) > limit
            rows = rows[:limit]
            if not more and (rows or offset == 0):
                matched = offset + len(rows)
            else:
                matched = self._count(session, where, (properties, bbox, datetime_, filterq))
        features = []
        for row in rows:
            props = dict(row._mapping)
            ident = props.pop("__id")
            geom = props.pop("__geom", None)
            features.append({"type": "Feature", "id": ident,
                             "geometry": json.loads(geom) if geom else None, "properties": props})
        if crs_transform_spec is not None:
            transform = self._get_crs_transform(crs_transform_spec)
            for feature in features:
                if feature["geometry"]:
                    feature["geometry"] = _transformed(feature["geometry"], transform)
        response.update(features=features, numberMatched=matched, numberReturned=len(features))
        return response

    def get(self, identifier, crs_transform_spec=None, **kwargs):
        try:
            return super().get(identifier, crs_transform_spec=crs_transform_spec, **kwargs)
        except DataError:
            raise ProviderItemNotFoundError(user_msg=f"no such item: {identifier}")
        except OperationalError as exc:
            raise DatabaseUnavailable(user_msg="the database is not reachable") from exc

    def _session(self) -> Session:
        return Session(self._engine)

    @staticmethod
    def _run(session: Session, stmt) -> list:
        try:
            return session.execute(stmt).all()
        except (DataError, ProgrammingError) as exc:
            session.rollback()
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise ProviderInvalidQueryError(user_msg=f"the query does not fit this collection: {reason}")
        except OperationalError as exc:
            raise DatabaseUnavailable(user_msg="the database is not reachable") from exc
        except ValueError as exc:  # psycopg2 refuses some values before sending them (e.g. NUL in text)
            session.rollback()
            raise ProviderInvalidQueryError(user_msg=f"the query has a value the database cannot take: {exc}")

    def _count(self, session: Session, where, filters: tuple) -> int:
        count_stmt = select(func.count()).select_from(self.table_model.__table__).where(where)
        if self.count_mode == "exact":
            return self._run(session, count_stmt)[0][0]
        version = tuple(self._run(session, text("SELECT zones, boundaries, facilities FROM pub.data_version"))[0])
        properties, bbox, datetime_, filterq = filters
        key = (self.table, version, tuple(properties or ()), tuple(bbox or ()), datetime_, repr(filterq))
        with _COUNTS_LOCK:
            if key in _COUNTS:
                _COUNTS.move_to_end(key)
                return _COUNTS[key]
        matched = self._run(session, count_stmt)[0][0]
        with _COUNTS_LOCK:
            _COUNTS[key] = matched
            while len(_COUNTS) > _COUNTS_MAX:
                _COUNTS.popitem(last=False)
        return matched


def _json_schema(column_type) -> dict:
    try:
        kind = column_type.python_type
    except NotImplementedError:
        return {"type": "string"}
    if kind is dt.datetime:
        return {"type": "string", "format": "date-time"}
    if kind is dt.date:
        return {"type": "string", "format": "date"}
    return {"type": JSON_TYPES.get(kind, "string")}


def _typed(column, name: str, value: str):
    """A query-string value as the column's Python type, or a 400 saying what was expected."""
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return value
    try:
        if kind is bool:
            lowered = str(value).lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError(value)
            return lowered in ("true", "1")
        if kind is dt.date:
            return dt.date.fromisoformat(str(value)[:10])
        if kind is dt.datetime:
            return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if kind in (int, float):
            number = kind(value)
            if kind is int and not -2**63 <= number < 2**63:
                raise ValueError(value)
            return number
    except (TypeError, ValueError, OverflowError):
        raise ProviderInvalidQueryError(user_msg=f"{name}: {value!r} is not a valid {kind.__name__}")
    return value


def _transformed(geometry: dict, transform) -> dict:
    import shapely.geometry

    return shapely.geometry.mapping(transform(shapely.geometry.shape(geometry)))
