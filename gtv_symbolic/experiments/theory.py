r"""Theory vs trained ensembles on the Figure 2 setting (and one 2-D setting).

For every panel ``(eps, P)`` of Figure 2 the trained ensemble (the Fig. 2 experiment's own
ensembles, taken from its result: per-model densities and weights) is compared with

* the Gaussian-field prediction ``W ~ N(W*, Cov_W)`` of Prop. 3.1 with the
  linear-model V-kernel, pushed through the same sampler and transport; fields are drawn
  until their Monte Carlo error is at most 1/3 of the ensemble's (``mc_ratio``);
* a moment-matched Gaussian (the ensemble's empirical mean and covariance of ``W``, ``mm_factor``
  draws per model): it separates the Gaussian truncation from the leading-order ``1/P``
  covariance;
* the small-noise (semiclassical) approximation, the mean model ``W*`` (no variance), the
  exact-score PF-ODE and ``p(x | eps)``.

Reported with standard errors (:mod:`.stats`): TVs (bootstrap), gap and mode masses
(across models) and their paired differences, the training-weighted variance
``E[lam tr Var mu_hat] = tr(G Cov_W)`` (empirical, with the across-model error of
``q_n = dW_n^T G dW_n``, vs predicted) and the skewness / excess kurtosis of ``mu_hat``
across models (Gaussian-null errors ``sqrt(6/N)``, ``sqrt(24/N)``). The 2-D setting (the
square, crossed Gaussian 6 x 6 x 6 features) uses :func:`theory_vs_ensemble`.

Examples
--------
>>> s = Settings(eps=(1e-2,), P=(64,), n_models=4, n_x=4, n_t=4, with_2d=False, n_boot=20)
>>> r = run(s, cache=False, workers=1)
>>> r["tv"].dims, bool(r["tv_se"] > 0)
(('eps', 'P'), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from .. import metrics
from ..grids import TimeGrid
from ..typical import moment_matched_weights, semiclassical_linear
from . import _compare, fig2, stats
from ._common import (
    MAX_MODELS,
    attrs,
    check_int,
    child,
    make_schedule,
    same_field,
    seed_sequence,
    setting,
)
from ._compare import mc_ratio
from ._tasks import begin
from .one_call import FIELD_FACTOR, theory_vs_ensemble

__all__ = ["NAME", "Settings", "QUICK", "validate", "run", "npz_arrays", "X_NG", "T_NG", "t_ng"]

#: Registry name of the experiment (``gtv figures NAME``).
NAME = "theory-vs-ensemble"
X_NG = np.linspace(-1.5, 1.5, 61)  # grid of the variance / non-Gaussianity diagnostics
T_NG = (None, 0.03, 0.1, 0.3, 0.7)  # None -> eps


@dataclass(frozen=True)
class Settings(fig2.Shared):
    """Settings of the theory-vs-ensemble comparison (paper Fig. 2 panels against Prop. 3.1).

    The shared fields (:class:`.fig2.Shared`) and ``eps, P, n_models`` are Figure 2's, with
    the paper's parameters as defaults; the remaining fields size the Gaussian-field,
    moment-matched and bootstrap estimates and the optional 2-D setting. No formula: settings.

    Examples
    --------
    >>> import dataclasses
    >>> from gtv_symbolic.experiments import fig2
    >>> s = dataclasses.replace(Settings(), with_2d=False, n_boot=20)
    >>> s.with_2d, s.n_boot, s.eps == fig2.Settings().eps
    (False, 20, True)
    """

    eps: tuple[float, ...] = same_field(fig2.Settings, "eps")
    P: tuple[int, ...] = same_field(fig2.Settings, "P")
    n_models: int = same_field(fig2.Settings, "n_models")
    field_factor: int = setting(FIELD_FACTOR, "Gaussian fields per model in the first batch",
                                 lo=1, hi=50)
    mm_factor: int = setting(1, "moment-matched draws per model (a diagnostic; its error is "
                             "reported)", lo=1, hi=50)
    n_boot: int = setting(200, "bootstrap resamples for TV standard errors", lo=10,
                          hi=100_000)
    gap_margin: float = setting(stats.GAP_MARGIN, "gap region: fraction of the neighbour "
                                "distance kept free around each training point")
    with_2d: bool = setting(True, "also run the 2-D setting (square data)")
    eps_2d: float = setting(1e-2, "final time of the 2-D setting")
    n_2d: int = setting(6, "2-D basis functions per axis and along t (F = n^3)", lo=1,
                        hi=64)
    P_2d: tuple[int, ...] = setting((864, 216, 54), "2-D training samples per model", lo=1,
                                    hi=100_000)
    n_samples_2d: int = setting(4000, "2-D PF-ODE samples per model and field", lo=10,
                                hi=10**7)


#: Small settings for ``--quick`` runs (and the tests).
QUICK = Settings(n_models=20, n_samples_2d=2000)


def t_ng(eps: float) -> np.ndarray:
    r"""The times of the variance / non-Gaussianity diagnostics: :data:`T_NG` with ``None -> eps``.

    .. math:: t_k = \begin{cases} \varepsilon & T_{NG,k} = \text{None} \\ T_{NG,k} & \text{else} \end{cases}

    Parameters
    ----------
    eps : float
        The final time of the panel (replaces the ``None`` entry).

    Returns
    -------
    numpy.ndarray, shape (len(T_NG),)

    Examples
    --------
    >>> t_ng(0.01)
    array([0.01, 0.03, 0.1 , 0.3 , 0.7 ])
    """
    return np.array([eps if t is None else t for t in T_NG])


def _diagnostics(W, K, fm, eps):
    """Variance, skewness and excess kurtosis of ``mu_hat`` across models on (X_NG, t_ng)."""
    X, Tt = np.meshgrid(X_NG, t_ng(eps), indexing="ij")
    phi = fm(X.reshape(-1, 1), Tt.reshape(-1))
    vals = (W[:, 0, :] @ phi.T).reshape(W.shape[0], *X.shape)
    mom = metrics.ensemble_moments(vals)
    vpred = np.einsum("pf,fg,pg->p", phi, K.cov_W[0, :, 0, :], phi).reshape(X.shape)
    dW = W[:, 0, :] - W[:, 0, :].mean(0)
    q = np.einsum("nf,fg,ng->n", dW, K.G, dW)  # tr(G S) = sum_n q_n / (N - 1)
    N = W.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.nanmedian(mom["var"] / vpred)
    ak = np.abs(mom["skew"])
    return {"var_emp": mom["var"], "var_pred": vpred, "skew": mom["skew"], "kurt": mom["kurt"],
            "var_ratio_median": ratio, "trainvar_emp": q.sum() / (N - 1),
            "trainvar_emp_se": q.std(ddof=1) * np.sqrt(N) / (N - 1),
            "trainvar_pred": K.training_variance(), "skew_absmax": ak.max(),
            "skew_absmedian": np.median(ak), "kurt_max": mom["kurt"].max(),
            "kurt_median": np.median(mom["kurt"])}


def _fields(K, W, fm, sched, edges, eps, ens, regions, root, n_first, n_mm, common):
    """Gaussian-field and moment-matched draws of one panel, each with its MC-error ratio."""
    streams = [child(root, k) for k in range(4)]

    def masses_of(Wg, k, stream, label):
        return stats.normalise(_compare.model_masses(fm, Wg, sched, [edges], eps=eps,
                                                     seed_seq=child(stream, k), label=label,
                                                     **common))

    gf, ratio = _compare.gaussian_fields(
        lambda n, k: K.sample_weights(n, np.random.default_rng(child(streams[0], k))), n_first,
        lambda Wg, k: masses_of(Wg, k, streams[1], "fields"), ens, regions)
    Wm = moment_matched_weights(W, n_mm, np.random.default_rng(child(streams[2], 0)))
    mm = masses_of(Wm, 0, streams[3], "moment-matched")
    return gf, mm, ratio, mc_ratio(ens, mm, regions)


def validate(settings: Settings) -> None:
    """Raise ValueError/TypeError naming the field for settings :func:`run` cannot use.

    No formula: checks ``n_models >= 4``, ``field_factor, mm_factor`` in [1, 50], ``n_boot``
    in [10, 100000], ``gap_margin`` in (0, 0.5), Figure 2's own fields
    (:func:`.fig2.validate`) and, with ``with_2d``, the 2-D fields (``0 < eps_2d < T``).

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
    >>> import dataclasses
    >>> validate(Settings())
    >>> validate(dataclasses.replace(Settings(), gap_margin=0.7))
    Traceback (most recent call last):
    ...
    ValueError: gap_margin must lie in (0, 0.5), got 0.7
    """
    s = settings
    check_int(s.n_models, "n_models", 4, MAX_MODELS)
    check_int(s.field_factor, "field_factor", 1, 50)
    check_int(s.mm_factor, "mm_factor", 1, 50)
    check_int(s.n_boot, "n_boot", 10, 100_000)
    if not 0 < s.gap_margin < 0.5:
        raise ValueError(f"gap_margin must lie in (0, 0.5), got {s.gap_margin}")
    fig2.validate(fig2.settings_like(s))
    if s.with_2d:
        check_int(s.n_2d, "n_2d", 1, 64)
        check_int(s.n_samples_2d, "n_samples_2d", 10, 10**7)
        for P in s.P_2d:
            check_int(P, "P_2d", 1, 100_000)
        make_schedule(s.schedule, s.T).validate_t(s.eps_2d, "eps_2d")
        if not 0 < s.eps_2d < s.T:
            raise ValueError(f"eps_2d must lie in (0, T) = (0, {s.T:g}), got {s.eps_2d}")


def run(settings: Settings = Settings(), rng=None, *, progress=None, cache=None, scheduler=None,
        workers=None) -> xr.Dataset:
    r"""Every panel ``(eps, P)`` of Figure 2 against the theory; see the module docstring.

    With the ensemble's per-model bin masses :math:`p_n` (:math:`n \le N`) and the Gaussian
    fields' :math:`q_k` (:math:`W_k \sim \mathcal N(W^*, \mathrm{Cov}_W)`, Prop. 3.1 with
    the linear-model V-kernel of Prop. 5.1), per panel:

    .. math:: \mathrm{tv} = \tfrac12\sum_b \Big|\frac1N\sum_n p_{n,b}
              - \frac1K\sum_k q_{k,b}\Big| \ (\text{bootstrap se}), \qquad
              \mathrm{gap\_mass\_diff} = \bar g_{\mathrm{ens}} - \bar g_{\mathrm{field}}
              \pm \sqrt{\mathrm{se}_{\mathrm{ens}}^2 + \mathrm{se}_{\mathrm{field}}^2},

    with :math:`g = \sum_{b \in \mathcal G} p_b` the gap mass (:func:`.stats.gap_region`),
    and the training-weighted variance :math:`\mathrm{tr}(G\,\mathrm{Cov}_W)`, estimated by
    :math:`\frac{1}{N-1}\sum_n \delta W_n^\top G\, \delta W_n` (``trainvar_emp`` with
    its across-model error) against ``trainvar_pred``.

    Parameters
    ----------
    settings : Settings, default ``Settings()``
    rng : None, int, numpy.random.SeedSequence or numpy.random.Generator
        The run's seed (None: ``settings.seed``).
    progress, cache, scheduler, workers : optional
        Progress reporter, result cache (``False``: recompute), dask scheduler, worker count.

    Returns
    -------
    xarray.Dataset
        Densities ``ensemble, gaussian_field, moment_matched, semiclassical`` (dims ``eps, P,
        x``), ``mean_model``, ``true``, ``pfode``; scalars per ``(eps, P)`` such as ``tv,
        tv_se, gap_mass_*``, ``mode_mass_*`` (dim ``mode``), the variance and
        non-Gaussianity diagnostics (dims ``x_ng, t_index``); ``*_2d`` variables when
        ``with_2d``.

    Raises
    ------
    TypeError, ValueError
        From :func:`validate`, before any computation.

    Examples
    --------
    >>> run(Settings(n_boot=1))  # checked first; the module example runs one tiny panel, about a second
    Traceback (most recent call last):
    ...
    ValueError: n_boot must be in [10, 100000], got 1
    """
    s = settings
    validate(s)
    seed, prog, cache = begin(NAME, s, rng, progress, cache)
    f2s = fig2.settings_like(s)
    f2 = fig2.run(f2s, seed, progress=prog, cache=cache, scheduler=scheduler, workers=workers)
    sched = make_schedule(s.schedule, s.T)
    data = np.asarray(s.data, float)
    x, edges = fig2.bin_grid(f2s)
    dx = x[1] - x[0]
    gap = stats.gap_region(data, x, margin=s.gap_margin)
    cells = stats.mode_cells(data, x)
    regions = [gap] + [cells == k for k in range(int(cells.max()) + 1)]
    pf = stats.normalise(f2["pfode"].values * dx)
    nE, nP, N = len(s.eps), len(s.P), s.n_models
    common = dict(T=s.T, n_steps=s.n_steps, n_samples=None, cache=cache, workers=workers,
                  scheduler=scheduler, progress=prog)
    per_panel, dens = [], {k: np.zeros((nE, nP, x.size)) for k in
                           ("gaussian_field", "moment_matched", "semiclassical")}
    mean_model, F_eff = np.zeros((nE, x.size)), np.zeros(nE)
    for i, eps in enumerate(s.eps):
        code = int(round(-np.log10(eps) * 1000))
        fm = fig2.features_for(f2s, eps)
        K1 = _compare.kernel(fm, data, sched, eps=eps, T=s.T, ridge=s.ridge, target="proxy",
                             seed_seq=seed_sequence(seed, 5, 0), cache=cache)
        F_eff[i] = K1.F_eff
        mm0 = _compare.model_masses(fm, K1.W_star[None], sched, [edges], eps=eps,
                                    seed_seq=seed_sequence(seed, 5, 2, code), label="mean model",
                                    **common)
        mean_model[i] = stats.normalise(mm0)[0] / dx
        pe = stats.normalise(f2["true"].values[i] * dx)
        for j, P in enumerate(s.P):
            K = K1.with_P(int(P))
            ens = stats.normalise(f2["density"].values[i, j] * dx)
            W = f2["weights"].values[i, j][:, None, :]
            root = seed_sequence(seed, 5, 1, code, int(P))
            gf, mm, ratio, ratio_mm = _fields(K, W, fm, sched, edges, eps, ens, regions, root,
                                              s.field_factor * N, s.mm_factor * N, common)
            sc, _ = semiclassical_linear(K, TimeGrid.linear(sched, eps, s.T, s.n_steps), x)
            summ = _compare.summary(ens, gf, pf[i], pe, gap, cells, n_boot=s.n_boot,
                                    rng=np.random.default_rng(seed_sequence(seed, 5, 3, code, P)))
            summ["tv_ens_mm"], summ["tv_ens_mm_se"] = stats.bootstrap_tv(
                ens, mm, n_boot=s.n_boot,
                rng=np.random.default_rng(seed_sequence(seed, 5, 4, code, P)))
            g, se = stats.mean_se(stats.region_mass(mm, gap))
            summ["gap_mass_moment_matched"], summ["gap_mass_moment_matched_se"] = g, se
            summ["gap_mass_semiclassical"] = stats.region_mass(stats.normalise(sc), gap)
            summ["gap_mass_mean_model"] = stats.region_mass(mm0[0] / mm0[0].sum(), gap)
            summ["mc_ratio"], summ["mc_ratio_mm"] = ratio, ratio_mm
            summ["n_fields"] = gf.shape[0]
            summ.update(_diagnostics(W, K, fm, eps))
            per_panel.append(summ)
            dens["gaussian_field"][i, j] = gf.mean(0) / dx
            dens["moment_matched"][i, j] = mm.mean(0) / dx
            dens["semiclassical"][i, j] = stats.normalise(sc) / dx
            prog.log(f"theory panel eps={eps:g} P={P}: TV {summ['tv']:.3f} +- "
                     f"{summ['tv_se']:.3f}, {gf.shape[0]} fields (mc ratio {ratio:.2f})")
    ds = xr.Dataset(
        {"ensemble": f2["avg"], "true": f2["true"], "pfode": f2["pfode"],
         "ensemble_se": (("eps", "P", "x"), f2["density"].std("model", ddof=1).values / np.sqrt(N)),
         **{k: (("eps", "P", "x"), v) for k, v in dens.items()},
         "mean_model": (("eps", "x"), mean_model), "F_eff": (("eps",), F_eff),
         "gap_region": (("x",), gap.astype(np.int8)), "mode_cell": (("x",), cells.astype(np.int32))},
        coords={"eps": f2["eps"], "P": f2["P"], "x": x, "mode": np.arange(int(cells.max()) + 1),
                "x_ng": X_NG, "t_index": np.arange(len(T_NG))},
        attrs=dict(attrs(NAME, s, seed), n_features=s.n_x * s.n_t,
                   se_method="TV: bootstrap over models and fields; masses: across-model "
                             "sd/sqrt(N); differences: sqrt(se1^2 + se2^2)",
                   gap_definition=f"between neighbouring training points, at least "
                                  f"{s.gap_margin:g} of their distance from both"))
    ds["t_ng"] = (("eps", "t_index"), np.array([t_ng(e) for e in s.eps]))
    for key in per_panel[0]:
        arr = np.array([p[key] for p in per_panel])
        dims = ("eps", "P") + {1: ("mode",), 2: ("x_ng", "t_index")}.get(arr.ndim - 1, ())
        ds[key] = (dims, arr.reshape((nE, nP) + arr.shape[1:]))
    if s.with_2d:
        ds = ds.merge(_run_2d(s, seed, cache, workers, scheduler, prog))
    return ds


def _run_2d(s: Settings, seed, cache, workers, scheduler, prog) -> xr.Dataset:
    """The square (theta = 0) with crossed Gaussian features, one call per P."""
    from .fig3 import points

    rows = []
    for P in s.P_2d:
        prog.log(f"2-D setting P={P}")
        rows.append(theory_vs_ensemble(points(4, 0.0), n_x=s.n_2d, n_t=s.n_2d, P=int(P),
                                       eps=s.eps_2d, schedule=s.schedule, n_models=s.n_models,
                                       ridge=s.ridge, rng=seed_sequence(seed, 7, int(P)),
                                       n_samples=s.n_samples_2d, n_steps=s.n_steps, T=s.T,
                                       n_boot=s.n_boot, cache=cache, workers=workers,
                                       scheduler=scheduler, progress=prog,
                                       n_fields=s.field_factor * s.n_models))
    keep = ["ensemble", "gaussian_field", "pf_ode", "p_eps", "tv", "tv_se", "gap_mass_ensemble",
            "gap_mass_ensemble_se", "gap_mass_gaussian_field", "gap_mass_gaussian_field_se",
            "gap_mass_diff", "gap_mass_diff_se", "gap_mass_pf_ode", "tv_ensemble_pf_ode",
            "tv_ensemble_pf_ode_se", "tv_gaussian_field_pf_ode", "tv_gaussian_field_pf_ode_se",
            "mc_ratio", "n_fields", "gap_region"]
    cat = xr.concat([r[keep] for r in rows], dim="P_2d", coords="minimal", compat="override")
    cat = cat.assign_coords(P_2d=np.asarray(s.P_2d, int))
    cat = cat.rename({k: f"{k}_2d" for k in keep} | {"x": "x_2d", "y": "y_2d"})
    cat["gap_region_2d"] = cat["gap_region_2d"].isel(P_2d=0, drop=True)
    cat.attrs = {}
    return cat


def npz_arrays(result: xr.Dataset) -> dict:
    """The ``--save-data`` arrays of a :func:`run` result (no formula: a re-packing).

    Parameters
    ----------
    result : xarray.Dataset
        A :func:`run` result.

    Returns
    -------
    dict of str to numpy.ndarray
        ``x, eps, P, ensemble, gaussian_field, tv, tv_se`` (the result's arrays).

    Examples
    --------
    >>> import xarray as xr
    >>> keys = ("x", "eps", "P", "ensemble", "gaussian_field", "tv", "tv_se")
    >>> sorted(npz_arrays(xr.Dataset({k: ("i", [0.0]) for k in keys}))) == sorted(keys)
    True
    """
    return {k: result[k].values for k in ("x", "eps", "P", "ensemble", "gaussian_field", "tv",
                                          "tv_se")}
