r"""Trained MLP ensembles vs their lazy-regime (NTK) prediction (issue 13, Prop. 5.2).

For every final time ``eps`` (Fig. 2's three rows), parameterisation (``"ntk"``: lazy,
``"standard"``: mean-field, rich) and hidden width ``H``, ``N = n_models`` networks
(:class:`gtv_symbolic.networks.MLP`) share one initialisation ``theta_0`` and are trained on
their own ``P`` DSM triples by ``steps`` full-batch gradient steps of size ``lr_eff``
(:func:`train_and_predict`). The prediction is the lazy law of the same network: the
empirical NTK at ``theta_0`` through :func:`gtv_symbolic.kernels.linear_kernel` with the
gradient-flow filter at ``tau = steps * lr_eff``, ``n_fields`` Gaussian fields drawn from it.
Their Monte Carlo error relative to the ensemble's is reported (``field_mc_ratio``, max over
gap and mode cells), not topped up to the 1/3 rule (4-20 fields per model: several times the
10-minute budget); the paired differences' errors include the fields' share. Both go through
Fig. 2's Euler sampler, transported without samples (:func:`gtv_symbolic.solvers.pushforward_1d`).
The step ``lr`` (mean field: ``lr H``) is lowered so that ``lr_eff mu_max(G_hat) <=
max_lr_mu`` for all ``N`` training sets; as ``lam = alpha_t^2 / sigma_t^2`` reaches ``1/eps``,
``mu_max`` is about 9, 80 and 700 at ``eps = 1e-2, 1e-3, 1e-4``, so ``tau`` is shorter there.
Reported per cell with standard errors (:mod:`.stats`): TV (bootstrap), gap and mode masses
and their paired differences, the kernel change on a probe grid, ``tv_null`` (the TV two
independent ensembles of these sizes from the *same* law would show: TV of finite averages
is biased upwards), ``F_eff = tr(G h_tau(G))``, ``tau``, ``lr_eff mu_max``, basis residual.
Default sizes (why): ``P = 128``, ``H in {64, 256, 1024}`` (``F_eff / P`` from below to above
1), 150 steps at ``lr = 0.1`` (``tau = 15`` at ``eps = 1e-2``, ``lr mu_max <= 0.9``),
``max_lr_mu = 1`` (every mode decays monotonically), ``N = 100``; cost: README.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import xarray as xr

from . import _compare, fig2, stats
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

__all__ = ["NAME", "Settings", "QUICK", "validate", "run", "npz_arrays", "npz_split",
           "probe_points", "cell", "train_and_predict", "split_lazy", "functional_variance",
           "eps_code"]

#: Registry name of the experiment (``gtv figures NAME``).
NAME = "nn-vs-theory"
PARAMETERISATIONS = ("ntk", "standard")


@dataclass(frozen=True)
class Settings:
    """Settings of the networks-vs-lazy-prediction experiment (Prop. 5.2): Figure 2's data,
    ``eps`` and ``N`` (the paper's parameters); network sizes as the module docstring says.
    No formula: settings.
    Examples
    --------
    >>> Settings().width, Settings(width=(8,)).width
    ((64, 256, 1024), (8,))
    """

    parameterisation: tuple[str, ...] = setting(PARAMETERISATIONS, "network parameterisations "
                                                "(ntk = lazy, standard = mean-field)",
                                                choices=PARAMETERISATIONS)
    width: tuple[int, ...] = setting((64, 256, 1024), "hidden widths H (even)", lo=2,
                                     hi=65536)
    P: int = setting(128, "training samples per model", lo=1, hi=100_000)
    steps: int = setting(150, "full-batch gradient steps", lo=1, hi=10**6)
    lr: float = setting(0.1, "step size (mean-field: lr * H)")
    max_lr_mu: float = setting(1.0, "largest lr_eff * mu_max(G_hat) over the N training sets; "
                               "the step is lowered to meet it (small eps)")
    eps: tuple[float, ...] = same_field(fig2.Settings, "eps")
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


#: Small settings for ``--quick`` runs (and the tests).
QUICK = Settings(width=(64, 512), n_models=20, n_fields=20, n_boot=50)


def eps_code(eps: float) -> int:
    r""":math:`\mathrm{round}(-1000 \log_{10} \epsilon)`: the integer tag of ``eps`` in seeds.

    Parameters
    ----------
    eps : float; a final time (> 0).
    Returns
    -------
    int
    Examples
    --------
    >>> eps_code(1e-2), eps_code(3e-4)
    (2000, 3523)
    """
    return int(round(-np.log10(eps) * 1000))


def probe_points(s: Settings, eps: float):
    r"""Probe set of the kernel change: 16 x evenly in ``x_range`` times the 4 times
    :math:`t_j = \epsilon (T/\epsilon)^{j/5}`, :math:`j = 1..4`; all 64 pairs, x-major.

    Parameters
    ----------
    s : Settings
    eps : float in (0, T)
    Returns
    -------
    x : numpy.ndarray, shape (64, 1)
    t : numpy.ndarray, shape (64,)
    Examples
    --------
    >>> x, t = probe_points(Settings(), 1e-2)
    >>> x.shape, t.shape, float(x[0, 0]), round(float(t[0]), 4)
    ((64, 1), (64,), -1.5, 0.0251)
    """
    xs = np.linspace(s.x_range[0], s.x_range[1], 16)
    ts = np.geomspace(eps, s.T, 6)[1:5]
    X, Tt = np.meshgrid(xs, ts, indexing="ij")
    return X.reshape(-1, 1), Tt.reshape(-1)


def validate(s: Settings):
    """Raise ValueError/TypeError naming the field for settings :func:`run` cannot use, before any
    computation (no formula); return the training points.

    Parameters
    ----------
    s : Settings
    Returns
    -------
    numpy.ndarray, shape (M, 1)
    Examples
    --------
    >>> validate(Settings(width=(63,)))
    Traceback (most recent call last):
    ...
    ValueError: width must be even, got 63
    """
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
    if not 0 < s.max_lr_mu < 2:
        raise ValueError(f"max_lr_mu must lie in (0, 2) (gradient descent is stable below 2), "
                         f"got {s.max_lr_mu}")
    data = np.asarray(s.data, dtype=float)
    if data.ndim != 2 or data.shape[1] != 1:
        raise ValueError(f"data must be 1-D points, shape (M, 1), got {data.shape}")
    fig2.validate(_fig2_settings(s))
    return data


def _fig2_settings(s: Settings) -> fig2.Settings:
    return fig2.settings_like(s, eps=tuple(s.eps), P=(s.P,))


def train_and_predict(net, data, sched, *, P, steps, lr, max_lr_mu, n_models, n_fields, draws,
                      edges, n_steps, probe, seed_seq, regions=None, first_stream=2) -> dict:
    r"""Networks and their lazy prediction for each target ``M`` in ``draws`` (runs in a worker).

    Per ``M`` (``1``: J1; ``None``: J0; else ``M`` posterior draws) ``n_models`` networks from
    one ``theta_0``, same triples (stream ``child(seed_seq, 0)``), and ``n_fields`` lazy fields
    of ``N(W*, Cov_mis + Cov_C / M)`` (stream ``child(seed_seq, first_stream + i)``, topped up
    to ``MC_RATIO`` in each mask of ``regions`` if given), transported on ``edges``; kernel
    change :math:`\|\Theta_{T,n} - \Theta_0\|_F / \|\Theta_0\|_F` (:math:`\Theta = J J^\top`),
    ``q`` of ``w_n = B^T (theta_n - theta_0)`` (:func:`functional_variance`) and
    :math:`q_{\mathrm{pred}} = \mathrm{tr}(G\,\mathrm{Cov}_W^{(M)})`.

    Parameters
    ----------
    net : gtv_symbolic.networks.MLP; a 1-D network.
    data, sched : (M_data, 1) points and Schedule
    P, steps, lr, max_lr_mu, n_models, n_fields : training and field sizes (as Settings)
    draws : list of int or None
    edges, n_steps, probe, seed_seq : transport grid, Euler steps, probe points, stream
    Returns
    -------
    dict of str to numpy.ndarray
        ``ensemble (len(draws), N, bins)``, ``lazy`` (:func:`split_lazy`), ``lazy_counts``,
        ``kernel_change, loss, q, q_pred``, ``outside_basis`` (``||J (I - B B^T) Delta||_F /
        ||J Delta||_F``), ``tau, lr_mu_max, F_eff, basis_residual, rank``.
    Examples
    --------
    >>> from gtv_symbolic import networks, schedules
    >>> kw = dict(steps=1, lr=0.1, max_lr_mu=1.0, n_models=2, n_fields=2, draws=[1], n_steps=5)
    >>> train_and_predict(networks.MLP(width=4, eps=1e-2), np.zeros((2, 1)), schedules.VP(), P=0,
    ...                   edges=None, probe=None, seed_seq=np.random.SeedSequence(0), **kw)
    Traceback (most recent call last):
    ...
    ValueError: P must be in [1, 100000], got 0
    """
    from .. import networks as nw
    from ..grids import TimeGrid
    from ..solvers import pushforward_1d

    grid = TimeGrid.linear(sched, net.eps, net.T, n_steps)
    out = {k: [] for k in ("ensemble", "lazy", "kernel_change", "loss", "q", "q_pred",
                                 "outside_basis")}
    lazy = None
    for i, M in enumerate(draws):
        tr = nw.train_networks(net, data, sched, P=P, n_models=n_models, steps=steps, lr=lr,
                               rng=np.random.default_rng(child(seed_seq, 0)), n_draws=M,
                               max_lr_mu=max_lr_mu)
        if lazy is None:  # theta0, triples and so tau are the same for every M
            lazy = nw.lazy_kernel(net, tr["theta0"], data, sched, P=P, tau=tr["tau"],
                                  rng=np.random.default_rng(child(seed_seq, 1)))
            Jp = nw.jacobian(net, tr["theta0"], *probe).reshape(-1, net.n_params)
            JpB = Jp @ lazy.B
        out["kernel_change"].append(nw.kernel_change(net, tr["theta0"], tr["theta"], *probe))
        G, cov = lazy.kernel.G, lazy.cov_W(M)[0, :, 0, :]
        out["q"].append(functional_variance(((tr["theta"] - tr["theta0"]) @ lazy.B)[:, None], G))
        out["q_pred"].append(np.trace(G @ cov))
        # share of the trained function change J delta outside the basis (probe points)
        Jd = Jp @ (tr["theta"] - tr["theta0"]).T
        out["outside_basis"].append(np.linalg.norm(Jd - JpB @ (lazy.B.T @ (tr["theta"] - tr["theta0"]).T))
                                    / np.linalg.norm(Jd))
        out["loss"].append(tr["loss"])
        ens = pushforward_1d(nw.EnsembleDenoiser(net, tr["theta"]), grid, edges,
                             **_compare.TRANSPORT)
        out["ensemble"].append(ens)

        draw = functools.partial(_draw_lazy, lazy, M, child(seed_seq, first_stream + i))
        masses = functools.partial(_lazy_masses, net, tr["theta0"], grid, edges)

        if regions is None:
            out["lazy"].append(masses(draw(n_fields, 0), 0))
        else:  # topped up until the Monte Carlo error is <= MC_RATIO of the ensemble's
            out["lazy"].append(_compare.gaussian_fields(draw, n_fields, masses, ens, regions)[0])
    res = {k: np.stack(v) for k, v in out.items() if k != "lazy"}
    res["lazy"] = np.concatenate(out["lazy"])  # the counts may differ between M
    res["lazy_counts"] = np.array([a.shape[0] for a in out["lazy"]])
    res.update(tau=np.array(tr["tau"]), lr_mu_max=np.array(tr["lr_eff"] * tr["mu_max"]),
               F_eff=np.array(lazy.kernel.F_eff), basis_residual=np.array(lazy.basis_residual),
               rank=np.array(lazy.B.shape[1]))
    return res


def _draw_lazy(lazy, M, ss, n, k):
    return lazy.sample_deltas(n, np.random.default_rng(child(ss, k)), n_draws=M)


def _lazy_masses(net, theta0, grid, edges, deltas, k):
    from .. import networks as nw
    from ..solvers import pushforward_1d

    return pushforward_1d(nw.EnsembleDenoiser(net, theta0 + deltas, theta0=theta0), grid, edges,
                          **_compare.TRANSPORT)


def split_lazy(res: dict) -> list[np.ndarray]:
    """The lazy-field masses of :func:`train_and_predict` per ``M`` (no formula: a split).

    Parameters
    ----------
    res : dict; with ``lazy (sum(lazy_counts), bins)`` and ``lazy_counts``.
    Returns
    -------
    list of numpy.ndarray, one ``(lazy_counts[i], bins)`` per ``M``.
    Examples
    --------
    >>> [a.shape for a in split_lazy({"lazy": np.zeros((5, 3)), "lazy_counts": np.array([2, 3])})]
    [(2, 3), (3, 3)]
    """
    return np.split(res["lazy"], np.cumsum(res["lazy_counts"])[:-1])


def functional_variance(W, G):
    r"""Per model, the sample estimate of ``E_train[lam tr Var mu_hat] = tr(G Cov_W)``.

    .. math:: q_n = \tfrac{N}{N-1}\textstyle\sum_d \delta W_{n,d}^\top G\, \delta W_{n,d},
              \quad \delta W_n = W_n - \bar W, \quad \tfrac1N \sum_n q_n = \mathrm{tr}(G S_W).

    Parameters
    ----------
    W : numpy.ndarray, shape (N, D, F), N >= 2
    G : numpy.ndarray, shape (F, F)
    Returns
    -------
    numpy.ndarray, shape (N,)
    Examples
    --------
    >>> functional_variance(np.array([[[1.0, 0.0]], [[-1.0, 0.0]]]), np.eye(2)).tolist()
    [2.0, 2.0]
    """
    dW = W - W.mean(0)
    N = W.shape[0]
    return np.einsum("ndf,fg,ndg->n", dW, G, dW) * N / (N - 1)


def cell(s: Settings, seed: int, eps: float, k_param: int, width: int) -> dict:
    """One (eps, parameterisation, width) cell of :func:`train_and_predict` (a task; no formula).

    Parameters
    ----------
    s : Settings
    seed, k_param, width : int; stream ``SeedSequence([seed, 13, eps_code(eps), k_param, width])``
    eps : float; the cell's final time
    Returns
    -------
    dict of str to numpy.ndarray; the :func:`train_and_predict` entries for one ``M``.
    Examples
    --------
    >>> cell(Settings(P=0), 0, 1e-2, 0, 4)  # bad sizes fail before any training
    Traceback (most recent call last):
    ...
    ValueError: P must be in [1, 100000], got 0
    """
    from .. import networks as nw

    sched = make_schedule(s.schedule, s.T)
    _, edges = fig2.bin_grid(_fig2_settings(s))
    net = nw.MLP(width=int(width), eps=eps, T=s.T, parameterisation=s.parameterisation[k_param])
    r = train_and_predict(net, np.asarray(s.data, float), sched, P=s.P, steps=s.steps, lr=s.lr,
                          max_lr_mu=s.max_lr_mu, n_models=s.n_models, n_fields=s.n_fields,
                          draws=[1 if s.target == "proxy" else None], edges=edges,
                          n_steps=s.n_steps, probe=probe_points(s, eps),
                          seed_seq=seed_sequence(seed, 13, eps_code(eps), k_param, width))
    return {k: (v[0] if k in ("ensemble", "kernel_change", "loss", "q", "q_pred",
                                          "outside_basis", "lazy_counts") else v)
            for k, v in r.items()}


def run(settings: Settings = Settings(), rng=None, *, progress=None, cache=None, scheduler=None,
        workers=None) -> xr.Dataset:
    r"""Every (eps, parameterisation, width) cell; see the module docstring for the variables.

    TV, gap and mode masses as in :func:`.one_call.theory_vs_ensemble`; with ``K`` lazy
    fields :math:`q_k`, :math:`h = \lfloor K/2 \rfloor`, the noise floor is
    :math:`\mathrm{tv\_null} = \mathrm{TV}(\bar q_{1..h}, \bar q_{h+1..2h})\sqrt{(1/N + 1/K)/(2/h)}`.

    Parameters
    ----------
    settings : Settings
    rng : None, int, SeedSequence or Generator; the seed (None: ``settings.seed``).
    progress, cache, scheduler, workers : optional; as in :func:`.fig2.run`.
    Returns
    -------
    xarray.Dataset; ``ensemble, lazy_prediction`` (dims ``eps, parameterisation, width, x``),
    the summaries with ``*_se`` (``eps, parameterisation, width``), ``true, pfode``.
    Examples
    --------
    >>> run(Settings(max_lr_mu=3.0))  # checked first; a run compiles networks (> 10 s)
    Traceback (most recent call last):
    ...
    ValueError: max_lr_mu must lie in (0, 2) (gradient descent is stable below 2), got 3.0
    """
    s = settings
    data, seed, prog, cache, sched, x, edges = _compare.start_1d(NAME, s, validate, rng,
                                                                 progress, cache)
    dx = x[1] - x[0]
    base = {k: getattr(s, k) for k in ("P", "steps", "lr", "max_lr_mu", "target", "n_models",
                                       "n_fields", "n_steps", "T", "n_bins")}
    base.update(schedule=sched.cache_key(), data=data, x_range=list(s.x_range), seed=seed,
                transport=_compare.TRANSPORT, version=3)
    tasks, labels = [], []
    for e in s.eps:
        for k, p in enumerate(s.parameterisation):
            for w in s.width:
                tasks.append((dict(base, eps=float(e), parameterisation=p, width=int(w)),
                              (cell, (s, seed, float(e), k, int(w)))))
                labels.append(f"eps={e:g} {p} H={w}")
    prog.log(f"{len(tasks)} cells, N = {s.n_models} networks + {s.n_fields} lazy fields each, "
             f"P = {s.P}, {s.steps} steps")
    res = cached_map(cache, NAME, tasks, workers=workers, scheduler=scheduler, progress=prog,
                     labels=labels)
    nE, nP, nW, nM = len(s.eps), len(s.parameterisation), len(s.width), data.shape[0]
    shape = (nE, nP, nW)
    out = _compare.summary_arrays(shape, nM, "lazy")
    out.update({k: np.zeros(shape) for k in ("kernel_change", "kernel_change_se", "F_eff",
                                              "tau", "lr_mu_max", "basis_residual", "loss",
                                              "rank", "tv_null", "outside_basis",
                                              "field_mc_ratio", "lazy_fields")})
    ens_d, lazy_d = np.zeros(shape + (x.size,)), np.zeros(shape + (x.size,))
    true_d, pf_d, gap_pf, gap_pe = (np.zeros((nE, x.size)), np.zeros((nE, x.size)),
                                    np.zeros(nE), np.zeros(nE))
    srng = np.random.default_rng(seed_sequence(seed, 13, 99))
    for a, e in enumerate(s.eps):
        pf, p_eps, gap, cells = _compare.references(data, sched, edges, eps=e, T=s.T,
                                                    n_steps=s.n_steps)
        true_d[a], pf_d[a] = p_eps / dx, pf / dx
        gap_pf[a], gap_pe[a] = stats.region_mass(pf, gap), stats.region_mass(p_eps, gap)
        for i in range(nP):
            for j in range(nW):
                r = res[(a * nP + i) * nW + j]
                ens, gf = stats.normalise(r["ensemble"]), stats.normalise(r["lazy"])
                sm = _compare.summary(ens, gf, pf, p_eps, gap, cells, n_boot=s.n_boot,
                                      rng=srng.spawn(1)[0])
                _compare.store_summary(out, (a, i, j), sm, "lazy")
                out["kernel_change"][a, i, j], out["kernel_change_se"][a, i, j] = \
                    stats.mean_se(r["kernel_change"])
                out["loss"][a, i, j] = float(np.mean(r["loss"]))
                h = gf.shape[0] // 2  # noise floor: two halves of the fields, rescaled to N vs M
                out["tv_null"][a, i, j] = stats.tv(gf[:h].mean(0), gf[h:2 * h].mean(0)) * np.sqrt(
                    (1 / ens.shape[0] + 1 / gf.shape[0]) / (2 / h))
                out["lazy_fields"][a, i, j] = gf.shape[0]
                out["field_mc_ratio"][a, i, j] = _compare.mc_ratio(
                    ens, gf, _compare.field_regions(data, edges))
                for k in ("F_eff", "tau", "lr_mu_max", "basis_residual", "rank",
                          "outside_basis"):
                    out[k][a, i, j] = float(r[k])
                ens_d[a, i, j] = ens.mean(0) / dx
                lazy_d[a, i, j] = gf.mean(0) / dx
    dims3 = ("eps", "parameterisation", "width")
    ds = xr.Dataset(
        {**{k: (dims3 + (("mode",) if v.ndim == 4 else ()), v) for k, v in out.items()},
         "ensemble": (dims3 + ("x",), ens_d), "lazy_prediction": (dims3 + ("x",), lazy_d),
         "true": (("eps", "x"), true_d), "pfode": (("eps", "x"), pf_d),
         "gap_mass_pf_ode": (("eps",), gap_pf), "gap_mass_p_eps": (("eps",), gap_pe)},
        coords={"eps": np.asarray(s.eps, float), "parameterisation": list(s.parameterisation),
                "width": np.asarray(s.width, int), "x": x, "mode": data[:, 0]},
        attrs=dict(attrs(NAME, s, seed), gap_margin=stats.GAP_MARGIN))
    ds["ensemble"].attrs["long_name"] = "average learned density of the trained networks"
    ds["lazy_prediction"].attrs["long_name"] = "lazy (NTK at init) Gaussian-field prediction"
    ds["kernel_change"].attrs["long_name"] = "||Theta_T - Theta_0||_F / ||Theta_0||_F (mean)"
    return ds


def npz_split(result: xr.Dataset) -> list[tuple[str, xr.Dataset]]:
    """Files of ``--save-data PATH``: ``(suffix, one-eps result)``, one per ``eps`` (no formula).
    One ``eps``: ``PATH``; several: ``PATH_eps1e-02.npz``, ... and ``PATH`` (the first), each
    with a JSON sidecar and the keys ``eps`` and ``eps_all``.

    Parameters
    ----------
    result : xarray.Dataset; a :func:`run` result.
    Returns
    -------
    list of (str, xarray.Dataset)
    Examples
    --------
    >>> r = xr.Dataset({"tv": ("eps", [0.1, 0.2])}, coords={"eps": [1e-2, 1e-3]})
    >>> [(suffix, float(d["eps"])) for suffix, d in npz_split(r)]
    [('', 0.01), ('_eps1e-02', 0.01), ('_eps1e-03', 0.001)]
    """
    eps = result["eps"].values

    def one(a):
        return result.isel(eps=a).assign_attrs(eps_all=[float(e) for e in eps])

    return [("", one(0))] + ([(f"_eps{e:.0e}", one(a)) for a, e in enumerate(eps)]
                             if eps.size > 1 else [])


def npz_arrays(result: xr.Dataset) -> dict:
    """``--save-data`` keys of one ``eps`` (:func:`npz_split`; no formula): ``x, width,
    parameterisation, ensemble, lazy_prediction`` (``(parameterisation, width, x)``), ``tv,
    tv_se, kernel_change`` (``(parameterisation, width)``), ``eps, eps_all``.

    Parameters
    ----------
    result : xarray.Dataset; a :func:`run` result, or one part of :func:`npz_split`.
    Returns
    -------
    dict of str to numpy.ndarray
    Examples
    --------
    >>> r = xr.Dataset({k: ("width", [0.0]) for k in ("ensemble", "lazy_prediction", "tv",
    ...                 "tv_se", "kernel_change")}, coords={"x": [0.0], "width": [64],
    ...                 "parameterisation": ["ntk"], "eps": 0.01})
    >>> len(npz_arrays(r)), npz_arrays(r)["eps_all"].tolist()
    (10, [0.01])
    """
    r = result.isel(eps=0) if "eps" in result.dims else result
    out = {k: r[k].values for k in ("x", "width", "ensemble", "lazy_prediction", "tv",
                                    "tv_se", "kernel_change")}
    out["parameterisation"] = np.asarray(r["parameterisation"].values, dtype=str)
    out["eps"] = np.asarray(r["eps"].values, float)
    out["eps_all"] = np.asarray(r.attrs.get("eps_all", [float(out["eps"])]), float)
    return out
