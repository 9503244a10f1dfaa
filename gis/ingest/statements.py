"""The SQL of one feed: statements from sql/*.sql, composed with the feed's identifiers and literals (psycopg2.sql)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from psycopg2 import sql

from gis.ingest.feeds import Feed
from gis.ingest.fieldtypes import DECIMAL, FIELD_TYPES, Check, CheckContext
from gis.ingest.rowcode import COPY_OPTIONS
from gis.sqlfiles import load

SQL_DIR = Path(__file__).parent / "sql"
EVENTS = "events"


def statement(file: str, name: str) -> str:
    """The named statement of sql/<file>.sql."""
    return load(SQL_DIR / f"{file}.sql")[name]


def _q(file: str, name: str, **parts: sql.Composable) -> sql.Composed:
    return sql.SQL(statement(file, name)).format(**parts)


def _join(items: list[sql.Composable], sep: str = ", ") -> sql.Composed:
    return sql.SQL(sep).join(items)


class FeedSql:
    """Composed statements for one feed (identifiers quoted, values as literals; nothing interpolated by hand)."""

    def __init__(self, feed: Feed, future_slack_minutes: int = 60):
        self.feed = feed
        self.slack = future_slack_minutes
        self.table = sql.Identifier(EVENTS, feed.table)

    def _col(self, field: str, alias: str = "s") -> sql.Identifier:
        return sql.Identifier(alias, self.feed.column(field))

    # --- staging ---------------------------------------------------------------------------------------------
    @cached_property
    def stage_columns(self) -> list[str]:
        return [self.feed.column(n) for n in self.feed.fields]

    def create_stage(self) -> sql.Composed:
        cols = [sql.SQL("{} text").format(sql.Identifier(c)) for c in self.stage_columns]
        return _q("stage", "create_stage", columns=_join(cols))

    def copy_stage(self) -> sql.Composed:
        return _q(
            "stage",
            "copy_stage",
            names=_join([sql.Identifier(c) for c in self.stage_columns]),
            options=sql.SQL(COPY_OPTIONS),
        )

    # --- validation --------------------------------------------------------------------------------------------
    def _checks(self, name: str) -> list[Check]:
        """(check fragment, reason, parts) for each check of a field, in the order a clerk would fix them: missing,
        then its type's own (fieldtypes.FIELD_TYPES)."""
        feed, spec = self.feed, self.feed.fields[name]
        col = sql.Identifier(feed.column(name))
        base: dict[str, sql.Composable] = {
            "col": col,
            "field": sql.Literal(name),
            "label": sql.Literal(feed.label(name)),
            "value": _q("validate", "shown", col=col),
        }
        own = FIELD_TYPES[spec.type].checks(spec, CheckContext(feed.timezone, self.slack))
        missing: list[Check] = [("missing", "missing_required", {})] if spec.required else []
        return [(check, reason, {**base, **parts}) for check, reason, parts in missing + own]

    def insert_problems(self) -> sql.Composed:
        """Every check of the feed in one pass; the first is the row's own flaw, whose field and reason come with
        the row (k = -1)."""
        rows = [sql.SQL("({}, -1, s._field, s._reason)").format(_q("validate", "flaw"))]
        messages = [sql.SQL("WHEN -1 THEN {}").format(_q("validate", "flaw_message"))]
        failed = [sql.SQL("({})").format(_q("validate", "flaw"))]
        checks = [(name, *c) for name in self.feed.fields for c in self._checks(name)]
        for k, (name, check, reason, parts) in enumerate(checks):
            rows.append(
                sql.SQL("({}, {}, {}, {})").format(
                    _q("validate", check, **parts), sql.Literal(k), sql.Literal(name), sql.Literal(reason)
                )
            )
            messages.append(
                sql.SQL("WHEN {} THEN {}").format(sql.Literal(k), _q("validate", f"{check}_message", **parts))
            )
            failed.append(sql.SQL("({})").format(_q("validate", check, **parts)))
        return _q(
            "validate",
            "insert_problems",
            checks=_join(rows, ",\n"),
            messages=_join(messages, "\n"),
            any_failed=_join(failed, "\n   OR "),
        )

    def check_duplicate_keys(self) -> sql.Composed:
        keys = [self._col(k) for k in self.feed.key]
        text = _join([sql.SQL("coalesce({}, '')").format(k) for k in keys], " || ', ' || ")
        return _q(
            "validate",
            "check_duplicate_keys",
            field=sql.Literal(self.feed.key[0]),
            keys=_join(keys),
            key_text=sql.SQL("({})").format(text),
        )

    # --- locate ------------------------------------------------------------------------------------------------
    def _point(self) -> tuple[str, str, str]:
        """The (code, lon, lat) fields of a feed located by area code or point."""
        point = self.feed.locate.by_point if self.feed.locate else None
        if point is None:
            raise ValueError(f"feed {self.feed.name!r} is not located by area code or point")
        return point

    def _locate_parts(self) -> dict[str, sql.Composable]:
        fields = dict(zip(("code", "lon", "lat"), self._point()))
        shown = {f"{n}_value": _q("validate", "shown", col=sql.Identifier(f)) for n, f in fields.items()}
        return {
            **shown,
            **{n: sql.Identifier(f) for n, f in fields.items()},
            "pattern": sql.Literal(DECIMAL),
            "code_field": sql.Literal(fields["code"]),
            "lon_field": sql.Literal(fields["lon"]),
            **{f"{n}_label": sql.Literal(self.feed.label(f)) for n, f in fields.items()},
        }

    def locate(self) -> list[sql.Composed]:
        """The locate statements in order (run with tolerance_m and tolerance_deg bound)."""
        loc = self.feed.locate
        if loc is None:
            return []
        if loc.via:
            return []  # the record's area is joined by the merge (incoming)
        parts = self._locate_parts()
        no_code = sql.SQL("s.{} IS NULL").format(parts["code"])
        return [
            _q(
                "locate", "create_points", no_code=no_code, lon=parts["lon"], lat=parts["lat"], pattern=parts["pattern"]
            ),
            _q("locate", "locate_by_point"),
            _q("locate", "locate_by_snap"),
            _q("locate", "check_location", **parts),
        ]

    # --- merge -------------------------------------------------------------------------------------------------
    def _typed(self, name: str) -> sql.Composed:
        spec = self.feed.fields[name]
        expr = FIELD_TYPES[spec.type].cast(self._col(name), self.feed.timezone)
        return sql.SQL("{} AS {}").format(expr, sql.Identifier(self.feed.column(name)))

    @cached_property
    def content_columns(self) -> list[str]:
        """Columns of the event table filled from the file (not located, not lineage)."""
        cols = [self.feed.column(n) for n in self.feed.fields if n not in self.feed.locate_fields]
        return cols + (["geom"] if self.feed.locate_fields else [])

    @cached_property
    def table_columns(self) -> list[str]:
        return self.content_columns + ["area_code", "commune_code", "located_by", "snap_m", "row_hash"]

    def _located(self) -> dict[str, sql.Composable]:
        """How incoming finds each row's area: joins and the four location columns."""
        loc = self.feed.locate
        none = {
            "joins": sql.SQL(""),
            "area_code": sql.SQL("NULL::text"),
            "commune_code": sql.SQL("NULL::text"),
            "located_by": sql.SQL("NULL::text"),
            "snap_m": sql.SQL("NULL::float8"),
        }
        if loc is None:
            return none
        if loc.via:
            key = sql.Identifier(loc.via.key)
            return {
                **none,
                "joins": sql.SQL("LEFT JOIN {} v ON v.{} = s.{}").format(
                    sql.Identifier(EVENTS, loc.via.table), key, key
                ),
                "area_code": sql.SQL("v.area_code"),
                "commune_code": sql.SQL("v.commune_code"),
                "located_by": sql.SQL("CASE WHEN v.{} IS NOT NULL THEN 'via' END").format(key),
            }
        return {
            "joins": sql.SQL(
                "LEFT JOIN admin.area a ON a.code = s.{} AND a.valid_to IS NULL AND a.level IN (3, 4)"
                " LEFT JOIN located l ON l._row = s._row"
            ).format(sql.Identifier(loc.code)),
            "area_code": sql.SQL("coalesce(a.code, l.area_code)"),
            "commune_code": sql.SQL(
                "CASE WHEN a.code IS NULL THEN l.commune_code WHEN a.level = 4 THEN a.parent_code ELSE a.code END"
            ),
            "located_by": sql.SQL("CASE WHEN a.code IS NOT NULL THEN 'code' ELSE l.located_by END"),
            "snap_m": sql.SQL("l.snap_m"),
        }

    @cached_property
    def incoming(self) -> sql.Composed:
        """The SELECT of the batch's good rows as the event table stores them (see merge.sql)."""
        typed = [self._typed(n) for n in self.feed.fields if n not in self.feed.locate_fields]
        if self.feed.locate_fields:
            _, lon_field, lat_field = self._point()
            lon, lat = sql.Identifier("s", lon_field), sql.Identifier("s", lat_field)
            typed.append(
                sql.SQL(
                    "CASE WHEN {lon} ~ {p} AND {lat} ~ {p} "
                    "THEN ST_SetSRID(ST_MakePoint({lon}::float8, {lat}::float8), 4326) END AS geom"
                ).format(lon=lon, lat=lat, p=sql.Literal(DECIMAL))
            )
        return _q(
            "merge",
            "incoming",
            typed=_join(typed),
            **self._located(),
        )

    def partition_days(self) -> sql.Composed:
        field = self.feed.partition_by_day
        if field is None:
            raise ValueError(f"feed {self.feed.name!r} is not partitioned by day")
        column = sql.SQL("({}::timestamp AT TIME ZONE {})").format(self._col(field), sql.Literal(self.feed.timezone))
        return _q("merge", "partition_days", column=column)

    def create_partition(self, day) -> sql.Composed:
        name = sql.Identifier(EVENTS, f"{self.feed.table}_{day:%Y%m%d}")
        return _q("merge", "create_partition", partition=name, table=self.table)

    def _key_join(self) -> sql.Composed:
        return _join([sql.SQL("{} = {}").format(self._col(k, "t"), self._col(k, "i")) for k in self.feed.key], " AND ")

    def audit_corrections(self) -> sql.Composed:
        pairs = _join([sql.SQL("{}, {}").format(sql.Literal(k), self._col(k, "t")) for k in self.feed.key])
        return _q("merge", "audit_corrections", table=self.table, key_pairs=pairs, key_join=self._key_join())

    def create_changed(self) -> sql.Composed:
        return _q("merge", "create_changed", incoming=self.incoming, table=self.table, key_join=self._key_join())

    def update_corrections(self) -> sql.Composed:
        keys = {self.feed.column(k) for k in self.feed.key}
        sets = [
            sql.SQL("{} = {}").format(sql.Identifier(c), sql.Identifier("i", c))
            for c in self.table_columns
            if c not in keys
        ]
        return _q("merge", "update_corrections", table=self.table, assignments=_join(sets), key_join=self._key_join())

    def insert_new(self, skip_stored: bool = True) -> sql.Composed:
        """Insert the batch's good rows; skip_stored: leave out those whose key is stored (else a key stored
        already is a unique violation)."""
        insert = _q(
            "merge",
            "insert_new",
            table=self.table,
            incoming=self.incoming,
            columns=_join([sql.Identifier(c) for c in self.table_columns]),
        )
        if not skip_stored:
            return insert
        keys = _join([sql.Identifier(self.feed.column(k)) for k in self.feed.key])
        return sql.SQL("{} {}").format(insert, _q("merge", "on_conflict", keys=keys))
