"""Benchmark scripts run (smoke only: tiny sizes, no timing asserted -- speed goals live in benchmarks/)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(script, *args, timeout=120):
    p = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True,
                       text=True, timeout=timeout, cwd=BENCH.parent)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout


def test_bench_import_smoke():
    out = _run("bench_import.py", "--repeats", "2")
    assert "import gtv_symbolic (this tree), minus start-up" in out


@pytest.mark.slow
def test_bench_dask_sweep_smoke():
    pytest.importorskip("distributed")
    out = _run("bench_dask_sweep.py", "--repeats", "1", "--cells", "4", "--n-samples", "500",
               timeout=300)
    assert "results identical on both clusters" in out
