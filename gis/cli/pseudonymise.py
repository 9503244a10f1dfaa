"""`covidgis pseudonymise`: a local register's identifier column becomes the person keys ingest stores.

An office holding a raw register (phone numbers, ID cards) runs this on its own machine with the deployment's HMAC
secret and matches the keys `covidgis trace contacts` lists: nothing raw enters the database, and no raw value is
printed or logged here (messages name the file, the column and counts only).
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import typer

from gis.context import AppContext
from gis.errors import CovidGisError
from gis.ingest.feeds import FieldSpec
from gis.ingest.fieldtypes import converter
from gis.ingest.pseudonym import Pseudonymiser, load_secret
from gis.summary import Summary

_BOM = b"\xef\xbb\xbf"


class PseudonymiseError(CovidGisError):
    """A missing file, column or secret, or an unreadable CSV."""


@dataclass
class Pseudonymised(Summary):
    """What `covidgis pseudonymise` wrote."""

    source: Path
    out: Path
    column: str
    rows: int
    keyed: int
    blank: int


def pseudonymise_csv(source: Path, out: Path, column: str, pseudonymiser: Pseudonymiser) -> Pseudonymised:
    """Copy a CSV (utf-8, BOM optional) replacing `column`'s values by their person keys (blank stays blank).

    The keys are the `person` field type's: the same converter ingest applies, so a number written "+84 912 345 678"
    here and "0912345678" in a feed gives one key. Every other column, the header, the delimiter and the line ending are
    kept. The output is written to a temporary file next to `out` and renamed, so a failure leaves no half file.
    """
    if not source.is_file():
        raise PseudonymiseError(f"{source}: no such file")
    if out.resolve() == source.resolve():
        raise PseudonymiseError(f"{out}: the output must be another file than the input")
    raw = source.read_bytes()
    bom = raw.startswith(_BOM)
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise PseudonymiseError(f"{source}: not UTF-8 text (byte {e.start})") from None
    first_line = content.split("\n", 1)[0]
    newline = "\r\n" if first_line.endswith("\r") else "\n"
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(first_line, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(content.splitlines(keepends=True), delimiter=dialect.delimiter, quotechar='"')
    header = next(reader, None)
    if header is None:
        raise PseudonymiseError(f"{source}: the file is empty (no header row)")
    names = [h.strip() for h in header]
    if column.strip() not in names:
        raise PseudonymiseError(f"{source}: no column {column!r} (columns: {', '.join(names)})")
    index = names.index(column.strip())
    key = converter(FieldSpec(source=[column], type="person"), pseudonymiser)
    rows = keyed = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
            writer = csv.writer(f, delimiter=dialect.delimiter, quotechar='"', lineterminator=newline)
            writer.writerow(header)
            for n, row in enumerate(reader, start=2):
                if not row:
                    continue
                if index >= len(row):
                    raise PseudonymiseError(
                        f"{source}: row {n} has {len(row)} columns, {column!r} is column {index + 1}"
                    )
                value = key(row[index])
                row[index] = value or ""
                rows += 1
                keyed += value is not None
                writer.writerow(row)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Pseudonymised(source=source, out=out, column=column, rows=rows, keyed=keyed, blank=rows - keyed)


def _secret(context: AppContext, secret_file: Path | None) -> bytes:
    if secret_file is None:
        return load_secret(context.settings)
    if not secret_file.is_file():
        raise PseudonymiseError(f"{secret_file}: no such secret file")
    return secret_file.read_bytes().strip()


def pseudonymise(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The CSV register (UTF-8, with a header row).", show_default=False),
    column: str = typer.Option(..., "--column", help="The header of the identifier column (phone or ID card)."),
    out: Path = typer.Option(..., "--out", help="Where to write the CSV with that column replaced by person keys."),
    secret_file: Path | None = typer.Option(
        None,
        "--secret-file",
        help="A file holding the deployment's HMAC secret (default: COVIDGIS_HMAC_SECRET, else var/hmac.key).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Replace a CSV column of phone numbers or ID cards by the person keys ingest stores (nothing raw is printed)."""
    context: AppContext = ctx.obj
    summary = pseudonymise_csv(file, out, column, Pseudonymiser(_secret(context, secret_file)))
    if as_json:
        typer.echo(json.dumps(summary.to_json(), ensure_ascii=False))
    else:
        typer.echo(
            f"{summary.out}: {summary.rows} rows, column {column!r} replaced by person keys "
            f"({summary.keyed} keyed, {summary.blank} blank)",
            err=True,
        )
