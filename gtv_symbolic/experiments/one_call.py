r"""Theory vs trained ensemble on your own setting, in one call (issue 10, item 3).

:func:`theory_vs_ensemble` trains ``n_models`` linear denoisers on ``P`` DSM samples each of
any 1-D or 2-D point-mass data, draws Gaussian fields ``W ~ N(W*, Cov_W)`` of the V-kernel
prediction (Prop. 3.1 with the linear-model kernel), pushes both through the same
``n_steps``-step Euler PF-ODE and compares them on one grid, with standard errors.

Statistics (see :mod:`gtv_symbolic.experiments.stats` for the formulas):

* ``tv = (1/2) sum_b |[q]_ens - [q]_gf|`` between the ensemble average and the Gaussian-field
  average, ``tv_se`` by the bootstrap over models and fields (``n_boot`` resamples);
* ``gap_mass_* = mean_n G_n`` (mass of the gap region of model ``n``), ``*_se = sd/sqrt(N)``
  across models; ``gap_mass_diff`` = ensemble - Gaussian field with
  ``se = sqrt(se_ens^2 + se_gf^2)`` (independent draws);
* ``mode_mass_*[mode]``: mass of each training point's Voronoi cell, likewise;
* ``mc_ratio``: se(Gaussian field) / se(ensemble), maximised over gap and mode masses; fields
  are added until it is at most 1/3.

The gap region (``gap_region`` variable) lies between neighbouring training points, at
least ``gap_margin`` times their distance from both (:func:`.stats.gap_region`), unless
``gap`` gives it: a callable of the grid coordinates returning a boolean mask, or (1-D) a
list of ``(lo, hi)`` intervals.

Examples
--------
>>> r = theory_vs_ensemble([-1.0, 0.5, 1.0], n_x=4, n_t=4, P=64, n_models=4, rng=0, n_bins=40,
...                        cache=False, workers=1)
>>> r["ensemble"].dims, float(r["tv_se"]) > 0
(('x',), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from .. import features as features_mod
from ..schedules import Schedule
from ..training import train_ensemble
from . import _compare, stats
from ._common import (
    MAX_MODELS,
    attrs,
    check_choice,
    check_int,
    child,
    make_schedule,
    package_version,
    setting,
)
from ._tasks import get_cache

__all__ = ["theory_vs_ensemble", "data_window"]

FIELD_FACTOR = 9  # fields per model: se ratio ~ 1/3 when per-draw spreads are equal


def data_window(data) -> list[tuple[float, float]]:
    r"""Plot window per axis: ``[min - pad, max + pad]``, ``pad = max(0.25 range, 0.5)``.

    For {-1, 0, 1} this is the paper's [-1.5, 1.5]. Per axis :math:`d`:

    .. math:: [\,l_d - \pi_d,\ h_d + \pi_d\,], \qquad l_d = \min_m \mu_{m,d},\quad
              h_d = \max_m \mu_{m,d},\quad \pi_d = \max\big(\tfrac14 (h_d - l_d), \tfrac12\big).

    Parameters
    ----------
    data : numpy.ndarray, shape (M, D); the training points.

    Returns
    -------
    list of (float, float)
        One ``(lo, hi)`` per axis.

    Examples
    --------
    >>> import numpy as np
    >>> data_window(np.array([[-1.0, 0.0], [0.0, 0.0], [1.0, 4.0]]))
    [(-1.5, 1.5), (-1.0, 5.0)]
    """
    out = []
    for d in range(data.shape[1]):
        lo, hi = float(data[:, d].min()), float(data[:, d].max())
        pad = max(0.25 * (hi - lo), 0.5)
        out.append((lo - pad, hi + pad))
    return out


def _as_data(data):
    try:
        arr = np.asarray(data, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("data must be an array of numbers, shape (M,) or (M, D)") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] not in (1, 2):
        raise ValueError(f"data must have shape (M,) or (M, D) with D in (1, 2), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("data must be finite (found NaN or inf)")
    return arr


def _gap_mask(gap, data, centres, margin):
    if gap is None:
        return stats.gap_region(data, *centres, margin=margin)
    if callable(gap):
        mask = np.asarray(gap(*np.meshgrid(*centres, indexing="ij")), dtype=bool)
    elif len(centres) == 1:
        try:
            iv = [(float(a), float(b)) for a, b in gap]
        except (TypeError, ValueError):
            raise TypeError("gap must be a callable or a list of (lo, hi) intervals") from None
        if any(b <= a for a, b in iv):
            raise ValueError(f"gap intervals need lo < hi, got {iv}")
        x = centres[0]
        mask = np.zeros(x.shape, bool)
        for a, b in iv:
            mask |= (x > a) & (x < b)
    else:
        raise TypeError("gap must be a callable mask(x, y) for 2-D data")
    if mask.shape != tuple(c.size for c in centres):
        raise ValueError(f"gap mask must have the grid shape {tuple(c.size for c in centres)}, "
                         f"got {mask.shape}")
    if not mask.any():
        raise ValueError("gap region holds no grid point")
    return mask


def theory_vs_ensemble(data, *, features="gaussian", n_x: int = 16, n_t: int = 16,
                       P: int = 1024, eps: float = 1e-2, schedule=None, n_models: int = 100,
                       ridge: float = 0.1, target: str = "proxy", rng=None, gap=None,
                       gap_margin: float = stats.GAP_MARGIN, n_fields: int | None = None,
                       n_samples: int = 4000, n_bins: int | None = None, n_steps: int = 30,
                       T: float | None = None, n_boot: int = 200, cache=False, workers=None,
                       scheduler=None, progress=None) -> xr.Dataset:
    r"""Trained ensemble vs the Gaussian-field (V-kernel) prediction on ``data``.

    The ``N`` trained models' bin masses :math:`p_n` are compared with those of ``K``
    Gaussian fields :math:`q_k`, :math:`W_k \sim \mathcal N(W^*, \mathrm{Cov}_W)` (Prop. 3.1
    with the linear-model V-kernel, Prop. 5.1), all through the same Euler PF-ODE:

    .. math:: \mathrm{tv} = \tfrac12\sum_b \Big|\frac1N\sum_n p_{n,b} - \frac1K\sum_k
              q_{k,b}\Big|, \qquad
              \mathrm{gap\_mass\_diff} = \bar g_{\mathrm{ens}} - \bar g_{\mathrm{gf}}, \quad
              \mathrm{se} = \sqrt{\mathrm{se}_{\mathrm{ens}}^2 + \mathrm{se}_{\mathrm{gf}}^2},

    with :math:`g = \sum_{b \in \mathcal G} p_b` and ``tv_se`` by the bootstrap over models
    and fields (module docstring).

    Parameters
    ----------
    data : (M,) or (M, D), D in {1, 2}
        Training points (point masses).
    features : 'gaussian' | 'fourier' | FeatureMap
        A family (tensor-product basis, ``n_x`` per axis times ``n_t``, spanning the plot
        window) or a feature map of dimension D.
    P, eps, ridge, target : training set size, final time, ridge, 'proxy' (J1) or 'true' (J0).
    schedule : None (the paper's VP), a name ('VP', 'VE', 'EDM') or a Schedule.
    n_models : models in the ensemble; ``n_fields`` Gaussian fields (default 9 per model,
        topped up until ``mc_ratio <= 1/3``).
    rng : None, int, SeedSequence or Generator (one stream per task is spawned from it).
    gap, gap_margin : the gap region (module docstring).
    n_samples : PF-ODE samples per model in 2-D (1-D uses the sample-free transport).
    n_bins : bins per axis (default 200 in 1-D, 60 in 2-D); ``n_steps`` Euler steps.
    n_x, n_t : basis functions per x axis and along t (default 16 each).
    T : initial time of the sampler (default: the schedule's horizon).
    n_boot : bootstrap resamples for the TV errors, in [10, 100000].
    cache, workers, scheduler, progress : result cache (default ``False``: none), worker
        count, dask scheduler, progress reporter.

    Returns
    -------
    xarray.Dataset with densities ``ensemble``, ``gaussian_field``, ``pf_ode``, ``p_eps`` on
    ``x`` (and ``y``), scalars ``tv``, ``gap_mass_ensemble``, ``gap_mass_gaussian_field``,
    ``gap_mass_diff`` and TVs to the PF-ODE, each with ``*_se``; ``mode_mass_*`` on ``mode``.

    Raises
    ------
    TypeError, ValueError
        Naming the argument, before any training: bad ``data`` shape (D not 1 or 2) or
        values, ``n_models < 2``, ``P`` outside [1, 100000], ``ridge <= 0``, ``eps``
        outside (0, T), an unknown ``features``/``target``/``schedule``, an empty ``gap``.

    Examples
    --------
    A run takes about a second (see the module example); bad input fails at once:

    >>> theory_vs_ensemble([[0.0, 0.0, 0.0]])
    Traceback (most recent call last):
    ...
    ValueError: data must have shape (M,) or (M, D) with D in (1, 2), got (1, 3)
    >>> theory_vs_ensemble([-1.0, 1.0], eps=2.0)
    Traceback (most recent call last):
    ...
    ValueError: eps must lie in (0, T) = (0, 1), got 2.0
    """
    data = _as_data(data)
    D = data.shape[1]
    n_models = check_int(n_models, "n_models", 2, MAX_MODELS)
    P = check_int(P, "P", 1, 100_000)
    n_steps = check_int(n_steps, "n_steps", 1, 10_000)
    n_boot = check_int(n_boot, "n_boot", 10, 100_000)
    check_choice(target, "target", ("proxy", "true"))
    if not (np.isfinite(ridge) and ridge > 0):
        raise ValueError(f"ridge must be finite and > 0, got {ridge}")
    if schedule is None:
        schedule = "VP"
    if isinstance(schedule, str):
        sched = make_schedule(schedule, 1.0 if T is None else float(T))
    elif isinstance(schedule, Schedule):
        sched = schedule
    else:
        raise TypeError(f"schedule must be None, a name or a Schedule, got "
                        f"{type(schedule).__name__}")
    T = sched.T if T is None else float(T)
    if not (np.isfinite(eps) and 0 < eps < T):
        raise ValueError(f"eps must lie in (0, T) = (0, {T:g}), got {eps}")
    sched.validate_t(eps, "eps")
    n_bins = (200 if D == 1 else 60) if n_bins is None else check_int(n_bins, "n_bins", 4, 4000)
    n_samples = check_int(n_samples, "n_samples", 10, 10**7)
    window = data_window(data)
    if isinstance(features, str):
        check_choice(features, "features", features_mod.FAMILIES)
        if D == 2 and window[0] != window[1]:
            lo = min(window[0][0], window[1][0])
            hi = max(window[0][1], window[1][1])
            window = [(lo, hi), (lo, hi)]  # one x basis for both axes
        fm = features_mod.make_features(features, D, n_x, n_t, eps, T=T, x_range=window[0])
        fname = features
    else:
        fm = features
        if getattr(fm, "dim", None) != D:
            raise ValueError(f"features must have dim {D} (the data's), got "
                             f"{getattr(fm, 'dim', None)}")
        if not hasattr(fm, "cache_key"):
            raise TypeError("features must be a family name or a gtv_symbolic FeatureMap")
        fname = repr(fm)
    n_fields = FIELD_FACTOR * n_models if n_fields is None else check_int(
        n_fields, "n_fields", 2, MAX_MODELS * 50)
    edges = [np.linspace(lo - (hi - lo) / (2 * (n_bins - 1)), hi + (hi - lo) / (2 * (n_bins - 1)),
                         n_bins + 1) for lo, hi in window]
    centres = [0.5 * (e[1:] + e[:-1]) for e in edges]
    gap_mask = _gap_mask(gap, data, centres, gap_margin)
    cells = stats.mode_cells(data, *centres)

    root = rng if isinstance(rng, np.random.SeedSequence) else np.random.SeedSequence(
        None if rng is None else (int(rng.integers(0, 2**63 - 1))
                                  if isinstance(rng, np.random.Generator) else int(rng)))
    r_train, r_kern, r_ens, r_gf, r_pf, r_boot = (child(root, k) for k in range(6))
    cache = get_cache(cache)
    common = dict(eps=eps, T=T, n_steps=n_steps, n_samples=n_samples, cache=cache,
                  workers=workers, scheduler=scheduler, progress=progress)
    W = train_ensemble(fm, data, sched, P=P, n_models=n_models, eps=eps, T=T, ridge=ridge,
                       rng=np.random.default_rng(r_train), target=target)
    ens = stats.normalise(_compare.model_masses(fm, W, sched, edges, seed_seq=r_ens,
                                                label="ensemble", **common))
    K = _compare.kernel(fm, data, sched, eps=eps, T=T, ridge=ridge, target=target,
                        seed_seq=r_kern, cache=cache).with_P(P)

    def draw(n, k):
        return K.sample_weights(n, np.random.default_rng(child(child(r_gf, k), 0)))

    def masses_of(Wg, k):
        return stats.normalise(_compare.model_masses(fm, Wg, sched, edges,
                                                     seed_seq=child(child(r_gf, k), 1),
                                                     label="Gaussian fields", **common))

    regions = [gap_mask] + [cells == k for k in range(int(cells.max()) + 1)]
    gf, ratio = _compare.gaussian_fields(draw, n_fields, masses_of, ens, regions)
    pf = stats.normalise(_compare.exact_masses(data, sched, edges, eps=eps, T=T, n_steps=n_steps,
                                               n_samples=20 * n_samples, seed_seq=r_pf))
    pe = stats.normalise(_compare.p_eps_masses(data, sched, edges, eps))
    summ = _compare.summary(ens, gf, pf, pe, gap_mask, cells, n_boot=n_boot,
                            rng=np.random.default_rng(r_boot))

    dims = ("x",) if D == 1 else ("x", "y")
    shape = tuple(c.size for c in centres)
    area = float(np.prod([e[1] - e[0] for e in edges]))
    coords = {d: c for d, c in zip(dims, centres, strict=True)}
    coords["mode"] = np.arange(int(cells.max()) + 1)
    vars_ = {
        "ensemble": (dims, ens.mean(0).reshape(shape) / area),
        "gaussian_field": (dims, gf.mean(0).reshape(shape) / area),
        "pf_ode": (dims, pf.reshape(shape) / area),
        "p_eps": (dims, pe.reshape(shape) / area),
        "ensemble_se": (dims, stats.mean_se(ens)[1].reshape(shape) / area),
        "gaussian_field_se": (dims, stats.mean_se(gf)[1].reshape(shape) / area),
        "gap_region": (dims, gap_mask.astype(np.int8)),
        "mode_cell": (dims, cells.astype(np.int32)),
        "data": (("point", "coord"), data),
        "mc_ratio": ((), ratio),
        "n_fields": ((), gf.shape[0]),
    }
    for k, v in summ.items():
        vars_[k] = (("mode",), np.asarray(v)) if np.ndim(v) else ((), float(v))
    settings = _OneCall(data=tuple(map(tuple, data.tolist())), features=fname, n_x=n_x, n_t=n_t,
                        P=P, eps=float(eps), schedule=sched.name, n_models=n_models,
                        ridge=float(ridge), target=target, gap=None if gap is None else repr(gap),
                        gap_margin=gap_margin, n_fields=int(gf.shape[0]), n_samples=n_samples,
                        n_bins=n_bins, n_steps=n_steps, T=T, n_boot=n_boot)
    seed = root.entropy if isinstance(root.entropy, int) else None
    a = attrs("theory_vs_ensemble", settings, seed)
    a.update(version=package_version(), mc_ratio_target=_compare.MC_RATIO,
             gap_definition=("user-given" if gap is not None else
                             f"between neighbouring training points, at least {gap_margin:g} of "
                             "their distance from both"),
             se_method="tv: bootstrap over models and fields; masses: across-model sd/sqrt(N)")
    if ratio > _compare.MC_RATIO:
        a["warning"] = (f"Gaussian-field Monte Carlo error is {ratio:.2f} of the ensemble's "
                        f"(> 1/3) at the field cap")
    return xr.Dataset(vars_, coords=coords, attrs=a)


@dataclass(frozen=True)
class _OneCall:
    """The arguments of one :func:`theory_vs_ensemble` call (stored in the result's attrs)."""

    data: tuple = setting((), "training points")
    features: str = setting("gaussian", "feature family or map")
    n_x: int = setting(16, "basis functions per x axis")
    n_t: int = setting(16, "basis functions along t")
    P: int = setting(1024, "training samples per model")
    eps: float = setting(1e-2, "final time")
    schedule: str = setting("VP", "schedule")
    n_models: int = setting(100, "models")
    ridge: float = setting(0.1, "ridge")
    target: str = setting("proxy", "training target")
    gap: str | None = setting(None, "user gap region (repr)")
    gap_margin: float = setting(0.25, "gap margin")
    n_fields: int = setting(900, "Gaussian fields drawn")
    n_samples: int = setting(4000, "2-D samples per model")
    n_bins: int = setting(200, "bins per axis")
    n_steps: int = setting(30, "Euler steps")
    T: float = setting(1.0, "initial time")
    n_boot: int = setting(200, "bootstrap resamples")
