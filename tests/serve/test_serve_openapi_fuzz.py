"""Fuzzing every operation of the served OpenAPI documents — the anonymous one, and an analyst's, which holds every
restricted collection (called with the analyst's token): no request is answered with a 5xx.

Two generators: schemathesis (requests that fit the documented types), and our own (any text — NUL, 4,000
characters, any Unicode, numbers too large for a float — in every path and query parameter, whatever its declared
type, and any JSON as process inputs).

pygeoapi's document points at OGC schemas on schemas.opengis.net; the tests run offline, so those references are
replaced by local equivalents (parameters by their OGC definitions, responses and schemas by permissive ones).
"""

import json
import re
from urllib.parse import quote

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Err
from serve_support import RESTRICTED, bearer, filled, served, tokens  # noqa: F401

EXAMPLES_PER_OPERATION = 25
OUR_EXAMPLES_PER_OPERATION = 15
OGC_PARAMETERS = {
    "featureId": {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}},
    "datetime": {"name": "datetime", "in": "query", "required": False, "schema": {"type": "string"}},
    "sortby.yaml": {"name": "sortby", "in": "query", "required": False, "schema": {"type": "string"}},
    "tileMatrixSetId": {
        "name": "tileMatrixSetId",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": ["WebMercatorQuad", "WorldCRS84Quad"]},
    },
    "tileMatrix": {"name": "tileMatrix", "in": "path", "required": True, "schema": {"type": "string"}},
    "tileRow": {"name": "tileRow", "in": "path", "required": True, "schema": {"type": "integer"}},
    "tileCol": {"name": "tileCol", "in": "path", "required": True, "schema": {"type": "integer"}},
}
# Query parameters pygeoapi reads on items without documenting them all.
ITEMS_PARAMETERS = ["filter", "filter-lang", "filter-crs", "datetime", "resulttype", "q", "sortby", "offset"]
NASTY = [
    "\x00",
    "a\x00",
    "9" * 4000,
    "1e400",
    "-1e400",
    "NaN",
    "-1",
    "2" * 30,
    "'",
    "%",
    "..",
    "/",
    "{}",
    "[]",
    "Ω☃💥\u202e",
    "INTERSECTS(geom, POINT(1e400 0))",
    "geom = 'x'",
    "nonexistent=1",
    "1" * 300 + "/..",
    "2021-02-30",
    "WebMercatorQuad",
    "0",
    "",
]
ANY_TEXT = st.one_of(st.sampled_from(NASTY), st.text(st.characters(codec="utf-8"), max_size=60))
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)


def offline(node, context: str = ""):
    """The document with every external $ref replaced by a local equivalent."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            name = ref.rsplit("/", 1)[-1]
            if context == "parameters":
                return OGC_PARAMETERS[name]
            if context == "responses":
                return {"description": name}
            return {}
        return {
            k: offline(
                v,
                k
                if k in ("parameters", "responses")
                else ("" if k in ("schema", "content", "requestBody", "properties", "items") else context),
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [offline(v, context) for v in node]
    return node


@pytest.fixture(scope="module", params=["anonymous", "analyst"])
def audience(request, served, tokens):
    """Who calls (headers) and the OpenAPI document they are served."""
    headers = {} if request.param == "anonymous" else bearer(tokens["analyst"])
    document = offline(requests.get(f"{served}/openapi?f=json", headers=headers, timeout=30).json())
    restricted_paths = [p for p in document["paths"] if any(f"/collections/{cid}/" in p for cid in RESTRICTED)]
    assert bool(restricted_paths) == bool(headers), restricted_paths[:3]
    if headers:
        assert {f"/collections/{cid}/items" for cid in RESTRICTED} <= set(document["paths"])
    return headers, document


def server_error(response: requests.Response, method: str) -> str | None:
    if response.status_code < 500:
        return None
    return f"{method} {str(response.request.url)[:300]} → {response.status_code}: {response.text[:200]}"


def test_no_server_errors_for_generated_requests(served, audience):
    headers, document = audience
    schema = schemathesis.openapi.from_dict(document)
    failures, operations = [], 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            pytest.fail(f"an operation of the OpenAPI document is not valid: {result.err()}")
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case):
            found = server_error(case.call(base_url=served, headers=headers, timeout=60), case.method)
            if found:
                failures.append(found)

        call()
    assert operations >= (30 if not headers else 60)
    assert not failures, "\n".join(failures[:20])


def parameters_of(path: str, operation: dict) -> tuple[list[str], list[str]]:
    """Names of the path and query parameters of an operation (items: also the ones pygeoapi leaves out)."""
    declared = [p for p in operation.get("parameters", []) if "name" in p]
    in_path = re.findall(r"{(\w+)}", path)
    query = [p["name"] for p in declared if p.get("in") == "query"]
    if path.endswith("/items"):
        query = list(dict.fromkeys([*query, *ITEMS_PARAMETERS]))
    return in_path, query


def test_no_server_errors_for_any_text_in_any_parameter(served, audience):
    headers, document = audience
    failures, session = [], requests.Session()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method not in ("get", "post"):
                continue
            in_path, query = parameters_of(path, operation)
            body = st.just(None)
            if method == "post":  # process execution: any JSON as any input
                inputs = list(
                    requests.get(
                        f"{served}{path.rsplit('/', 1)[0]}", params={"f": "json"}, headers=headers, timeout=30
                    ).json()["inputs"]
                )
                body = st.one_of(
                    st.dictionaries(st.sampled_from(inputs), ANY_JSON).map(lambda i: {"inputs": i}), ANY_JSON
                )

            @settings(
                max_examples=OUR_EXAMPLES_PER_OPERATION,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(
                path_values=st.fixed_dictionaries({name: ANY_TEXT for name in in_path}),
                query_values=st.dictionaries(st.sampled_from(query or ["f"]), ANY_TEXT, max_size=4),
                payload=body,
            )
            def call(path_values, query_values, payload):  # run at once, inside this loop iteration
                url = served + path.format(**{k: quote(v, safe="") for k, v in path_values.items()})  # noqa: B023
                data = None if payload is None else json.dumps(payload)
                response = session.request(
                    method,  # noqa: B023
                    url,
                    params={"limit": "2", **query_values},
                    data=data,
                    headers={**headers, "Content-Type": "application/json"},
                    timeout=60,
                )
                found = server_error(response, method.upper())  # noqa: B023
                if found:
                    failures.append(found)

            call()
    assert not failures, "\n".join(failures[:20])
