r"""Causal ablation: J0 (true-score) vs J1 (proxy) targets, and the naive estimator vs kappa.

* The same linear models (same DSM draws, so the comparison is *paired* model by model) are
  trained on the proxy target J1 (``x0``) and on the true-score target J0 (the exact Bayes
  denoiser): the proxy-variance term of the V-kernel drops under J0. Reported: each target's
  average learned density, the gap mass per target and the paired difference
  ``mean_n (G_n^{J1} - G_n^{J0})`` with ``se = sd(G^{J1} - G^{J0}) / sqrt(N)``, and the
  training-weighted variance ``tr(G Cov_W)`` over ``n_reps`` independent ensembles (mean and
  its across-ensemble standard error ``sd / sqrt(n_reps)``; paired J1 - J0 likewise), against
  the V-kernel prediction.
* The naive estimator (Prop. 4.1) in its diffusion limit: the Fokker-Planck solution for each
  kappa (deterministic, no Monte Carlo error), with an Euler-Maruyama check at ``em_kappa``
  (mode masses with binomial errors ``sqrt(p (1 - p) / n)``).

Examples
--------
>>> s = Settings(P=(64,), n_models=4, n_x=4, n_t=4, n_reps=2, kappas=(0.5,), em_samples=100,
...              fp_steps=50)
>>> r = run(s, cache=False, workers=1)
>>> r["gap_mass_diff"].dims, r["trainvar_emp"].dims
(('P',), ('target', 'P'))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from .. import typical
from .._runtime.parallel import blas_threads
from ..grids import TimeGrid
from ..kernels import NaiveKernel
from ..training import train_ensemble
from . import _compare, fig2, stats
from ._common import (
    MAX_MODELS,
    attrs,
    check_int,
    make_schedule,
    same_field,
    seed_sequence,
    setting,
)
from ._tasks import begin
from .theory import X_NG, t_ng

__all__ = ["NAME", "Settings", "QUICK", "validate", "run", "npz_arrays", "TARGETS"]

#: Registry name of the experiment (``gtv figures NAME``).
NAME = "ablation"
TARGETS = ("proxy", "true")


@dataclass(frozen=True)
class Settings(fig2.Shared):
    """Settings of the J0-vs-J1 and naive-estimator ablation (paper Sec. 2 objectives, Prop. 4.1).

    The shared fields (:class:`.fig2.Shared`) and ``n_models`` are Figure 2's, with the
    paper's parameters as defaults; ``eps = 1e-2`` and ``P`` in {1024, 256} pick two Figure 2
    panels; the rest size the replicate ensembles and the naive-estimator solutions.
    No formula: settings.

    Examples
    --------
    >>> import dataclasses
    >>> Settings().P, dataclasses.replace(Settings(), kappas=(0.5,)).kappas
    ((1024, 256), (0.5,))
    """

    eps: float = setting(1e-2, "final diffusion time")
    P: tuple[int, ...] = setting((1024, 256), "training samples per model", lo=1,
                                    hi=100_000)
    n_models: int = same_field(fig2.Settings, "n_models")
    n_reps: int = setting(20, "independent ensembles for the training-variance "
                                 "statistic", lo=2, hi=1000)
    kappas: tuple[float, ...] = setting((0.0, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0),
                                        "naive-estimator noise levels kappa")
    em_kappa: float = setting(0.5, "kappa of the Euler-Maruyama check")
    em_samples: int = setting(20_000, "Euler-Maruyama samples", lo=10, hi=10**7)
    fp_steps: int = setting(1500, "Fokker-Planck time steps", lo=10, hi=10**6)


#: Small settings for ``--quick`` runs (and the tests).
QUICK = Settings(n_models=20, n_reps=5, em_samples=4000)


def _train(s, fm, sched, P, tg, ss):
    with blas_threads(1):
        return train_ensemble(fm, np.asarray(s.data, float), sched, P=int(P),
                              n_models=s.n_models, eps=s.eps, T=s.T, ridge=s.ridge,
                              rng=np.random.default_rng(ss), target=tg)


def _trainvar(W, G):
    dW = W[:, 0, :] - W[:, 0, :].mean(0)
    return float(np.einsum("nf,fg,ng->", dW, G, dW) / (W.shape[0] - 1))


def validate(settings: Settings) -> None:
    """Raise ValueError/TypeError naming the field for settings :func:`run` cannot use.

    No formula: checks ``n_models >= 4``, ``n_reps`` in [2, 1000], the sample and step counts,
    ``P`` in [1, 100000], finite ``kappas, em_kappa >= 0`` and Figure 2's own fields.

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
    >>> validate(Settings(kappas=(-1.0,)))
    Traceback (most recent call last):
    ...
    ValueError: kappas and em_kappa must be finite and >= 0, got (-1.0,), 0.5
    """
    s = settings
    check_int(s.n_models, "n_models", 4, MAX_MODELS)
    check_int(s.n_reps, "n_reps", 2, 1000)
    check_int(s.em_samples, "em_samples", 10, 10**7)
    check_int(s.fp_steps, "fp_steps", 10, 10**6)
    for P in s.P:
        check_int(P, "P (training samples)", 1, 100_000)
    if not s.P or not s.kappas:
        raise ValueError("P and kappas must each hold at least one value")
    if not all(np.isfinite(k) and k >= 0 for k in (*s.kappas, s.em_kappa)):
        raise ValueError(f"kappas and em_kappa must be finite and >= 0, got {s.kappas}, "
                         f"{s.em_kappa}")
    fig2.validate(fig2.settings_like(s, eps=(s.eps,)))


def run(settings: Settings = Settings(), rng=None, *, progress=None, cache=None, scheduler=None,
        workers=None) -> xr.Dataset:
    r"""Run the experiment for ``settings`` (checked first by :func:`validate`) and return its labelled
    result; see the module docstring for the variables. ``rng`` (None, an int, a SeedSequence or a
    Generator) overrides ``settings.seed``; ``cache``, ``workers``, ``scheduler`` and ``progress``
    as in :func:`gtv_symbolic.experiments.fig2.run`.

    Paired over the models :math:`n \le N` (same DSM draws for both targets) and over the
    replicate ensembles :math:`r \le R` (``n_reps``):

    .. math:: \Delta g = \frac1N\sum_n \big(g_n^{J1} - g_n^{J0}\big) \pm
              \frac{\mathrm{sd}_n(g^{J1} - g^{J0})}{\sqrt N}, \qquad
              v_r = \frac{1}{N-1}\sum_n \delta W_{r,n}^\top G\, \delta W_{r,n},

    with :math:`g_n` model ``n``'s gap mass and :math:`v_r` the training-weighted variance
    (estimating :math:`\mathrm{tr}(G\,\mathrm{Cov}_W)`; ``trainvar_emp`` is its mean over
    ``r`` with error :math:`\mathrm{sd}_r/\sqrt R`, ``trainvar_diff`` the paired J1 - J0).
    Euler-Maruyama mode and gap masses carry binomial errors :math:`\sqrt{p(1-p)/n}`.

    Parameters
    ----------
    settings : Settings, default ``Settings()``
    rng : None, int, SeedSequence or Generator; the run's seed (None: ``settings.seed``).
    progress, cache, scheduler, workers : optional; as in :func:`.fig2.run`.

    Returns
    -------
    xarray.Dataset
        ``density`` (dims ``target, P, x``), ``gap_mass[_se]``, ``mode_mass[_se]``,
        ``gap_mass_diff[_se]`` (``P``), ``trainvar_emp[_se]``, ``trainvar_pred``,
        ``trainvar_diff[_se]``, ``tv_pf_ode[_se]``, variance maps ``var_emp, var_pred`` and the
        naive-estimator results ``naive_*`` (dim ``kappa``).

    Raises
    ------
    TypeError, ValueError
        From :func:`validate`, before any computation.

    Examples
    --------
    >>> run(Settings(n_reps=1))  # checked first; the module example runs one tiny panel
    Traceback (most recent call last):
    ...
    ValueError: n_reps must be in [2, 1000], got 1
    """
    s = settings
    validate(s)
    seed, prog, cache = begin(NAME, s, rng, progress, cache)
    sched = make_schedule(s.schedule, s.T)
    sched.validate_t(s.eps, "eps")
    data = np.asarray(s.data, float)
    x, edges = fig2.bin_grid(s)
    dx = x[1] - x[0]
    fm = fig2.features_for(s, s.eps)
    gap = stats.gap_region(data, x)
    cells = stats.mode_cells(data, x)
    nP, nT = len(s.P), len(TARGETS)
    dens = np.zeros((nT, nP, x.size))
    gap_m, gap_se, tv_pf, tv_pf_se = (np.zeros((nT, nP)) for _ in range(4))
    modes, modes_se = np.zeros((nT, nP, cells.max() + 1)), np.zeros((nT, nP, cells.max() + 1))
    tve, tve_se, tvp, cterm = (np.zeros((nT, nP)) for _ in range(4))
    var_emp = np.zeros((nT, nP, X_NG.size, len(t_ng(s.eps))))
    var_pred = np.zeros_like(var_emp)
    diff, diff_se, tvd, tvd_se = (np.zeros(nP) for _ in range(4))
    pf = stats.normalise(_compare.exact_masses(data, sched, [edges], eps=s.eps, T=s.T,
                                               n_steps=s.n_steps, n_samples=None, seed_seq=None))
    mean_model = None
    per_model_gap = {}
    tv_reps = {}
    for a, tg in enumerate(TARGETS):
        K1 = _compare.kernel(fm, data, sched, eps=s.eps, T=s.T, ridge=s.ridge, target=tg,
                             seed_seq=seed_sequence(seed, 5, 0), cache=cache)
        if mean_model is None:
            mm = _compare.model_masses(fm, K1.W_star[None], sched, [edges], eps=s.eps, T=s.T,
                                       n_steps=s.n_steps, n_samples=None,
                                       seed_seq=seed_sequence(seed, 5, 2), cache=cache,
                                       workers=workers, scheduler=scheduler, progress=prog,
                                       label="mean model")
            mean_model = stats.normalise(mm)[0]
        for j, P in enumerate(s.P):
            K = K1.with_P(int(P))
            with prog.stage(f"ablation target={tg} P={P}"):
                # replicate 0 is the plotted ensemble; the same draws for both targets
                Ws = [_train(s, fm, sched, P, tg, seed_sequence(seed, 5, 3, P, *([r] if r else [])))
                      for r in range(s.n_reps)]
                m = stats.normalise(_compare.model_masses(
                    fm, Ws[0], sched, [edges], eps=s.eps, T=s.T, n_steps=s.n_steps,
                    n_samples=None, seed_seq=seed_sequence(seed, 5, 3, P), cache=cache,
                    workers=workers, scheduler=scheduler, progress=prog, label=f"{tg} models"))
            dens[a, j] = m.mean(0) / dx
            g = stats.region_mass(m, gap)
            per_model_gap[tg, j] = g
            gap_m[a, j], gap_se[a, j] = stats.mean_se(g)
            md = np.stack([stats.region_mass(m, cells == k) for k in range(cells.max() + 1)], -1)
            modes[a, j], modes_se[a, j] = stats.mean_se(md)
            tv_pf[a, j], tv_pf_se[a, j] = stats.bootstrap_tv(
                m, pf, n_boot=200, rng=np.random.default_rng(seed_sequence(seed, 5, 9, a, P)))
            reps = np.array([_trainvar(W, K.G) for W in Ws])
            tv_reps[tg, j] = reps
            tve[a, j], tve_se[a, j] = stats.mean_se(reps)
            tvp[a, j] = K.training_variance()
            cterm[a, j] = np.trace(K.G @ K.parts["C_term"][0, :, 0, :])
            Xg, Tg = np.meshgrid(X_NG, t_ng(s.eps), indexing="ij")
            phi = fm(Xg.reshape(-1, 1), Tg.reshape(-1))
            var_emp[a, j] = (Ws[0][:, 0, :] @ phi.T).var(0, ddof=1).reshape(Xg.shape)
            var_pred[a, j] = np.einsum("pf,fg,pg->p", phi, K.cov_W[0, :, 0, :],
                                       phi).reshape(Xg.shape)
    for j in range(nP):
        diff[j], diff_se[j] = stats.mean_se(per_model_gap["proxy", j] - per_model_gap["true", j])
        tvd[j], tvd_se[j] = stats.mean_se(tv_reps["proxy", j] - tv_reps["true", j])
    naive = _naive(s, data, sched, x, seed, cache, prog)
    ds = xr.Dataset(
        {"density": (("target", "P", "x"), dens), "pfode": (("x",), pf / dx),
         "true": (("x",), stats.normalise(_compare.p_eps_masses(data, sched, [edges], s.eps)) / dx),
         "mean_model": (("x",), mean_model / dx),
         "gap_mass": (("target", "P"), gap_m), "gap_mass_se": (("target", "P"), gap_se),
         "mode_mass": (("target", "P", "mode"), modes),
         "mode_mass_se": (("target", "P", "mode"), modes_se),
         "gap_mass_diff": (("P",), diff), "gap_mass_diff_se": (("P",), diff_se),
         "tv_pf_ode": (("target", "P"), tv_pf), "tv_pf_ode_se": (("target", "P"), tv_pf_se),
         "trainvar_emp": (("target", "P"), tve), "trainvar_emp_se": (("target", "P"), tve_se),
         "trainvar_first": (("target", "P"), np.array([[tv_reps[t, j][0] for j in range(nP)]
                                                        for t in TARGETS])),
         "trainvar_pred": (("target", "P"), tvp), "trainvar_Cterm": (("target", "P"), cterm),
         "trainvar_diff": (("P",), tvd), "trainvar_diff_se": (("P",), tvd_se),
         "var_emp": (("target", "P", "x_ng", "t_index"), var_emp),
         "var_pred": (("target", "P", "x_ng", "t_index"), var_pred),
         "gap_mass_pf_ode": ((), stats.region_mass(pf, gap)),
         "gap_mass_mean_model": ((), stats.region_mass(mean_model, gap)),
         "mode_mass_pf_ode": (("mode",), np.array([stats.region_mass(pf, cells == k)
                                                   for k in range(cells.max() + 1)])),
         "mode_mass_mean_model": (("mode",), np.array([stats.region_mass(mean_model, cells == k)
                                                       for k in range(cells.max() + 1)])),
         **naive},
        coords={"target": list(TARGETS), "P": np.asarray(s.P, int), "x": x,
                "mode": np.arange(cells.max() + 1), "x_ng": X_NG, "t_ng": ("t_index", t_ng(s.eps)),
                "kappa": np.asarray(s.kappas, float)},
        attrs=dict(attrs(NAME, s, seed), n_features=s.n_x * s.n_t))
    return ds


def _naive(s, data, sched, x, seed, cache, prog) -> dict:
    def compute():
        res = {}
        for k in s.kappas:
            xf, q = typical.naive_fokker_planck(NaiveKernel(data, sched, k),
                                                TimeGrid.geometric(sched, s.eps, s.T, s.fp_steps))
            res[f"fp_{k!r}"] = np.interp(x, xf, q)
            sc, _ = typical.semiclassical_naive(NaiveKernel(data, sched, k),
                                                TimeGrid.geometric(sched, s.eps, s.T, 600), x,
                                                n_seeds=1501)
            res[f"sc_{k!r}"] = sc
        em = typical.naive_em(NaiveKernel(data, sched, s.em_kappa),
                              TimeGrid.geometric(sched, s.eps, s.T, 800), n_samples=s.em_samples,
                              rng=np.random.default_rng(seed_sequence(seed, 5, 4)))
        res["em"] = em[:, 0]
        return res

    with prog.stage("naive estimator: Fokker-Planck vs kappa"):
        nv = cache.get_or_compute("ablation-naive", {"schedule": sched.cache_key(), "data": data,
                                                     "eps": s.eps, "kappas": list(s.kappas),
                                                     "seed": seed, "em_samples": s.em_samples,
                                                     "em_kappa": s.em_kappa, "x": x,
                                                     "fp_steps": s.fp_steps, "version": 3},
                                  compute, prog)
    fp = np.array([nv[f"fp_{k!r}"] for k in s.kappas])
    sc = np.array([nv[f"sc_{k!r}"] for k in s.kappas])
    gap = stats.gap_region(data, x)
    cells = stats.mode_cells(data, x)
    nm = cells.max() + 1
    em = nv["em"]
    em_cells = stats.mode_cells(data, em)
    em_modes = np.array([np.mean(em_cells == k) for k in range(nm)])
    em_gap = float(np.mean(stats.gap_region(data, np.sort(em))))  # region membership of samples
    n = em.size
    return {
        "naive_fp": (("kappa", "x"), fp), "naive_sc": (("kappa", "x"), sc),
        "naive_modes": (("kappa", "mode"), np.stack([stats.region_mass(fp, cells == k)
                                                      for k in range(nm)], -1)),
        "naive_gap": (("kappa",), stats.region_mass(fp, gap)),
        "naive_sc_modes": (("kappa", "mode"), np.stack([stats.region_mass(sc, cells == k)
                                                         for k in range(nm)], -1)),
        "naive_em_samples": (("em_sample",), em),
        "naive_em_modes": (("mode",), em_modes),
        "naive_em_modes_se": (("mode",), np.sqrt(em_modes * (1 - em_modes) / n)),
        "naive_em_gap": ((), em_gap), "naive_em_gap_se": ((), np.sqrt(em_gap * (1 - em_gap) / n)),
    }


def npz_arrays(result: xr.Dataset) -> dict:
    """Every variable and coordinate (the ablation has no narrower promised key set).

    No formula: a re-packing of a :func:`run` result for ``--save-data``.

    Parameters
    ----------
    result : xarray.Dataset; a :func:`run` result.

    Returns
    -------
    dict of str to numpy.ndarray
        One entry per data variable and coordinate.

    Examples
    --------
    >>> import xarray as xr
    >>> sorted(npz_arrays(xr.Dataset({"gap_mass": ("P", [0.1])}, coords={"P": [64]})))
    ['P', 'gap_mass']
    """
    return {k: result[k].values for k in list(result.data_vars) + list(result.coords)}
