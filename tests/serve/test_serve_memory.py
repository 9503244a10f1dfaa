"""The server's memory stays bounded (gis/serve/memory.py): glibc keeps two arenas and a fixed mmap threshold, and
after a big response the free memory of the arenas goes back to the system (the response cache's budget is tested in
test_serve_caching.py). How flat the memory stays under load is measured by benchmarks/soak.py, not asserted here."""

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from conftest import ROOT
from serve_support import filled, served  # noqa: F401
from starlette.types import Message

from gis.serve.memory import ARENAS, BigPagesInTurn

HEAP_BYTES = 64 << 20  # a glibc arena's heap on 64-bit: 64 MB reserved, aligned to its size

# Eight threads allocate at once (each would get an arena of its own); then, after an 8 MB block was freed, four
# 2 MB blocks are kept (with glibc's rising threshold they come from the heap, not from mmaps of their own).
PROBE = r"""
import ctypes, re, sys, tempfile, threading
from gis.serve.memory import bound_malloc
if sys.argv[1] == "bound":
    assert bound_malloc()
libc = ctypes.CDLL(None)
libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes, libc.fclose.argtypes = [ctypes.c_int, ctypes.c_void_p], [ctypes.c_void_p]

def info():
    with tempfile.NamedTemporaryFile("r") as out:
        fp = libc.fopen(out.name.encode(), b"w")
        libc.malloc_info(0, fp)
        libc.fclose(fp)
        return out.read()

def mmaps():
    return int(re.search(r'<total type="mmap" count="(\d+)"', info()).group(1))

barrier = threading.Barrier(9)
def work():
    held = [bytearray(2000) for _ in range(100)]  # over 512 bytes: malloc, in this thread's arena
    barrier.wait()
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
barrier.wait()
heaps = info().count("<heap nr=")
barrier.wait()
for t in threads:
    t.join()
big = bytearray(8 << 20)
del big
before = mmaps()
kept = [bytearray(2 << 20) for _ in range(4)]
print(heaps, mmaps() - before)
"""


def probe(mode: str) -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=ROOT, capture_output=True, text=True, check=True)
    heaps, mapped = out.stdout.split()
    return int(heaps), int(mapped)


def test_malloc_keeps_two_arenas_and_maps_big_blocks_on_their_own():
    heaps, mapped = probe("bound")
    assert heaps <= ARENAS, f"{heaps} arenas for 8 threads"
    assert mapped == 4, "2 MB blocks after a freed 8 MB one must still be mmaps of their own (returned when freed)"
    # The same probe with glibc's defaults shows what the settings prevent (so the probe can tell them apart).
    default_heaps, default_mapped = probe("default")
    assert default_heaps > ARENAS and default_mapped == 0


# What a big page leaves behind: 200 MB of blocks freed, with a survivor every 100 kB among them (a pooled
# connection, a cached entry), then a response of argv[1] bytes. Prints how much RSS grew over the request.
AFTER_A_PAGE = r"""
import asyncio, sys
from gis.serve.memory import ReturnFreedMemory, bound_malloc
assert bound_malloc()
kept = []

def rss_mb():
    line = next(x for x in open("/proc/self/status") if x.startswith("VmRSS"))
    return int(line.split()[1]) / 1024

async def page(scope, receive, send):
    blocks = [bytearray(2000) for _ in range(100_000)]
    kept.extend(blocks[::50])
    del blocks
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"x" * int(sys.argv[1])})

async def main():
    async def receive():
        return {"type": "http.request"}
    async def send(message):
        pass
    before = rss_mb()
    await ReturnFreedMemory(page)({"type": "http", "method": "GET", "path": "/"}, receive, send)
    print(round(rss_mb() - before))

asyncio.run(main())
"""


@pytest.mark.parametrize("body_bytes, returned", [(1 << 20, True), (8 << 20, True), (100, False), (500_000, False)])
def test_memory_a_big_response_needed_goes_back_to_the_system(body_bytes, returned):
    out = subprocess.run(
        [sys.executable, "-c", AFTER_A_PAGE, str(body_bytes)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    grown = int(out.stdout)
    if returned:
        assert grown < 50, f"{grown} MB of the 200 MB freed stayed with the process after a {body_bytes}-byte answer"
    else:  # small answers are not worth a trim: the freed memory stays for the next request (which shows it is kept)
        assert grown > 150, grown


def arena_heaps(pid: int) -> list[tuple[int, int]]:
    """Heaps of glibc's thread arenas in a process, as (address, arena): anonymous mappings at a 64 MB boundary,
    read-write, which with the reserved rest after them (---p) span exactly 64 MB. Each heap starts with glibc's
    heap_info, whose first word is its arena: an arena that outgrew one heap has several (the arena is read from
    /proc/PID/mem; 0 when that cannot be read)."""
    maps = []
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split()
        low, high = (int(x, 16) for x in fields[0].split("-"))
        maps.append((low, high, fields[1], len(fields) > 5))
    heaps = []
    for i, (low, high, perms, named) in enumerate(maps):
        if named or low % HEAP_BYTES or not perms.startswith("rw"):
            continue
        after = maps[i + 1] if i + 1 < len(maps) else None
        end = after[1] if after and after[0] == high and after[2].startswith("---") and not after[3] else high
        if end - low == HEAP_BYTES:
            heaps.append((low, heap_arena(pid, low)))
    return heaps


def heap_arena(pid: int, address: int) -> int:
    """The arena (heap_info.ar_ptr) of the heap at address in process pid; 0 when its memory cannot be read."""
    try:
        with open(f"/proc/{pid}/mem", "rb") as memory:
            memory.seek(address)
            return int.from_bytes(memory.read(8), sys.byteorder)
    except OSError:
        return 0


def server_pid(base: str) -> int:
    """The process listening on base's port (running_server yields only the URL): the inode of the listening
    socket in /proc/net/tcp, then the process holding it (a leftover server of another module with the same port in
    its environment is not it)."""
    port = int(base.rsplit(":", 1)[1])
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            if os.readlink(fd) in inodes:
                return int(fd.parent.parent.name)
        except OSError:
            continue
    raise AssertionError(f"no process listens on port {port}")


@pytest.mark.parametrize(
    "paths",
    [
        ["/health"],
        [
            "/collections/zones/items?f=json&limit=100&offset={i}",
            "/map/api/zones?level=3",
            "/collections/areas/items?f=html&limit={i}",
            "/collections/zones/items?f=csv&limit={i}",
        ],
    ],
)
def test_the_server_keeps_two_arenas_under_concurrent_requests(served, paths):
    """Sync routes run in anyio's pool (up to 40 threads), pygeoapi in asyncio's: by glibc's defaults each thread
    that allocates gets an arena (up to 8 per core), and every arena keeps what the biggest response left in it."""

    def ask(i: int) -> None:
        for path in paths:
            requests.get(served + path.format(i=i + 1), timeout=60)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    heaps = arena_heaps(server_pid(served))
    arenas = {arena or address for address, arena in heaps}  # an unreadable heap counts as an arena of its own
    listed = ", ".join(f"{address:#x} of arena {arena:#x}" for address, arena in heaps)
    assert len(arenas) <= ARENAS - 1, f"{len(arenas)} thread arenas (the main arena is one of the {ARENAS}): {listed}"


GATED = [
    "/collections/zones-history/items?f=json&limit=10000",
    "/collections/cases/items?limit=1001&f=csv",
    "/collections/areas/items?f=html&limit=5000&offset=10",
    "/collections/zones/items?limit=10&limit=2000",
    "/collections/areas/items?limit=" + "9" * 5000,
]
NOT_GATED = [
    "/collections/zones-history/items?f=json&limit=1000",
    "/collections/areas/items?f=json",
    "/collections/areas/items?limit=abc",
    "/collections/areas/items?limit=%C2%B2%C2%B2%C2%B2%C2%B2",
    "/collections/areas/items?limit=-5000",
    "/collections/areas/items/10000?limit=10000",
    "/collections/zones/tiles/WebMercatorQuad/12/1/1?limit=5000",
    "/map/api/zones?level=4&limit=10000",
]


def test_big_pages_are_built_in_turn_and_others_pass():
    """Two big pages at a time (waiting without a thread); every other request goes straight through."""
    inside: list[str] = []
    seen: list[int] = []
    release = asyncio.Event()

    async def app(scope, receive, send):
        inside.append(scope["path"])
        seen.append(sum(p.endswith("/items") for p in inside))
        await release.wait()
        inside.remove(scope["path"])

    async def run() -> tuple[int, int]:
        gate = BigPagesInTurn(app, at_once=2)

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            pass

        async def request(url: str) -> None:
            path, _, query = url.partition("?")
            await gate({"type": "http", "method": "GET", "path": path, "query_string": query.encode()}, receive, send)

        tasks = [asyncio.create_task(request(url)) for url in GATED * 2 + NOT_GATED]
        for _ in range(20):
            await asyncio.sleep(0)
        admitted = len(inside)
        release.set()
        await asyncio.gather(*tasks)
        return admitted, len(inside)

    admitted, left = asyncio.run(run())
    assert admitted == 2 + len(NOT_GATED), "two big pages and every other request at once"
    assert left == 0 and len(seen) == 2 * len(GATED) + len(NOT_GATED), "the waiting big pages were built after"


def test_concurrent_big_pages_all_answer_in_full(served):
    """Through the real server: big pages over the limit wait their turn and then answer in full."""
    url = served + "/collections/areas/items?f=json&limit=2500"
    answers: list = []

    def ask(i: int) -> None:  # a language of its own: the response cache does not join them into one
        resp = requests.get(url, headers={"Accept-Language": f"vi;q=0.{i + 1}"}, timeout=120)
        answers.append((resp.status_code, len(resp.json()["features"]), resp.json()["numberMatched"]))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 5 and all(status == 200 and count == matched > 1000 for status, count, matched in answers)
