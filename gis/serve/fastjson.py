"""GeoJSON features written by PostGIS, spliced into pygeoapi's FeatureCollection without per-feature Python work.

An uncached page of 1,000 hamlets spent most of its time turning rows into dicts (shapely or json.loads per
geometry) and pygeoapi's json.dumps writing them back. For a plain GeoJSON items request (the ones `ogc.py` lets
through: f=json or no format, GET, not pretty-printed) the provider (gis/serve/provider.py) asks PostGIS for each
feature as JSON text and hands pygeoapi an empty feature list that counts the page's features (`Prebuilt`), so
pygeoapi adds its links, numberMatched/numberReturned and timeStamp as usual; `splice` then writes the features'
text into the serialised collection. Everything else (HTML, CSV, JSON-LD, CQL filters, sortby, properties,
skipGeometry, another crs) takes the usual path.

State is per worker thread: pygeoapi runs a request's handler and its provider in one thread of the pool.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

# How pygeoapi's to_json (separators (',', ':'), no indent) starts a collection whose provider answered Prebuilt.
EMPTY_START = '{"type":"FeatureCollection","features":[]'

_state = threading.local()


class Prebuilt(list):
    """The features of a page as PostGIS wrote them: an empty list to json.dumps (the text is spliced in later),
    `len()` the number of features (pygeoapi's next link counts them)."""

    def __init__(self, body: str, count: int):
        super().__init__()
        self.body = body
        self.size = count

    def __len__(self) -> int:
        return self.size


@contextmanager
def allowed() -> Iterator[None]:
    """Within the block (one request's handler, in its worker thread) a provider may answer with Prebuilt features."""
    _state.allowed, _state.body = True, None
    try:
        yield
    finally:
        _state.allowed, _state.body = False, None


def enabled() -> bool:
    return bool(getattr(_state, "allowed", False))


def offer(body: str, count: int) -> Prebuilt:
    """The page's features (`body`: the features' JSON texts joined by commas) for the response being built."""
    _state.body = body
    return Prebuilt(body, count)


def take() -> str | None:
    """The features offered in this block, once (None when the provider took the usual path)."""
    body, _state.body = getattr(_state, "body", None), None
    return body


def splice(content: str, body: str) -> str:
    """The serialised collection with the features written in (pygeoapi keeps the provider's order of members:
    type, then features)."""
    if not content.startswith(EMPTY_START):
        raise ValueError("not a FeatureCollection starting with an empty feature list")
    at = len(EMPTY_START) - 1
    return content[:at] + body + content[at:]
