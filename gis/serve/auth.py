"""Who is asking: bearer tokens (API keys, optionally OIDC JWTs) checked in front of pygeoapi.

Anonymous requests reach only the public collections; a restricted collection answers 401 on every path under it
(403 when the caller's role does not cover it). API keys are stored as the sha256 of a random token.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cachetools import TTLCache
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis import sqlfiles
from gis.serve.limits import send_error
from gis.serve.settings import ServeSettings

if TYPE_CHECKING:
    import jwt

log = logging.getLogger(__name__)

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "serve.sql")
TOKEN_PREFIX = "cgis_"
ROLES = ("analyst", "committee", "tracer", "welfare", "hotline", "coordinator")
# Restricted collections each role may read. Analysts fix data, so they also see the rows the ingest refused.
# Tracers (the CDC's tracing teams) read the tracing layers only: their F0 list is the case system's, and the
# exposure layers carry the case ids (layers/README.md, audiences).
TRACING = {"exposure-venues", "exposure-contacts", "lockdown-proposals", "trace-indicators"}
CARE = {"beds", "f1-orders", "transfers"}  # issue 13's restricted layers
ROLE_COLLECTIONS = {
    "analyst": {"cases", "quarantine-facilities", *CARE, "indicators", "ingest-rejects", *TRACING},
    "committee": {"cases", "quarantine-facilities", *CARE, "indicators", *TRACING},
    # Tracers also read the F1 orders: whether the contacts they traced are in quarantine and followed up.
    "tracer": {*TRACING, "f1-orders"},
    # Welfare officers (issue 14) record deliveries in their commune or district (User.area); hotline operators
    # work the 1022 queue. Their restricted layers are added with those layers.
    "welfare": {"hotline-requests"},
    "hotline": {"hotline-requests"},
    # The provincial F0 coordination centre (issue 13): requests and accepts transfers (ROLE_PROCESSES), and reads
    # the beds per facility, the open transfers and the F1 orders.
    "coordinator": CARE,
}
# Processes only some roles may run (anything under /processes/<id>/, i.e. execution and jobs; the description
# stays public). The caller's name reaches the process as the input `by` (set here, never taken from the body).
ROLE_PROCESSES = {"request-transfer": {"coordinator"}, "accept-transfer": {"coordinator"}}
USER_KEY = "covidgis.user"  # where the middleware leaves the caller in the ASGI scope


@dataclass(frozen=True)
class User:
    name: str
    role: str
    area: str | None = None  # a welfare officer's commune or district (area code); None: not scoped

    def may_read(self, collection: str) -> bool:
        return collection in ROLE_COLLECTIONS.get(self.role, set())


class InvalidCredentials(Exception):
    """A token was sent but is unknown, revoked, expired or malformed."""


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenVerifier:
    """API keys from serve.api_key (cached a few seconds, so revocation takes effect quickly) and OIDC JWTs."""

    def __init__(self, engine: Engine, settings: ServeSettings):
        self.engine = engine
        self.settings = settings
        # Known keys and unknown ones (None), a few seconds each: a revoked key stops working quickly.
        self._cache: TTLCache[str, User | None] = TTLCache(maxsize=10_000, ttl=settings.token_ttl_seconds)
        self._lock = threading.Lock()
        self._jwks: jwt.PyJWKClient | None = None
        if settings.oidc_enabled and settings.oidc_jwks_url:
            import jwt  # PyJWT, only needed when OIDC is configured

            self._jwks = jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True)

    def verify(self, token: str) -> User:
        """The user a token stands for, or InvalidCredentials. Blocking: call from a thread."""
        if token.count(".") == 2 and self._jwks is not None:
            return self._verify_jwt(self._jwks, token)
        digest = hash_token(token)
        with self._lock:  # cachetools' caches are not thread-safe; verify runs in worker threads
            known = digest in self._cache
            user = self._cache.get(digest)
        if not known:
            with self.engine.connect() as conn:
                row = conn.exec_driver_sql(SQL["api_key"], {"token_sha256": digest}).mappings().first()
            user = User(row["name"], row["role"], row["area_code"]) if row else None
            with self._lock:
                self._cache[digest] = user
        if user is None:
            raise InvalidCredentials("unknown or revoked API key")
        return user

    def _verify_jwt(self, jwks: jwt.PyJWKClient, token: str) -> User:
        import jwt

        try:
            key = jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "ES256", "PS256"],
                audience=self.settings.oidc_audience,
                issuer=self.settings.oidc_issuer,
                options={"require": ["exp", "iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidCredentials(f"invalid token: {exc}") from exc
        roles = claims.get(self.settings.oidc_role_claim) or []
        roles = [roles] if isinstance(roles, str) else roles
        role = next(
            (r for r in ("committee", "analyst", "tracer", "welfare", "hotline", "coordinator") if r in roles), None
        )
        if role is None:
            raise InvalidCredentials(f"the token's {self.settings.oidc_role_claim!r} claim names no covid-gis role")
        return User(str(claims.get("preferred_username") or claims["sub"]), role)


class AuthMiddleware:
    """Resolve the caller, then keep restricted collections away from those who may not read them."""

    def __init__(self, app: ASGIApp, verifier: TokenVerifier, restricted: set[str]):
        self.app = app
        self.verifier = verifier
        self.restricted = restricted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        user = None
        header = _header(scope, b"authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                await _deny(send, 401, "Unauthorized", "send credentials as 'Authorization: Bearer <token>'")
                return
            try:
                user = await asyncio.to_thread(self.verifier.verify, token.strip())
            except InvalidCredentials as exc:
                await _deny(send, 401, "Unauthorized", str(exc))
                return
        collection = self._restricted_collection(scope["path"])
        if collection is not None:
            if user is None:
                await _deny(
                    send,
                    401,
                    "Unauthorized",
                    f"collection {collection!r} needs credentials (Authorization: Bearer <token>)",
                )
                return
            if not user.may_read(collection):
                await _deny(send, 403, "Forbidden", f"role {user.role!r} may not read collection {collection!r}")
                return
        process = _restricted_process(scope["path"])
        if process is not None:
            if user is None:
                await _deny(
                    send, 401, "Unauthorized", f"process {process!r} needs credentials (Authorization: Bearer <token>)"
                )
                return
            if user.role not in ROLE_PROCESSES[process]:
                await _deny(send, 403, "Forbidden", f"role {user.role!r} may not run process {process!r}")
                return
            scope, receive = await _with_caller(scope, receive, user.name)
        scope[USER_KEY] = user
        await self.app(scope, receive, send)

    def _restricted_collection(self, path: str) -> str | None:
        parts = path.split("/", 3)
        if len(parts) >= 3 and parts[1] == "collections" and parts[2] in self.restricted:
            return parts[2]
        return None


def _restricted_process(path: str) -> str | None:
    parts = path.split("/", 3)
    if len(parts) >= 4 and parts[1] == "processes" and parts[2] in ROLE_PROCESSES and parts[3]:
        return parts[2]
    return None


async def _with_caller(scope: Scope, receive: Receive, name: str) -> tuple[Scope, Receive]:
    """The request with its JSON body's `inputs.by` set to the caller's name (a body that is no JSON object with
    `inputs` goes on unchanged: the process refuses it). RequestLimits has bounded the body already."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("inputs"), dict):
        document["inputs"]["by"] = name
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return {**scope, "headers": headers}, replay


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


async def _deny(send: Send, status: int, code: str, description: str) -> None:
    await send_error(
        send, status, code, description, [(b"www-authenticate", b'Bearer realm="covid-gis"')] if status == 401 else None
    )
