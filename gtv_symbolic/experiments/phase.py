r"""A generalization measure over eps x F/P, for trained ensembles and the Gaussian-field theory.

Per cell (``eps``, ``F/P``): TV between the ensemble average and the exact-score PF-ODE output
(bootstrap standard error), the gap mass (across-model standard error), and the same for
the Gaussian-field prediction (fields drawn until their Monte Carlo error is at most 1/3 of
the ensemble's), with the paired difference ensemble - prediction of the gap mass
(``se = sqrt(se_ens^2 + se_gf^2)``, independent draws).

Examples
--------
>>> s = Settings(eps=(1e-2,), ratio=(0.25,), n_models=3, n_x=4, n_t=4, n_boot=20)
>>> r = run(s, cache=False, workers=1)
>>> r["tv_ens_pfode"].dims
('eps', 'ratio')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from .._runtime.parallel import blas_threads
from ..training import train_ensemble
from . import _compare, fig2, stats
from ._common import (
    MAX_MODELS,
    attrs,
    check_int,
    child,
    make_schedule,
    seed_sequence,
    setting,
)
from ._tasks import begin
from .one_call import FIELD_FACTOR

__all__ = ["NAME", "Settings", "QUICK", "validate", "run", "npz_arrays"]

#: Registry name of the experiment (``gtv figures NAME``).
NAME = "phase"


@dataclass(frozen=True)
class Settings(fig2.Shared):
    """Settings of the eps x F/P phase map (paper Fig. 2's eps and F/P axes, on a finer grid).

    The shared fields (:class:`.fig2.Shared`) are Figure 2's, with the paper's parameters as
    defaults (16 x 16 Gaussian features, so ``P = 256 / ratio``); ``eps`` and ``ratio``
    extend Figure 2's rows and columns to a grid. No formula: settings.

    Examples
    --------
    >>> s = Settings()
    >>> [int(round(s.n_x * s.n_t / r)) for r in s.ratio][:3]
    [4096, 2048, 1024]
    """

    eps: tuple[float, ...] = setting((1e-2, 3e-3, 1e-3, 3e-4, 1e-4), "final times (rows)")
    ratio: tuple[float, ...] = setting((1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8),
                                       "F/P values (columns); P = round(F / ratio)")
    n_models: int = setting(40, "models per cell (N)", lo=2, hi=MAX_MODELS)
    field_factor: int = setting(FIELD_FACTOR, "Gaussian fields per model in the first batch",
                                 lo=1, hi=50)
    n_boot: int = setting(200, "bootstrap resamples for TV standard errors", lo=10,
                          hi=100_000)


#: Small settings for ``--quick`` runs (and the tests).
QUICK = Settings(eps=(1e-2, 1e-3, 1e-4), ratio=(1 / 16, 1 / 4, 1, 4), n_models=8)


def validate(settings: Settings) -> None:
    """Raise ValueError/TypeError naming the field for settings :func:`run` cannot use.

    No formula: checks ``n_models >= 2``, ``field_factor`` in [1, 50], ``n_boot`` in
    [10, 100000], finite ``ratio > 0`` with every ``P = round(n_x n_t / ratio)`` in
    [1, 100000], and Figure 2's own fields.

    Parameters
    ----------
    settings : Settings

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
    >>> validate(Settings(ratio=(0.001,)))
    Traceback (most recent call last):
    ...
    ValueError: P = n_x n_t / ratio must be in [1, 100000], got 256000
    """
    s = settings
    check_int(s.n_models, "n_models", 2, MAX_MODELS)
    check_int(s.field_factor, "field_factor", 1, 50)
    check_int(s.n_boot, "n_boot", 10, 100_000)
    if not s.ratio or not all(np.isfinite(r) and r > 0 for r in s.ratio):
        raise ValueError(f"ratio (F/P) values must be finite and > 0, got {s.ratio}")
    F = s.n_x * s.n_t
    P = tuple(int(round(F / r)) for r in s.ratio)
    for p in P:
        check_int(p, "P = n_x n_t / ratio", 1, 100_000)
    fig2.validate(fig2.settings_like(s, P=P))


def run(settings: Settings = Settings(), rng=None, *, progress=None, cache=None, scheduler=None,
        workers=None) -> xr.Dataset:
    r"""Run the experiment for ``settings`` (checked first by :func:`validate`) and return its labelled
    result; see the module docstring for the variables. ``rng`` (None, an int, a SeedSequence or a
    Generator) overrides ``settings.seed``; ``cache``, ``workers``, ``scheduler`` and ``progress``
    as in :func:`gtv_symbolic.experiments.fig2.run`.

    Per cell, with the ensemble's models :math:`p_n`, the Gaussian fields' :math:`q_k`, the
    exact-score PF-ODE output :math:`p_{\mathrm{PF}}` and gap masses :math:`g = \sum_{b\in
    \mathcal G} p_b`:

    .. math:: \mathrm{tv\_ens\_pfode} = \mathrm{TV}\big(\tfrac1N\textstyle\sum_n p_n,
              p_{\mathrm{PF}}\big), \qquad
              \mathrm{gap\_diff} = \bar g_{\mathrm{ens}} - \bar g_{\mathrm{gf}} \pm
              \sqrt{\mathrm{se}_{\mathrm{ens}}^2 + \mathrm{se}_{\mathrm{gf}}^2},

    TVs with bootstrap errors (:func:`.stats.bootstrap_tv`), gap masses with
    :math:`\mathrm{sd}/\sqrt N` (:func:`.stats.mean_se`), likewise ``tv_gf_pfode``.

    Parameters
    ----------
    settings : Settings, default ``Settings()``
    rng : None, int, SeedSequence or Generator; the run's seed (None: ``settings.seed``).
    progress, cache, scheduler, workers : optional; as in :func:`.fig2.run`.

    Returns
    -------
    xarray.Dataset
        ``tv_ens_pfode, tv_gf_pfode, gap_ens, gap_gf, gap_diff`` with ``*_se``, ``mc_ratio``
        and ``P_cell`` (dims ``eps, ratio``), ``gap_pfode`` (``eps``).

    Raises
    ------
    TypeError, ValueError
        From :func:`validate`, before any computation.

    Examples
    --------
    >>> run(Settings(n_models=1))  # checked first; the module example runs one tiny cell
    Traceback (most recent call last):
    ...
    ValueError: n_models must be in [2, 10000], got 1
    """
    s = settings
    validate(s)
    seed, prog, cache = begin(NAME, s, rng, progress, cache)
    sched = make_schedule(s.schedule, s.T)
    data = np.asarray(s.data, float)
    x, edges = fig2.bin_grid(s)
    gap = stats.gap_region(data, x)
    cells = stats.mode_cells(data, x)
    regions = [gap] + [cells == k for k in range(int(cells.max()) + 1)]
    F = s.n_x * s.n_t
    nE, nR = len(s.eps), len(s.ratio)
    names = ("tv_ens_pfode", "tv_gf_pfode", "gap_ens", "gap_gf", "gap_diff", "mc_ratio")
    out = {k: np.zeros((nE, nR)) for k in names}
    out.update({k + "_se": np.zeros((nE, nR)) for k in names[:5]})
    P_grid = np.zeros((nE, nR), int)
    gap_pf = np.zeros(nE)
    for i, eps in enumerate(s.eps):
        sched.validate_t(eps, "eps")
        code = int(round(-np.log10(eps) * 1000))
        fm = fig2.features_for(s, eps)
        common = dict(eps=eps, T=s.T, n_steps=s.n_steps, n_samples=None, cache=cache,
                      workers=workers, scheduler=scheduler, progress=prog)
        pf = stats.normalise(_compare.exact_masses(data, sched, [edges], eps=eps, T=s.T,
                                                   n_steps=s.n_steps, n_samples=None,
                                                   seed_seq=None))
        gap_pf[i] = stats.region_mass(pf, gap)
        K1 = _compare.kernel(fm, data, sched, eps=eps, T=s.T, ridge=s.ridge, target="proxy",
                             seed_seq=seed_sequence(seed, 5, 0), cache=cache)
        for j, r in enumerate(s.ratio):
            P = check_int(int(round(F / r)), "P = F / ratio", 1, 100_000)
            P_grid[i, j] = P
            K = K1.with_P(P)
            root = seed_sequence(seed, 5, 6, code, P)
            with blas_threads(1):
                W = train_ensemble(fm, data, sched, P=P, n_models=s.n_models, eps=eps,
                                   T=s.T, ridge=s.ridge, rng=np.random.default_rng(child(root, 0)))
            ens = stats.normalise(_compare.model_masses(fm, W, sched, [edges],
                                                        seed_seq=child(root, 1),
                                                        label="ensemble", **common))

            def draw(n, k, K=K, root=root):
                return K.sample_weights(n, np.random.default_rng(child(child(root, 2), k)))

            def masses_of(Wg, k, fm=fm, root=root, common=common):
                return stats.normalise(_compare.model_masses(
                    fm, Wg, sched, [edges], seed_seq=child(child(root, 3), k), label="fields",
                    **common))

            gf, ratio = _compare.gaussian_fields(draw, s.field_factor * s.n_models, masses_of,
                                                 ens, regions)
            b1, b2 = (np.random.default_rng(child(root, 4 + k)) for k in range(2))
            out["tv_ens_pfode"][i, j], out["tv_ens_pfode_se"][i, j] = stats.bootstrap_tv(
                ens, pf, n_boot=s.n_boot, rng=b1)
            out["tv_gf_pfode"][i, j], out["tv_gf_pfode_se"][i, j] = stats.bootstrap_tv(
                gf, pf, n_boot=s.n_boot, rng=b2)
            out["gap_ens"][i, j], out["gap_ens_se"][i, j] = stats.mean_se(
                stats.region_mass(ens, gap))
            out["gap_gf"][i, j], out["gap_gf_se"][i, j] = stats.mean_se(stats.region_mass(gf, gap))
            out["gap_diff"][i, j] = out["gap_ens"][i, j] - out["gap_gf"][i, j]
            out["gap_diff_se"][i, j] = stats.diff_se(out["gap_ens_se"][i, j],
                                                     out["gap_gf_se"][i, j])
            out["mc_ratio"][i, j] = ratio
            prog.log(f"phase eps={eps:g} F/P={r:g}: gap ens {out['gap_ens'][i, j]:.3f} +- "
                     f"{out['gap_ens_se'][i, j]:.3f}, GF {out['gap_gf'][i, j]:.3f} +- "
                     f"{out['gap_gf_se'][i, j]:.3f}")
    ds = xr.Dataset({k: (("eps", "ratio"), v) for k, v in out.items()},
                    coords={"eps": np.asarray(s.eps, float), "ratio": np.asarray(s.ratio, float)},
                    attrs=dict(attrs(NAME, s, seed), n_features=F, n_models=s.n_models))
    ds["P_cell"] = (("eps", "ratio"), P_grid)
    ds["gap_pfode"] = (("eps",), gap_pf)
    return ds


def npz_arrays(result: xr.Dataset) -> dict:
    """The ``--save-data`` keys of the previous figure plus the ``*_se`` errors.

    No formula: a re-packing of a :func:`run` result.

    Parameters
    ----------
    result : xarray.Dataset; a :func:`run` result (with the ``n_models`` attribute).

    Returns
    -------
    dict of str to numpy.ndarray
        ``eps, ratio, tv_ens_pfode, tv_gf_pfode, gap_ens, gap_gf, gap_pfode``, every
        ``*_se`` variable and ``n_models``.

    Examples
    --------
    >>> import xarray as xr
    >>> keys = ("tv_ens_pfode", "tv_gf_pfode", "gap_ens", "gap_gf", "gap_pfode", "gap_ens_se")
    >>> r = xr.Dataset({k: ("eps", [0.0]) for k in keys}, coords={"eps": [0.01], "ratio": [1.0]},
    ...                attrs={"n_models": 3})
    >>> sorted(npz_arrays(r))[:4], int(npz_arrays(r)["n_models"])
    (['eps', 'gap_ens', 'gap_ens_se', 'gap_gf'], 3)
    """
    d = {k: result[k].values for k in ("eps", "ratio", "tv_ens_pfode", "tv_gf_pfode", "gap_ens",
                                       "gap_gf", "gap_pfode")}
    d.update({k: result[k].values for k in result.data_vars if k.endswith("_se")})
    d["n_models"] = np.array(result.attrs["n_models"])
    return d
