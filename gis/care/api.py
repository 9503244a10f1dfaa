"""`/care`: the provincial F0 coordination centre's page and its JSON API (bearer token of role `coordinator`).

- `GET /care`: the page (static HTML, no data; its script and stylesheet under /care/static, nothing from elsewhere).
- `GET /care/api/transfers`: open and accepted requests with their offers, and the KPIs by tier (gis/care/board.py).
- `POST /care/api/transfers/{request_id}/accept` with `{"facility": "..."}`: accept (gis/care/transfers.py); 200 with
  the summary, 409 with the reason it was refused, 404 for an unknown request, 400 for a body that is not a JSON
  object, 422 for bad fields, 413 over MAX_BODY bytes. Who accepted is the token's user, never a field of the body.
- `GET /care/api/facilities`: occupancy now per facility (counts only, no person data).

Every /care/api route answers 401 without credentials (WWW-Authenticate: Bearer) and 403 for another role; errors
are JSON `{"reason", "message"}`. The primary database is reached at the first API call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gis.care.board import board, facilities_now, request_exists
from gis.care.transfers import TransferRefused, accept
from gis.context import AppContext
from gis.serve.auth import USER_KEY, User
from gis.serve.jsonbody import read_json_object

PREFIX = "/care"
STATIC = Path(__file__).parent / "static"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html", "j2"])
)
TITLE = "Điều phối chuyển tầng F0 — F0 transfer coordination"
ROLE = "coordinator"
MAX_BODY = 4_096  # bytes: an acceptance names one facility
MAX_REQUEST_ID = 2**63 - 1  # care.transfer_request.request_id is a bigint
REFRESH_SECONDS = 30  # the page reloads its tables this often


class AcceptBody(BaseModel):
    """What a coordinator sends to accept a request: the receiving facility (who accepts is the token's user)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    facility: str = Field(min_length=1, max_length=200)


def _error(status: int, reason: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"reason": reason, "message": message}, status_code=status, headers=headers or None)


def _refusal(request: Request) -> JSONResponse | None:
    """401 without a caller, 403 for a caller of another role; None for a coordinator."""
    user: User | None = request.scope.get(USER_KEY)
    if user is None:
        return _error(
            401,
            "unauthorized",
            "cần đăng nhập bằng mã truy cập của điều phối viên — send 'Authorization: Bearer <token>' of a coordinator",
            **{"WWW-Authenticate": 'Bearer realm="covid-gis"'},
        )
    if user.role != ROLE:
        return _error(
            403,
            "forbidden",
            f"vai trò {user.role!r} không được điều phối chuyển tầng — role {user.role!r} may not coordinate transfers",
        )
    return None


def page_config(timezone: str) -> dict[str, Any]:
    """What the page's script needs: where the API is, how often to reload, the time zone times are shown in."""
    return {"api": f"{PREFIX}/api", "refreshSeconds": REFRESH_SECONDS, "timezone": timezone}


def build_page(timezone: str) -> str:
    """The whole page; static, since the data comes from the API."""
    return TEMPLATES.get_template("care.html.j2").render(
        title=TITLE, static=f"{PREFIX}/static", config=page_config(timezone)
    )


def care_routes(ctx: AppContext) -> list[BaseRoute]:
    """The page, its static files and the API; the engine is the context's (the primary: accepting writes)."""
    html = build_page(ctx.maps.timezone)  # the map's time zone: the province's

    def page(request: Request) -> HTMLResponse:
        return HTMLResponse(html, headers={"Cache-Control": "no-cache"})

    async def list_transfers(request: Request) -> JSONResponse:
        refused = _refusal(request)
        if refused is not None:
            return refused
        found = await run_in_threadpool(board, ctx.engine, ctx.care)
        return JSONResponse(found.to_json())

    async def facilities(request: Request) -> JSONResponse:
        refused = _refusal(request)
        if refused is not None:
            return refused
        found = await run_in_threadpool(facilities_now, ctx.engine)
        return JSONResponse(found.to_json())

    def take(request_id: int, facility: str, by: str) -> JSONResponse:
        if not request_exists(ctx.engine, request_id):
            return _error(404, "not_found", f"không có yêu cầu chuyển {request_id} — no transfer request {request_id}")
        try:
            done = accept(ctx.engine, ctx.care, request_id, facility, by)
        except TransferRefused as exc:
            return _error(409, "refused", str(exc))
        return JSONResponse(done.to_json())

    async def accept_transfer(request: Request) -> JSONResponse:
        refused = _refusal(request)
        if refused is not None:
            return refused
        raw_id = request.path_params["request_id"]
        if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 19 or int(raw_id) > MAX_REQUEST_ID:
            return _error(
                404, "not_found", f"không có yêu cầu chuyển {raw_id[:40]!r} — no transfer request {raw_id[:40]!r}"
            )
        body = await read_json_object(request, AcceptBody, MAX_BODY, '{"facility": "…"}')
        if isinstance(body, JSONResponse):
            return body
        user: User = request.scope[USER_KEY]
        return await run_in_threadpool(take, int(raw_id), body.facility, user.name)

    return [
        Route(PREFIX, page),
        Mount(f"{PREFIX}/static", app=StaticFiles(directory=STATIC), name="care-static"),
        Route(f"{PREFIX}/api/transfers", list_transfers),
        Route(f"{PREFIX}/api/transfers/{{request_id}}/accept", accept_transfer, methods=["POST"]),
        Route(f"{PREFIX}/api/facilities", facilities),
    ]
