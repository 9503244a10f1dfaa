"""benchmarks/trace.py --quick runs end to end and prints every figure with its goal (no timing asserts: the machine
is shared); the engine finds exactly the exposures the reference self-join finds, also after the check-ins batch
(incremental)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_trace_benchmark_quick():
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "trace.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    for figure, goal in (
        ("(a) all exposures of 100 new F0", "≤ 2 s"),
        ("(b) one F0 (median of 20)", "≤ 50 ms"),
        ("(c) incremental after a 10,000-row batch", "≤ 1 s"),
        ("(d) peak memory, Python process", "≤ 1 GB"),
        ("(d) peak memory, server backend", "≤ 1 GB"),
    ):
        line = next((ln for ln in out.splitlines() if ln.startswith(figure)), None)
        assert line is not None, f"no line {figure!r} in:\n{out}"
        assert goal in line, line
        assert figure.startswith("(d)") or "(load " in line, line  # the timed figures carry the load average
    assert "command: python benchmarks/trace.py --quick" in out
    engine = re.search(r"^\(a\) trace .* ([\d,]+) exposures", out, re.M)
    reference = re.search(r"reference: plain indexed self-join, same F0 .* ([\d,]+) exposures", out)
    assert engine and reference, out
    assert int(engine.group(1).replace(",", "")) > 0
    assert engine.group(1) == reference.group(1)
    # the incremental trace after the batch stores what the self-join finds for the touched F0
    engine_c = re.search(r"^\(c\) incremental trace .* ([\d,]+) exposures of the touched F0", out, re.M)
    reference_c = re.search(r"reference: plain indexed self-join, touched F0 .* ([\d,]+) exposures", out)
    assert engine_c and reference_c, out
    assert int(engine_c.group(1).replace(",", "")) > 0
    assert engine_c.group(1) == reference_c.group(1)
