"""pygeoapi-config.yml, after our ${VAR} substitution, is valid for pygeoapi's own schema (the one `pygeoapi config
validate` checks) — made strict, so that an unknown key (a typo pygeoapi would silently ignore) fails too. Mutated
copies prove the check can fail."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from pygeoapi.config import load_schema
from pygeoapi.util import to_json

from gis.errors import CovidGisError
from gis.serve.app import PYGEOAPI_CONFIG
from gis.serve.ogc import ENV_REFERENCE, load_config

# Test values for every variable the file reads, so no default hides a reference that breaks the document.
ENVIRONMENT = {
    "COVIDGIS_HOST": "0.0.0.0",
    "COVIDGIS_PORT": "5123",
    "COVIDGIS_BASE_URL": "https://gis.example.vn",
    "COVIDGIS_PYGEOAPI_LOG_LEVEL": "ERROR",
    "COVIDGIS_CONTACT_NAME": "Ban Chỉ đạo (test)",
    "COVIDGIS_DB_HOST": "db.example.vn",
    "COVIDGIS_DB_PORT": "6543",
    "COVIDGIS_DB_NAME": "covidgis_test",
    "COVIDGIS_DB_PUBLIC_USER": "public_test",
    "COVIDGIS_DB_PUBLIC_PASSWORD": "p'w\"d ${NOT_A_VAR} #1",
    "COVIDGIS_DB_RESTRICTED_USER": "restricted_test",
    "COVIDGIS_DB_RESTRICTED_PASSWORD": "r:e/s@t",
    "COVIDGIS_SERVE_STATEMENT_TIMEOUT_SECONDS": "7",
    "COVIDGIS_SERVE_VERSION_TTL_SECONDS": "0.5",
}


PLUGIN_OPTIONS = {"providers", "provider", "processor"}  # plugins read keys of their own (table, geom_field…): open


def strict(schema: Any) -> Any:
    """The schema with `additionalProperties: false` on every object that lists its properties and allows no others
    by pattern: pygeoapi's own schema accepts any extra key, so a misspelt one would pass unseen."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: value if key in PLUGIN_OPTIONS else strict(value) for key, value in schema.items()}
    if "properties" in out and "patternProperties" not in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def synchronous_manager(schema: dict) -> dict:
    """pygeoapi's schema with the job manager's `connection` and `output_dir` allowed to be null.

    The schema requires both as text, but pygeoapi's own default manager sets both to None
    (pygeoapi/process/manager/base.py, get_manager) and a synchronous manager has no job store or result folder: our
    config says null, and any text there (even "") would make the manager write results to that path.
    """
    manager = schema["properties"]["server"]["properties"]["manager"]["properties"]
    for key in ("connection", "output_dir"):
        manager[key]["type"] = ["string", "null"]
    return schema


SCHEMA = synchronous_manager(load_schema())
STRICT = strict(SCHEMA)


def validate(config: dict) -> None:
    """pygeoapi's check (`pygeoapi.config.validate_config`: its schema, on the config as JSON), then the strict one."""
    plain = json.loads(to_json(config))
    jsonschema.validate(plain, SCHEMA)
    jsonschema.validate(plain, STRICT)


@pytest.fixture(scope="module")
def config() -> dict:
    return load_config(PYGEOAPI_CONFIG, ENVIRONMENT)


def test_every_variable_the_file_reads_has_a_test_value() -> None:
    text = PYGEOAPI_CONFIG.read_text(encoding="utf-8")
    assert {m["name"] for m in ENV_REFERENCE.finditer(text)} <= set(ENVIRONMENT)


def test_the_config_is_valid(config: dict) -> None:
    validate(config)
    assert config["server"]["bind"] == {"host": "0.0.0.0", "port": 5123}  # typed as pygeoapi types them
    assert config["resources"], "no resources published"


def _first(config: dict, kind: str) -> dict:
    return next(r for r in config["resources"].values() if r["type"] == kind)


def _provider(config: dict) -> dict:
    return _first(config, "collection")["providers"][0]


MUTATIONS: dict[str, Callable[[dict], None]] = {
    "unknown top-level key": lambda c: c.update(sever={}),
    "unknown server key": lambda c: c["server"].update(bnid=c["server"]["bind"]),
    "unknown resource key": lambda c: _first(c, "collection").update(extends=_first(c, "collection")["extents"]),
    "unknown link key": lambda c: _first(c, "collection")["links"][0].update(herf="https://example.vn"),
    "resource without a type": lambda c: _first(c, "collection").pop("type"),
    "resource of an unknown type": lambda c: _first(c, "collection").update(type="colection"),
    "collection without providers": lambda c: _first(c, "collection").pop("providers"),
    "provider without a name": lambda c: _provider(c).pop("name"),
    "provider of an unknown type": lambda c: _provider(c).update(type="featuer"),
    "port that is not a number": lambda c: c["server"]["bind"].update(port="five thousand"),
    "bbox that is not numbers": lambda c: _first(c, "collection")["extents"]["spatial"].update(bbox="Đồng Nai"),
    "metadata without a license": lambda c: c["metadata"].pop("license"),
    "resources that are a list": lambda c: c.update(resources=list(c["resources"].values())),
}


@pytest.mark.parametrize("mutate", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_a_broken_copy_fails(config: dict, mutate: Callable[[dict], None]) -> None:
    broken = copy.deepcopy(config)
    mutate(broken)
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


@pytest.mark.parametrize("password", ["0123", "1e5", "1.50", "true", "null", "5432"])
def test_a_password_that_looks_like_a_number_stays_text(password: str) -> None:
    """pygeoapi's typing would read 0123 as 123 and true as True; a substituted value is the variable's text."""
    config = load_config(PYGEOAPI_CONFIG, {**ENVIRONMENT, "COVIDGIS_DB_PUBLIC_PASSWORD": password})
    data = _provider(config)["data"]
    assert data["password"] == password and isinstance(data["password"], str)
    assert config["metadata"]["contact"]["name"] == ENVIRONMENT["COVIDGIS_CONTACT_NAME"]
    # The numbers the schema and the providers need are still numbers.
    assert (data["port"], data["statement_timeout_seconds"], data["version_ttl_seconds"]) == (6543, 7, 0.5)
    validate(config)


@pytest.mark.parametrize("port", ["five thousand", "", "true"])
def test_a_port_that_is_not_a_number_is_named(port: str) -> None:
    with pytest.raises(CovidGisError, match=r"port must be a number.*COVIDGIS_DB_PORT"):
        load_config(PYGEOAPI_CONFIG, {**ENVIRONMENT, "COVIDGIS_DB_PORT": port})
