"""Network benchmarks (issue 13): Numba vs JAX for the Fig. 3 sampler; nn-vs-theory wall time.

    python benchmarks/bench_nn.py sampler [--repeats 5] [--n-samples 100000]
    python benchmarks/bench_nn.py figure [--quick] [--repeats 1]

*sampler*: the Euler PF-ODE sampler behind Figure 3 (one 2-D linear denoiser, Gaussian
10 x 10 x 10 features, the paper's 1e5 samples and 30 steps) by the compiled Numba kernel
(:func:`gtv_symbolic.solvers.euler2d.integrate_euler_2d`) and by the same update written in JAX
(``x <- c1_k x + c2_k b(x_1)^T W_k b(x_2)`` in one ``jit``-ed ``lax.scan``, float64, the
same ``c1, c2`` and time slices ``W_k``). Both are compiled first; the outputs are compared
(max |difference|), then timed alternately (ABAB, so drifting load hits both alike).
Reported: per-repeat ratio JAX / Numba, its median and 10-90 % range, and the load average.

*figure*: ``gtv figures nn-vs-theory [--quick] --no-cache`` in a fresh subprocess: wall time
and the child's peak RSS (goal: default < 10 min and 4 GB on 2 cores, --quick < 2 min).
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


CHILD = r"""
import json, resource, sys, time
from gtv_symbolic.cli import main
t0 = time.perf_counter()
code = main(sys.argv[1:])
wall = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(json.dumps({"code": code, "wall": wall, "rss_gb": rss}), file=sys.stderr)
"""


def bench_figure(quick: bool, repeats: int) -> dict:
    import tempfile

    out = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            args = ["figures", "nn-vs-theory", "--no-cache", "--quiet", "--out", d]
            if quick:
                args.append("--quick")
            load0 = os.getloadavg()
            r = subprocess.run([sys.executable, "-c", CHILD, *args], cwd=ROOT,
                               capture_output=True, text=True, check=False)
            rec = json.loads(r.stderr.strip().splitlines()[-1])
            rec.update(load_before=load0, load_after=os.getloadavg())
            out.append(rec)
    return {"quick": quick, "runs": out}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("sampler", "figure"))
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--n-samples", type=int, default=100_000)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args(argv)
    res = (bench_sampler(a.repeats, a.n_samples) if a.what == "sampler"
           else bench_figure(a.quick, a.repeats))
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
