"""Security headers on every response: a Content-Security-Policy without inline script, nosniff, a referrer policy.

Defence in depth behind escaping. Our pages hand data to their scripts in JSON data blocks and build popups from DOM
nodes (gis/serve/templates, gis/serve/static/covidgis, gis/maps), so an ingested value — a venue name a business
typed — never becomes markup; if one ever did, the policy keeps it from running: scripts only from this server
(no inline script, event handler or javascript: URL), no plugins, no <base> to redirect relative URLs, no framing
by other sites.
Images may also come from the basemaps' tile servers; nothing else leaves this server.

The policy is the same for every response, /map included (JSON and errors too: a browser opening one as a document
gets it as well). No page has inline script or style: style comes from stylesheets, and scripts colour elements
through the CSSOM (element.style), which the policy allows, never through style attributes in markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REFERRER_POLICY = "strict-origin-when-cross-origin"  # other sites (tile servers) see our origin, never a path


def tile_origin(url_template: str) -> str:
    """The CSP source of a tile URL template: https://{s}.tile.example.org/{z}/{x}/{y}.png → https://*.tile.example.org"""
    parts = urlsplit(url_template)
    host = ".".join("*" if "{" in label else label for label in parts.netloc.split("."))
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_urls: Iterable[str] = ()) -> str:
    """The policy: everything from this server only, images also from the tile servers, no inline script or style."""
    tiles = sorted({tile_origin(url) for url in tile_urls if url})
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *tiles],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class SecurityHeadersMiddleware:
    """Set Content-Security-Policy, X-Content-Type-Options and Referrer-Policy on every HTTP response (replacing any
    the app set, so the policy lives in one place)."""

    def __init__(self, app: ASGIApp, tile_urls: Iterable[str] = ()):
        self.app = app
        self.headers = _encoded(content_security_policy(tile_urls))
        self.names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in self.names]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _encoded(policy: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", REFERRER_POLICY.encode()),
    ]
