"""`POST /welfare/api/deliveries`: an officer (bearer token of role `welfare`, scoped to a commune or district)
records a delivery in the ledger (gis/welfare/ledger.py).

201 with the stored delivery; 409 with the reason and the earlier delivery (commune, date, officer) for a
duplicate inside the programme's dedup scope; 422 for a refusal (unknown household or programme, programme not
open, household outside the officer's area, bad fields); 400 for a body that is not a JSON object; 401 without
credentials, 403 for another role. The officer recorded is the token's user, not a field of the body.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from gis.context import AppContext
from gis.serve.auth import USER_KEY, User
from gis.serve.jsonbody import read_json_object
from gis.welfare.errors import DeliveryRefused, DuplicateDelivery
from gis.welfare.ledger import Delivery, new_distribution_id, record_delivery
from gis.welfare.programmes import available_programmes, load_programme

MAX_BODY = 16_384  # bytes: a delivery is a few hundred


class DeliveryBody(BaseModel):
    """The fields of a delivery an officer sends (the officer is the token's user)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    programme: str = Field(min_length=1, max_length=200)
    household_id: str = Field(min_length=1, max_length=200)
    at: dt.datetime
    amount_vnd: StrictInt | None = None
    kit: str | None = Field(default=None, max_length=200)
    warehouse_id: str | None = Field(default=None, max_length=200)
    receipt_code: str | None = Field(default=None, max_length=200)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    distribution_id: str | None = Field(default=None, min_length=1, max_length=200)


def _error(status: int, reason: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"reason": reason, "message": message, **extra}, status_code=status)


def welfare_routes(ctx: AppContext) -> list[BaseRoute]:
    """The routes; the primary database is reached at the first delivery (a server on a replica starts none)."""
    shipped = set(available_programmes())

    def record(body: DeliveryBody, user: User) -> JSONResponse:
        if body.programme not in shipped:  # a shipped id only: never a path on the server
            return _error(422, "unknown_programme", f"unknown programme {body.programme!r}")
        programme = load_programme(body.programme)
        delivery = Delivery(
            distribution_id=body.distribution_id or new_distribution_id(),
            programme=programme.id,
            household_id=body.household_id,
            at=body.at,
            officer=user.name,
            amount_vnd=body.amount_vnd,
            kit=body.kit,
            warehouse_id=body.warehouse_id,
            receipt_code=body.receipt_code,
            lon=body.lon,
            lat=body.lat,
        )
        try:
            stored = record_delivery(ctx.engine, programme, delivery, ctx.welfare, scope=user.area)
        except DuplicateDelivery as refused:
            return _error(409, refused.reason, str(refused), earlier=refused.earlier)
        except DeliveryRefused as refused:
            return _error(422, refused.reason, str(refused))
        return JSONResponse(stored.to_json(), status_code=201)

    async def deliveries(request: Request) -> JSONResponse:
        user: User | None = request.scope.get(USER_KEY)
        if user is None:
            return JSONResponse(
                {"reason": "unauthorized", "message": "send 'Authorization: Bearer <token>' of a welfare officer"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="covid-gis"'},
            )
        if user.role != "welfare" or user.area is None:
            return _error(403, "forbidden", f"role {user.role!r} may not record deliveries (a scoped welfare officer)")
        body = await read_json_object(request, DeliveryBody, MAX_BODY)
        if isinstance(body, JSONResponse):
            return body
        return await run_in_threadpool(record, body, user)

    return [Route("/welfare/api/deliveries", deliveries, methods=["POST"])]
