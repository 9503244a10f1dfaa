"""A feed's drop folder: pull its URL (if any) into the folder and ingest the new files there.

One run of a feed is `poll_feed`; `gis/scheduler.py` runs it on each feed's schedule. A run that loses the database
(restart, network) is retried with exponential back-off on the same engine (its pool replaces the dropped
connections); a batch is one transaction, so a retried file is either wholly in or wholly out, and re-ingesting a
committed one only finds duplicates.

A pull is a conditional GET: the feed's drop folder keeps the last response's validators (ETag, Last-Modified) and
SHA-256 in .pull-state.json, so an unchanged export is neither downloaded again nor ingested again as a batch of
duplicates.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

import psycopg2
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from gis.ingest.errors import IngestError, UnusableFileError
from gis.ingest.feeds import Feed, load_feed
from gis.ingest.pipeline import BatchSummary, ingest_file
from gis.ingest.pseudonym import Pseudonymiser, load_secret
from gis.ingest.settings import IngestSettings
from gis.settings import Settings
from gis.summary import Summary

log = logging.getLogger(__name__)

T = TypeVar("T")
# A network error (refused, reset, timed out, cut short) may pass; an HTTP error status is the server's answer.
NETWORK_ERRORS = (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException)
RETRYABLE = (OperationalError, psycopg2.OperationalError, *NETWORK_ERRORS)
PULL_STATE = ".pull-state.json"  # in the feed's drop folder: url, etag, last_modified, sha256, file of the last pull
CHUNK = 1 << 20


class PullError(IngestError):
    """The feed's URL answered with an HTTP error status (404, 500…): this run pulls nothing, the next one tries."""


def with_retries(run: Callable[[], T], settings: IngestSettings) -> T:
    """run(), again after 1×, 2×, 4×… the back-off when the database or the network drops; then give up."""
    for attempt in range(settings.retries + 1):
        try:
            return run()
        except RETRYABLE as exc:
            if attempt == settings.retries:
                raise
            wait = settings.retry_backoff_s * 2**attempt
            log.warning(
                "connection lost (%s); retry %d of %d in %g s",
                str(exc).strip().splitlines()[0],
                attempt + 1,
                settings.retries,
                wait,
            )
            time.sleep(wait)
    raise AssertionError("unreachable")


def _read_state(folder: Path, url: str) -> dict:
    """The last pull's validators and digest; none when there was no pull yet or the feed's URL changed since."""
    try:
        state = json.loads((folder / PULL_STATE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return state if isinstance(state, dict) and state.get("url") == url else {}


def _write_state(folder: Path, state: dict) -> None:
    aside = folder / ".partial" / PULL_STATE
    aside.write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    aside.replace(folder / PULL_STATE)


def _pull(feed: Feed, url: str, folder: Path, timeout_s: float) -> Path | None:
    """Download the feed's URL into its drop folder, unless it is unchanged since the last pull; the new file or None.

    Written aside, then renamed: never half a file, even when the server cuts the body short.
    """
    state = _read_state(folder, url)
    request = urllib.request.Request(url)
    if state.get("etag"):
        request.add_header("If-None-Match", state["etag"])
    if state.get("last_modified"):
        request.add_header("If-Modified-Since", state["last_modified"])  # sent back as the server wrote it
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = folder / f"{feed.name}-{stamp}.{feed.format}"
    partial = folder / ".partial" / target.name
    partial.parent.mkdir(exist_ok=True)
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 304:
            log.info("feed %s: %s not modified since the last pull", feed.name, url)
            return None
        raise PullError(
            f"feed {feed.name}: {url} answered HTTP {exc.code} {exc.reason}; nothing pulled this run "
            f"(files already in {folder} are still ingested; the next run tries again)"
        ) from exc
    digest, size = hashlib.sha256(), 0
    try:
        with response, open(partial, "wb") as f:
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                f.write(chunk)
            expected = response.headers.get("Content-Length")
        # http.client ends a short body quietly when read in chunks: a truncated download must not look whole.
        if expected and expected.isdigit() and size != int(expected):
            raise ConnectionError(f"{url}: the download ended after {size} of {expected} bytes")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    sha256 = digest.hexdigest()
    validators = {"etag": response.headers.get("ETag"), "last_modified": response.headers.get("Last-Modified")}
    if sha256 == state.get("sha256"):
        # The server kept no validators (or changed them without changing the bytes): the same export again.
        partial.unlink()
        _write_state(folder, {**state, **validators})
        log.info("feed %s: %s is unchanged since the last pull (same SHA-256)", feed.name, url)
        return None
    os.replace(partial, target)
    _write_state(
        folder,
        {
            "url": url,
            **validators,
            "sha256": sha256,
            "file": target.name,
            "bytes": size,
            "pulled_at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    log.info("feed %s: pulled %s (%d bytes) into %s", feed.name, url, size, target)
    return target


AfterBatch = Callable[[str, int], Summary | None]  # (event table, batch id): what the caller composes


@dataclass
class IngestedFile(BatchSummary):
    """A drop-folder file ingested as a batch, with what the caller recomputed after it (None: nothing composed)."""

    recomputed: Summary | None = None


@dataclass
class PullFailed(Summary):
    """The feed's URL could not be pulled this run (the files already dropped are still ingested)."""

    feed: str
    url: str
    error: str


@dataclass
class FileFailed(Summary):
    """A dropped file that cannot be ingested (unreadable, wrong columns…): moved to failed/ with its reason."""

    feed: str
    file: str
    error: str


@dataclass
class WatchSummary(Summary):
    """One run of feeds' jobs: each pull failure, failed file and ingested file, in order."""

    results: list[IngestedFile | PullFailed | FileFailed] = field(default_factory=list)


def poll_feed(
    name: str,
    engine: Engine,
    settings: Settings,
    ingest_settings: IngestSettings,
    after_batch: AfterBatch | None = None,
) -> WatchSummary:
    """One run of a feed's job: pull, then ingest each new file and move it to done/ (or failed/ with the reason).

    after_batch runs after each ingested file (the scheduler recomputes zones there; ingest knows nothing of it).
    """
    feed = load_feed(name, ingest_settings.feeds_dir)
    folder = ingest_settings.drop_folder(settings.var_dir) / name
    for sub in ("done", "failed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    run = WatchSummary()
    if url := feed.schedule.url:
        try:
            with_retries(partial(_pull, feed, url, folder, ingest_settings.pull_timeout_s), ingest_settings)
        except (PullError, *NETWORK_ERRORS) as exc:  # a failed pull must not hold back the files already dropped
            message = (
                str(exc)
                if isinstance(exc, PullError)
                else f"feed {name}: pulling {feed.schedule.url} failed after {ingest_settings.retries} retries ({exc})"
            )
            log.error("%s", message)
            run.results.append(PullFailed(feed=name, url=url, error=message))
    pseudonymiser = Pseudonymiser(load_secret(settings))
    for path in sorted(p for p in folder.glob(feed.schedule.pattern) if p.is_file() and not p.name.startswith(".")):
        try:
            summary = with_retries(
                partial(ingest_file, engine, feed, path, pseudonymiser, ingest_settings), ingest_settings
            )
        except UnusableFileError as exc:
            log.error("%s", exc)
            path.rename(folder / "failed" / path.name)
            (folder / "failed" / f"{path.name}.error.txt").write_text(f"{exc}\n", encoding="utf-8")
            run.results.append(FileFailed(feed=name, file=path.name, error=str(exc)))
            continue
        path.rename(folder / "done" / f"{summary.batch_id}-{path.name}")
        result = IngestedFile(**{f.name: getattr(summary, f.name) for f in fields(summary)})
        if after_batch:
            result.recomputed = with_retries(partial(after_batch, feed.table, summary.batch_id), ingest_settings)
        run.results.append(result)
    return run
