r"""Figure 2: average learned distribution of linear denoisers on 1-D data (paper Fig. 2).

For every ``eps`` (rows) and training-set size ``P`` (columns, ``F/P`` with
``F = n_x n_t`` features), ``N = n_models`` linear denoisers are trained in closed form
(ridge ``ridge``) on ``P`` DSM samples each and run through the ``n_steps``-step Euler
PF-ODE from ``T`` down to ``eps``. Defaults are the paper's: data {-1, 0, 1}, VP, Gaussian
16 x 16 features, ridge 0.1, N = 100, 30 steps, 200 bins on [-1.5, 1.5].

Each model's density is obtained without random samples by transporting the seed law
through the sampler map (:func:`gtv_symbolic.solvers.pushforward_1d`, the ``n_samples ->
infinity`` limit of the paper's per-model histograms); with ``n_samples`` set, PF-ODE samples
are drawn and histogrammed as in the paper. The result holds the per-model densities and
weights (so other experiments, e.g. theory-vs-ensemble, consume these very ensembles), the
mean ``avg`` and the 25-75 % band across models, ``p(x | eps)`` (``true``, bin averages of the
exact mixture) and the exact-score PF-ODE (``pfode``) on the same time grid.

Model ``n`` of panel ``(eps, P)`` draws from :func:`panel_seed` ``(seed, eps, P)``.

Examples
--------
>>> r = run(Settings(eps=(1e-2,), P=(64,), n_models=2, n_x=4, n_t=4), cache=False, workers=1)
>>> r["avg"].dims, r["density"].shape
(('eps', 'P', 'x'), (1, 1, 2, 200))
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import xarray as xr
from scipy.special import ndtr

from .._runtime.parallel import blas_threads
from ..denoisers import ExactDenoiser, LinearDenoiser
from ..features import FAMILIES, make_features
from ..grids import TimeGrid
from ..metrics import histogram_masses
from ..solvers import pushforward_1d, sample_pf_ode
from ..training import train_ensemble
from ._common import (
    MAX_MODELS,
    MAX_SAMPLES,
    SCHEDULES,
    attrs,
    check_choice,
    check_int,
    make_schedule,
    resolve_seed,
    same_field,
    setting,
)
from ._compare import TRANSPORT
from ._tasks import cached_map, get_cache, quiet_progress

__all__ = ["NAME", "Settings", "Shared", "settings_like", "QUICK", "validate", "run", "npz_arrays", "panel_seed", "bin_grid",
           "true_density", "TRANSPORT", "features_for", "train_panel"]

#: Registry name of the experiment (``gtv figures NAME``).
NAME = "fig2"



@dataclass(frozen=True)
class Settings:
    eps: tuple[float, ...] = setting((1e-2, 1e-3, 1e-4), "final diffusion times eps (rows)")
    P: tuple[int, ...] = setting((1024, 512, 256, 128, 64), "training samples per model (columns)",
                                    lo=1, hi=100_000)
    features: str = setting("gaussian", "feature family", choices=FAMILIES)
    n_x: int = setting(16, "basis functions along x", lo=1, hi=4096)
    n_t: int = setting(16, "basis functions along t", lo=1, hi=4096)
    n_models: int = setting(100, "models per ensemble (N)", lo=1, hi=MAX_MODELS)
    schedule: str = setting("VP", "forward process", choices=SCHEDULES)
    data: tuple[tuple[float, ...], ...] = setting(((-1.0,), (0.0,), (1.0,)),
                                                  "1-D training points, e.g. '-1,0,1'")
    ridge: float = setting(0.1, "ridge parameter rho > 0")
    n_steps: int = setting(30, "Euler PF-ODE steps", lo=1, hi=10_000)
    T: float = setting(1.0, "initial time of the sampler (schedule horizon)")
    n_bins: int = setting(200, "histogram bins", lo=2, hi=100_000)
    x_range: tuple[float, float] = setting((-1.5, 1.5), "bin centres span [lo, hi]; also the "
                                           "Gaussian x-centres / Fourier period")
    seed: int = setting(0, "seed of the per-panel streams", lo=0, hi=2**63 - 1)
    n_samples: int | None = setting(None, "PF-ODE samples per model (default: sample-free "
                                    "transport)", lo=1, hi=MAX_SAMPLES)


#: Small settings for ``--quick`` runs (and the tests).
QUICK = Settings(n_models=20)


@dataclass(frozen=True)
class Shared:
    """The settings the 1-D linear-model experiments built on Fig. 2's panels (theory vs
    ensemble, ablation, phase) take from :class:`Settings`, with its defaults (base class)."""

    features: str = same_field(Settings, "features")
    n_x: int = same_field(Settings, "n_x")
    n_t: int = same_field(Settings, "n_t")
    schedule: str = same_field(Settings, "schedule")
    data: tuple[tuple[float, ...], ...] = same_field(Settings, "data")
    ridge: float = same_field(Settings, "ridge")
    n_steps: int = same_field(Settings, "n_steps")
    T: float = same_field(Settings, "T")
    n_bins: int = same_field(Settings, "n_bins")
    x_range: tuple[float, float] = same_field(Settings, "x_range")
    seed: int = same_field(Settings, "seed")


def settings_like(s, **changes) -> Settings:
    """Fig. 2 settings with every field ``s`` shares with :class:`Settings`, then ``changes``."""
    own = {f.name for f in fields(s)} & {f.name for f in fields(Settings)}
    return Settings(**{**{k: getattr(s, k) for k in own}, **changes})


def bin_grid(s: Settings):
    """Bin centres ``linspace(lo, hi, n_bins)`` and edges (bins centred on them)."""
    x = np.linspace(s.x_range[0], s.x_range[1], s.n_bins)
    dx = x[1] - x[0]
    return x, np.linspace(x[0] - dx / 2, x[-1] + dx / 2, s.n_bins + 1)


def true_density(eps, edges, schedule, data):
    r"""``p(x | eps)`` averaged over each bin: :math:`\frac1M\sum_m [\Phi((e_{b+1} - \alpha\mu_m)/\sigma)
    - \Phi((e_b - \alpha\mu_m)/\sigma)] / \Delta x`."""
    a, sd = float(schedule.alpha(eps)), float(np.sqrt(schedule.sigma2(eps)))
    cdf = ndtr((edges[:, None] - a * np.asarray(data)[None, :, 0]) / sd).mean(axis=1)
    return np.diff(cdf) / (edges[1] - edges[0])


def panel_seed(seed: int, eps: float, P: int) -> np.random.SeedSequence:
    """Stream of panel ``(eps, P)``: ``SeedSequence([seed, 2, round(-1000 log10 eps), P])``."""
    return np.random.SeedSequence([int(seed), 2, int(round(-np.log10(eps) * 1000)), int(P)])


def validate(s: Settings) -> np.ndarray:
    """Raise ValueError/TypeError naming the field for settings :func:`run` cannot use;
    return the training points as an ``(M, 1)`` array."""
    check_int(s.n_models, "n_models", 1, MAX_MODELS)
    if s.n_samples is not None:
        check_int(s.n_samples, "n_samples", 1, MAX_SAMPLES)
    check_int(s.n_steps, "n_steps", 1, 10_000)
    check_int(s.n_bins, "n_bins", 2, 100_000)
    check_int(s.seed, "seed", 0, 2**63 - 1)
    check_choice(s.features, "features", FAMILIES)
    if not s.eps or not s.P:
        raise ValueError("eps and P must each hold at least one value")
    for P in s.P:
        check_int(P, "P (training samples)", 1, 100_000)
    if not (np.isfinite(s.ridge) and s.ridge > 0):
        raise ValueError(f"ridge must be finite and > 0, got {s.ridge}")
    lo, hi = s.x_range
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
        raise ValueError(f"x_range must be finite with lo < hi, got {s.x_range}")
    data = np.asarray(s.data, dtype=float)
    if data.ndim != 2 or data.shape[1] != 1 or data.shape[0] < 1 or not np.all(np.isfinite(data)):
        raise ValueError(f"data must be finite 1-D points, shape (M, 1), got {data.shape}")
    sched = make_schedule(s.schedule, s.T)
    for e in s.eps:
        features_for(s, e)  # eps in (0, T), n_x, n_t checked here
        sched.validate_t(e, "eps")
    return data


def features_for(s: Settings, eps: float):
    """The feature map of the panels at ``eps``."""
    return make_features(s.features, 1, s.n_x, s.n_t, eps, T=s.T, x_range=tuple(s.x_range))


def train_panel(s: Settings, seed: int, eps: float, P: int):
    """The trained weights ``W (N, 1, F)`` of panel ``(eps, P)`` and the sampling stream."""
    sched = make_schedule(s.schedule, s.T)
    rng = np.random.default_rng(panel_seed(seed, eps, P))
    train_rng, sample_rng = rng.spawn(2)
    with blas_threads(1):
        W = train_ensemble(features_for(s, eps), np.asarray(s.data, float), sched, P=int(P),
                           n_models=s.n_models, eps=eps, T=s.T, ridge=s.ridge, rng=train_rng)
    return W, sample_rng


def _panel(s: Settings, seed, eps, P):
    """One panel's per-model bin masses and weights (module level: runs in a worker)."""
    sched = make_schedule(s.schedule, s.T)
    _, edges = bin_grid(s)
    W, sample_rng = train_panel(s, seed, eps, P)
    den = LinearDenoiser(features_for(s, eps), W)
    if s.n_samples is None:
        m = pushforward_1d(den, TimeGrid.linear(sched, eps, s.T, s.n_steps), edges, **TRANSPORT)
    else:
        smp = sample_pf_ode(den, TimeGrid.linear(sched, eps, s.T, s.n_steps),
                            n_samples=int(s.n_samples), rng=sample_rng)
        m = histogram_masses(smp, edges)
    return {"masses": m, "W": W}


def _gray(s: Settings, eps):
    sched = make_schedule(s.schedule, s.T)
    _, edges = bin_grid(s)
    m = pushforward_1d(ExactDenoiser(np.asarray(s.data, float), sched),
                       TimeGrid.linear(sched, eps, s.T, s.n_steps), edges, **TRANSPORT)
    return {"masses": m}


def _density(masses, edges):
    """Histogram ``density=True`` semantics: renormalise to the window, divide by the width."""
    tot = masses.sum(axis=-1, keepdims=True)
    if np.any(tot <= 0):
        raise ValueError("a learned distribution put no mass inside the plotted window")
    return masses / (tot * (edges[1] - edges[0]))


def run(settings: Settings = Settings(), rng=None, *, progress=None, cache=None, scheduler=None,
        workers=None) -> xr.Dataset:
    """Train and transport every panel; see the module docstring for the variables."""
    s = settings
    data = validate(s)
    seed = resolve_seed(s, rng)
    prog = quiet_progress(progress, NAME)
    sched = make_schedule(s.schedule, s.T)
    x, edges = bin_grid(s)
    base = {"schedule": sched.cache_key(), "data": data, "n_x": s.n_x, "n_t": s.n_t,
            "family": s.features, "n_steps": s.n_steps, "ridge": s.ridge, "T": s.T,
            "edges": edges, "method": "euler", "x_range": list(s.x_range)}
    mode = "transport" if s.n_samples is None else f"{s.n_samples} samples per model"
    prog.log(f"{len(s.eps)} x {len(s.P)} panels, N = {s.n_models} models, {mode}")
    tasks, labels = [], []
    F = s.n_x * s.n_t
    for eps in s.eps:
        tasks.append((dict(base, eps=eps, transport=TRANSPORT), (_gray, (s, eps))))
        labels.append(f"exact-score PF-ODE eps={eps:g}")
        for P in s.P:
            params = dict(base, eps=eps, P=int(P), seed=seed, n_models=s.n_models,
                          n_samples=s.n_samples, with_weights=True,
                          transport=TRANSPORT if s.n_samples is None else None)
            tasks.append((params, (_panel, (s, seed, eps, int(P)))))
            labels.append(f"panel eps={eps:g}, P={P} (F/P={F / P:g})")
    res = cached_map(get_cache(cache), NAME, tasks, workers=workers, scheduler=scheduler,
                     progress=prog, labels=labels)
    nE, nP, N = len(s.eps), len(s.P), s.n_models
    dens = np.zeros((nE, nP, N, s.n_bins))
    W = np.zeros((nE, nP, N, F))
    true = np.zeros((nE, s.n_bins))
    pfode = np.zeros_like(true)
    k = 0
    for i, eps in enumerate(s.eps):
        true[i] = true_density(eps, edges, sched, data)
        pfode[i] = _density(res[k]["masses"], edges).reshape(-1)
        k += 1
        for j in range(nP):
            dens[i, j] = _density(res[k]["masses"], edges)
            W[i, j] = res[k]["W"][:, 0, :]
            k += 1
    q25, q75 = np.quantile(dens, [0.25, 0.75], axis=2)
    ds = xr.Dataset(
        {"avg": (("eps", "P", "x"), dens.mean(axis=2)), "q25": (("eps", "P", "x"), q25),
         "q75": (("eps", "P", "x"), q75), "true": (("eps", "x"), true),
         "pfode": (("eps", "x"), pfode), "density": (("eps", "P", "model", "x"), dens),
         "weights": (("eps", "P", "model", "feature"), W)},
        coords={"eps": np.asarray(s.eps, float), "P": np.asarray(s.P, int), "x": x,
                "model": np.arange(N), "feature": np.arange(F), "edge": edges},
        attrs=dict(attrs(NAME, s, seed), n_features=F))
    for name in ("avg", "q25", "q75", "true", "pfode", "density"):
        if not np.all(np.isfinite(ds[name].values)):
            raise FloatingPointError(f"fig2: non-finite values in {name!r}")
    ds["avg"].attrs["long_name"] = "mean over models of the learned density"
    ds["true"].attrs["long_name"] = "p(x | eps), bin averages"
    ds["pfode"].attrs["long_name"] = "exact-score PF-ODE on the same time grid"
    return ds


def npz_arrays(result: xr.Dataset) -> dict:
    """The ``--save-data`` keys: ``x, eps, P, avg, q25, q75, true, pfode``."""
    return {k: result[k].values for k in ("x", "eps", "P", "avg", "q25", "q75", "true", "pfode")}
