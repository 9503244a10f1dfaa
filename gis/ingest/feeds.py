"""Feed definitions (ingest/feeds/<name>.yml) validated once into typed models."""

from __future__ import annotations

import codecs
import importlib.resources
import unicodedata
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gis.ingest.errors import FeedError
from gis.ingest.fieldtypes import FIELD_TYPES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Strict):
    """One canonical field: the source headers it may come under, its type and its checks."""

    source: list[str] = Field(default_factory=list)  # header aliases; the canonical name is always accepted
    type: str = "text"  # a name of fieldtypes.FIELD_TYPES
    required: bool = False
    formats: list[str] = Field(default_factory=list)  # date/timestamp: explicit strptime formats, tried in order
    values: dict[str, list[str]] | None = None  # vocabulary: canonical value -> source spellings
    min: float | None = None
    max: float | None = None
    allow_future: bool = False  # date/timestamp: planned dates (a stay's end) may lie ahead
    label: str | None = None  # how the clerk's file calls it (default: the first source header)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in FIELD_TYPES:
            raise ValueError(f"unknown type {value!r}: one of {', '.join(FIELD_TYPES)}")
        return value

    @model_validator(mode="after")
    def _formats_for_dates(self) -> FieldSpec:
        if FIELD_TYPES[self.type].formats and not self.formats:
            raise ValueError(f"{self.type} fields need explicit `formats` (e.g. ['%d/%m/%Y']); we never guess")
        if self.values and self.type != "text":
            raise ValueError(f"`values` (a vocabulary) is for text fields, not {self.type}")
        return self


class Via(_Strict):
    """Take the area from another feed's located record (check-ins take their venue's area)."""

    table: str
    key: str


class Locate(_Strict):
    """How a row finds its area: an area code (hamlet or commune), else a point; or through another record."""

    code: str | None = None
    lon: str | None = None
    lat: str | None = None
    via: Via | None = None

    @property
    def by_point(self) -> tuple[str, str, str] | None:
        """(code, lon, lat) fields when a row is located by its own area code or point; None when through another
        record (via)."""
        if self.via or not (self.code and self.lon and self.lat):
            return None
        return self.code, self.lon, self.lat


class Schedule(_Strict):
    """When the scheduler looks for new files of this feed, and where it pulls from over HTTP if anywhere."""

    every_minutes: float = 15
    url: str | None = None
    pattern: str = "*"


class Feed(_Strict):
    """A feed: file format, columns, checks, natural key, how rows are located, and its schedule."""

    name: str
    description: str = ""
    table: str  # events.<table>
    format: Literal["csv", "xlsx", "json", "ndjson"]
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    sheet: str | None = None  # xlsx: the worksheet (default: the first)
    timezone: str = "Asia/Ho_Chi_Minh"
    key: list[str]
    fields: dict[str, FieldSpec]
    locate: Locate | None = None
    partition_by_day: str | None = None  # timestamp field whose local day names the table partition
    schedule: Schedule = Schedule()
    # Cross-row checks of the staged batch, each a .sql file named `package:path` (e.g. `gis.care:sql/x.sql`): its
    # named statements run in file order inside the batch transaction, after the duplicate-key check, and insert
    # rejects into `problem` (see check_files).
    checks: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Feed:
        try:
            codecs.lookup(self.encoding)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {self.encoding!r} (Python codec names: utf-8-sig, cp1258, …)") from exc
        names = set(self.fields)
        loc = self.locate
        used = list(self.key) + ([self.partition_by_day] if self.partition_by_day else [])
        if loc:
            used += [n for n in (loc.code, loc.lon, loc.lat) if n] + ([loc.via.key] if loc.via else [])
        unknown = [n for n in used if n not in names]
        if unknown:
            raise ValueError(f"key, locate or partition_by_day name fields that are not declared: {unknown}")
        renamed = [f.type for f in self.fields.values() if FIELD_TYPES[f.type].column]
        twice = sorted({t for t in renamed if renamed.count(t) > 1})
        if twice:
            raise ValueError(f"at most one field may be of type {' or '.join(twice)}")
        if loc and not loc.via and not (loc.code and loc.lon and loc.lat):
            raise ValueError("locate needs `code`, `lon` and `lat` (each row may give either), or `via`")
        optional_keys = [k for k in self.key if not self.fields[k].required]
        if optional_keys:
            raise ValueError(f"key fields must be required: {optional_keys}")
        return self

    def check_files(self) -> list[Path]:
        """The files of `checks`, each `package:path` resolved inside its installed package. A check's statements
        run on the batch's temporary tables, `stage` (the file's rows as text: the person field already its key,
        vocabularies canonical, timestamps ISO local text) and `problem` (`_row, field, reason, message`: the rejects
        so far); parameters %(tz)s (the feed's time zone), %(feed)s and %(batch_id)s. A statement adds a row to
        `problem` per reject (skipping rows rejected already) and writes nothing else."""
        files = []
        for check in self.checks:
            package, _, relative = check.partition(":")
            try:
                root = importlib.resources.files(package)
            except (ModuleNotFoundError, TypeError, ValueError) as exc:
                raise FeedError(f"feed {self.name!r}: check {check!r}: no package {package!r}") from exc
            path = Path(str(root.joinpath(relative)))
            if not relative.endswith(".sql") or not path.is_file():
                raise FeedError(f"feed {self.name!r}: check {check!r}: no .sql file {relative!r} in {package}")
            files.append(path)
        return files

    def column(self, field: str) -> str:
        """Staging/table column of a field: its name, or its type's column (the person field is person_key)."""
        return FIELD_TYPES[self.fields[field].type].column or field

    def label(self, field: str) -> str:
        """The name a clerk knows a field by: its label, first source header, or canonical name."""
        spec = self.fields[field]
        return spec.label or (spec.source[0] if spec.source else field)

    @property
    def locate_fields(self) -> set[str]:
        """Fields used only to locate the row (stored as the located area and a point, not as themselves)."""
        loc = self.locate
        if not loc or loc.via:
            return set()
        return {n for n in (loc.code, loc.lon, loc.lat) if n}

    def match_columns(self, header: list) -> dict[str, list[int]]:
        """Canonical field -> every column of the file that gives it (under any of its spellings), matching headers
        by NFC, case and spacing: more than one column for a field makes the file ambiguous (transform.plan)."""
        spellings: dict[str, str] = {}
        for name, spec in self.fields.items():
            for alias in [*spec.source, name]:
                spellings.setdefault(_norm(alias), name)
        found: dict[str, list[int]] = {}
        for i, h in enumerate(header):
            field = spellings.get(_norm(h)) if h is not None else None
            if field is not None:
                found.setdefault(field, []).append(i)
        return found

    def match_header(self, header: list) -> dict[str, int]:
        """Canonical field -> the (first) column index that gives it in the file."""
        return {name: columns[0] for name, columns in self.match_columns(header).items()}


def _norm(header: object) -> str:
    """A header as it is matched: NFC, case-folded, spacing collapsed, without a byte order mark (a UTF-8 file read
    as utf-8 keeps its BOM in the first header)."""
    return " ".join(unicodedata.normalize("NFC", str(header)).replace("\ufeff", "").casefold().split())


def load_feed(name: str, feeds_dir: Path) -> Feed:
    """The feed called name, validated; FeedError names the feeds that exist when it does not."""
    path = feeds_dir / f"{name}.yml"
    if not path.is_file():
        known = ", ".join(feed_names(feeds_dir)) or "none"
        raise FeedError(f"unknown feed {name!r}: no {path}. Known feeds: {known}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        feed = Feed.model_validate({"name": name, **data})
    except (yaml.YAMLError, ValidationError, TypeError) as exc:
        raise FeedError(f"{path}: invalid feed definition: {exc}") from exc
    if feed.name != name:
        raise FeedError(f"{path}: `name: {feed.name}` differs from the file name; make them the same")
    feed.check_files()  # every check names a file that exists, before a batch opens
    return feed


def feed_names(feeds_dir: Path) -> list[str]:
    """Names of the feeds defined in feeds_dir."""
    return sorted(p.stem for p in feeds_dir.glob("*.yml"))
