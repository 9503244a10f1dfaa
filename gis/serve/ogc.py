"""pygeoapi as ASGI apps, one per audience, from the one pygeoapi-config.yml.

pygeoapi's own Starlette module reads its config from the environment at import and keeps one global API; we need
one API per audience (anonymous: public collections only, in /collections and in the OpenAPI document; each role:
public plus its restricted collections), so this module builds the routes around an API instance it is given.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
from pathlib import Path

from pygeoapi.api import API, APIRequest, apply_gzip
import pygeoapi.api as core_api
import pygeoapi.api.itemtypes as itemtypes_api
import pygeoapi.api.processes as processes_api
import pygeoapi.api.tiles as tiles_api
from pygeoapi.openapi import get_oas
from pygeoapi.util import yaml_load
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(core_api.__file__).resolve().parent.parent / "static"


def load_config(path: Path, environment: dict[str, str]) -> dict:
    """The config with its ${VAR:-default} values filled from `environment` (pygeoapi reads os.environ)."""
    os.environ.update(environment)
    with path.open(encoding="utf-8") as fh:
        return yaml_load(fh)


def collections_of(config: dict) -> dict[str, dict]:
    return {k: v for k, v in config["resources"].items() if v.get("type") == "collection"}


def restricted_collections(config: dict, public_db_user: str) -> set[str]:
    """A collection is public exactly when every provider reads through the public role; all others need credentials."""
    return {name for name, res in collections_of(config).items()
            if any(p.get("data", {}).get("user") != public_db_user for p in res.get("providers", []))}


def audience_config(config: dict, hidden: set[str]) -> dict:
    """The config without the collections this audience may not see."""
    cfg = copy.deepcopy(config)
    cfg["resources"] = {k: v for k, v in cfg["resources"].items() if k not in hidden}
    return cfg


def make_api(config: dict) -> API:
    return API(config, get_oas(config))


def ogc_app(api: API) -> Starlette:
    """pygeoapi's OGC API routes (Features, Tiles, Processes) around one API instance."""

    def route(path: str, function, *params: str, methods=("GET",), skip_valid_check: bool = False) -> Route:
        async def endpoint(request: Request) -> Response:
            args = [request.path_params[p] for p in params]
            return await _execute(api, function, request, args, skip_valid_check)
        return Route(path, endpoint, methods=list(methods))

    async def items(request: Request) -> Response:
        cid = request.path_params["collection_id"]
        sortby = request.query_params.get("sortby")
        if sortby is not None and any(p.strip("+- ") == "" for p in sortby.split(",")):
            return _bad_request("sortby: a comma-separated list of property names, each optionally prefixed + or -")
        return await _execute(api, itemtypes_api.get_collection_items, request, [cid], True)

    async def execution(request: Request) -> Response:
        problem = await _execution_body_problem(request)
        if problem:
            return _bad_request(problem)
        return await _execute(api, processes_api.execute_process, request, [request.path_params["process_id"]],
                              False)

    async def jobs(request: Request) -> Response:
        job_id = request.path_params.get("job_id")
        if job_id and request.method == "DELETE":
            return await _execute(api, processes_api.delete_job, request, [job_id], False)
        return await _execute(api, processes_api.get_jobs, request, [job_id] if job_id else [], False)

    c = "/collections/{collection_id}"
    tms = c + "/tiles/{tileMatrixSetId}"
    routes = [
        route("/", core_api.landing_page),
        route("/openapi", core_api.openapi_),
        route("/conformance", core_api.conformance),
        route("/TileMatrixSets", tiles_api.tilematrixsets),
        route("/TileMatrixSets/{tileMatrixSetId}", tiles_api.tilematrixset, "tileMatrixSetId"),
        route("/collections", core_api.describe_collections),
        route(c, core_api.describe_collections, "collection_id"),
        route(c + "/schema", core_api.get_collection_schema, "collection_id"),
        route(c + "/queryables", itemtypes_api.get_collection_queryables, "collection_id"),
        Route(c + "/items", items, methods=["GET", "POST"]),
        route(c + "/items/{item_id}", itemtypes_api.get_collection_item, "collection_id", "item_id"),
        route(c + "/tiles", tiles_api.get_collection_tiles, "collection_id"),
        route(tms, tiles_api.get_collection_tiles_metadata, "collection_id", "tileMatrixSetId",
              skip_valid_check=True),
        route(tms + "/metadata", tiles_api.get_collection_tiles_metadata, "collection_id", "tileMatrixSetId",
              skip_valid_check=True),
        route(tms + "/{tileMatrix}/{tileRow}/{tileCol}", tiles_api.get_collection_tiles_data, "collection_id",
              "tileMatrixSetId", "tileMatrix", "tileRow", "tileCol", skip_valid_check=True),
        route("/processes", processes_api.describe_processes),
        route("/processes/{process_id}", processes_api.describe_processes, "process_id"),
        Route("/processes/{process_id}/execution", execution, methods=["POST"]),
        Route("/jobs", jobs),
        Route("/jobs/{job_id}", jobs, methods=["GET", "DELETE"]),
        route("/jobs/{job_id}/results", processes_api.get_job_result, "job_id"),
    ]
    return Starlette(routes=[Mount("/static", StaticFiles(directory=STATIC_DIR)), *routes])


def _bad_request(description: str) -> JSONResponse:
    return JSONResponse({"code": "InvalidParameterValue", "description": description}, status_code=400)


async def _execution_body_problem(request: Request) -> str | None:
    """pygeoapi answers 500 to a JSON body that is not an object; say what is expected instead."""
    body = await request.body()
    if not body.strip():
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None  # pygeoapi's own 400
    if not isinstance(document, dict):
        return 'the request body must be a JSON object: {"inputs": {...}}'
    if not isinstance(document.get("inputs", {}), dict):
        return '"inputs" must be a JSON object of input name → value'
    return None


def _call_in_thread(loop: asyncio.AbstractEventLoop, function, *args):
    """pygeoapi's process manager expects an event loop in the calling thread."""
    asyncio.set_event_loop(loop)
    return function(*args)


async def _execute(api: API, function, request: Request, args: list, skip_valid_check: bool) -> Response:
    """What pygeoapi.starlette_app.execute_from_starlette does, for a given API instance."""
    if any("\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()):
        return _bad_request("query parameters cannot contain NUL characters")
    api_request = await APIRequest.from_starlette(request, api.locales)
    if not skip_valid_check and not api_request.is_valid():
        headers, status, content = api.get_format_exception(api_request)
    else:
        loop = asyncio.get_running_loop()
        headers, status, content = await loop.run_in_executor(None, _call_in_thread, loop, function, api,
                                                              api_request, *args)
        content = apply_gzip(headers, content)
    if headers.get("Content-Type") == "text/html":
        response = HTMLResponse(content=content, status_code=status)
    elif isinstance(content, dict):
        response = JSONResponse(content, status_code=status)
    elif status in (204, 304):
        response = Response(status_code=status)
    else:
        response = Response(content, status_code=status)
    response.headers.update({k: v for k, v in headers.items() if not (status in (204, 304) and k == "Content-Type")})
    return response
