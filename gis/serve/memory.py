"""How `covidgis serve` keeps its memory bounded: glibc's malloc settings, freed memory given back after big
responses, and big pages built in turn.

A 10,000-feature page is built in a thread-pool thread as ~60 MB of Python objects and a ~10 MB JSON text, then
freed. With glibc's defaults the process keeps most of it: every thread gets an arena of its own (up to 8 per core),
the size from which a block is mapped on its own (and unmapped when freed) rises to the largest block freed so far,
so after the first big page every later one is carved from the arenas, and an arena gives back only the free memory
at its top, while the objects that outlive a request (cached responses, pooled connections) sit all over it. Over an
hour of probing the server grew from 401 to 852 MB and stayed there idle; benchmarks/soak.py took it to 685 MB, while
its live Python objects stay under 200 MB. So: two arenas, a fixed mmap threshold (glibc's own starting value),
`malloc_trim` after each big response, which returns every free page of the arenas, and at most two big pages at
once. Without glibc (musl, macOS) the malloc parts do nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# mallopt parameters (glibc's malloc.h)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ARENAS = 2  # the threads that build responses hold the GIL while they allocate: more arenas buy little
MMAP_THRESHOLD = 128 * 1024  # blocks from this size are mapped on their own; fixed, it no longer rises
TRIM_AFTER_BYTES = 1 << 20  # a response this big was built from several times its size of objects
BIG_PAGE_ITEMS = 1000  # a feature page asking for more items than this is a big one
BIG_PAGES_AT_ONCE = 2  # as many as the machine has cores to spare for them (2 on the demo's)


def _libc_function(name: str):
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


def bound_malloc(arenas: int = ARENAS, mmap_threshold: int = MMAP_THRESHOLD) -> bool:
    """Apply the settings above to this process; call before the server starts its threads. False when the C
    library is not glibc (or refuses a value)."""
    mallopt = _libc_function("mallopt")
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    applied = mallopt(M_ARENA_MAX, arenas) == 1 and mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1
    if not applied:
        log.warning("could not bound malloc's arenas: the server's memory may grow after big responses")
    return applied


class ReturnFreedMemory:
    """After a response of at least `after_bytes`, give the free memory of malloc's arenas back to the system
    (malloc_trim, in a thread: ctypes releases the GIL; one at a time, a trim that finds one running is skipped)."""

    def __init__(self, app: ASGIApp, after_bytes: int = TRIM_AFTER_BYTES):
        self.app = app
        self.after_bytes = after_bytes
        self.trim = _libc_function("malloc_trim")
        if self.trim is not None:
            self.trim.argtypes, self.trim.restype = [ctypes.c_size_t], ctypes.c_int
        self._trimming = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.trim is None:
            await self.app(scope, receive, send)
            return
        sent = 0

        async def counted(message: Message) -> None:
            nonlocal sent
            if message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counted)
        finally:  # the response's objects are gone by now (unless the cache keeps its body)
            if sent >= self.after_bytes and not self._trimming:
                self._trimming = True
                try:
                    await asyncio.to_thread(self.trim, 0)
                finally:
                    self._trimming = False


class BigPagesInTurn:
    """Feature pages of more than `items` items are built at most `at_once` at a time; the others wait their turn
    without holding a thread. A 10,000-feature page is CPU-bound Python under the GIL and needs ~6 bytes of objects
    per byte of its JSON (~60 MB for 10 MB): six at once (the thread pool) take as long as six in turn, two at a time
    answer each sooner on average, and hold a third of the memory."""

    def __init__(self, app: ASGIApp, at_once: int = BIG_PAGES_AT_ONCE, items: int = BIG_PAGE_ITEMS):
        self.app = app
        self.items = items
        self.turns = asyncio.Semaphore(at_once)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/items") and _limit(scope) > self.items:
            async with self.turns:
                await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _limit(scope: Scope) -> int:
    """The page size a request asks for (0 when it names none or an invalid one: pygeoapi's default, or its 400).
    This runs before the request limits: a value of any length is read by its first ten digits."""
    values = (v.strip() for v in parse_qs(scope.get("query_string", b"").decode("latin-1")).get("limit", []))
    return max((int(v[:10]) for v in values if v.isascii() and v.isdigit()), default=0)
