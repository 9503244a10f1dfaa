"""While the database cannot answer: 503 with Retry-After and a plain message on every path, recovery on its own.

The server's own reads (data version, API keys, /health, the map) raise the driver's errors; pygeoapi catches those
of its providers and of the process manager and answers 500, or 400 with the driver's text (host, port). So
DatabaseOutage answers 503 both for an exception of that class and for an error answer (400 or 5xx) given while the
database does not answer a probe — never the driver's words; a 503 of the app's own (a process busy, a query too
slow) gets the Retry-After too. Every pool pings a connection before handing it out (pool_pre_ping), so the first
request after the database is back gets a fresh one: no restart is needed.
"""

from __future__ import annotations

import asyncio
import logging

import psycopg2
import psycopg2.errors
from sqlalchemy import Engine, create_engine, exc
from sqlalchemy.engine import URL
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis.serve.limits import send_error
from gis.serve.settings import ServeSettings

log = logging.getLogger(__name__)

# Connection refused or lost, server shutting down, statement timeout (QueryCanceled), no free pooled connection.
OUTAGE_ERRORS = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
)
PROBED_STATUSES = {400} | set(range(500, 600))
UNREACHABLE = "the database is not reachable at the moment; please try again shortly"
TOO_SLOW = "the database did not answer in time; please try again shortly, or ask for less at once"


def serving_engine(url: URL | str, settings: ServeSettings, application_name: str) -> Engine:
    """An engine for the server's own reads: pinged pool, bounded connect time, statement timeout."""
    options = f"-c statement_timeout={int(settings.statement_timeout_seconds * 1000)}"
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": settings.connect_timeout_seconds,
            "options": options,
            "application_name": application_name,
        },
    )


def reachable(engine: Engine) -> bool:
    """Whether the database answers now (blocking: call from a thread)."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return True
    except OUTAGE_ERRORS:
        return False


def _says_when(start: Message) -> bool:
    return any(name.lower() == b"retry-after" for name, _ in start.get("headers", []))


def _probed(start: Message) -> bool:
    """An error answer that may hide an outage; one with Retry-After is already an outage answer (/health's)."""
    return start["status"] in PROBED_STATUSES and not _says_when(start)


def too_slow(error: BaseException) -> bool:
    """A statement cancelled by the statement timeout (the database answers, but not in time)."""
    return isinstance(getattr(error, "orig", error), psycopg2.errors.QueryCanceled)


def describe(error: BaseException) -> str:
    """The outage in plain words."""
    return TOO_SLOW if too_slow(error) else UNREACHABLE


class DatabaseOutage:
    """Answer 503 + Retry-After when a request failed because the database could not answer."""

    def __init__(self, app: ASGIApp, engine: Engine, settings: ServeSettings):
        self.app = app
        self.engine = engine
        self.retry_after = str(settings.retry_after_seconds).encode()

    async def answer(self, send: Send, description: str = UNREACHABLE) -> None:
        await send_error(send, 503, "ServiceUnavailable", description, [(b"retry-after", self.retry_after)])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = replaced = False

        async def watched(message: Message) -> None:
            nonlocal started, replaced
            if message["type"] == "http.response.start":
                if _probed(message) and not await asyncio.to_thread(reachable, self.engine):
                    log.warning(
                        "503 for %s: answered %s while the database does not answer", scope["path"], message["status"]
                    )
                    replaced = True
                    await self.answer(send)
                    return
                if message["status"] == 503 and not _says_when(message):  # busy, or too slow: say when to retry
                    message = {**message, "headers": [*message.get("headers", []), (b"retry-after", self.retry_after)]}
                started = True
            if not replaced:
                await send(message)

        try:
            await self.app(scope, receive, watched)
        except OUTAGE_ERRORS as error:
            if started:
                raise
            log.warning("503 for %s: %s", scope["path"], str(getattr(error, "orig", error)).strip().split("\n")[0])
            if not replaced:
                await self.answer(send, describe(error))
