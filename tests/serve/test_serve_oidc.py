"""Optional OIDC: JWTs signed by the configured issuer's keys are accepted with the role from their claim."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from serve_support import bearer, filled, running_server  # noqa: F401

ISSUER, AUDIENCE = "https://sso.example.vn/realms/dongnai", "covid-gis"


@pytest.fixture(scope="module")
def keys():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048), rsa.generate_private_key(
        public_exponent=65537, key_size=2048
    )


@pytest.fixture(scope="module")
def jwks_url(keys):
    jwk = {**json.loads(RSAAlgorithm.to_jwk(keys[0].public_key())), "kid": "k1", "use": "sig", "alg": "RS256"}
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/certs"
    httpd.shutdown()


@pytest.fixture(scope="module")
def oidc_server(filled, db_url, jwks_url, tmp_path_factory):
    with running_server(
        db_url,
        tmp_path_factory.mktemp("oidc-var"),
        COVIDGIS_SERVE_OIDC_ISSUER=ISSUER,
        COVIDGIS_SERVE_OIDC_AUDIENCE=AUDIENCE,
        COVIDGIS_SERVE_OIDC_JWKS_URL=jwks_url,
    ) as base:
        yield base


def token(key, roles, **claims) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u1",
        "preferred_username": "lan",
        "iat": now,
        "exp": now + 300,
        "roles": roles,
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


def test_jwt_with_a_role_reads_restricted_collections(oidc_server, keys):
    resp = requests.get(
        f"{oidc_server}/collections/cases/items?f=json", headers=bearer(token(keys[0], ["analyst"])), timeout=30
    )
    assert resp.status_code == 200 and resp.json()["numberMatched"] == 3


@pytest.mark.parametrize("case", ["no role", "wrong key", "expired", "other audience"])
def test_bad_jwts_are_401(oidc_server, keys, case):
    bad = {
        "no role": lambda: token(keys[0], ["viewer"]),
        "wrong key": lambda: token(keys[1], ["analyst"]),
        "expired": lambda: token(keys[0], ["analyst"], exp=int(time.time()) - 10),
        "other audience": lambda: token(keys[0], ["analyst"], aud="other"),
    }[case]()
    resp = requests.get(f"{oidc_server}/collections/cases/items", headers=bearer(bad), timeout=30)
    assert resp.status_code == 401, resp.text
