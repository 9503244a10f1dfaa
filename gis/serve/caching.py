"""HTTP caching of public responses, tied to the data version (zone snapshot, boundary load, facility batch).

Every anonymous GET gets a weak ETag = data version + hash of (URL, Accept, Accept-Language), Last-Modified = when
the data last changed, and Cache-Control. If-None-Match naming the ETag answers 304 without touching pygeoapi (only
200s carry one); `If-None-Match: *` and If-Modified-Since answer 304 only once the response is known to be a 200
(from the cache, or computed), never for a 404 or an invalid request. HEAD is answered from the GET's response.
The version is the server's one DataVersion (gis/serve/version.py), which the map's API shares.
Hot responses (200, up to a size) are kept in memory for the current version and served without pygeoapi;
concurrent misses for one URL wait for a single computation. Requests with credentials are never cached.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import sys

from cachetools import LRUCache
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis.serve.auth import USER_KEY
from gis.serve.settings import ServeSettings
from gis.serve.version import DataVersion, Version

# Answers that follow writes the data version does not track (hotline requests, welfare deliveries) are never cached.
UNCACHED_PREFIXES = ("/health", "/jobs", "/open311", "/welfare")
VARY = b"Accept, Accept-Language, Authorization"
# The entry tuple, its size and its slots in the LRU cache's three dicts (cachetools 8, CPython 3.11: 180-260 bytes).
ENTRY_OVERHEAD = 240


class ResponseCache:
    """Responses of the current version by ETag, least recently used first out, within a budget of the bytes they
    hold (body, headers and the objects around them): the budget bounds the server's memory, not just its bodies."""

    def __init__(self, max_bytes: int, max_entry_bytes: int):
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self.version = ""
        # (status, headers, body, bytes held); a replaced entry's bytes are counted once (cachetools resizes).
        self._entries: LRUCache[str, tuple[int, list, bytes, int]] = LRUCache(max_bytes, getsizeof=lambda e: e[3])

    @property
    def size(self) -> int:
        """The bytes the kept responses hold."""
        return int(self._entries.currsize)

    def get(self, version: str, etag: str) -> tuple[int, list, bytes] | None:
        if version != self.version:
            self._entries.clear()
            self.version = version
            return None
        hit = self._entries.get(etag)
        return None if hit is None else hit[:3]

    def put(self, version: str, etag: str, status: int, headers: list, body: bytes) -> None:
        cost = entry_bytes(etag, headers, body)
        if version == self.version and cost <= self.max_entry_bytes:
            self._entries[etag] = (status, headers, body, cost)


def entry_bytes(etag: str, headers: list, body: bytes) -> int:
    """What one cached response holds in memory: its objects as Python sizes them, and its slot in the cache."""
    held = sys.getsizeof(etag) + sys.getsizeof(body) + sys.getsizeof(headers) + ENTRY_OVERHEAD
    return held + sum(sys.getsizeof(h) + sys.getsizeof(h[0]) + sys.getsizeof(h[1]) for h in headers)


class CacheMiddleware:
    """ETag / Last-Modified / Cache-Control / 304 and the in-memory response cache for anonymous GETs."""

    def __init__(self, app: ASGIApp, version: DataVersion, settings: ServeSettings):
        self.app = app
        self.version = version
        self.cache_control = f"public, max-age={settings.max_age_seconds}".encode()
        self.responses = ResponseCache(settings.response_cache_mb * 2**20, settings.response_cache_entry_mb * 2**20)
        self._inflight: dict[str, asyncio.Future] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope.get(USER_KEY) is not None:
            await self.app(scope, receive, _with_headers(send, [(b"cache-control", b"private, no-store")]))
            return
        if scope["method"] not in ("GET", "HEAD") or scope["path"].startswith(UNCACHED_PREFIXES):
            await self.app(scope, receive, _with_headers(send, [(b"cache-control", b"no-store")]))
            return
        version = await self.version.get()
        headers = dict(scope["headers"])
        key = b"|".join(
            [
                scope["path"].encode(),
                scope["query_string"],
                headers.get(b"accept", b""),
                headers.get(b"accept-language", b""),
            ]
        )
        etag = f'W/"{version.tag}-{hashlib.sha1(key).hexdigest()[:16]}"'
        validators = [
            (b"etag", etag.encode()),
            (b"last-modified", version.last_modified.encode()),
            (b"cache-control", self.cache_control),
            (b"vary", VARY),
        ]
        if _holds(headers, etag):  # the client holds this very response: it was a 200 of this version
            await _send(send, 304, validators, b"")
            return
        hit = self.responses.get(version.tag, etag)
        if hit is None:  # HEAD is answered from the GET's response (and fills the cache for it)
            hit = await self._compute_once({**scope, "method": "GET"}, receive, version.tag, etag, validators)
        status, stored, body = hit
        if status == 200 and _not_modified(headers, version):
            status, stored, body = 304, validators, b""
        await _send(send, status, stored, b"" if scope["method"] == "HEAD" else body)

    async def _compute_once(self, scope, receive, version_tag: str, etag: str, validators: list):
        """Run the app once per ETag; concurrent requests for it wait and share the result."""
        waiting = self._inflight.get(etag)
        if waiting is not None:
            await asyncio.shield(waiting)
            hit = self.responses.get(version_tag, etag)
            if hit is not None:
                return hit
        future = asyncio.get_running_loop().create_future()
        self._inflight[etag] = future
        try:
            status, headers, body = await _capture(self.app, scope, receive)
        finally:
            self._inflight.pop(etag, None)
            future.set_result(None)
        if status == 200:
            headers = [
                h for h in headers if h[0].lower() not in (b"cache-control", b"etag", b"last-modified", b"vary")
            ] + validators
            self.responses.put(version_tag, etag, status, headers, body)
        else:
            headers = [h for h in headers if h[0].lower() != b"cache-control"] + [(b"cache-control", b"no-cache")]
        return status, headers, body


def _tags(headers: dict) -> list[str] | None:
    inm = headers.get(b"if-none-match")
    return None if inm is None else [t.strip().removeprefix("W/") for t in inm.decode("latin-1").split(",")]


def _holds(headers: dict, etag: str) -> bool:
    """If-None-Match names this ETag (weak comparison). Only 200s carry one, so the resource exists."""
    return etag.removeprefix("W/") in (_tags(headers) or [])


def _not_modified(headers: dict, version: Version) -> bool:
    """For a response known to exist (a 200): If-None-Match: *, or If-Modified-Since not before the data changed.

    Neither is trusted before the response is known: `*` and a date match 404s and invalid requests too.
    """
    tags = _tags(headers)
    if tags is not None:  # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
        return "*" in tags
    ims = headers.get(b"if-modified-since")
    if ims is not None and version.changed_at is not None:
        try:
            since = email.utils.parsedate_to_datetime(ims.decode("latin-1"))
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return version.changed_at.replace(microsecond=0) <= since
    return False


async def _send(send: Send, status: int, headers: list, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list, bytes]:
    status, headers, chunks = 500, [], []

    async def send(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, headers, b"".join(chunks)


def _with_headers(send: Send, extra: list) -> Send:
    names = {name for name, _ in extra}

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [h for h in message.get("headers", []) if h[0].lower() not in names]
            message = {**message, "headers": kept + extra}
        await send(message)

    return wrapped
