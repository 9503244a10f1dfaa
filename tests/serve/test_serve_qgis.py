"""QGIS 3.22 (Debian, headless qgis_process) reads `zones` over OGC API Features; its feature counts match."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from serve_support import filled, served  # noqa: F401
from sqlalchemy import text

QGIS_PROCESS = shutil.which("qgis_process.bin") or (
    "/usr/bin/qgis_process.bin" if Path("/usr/bin/qgis_process.bin").exists() else None
)
pytestmark = pytest.mark.skipif(QGIS_PROCESS is None, reason="QGIS (qgis_process.bin) is installed by make test")


def qgis_run(tmp_path: Path, algorithm: str, **params: str) -> dict:
    """Run a processing algorithm headless; its results as printed with --json."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(home),
        "TMPDIR": str(tmp_path),
        "XDG_RUNTIME_DIR": str(tmp_path),
    }
    assert QGIS_PROCESS is not None  # the module is skipped without it
    args = [QGIS_PROCESS, "--json", "run", algorithm, *(f"--{k}={v}" for k, v in params.items())]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(proc.stdout[proc.stdout.index("{") :])["results"]


def test_qgis_reads_zones_over_oapif(served, filled, tmp_path):
    with filled.connect() as conn:
        expected = conn.execute(text("SELECT count(*) FROM pub.zones")).scalar_one()
        levels = conn.execute(text("SELECT sum(level) FROM pub.zones")).scalar_one()
    results = qgis_run(
        tmp_path,
        "qgis:basicstatisticsforfields",
        INPUT_LAYER=f"OAPIF://url='{served}' typename='zones'",
        FIELD_NAME="level",
    )
    assert int(results["COUNT"]) == expected > 1900
    assert float(results["SUM"]) == levels
