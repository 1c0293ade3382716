r"""Figure 2: average learned distribution of linear denoisers on {-1, 0, 1} (paper Fig. 2).

Rows ``eps = 1e-2, 1e-3, 1e-4`` (top to bottom); columns ``P = 1024, 512, 256, 128, 64``,
i.e. ``F/P = 1/4 .. 4`` (left to right); ``F = 16 x 16`` Gaussian features, ridge 0.1,
``N = 100`` models per panel, VP schedule, 30-step Euler PF-ODE (paper-math.md section 8).

Curves (densities on the paper's 200 bins centred on ``linspace(-1.5, 1.5, 200)``):

* red: mean over models of each model's learned density; band: 25-75 % quantiles across
  models, taken per panel (the paper's plot took the upper edge from another panel);
* black: ``p(x | eps)`` averaged over each bin (exact mixture CDF differences);
* gray: the exact-score PF-ODE on the same 30-step grid (exact Bayes denoiser).

By default each model's density is computed without random samples by transporting the
seed law through the sampler map (:func:`gtv_symbolic.solvers.pushforward_1d`, adaptive,
exact derivatives); that is the ``n_samples -> infinity`` limit of the paper's per-model
histograms of 1e5 samples. With ``n_samples`` given, actual PF-ODE samples are drawn per
model (exact denoiser evaluation) and histogrammed as in the paper.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import ndtr

from .. import data as data_mod
from .._blas import blas_threads
from ..cache import Cache, compute_panels, default_workers
from ..denoisers import ExactDenoiser, LinearDenoiser
from ..features import make_features
from ..grids import TimeGrid
from ..metrics import histogram_masses
from ..progress import Progress
from ..schedules import VP
from ..solvers import pushforward_1d, sample_pf_ode
from ..training import train_ensemble
from . import register
from .style import save_arrays, save_figure, style

EPS = (1e-2, 1e-3, 1e-4)
P_LIST = (1024, 512, 256, 128, 64)
N_X = N_T = 16
N_MODELS = 100
N_BINS = 200
X_MIN, X_MAX = -1.5, 1.5
N_STEPS = 30
RIDGE = 0.1
T_END = 1.0
DEFAULT_SEED = 0
QUICK_MODELS = 20
#: transport settings (part of the cache key)
TRANSPORT = {"n_nodes": 256, "tol": 0.3, "half_width": 6.0, "max_rounds": 40,
             "min_mass": 1e-6}


def grid():
    """Bin centres ``linspace(-1.5, 1.5, 200)`` and the paper's edges (centred bins)."""
    x = np.linspace(X_MIN, X_MAX, N_BINS)
    dx = x[1] - x[0]
    return x, np.linspace(X_MIN - dx / 2, X_MAX + dx / 2, N_BINS + 1)


def _density(masses, edges):
    """Histogram ``density=True`` semantics: renormalise to the window, divide by the width."""
    tot = masses.sum(axis=-1, keepdims=True)
    if np.any(tot <= 0):
        raise ValueError("a learned distribution put no mass inside the plotted window")
    return masses / (tot * (edges[1] - edges[0]))


def true_density(eps, edges, schedule, data):
    """``p(x | eps)`` averaged over each bin: ``(1/M) sum_m [Phi((e_hi - a mu)/s) - Phi(...)]/dx``."""
    a, s = float(schedule.alpha(eps)), float(np.sqrt(schedule.sigma2(eps)))
    cdf = ndtr((edges[:, None] - a * data[None, :, 0]) / s).mean(axis=1)
    return np.diff(cdf) / (edges[1] - edges[0])


def _seed_for(seed, eps, P):
    return np.random.SeedSequence([int(seed), 2, int(round(-np.log10(eps) * 1000)), int(P)])


@lru_cache(maxsize=None)
def _vp():
    vp = VP()
    vp.alpha(0.5)  # compile once (forked workers inherit it)
    return vp


def _panel(eps, P, seed, n_models, n_samples):
    """One panel's per-model bin masses (module level, so a process pool can run it)."""
    vp, pts = _vp(), data_mod.three_points()
    _, edges = grid()
    fm = make_features("gaussian", 1, N_X, N_T, eps, T=T_END, x_range=(X_MIN, X_MAX))
    rng = np.random.default_rng(_seed_for(seed, eps, P))
    train_rng, sample_rng = rng.spawn(2)
    with blas_threads(1):
        W = train_ensemble(fm, pts, vp, P=int(P), n_models=n_models, eps=eps, T=T_END,
                           ridge=RIDGE, rng=train_rng)
    den = LinearDenoiser(fm, W)
    if n_samples is None:
        m = pushforward_1d(den, TimeGrid.linear(vp, eps, T_END, N_STEPS), edges, **TRANSPORT)
    else:
        s = sample_pf_ode(den, TimeGrid.linear(vp, eps, T_END, N_STEPS),
                          n_samples=int(n_samples), rng=sample_rng)
        m = histogram_masses(s, edges)
    return {"masses": m}


def _gray(eps):
    """The exact-score PF-ODE on the 30-step grid (transported, no samples)."""
    _, edges = grid()
    m = pushforward_1d(ExactDenoiser(data_mod.three_points(), _vp()),
                       TimeGrid.linear(_vp(), eps, T_END, N_STEPS), edges, **TRANSPORT)
    return {"masses": m}


def _dispatch(func, args):
    return func(*args)


def compute(*, seed=DEFAULT_SEED, n_models=None, n_samples=None, quick=False, no_cache=False,
            progress=None, cache_dir=None, eps_list=EPS, P_list=P_LIST, workers=1) -> dict:
    """All arrays behind Figure 2 (see module docstring); keys as in ``--save-data``.

    Panels are cached on disk (keyed by every parameter) and computed in ``workers``
    processes; each panel seeds its own Generator, so results do not depend on ``workers``.
    """
    prog = progress or Progress("fig2", enabled=False)
    n_models = int(n_models) if n_models is not None else (QUICK_MODELS if quick else N_MODELS)
    if n_models < 1:
        raise ValueError(f"n_models (N) must be >= 1, got {n_models}")
    if n_samples is not None and int(n_samples) < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    for P in P_list:
        if int(P) < 1:
            raise ValueError(f"P (training samples) must be >= 1, got {P}")
    vp = _vp()
    pts = data_mod.three_points()
    x, edges = grid()
    cache = Cache(cache_dir, enabled=not no_cache)
    base = {"schedule": vp.cache_key(), "data": pts, "n_x": N_X, "n_t": N_T, "family": "gaussian",
            "n_steps": N_STEPS, "ridge": RIDGE, "T": T_END, "edges": edges, "method": "euler"}
    mode = "transport" if n_samples is None else f"{int(n_samples)} samples per model"
    prog.log(f"{len(eps_list)} x {len(P_list)} panels, N = {n_models} models, {mode}, "
             f"{workers} worker(s)")
    tasks, labels = [], []
    for eps in eps_list:
        make_features("gaussian", 1, N_X, N_T, eps, T=T_END, x_range=(X_MIN, X_MAX))  # validate
        tasks.append((dict(base, eps=eps, transport=TRANSPORT), (_gray, (eps,))))
        labels.append(f"exact-score PF-ODE eps={eps:g}")
        for P in P_list:
            params = dict(base, eps=eps, P=int(P), seed=int(seed), n_models=n_models,
                          n_samples=n_samples, transport=TRANSPORT if n_samples is None else None)
            tasks.append((params, (_panel, (eps, int(P), int(seed), n_models, n_samples))))
            labels.append(f"panel eps={eps:g}, P={P} (F/P={N_X * N_T / P:g})")
    res = compute_panels(cache, "fig2", tasks, _dispatch, workers=workers, progress=prog,
                         labels=labels)
    avg = np.zeros((len(eps_list), len(P_list), N_BINS))
    q25, q75 = np.zeros_like(avg), np.zeros_like(avg)
    true = np.zeros((len(eps_list), N_BINS))
    pfode = np.zeros_like(true)
    k = 0
    for i, eps in enumerate(eps_list):
        true[i] = true_density(eps, edges, vp, pts)
        pfode[i] = _density(res[k]["masses"], edges).reshape(-1)
        k += 1
        for j in range(len(P_list)):
            dens = _density(res[k]["masses"], edges)
            avg[i, j] = dens.mean(axis=0)
            q25[i, j], q75[i, j] = np.quantile(dens, [0.25, 0.75], axis=0)
            k += 1
    out = {"x": x, "eps": np.asarray(eps_list, float), "P": np.asarray(P_list, int), "avg": avg,
           "q25": q25, "q75": q75, "true": true, "pfode": pfode}
    for k, v in out.items():
        if not np.all(np.isfinite(v)):
            raise FloatingPointError(f"fig2: non-finite values in {k!r}")
    return out


def _fmt_ratio(r):
    from fractions import Fraction

    f = Fraction(r).limit_denominator(64)
    return f"{f.numerator}" if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def plot(d: dict):
    import matplotlib.pyplot as plt

    eps_list, P_list, x = d["eps"], d["P"], d["x"]
    fig, axes = plt.subplots(len(eps_list), len(P_list), figsize=(7.2, 3.7), sharex=True,
                             sharey=True, squeeze=False)
    for i, eps in enumerate(eps_list):
        for j, P in enumerate(P_list):
            ax = axes[i, j]
            ax.fill_between(x, d["q25"][i, j], d["q75"][i, j], color="#c8102e", alpha=0.22,
                            lw=0, step="mid", label="25-75% across models")
            ax.plot(x, d["pfode"][i], color="0.55", lw=1.0, drawstyle="steps-mid",
                    label="PF-ODE + true score")
            ax.plot(x, d["true"][i], color="k", lw=1.0, drawstyle="steps-mid",
                    label=r"true $p(x\,|\,\epsilon)$")
            ax.plot(x, d["avg"][i, j], color="#c8102e", lw=0.9, drawstyle="steps-mid",
                    label="avg. learned")
            ax.set_ylim(0, 2.5)
            ax.set_xlim(x[0], x[-1])
            ax.set_xticks([-1, 0, 1])
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            if i == 0:
                ax.set_title(f"F/P = {_fmt_ratio(N_X * N_T / P)}  (P = {P})")
            if j == 0:
                ax.set_ylabel(f"$\\epsilon$ = {eps:g}\ndensity")
            if i == len(eps_list) - 1:
                ax.set_xlabel("$x$")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    order = [3, 0, 2, 1]
    fig.legend([handles[k] for k in order], [labels[k] for k in order], loc="upper center",
               ncol=4, frameon=False, bbox_to_anchor=(0.5, 0.995))
    fig.tight_layout(pad=0.4, h_pad=0.3, w_pad=0.3, rect=(0, 0, 1, 0.93))
    return fig


@register("fig2", options=("seed", "n_models", "n_samples", "quick", "no_cache"))
def fig2(out_dir, *, save_data=None, progress=None, seed=None, n_models=None, n_samples=None,
         quick=False, no_cache=False):
    """Fig. 2: linear-model ensembles on {-1,0,1}, eps x F/P grid (paper Fig. 2)."""
    prog = progress or Progress("fig2")
    seed = DEFAULT_SEED if seed is None else seed
    with prog.stage("train + transport"), blas_threads(1):
        d = compute(seed=seed, n_models=n_models, n_samples=n_samples, quick=bool(quick),
                    no_cache=bool(no_cache), progress=prog, workers=default_workers())
    paths = []
    if save_data is not None:
        paths.append(save_arrays(save_data, d))
    with prog.stage("plot"):
        n_mod = n_models if n_models is not None else (QUICK_MODELS if quick else N_MODELS)
        with style():
            fig = plot(dict(d, n_models=n_mod))
            paths = save_figure(fig, out_dir, "fig2") + paths
    return paths
