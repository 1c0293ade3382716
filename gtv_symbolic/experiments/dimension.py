r"""Dimension sweep: how the proxy target's variance behaves for point-mass data in D dimensions.

Data (unit norm, ``M = n_points`` points): ``sphere`` -- points uniform on ``S^{D-1}``;
``cube`` -- vertices of ``{-1, 1}^D / sqrt(D)`` (all ``2^D`` when ``2^D <= M``, otherwise ``M``
distinct random vertices). For every dimension ``D`` and time ``t`` (VP), with
``x ~ p(x | t)`` (``n_mc`` draws: a training point, then ``x = alpha_t x0 + sigma_t z``):

* ``frac_R``: the fraction of ``p(x|t)``-mass where Figure 1's ratio
  :math:`R = \mathrm{tr}\,C/(\mathrm{tr}\,C + |s|^2) > 1/2`
  (:func:`gtv_symbolic.proxy.variance_ratio`; binomial standard error);
* ``trC`` and ``s2``: :math:`\mathbb E[\mathrm{tr}\,C]` and :math:`\mathbb E|s|^2` (paper
  Sec. 2; true score), and ``naive_V`` :math:`= \mathbb E[\mathrm{tr}\,V_{naive}]/D`
  with :math:`V_{naive} = \kappa D_t^2 C` at :math:`\kappa = 1` (Prop. 4.1,
  :func:`gtv_symbolic.kernels.naive_V`): the per-dimension magnitude of the naive estimator's
  V-kernel;
* ``t_star`` (per data set and D): the largest time with
  :math:`\mathbb E[\mathrm{tr}\,C] \ge \mathbb E|s|^2` (below it, where the posterior is
  not yet collapsed, the proxy target's variance dominates the signal), by linear
  interpolation of :math:`\log(\mathbb E\,\mathrm{tr}\,C/\mathbb E|s|^2)` in
  :math:`\log t`; its standard error propagates the two bracketing points' errors
  (independent-error approximation); NaN when the ratio never reaches 1 on the grid
  (``E tr C <= D / sigma_t^2 - E|s|^2``, so this needs a posterior variance of order
  ``D sigma_t^2 / alpha_t^2``, which finitely many unit-norm points cannot give at small t);
* ``post_var`` :math:`= \mathbb E[\mathrm{tr}\,\Sigma_{post}]/\mathrm{tr\,Cov(data)}`
  (1: the posterior is the prior; 0: collapsed onto one point, where the noisy and the
  closed-form targets coincide) and ``t_half``, the time where it crosses 1/2 (the same
  interpolation and error): below ``t_half`` the two targets nearly coincide.

The critique (Bertrand, Gagneux, Massias, Emonet, NeurIPS 2025, arXiv 2506.03719) reports
that on CIFAR-10 the closed-form and noisy targets nearly coincide before ``t ~ 0.2``;
``D = 2`` is Figure 1's setting.

Examples
--------
>>> r = run(Settings(D=(1, 4), n_t=4, n_mc=200), cache=False, workers=1)
>>> r["frac_R"].dims
('data', 'D', 't')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ._common import (attrs, check_choice, check_int, make_schedule, resolve_seed, seed_sequence,
                      setting)
from ._tasks import cached_map, get_cache, quiet_progress

__all__ = ["NAME", "Settings", "QUICK", "validate", "run", "npz_arrays", "point_data", "DATASETS"]

#: Registry name of the experiment (``gtv figures NAME``).
NAME = "dimension"
DATASETS = ("sphere", "cube")


@dataclass(frozen=True)
class Settings:
    """Settings of the dimension sweep (Figure 1's ratio and the proxy variance vs D).

    Not a paper figure (``D = 2`` is Figure 1's dimension; the schedule here is VP): the
    defaults (16 unit-norm points, D up to 256, 24 times from 1e-3 to 1) are this package's.
    No formula: settings.

    Examples
    --------
    >>> Settings().D[:4], Settings(n_mc=100).n_mc
    ((1, 2, 4, 8), 100)
    """

    data: tuple[str, ...] = setting(DATASETS, "data families (sphere, cube)", choices=DATASETS)
    D: tuple[int, ...] = setting((1, 2, 4, 8, 16, 32, 64, 128, 256), "dimensions", lo=1,
                                 hi=4096)
    n_points: int = setting(16, "training points M per data set", lo=2, hi=4096)
    t_min: float = setting(1e-3, "smallest time of the geometric t grid")
    n_t: int = setting(24, "times (geometric from t_min to T)", lo=2, hi=1000)
    n_mc: int = setting(4000, "Monte Carlo draws x ~ p(x|t) per (data, D, t)", lo=10,
                        hi=10**6)
    schedule: str = setting("VP", "forward process (VP, VE, EDM)", choices=("VP", "VE", "EDM"))
    T: float = setting(1.0, "largest time (schedule horizon)")
    seed: int = setting(7, "seed of the data and Monte Carlo streams", lo=0)


#: Small settings for ``--quick`` runs (and the tests).
QUICK = Settings(n_mc=1000, n_t=12)


def point_data(kind: str, D: int, M: int, rng) -> np.ndarray:
    r"""``M`` unit-norm training points in ``D`` dimensions (module docstring).

    .. math:: \text{sphere: } \mu_m = z_m/|z_m|,\ z_m \sim \mathcal N(0, I_D); \qquad
              \text{cube: } \mu_m \in \{-1, 1\}^D/\sqrt D,

    the cube's vertices all of them when ``2^D <= M``, else ``M`` distinct random ones.

    Parameters
    ----------
    kind : {'sphere', 'cube'}
    D : int; the dimension (>= 1).
    M : int; the number of points (>= 1).
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (M, D) (or (2^D, D) for a cube with ``2^D <= M``)

    Raises
    ------
    ValueError
        For an unknown ``kind``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> point_data("cube", 2, 4, rng).round(3).tolist()
    [[-0.707, -0.707], [-0.707, 0.707], [0.707, -0.707], [0.707, 0.707]]
    >>> bool(np.allclose(np.linalg.norm(point_data("sphere", 5, 3, rng), axis=1), 1))
    True
    """
    check_choice(kind, "data", DATASETS)
    if kind == "sphere":
        z = rng.standard_normal((M, D))
        return z / np.linalg.norm(z, axis=1, keepdims=True)
    if 2**D <= M:
        v = np.array(np.meshgrid(*[[-1.0, 1.0]] * D, indexing="ij")).reshape(D, -1).T
    else:
        seen, rows = set(), []
        while len(rows) < M:
            r = rng.integers(0, 2, D)
            if r.tobytes() not in seen:
                seen.add(r.tobytes())
                rows.append(2.0 * r - 1.0)
        v = np.array(rows)
    return v / np.sqrt(D)


def _cell(s: Settings, seed: int, k_data: int, D: int) -> dict:
    """All times of one (data set, D) cell."""
    from .. import proxy

    sched = make_schedule(s.schedule, s.T)
    r_data, r_mc = np.random.default_rng(seed_sequence(seed, 21, k_data, D)).spawn(2)
    mu = point_data(s.data[k_data], D, s.n_points, r_data)
    ts = np.geomspace(s.t_min, s.T, s.n_t)
    out = {k: np.zeros(s.n_t) for k in ("frac_R", "frac_R_se", "mean_R", "mean_R_se", "trC",
                                        "trC_se", "s2", "s2_se", "naive_V", "naive_V_se",
                                        "post_var", "post_var_se")}
    tr_data = float(np.trace(np.atleast_2d(np.cov(mu.T, bias=True))))
    for i, t in enumerate(ts):
        x0 = mu[r_mc.integers(0, mu.shape[0], s.n_mc)]
        x = sched.alpha(t) * x0 + np.sqrt(sched.sigma2(t)) * r_mc.standard_normal(x0.shape)
        tt = np.full(s.n_mc, t)
        R = proxy.variance_ratio(x, tt, mu, sched)
        w = proxy.posterior_weights(x, tt, mu, sched)
        m = w @ mu
        # tr C = alpha^2 / sigma^4 sum_m w_m |mu_m - m|^2 (paper Sec. 2) without the D x D matrices;
        # tr V_naive = kappa D_t^2 tr C (Prop. 4.1; equals tr kernels.naive_V, tested)
        a, v2 = float(sched.alpha(t)), float(sched.sigma2(t))
        tr_post = np.maximum(w @ np.sum(mu**2, axis=1) - np.sum(m**2, axis=1), 0.0)
        trC = a**2 / v2**2 * tr_post
        s2 = np.sum((a * m - x) ** 2, axis=1) / v2**2
        nv = float(sched.D(t)) ** 2 * trC / D
        for k, v in (("frac_R", (R > 0.5).astype(float)), ("mean_R", R), ("trC", trC),
                     ("s2", s2), ("naive_V", nv), ("post_var", tr_post / tr_data)):
            out[k][i] = v.mean()
            out[k + "_se"][i] = v.std(ddof=1) / np.sqrt(s.n_mc)
    return out


def _t_star(ts, a, a_se, b, b_se):
    """Largest t where ``a - b`` changes sign (log-linear interpolation of ``log(a/b)`` in
    ``log t``) and its propagated standard error; NaN if it never does."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lr = np.log(a) - np.log(b)
        se = np.sqrt((a_se / a) ** 2 + (b_se / np.asarray(b, float)) ** 2)
    ok = np.isfinite(lr)
    idx = np.nonzero(ok[:-1] & ok[1:] & (np.sign(lr[:-1]) != np.sign(lr[1:])))[0]
    if idx.size == 0:
        return np.nan, np.nan
    i = idx[-1]
    lt = np.log(ts)
    slope = (lr[i + 1] - lr[i]) / (lt[i + 1] - lt[i])
    lts = lt[i] - lr[i] / slope
    w = (lts - lt[i]) / (lt[i + 1] - lt[i])
    se_lr = np.hypot((1 - w) * se[i], w * se[i + 1])
    t_star = float(np.exp(lts))
    return t_star, float(t_star * se_lr / abs(slope))


def validate(s: Settings):
    """Raise ValueError/TypeError naming the field for settings :func:`run` cannot use;
    return the schedule.

    No formula: checks non-empty, known ``data``, ``D`` in [1, 4096], ``n_points``, ``n_t``,
    ``n_mc`` in their ranges and ``t_min`` in (0, T).

    Parameters
    ----------
    s : Settings

    Returns
    -------
    gtv_symbolic.schedules.Schedule

    Raises
    ------
    TypeError, ValueError
        Naming the offending field and its allowed range.

    Examples
    --------
    >>> validate(Settings()).name
    'VP'
    >>> validate(Settings(t_min=2.0))
    Traceback (most recent call last):
    ...
    ValueError: t_min must lie in (0, T) = (0, 1.0), got 2.0
    """
    if not s.data or not s.D:
        raise ValueError("data and D must each hold at least one value")
    for k in s.data:
        check_choice(k, "data", DATASETS)
    for D in s.D:
        check_int(D, "D", 1, 4096)
    check_int(s.n_points, "n_points", 2, 4096)
    check_int(s.n_t, "n_t", 2, 1000)
    check_int(s.n_mc, "n_mc", 10, 10**6)
    sched = make_schedule(s.schedule, s.T)
    if not (np.isfinite(s.t_min) and 0 < s.t_min < s.T):
        raise ValueError(f"t_min must lie in (0, T) = (0, {s.T}), got {s.t_min}")
    sched.validate_t(s.t_min, "t_min")
    return sched


def run(settings: Settings = Settings(), rng=None, *, progress=None, cache=None, scheduler=None,
        workers=None) -> xr.Dataset:
    r"""Every (data set, D, t); see the module docstring for the variables.

    Monte Carlo over :math:`x_k \sim p(x \mid t)`, :math:`k \le n` (``n_mc``): each
    quantity is a sample mean with error :math:`\mathrm{sd}/\sqrt n`, e.g.

    .. math:: \mathrm{frac\_R} = \frac1n\sum_k \mathbf 1[R(x_k, t) > \tfrac12], \qquad
              \mathrm{trC} = \frac1n\sum_k \frac{\alpha_t^2}{\sigma_t^4}
              \operatorname{tr}\Sigma_{\mathrm{post}}(x_k, t),

    and ``t_star`` solves :math:`\log(\mathbb E\,\mathrm{tr}\,C/\mathbb E|s|^2) = 0` by
    linear interpolation in :math:`\log t` (the error propagated from the two bracketing
    times).

    Parameters
    ----------
    settings : Settings, default ``Settings()``
    rng : None, int, SeedSequence or Generator; the run's seed (None: ``settings.seed``).
    progress, cache, scheduler, workers : optional; as in :func:`.fig2.run`.

    Returns
    -------
    xarray.Dataset
        ``frac_R, mean_R, trC, s2, naive_V, post_var`` with ``*_se`` (dims ``data, D, t``);
        ``t_star, t_half`` with ``*_se`` (``data, D``; NaN where never crossed).

    Raises
    ------
    TypeError, ValueError
        From :func:`validate`, before any computation.

    Examples
    --------
    >>> run(Settings(n_mc=1))  # checked first; the module example runs two small dimensions
    Traceback (most recent call last):
    ...
    ValueError: n_mc must be in [10, 1000000], got 1
    """
    s = settings
    sched = validate(s)
    seed = resolve_seed(s, rng)
    prog = quiet_progress(progress, NAME)
    base = {"n_points": s.n_points, "t_min": s.t_min, "n_t": s.n_t, "n_mc": s.n_mc,
            "schedule": sched.cache_key(), "seed": seed, "version": 1}
    tasks, labels = [], []
    for k, name in enumerate(s.data):
        for D in s.D:
            tasks.append((dict(base, data=name, D=int(D)), (_cell, (s, seed, k, int(D)))))
            labels.append(f"{name} D={D}")
    res = cached_map(get_cache(cache), NAME, tasks, workers=workers, scheduler=scheduler,
                     progress=prog, labels=labels)
    ts = np.geomspace(s.t_min, s.T, s.n_t)
    nK, nD = len(s.data), len(s.D)
    keys = list(res[0])
    arr = {k: np.array([r[k] for r in res]).reshape(nK, nD, s.n_t) for k in keys}
    tv = {k: np.full((nK, nD), np.nan) for k in ("t_star", "t_star_se", "t_half", "t_half_se")}
    for i in range(nK):
        for j in range(nD):
            tv["t_star"][i, j], tv["t_star_se"][i, j] = _t_star(
                ts, arr["trC"][i, j], arr["trC_se"][i, j], arr["s2"][i, j], arr["s2_se"][i, j])
            tv["t_half"][i, j], tv["t_half_se"][i, j] = _t_star(
                ts, arr["post_var"][i, j], arr["post_var_se"][i, j], np.full(s.n_t, 0.5),
                np.zeros(s.n_t))
    ds = xr.Dataset({**{k: (("data", "D", "t"), v) for k, v in arr.items()},
                     **{k: (("data", "D"), v) for k, v in tv.items()}},
                    coords={"data": list(s.data), "D": np.asarray(s.D, int), "t": ts},
                    attrs=attrs(NAME, s, seed))
    ds["frac_R"].attrs["long_name"] = "fraction of p(x|t) mass with R > 1/2"
    ds["naive_V"].attrs["long_name"] = "E[tr V_naive] / D at kappa = 1"
    return ds


def npz_arrays(result: xr.Dataset) -> dict:
    """``--save-data`` keys: ``data, D, t`` and ``frac_R, mean_R, trC, s2, naive_V, post_var``
    (each with ``_se``; shape (data, D, t)), ``t_star, t_half`` (+ ``_se``; shape (data, D)).

    No formula: a re-packing of a :func:`run` result.

    Parameters
    ----------
    result : xarray.Dataset; a :func:`run` result.

    Returns
    -------
    dict of str to numpy.ndarray (``data`` as strings)

    Examples
    --------
    >>> import xarray as xr
    >>> keys = ("frac_R", "mean_R", "trC", "s2", "naive_V", "post_var", "t_star", "t_half")
    >>> r = xr.Dataset({k + e: ("D", [0.0]) for k in keys for e in ("", "_se")},
    ...                coords={"data": ["cube"], "D": [2], "t": [0.5]})
    >>> len(npz_arrays(r)), npz_arrays(r)["data"].tolist()
    (19, ['cube'])
    """
    out = {k: result[k].values for k in (
        "D", "t", "frac_R", "frac_R_se", "mean_R", "mean_R_se", "trC", "trC_se", "s2", "s2_se",
        "naive_V", "naive_V_se", "post_var", "post_var_se", "t_star", "t_star_se", "t_half",
        "t_half_se")}
    out["data"] = np.asarray(result["data"].values, dtype=str)
    return out
