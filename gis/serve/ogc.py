"""pygeoapi as ASGI apps, one per audience, from the one pygeoapi-config.yml.

pygeoapi's own Starlette module reads its config from the environment at import and keeps one global API; we need
one API per audience (anonymous: public collections only, in /collections and in the OpenAPI document; each role:
public plus its restricted collections), so this module builds the routes around an API instance it is given.

What a caller sends is checked here where pygeoapi would answer 500 (a NUL in the path or query, a datetime
dateutil cannot hold, a process body nested too deep to parse, tiles of a collection without tiles, a job that
does not exist: pygeoapi's message was its id) and a provider error pygeoapi lets through (tile-set metadata) keeps
its status and message.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pygeoapi.api as core_api
import pygeoapi.api.itemtypes as itemtypes_api
import pygeoapi.api.processes as processes_api
import pygeoapi.api.tiles as tiles_api
import yaml
from pygeoapi.api import API, F_JSON, APIRequest, apply_gzip
from pygeoapi.openapi import get_oas
from pygeoapi.process.base import JobNotFoundError
from pygeoapi.provider.base import ProviderGenericError
from pygeoapi.util import get_typed_value
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gis.errors import CovidGisError
from gis.serve import fastjson
from gis.serve.provider import shown

STATIC_DIR = Path(core_api.__file__).resolve().parent.parent / "static"
# RFC 3339 date or date-time; a datetime parameter is one, or an interval of two with '..' or nothing for open ends.
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})?)?")
ENV_REFERENCE = re.compile(r"\$\{(?P<name>\w+)(:-(?P<default>[^}]*))?\}")  # as pygeoapi's yaml_load reads them
MAX_BODY_DEPTH = 32  # nesting of a process request body; a GeoJSON FeatureCollection of polygons needs ~10


def load_config(path: Path, environment: Mapping[str, str]) -> dict:
    """The config with its ${VAR:-default} values filled from `environment`, then the process's own variables.

    pygeoapi's `yaml_load` fills them from os.environ only, so the database passwords would have to be written there
    for every later subprocess to inherit; here they are filled in the parsed values (never in the YAML text, where a
    quote in a password could change the document) and os.environ is only read.
    """
    with path.open(encoding="utf-8") as fh:
        config = _substitute(yaml.safe_load(fh), {**os.environ, **environment})
    templates = config["server"].get("templates")
    if templates:  # relative to the config file, not to wherever the server was started
        config["server"]["templates"] = {key: str(path.parent / value) for key, value in templates.items()}
    return config


# The keys whose ${VAR} values are numbers (pygeoapi's schema wants the bind port as one; our providers read the
# others with float()). Every other substituted value stays text: a password `1e5` or `0123` is not a number.
NUMERIC_KEYS = frozenset({"port", "statement_timeout_seconds", "version_ttl_seconds"})


def _substitute(value: Any, environment: Mapping[str, str], key: str = "") -> Any:
    """Every ${VAR} and ${VAR:-default} in the strings of a parsed YAML document, filled as text.

    Literal values keep the types YAML gave them; a filled value is a number only under a key of NUMERIC_KEYS.
    """
    if isinstance(value, dict):
        return {k: _substitute(item, environment, str(k)) for k, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, environment, key) for item in value]
    if not isinstance(value, str) or "${" not in value:
        return value

    def fill(match: re.Match[str]) -> str:
        name, default = match["name"], match["default"]
        if name in environment:
            return environment[name]
        if default is None:
            raise CovidGisError(f"pygeoapi-config.yml needs the environment variable {name} (it has no default)")
        return default

    filled = ENV_REFERENCE.sub(fill, value)
    if key not in NUMERIC_KEYS:
        return filled
    number = get_typed_value(filled.strip())
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise CovidGisError(f"pygeoapi-config.yml: {key} must be a number, not {filled!r} (from {value})")
    return number


def collections_of(config: dict) -> dict[str, dict]:
    return {k: v for k, v in config["resources"].items() if v.get("type") == "collection"}


def restricted_collections(config: dict, public_db_user: str) -> set[str]:
    """A collection is public exactly when every provider reads through the public role; all others need credentials."""
    return {
        name
        for name, res in collections_of(config).items()
        if any(p.get("data", {}).get("user") != public_db_user for p in res.get("providers", []))
    }


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
        datetime_ = request.query_params.get("datetime")
        if datetime_ is not None and not _valid_datetime(datetime_):
            return _bad_request(
                "datetime: a date (2021-10-20), a date and time (2021-10-20T08:00:00Z) or an "
                "interval of them (2021-10-01/2021-10-20; '..' for an open end)"
            )
        return await _execute(api, itemtypes_api.get_collection_items, request, [cid], True)

    collections = collections_of(api.config)
    tiled = sorted(
        name for name, res in collections.items() if any(p.get("type") == "tile" for p in res.get("providers", []))
    )

    def tiles(path: str, function, *params: str) -> Route:
        """A tile route; a collection without tiles is a 404 that names the tiled ones (pygeoapi: 400 "invalid
        provider type"). Below the tile matrix set, the provider checks the format (mvt, tilejson: not pygeoapi's)."""

        async def endpoint(request: Request) -> Response:
            cid = request.path_params["collection_id"]
            if cid in collections and cid not in tiled:
                return _error(404, "NotFound", f"{cid} has no tiles; tiled collections: {', '.join(tiled)}")
            return await _execute(
                api, function, request, [request.path_params[p] for p in params], "tileMatrixSetId" in params
            )

        return Route(path, endpoint)

    async def execution(request: Request) -> Response:
        problem = await _execution_body_problem(request)
        if problem:
            return _bad_request(problem)
        return await _execute(api, processes_api.execute_process, request, [request.path_params["process_id"]], False)

    async def jobs(request: Request) -> Response:
        job_id = request.path_params.get("job_id")
        if job_id and not await asyncio.to_thread(_job_exists, api, job_id):
            return _error(404, "NoSuchJob", f"no such job: {shown(job_id)}")  # pygeoapi: the id as its message
        if job_id and request.method == "DELETE":
            return await _execute(api, processes_api.delete_job, request, [job_id], False)
        if request.url.path.endswith("/results"):
            return await _execute(api, processes_api.get_job_result, request, [job_id], False)
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
        tiles(c + "/tiles", tiles_api.get_collection_tiles, "collection_id"),
        tiles(tms, tiles_api.get_collection_tiles_metadata, "collection_id", "tileMatrixSetId"),
        tiles(tms + "/metadata", tiles_api.get_collection_tiles_metadata, "collection_id", "tileMatrixSetId"),
        tiles(
            tms + "/{tileMatrix}/{tileRow}/{tileCol}",
            tiles_api.get_collection_tiles_data,
            "collection_id",
            "tileMatrixSetId",
            "tileMatrix",
            "tileRow",
            "tileCol",
        ),
        route("/processes", processes_api.describe_processes),
        route("/processes/{process_id}", processes_api.describe_processes, "process_id"),
        Route("/processes/{process_id}/execution", execution, methods=["POST"]),
        Route("/jobs", jobs),
        Route("/jobs/{job_id}", jobs, methods=["GET", "DELETE"]),
        Route("/jobs/{job_id}/results", jobs),
    ]
    # /static: our templates' files, then the map's (its vendored Leaflet), then pygeoapi's (logo, default.css).
    static = StaticFiles(
        directory=api.config["server"].get("templates", {}).get("static", STATIC_DIR),
        packages=[("gis.maps", "static"), ("pygeoapi", "static")],
    )
    return Starlette(routes=[Mount("/static", static), *routes])


def _error(status: int, code: str, description: str) -> JSONResponse:
    return JSONResponse({"code": code, "description": description}, status_code=status)


def _bad_request(description: str) -> JSONResponse:
    return _error(400, "InvalidParameterValue", description)


def _valid_datetime(value: str) -> bool:
    """An RFC 3339 instant or interval (pygeoapi hands anything to dateutil, which overflows on 5,000 digits)."""
    parts = value.split("/")
    return len(parts) <= 2 and all(p in ("", "..") or DATE_TIME.fullmatch(p) for p in parts) and value != "/"


async def _execution_body_problem(request: Request) -> str | None:
    """pygeoapi answers 500 to a JSON body that is not an object, or nested too deep to parse; say what is
    expected instead."""
    body = await request.body()
    if not body.strip():
        return None
    too_deep = f"the request body is nested more than {MAX_BODY_DEPTH} levels deep"
    try:
        document = json.loads(body)
    except RecursionError:
        return too_deep
    except ValueError:
        return None  # pygeoapi's own 400
    if not isinstance(document, dict):
        return 'the request body must be a JSON object: {"inputs": {...}}'
    if not isinstance(document.get("inputs", {}), dict):
        return '"inputs" must be a JSON object of input name → value'
    if _depth(document) > MAX_BODY_DEPTH:
        return too_deep
    return None


def _depth(document) -> int:
    """How deep JSON objects and arrays nest in a parsed document (level by level: no recursion)."""
    depth, level = 0, [document]
    while level:
        depth += 1
        level = [
            child
            for node in level
            if isinstance(node, (dict, list))
            for child in (node.values() if isinstance(node, dict) else node)
        ]
    return depth - 1


def _job_exists(api: API, job_id: str) -> bool:
    try:
        api.manager.get_job(job_id)
    except JobNotFoundError:
        return False
    return True


def _call_in_thread(
    loop: asyncio.AbstractEventLoop, prebuilt: bool, function, api: API, api_request: APIRequest, *args
):
    """pygeoapi's process manager expects an event loop in the calling thread. A provider's error that pygeoapi
    does not catch (tile-set metadata) is still the caller's: its status and message, as pygeoapi answers others.
    prebuilt: the provider may write the features in PostGIS (gis/serve/fastjson.py); they are spliced in here."""
    asyncio.set_event_loop(loop)
    try:
        if not prebuilt:
            return function(api, api_request, *args)
        with fastjson.allowed():
            headers, status, content = function(api, api_request, *args)
            body = fastjson.take()
        if body is not None and status == HTTPStatus.OK:
            content = fastjson.splice(content, body)
        return headers, status, content
    except ProviderGenericError as err:
        return api.get_exception(
            err.http_status_code,
            api_request.get_response_headers(**api.api_headers),
            api_request.format,
            err.ogc_exception_code,
            err.message,
        )


async def _execute(api: API, function, request: Request, args: list, skip_valid_check: bool) -> Response:
    """What pygeoapi.starlette_app.execute_from_starlette does, for a given API instance."""
    if any("\x00" in value for value in request.path_params.values()):
        return _bad_request("the path cannot contain NUL characters")
    if any("\x00" in key or "\x00" in value for key, value in request.query_params.multi_items()):
        return _bad_request("query parameters cannot contain NUL characters")
    api_request = await APIRequest.from_starlette(request, api.locales)
    if not skip_valid_check and not api_request.is_valid():
        headers, status, content = api.get_format_exception(api_request)
    else:
        loop = asyncio.get_running_loop()
        # Features written by PostGIS: a GET of items as GeoJSON (f=json, or no format and no Accept naming another).
        prebuilt = (
            function is itemtypes_api.get_collection_items
            and request.method == "GET"
            and api_request.format in (None, F_JSON)
            and not api.pretty_print
        )
        headers, status, content = await loop.run_in_executor(
            None, _call_in_thread, loop, prebuilt, function, api, api_request, *args
        )
        content = apply_gzip(headers, content)
    response: Response
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
