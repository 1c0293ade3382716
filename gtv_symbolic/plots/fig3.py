r"""Figure 3: 2-D generalization depends on the features and on the data's orientation (paper Fig. 3).

Data: four points ``(cos(i pi/2 + theta), sin(i pi/2 + theta))``, ``theta in {0, pi/8, pi/4}``
(columns). Rows: Gaussian and Fourier tensor-product features, ``F = 10 x 10 x 10 = 1000``.
``P = 500`` (``F/P = 2``), ridge 0.1, ``N = 100`` models, ``eps = 1e-2``, VP schedule,
30-step Euler PF-ODE (paper-math.md section 8).

Each model is sampled directly: seeds ``x_T ~ N(0, sigma_T^2 I)`` are integrated with the
learned denoiser evaluated exactly at the sample positions (no feature grid, no nearest-grid
lookup) by the compiled sampler :func:`gtv_symbolic.solvers.euler2d.euler_histograms_2d` (the same
arithmetic as ``solvers.sample_pf_ode``, fused and vectorised; about 30 ns per sample and
step on this 2-core machine). Each model's samples give a 200 x 200 histogram on
``[-1.5, 1.5]^2`` normalised as a *joint* density (the paper's helper normalised each column
separately); the panels show the average over models (``RdBu_r``, square-root colour scale
shared by all panels, training points in red).

The default is the paper's :data:`N_SAMPLES` = 1e5 samples per model (1.8e9 sample-steps for
the figure). Panels run in ``$GTV_WORKERS`` processes (default 2).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import data as data_mod
from .._blas import blas_threads
from ..cache import Cache, compute_panels, default_workers
from ..denoisers import LinearDenoiser
from ..features import make_features
from ..grids import TimeGrid
from ..progress import Progress
from ..schedules import VP
from ..solvers import euler2d
from ..training import train_ensemble
from . import register
from .style import save_arrays, save_figure, style

FEATURES = ("gaussian", "fourier")
THETAS = (0.0, np.pi / 8, np.pi / 4)
N_X = N_T = 10
P_TRAIN = 500
N_MODELS = 100
N_SAMPLES = 100_000  # the paper's count
EPS = 1e-2
T_END = 1.0
N_STEPS = 30
RIDGE = 0.1
N_BINS = 200
LIM = 1.5
DEFAULT_SEED = 0
QUICK_MODELS, QUICK_SAMPLES = 20, 5_000


def edges():
    return np.linspace(-LIM, LIM, N_BINS + 1)


def _seed_for(seed, fi, ti):
    return np.random.SeedSequence([int(seed), 3, int(fi), int(ti)])


@lru_cache(maxsize=None)
def _vp():
    vp = VP()
    vp.alpha(0.5)  # compile once (forked workers inherit it)
    return vp


def _panel(fam, th, fi, ti, seed, n_models, n_samples, n_train):
    """One panel's per-model 2-D histograms (module level, so a process pool can run it)."""
    vp, e = _vp(), edges()
    fm = make_features(fam, 2, N_X, N_T, EPS, T=T_END, x_range=(-LIM, LIM))
    rng = np.random.default_rng(_seed_for(seed, fi, ti))
    train_rng, sample_rng = rng.spawn(2)
    with blas_threads(1):
        W = train_ensemble(fm, data_mod.square(th), vp, P=int(n_train), n_models=n_models,
                           eps=EPS, T=T_END, ridge=RIDGE, rng=train_rng)
    masses = euler2d.euler_histograms_2d(LinearDenoiser(fm, W),
                                         TimeGrid.linear(vp, EPS, T_END, N_STEPS), (e, e),
                                         n_samples=n_samples, rng=sample_rng)
    return {"masses": masses}


def compute(*, seed=DEFAULT_SEED, n_models=None, n_samples=None, quick=False, no_cache=False,
            progress=None, cache_dir=None, features=FEATURES, thetas=THETAS,
            n_train=P_TRAIN, workers=1) -> dict:
    """Arrays behind Figure 3: ``x``, ``y`` (bin centres), ``theta``, ``features``, ``avg``.

    ``avg[f, c]`` is the mean over models of each model's joint histogram density, shape
    ``(len(features), len(thetas), 200, 200)`` indexed ``[x, y]``. Panels are cached on disk
    and computed in ``workers`` processes (results do not depend on ``workers``).
    """
    prog = progress or Progress("fig3", enabled=False)
    n_models = int(n_models) if n_models is not None else (QUICK_MODELS if quick else N_MODELS)
    n_samples = int(n_samples) if n_samples is not None else (QUICK_SAMPLES if quick
                                                               else N_SAMPLES)
    if n_models < 1:
        raise ValueError(f"n_models (N) must be >= 1, got {n_models}")
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    vp = _vp()
    e = edges()
    centres = (e[:-1] + e[1:]) / 2
    area = (e[1] - e[0]) ** 2
    cache = Cache(cache_dir, enabled=not no_cache)
    base = {"schedule": vp.cache_key(), "n_x": N_X, "n_t": N_T, "P": int(n_train), "eps": EPS,
            "T": T_END, "n_steps": N_STEPS, "ridge": RIDGE, "edges": e, "seed": int(seed),
            "n_models": n_models, "n_samples": n_samples, "method": "euler",
            "sampler": f"euler2d-v{euler2d.KERNEL_VERSION}"}
    prog.log(f"{len(features)} x {len(thetas)} panels, N = {n_models} models, "
             f"{n_samples} samples per model, {workers} worker(s)")
    tasks, labels = [], []
    for fi, fam in enumerate(features):
        make_features(fam, 2, N_X, N_T, EPS, T=T_END, x_range=(-LIM, LIM))  # validate
        for ti, th in enumerate(thetas):
            params = dict(base, family=fam, theta=float(th), data=data_mod.square(th))
            tasks.append((params, (fam, float(th), fi, ti, int(seed), n_models, n_samples,
                                   int(n_train))))
            labels.append(f"panel {fam}, theta={np.degrees(th):g} deg")
    res = compute_panels(cache, "fig3", tasks, _panel, workers=workers, progress=prog,
                         labels=labels)
    avg = np.zeros((len(features), len(thetas), N_BINS, N_BINS))
    for k, r in enumerate(res):
        m = r["masses"]
        tot = m.sum(axis=(1, 2), keepdims=True)
        if np.any(tot <= 0):
            raise ValueError("a learned distribution put no mass inside the plotted window")
        avg[k // len(thetas), k % len(thetas)] = (m / (tot * area)).mean(axis=0)
    if not np.all(np.isfinite(avg)):
        raise FloatingPointError("fig3: non-finite average density")
    return {"x": centres, "y": centres.copy(), "theta": np.asarray(thetas, float),
            "features": np.asarray(features), "avg": avg}


def plot(d: dict):
    import matplotlib.pyplot as plt
    from matplotlib.colors import PowerNorm

    feats, thetas, avg = [str(f) for f in d["features"]], d["theta"], d["avg"]
    nr, nc = avg.shape[:2]
    fig = plt.figure(figsize=(6.6, 4.3))
    gs = fig.add_gridspec(nr, nc + 1, width_ratios=[0.55] + [1] * nc, wspace=0.06, hspace=0.06,
                          left=0.01, right=0.9, top=0.86, bottom=0.02)
    vmax = float(np.quantile(avg, 0.9995))  # shared scale; the peaks saturate (red)
    norm = PowerNorm(0.5, vmin=0.0, vmax=vmax)
    z = np.linspace(-LIM, LIM, 400)
    im = None
    for r, fam in enumerate(feats):
        ax = fig.add_subplot(gs[r, 0])
        fm = make_features(fam, 2, N_X, N_T, EPS, T=T_END, x_range=(-LIM, LIM))
        vals = fm.x_bases[0].values(z)
        vals = vals / np.abs(vals).max(axis=0)
        for k in range(vals.shape[1]):
            ax.plot(z, 0.8 * vals[:, k] - 1.6 * k, lw=0.8)
        ax.set_axis_off()
        ax.set_ylim(-1.6 * (vals.shape[1] - 1) - 1.0, 3.4)
        ax.text(0.5, 1.0, f"{fam.capitalize()}\nfeatures", transform=ax.transAxes,
                ha="center", va="top", fontsize=8)
        for c in range(nc):
            ax = fig.add_subplot(gs[r, c + 1])
            im = ax.imshow(avg[r, c].T, origin="lower", extent=(-LIM, LIM, -LIM, LIM),
                           cmap="RdBu_r", norm=norm, interpolation="nearest")
            pts = data_mod.square(thetas[c])
            ax.plot(pts[:, 0], pts[:, 1], "o", color="#d00000", ms=5, mec="none")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"{np.degrees(thetas[c]):g}$^\\circ$")
    cax = fig.add_axes([0.915, 0.15, 0.015, 0.65])
    fig.colorbar(im, cax=cax, label="avg. learned density")
    return fig


@register("fig3", options=("seed", "n_models", "n_samples", "quick", "no_cache"))
def fig3(out_dir, *, save_data=None, progress=None, seed=None, n_models=None, n_samples=None,
         quick=False, no_cache=False):
    """Fig. 3: 2-D square data, Gaussian vs Fourier features x rotations (paper Fig. 3)."""
    prog = progress or Progress("fig3")
    seed = DEFAULT_SEED if seed is None else seed
    with prog.stage("train + sample"), blas_threads(1):
        d = compute(seed=seed, n_models=n_models, n_samples=n_samples, quick=bool(quick),
                    no_cache=bool(no_cache), progress=prog, workers=default_workers())
    paths = []
    if save_data is not None:
        paths.append(save_arrays(save_data, d))
    with prog.stage("plot"), style():
        paths = save_figure(plot(d), out_dir, "fig3") + paths
    return paths
