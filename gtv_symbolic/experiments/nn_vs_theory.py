r"""Trained MLP ensembles vs their lazy-regime (NTK) prediction (issue 13, Prop. 5.2).

For every parameterisation (``"ntk"``: lazy, ``"standard"``: mean-field, rich) and hidden
width ``H``, ``N = n_models`` networks (:class:`gtv_symbolic.networks.MLP`) share one
initialisation ``theta_0`` and are trained on their own ``P`` DSM triples (the linear
models' sampler and weighting) by ``steps`` full-batch gradient steps of size ``lr`` (mean
field: ``lr H``). The prediction is the lazy law of the same network: the empirical NTK at
``theta_0`` through :func:`gtv_symbolic.kernels.linear_kernel` with the gradient-flow filter
at ``tau = steps * lr_eff`` (:func:`gtv_symbolic.networks.lazy_kernel`), ``n_fields``
Gaussian fields drawn from it. Both go through the same 30-step Euler sampler, transported
without samples (:func:`gtv_symbolic.sampling.pushforward_1d`, Fig. 2's settings).

Reported per cell, with standard errors (:mod:`.stats`): TV between the average learned
distributions (bootstrap), gap and mode masses of both, and the relative kernel change
``||Theta_T - Theta_0||_F / ||Theta_0||_F`` on a fixed probe grid (mean over models); also
``tv_null`` (the TV two independent ensembles of the same sizes from the *same* law would
show: two halves of the fields, rescaled by ``sqrt((1/N + 1/M) / (2/h))``; TV of finite
averages is biased upwards by their noise), ``F_eff = tr(G h_tau(G))`` (the effective feature count, for ``F_eff / P``), ``lr_eff mu_max``
and the basis residual of the prediction.

Default sizes (why): Fig. 2's data ``{-1, 0, 1}``, ``eps = 1e-2`` (the row where the
variance mechanism is weakest and the mean model's bias strongest is ``1e-2``; rerun with
``--eps 1e-3``), ``P = 128`` and ``H in {64, 256, 1024}`` (``F_eff / P`` from below 1 to
above 1), 300 steps at ``lr = 0.05`` (``tau = 15``: the top NTK modes are fitted, the step is
far from the stability bound), ``N = 100``: about 10 minutes on 2 cores (benchmarks/).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from . import _compare, fig2, stats
from ._common import (MAX_MODELS, attrs, check_choice, check_int, make_schedule, resolve_seed,
                      same_field, seed_sequence, setting)
from ._tasks import cached_map, get_cache, quiet_progress

__all__ = ["NAME", "Settings", "QUICK", "validate", "run", "npz_arrays", "probe_points", "cell"]

NAME = "nn-vs-theory"
PARAMETERISATIONS = ("ntk", "standard")


@dataclass(frozen=True)
class Settings:
    parameterisation: tuple[str, ...] = setting(PARAMETERISATIONS, "network parameterisations "
                                                "(ntk = lazy, standard = mean-field)",
                                                choices=PARAMETERISATIONS)
    width: tuple[int, ...] = setting((64, 256, 1024), "hidden widths H (even)", lo=2,
                                     hi=65536)
    P: int = setting(128, "training samples per model", lo=1, hi=100_000)
    steps: int = setting(300, "full-batch gradient steps", lo=1, hi=10**6)
    lr: float = setting(0.05, "step size (mean-field: lr * H)")
    eps: float = setting(1e-2, "final diffusion time eps (training and sampling)")
    target: str = setting("proxy", "training target: proxy (J1) or true (J0)",
                          choices=("proxy", "true"))
    n_models: int = same_field(fig2.Settings, "n_models")
    n_fields: int = setting(100, "Gaussian fields drawn from the lazy prediction", lo=2,
                            hi=MAX_MODELS)
    schedule: str = same_field(fig2.Settings, "schedule")
    data: tuple[tuple[float, ...], ...] = same_field(fig2.Settings, "data")
    n_steps: int = same_field(fig2.Settings, "n_steps")
    T: float = same_field(fig2.Settings, "T")
    n_bins: int = same_field(fig2.Settings, "n_bins")
    x_range: tuple[float, float] = same_field(fig2.Settings, "x_range")
    n_boot: int = setting(200, "bootstrap resamples of the TV error", lo=10, hi=100_000)
    seed: int = setting(13, "seed of the per-cell streams", lo=0)


QUICK = Settings(width=(64, 512), n_models=20, n_fields=20, steps=150, lr=0.1, n_boot=50)


def probe_points(s: Settings):
    """Fixed probe set of the kernel change: 16 x in ``x_range`` times 4 times in ``[eps, T]``."""
    xs = np.linspace(s.x_range[0], s.x_range[1], 16)
    ts = np.geomspace(s.eps, s.T, 6)[1:5]
    X, Tt = np.meshgrid(xs, ts, indexing="ij")
    return X.reshape(-1, 1), Tt.reshape(-1)


def validate(s: Settings):
    for p in s.parameterisation:
        check_choice(p, "parameterisation", PARAMETERISATIONS)
    if not s.parameterisation or not s.width:
        raise ValueError("parameterisation and width must each hold at least one value")
    for w in s.width:
        check_int(w, "width", 2, 65536)
        if w % 2:
            raise ValueError(f"width must be even, got {w}")
    check_int(s.P, "P", 1, 100_000)
    check_int(s.steps, "steps", 1, 10**6)
    check_int(s.n_models, "n_models", 4, MAX_MODELS)
    check_int(s.n_fields, "n_fields", 2, MAX_MODELS)
    check_int(s.n_boot, "n_boot", 10, 100_000)
    check_int(s.seed, "seed", 0, 2**63 - 1)
    check_choice(s.target, "target", ("proxy", "true"))
    if not (np.isfinite(s.lr) and s.lr > 0):
        raise ValueError(f"lr must be finite and > 0, got {s.lr}")
    data = np.asarray(s.data, dtype=float)
    if data.ndim != 2 or data.shape[1] != 1:
        raise ValueError(f"data must be 1-D points, shape (M, 1), got {data.shape}")
    fig2.validate(_fig2_settings(s))
    return data


def _fig2_settings(s: Settings) -> fig2.Settings:
    return fig2.Settings(eps=(s.eps,), P=(s.P,), n_models=s.n_models, schedule=s.schedule,
                         data=s.data, n_steps=s.n_steps, T=s.T, n_bins=s.n_bins,
                         x_range=s.x_range, seed=s.seed)


def cell(s: Settings, seed: int, k_param: int, width: int) -> dict:
    """One (parameterisation, width) cell: train, predict, transport (runs in a worker)."""
    from .. import networks as nw
    from ..grids import TimeGrid
    from ..solvers import pushforward_1d

    sched = make_schedule(s.schedule, s.T)
    data = np.asarray(s.data, float)
    _, edges = fig2.bin_grid(_fig2_settings(s))
    rng = np.random.default_rng(seed_sequence(seed, 13, k_param, width))
    r_train, r_nodes, r_fields = rng.spawn(3)
    net = nw.MLP(width=int(width), eps=s.eps, T=s.T, parameterisation=s.parameterisation[k_param])
    tr = nw.train_networks(net, data, sched, P=s.P, n_models=s.n_models, steps=s.steps,
                           lr=s.lr, rng=r_train, target=s.target)
    xp, tp = probe_points(s)
    kc = nw.kernel_change(net, tr["theta0"], tr["theta"], xp, tp)
    lazy = nw.lazy_kernel(net, tr["theta0"], data, sched, P=s.P, tau=tr["tau"],
                          target=s.target, rng=r_nodes)
    grid = TimeGrid.linear(sched, s.eps, s.T, s.n_steps)
    ens = pushforward_1d(nw.EnsembleDenoiser(net, tr["theta"]), grid, edges, **_compare.TRANSPORT)
    deltas = lazy.sample_deltas(s.n_fields, r_fields)
    gf = pushforward_1d(nw.EnsembleDenoiser(net, tr["theta0"] + deltas, theta0=tr["theta0"]),
                        grid, edges, **_compare.TRANSPORT)
    return {"ensemble": ens, "lazy": gf, "kernel_change": kc, "loss": tr["loss"],
            "lr_mu_max": np.array(net.effective_lr(s.lr) * tr["mu_max"]),
            "tau": np.array(tr["tau"]), "F_eff": np.array(lazy.kernel.F_eff),
            "basis_residual": np.array(lazy.basis_residual),
            "rank": np.array(lazy.B.shape[1])}


def run(settings: Settings = Settings(), rng=None, *, progress=None, cache=None, scheduler=None,
        workers=None) -> xr.Dataset:
    """Every (parameterisation, width) cell; see the module docstring for the variables."""
    s = settings
    data = validate(s)
    seed = resolve_seed(s, rng)
    prog = quiet_progress(progress, NAME)
    cache = get_cache(cache)
    sched = make_schedule(s.schedule, s.T)
    f2s = _fig2_settings(s)
    x, edges = fig2.bin_grid(f2s)
    dx = x[1] - x[0]
    base = {k: getattr(s, k) for k in ("P", "steps", "lr", "eps", "target", "n_models",
                                       "n_fields", "n_steps", "T", "n_bins")}
    base.update(schedule=sched.cache_key(), data=data, x_range=list(s.x_range), seed=seed,
                transport=_compare.TRANSPORT, version=1)
    tasks, labels = [], []
    for k, p in enumerate(s.parameterisation):
        for w in s.width:
            tasks.append((dict(base, parameterisation=p, width=int(w)),
                          (cell, (s, seed, k, int(w)))))
            labels.append(f"{p} H={w}")
    prog.log(f"{len(tasks)} cells, N = {s.n_models} networks + {s.n_fields} lazy fields each, "
             f"P = {s.P}, {s.steps} steps")
    res = cached_map(cache, NAME, tasks, workers=workers, scheduler=scheduler, progress=prog,
                     labels=labels)
    pf = stats.normalise(_compare.exact_masses(data, sched, [edges], eps=s.eps, T=s.T,
                                               n_steps=s.n_steps, n_samples=None,
                                               seed_seq=None))
    p_eps = stats.normalise(_compare.p_eps_masses(data, sched, [edges], s.eps))
    gap = stats.gap_region(data, x)
    cells = stats.mode_cells(data, x)
    nP, nW, nM = len(s.parameterisation), len(s.width), data.shape[0]
    shape = (nP, nW)
    out = {k: np.zeros(shape) for k in (
        "tv", "tv_se", "kernel_change", "kernel_change_se", "gap_mass_ensemble",
        "gap_mass_ensemble_se", "gap_mass_lazy", "gap_mass_lazy_se", "gap_mass_diff",
        "gap_mass_diff_se", "tv_ensemble_pf_ode", "tv_ensemble_pf_ode_se", "F_eff", "tau",
        "lr_mu_max", "basis_residual", "loss", "rank", "tv_null")}
    for k in ("mode_mass_ensemble", "mode_mass_ensemble_se", "mode_mass_lazy",
              "mode_mass_lazy_se", "mode_mass_diff", "mode_mass_diff_se"):
        out[k] = np.zeros(shape + (nM,))
    ens_d, lazy_d = np.zeros(shape + (x.size,)), np.zeros(shape + (x.size,))
    srng = np.random.default_rng(seed_sequence(seed, 13, 99))
    for i in range(nP):
        for j in range(nW):
            r = res[i * nW + j]
            ens, gf = stats.normalise(r["ensemble"]), stats.normalise(r["lazy"])
            sm = _compare.summary(ens, gf, pf, p_eps, gap, cells, n_boot=s.n_boot,
                                  rng=srng.spawn(1)[0])
            for a, b in (("tv", "tv"), ("tv_se", "tv_se"),
                         ("tv_ensemble_pf_ode", "tv_ensemble_pf_ode"),
                         ("tv_ensemble_pf_ode_se", "tv_ensemble_pf_ode_se"),
                         ("gap_mass_ensemble", "gap_mass_ensemble"),
                         ("gap_mass_ensemble_se", "gap_mass_ensemble_se"),
                         ("gap_mass_lazy", "gap_mass_gaussian_field"),
                         ("gap_mass_lazy_se", "gap_mass_gaussian_field_se"),
                         ("gap_mass_diff", "gap_mass_diff"), ("gap_mass_diff_se", "gap_mass_diff_se"),
                         ("mode_mass_ensemble", "mode_mass_ensemble"),
                         ("mode_mass_ensemble_se", "mode_mass_ensemble_se"),
                         ("mode_mass_lazy", "mode_mass_gaussian_field"),
                         ("mode_mass_lazy_se", "mode_mass_gaussian_field_se"),
                         ("mode_mass_diff", "mode_mass_diff"),
                         ("mode_mass_diff_se", "mode_mass_diff_se")):
                out[a][i, j] = sm[b]
            out["kernel_change"][i, j], out["kernel_change_se"][i, j] = stats.mean_se(
                r["kernel_change"])
            out["loss"][i, j] = float(np.mean(r["loss"]))
            h = gf.shape[0] // 2  # noise floor: two halves of the fields, rescaled to N vs M
            out["tv_null"][i, j] = stats.tv(gf[:h].mean(0), gf[h:2 * h].mean(0)) * np.sqrt(
                (1 / ens.shape[0] + 1 / gf.shape[0]) / (2 / h))
            for k in ("F_eff", "tau", "lr_mu_max", "basis_residual", "rank"):
                out[k][i, j] = float(r[k])
            ens_d[i, j] = ens.mean(0) / dx
            lazy_d[i, j] = gf.mean(0) / dx
    dims2 = ("parameterisation", "width")
    ds = xr.Dataset(
        {**{k: (dims2 + (("mode",) if v.ndim == 3 else ()), v) for k, v in out.items()},
         "ensemble": (dims2 + ("x",), ens_d), "lazy_prediction": (dims2 + ("x",), lazy_d),
         "true": (("x",), p_eps / dx), "pfode": (("x",), pf / dx),
         "gap_mass_pf_ode": ((), float(stats.region_mass(pf, gap))),
         "gap_mass_p_eps": ((), float(stats.region_mass(p_eps, gap)))},
        coords={"parameterisation": list(s.parameterisation),
                "width": np.asarray(s.width, int), "x": x, "mode": data[:, 0]},
        attrs=dict(attrs(NAME, s, seed), gap_margin=stats.GAP_MARGIN))
    ds["ensemble"].attrs["long_name"] = "average learned density of the trained networks"
    ds["lazy_prediction"].attrs["long_name"] = "lazy (NTK at init) Gaussian-field prediction"
    ds["kernel_change"].attrs["long_name"] = "||Theta_T - Theta_0||_F / ||Theta_0||_F (mean)"
    return ds


def npz_arrays(result: xr.Dataset) -> dict:
    """``--save-data`` keys: ``x, width, parameterisation, ensemble, lazy_prediction`` (shape
    ``(len(parameterisation), len(width), len(x))``), ``tv, tv_se, kernel_change`` (shape
    ``(len(parameterisation), len(width))``)."""
    out = {k: result[k].values for k in ("x", "width", "ensemble", "lazy_prediction", "tv",
                                         "tv_se", "kernel_change")}
    out["parameterisation"] = np.asarray(result["parameterisation"].values, dtype=str)
    return out
