r"""Target-variance sweep: linear models trained on targets averaged over ``M`` posterior draws.

The DSM target ``x0`` (J1, the proxy) has conditional covariance ``Sigma_post(x, t)``;
averaging ``M`` posterior draws (:func:`averaged_targets`) keeps the mean ``m(x, t)`` and
divides the covariance by ``M`` (``M -> infinity``: the posterior mean, J0). In the ``1/P``
law of a linear denoiser (:func:`gtv_symbolic.kernels.linear_kernel`) ``Cov_W = Cov_mis +
Cov_C`` (misspecification and proxy-variance or C-term, Prop. 5.1), so (derivation
``target-variance``, d16)

.. math:: \mathrm{Cov}_W^{(M)} = \mathrm{Cov}_{mis} + \tfrac1M\,\mathrm{Cov}_C,\qquad
          V^{(M)} = V_{mis} + \tfrac1M V_C .

For every ``M`` in ``n_draws`` (and ``M = inf``) ``N`` ridge models (:func:`train_panel`:
Fig. 2 features and ridge, the same ``P`` triples per model for every ``M``) are compared
with Gaussian fields ``W ~ N(W*, Cov_W^(M))`` through the same sampler (:func:`run`): gap
and mode masses with standard errors, their paired differences, TV, and the functional
variance ``q = E_train[lam tr Var mu_hat] = tr(G Cov_W)``, which tests the ``1/M`` law. The
mean model ``W*`` and the exact-score PF-ODE are the references; fields are topped up until
their Monte Carlo error is at most 1/3 of the ensemble's (count and ratio reported).
``*_vs_exact``: each model's gap and mode masses at ``M`` minus its own at ``M = inf`` (paired).

Networks (``networks``, default ``("ntk",)``, width ``nn_width``): for every ``M``, ``N``
networks from one ``theta_0`` are trained on the same triples and ``M``-draw targets
(:func:`.nn_vs_theory.train_and_predict`) and compared with their lazy law
``N(W*, Cov_mis + Cov_C / M)`` from the NTK at initialisation (``nn_*`` variables); their
functional variance is measured in the lazy basis, ``w_n = B^T (theta_n - theta_0)``.

Examples
--------
>>> s = Settings(n_draws=(1,), P=64, n_models=4, n_fields=4, n_x=4, n_t=4, n_boot=10,
...              networks=())
>>> r = run(s, cache=False, workers=1)
>>> r["gap_mass_ensemble"].dims, r["M"].values.tolist()
(('M',), [1.0, inf])
>>> sorted(npz_arrays(r))[:4]
['M', 'ensemble', 'field_mc_ratio', 'functional_variance_ensemble']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from . import _compare, fig2, nn_vs_theory, stats
from ._common import (
    MAX_MODELS,
    attrs,
    check_choice,
    check_int,
    child,
    make_schedule,
    same_field,
    seed_sequence,
    setting,
)
from ._tasks import cached_map

__all__ = ["NAME", "Settings", "QUICK", "validate", "run", "npz_arrays", "averaged_targets", "train_panel",
           "MAX_DRAWS"]

#: Registry name of the experiment (``gtv figures NAME``).
NAME = "target-variance"
MAX_DRAWS = 10**4


@dataclass(frozen=True)
class Settings:
    """Settings of the target-variance sweep (the ``1/M`` law of the C-term, Prop. 5.1).
    Model fields as Figure 2's (the paper's parameters); ``eps = 1e-2``, ``P = 256`` (F/P = 1)
    pick one Figure 2 panel; ``nn_*`` are the nn-vs-theory settings. No formula: settings.

    Examples
    --------
    >>> Settings().n_draws, Settings(networks=()).networks
    ((1, 2, 4, 16), ())
    """

    n_draws: tuple[int, ...] = setting((1, 2, 4, 16), "posterior draws M averaged per target "
                                       "(M = inf, the exact mean, is always added)", lo=1,
                                       hi=MAX_DRAWS)
    eps: float = setting(1e-2, "final diffusion time eps")
    P: int = setting(256, "training samples per model (F/P = 1 with 16 x 16 features)", lo=1,
                     hi=100_000)
    features: str = same_field(fig2.Settings, "features")
    n_x: int = same_field(fig2.Settings, "n_x")
    n_t: int = same_field(fig2.Settings, "n_t")
    ridge: float = same_field(fig2.Settings, "ridge")
    n_models: int = same_field(fig2.Settings, "n_models")
    n_fields: int = setting(100, "Gaussian fields per M", lo=2, hi=MAX_MODELS)
    schedule: str = same_field(fig2.Settings, "schedule")
    data: tuple[tuple[float, ...], ...] = same_field(fig2.Settings, "data")
    n_steps: int = same_field(fig2.Settings, "n_steps")
    T: float = same_field(fig2.Settings, "T")
    n_bins: int = same_field(fig2.Settings, "n_bins")
    x_range: tuple[float, float] = same_field(fig2.Settings, "x_range")
    n_boot: int = setting(200, "bootstrap resamples of the TV error", lo=10, hi=100_000)
    seed: int = setting(16, "seed of the per-M streams", lo=0)
    networks: tuple[str, ...] = setting(("ntk",), "network parameterisations trained on the "
                                        "same M-draw targets (none: linear models only)",
                                        choices=nn_vs_theory.PARAMETERISATIONS)
    nn_width: int = setting(256, "hidden width of the networks (lazy at 256: kernel change "
                            "about 2 %)", lo=2, hi=65536)
    nn_steps: int = same_field(nn_vs_theory.Settings, "steps")
    nn_lr: float = same_field(nn_vs_theory.Settings, "lr")
    nn_max_lr_mu: float = same_field(nn_vs_theory.Settings, "max_lr_mu")


#: Small settings for ``--quick`` runs (and the tests).
QUICK = Settings(n_draws=(1, 4), n_models=30, n_fields=30, n_boot=50)


def _fig2_settings(s: Settings) -> fig2.Settings:
    return fig2.settings_like(s, eps=(s.eps,), P=(s.P,))


def validate(s: Settings) -> np.ndarray:
    """Raise ValueError/TypeError naming the field for settings :func:`run` cannot use, at once.

    No formula: checks ``n_draws`` (each in [1, 10000]), ``n_models >= 4``, ``n_fields >= 2``,
    ``n_boot``, the ``networks`` and Figure 2's own fields.

    Parameters
    ----------
    s : Settings

    Returns
    -------
    numpy.ndarray, shape (M, 1); the training points.

    Raises
    ------
    TypeError, ValueError
        Naming the offending field and its allowed range.

    Examples
    --------
    >>> validate(Settings(n_draws=(0,)))
    Traceback (most recent call last):
    ...
    ValueError: n_draws must be in [1, 10000], got 0
    """
    if not s.n_draws:
        raise ValueError("n_draws must hold at least one value")
    for M in s.n_draws:
        check_int(M, "n_draws", 1, MAX_DRAWS)
    check_int(s.n_models, "n_models", 4, MAX_MODELS)
    check_int(s.n_fields, "n_fields", 2, MAX_MODELS)
    check_int(s.n_boot, "n_boot", 10, 100_000)
    for p in s.networks:
        check_choice(p, "networks", nn_vs_theory.PARAMETERISATIONS)
    if s.networks:
        nn_vs_theory.validate(_nn_settings(s))
    return fig2.validate(_fig2_settings(s))


def _nn_settings(s: Settings) -> nn_vs_theory.Settings:
    return nn_vs_theory.Settings(parameterisation=tuple(s.networks), width=(s.nn_width,), P=s.P,
                                 steps=s.nn_steps, lr=s.nn_lr, max_lr_mu=s.nn_max_lr_mu,
                                 eps=(s.eps,), n_models=s.n_models, n_fields=s.n_fields,
                                 schedule=s.schedule, data=s.data, n_steps=s.n_steps, T=s.T,
                                 n_bins=s.n_bins, x_range=s.x_range, n_boot=s.n_boot,
                                 seed=s.seed)


def network_panel(s: Settings, seed: int, k_param: int, M, i: int) -> dict:
    """``N`` networks for the ``i``-th target ``M`` and the lazy ``M``-draw law (runs in a
    worker; :func:`gtv_symbolic.experiments.nn_vs_theory.train_and_predict`: the same
    ``theta_0`` and triples for every ``M``, fields from stream ``2 + i``)."""
    from .. import networks as nw

    ns = _nn_settings(s)
    net = nw.MLP(width=s.nn_width, eps=s.eps, T=s.T, parameterisation=s.networks[k_param])
    _, edges = fig2.bin_grid(_fig2_settings(s))
    return nn_vs_theory.train_and_predict(
        net, np.asarray(s.data, float), make_schedule(s.schedule, s.T), P=s.P,
        steps=s.nn_steps, lr=s.nn_lr, max_lr_mu=s.nn_max_lr_mu, n_models=s.n_models,
        n_fields=s.n_fields, draws=[M], edges=edges, n_steps=s.n_steps,
        probe=nn_vs_theory.probe_points(ns, s.eps), seed_seq=seed_sequence(seed, 16, 7, k_param),
        regions=_compare.field_regions(np.asarray(s.data, float), edges), first_stream=2 + i)


#: per-M entries of a network task (the rest are scalars of the cell)
_PER_M = ("ensemble", "kernel_change", "loss", "q", "q_pred", "outside_basis", "lazy_counts")


def _paired_to_exact(d, ens, gap, cells, index):
    """``*_vs_exact``: per-model gap and mode masses at each ``M`` minus the same model's at
    ``M = inf`` (the last), mean and standard error over models (paired)."""
    ref = ens[-1]
    for i, e in enumerate(ens):
        idx = index + (i,)
        d["gap_mass_vs_exact"][idx], d["gap_mass_vs_exact_se"][idx] = stats.mean_se(
            stats.region_mass(e, gap) - stats.region_mass(ref, gap))
        diffs = np.stack([stats.region_mass(e, cells == k) - stats.region_mass(ref, cells == k)
                          for k in range(int(cells.max()) + 1)], axis=-1)
        d["mode_mass_vs_exact"][idx], d["mode_mass_vs_exact_se"][idx] = stats.mean_se(diffs)


def train_panel(s: Settings, seed: int, M: int | None):
    r"""Weights ``W (N, D, F)`` trained on ``M``-draw targets (``None``: exact posterior mean).

    Model ``n``'s triples come from ``rng.spawn(N)[n]`` of the training stream (as
    :func:`gtv_symbolic.training.train_ensemble`; the same for every ``M``), its extra
    posterior draws from its own target stream; ridge fit to :func:`averaged_targets`:

    .. math:: W_n^\top = (\hat G_n + \rho I)^{-1}\,\frac1P\sum_i \lambda_i \phi_i\,
              y_i^{(M)\top}, \qquad \hat G_n = \frac1P\sum_i \lambda_i \phi_i\phi_i^\top.

    Parameters
    ----------
    s : Settings
    seed : int; the run's seed (streams ``SeedSequence([seed, 16])``).
    M : int in [1, 10000] or None; posterior draws per target (None: the exact mean, J0).

    Returns
    -------
    numpy.ndarray, shape (n_models, D, n_x * n_t)

    Examples
    --------
    >>> s = Settings(n_models=2, P=8, n_x=2, n_t=2, networks=())
    >>> train_panel(s, 0, 4).shape, bool((train_panel(s, 0, 1) == train_panel(s, 0, 1)).all())
    ((2, 1, 4), True)
    """
    from .. import training
    from .._runtime.parallel import blas_threads

    sched = make_schedule(s.schedule, s.T)
    data = np.asarray(s.data, float)
    fm = fig2.features_for(_fig2_settings(s), s.eps)
    train_rng, target_rng = np.random.default_rng(seed_sequence(seed, 16)).spawn(2)
    out = []
    with blas_threads(1):
        for g, h in zip(train_rng.spawn(s.n_models), target_rng.spawn(s.n_models), strict=True):
            d = training.sample_training_set(data, sched, P=s.P, eps=s.eps, T=s.T, rng=g)
            y = averaged_targets(d["x0"], d["x"], d["t"], data, sched, M, h)
            out.append(training.ridge_fit(fm(d["x"], d["t"]), y, d["weight"], s.ridge))
    return np.stack(out)


def _panel(s: Settings, seed: int, M: int | None):
    return {"W": train_panel(s, seed, M)}


def run(settings: Settings = Settings(), rng=None, *, progress=None, cache=None, scheduler=None,
        workers=None) -> xr.Dataset:
    r"""Every ``M``: ensembles vs predictions; see the module docstring for the variables.

    Per ``M``, against fields :math:`W \sim \mathcal N(W^*, \mathrm{Cov}_W^{(M)})`, TV and
    masses as in :func:`.one_call.theory_vs_ensemble`, and the functional variance

    .. math:: \hat q = \frac1N\sum_n \frac{N}{N-1}\,\delta W_n^\top G\,\delta W_n \pm
              \frac{\mathrm{sd}_n}{\sqrt N} \quad\text{vs}\quad q = \mathrm{tr}(G\,\mathrm{Cov}_W^{(M)}).

    Parameters
    ----------
    settings : Settings, default ``Settings()``
    rng : None, int, SeedSequence or Generator; the run's seed (None: ``settings.seed``).
    progress, cache, scheduler, workers : optional; as in :func:`.fig2.run`.

    Returns
    -------
    xarray.Dataset
        Per ``M``: ``ensemble, prediction`` (dims ``M, x``), ``gap_mass_*``, ``mode_mass_*``,
        ``tv[_se]``, ``functional_variance_*`` with ``*_se``; ``nn_*`` for the networks.

    Raises
    ------
    TypeError, ValueError
        From :func:`validate`, before any computation.

    Examples
    --------
    >>> run(Settings(n_boot=1))  # checked first; the module example runs one tiny ``M``, linear models only
    Traceback (most recent call last):
    ...
    ValueError: n_boot must be in [10, 100000], got 1
    """
    from .. import kernels

    s = settings
    data, seed, prog, cache, sched, x, edges = _compare.start_1d(NAME, s, validate, rng,
                                                                 progress, cache)
    fm = fig2.features_for(_fig2_settings(s), s.eps)
    dx = x[1] - x[0]
    Ms = [int(M) for M in s.n_draws] + [None]
    base = {k: getattr(s, k) for k in ("eps", "P", "ridge", "n_models", "T")}
    base.update(features=fm.cache_key(), schedule=sched.cache_key(), data=data, seed=seed,
                version=1)
    tasks = [(dict(base, M=M), (_panel, (s, seed, M))) for M in Ms]
    labels = [f"train M={M}" for M in Ms]
    nn_base = dict(base, features=None, width=s.nn_width, steps=s.nn_steps, lr=s.nn_lr,
                   max_lr_mu=s.nn_max_lr_mu, n_fields=s.n_fields, n_steps=s.n_steps,
                   n_bins=s.n_bins, x_range=list(s.x_range), transport=_compare.TRANSPORT,
                   mc_ratio=_compare.MC_RATIO, version=2)
    for k, p in enumerate(s.networks):
        for i, M in enumerate(Ms):
            tasks.append((dict(nn_base, parameterisation=p, M=M, stream=2 + i),
                          (network_panel, (s, seed, k, M, i))))
            labels.append(f"{p} networks H={s.nn_width} M={M}")
    prog.log(f"{len(Ms)} targets (M = {', '.join('inf' if M is None else str(M) for M in Ms)})"
             f", N = {s.n_models}, P = {s.P}, F = {fm.n_features}; networks: "
             f"{', '.join(s.networks) or 'none'}")
    res = cached_map(cache, NAME, tasks, workers=workers, scheduler=scheduler, progress=prog,
                     labels=labels)
    Ws = [r["W"] for r in res[:len(Ms)]]
    nets = [res[len(Ms) * (k + 1):len(Ms) * (k + 2)] for k in range(len(s.networks))]
    K = _compare.kernel(fm, data, sched, eps=s.eps, T=s.T, ridge=s.ridge, target="proxy",
                        seed_seq=seed_sequence(seed, 16, 1), cache=cache)
    C = K.parts["C_term"] / s.P
    mis = K.cov_W / s.P - C
    G = K.G
    common = dict(eps=s.eps, T=s.T, n_steps=s.n_steps, n_samples=None, cache=cache,
                  workers=workers, scheduler=scheduler, progress=prog)
    pf, p_eps, gap, cells = _compare.references(data, sched, edges, eps=s.eps, T=s.T,
                                                n_steps=s.n_steps)
    regions = _compare.field_regions(data, edges)
    mean_model = stats.normalise(_compare.model_masses(
        fm, K.W_star[None], sched, [edges], seed_seq=seed_sequence(seed, 16, 2), label="W*",
        **common))[0]
    nM, nm, nN = len(Ms), data.shape[0], len(s.networks)
    out = _compare.summary_arrays((nM,), nm, "prediction")
    out.update({k: np.zeros(nM) for k in ("functional_variance_ensemble",
                                          "functional_variance_ensemble_se",
                                          "functional_variance_prediction", "field_mc_ratio",
                                          "n_fields_used")})
    nn = _compare.summary_arrays((nN, nM), nm, "lazy")
    nn.update({k: np.zeros((nN, nM)) for k in (
        "functional_variance_ensemble", "functional_variance_ensemble_se",
        "functional_variance_lazy", "kernel_change", "kernel_change_se", "field_mc_ratio",
        "n_fields_used", "outside_basis")})
    nn.update({k: np.zeros(nN) for k in ("tau", "lr_mu_max", "basis_residual")})
    dens = {k: np.zeros((nM, x.size)) for k in ("ensemble", "prediction")}
    nn_dens = {k: np.zeros((nN, nM, x.size)) for k in ("nn_ensemble", "nn_lazy")}
    lin_ens, nn_ens = [], [[] for _ in range(nN)]
    for d in (out, nn):
        lead = (nM,) if d is out else (nN, nM)
        d.update({k: np.zeros(lead) for k in ("gap_mass_vs_exact", "gap_mass_vs_exact_se")})
        d.update({k: np.zeros(lead + (nm,)) for k in ("mode_mass_vs_exact",
                                                       "mode_mass_vs_exact_se")})
    srng = np.random.default_rng(seed_sequence(seed, 16, 3))
    for i, M in enumerate(Ms):
        cov = mis + (0.0 if M is None else C / M)
        code = 0 if M is None else M
        ens = stats.normalise(_compare.model_masses(
            fm, Ws[i], sched, [edges], seed_seq=seed_sequence(seed, 16, 5, code),
            label=f"M={M} models", **common))
        draw_ss, mass_ss = seed_sequence(seed, 16, 4, code), seed_sequence(seed, 16, 6, code)
        gf, out["field_mc_ratio"][i] = _compare.gaussian_fields(
            lambda n, k, cov=cov, ss=draw_ss: kernels.gaussian_weights(
                K.W_star, cov, n, np.random.default_rng(child(ss, k))), s.n_fields,
            lambda Wf, k, M=M, ss=mass_ss: stats.normalise(_compare.model_masses(
                fm, Wf, sched, [edges], seed_seq=child(ss, k), label=f"M={M} fields",
                **common)), ens, regions)
        out["n_fields_used"][i] = gf.shape[0]
        sm = _compare.summary(ens, gf, pf, p_eps, gap, cells, n_boot=s.n_boot,
                              rng=srng.spawn(1)[0])
        _compare.store_summary(out, i, sm, "prediction")
        q = nn_vs_theory.functional_variance(Ws[i], G)
        out["functional_variance_ensemble"][i], out["functional_variance_ensemble_se"][i] = \
            stats.mean_se(q)
        out["functional_variance_prediction"][i] = float(
            sum(np.trace(G @ cov[d, :, d, :]) for d in range(cov.shape[0])))
        lin_ens.append(ens)
        dens["ensemble"][i] = ens.mean(0) / dx
        dens["prediction"][i] = gf.mean(0) / dx
        for k, rk in enumerate(nets):
            r = {a: (v[0] if a in _PER_M else v) for a, v in rk[i].items()}
            e = stats.normalise(r["ensemble"])
            g = stats.normalise(r["lazy"])
            sm = _compare.summary(e, g, pf, p_eps, gap, cells, n_boot=s.n_boot,
                                  rng=srng.spawn(1)[0])
            _compare.store_summary(nn, (k, i), sm, "lazy")
            nn["functional_variance_ensemble"][k, i], nn["functional_variance_ensemble_se"][
                k, i] = stats.mean_se(r["q"])
            nn["functional_variance_lazy"][k, i] = r["q_pred"]
            nn["kernel_change"][k, i], nn["kernel_change_se"][k, i] = stats.mean_se(
                r["kernel_change"])
            nn["field_mc_ratio"][k, i] = _compare.mc_ratio(e, g, regions)
            nn["n_fields_used"][k, i] = g.shape[0]
            nn["outside_basis"][k, i] = r["outside_basis"]
            nn_ens[k].append(e)
            nn_dens["nn_ensemble"][k, i] = e.mean(0) / dx
            nn_dens["nn_lazy"][k, i] = g.mean(0) / dx
    for k, rk in enumerate(nets):
        for a in ("tau", "lr_mu_max", "basis_residual"):
            nn[a][k] = float(rk[0][a])
    # paired differences to the exact target (M = inf): the same triples (and theta_0) per model
    _paired_to_exact(out, lin_ens, gap, cells, ())
    for k in range(nN):
        _paired_to_exact(nn, nn_ens[k], gap, cells, (k,))
    Mc = np.array([np.inf if M is None else float(M) for M in Ms])

    ds = xr.Dataset(
        {**{k: (("M",) + (("mode",) if v.ndim == 2 else ()), v) for k, v in out.items()},
         **{k: (("M", "x"), v) for k, v in dens.items()},
         **{f"nn_{k}": ((("network",) if v.ndim == 1 else ("network", "M"))
                        + (("mode",) if v.ndim == 3 else ()), v) for k, v in nn.items()},
         **{k: (("network", "M", "x"), v) for k, v in nn_dens.items()},
         "true": (("x",), p_eps / dx), "pfode": (("x",), pf / dx),
         "mean_model": (("x",), mean_model / dx),
         "gap_mass_mean_model": ((), float(stats.region_mass(mean_model, gap))),
         "gap_mass_pf_ode": ((), float(stats.region_mass(pf, gap))),
         "mode_mass_mean_model": (("mode",), np.array(
             [stats.region_mass(mean_model, cells == k) for k in range(nm)]))},
        coords={"M": Mc, "x": x, "mode": data[:, 0], "network": list(s.networks)},
        attrs=dict(attrs(NAME, s, seed), n_features=fm.n_features, F_eff=K.F_eff,
                   gap_margin=stats.GAP_MARGIN, nn_width=s.nn_width))
    return ds


def npz_arrays(result: xr.Dataset) -> dict:
    """``--save-data`` keys: ``x, M`` (inf = exact mean), ``ensemble, prediction`` (M, x), the gap/mode
    masses and functional variances with their standard errors (M[, mode]), the field counts;
    with networks, ``network`` and every ``nn_*`` variable. No formula: a re-packing.

    Parameters
    ----------
    result : xarray.Dataset; a :func:`run` result.

    Returns
    -------
    dict of str to numpy.ndarray (KeyError if ``result`` is not a :func:`run` result)

    Examples
    --------
    >>> npz_arrays(xr.Dataset())  # not a run result (the module example shows a real one)
    Traceback (most recent call last):
    ...
    KeyError: ...
    """
    keys = ("x", "M", "ensemble", "prediction", "mean_model", "gap_mass_ensemble",
            "gap_mass_ensemble_se", "gap_mass_prediction", "gap_mass_prediction_se",
            "gap_mass_diff", "gap_mass_diff_se", "mode_mass_ensemble", "mode_mass_ensemble_se",
            "mode_mass_prediction", "mode_mass_prediction_se", "functional_variance_ensemble",
            "functional_variance_ensemble_se", "functional_variance_prediction", "tv", "tv_se",
            "n_fields_used", "field_mc_ratio", "gap_mass_vs_exact", "gap_mass_vs_exact_se",
            "mode_mass_vs_exact", "mode_mass_vs_exact_se")
    out = {k: result[k].values for k in keys}
    if result.sizes.get("network", 0):
        out["network"] = np.asarray(result["network"].values, dtype=str)
        out.update({k: result[k].values for k in result.data_vars if k.startswith("nn_")})
    return out


def averaged_targets(x0, x, t, data, schedule, n_draws, rng) -> np.ndarray:
    r"""Targets averaged over ``M = n_draws`` posterior draws of ``x0`` given ``(x, t)``.

    .. math:: y^{(M)} = \frac1M\Big(x_0 + \sum_{k=2}^{M} x_0^{(k)}\Big),\qquad
              x_0^{(k)} \sim p(x_0 \mid x, t)\ \text{i.i.d.},

    so ``E[y | x, t] = m(x, t)`` and ``Cov[y | x, t] = Sigma_post(x, t) / M`` (the sampled
    ``x0`` is itself a posterior draw). ``M = 1`` returns ``x0`` (the proxy target, J1);
    ``n_draws=None`` the posterior mean ``m(x, t)`` (J0, the ``M -> infinity`` limit).

    Parameters
    ----------
    x0, x, t : array_like, shapes (..., D), (..., D), (...); the DSM triples.
    data : array_like, shape (M_data, D); the training points.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`
    n_draws : int in [1, 10000] or None
    rng : numpy.random.Generator; draws the extra samples (needed for ``n_draws >= 2``).

    Returns
    -------
    numpy.ndarray, shape (..., D) (ValueError/TypeError for a bad ``n_draws`` or ``rng``)

    Examples
    --------
    >>> from gtv_symbolic import schedules
    >>> mu, vp = np.array([[-1.0], [0.0], [1.0]]), schedules.VP()
    >>> x0, x, t = np.array([[1.0], [0.0]]), np.array([[0.8], [0.1]]), np.array([0.5, 0.5])
    >>> averaged_targets(x0, x, t, mu, vp, 1, None).tolist()
    [[1.0], [0.0]]
    >>> y = averaged_targets(x0, x, t, mu, vp, 4, np.random.default_rng(0))
    >>> y.shape, bool(np.all(np.abs(y) <= 1)), bool(np.allclose(4 * y, np.round(4 * y)))
    ((2, 1), True, True)
    """
    from ..proxy import posterior_mean, posterior_weights

    x0 = np.asarray(x0, dtype=float)
    if n_draws is None:
        return posterior_mean(x, t, data, schedule)
    M = check_int(n_draws, "n_draws", 1, MAX_DRAWS)
    if M == 1:
        return x0
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    mu = np.asarray(data, dtype=float)
    w = posterior_weights(x, t, mu, schedule)  # (..., M_data)
    c = np.cumsum(w, axis=-1)
    u = rng.random(w.shape[:-1] + (M - 1,)) * c[..., -1:]
    idx = (u[..., :, None] > c[..., None, :]).sum(axis=-1)  # inverse CDF, (..., M - 1)
    idx = np.minimum(idx, mu.shape[0] - 1)
    return (x0 + mu[idx].sum(axis=-2)) / M
