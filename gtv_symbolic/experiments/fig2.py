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
    """Settings of Figure 2 (linear-denoiser ensembles on the 1-D data {-1, 0, 1}; paper Fig. 2).

    Defaults are the paper's parameters: VP schedule, Gaussian 16 x 16 features, ridge 0.1,
    ``N = 100`` models, 30 Euler steps, 200 bins on [-1.5, 1.5], ``eps`` in {1e-2, 1e-3,
    1e-4} and ``P`` from 1024 down to 64. No formula: settings.

    Examples
    --------
    >>> import dataclasses
    >>> Settings().P, dataclasses.replace(Settings(), n_models=20).n_models
    ((1024, 512, 256, 128, 64), 20)
    """

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
    ensemble, ablation, phase) take from :class:`Settings`, with its defaults (base class).

    Each field copies the :class:`Settings` field of that name. No formula: settings.

    Examples
    --------
    >>> Shared().n_x == Settings().n_x, Shared().schedule
    (True, 'VP')
    """

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
    """Fig. 2 settings with every field ``s`` shares with :class:`Settings`, then ``changes``.

    No formula: copies the common fields (the rest keep Figure 2's defaults).

    Parameters
    ----------
    s : dataclass instance; settings of a derived experiment (e.g. :class:`.theory.Settings`).
    **changes : fields of :class:`Settings` to set afterwards.

    Returns
    -------
    Settings (TypeError if ``changes`` names a field it does not have).

    Examples
    --------
    >>> f2 = settings_like(Shared(n_x=4), n_models=3)
    >>> f2.n_x, f2.n_models, f2.P == Settings().P
    (4, 3, True)
    """
    own = {f.name for f in fields(s)} & {f.name for f in fields(Settings)}
    return Settings(**{**{k: getattr(s, k) for k in own}, **changes})


def bin_grid(s: Settings):
    r"""Bin centres ``linspace(lo, hi, n_bins)`` and edges (bins centred on them).

    .. math:: x_b = \mathrm{lo} + b\,\Delta x,\quad \Delta x = \frac{\mathrm{hi} - \mathrm{lo}}
              {n_{\mathrm{bins}} - 1}, \qquad e_b = x_b - \tfrac12 \Delta x \quad
              (b = 0..n_{\mathrm{bins}}).

    Parameters
    ----------
    s : Settings or Shared; uses ``x_range = (lo, hi)`` and ``n_bins``.

    Returns
    -------
    x : numpy.ndarray, shape (n_bins,); bin centres.
    edges : numpy.ndarray, shape (n_bins + 1,); bin edges.

    Examples
    --------
    >>> x, e = bin_grid(Settings(n_bins=3, x_range=(-1.0, 1.0)))
    >>> x.tolist(), e.tolist()
    ([-1.0, 0.0, 1.0], [-1.5, -0.5, 0.5, 1.5])
    """
    x = np.linspace(s.x_range[0], s.x_range[1], s.n_bins)
    dx = x[1] - x[0]
    return x, np.linspace(x[0] - dx / 2, x[-1] + dx / 2, s.n_bins + 1)


def true_density(eps, edges, schedule, data):
    r"""The noised data density ``p(x | eps)`` averaged over each bin.

    For the mixture :math:`p(x | \epsilon) = \frac1M\sum_m \mathcal N(x; \alpha\mu_m,
    \sigma^2)` (:math:`\alpha = \alpha_\epsilon`, :math:`\sigma^2 = \sigma^2_\epsilon`):

    .. math:: \bar p_b = \frac{1}{M\,\Delta x}\sum_m \Big[\Phi\Big(\frac{e_{b+1} - \alpha\mu_m}
              {\sigma}\Big) - \Phi\Big(\frac{e_b - \alpha\mu_m}{\sigma}\Big)\Big].

    Parameters
    ----------
    eps : float; the time :math:`\epsilon` in the schedule's interval.
    edges : numpy.ndarray, shape (n_bins + 1,); equally spaced bin edges.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`
    data : array_like, shape (M, 1); the 1-D training points :math:`\mu_m`.

    Returns
    -------
    numpy.ndarray, shape (n_bins,)
        Bin-averaged density (its sum times ``dx`` is the mass inside the edges).

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import schedules
    >>> p = true_density(1e-2, np.linspace(-3, 3, 61), schedules.VP(), [[-1.0], [0.0], [1.0]])
    >>> p.shape, round(float(p.sum() * 0.1), 4)
    ((60,), 1.0)
    """
    a, sd = float(schedule.alpha(eps)), float(np.sqrt(schedule.sigma2(eps)))
    cdf = ndtr((edges[:, None] - a * np.asarray(data)[None, :, 0]) / sd).mean(axis=1)
    return np.diff(cdf) / (edges[1] - edges[0])


def panel_seed(seed: int, eps: float, P: int) -> np.random.SeedSequence:
    """Stream of panel ``(eps, P)``: ``SeedSequence([seed, 2, round(-1000 log10 eps), P])``.

    No formula: a seed derivation, so a panel's models do not depend on which other panels
    run or in what order.

    Parameters
    ----------
    seed : int; the run's seed, in [0, 2**63 - 1].
    eps : float; the panel's final time (> 0).
    P : int; the panel's training-set size.

    Returns
    -------
    numpy.random.SeedSequence

    Examples
    --------
    >>> panel_seed(0, 1e-2, 64).entropy
    [0, 2, 2000, 64]
    """
    return np.random.SeedSequence([int(seed), 2, int(round(-np.log10(eps) * 1000)), int(P)])


def validate(s: Settings) -> np.ndarray:
    """Raise ValueError/TypeError naming the field for settings :func:`run` cannot use;
    return the training points as an ``(M, 1)`` array.

    No formula: checks the sizes' ranges (as in the field help), ``ridge > 0``, a finite
    ``x_range`` with lo < hi, finite 1-D ``data`` and every ``eps`` in (0, T).

    Parameters
    ----------
    s : Settings

    Returns
    -------
    numpy.ndarray, shape (M, 1)

    Raises
    ------
    TypeError, ValueError
        Naming the offending field and its allowed range.

    Examples
    --------
    >>> validate(Settings()).ravel().tolist()
    [-1.0, 0.0, 1.0]
    >>> validate(Settings(ridge=0.0))
    Traceback (most recent call last):
    ...
    ValueError: ridge must be finite and > 0, got 0.0
    """
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
    r"""The feature map of the panels at ``eps`` (no formula: a constructor).

    Crossed features of ``s.features`` with ``n_x`` functions along x and ``n_t`` along
    :math:`t \in [\epsilon, T]`, ``F = n_x n_t`` (:func:`gtv_symbolic.features.make_features`).

    Parameters
    ----------
    s : Settings or Shared
    eps : float; lower end of the time window, in (0, T).

    Returns
    -------
    gtv_symbolic.features.FeatureMap (ValueError for ``eps`` outside (0, T), bad sizes).

    Examples
    --------
    >>> import numpy as np
    >>> fm = features_for(Settings(n_x=4, n_t=3), 1e-2)
    >>> fm(np.zeros((5, 1)), np.full(5, 0.5)).shape
    (5, 12)
    """
    return make_features(s.features, 1, s.n_x, s.n_t, eps, T=s.T, x_range=tuple(s.x_range))


def train_panel(s: Settings, seed: int, eps: float, P: int):
    r"""The trained weights ``W (N, 1, F)`` of panel ``(eps, P)`` and the sampling stream.

    Each of the ``N = s.n_models`` models is fitted in closed form to its own ``P`` DSM
    triples (:func:`gtv_symbolic.training.train_ensemble`, paper Sec. 5):

    .. math:: W_n^\top = (\hat G_n + \rho I)^{-1} \hat g_n, \qquad
              \hat G_n = \frac1P\sum_i \lambda_i \phi_i\phi_i^\top, \qquad
              \hat g_n = \frac1P\sum_i \lambda_i \phi_i x_{0,i}^\top,

    with :math:`\lambda = \alpha_t^2/\sigma_t^2` and :math:`t \sim U[\epsilon, T]`.

    Parameters
    ----------
    s : Settings
    seed : int; the run's seed (the panel stream is :func:`panel_seed`).
    eps : float; the panel's final time.
    P : int; training triples per model.

    Returns
    -------
    W : numpy.ndarray, shape (n_models, 1, n_x * n_t)
    sample_rng : numpy.random.Generator; the panel's PF-ODE sampling stream.

    Examples
    --------
    >>> W, _ = train_panel(Settings(n_models=2, n_x=2, n_t=2), 0, 1e-2, 8)
    >>> W.shape
    (2, 1, 4)
    """
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
    r"""Train and transport every panel; see the module docstring for the variables.

    Each model's density on the bins is its sampler's push-forward of the seed law (or a
    histogram of ``n_samples`` PF-ODE samples), renormalised to the window,
    :math:`p_{n,b} = m_{n,b} / (\Delta x \sum_{b'} m_{n,b'})`; the panel reports

    .. math:: \mathrm{avg}_b = \frac1N \sum_{n=1}^N p_{n,b}, \qquad
              q_{25}, q_{75} = \text{the 25 and 75 \% quantiles of } p_{n,b} \text{ over } n.

    Parameters
    ----------
    settings : Settings, default ``Settings()``
    rng : None, int, SeedSequence or Generator; the run's seed (None: ``settings.seed``).
    progress, cache, scheduler, workers : optional; progress reporter, result cache
        (``False``: recompute), dask scheduler, worker count.

    Returns
    -------
    xarray.Dataset
        ``avg, q25, q75`` (dims ``eps, P, x``), ``true, pfode`` (``eps, x``), ``density``
        (``eps, P, model, x``) and ``weights`` (``eps, P, model, feature``).

    Raises
    ------
    TypeError, ValueError
        From :func:`validate`, before any computation (FloatingPointError: non-finite output).

    Examples
    --------
    >>> run(Settings(n_bins=1))  # checked first; the module example runs one tiny panel
    Traceback (most recent call last):
    ...
    ValueError: n_bins must be in [2, 100000], got 1
    """
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
    """The ``--save-data`` arrays of a :func:`run` result (no formula: a re-packing).

    Parameters
    ----------
    result : xarray.Dataset; a :func:`run` result.

    Returns
    -------
    dict of str to numpy.ndarray
        ``x, eps, P, avg, q25, q75, true, pfode``.

    Examples
    --------
    >>> import xarray as xr
    >>> keys = ("x", "eps", "P", "avg", "q25", "q75", "true", "pfode")
    >>> list(npz_arrays(xr.Dataset({k: ("i", [0.0]) for k in keys}))) == list(keys)
    True
    """
    return {k: result[k].values for k in ("x", "eps", "P", "avg", "q25", "q75", "true", "pfode")}
