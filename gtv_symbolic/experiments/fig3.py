r"""Figure 3: 2-D generalization depends on the features and the data's orientation (paper Fig. 3).

Data: ``n_points`` points on the unit circle, ``(cos(2 pi i/m + theta), sin(2 pi i/m + theta))``
(the paper's square for m = 4), one column per rotation ``theta``; one row per feature family
(tensor-product features, ``F = n_x^2 n_t``). Defaults are the paper's: F = 10 x 10 x 10,
P = 500 (F/P = 2), ridge 0.1, N = 100 models, eps = 1e-2, VP, 30-step Euler PF-ODE, 1e5
samples per model, 200 x 200 bins on [-1.5, 1.5]^2.

Each model is sampled directly with the compiled sampler
:func:`gtv_symbolic.solvers.euler2d.euler_histograms_2d` (the learned denoiser evaluated exactly at
the samples); ``avg`` is the mean over models of each model's normalised histogram
(:func:`average_density`). ``normalisation="density"`` (default) normalises each model's bin
masses :math:`m_{ij}` (bin ``i`` along x, ``j`` along y, widths :math:`\Delta x, \Delta y`) as a
*joint* density; ``"paper"`` divides every x-column by its own sum over y, as the paper's code
(``get_prob_from_samples`` of the paper's repository) does, which gives a conditional density
per column:

.. math::

    \hat p_{\rm density}(x_i, y_j) = \frac{m_{ij}}{\Delta x\,\Delta y\,\sum_{kl} m_{kl}},
    \qquad
    \hat p_{\rm paper}(y_j \mid x_i) = \frac{m_{ij}}{\Delta y\,\sum_{l} m_{il}}

(empty columns give 0). The per-column normalisation makes sparse x-columns as bright as dense
ones, which creates the published figure's x/y asymmetry. Panel ``(f, c)`` draws from
:func:`panel_seed` ``(seed, f, c)``; both normalisations share the same samples (and cache).

Examples
--------
>>> r = run(Settings(features=("fourier",), thetas=(0.0,), n_x=3, n_t=3, P=20, n_models=1,
...                  n_samples=100, n_bins=20), cache=False, workers=1)
>>> r["avg"].dims, r["avg"].shape
(('features', 'theta', 'x', 'y'), (1, 1, 20, 20))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from .._runtime.parallel import blas_threads
from ..denoisers import LinearDenoiser
from ..features import FAMILIES, make_features
from ..grids import TimeGrid
from ..solvers import euler2d
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
    setting,
)
from ._tasks import cached_map, get_cache, quiet_progress

__all__ = ["NAME", "Settings", "QUICK", "validate", "run", "npz_arrays", "panel_seed", "points",
           "features_for", "bin_edges", "average_density", "normalised_maps", "xy_asymmetry", "NORMALISATIONS"]

#: Registry name of the experiment (``gtv figures NAME``).
NAME = "fig3"

#: histogram normalisations of :func:`average_density` (``density``: this package's default)
NORMALISATIONS = ("density", "paper")


@dataclass(frozen=True)
class Settings:
    """Settings of Figure 3 (2-D linear-denoiser ensembles on rotated squares; paper Fig. 3).

    Defaults are the paper's parameters: Gaussian and Fourier tensor-product features with
    F = 10 x 10 x 10, P = 500, ridge 0.1, N = 100, eps = 1e-2, VP, 30 Euler steps, 1e5
    samples per model, 200 x 200 bins on [-1.5, 1.5]^2, rotations 0, 22.5 and 45 degrees.
    No formula: settings.

    Examples
    --------
    >>> import dataclasses
    >>> Settings().n_x ** 2 * Settings().n_t, Settings().normalisation
    (1000, 'density')
    >>> dataclasses.replace(Settings(), normalisation="paper").normalisation
    'paper'
    """

    features: tuple[str, ...] = setting(("gaussian", "fourier"), "feature families (rows)",
                                          choices=FAMILIES)
    thetas: tuple[float, ...] = setting((0.0, np.pi / 8, np.pi / 4),
                                        "rotations of the data in radians (columns)")
    n_points: int = setting(4, "training points on the unit circle (4: the paper's square)",
                           lo=1, hi=1000)
    n_x: int = setting(10, "basis functions per x axis", lo=1, hi=4096)
    n_t: int = setting(10, "basis functions along t", lo=1, hi=4096)
    P: int = setting(500, "training samples per model", lo=1, hi=100_000)
    n_models: int = setting(100, "models per ensemble (N)", lo=1, hi=MAX_MODELS)
    n_samples: int = setting(100_000, "PF-ODE samples per model", lo=1, hi=MAX_SAMPLES)
    eps: float = setting(1e-2, "final diffusion time")
    schedule: str = setting("VP", "forward process", choices=SCHEDULES)
    ridge: float = setting(0.1, "ridge parameter rho > 0")
    n_steps: int = setting(30, "Euler PF-ODE steps", lo=1, hi=10_000)
    T: float = setting(1.0, "initial time of the sampler")
    n_bins: int = setting(200, "bins per axis", lo=2, hi=4000)
    lim: float = setting(1.5, "histogram window [-lim, lim]^2 (also the feature range)")
    seed: int = setting(0, "seed of the per-panel streams", lo=0, hi=2**63 - 1)
    normalisation: str = setting("density", "each model's histogram before averaging: density "
                                 "(joint density) or paper (each x-column divided by its sum "
                                 "over y, as the paper's code)", choices=NORMALISATIONS)


#: Small settings for ``--quick`` runs (and the tests).
QUICK = Settings(n_models=20, n_samples=5_000)


def points(n_points: int, theta: float) -> np.ndarray:
    r"""``m`` training points evenly spaced on the unit circle, rotated by ``theta``.

    .. math:: \mu_i = \big(\cos(2\pi i/m + \theta),\ \sin(2\pi i/m + \theta)\big),
              \qquad i = 0, \dots, m - 1.

    Parameters
    ----------
    n_points : int; ``m >= 1`` (4: the paper's square).
    theta : float; rotation in radians.

    Returns
    -------
    numpy.ndarray, shape (m, 2)

    Examples
    --------
    >>> points(4, 0.0).round(3).tolist()
    [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [-0.0, -1.0]]
    """
    a = np.arange(n_points) * (2 * np.pi / n_points) + theta
    return np.stack([np.cos(a), np.sin(a)], axis=1)


def bin_edges(s: Settings) -> np.ndarray:
    r"""Histogram bin edges per axis: ``n_bins + 1`` points evenly spaced on ``[-lim, lim]``.

    .. math:: e_k = -\ell + \frac{2\ell k}{n_{\mathrm{bins}}}, \qquad k = 0..n_{\mathrm{bins}}.

    Parameters
    ----------
    s : Settings; uses ``lim`` (:math:`\ell`) and ``n_bins``.

    Returns
    -------
    numpy.ndarray, shape (n_bins + 1,)

    Examples
    --------
    >>> bin_edges(Settings(n_bins=4, lim=1.0)).tolist()
    [-1.0, -0.5, 0.0, 0.5, 1.0]
    """
    return np.linspace(-s.lim, s.lim, s.n_bins + 1)


def normalised_maps(masses, edges_x, edges_y, normalisation: str = "density") -> np.ndarray:
    r"""Each model's normalised histogram, ``(models, n_x, n_y)``; ``masses[model, i_x, i_y]``.

    ``"density"``: joint density (integral 1 over the window); ``"paper"``: every x-column
    divided by its sum over y and by the y bin width, so each column is a density in y (as
    the paper's code does); empty columns stay 0:

    .. math:: \hat p_{\rm density}(x_i, y_j) = \frac{m_{ij}}{\Delta x_i\,\Delta y_j\,
              \sum_{kl} m_{kl}}, \qquad
              \hat p_{\rm paper}(y_j \mid x_i) = \frac{m_{ij}}{\Delta y_j\,\sum_{l} m_{il}}.

    Parameters
    ----------
    masses : array_like, shape (models, n_x, n_y); each model's bin masses (or counts).
    edges_x, edges_y : array_like, shapes (n_x + 1,), (n_y + 1,); bin edges.
    normalisation : {'density', 'paper'}, default 'density'

    Returns
    -------
    numpy.ndarray, shape (models, n_x, n_y)

    Raises
    ------
    ValueError
        For an unknown ``normalisation``, ``masses`` not 3-D, or (``"density"``) a model with
        no mass in the window.

    Examples
    --------
    >>> m = np.array([[[1.0, 1.0], [2.0, 0.0]]])  # one model, 2 x 2 bins of width 1
    >>> normalised_maps(m, [0, 1, 2], [0, 1, 2]).tolist()
    [[[0.25, 0.25], [0.5, 0.0]]]
    >>> normalised_maps(m, [0, 1, 2], [0, 1, 2], "paper").tolist()
    [[[0.5, 0.5], [1.0, 0.0]]]
    """
    check_choice(normalisation, "normalisation", NORMALISATIONS)
    m = np.asarray(masses, dtype=float)
    if m.ndim != 3:
        raise ValueError(f"masses must have shape (models, n_x, n_y), got {m.shape}")
    dx, dy = np.diff(np.asarray(edges_x, float)), np.diff(np.asarray(edges_y, float))
    if normalisation == "density":
        tot = m.sum(axis=(1, 2), keepdims=True)
        if np.any(tot <= 0):
            raise ValueError("a learned distribution put no mass inside the plotted window")
        return m / (tot * (dx[:, None] * dy[None, :]))
    col = m.sum(axis=2, keepdims=True)  # sum over y of every x-column
    return np.divide(m, col * dy[None, None, :], out=np.zeros_like(m), where=col > 0)


def average_density(masses, edges_x, edges_y, normalisation: str = "density") -> np.ndarray:
    r"""Mean over models of :func:`normalised_maps`: what a panel of Figure 3 shows.

    .. math:: \bar p(x_i, y_j) = \frac1N \sum_{n=1}^N \hat p_n(x_i, y_j),

    with :math:`\hat p_n` model ``n``'s map under ``normalisation``.

    Parameters
    ----------
    masses : array_like, shape (models, n_x, n_y); each model's bin masses.
    edges_x, edges_y : array_like; bin edges, shapes (n_x + 1,), (n_y + 1,).
    normalisation : {'density', 'paper'}, default 'density'

    Returns
    -------
    numpy.ndarray, shape (n_x, n_y)

    Raises
    ------
    ValueError
        As :func:`normalised_maps`.

    Examples
    --------
    >>> m = np.array([[[3.0, 1.0], [0.0, 0.0]]])  # one model, 2 x 2 bins of width 1
    >>> average_density(m, [0, 1, 2], [0, 1, 2], "density")[0]
    array([0.75, 0.25])
    >>> average_density(m, [0, 1, 2], [0, 1, 2], "paper")
    array([[0.75, 0.25],
           [0.  , 0.  ]])
    """
    return normalised_maps(masses, edges_x, edges_y, normalisation).mean(axis=0)


def xy_asymmetry(masses, edges_x, edges_y, normalisation: str = "density") -> np.ndarray:
    r"""Per model, the share of its normalised map :math:`\hat p` (:func:`normalised_maps`) in
    :math:`|x| > |y|` minus the share in :math:`|y| > |x|`:

    .. math::

        a = \frac{\int_{|x|>|y|} \hat p - \int_{|y|>|x|} \hat p}{\int \hat p}.

    Zero in expectation for data and features symmetric under a 90-degree rotation (the
    square with tensor-product features of the same basis in x and y, at every angle).
    Integrals are sums over bins weighted by bin area, each bin classified by its centre.

    Parameters
    ----------
    masses : array_like, shape (models, n_x, n_y); each model's bin masses.
    edges_x, edges_y : array_like; bin edges, shapes (n_x + 1,), (n_y + 1,).
    normalisation : {'density', 'paper'}, default 'density'

    Returns
    -------
    numpy.ndarray, shape (models,)
        One asymmetry :math:`a \in [-1, 1]` per model.

    Examples
    --------
    >>> m = np.array([[[0.1, 0.6, 0.0], [0.0, 0.2, 0.1]]])  # one model, 2 x 3 bins
    >>> ex, ey = [-2, 0, 2], [-4, -1, 1, 4]  # |x| = 1; |y| = 2.5, 0, 2.5
    >>> [round(float(xy_asymmetry(m, ex, ey, how)[0]), 4) for how in ("density", "paper")]
    [0.6, 0.5238]
    """
    maps = normalised_maps(masses, edges_x, edges_y, normalisation)
    ex, ey = np.asarray(edges_x, float), np.asarray(edges_y, float)
    cx, cy = np.abs((ex[:-1] + ex[1:]) / 2), np.abs((ey[:-1] + ey[1:]) / 2)
    area = np.diff(ex)[:, None] * np.diff(ey)[None, :]
    w = maps * area
    diff = np.where(cx[:, None] > cy[None, :], w, 0).sum((1, 2)) - np.where(
        cy[None, :] > cx[:, None], w, 0).sum((1, 2))
    return diff / w.sum((1, 2))


def panel_seed(seed: int, fi: int, ti: int) -> np.random.SeedSequence:
    """Stream of panel (feature row ``fi``, rotation column ``ti``).

    No formula: ``SeedSequence([seed, 3, fi, ti])``, so a panel's draws do not depend on
    which other panels run.

    Parameters
    ----------
    seed : int; the run's seed.
    fi, ti : int; row (feature family) and column (rotation) indices.

    Returns
    -------
    numpy.random.SeedSequence

    Examples
    --------
    >>> panel_seed(0, 1, 2).entropy
    [0, 3, 1, 2]
    """
    return np.random.SeedSequence([int(seed), 3, int(fi), int(ti)])


def features_for(s: Settings, family: str):
    """The crossed 2-D feature map of ``family`` for the settings ``s`` (``n_x`` per axis, ``n_t`` in
    time, on ``[-lim, lim]^2`` and ``[eps, T]``).

    No formula: a constructor (:func:`gtv_symbolic.features.make_features`); the map has
    ``F = n_x^2 n_t`` features.

    Parameters
    ----------
    s : Settings
    family : str; a feature family, e.g. ``'gaussian'`` or ``'fourier'``.

    Returns
    -------
    gtv_symbolic.features.FeatureMap

    Examples
    --------
    >>> fm = features_for(Settings(n_x=3, n_t=2), "gaussian")
    >>> fm(np.zeros((5, 2)), np.full(5, 0.5)).shape
    (5, 18)
    """
    return make_features(family, 2, s.n_x, s.n_t, s.eps, T=s.T, x_range=(-s.lim, s.lim))


def _panel(s: Settings, fam, th, fi, ti, seed):
    sched = make_schedule(s.schedule, s.T)
    e = bin_edges(s)
    fm = features_for(s, fam)
    rng = np.random.default_rng(panel_seed(seed, fi, ti))
    train_rng, sample_rng = rng.spawn(2)
    with blas_threads(1):
        W = train_ensemble(fm, points(s.n_points, th), sched, P=s.P, n_models=s.n_models,
                           eps=s.eps, T=s.T, ridge=s.ridge, rng=train_rng)
    masses = euler2d.euler_histograms_2d(LinearDenoiser(fm, W),
                                         TimeGrid.linear(sched, s.eps, s.T, s.n_steps), (e, e),
                                         n_samples=s.n_samples, rng=sample_rng)
    return {"masses": masses}


def validate(s: Settings) -> None:
    """Raise ValueError/TypeError naming the field for settings :func:`run` cannot use.

    No formula: checks the sizes' ranges (as in the field help), known ``features`` and
    ``normalisation``, finite ``thetas``, ``ridge > 0``, ``lim > 0`` and ``eps`` in (0, T).

    Parameters
    ----------
    s : Settings

    Returns
    -------
    None

    Raises
    ------
    TypeError, ValueError
        Naming the offending field and its allowed range.

    Examples
    --------
    >>> validate(Settings())
    >>> validate(Settings(lim=0.0))
    Traceback (most recent call last):
    ...
    ValueError: lim must be finite and > 0, got 0.0
    """
    check_int(s.n_models, "n_models", 1, MAX_MODELS)
    check_int(s.n_samples, "n_samples", 1, MAX_SAMPLES)
    check_int(s.P, "P (training samples)", 1, 100_000)
    check_int(s.n_points, "n_points", 1, 1000)
    check_int(s.n_steps, "n_steps", 1, 10_000)
    check_int(s.n_bins, "n_bins", 2, 4000)
    check_int(s.seed, "seed", 0, 2**63 - 1)
    check_choice(s.normalisation, "normalisation", NORMALISATIONS)
    if not s.features or not s.thetas:
        raise ValueError("features and thetas must each hold at least one value")
    for f in s.features:
        check_choice(f, "features", FAMILIES)
    if not all(np.isfinite(s.thetas)):
        raise ValueError(f"thetas must be finite, got {s.thetas}")
    if not (np.isfinite(s.ridge) and s.ridge > 0):
        raise ValueError(f"ridge must be finite and > 0, got {s.ridge}")
    if not (np.isfinite(s.lim) and s.lim > 0):
        raise ValueError(f"lim must be finite and > 0, got {s.lim}")
    make_schedule(s.schedule, s.T).validate_t(s.eps, "eps")
    for f in s.features:
        features_for(s, f)


def run(settings: Settings = Settings(), rng=None, *, progress=None, cache=None, scheduler=None,
        workers=None) -> xr.Dataset:
    r"""``avg[features, theta, x, y]``: mean over models of each model's histogram normalised
    by ``settings.normalisation`` (:func:`average_density`); ``xy_asymmetry[features, theta]``
    and its standard error over models (:func:`xy_asymmetry`; NaN error for one model).

    Per panel, with the models' maps :math:`\hat p_n` and asymmetries :math:`a_n`:

    .. math:: \mathrm{avg} = \frac1N\sum_n \hat p_n, \qquad
              \bar a = \frac1N\sum_n a_n \pm \frac{\mathrm{sd}(a_n)}{\sqrt N}.

    Parameters
    ----------
    settings : Settings, default ``Settings()``
    rng : None, int, SeedSequence or Generator; the run's seed (None: ``settings.seed``).
    progress, cache, scheduler, workers : optional; progress reporter, result cache
        (``False``: recompute), dask scheduler, worker count.

    Returns
    -------
    xarray.Dataset
        ``avg`` (dims ``features, theta, x, y``), ``points`` (``theta, point, coord``),
        ``xy_asymmetry`` and ``xy_asymmetry_se`` (``features, theta``).

    Raises
    ------
    TypeError, ValueError
        From :func:`validate`, before any computation (FloatingPointError: non-finite ``avg``).

    Examples
    --------
    >>> run(Settings(n_bins=1))  # checked first; the module example runs one tiny panel
    Traceback (most recent call last):
    ...
    ValueError: n_bins must be in [2, 4000], got 1
    """
    s = settings
    validate(s)
    seed = resolve_seed(s, rng)
    prog = quiet_progress(progress, NAME)
    sched = make_schedule(s.schedule, s.T)
    e = bin_edges(s)
    centres = (e[:-1] + e[1:]) / 2
    base = {"schedule": sched.cache_key(), "n_x": s.n_x, "n_t": s.n_t, "P": s.P, "eps": s.eps,
            "T": s.T, "n_steps": s.n_steps, "ridge": s.ridge, "edges": e, "seed": seed,
            "n_models": s.n_models, "n_samples": s.n_samples, "method": "euler",
            "sampler": f"euler2d-v{euler2d.KERNEL_VERSION}"}
    prog.log(f"{len(s.features)} x {len(s.thetas)} panels, N = {s.n_models} models, "
             f"{s.n_samples} samples per model")
    tasks, labels = [], []
    for fi, fam in enumerate(s.features):
        for ti, th in enumerate(s.thetas):
            params = dict(base, family=fam, theta=float(th), data=points(s.n_points, th))
            tasks.append((params, (_panel, (s, fam, float(th), fi, ti, seed))))
            labels.append(f"panel {fam}, theta={np.degrees(th):g} deg")
    res = cached_map(get_cache(cache), NAME, tasks, workers=workers, scheduler=scheduler,
                     progress=prog, labels=labels)
    nF, nT = len(s.features), len(s.thetas)
    avg = np.zeros((nF, nT, s.n_bins, s.n_bins))
    asym, asym_se = np.zeros((nF, nT)), np.full((nF, nT), np.nan)
    for k, r in enumerate(res):
        avg[k // nT, k % nT] = average_density(r["masses"], e, e, s.normalisation)
        a = xy_asymmetry(r["masses"], e, e, s.normalisation)
        asym[k // nT, k % nT] = a.mean()
        if a.size > 1:
            asym_se[k // nT, k % nT] = a.std(ddof=1) / np.sqrt(a.size)
    if not np.all(np.isfinite(avg)):
        raise FloatingPointError("fig3: non-finite average density")
    pts = np.stack([points(s.n_points, th) for th in s.thetas])
    return xr.Dataset(
        {"avg": (("features", "theta", "x", "y"), avg),
         "points": (("theta", "point", "coord"), pts),
         "xy_asymmetry": (("features", "theta"), asym),
         "xy_asymmetry_se": (("features", "theta"), asym_se)},
        coords={"features": list(s.features), "theta": np.asarray(s.thetas, float), "x": centres,
                "y": centres.copy()},
        attrs=dict(attrs(NAME, s, seed), normalisation=s.normalisation))


def npz_arrays(result: xr.Dataset) -> dict:
    """The ``--save-data`` arrays of a :func:`run` result (no formula: a re-packing).

    Parameters
    ----------
    result : xarray.Dataset; a :func:`run` result.

    Returns
    -------
    dict of str to numpy.ndarray
        ``x, y, theta, features`` (as strings) and ``avg``.

    Examples
    --------
    >>> import xarray as xr
    >>> r = xr.Dataset({"avg": (("features", "x"), [[0.0]])},
    ...                coords={"features": ["gaussian"], "x": [0.0], "y": [0.0], "theta": [0.0]})
    >>> sorted(npz_arrays(r)), npz_arrays(r)["features"].tolist()
    (['avg', 'features', 'theta', 'x', 'y'], ['gaussian'])
    """
    return {"x": result["x"].values, "y": result["y"].values, "theta": result["theta"].values,
            "features": np.asarray([str(f) for f in result["features"].values]),
            "avg": result["avg"].values}
