"""Import time of ``gtv_symbolic`` (goal: under 1 s), against a bare interpreter in the same run.

    python benchmarks/bench_import.py [--repeats 15] [--against main]

Each repeat starts fresh interpreters, interleaved: ``python -c "pass"`` (the baseline),
``python -c "import gtv_symbolic"`` from this tree and, with ``--against REV``, from a
temporary ``git worktree`` of REV. The import cost is the paired difference (import minus
bare start-up of the same repeat); reported as the median with the 10-90 % spread, plus the
heaviest modules from ``python -X importtime`` of this tree. Not a test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, drop_worktree, spread, worktree


def _wall(code: str, tree: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, cwd=tree, check=True)
    return time.perf_counter() - t0


def importtime_top(tree: Path, k: int = 5):
    """The ``k`` largest cumulative entries of ``-X importtime`` (microseconds, module)."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    p = subprocess.run([sys.executable, "-X", "importtime", "-c", "import gtv_symbolic"],
                       env=env, cwd=tree, capture_output=True, text=True, check=True)
    rows = []
    for line in p.stderr.splitlines()[1:]:
        parts = line.split("|")
        if len(parts) == 3:
            rows.append((int(parts[1]), parts[2].rstrip()))
    return sorted(rows, reverse=True)[:k]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--against", default=None, metavar="REV",
                    help="also time the import at this git revision (e.g. main)")
    args = ap.parse_args(argv)
    other = worktree(args.against) if args.against else None
    try:
        trees = {"this tree": ROOT} | ({args.against: other} if other else {})
        for t in trees.values():  # warm the file cache and __pycache__
            _wall("import gtv_symbolic", t)
        bare, cost = [], {k: [] for k in trees}
        for _ in range(args.repeats):
            b = _wall("pass", ROOT)
            bare.append(b)
            for k, t in trees.items():
                cost[k].append(_wall("import gtv_symbolic", t) - b)
        print(f"# {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
              f"{args.repeats} interleaved repeats")
        m, lo, hi = spread(bare)
        print(f"bare interpreter start-up: median {m * 1e3:.0f} ms (10-90 %: {lo * 1e3:.0f}-"
              f"{hi * 1e3:.0f} ms)")
        for k, xs in cost.items():
            m, lo, hi = spread(xs)
            print(f"import gtv_symbolic ({k}), minus start-up: median {m * 1e3:.0f} ms "
                  f"(10-90 %: {lo * 1e3:.0f}-{hi * 1e3:.0f} ms); goal < 1000 ms: "
                  f"{'met' if hi < 1.0 else 'NOT met'}")
        if other:
            ratios = [a / max(b, 1e-4)
                      for a, b in zip(cost["this tree"], cost[args.against], strict=True)]
            m, lo, hi = spread(ratios)
            print(f"ratio this tree / {args.against}: median {m:.3f} (10-90 %: {lo:.3f}-{hi:.3f})")
        print("heaviest imports (cumulative, this tree):")
        for us, mod in importtime_top(ROOT):
            print(f"  {us / 1e3:8.1f} ms  {mod.strip()}")
    finally:
        if other:
            drop_worktree(other)
    return 0


if __name__ == "__main__":
    sys.exit(main())
