"""Fixtures of the ingest tests.

Imported by name: a conftest.py here would shadow tests/conftest.py for `from conftest import`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COVIDGIS = Path(sys.executable).parent / "covidgis"
SAMPLES = ROOT / "ingest" / "samples"
SECRET = "test-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def ingest_env(db_url, tmp_path_factory) -> dict[str, str]:
    """Environment for `covidgis`: the module's database, a private var dir, a fixed HMAC secret."""
    var = tmp_path_factory.mktemp("ingest-var")
    return {**os.environ, "DATABASE_URL": db_url, "COVIDGIS_VAR_DIR": str(var), "COVIDGIS_HMAC_SECRET": SECRET}


@pytest.fixture(scope="module")
def covidgis(ingest_env):
    """Run `covidgis ARGS…`; returns the CompletedProcess (check=False lets a test look at a failure)."""

    def run(*args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [str(COVIDGIS), *args], capture_output=True, text=True, cwd=ROOT, env={**ingest_env, **(env or {})}
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"covidgis {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
        return proc

    return run


@pytest.fixture(scope="module")
def ingest_json(covidgis):
    """`covidgis ingest FILE --feed NAME --json`, parsed."""

    def run(path: Path, feed: str, env: dict | None = None) -> dict:
        return json.loads(covidgis("ingest", str(path), "--feed", feed, "--json", env=env).stdout)

    return run
