"""Bounds on what one request may carry, and on what the server logs about it.

RequestLimits is the outermost layer of the app: a URL longer than `max_url_bytes` answers 414, headers longer than
`max_header_bytes` together 431, and a path segment or query value longer than `max_value_chars` (or holding a NUL,
which no database text can hold) 400, before authentication, caching, pygeoapi or a log line sees the request.
uvicorn's HTTP parser (h11) is given a buffer above those limits, so that it is our clear answer that the client gets.

BoundedLogRecords cuts every message, argument and traceback line the server logs: pygeoapi logs the values of failed
requests, and a long value must cost neither log space nor time (rich's highlighter is quadratic in a line's length,
and ran with the GIL held: one 40 kB item id stopped /health for 8 s). The server logs plain lines, never rich.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from gis.serve.settings import ServeSettings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SHOWN_NAME_CHARS = 40  # a parameter named in an answer is cut to this


async def send_error(
    send: Send, status: int, code: str, description: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A JSON error in pygeoapi's shape ({"code", "description"}), never cached."""
    body = json.dumps({"code": code, "description": description}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    """Refuse requests whose URL, headers or single values are too long, or whose path or query holds a NUL."""

    def __init__(self, app: ASGIApp, settings: ServeSettings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = self.problem(scope) if scope["type"] == "http" else None
        if problem is not None:
            await send_error(send, *problem)
            return
        await self.app(scope, receive, send)

    def problem(self, scope: Scope) -> tuple[int, str, str] | None:
        """(status, code, description) of the first limit the request breaks, or None."""
        s = self.settings
        url_bytes = len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"])
        if url_bytes > s.max_url_bytes:
            return 414, "URITooLong", f"the URL is {url_bytes} bytes long; at most {s.max_url_bytes} are accepted"
        header_bytes = sum(len(name) + len(value) for name, value in scope["headers"])
        if header_bytes > s.max_header_bytes:
            return (
                431,
                "RequestHeaderFieldsTooLarge",
                f"the request headers are {header_bytes} bytes long; at most {s.max_header_bytes} are accepted",
            )
        for segment in scope["path"].split("/"):
            if len(segment) > s.max_value_chars:
                return (
                    400,
                    "InvalidParameterValue",
                    f"a part of the path is {len(segment)} characters long; at most {s.max_value_chars} are accepted",
                )
            if "\x00" in segment:
                return 400, "InvalidParameterValue", "the path cannot contain NUL characters (%00)"
        for name, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
            shown = name if len(name) <= SHOWN_NAME_CHARS else name[:SHOWN_NAME_CHARS] + "…"
            if len(name) > s.max_value_chars or len(value) > s.max_value_chars:
                return (
                    400,
                    "InvalidParameterValue",
                    f"parameter {shown!r} is too long; at most {s.max_value_chars} characters are accepted",
                )
            if "\x00" in name or "\x00" in value:
                return 400, "InvalidParameterValue", f"parameter {shown!r} cannot contain NUL characters (%00)"
        return None


def h11_buffer_bytes(settings: ServeSettings) -> int:
    """uvicorn's h11_max_incomplete_event_size: room for a request just over our limits, so that we answer it."""
    return 2 * (settings.max_url_bytes + settings.max_header_bytes)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


class BoundedLogRecords(logging.Filter):
    """Cut a record's message (with its arguments), traceback and stack lines to `limit` characters each.

    uvicorn's access records keep their arguments (its formatter reads them), each string among them cut.
    """

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            record.args = tuple(cut(a, self.limit) if isinstance(a, str) else a for a in record.args)
        else:
            try:
                message = record.getMessage()
            except Exception:  # a malformed logging call: leave it to the handler's own error report
                return True
            record.msg, record.args = cut(message, self.limit), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._lines("".join(traceback.format_exception(*record.exc_info)))
        if record.stack_info:
            record.stack_info = self._lines(record.stack_info)
        return True

    def _lines(self, text: str) -> str:
        return "\n".join(cut(line, self.limit) for line in text.rstrip("\n").splitlines())


def configure_server_logging(settings: ServeSettings) -> None:
    """Every logger of the server process (ours, pygeoapi's, uvicorn's) writes plain, bounded lines to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(BoundedLogRecords(settings.max_log_chars))
    logging.basicConfig(level=logging.getLogger().level, handlers=[handler], force=True)
