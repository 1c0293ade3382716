"""Network benchmarks (issue 13): Numba vs JAX for the Fig. 3 sampler; nn-vs-theory wall time.

    python benchmarks/bench_nn.py sampler [--repeats 5] [--n-samples 100000]
    python benchmarks/bench_nn.py figure [--figure nn-vs-theory|dimension] [--quick] [--repeats 1]

*sampler*: the Euler PF-ODE sampler behind Figure 3 (one 2-D linear denoiser, Gaussian
10 x 10 x 10 features, the paper's 1e5 samples and 30 steps) by the compiled Numba kernel
(:func:`gtv_symbolic.solvers.euler2d.integrate_euler_2d`) and by the same update written in JAX
(``x <- c1_k x + c2_k b(x_1)^T W_k b(x_2)`` in one ``jit``-ed ``lax.scan``, float64, the
same ``c1, c2`` and time slices ``W_k``). Both are compiled first; the outputs are compared
(max |difference|), then timed alternately (ABAB, so drifting load hits both alike).
Reported: per-repeat ratio JAX / Numba, its median and 10-90 % range, and the load average.

*figure*: ``gtv figures NAME [--quick] --no-cache`` (``nn-vs-theory`` by default, or
``--figure dimension``) in a fresh subprocess: wall time, the CPU seconds of the whole process
tree (user + system, from ``os.wait4``; the wall time on an idle 2-core machine is at least
half of it), the peak of the summed RSS of the process tree (main process and workers,
sampled every 0.5 s from ``/proc``) and the load average before and after, since the machine
may be shared. Goals (issue 13), checked and printed as ``ok``: nn-vs-theory default < 600 s
and < 4 GB, ``--quick`` < 120 s; dimension < 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
from _common import ROOT, spread, use_this_tree

use_this_tree()


def _setup(n_samples: int):
    from gtv_symbolic import schedules
    from gtv_symbolic.denoisers import LinearDenoiser
    from gtv_symbolic.experiments import fig3
    from gtv_symbolic.grids import TimeGrid
    from gtv_symbolic.training import train_ensemble

    s = fig3.Settings()
    fm = fig3.features_for(s, "gaussian")
    rng = np.random.default_rng(0)
    sched = schedules.VP()
    W = train_ensemble(fm, fig3.points(s.n_points, 0.0), sched, P=s.P, n_models=1,
                       eps=s.eps, T=s.T, rng=rng)[0]  # one trained Fig. 3 model
    den = LinearDenoiser(fm, W)
    grid = TimeGrid.linear(sched, s.eps, s.T, 30)
    g = grid.ts
    h = np.diff(g)  # x <- c1 x + c2 mu (the Euler step of the PF-ODE)
    b, Dc, a, s2 = (np.array([float(f(t)) for t in g[:-1]])
                    for f in (sched.beta, sched.D, sched.alpha, sched.sigma2))
    c1, c2 = 1.0 + h * (Dc / s2 - b), -h * Dc * a / s2
    Wt = np.stack([fm.contract_t(W, tk) for tk in g[:-1]])  # (K, 2, n, n)
    x_T = np.sqrt(sched.sigma2(s.T)) * rng.standard_normal((n_samples, 2))
    bx, by = fm.x_bases
    return den, grid, s, x_T, Wt, c1, c2, bx, by


def _jax_sampler(Wt, c1, c2, bx, by):
    import jax
    import jax.numpy as jnp

    def basis(z, b):
        c = jnp.asarray(b.centres)
        return jnp.exp(-((z[:, None] - c) ** 2) / (2 * b.std**2)) / (np.sqrt(2 * np.pi) * b.std)

    @jax.jit
    def run(x, Wt, c1, c2):
        def step(x, k):
            mu = jnp.einsum("si,dij,sj->sd", basis(x[:, 0], bx), Wt[k], basis(x[:, 1], by))
            return c1[k] * x + c2[k] * mu, None

        return jax.lax.scan(step, x, jnp.arange(Wt.shape[0]))[0]

    def call(x):
        with jax.enable_x64(True):
            return np.asarray(run(jnp.asarray(x), jnp.asarray(Wt), jnp.asarray(c1),
                                  jnp.asarray(c2)))

    return call


def bench_sampler(repeats: int, n_samples: int) -> dict:
    from gtv_symbolic.solvers.euler2d import integrate_euler_2d

    den, grid, s, x_T, Wt, c1, c2, bx, by = _setup(n_samples)

    def numba_run():
        return integrate_euler_2d(den, x_T, grid)

    jax_run = _jax_sampler(Wt, c1, c2, bx, by)
    a, b = numba_run(), jax_run(x_T)  # compile both
    diff = float(np.max(np.abs(a - b)))
    tn, tj = [], []
    for _ in range(repeats):
        for f, acc in ((numba_run, tn), (lambda: jax_run(x_T), tj)):
            t0 = time.perf_counter()
            f()
            acc.append(time.perf_counter() - t0)
    ratios = [j / n for j, n in zip(tj, tn, strict=True)]
    med, lo, hi = spread(ratios)
    return {"n_samples": n_samples, "steps": 30, "max_abs_diff": diff,
            "numba_s": spread(tn), "jax_s": spread(tj), "ratio_jax_over_numba": med,
            "ratio_10_90": (lo, hi), "load": os.getloadavg()}


#: wall-time goals in seconds and the memory goal in GB (issue 13)
GOALS = {("nn-vs-theory", False): 600, ("nn-vs-theory", True): 120, ("dimension", False): 60,
         ("dimension", True): 60}
MEMORY_GOAL_GB = 4.0


def _tree_rss(pid: int) -> int:
    """Summed RSS in bytes of ``pid`` and its descendants (Linux ``/proc``)."""
    import glob

    kids: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for st in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(st) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        p = int(st.split("/")[2])
        kids.setdefault(int(fields[1]), []).append(p)
        rss[p] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += kids.get(p, [])
    return total


def bench_figure(name: str, quick: bool, repeats: int) -> dict:
    import tempfile
    import threading

    out = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            args = ["figures", name, "--no-cache", "--quiet", "--out", d]
            if quick:
                args.append("--quick")
            load0 = os.getloadavg()
            t0 = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "-m", "gtv_symbolic", *args], cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            peak, stop = [0], threading.Event()

            def watch(pid=proc.pid, peak=peak, stop=stop):
                while not stop.wait(0.5):
                    peak[0] = max(peak[0], _tree_rss(pid))

            th = threading.Thread(target=watch, daemon=True)
            th.start()
            _, status, ru = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
            stop.set()
            th.join()
            goal = GOALS[(name, quick)]
            rss_gb = peak[0] / 2**30
            out.append({"code": os.waitstatus_to_exitcode(status), "wall_s": wall,
                        "cpu_s": ru.ru_utime + ru.ru_stime, "peak_tree_rss_gb": rss_gb,
                        "load_before": load0, "load_after": os.getloadavg(),
                        "goal_s": goal, "wall_ok": wall < goal,
                        "memory_ok": rss_gb < MEMORY_GOAL_GB,
                        "stderr_tail": proc.stderr.read().decode()[-500:]})
    return {"figure": name, "quick": quick, "runs": out}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("sampler", "figure"))
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--n-samples", type=int, default=100_000)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--figure", choices=("nn-vs-theory", "dimension"), default="nn-vs-theory")
    a = p.parse_args(argv)
    res = (bench_sampler(a.repeats, a.n_samples) if a.what == "sampler"
           else bench_figure(a.figure, a.quick, a.repeats))
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
