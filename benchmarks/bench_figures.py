"""Wall time and peak memory of Figures 2 and 3 versus a baseline of the paper's algorithm.

    python benchmarks/bench_figures.py            # full parameters (about 2 minutes)
    python benchmarks/bench_figures.py --quick    # smoke run: reduced ours, tiny baseline
    python benchmarks/bench_figures.py --against [REV] [--repeats 3] [--figures fig2 ...]

*Against a revision* (``--against REV``; without REV the pre-issue-10 baseline
:data:`BASELINE`, the last commit before the experiments layer, whose figures were still
computed in ``gtv_symbolic/plots/``): Figures 2 and 3 and the theory-vs-ensemble experiment
(the paper's setting; this tree uses the larger Gaussian-field counts) of this tree and of a
temporary ``git worktree`` of REV, each ``gtv figures NAME --no-cache`` in a fresh
subprocess, run alternately (ABBA order per repeat, so drifting machine load hits both
alike); reported as the per-repeat ratios wall(this tree) / wall(REV), their median and
range (goal: <= 1, "no slower than before"). The paper-baseline part is skipped here.

*Ours*: ``gtv figures fig2|fig3 --no-cache`` at the paper's parameters, each in a fresh
subprocess (wall time from the parent; peak memory = the child's ``ru_maxrss`` and the
process tree's summed PSS). Numba's disk cache is filled first, so the figure runs load the
compiled Fig. 3 sampler; the one-time compile (a fresh install's first run) is timed
separately, as is the sampler itself against the NumPy reference sampler, per sample-step.

*Baseline*: the paper's algorithm (``functions/linear_functions_*.py`` of
john-vastola/gtv-iclr25): the same closed-form training, then the learned denoiser tabulated
on the dense (x-grid [x y-grid] x 31 times x F) feature grid, PF-ODE samples that read it by
nearest-right-neighbour lookup (``searchsorted``), and per-model histograms. It is run at
reduced size (one panel, N = 4 and 8 models for Fig. 2, N = 2 and 4 for Fig. 3, 1e5 samples
per model) and extrapolated
linearly in N to N = 100 and to all panels (``time = a + b N`` per panel, fitted on the two
sizes). The Fig. 3 feature grid (200 x 200 x 31 x 1000 float64 = 9.9 GB in the paper's code)
is contracted in slices over x here so the baseline fits in memory; that changes its memory,
not its arithmetic. Peak memory of the baseline is therefore not reported.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from functools import lru_cache

import numpy as np
from _common import ROOT, drop_worktree, spread, use_this_tree, worktree

use_this_tree()

#: the default ``--against`` revision: main before the experiments layer (issue 10's baseline)
BASELINE = "a55b63ed7d907879e089a30ecb309e2b21f259f5"
#: what ``--against`` times by default
AGAINST_FIGURES = ("fig2", "fig3", "theory-vs-ensemble")

CHILD = r"""
import json, resource, sys, time
from gtv_symbolic.cli import main
t0 = time.perf_counter()
code = main(sys.argv[1:])
wall = time.perf_counter() - t0
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
          resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 2**20  # KiB -> GiB
print(json.dumps({"code": code, "wall": wall, "rss_gb": rss}), file=sys.stderr)
"""


def _tree_pss_gb(root: int) -> float:
    """Proportional set size (GB) of ``root`` and all its descendants (Linux /proc)."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(kids.get(pid, []))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total / 2**20


def run_ours(name, out, extra=(), tree=ROOT):
    """Run ``gtv figures NAME`` in a subprocess; wall time and peak memory of the process tree.

    Panels run in worker processes (``$GTV_WORKERS``, default 2), so memory is the peak of
    the summed proportional set size (shared pages counted once) sampled every 0.1 s, and
    also the largest single-process ``ru_maxrss``.
    """
    import threading

    env = dict(os.environ, GTV_CACHE_DIR=tempfile.mkdtemp(prefix="gtv-bench-"),
               PYTHONPATH=str(tree))
    args = [sys.executable, "-c", CHILD, "figures", name, "--out", out, "--no-cache", "--quiet",
            *extra]
    t0 = time.perf_counter()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                         cwd=tree)
    peak = [0.0]

    def monitor():
        while p.poll() is None:
            peak[0] = max(peak[0], _tree_pss_gb(p.pid))
            time.sleep(0.1)

    th = threading.Thread(target=monitor, daemon=True)
    th.start()
    _, err = p.communicate()
    wall = time.perf_counter() - t0
    th.join()
    if p.returncode != 0:
        raise RuntimeError(err)
    info = json.loads(err.strip().splitlines()[-1])
    info["process_wall"] = wall
    info["tree_pss_gb"] = peak[0]
    return info


# ----------------------------------------------------------------------------------------
# Baseline: the paper's algorithm (dense feature grid + nearest-grid lookup)
# ----------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _vp():
    from gtv_symbolic import schedules

    vp = schedules.VP()
    vp.alpha(0.5)  # compile once, outside the timed region
    return vp


def _baseline_panel_1d(n_models, n_samples, rng, eps=1e-2, P=256):
    from gtv_symbolic import data
    from gtv_symbolic.features import make_features
    from gtv_symbolic.training import train_ensemble

    vp = _vp()
    fm = make_features("gaussian", 1, 16, 16, eps)
    x = np.linspace(-1.5, 1.5, 200)
    dx = x[1] - x[0]
    bins = np.linspace(-1.5 - dx / 2, 1.5 + dx / 2, 201)
    t = np.linspace(eps, 1.0, 31)[::-1]
    W = train_ensemble(fm, data.three_points(), vp, P=P, n_models=n_models, eps=eps,
                       rng=rng)
    phi_grid = fm(np.broadcast_to(x[:, None, None], (200, 31, 1)),
                  np.broadcast_to(t[None, :], (200, 31)))  # dense (200, 31, F)
    mu_est = np.einsum("mf,xtf->mxt", W[:, 0], phi_grid)
    b, D, a, s2 = (np.asarray(f(t)) for f in (vp.beta, vp.D, vp.alpha, vp.sigma2))
    dt = np.roll(t, -1) - t
    out = []
    for m in range(n_models):
        xt = rng.normal(0, np.sqrt(s2[0]), n_samples)
        for k in range(30):
            i = np.clip(np.searchsorted(x, xt), None, 199)
            xt = xt - (b[k] * xt + D[k] * (a[k] * mu_est[m, i, k] - xt) / s2[k]) * dt[k]
        out.append(np.histogram(xt, bins=bins, density=True)[0])
    return np.mean(out, axis=0)


def _baseline_panel_2d(n_models, n_samples, rng, eps=1e-2, P=500):
    from gtv_symbolic import data
    from gtv_symbolic.features import make_features
    from gtv_symbolic.training import train_ensemble

    vp = _vp()
    fm = make_features("gaussian", 2, 10, 10, eps)
    x = np.linspace(-1.5, 1.5, 200)
    t = np.linspace(eps, 1.0, 31)[::-1]
    W = train_ensemble(fm, data.square(0.0), vp, P=P, n_models=n_models, eps=eps, rng=rng)
    px, pt = fm.x_bases[0].values(x), fm.t_basis.values(t)
    mu_est = np.empty((n_models, 2, 200, 200, 31))
    for i in range(200):  # slice of the dense (200, 200, 31, 1000) grid: same arithmetic
        phi = (px[i][None, None, :, None, None] * px[:, None, None, :, None]
               * pt[None, :, None, None, :]).reshape(200, 31, 1000)  # (y, t, F) at x_i
        mu_est[:, :, i] = np.einsum("mdf,ytf->mdyt", W, phi, optimize=True)
    b, D, a, s2 = (np.asarray(f(t)) for f in (vp.beta, vp.D, vp.alpha, vp.sigma2))
    dt = np.roll(t, -1) - t
    e = np.linspace(-1.5, 1.5, 201)
    hist = np.zeros((200, 200))
    for m in range(n_models):
        xt = rng.normal(0, np.sqrt(s2[0]), n_samples)
        yt = rng.normal(0, np.sqrt(s2[0]), n_samples)
        for k in range(30):
            i = np.clip(np.searchsorted(x, xt), None, 199)
            j = np.clip(np.searchsorted(x, yt), None, 199)
            mx, my = mu_est[m, 0, i, j, k], mu_est[m, 1, i, j, k]
            xt = xt - (b[k] * xt + D[k] * (a[k] * mx - xt) / s2[k]) * dt[k]
            yt = yt - (b[k] * yt + D[k] * (a[k] * my - yt) / s2[k]) * dt[k]
        hist += np.histogram2d(xt, yt, bins=(e, e))[0]
    return hist


JIT = r"""
import json, sys, time
t0 = time.perf_counter()
try:
    from gtv_symbolic.solvers import euler2d
except ImportError:  # a tree before the solvers/ package (e.g. --against an older main)
    from gtv_symbolic import euler2d
euler2d.warm_up()
print(json.dumps({"wall": time.perf_counter() - t0}), file=sys.stderr)
"""


def jit_seconds(cold: bool) -> float:
    """Import + compile the Numba kernels in a fresh process: ``cold`` with an empty Numba
    cache (a fresh install's first run pays this once), else from Numba's disk cache."""
    env = dict(os.environ)
    if cold:
        env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="gtv-bench-numba-")
    p = subprocess.run([sys.executable, "-c", JIT], capture_output=True, text=True, env=env,
                       check=True)
    return json.loads(p.stderr.strip().splitlines()[-1])["wall"]


def sampler_ns_per_step(n_samples=20_000):
    """ns per sample and Euler step: compiled sampler vs the NumPy reference, same model."""
    from gtv_symbolic import data
    from gtv_symbolic._runtime.parallel import blas_threads
    from gtv_symbolic.denoisers import LinearDenoiser
    from gtv_symbolic.features import make_features
    from gtv_symbolic.grids import TimeGrid
    from gtv_symbolic.solvers import euler2d, initial_samples, integrate_pf_ode
    from gtv_symbolic.training import train_ensemble

    vp, out = _vp(), {}
    for fam in ("gaussian", "fourier"):
        fm = make_features(fam, 2, 10, 10, 1e-2)
        with blas_threads(1):
            W = train_ensemble(fm, data.square(0.0), vp, P=500, n_models=1, eps=1e-2,
                               rng=np.random.default_rng(0))
            den = LinearDenoiser(fm, W)
            grid = TimeGrid.linear(vp, 1e-2)
            x = initial_samples(grid, n_samples=n_samples, dim=2, n_models=1,
                                rng=np.random.default_rng(1))
            euler2d.integrate_euler_2d(den, x[:, :10], grid)  # compile / load
            for label, f in (("numba", euler2d.integrate_euler_2d), ("numpy", integrate_pf_ode)):
                t0 = time.perf_counter()
                f(den, x, grid)
                out[fam, label] = (time.perf_counter() - t0) / (n_samples * 30) * 1e9
    return out


def time_baseline(panel, sizes, n_samples):
    from gtv_symbolic._runtime.parallel import blas_threads

    times = []
    with blas_threads(1):
        panel(1, 1000, np.random.default_rng(0))  # warm-up (imports, compiled schedule)
        for n in sizes:
            t0 = time.perf_counter()
            panel(n, n_samples, np.random.default_rng(0))
            times.append(time.perf_counter() - t0)
    (n1, n2), (t1, t2) = sizes, times
    slope = (t2 - t1) / (n2 - n1)
    return times, t1 - slope * n1, slope


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run (not the reported numbers)")
    ap.add_argument("--against", nargs="?", const=BASELINE, default=None, metavar="REV",
                    help="compare with this git revision instead (default REV: the pre-issue-10 "
                         f"baseline {BASELINE[:10]})")
    ap.add_argument("--repeats", type=int, default=3, help="repeats with --against")
    ap.add_argument("--figures", nargs="+", default=list(AGAINST_FIGURES), metavar="NAME",
                    help=f"figures to time with --against (default: {' '.join(AGAINST_FIGURES)})")
    args = ap.parse_args(argv)
    if args.against:
        return against(args.against, args.repeats, ["--quick"] if args.quick else [],
                       args.figures)
    out = tempfile.mkdtemp(prefix="gtv-bench-figs-")
    extra = ["--quick"] if args.quick else []
    n_base = 10_000 if args.quick else 100_000
    print(f"# machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    jit_seconds(cold=False)  # fill Numba's cache, so the timed figure runs only load it
    warm, cold = jit_seconds(cold=False), jit_seconds(cold=True)
    print(f"# Numba kernels: {cold:.1f} s to compile (once per install), {warm:.1f} s to load "
          f"from cache", flush=True)
    ns = sampler_ns_per_step(2_000 if args.quick else 20_000)
    for fam in ("gaussian", "fourier"):
        print(f"# 2-D Euler sampler, {fam} features: compiled {ns[fam, 'numba']:.0f} ns, NumPy "
              f"reference {ns[fam, 'numpy']:.0f} ns per sample-step "
              f"({ns[fam, 'numpy'] / ns[fam, 'numba']:.1f}x)", flush=True)
    rows = []
    for name, panel, n_panels, paper, sizes in (
            ("fig2", _baseline_panel_1d, 15, 730.0, (4, 8)),
            ("fig3", _baseline_panel_2d, 6, 1039.0, (2, 4))):
        ours = run_ours(name, out, extra)
        times, a, b = time_baseline(panel, sizes, n_base)
        base_full = n_panels * (a + b * 100)
        rows.append((name, ours, times, base_full, paper))
        print(f"# {name}: ours {ours['process_wall']:.1f} s; baseline one panel at N={sizes}: "
              f"{times[0]:.2f} s, {times[1]:.2f} s -> {a:.2f} + {b:.3f} N s per panel",
              flush=True)
    print()
    print("| figure | ours: wall (s) | ours: peak memory, process tree PSS (GB) "
          "| ours: max single-process RSS (GB) | baseline extrapolated to full (s) "
          "| speed-up vs baseline | paper notebook (s, design.md) | speed-up vs paper |")
    print("|---|---|---|---|---|---|---|---|")
    for name, ours, _times, base_full, paper in rows:
        w = ours["process_wall"]
        print(f"| {name} | {w:.1f} | {ours['tree_pss_gb']:.2f} | {ours['rss_gb']:.2f} | "
              f"{base_full:.0f} | {base_full / w:.1f}x | {paper:.0f} | {paper / w:.1f}x |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


def _load() -> str:
    return "/".join(f"{v:.2f}" for v in os.getloadavg())


def against(rev: str, repeats: int, extra, names=AGAINST_FIGURES) -> int:
    """Ratio wall(this tree) / wall(rev) of each figure in ``names``, interleaved ABBA,
    ``repeats`` times."""
    other = worktree(rev)
    out = tempfile.mkdtemp(prefix="gtv-bench-figs-")
    print(f"# machine: {os.cpu_count()} CPUs, load averages {_load()}; "
          f"this tree vs {rev} ({other}); {repeats} repeats, ABBA order")
    try:
        for tree in (ROOT, other):  # fill Numba's disk cache of each tree
            subprocess.run([sys.executable, "-c", JIT], env=dict(os.environ, PYTHONPATH=str(tree)),
                           cwd=tree, check=True, capture_output=True)
        rows = []
        for name in names:
            ours, base = [], []
            for r in range(repeats):
                order = ((ROOT, ours), (other, base)) if r % 2 == 0 else ((other, base), (ROOT, ours))
                for tree, acc in order:
                    acc.append(run_ours(name, out, extra, tree=tree)["process_wall"])
                print(f"# {name} repeat {r + 1}: this tree {ours[-1]:.1f} s, {rev} {base[-1]:.1f} s"
                      f" (ratio {ours[-1] / base[-1]:.3f}; load {_load()})", flush=True)
            rows.append((name, ours, base, [a / b for a, b in zip(ours, base, strict=True)]))
        print()
        tag = rev[:10]
        print(f"| figure | this tree: median wall (s) | {tag}: median wall (s) | ratio this/{tag} "
              f"per repeat | median (min-max) | goal <= 1 |")
        print("|---|---|---|---|---|---|")
        for name, ours, base, ratios in rows:
            m = spread(ratios)[0]
            print(f"| {name} | {spread(ours)[0]:.1f} | {spread(base)[0]:.1f} | "
                  f"{', '.join(f'{r:.3f}' for r in ratios)} | {m:.3f} ({min(ratios):.3f}-"
                  f"{max(ratios):.3f}) | {'met' if m <= 1.0 else 'NOT met'} |")
        print(f"\nload averages after: {_load()}")
    finally:
        drop_worktree(other)
    return 0


if __name__ == "__main__":
    sys.exit(main())
