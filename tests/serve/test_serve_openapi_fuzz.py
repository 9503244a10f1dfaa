"""schemathesis against the served OpenAPI document (anonymous): generated requests to every operation, no 5xx.

pygeoapi's document points at OGC schemas on schemas.opengis.net; the tests run offline, so those references are
replaced by local equivalents (parameters by their OGC definitions, responses and schemas by permissive ones).
"""

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from serve_support import filled, served  # noqa: F401

EXAMPLES_PER_OPERATION = 25
OGC_PARAMETERS = {
    "featureId": {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}},
    "datetime": {"name": "datetime", "in": "query", "required": False, "schema": {"type": "string"}},
    "sortby.yaml": {"name": "sortby", "in": "query", "required": False, "schema": {"type": "string"}},
    "tileMatrixSetId": {"name": "tileMatrixSetId", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": ["WebMercatorQuad", "WorldCRS84Quad"]}},
    "tileMatrix": {"name": "tileMatrix", "in": "path", "required": True, "schema": {"type": "string"}},
    "tileRow": {"name": "tileRow", "in": "path", "required": True, "schema": {"type": "integer"}},
    "tileCol": {"name": "tileCol", "in": "path", "required": True, "schema": {"type": "integer"}},
}


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
        return {k: offline(v, k if k in ("parameters", "responses") else
                           ("" if k in ("schema", "content", "requestBody", "properties", "items") else context))
                for k, v in node.items()}
    if isinstance(node, list):
        return [offline(v, context) for v in node]
    return node


def test_no_server_errors_for_generated_requests(served):
    document = offline(requests.get(f"{served}/openapi?f=json", timeout=30).json())
    schema = schemathesis.openapi.from_dict(document)
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case):
            response = case.call(base_url=served, timeout=60)
            if response.status_code >= 500:
                failures.append(f"{case.method} {response.request.url} → {response.status_code}: "
                                f"{response.text[:200]}")

        call()
    assert operations >= 30
    assert not failures, "\n".join(failures[:20])
