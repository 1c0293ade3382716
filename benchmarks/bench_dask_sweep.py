"""A 2-D sweep of 40 cells on a Dask LocalCluster: 2 workers against 1 worker (goal >= 1.7x).

    python benchmarks/bench_dask_sweep.py [--repeats 3] [--cells 40] [--n-samples 20000]

A cell is Fig. 3's experiment (``experiments.fig3.run``) at one rotation angle and one
training-set size ``P``: ``n_models`` 2-D linear denoisers (Gaussian features, 10 x 10 x 10)
trained in closed form, integrated by the compiled 2-D Euler sampler and histogrammed;
40 cells = 8 angles x 5 sizes. Each cell has its own seed, so both clusters return identical
arrays (checked).

Both clusters (``processes=True``, one thread per worker) are started first and warmed up
(Numba kernels loaded in every worker); the timed sweeps then alternate 1-worker,
2-worker, ... so that both see the same machine load. Reported: each repeat's ratio
t(1 worker) / t(2 workers), their median and range, and the mean with its standard error.
Not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
from _common import use_this_tree

use_this_tree()  # this tree's gtv_symbolic, also in the Dask worker processes


def cell(task):
    """One sweep cell: Fig. 3's experiment at one angle and one P -> mean 2-D density."""
    seed, theta, P, n_models, n_samples = task
    from gtv_symbolic.experiments import fig3

    s = fig3.Settings(features=("gaussian",), thetas=(theta,), P=P, n_models=n_models,
                      n_samples=n_samples, seed=seed)
    return fig3.run(s, cache=False, workers=1)["avg"].values


def _warm():
    from gtv_symbolic.experiments import fig3  # noqa: F401  (imports, compiled kernels)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cells", type=int, default=40)
    ap.add_argument("--n-models", type=int, default=2)
    ap.add_argument("--n-samples", type=int, default=20_000)
    args = ap.parse_args(argv)

    from distributed import Client, LocalCluster

    from gtv_symbolic._runtime.parallel import map_tasks

    thetas = np.linspace(0, np.pi / 4, 8)
    Ps = (100, 200, 300, 400, 500)
    grid = [(th, P) for th in thetas for P in Ps][: args.cells]
    tasks = [(1000 + k, float(th), int(P), args.n_models, args.n_samples)
             for k, (th, P) in enumerate(grid)]
    print(f"# {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {len(tasks)} cells, "
          f"N = {args.n_models} models x {args.n_samples} samples each")
    clusters = {k: LocalCluster(n_workers=k, threads_per_worker=1, processes=True,
                                dashboard_address=":0") for k in (1, 2)}
    clients = {k: Client(c) for k, c in clusters.items()}
    try:
        for c in clients.values():
            c.run(_warm)
            map_tasks(cell, tasks[:2], scheduler=c)  # untimed: imports, first calls
        times = {1: [], 2: []}
        ref = None
        for r in range(args.repeats):
            for k in (1, 2):
                t0 = time.perf_counter()
                out = map_tasks(cell, tasks, scheduler=clients[k])
                times[k].append(time.perf_counter() - t0)
                if ref is None:
                    ref = out
                elif not all(np.array_equal(a, b) for a, b in zip(ref, out, strict=True)):
                    raise AssertionError("results differ between runs/clusters")
            print(f"repeat {r + 1}: 1 worker {times[1][-1]:.2f} s, 2 workers {times[2][-1]:.2f} s, "
                  f"ratio {times[1][-1] / times[2][-1]:.2f}", flush=True)
        ratios = [a / b for a, b in zip(times[1], times[2], strict=True)]
        se = statistics.stdev(ratios) / len(ratios) ** 0.5 if len(ratios) > 1 else float("nan")
        print(f"speed-up 2 workers vs 1: median {statistics.median(ratios):.2f} (range "
              f"{min(ratios):.2f}-{max(ratios):.2f}), mean {statistics.mean(ratios):.2f} +- "
              f"{se:.2f} (s.e., {len(ratios)} repeats); goal >= 1.7: "
              f"{'met' if statistics.median(ratios) >= 1.7 else 'NOT met'}")
        print(f"results identical on both clusters and all repeats; load average after "
              f"{os.getloadavg()[0]:.2f}")
    finally:
        for c in clients.values():
            c.close()
        for c in clusters.values():
            c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
