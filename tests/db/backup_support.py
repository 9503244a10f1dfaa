"""Helpers of the backup tests: `covidgis` on a project-local cluster of the test's own, and one-line errors.

Imported by name (`from backup_support import ...`): a conftest.py here would shadow tests/conftest.py.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import COVIDGIS


def local_env(var: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of a project-local cluster in var (no DATABASE_URL, no secret: var/hmac.key is generated)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVIDGIS_") and k != "DATABASE_URL"}
    return {**env, "COVIDGIS_VAR_DIR": str(var), "COVIDGIS_PG_PORT": str(port), "COLUMNS": "1000", **extra}


def covidgis(env: dict, *args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(COVIDGIS), *args], capture_output=True, text=True, env=env, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"covidgis {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    """stderr without the log lines: what a user reads."""
    return [line for line in proc.stderr.splitlines() if line.strip() and not line.startswith(("INFO", "WARNING"))]


def assert_one_line_error(proc: subprocess.CompletedProcess, *words: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = error_lines(proc)
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])
    return lines[0]
