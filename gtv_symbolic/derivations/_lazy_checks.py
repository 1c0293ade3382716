r"""The numeric checks of the lazy/NTK derivation (:mod:`.d11_ntk_lazy`) and their setting."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from .. import data as data_mod
from .. import kernels, training
from ..derive import CheckResult, compare_close
from . import _common as c
from ._scaling import compare_scaling_all

EPS, T_END, WIDTH, NET_SEED = 1e-2, 1.0, 4, 0
TAU = 5.0
P_SIZES = (200, 800, 3200)
N_MODELS = 1500
XQ = np.array([-1.0, 0.0, 0.5])
TQ = np.array([0.1, 0.1, 0.3])


@lru_cache(maxsize=None)
def _nodes():
    """Production quadrature nodes of the training law (built once; about 2 s)."""
    return kernels.training_nodes(data_mod.three_points(), c.vp(), EPS, T_END)


def _net():
    return kernels.TwoLayerNet(WIDTH, eps=EPS, T=T_END, rng=np.random.default_rng(NET_SEED))


def _h_matrix(G, tau):
    """``h_tau(G) = int_0^tau e^{-s G} ds`` by one block matrix exponential (no eigenbasis)."""
    F = G.shape[0]
    if np.isinf(tau):
        return np.linalg.pinv(G, rcond=1e-12, hermitian=True)
    blk = np.zeros((2 * F, 2 * F))
    blk[:F, :F], blk[:F, F:] = -G, np.eye(F)
    return expm(tau * blk)[:F, F:]


def _population(net, tau):
    """G = E[lam J J^T], g = E[lam J (m - f0)] on the nodes, and h_tau(G)."""
    nd = _nodes()
    J = net.jacobian(nd.y[:, 0], nd.u)
    f0 = net(nd.y[:, 0], nd.u)[:, 0]
    wl = nd.w * nd.lam
    G = (J * wl[:, None]).T @ J
    G = 0.5 * (G + G.T)
    g = (J * wl[:, None]).T @ (nd.m[:, 0] - f0)
    return nd, J, f0, G, g, _h_matrix(G, tau)


def displayed_cov(x, t, P, tau, net=None):
    r"""The displayed corrected Prop. 5.2 formula, evaluated by quadrature (function space).

    .. math:: \mathrm{Cov}_{ab} = \tfrac{1}{P}\big\{\mathbb{E}[\lambda_u^2 G_\tau(x_a;y)
              \Sigma_{\mathrm{post}}(y) G_\tau(y;x_b)] + \mathrm{Cov}[\psi_\tau(x_a;y), \psi_\tau(x_b;y)]
              \big\}

    (notation of :func:`build`) on the production quadrature nodes of the training law.
    ``Dh_tau(G)[E] g`` is a central finite difference of the matrix function (step 1e-6),
    independent of the Daleckii-Krein divided differences used by ``kernels.ntk_kernel``.

    Parameters
    ----------
    x, t : array_like, shape (a,), query points and times in ``(0, 1]``
    P : int, training-set size (``>= 1``)
    tau : float, training time (``> 0``; ``numpy.inf``: the least-squares limit)
    net : kernels.TwoLayerNet, optional (default: the checks' width-``WIDTH`` net)

    Returns
    -------
    full, c_term : numpy.ndarray, shape (a, a), the covariance and its C-term (the first term) alone

    Examples
    --------
    One evaluation takes about 2.5 s (it is :func:`check_formula`'s reference):

    >>> import inspect
    >>> list(inspect.signature(displayed_cov).parameters)
    ['x', 't', 'P', 'tau', 'net']
    """
    net = net or _net()
    nd, J, f0, G, g, hG = _population(net, tau)
    Jx = net.jacobian(np.asarray(x, float), np.asarray(t, float))  # (a, F)
    F = G.shape[0]
    # M_a = d/dE [J(x_a)^T h(G + E) g] as an F x F matrix (linear in E)
    step = 1e-6 * np.abs(G).max()
    Mx = np.zeros((Jx.shape[0], F, F))
    for i in range(F):
        for j in range(i, F):
            E = np.zeros((F, F))
            E[i, j] = E[j, i] = step
            d = (_h_matrix(G + E, tau) - _h_matrix(G - E, tau)) @ g / (2 * step)
            v = Jx @ d
            if i == j:
                Mx[:, i, i] = v
            else:
                Mx[:, i, j] = Mx[:, j, i] = v / 2
    Gxy = Jx @ hG @ J.T  # G_tau(x_a; y_n)
    dk = np.einsum("nf,afg,ng->an", J, Mx, J)
    psi = nd.lam[None, :] * (Gxy * (nd.m[:, 0] - f0)[None, :] + dk)
    w = nd.w
    Epsi = psi @ w
    mis = (psi * w) @ psi.T - np.outer(Epsi, Epsi)
    cterm = (Gxy * (w * nd.lam**2 * nd.cov[:, 0, 0])) @ Gxy.T
    return (cterm + mis) / P, cterm / P


def _kernel_cov(k, net, x, t):
    Jx = net.jacobian(x, t)
    return Jx @ k.cov_W[0, :, 0, :] @ Jx.T


def check_flow(rng: np.random.Generator) -> CheckResult:
    r"""``training.train_ensemble`` + ``training.gradient_flow_filter`` vs solve_ivp of the parameter flow.

    Passes iff :math:`J\theta_\tau` of the production trainer and of LSODA (rtol 1e-11) for
    :math:`\dot\theta = -\frac1P J^T\Lambda(f_0 + J\theta - x_0)`, :math:`\theta(0) = 0`, agree at the
    :math:`P = 12` training points, :math:`\tau \in \{0.5, 5\}` (rtol 1e-6, atol 1e-8).

    Parameters
    ----------
    rng : numpy.random.Generator

    Returns
    -------
    result : CheckResult

    Examples
    --------
    >>> r = check_flow(np.random.default_rng(0))
    >>> r.ok, r.residual < 1e-6
    (True, True)
    """
    mu, vp, net = data_mod.three_points(), c.vp(), _net()
    P, taus = 12, (0.5, 5.0)
    seed = int(rng.integers(2**31))
    got, ref = [], []
    for tau in taus:
        W = training.train_ensemble(net.jacobian, mu, vp, P=P, n_models=1, eps=EPS, T=T_END,
                                    filt=training.gradient_flow_filter(tau), offset=net,
                                    rng=np.random.default_rng(seed))[0, 0]
        ts = training.sample_training_set(mu, vp, P=P, eps=EPS, T=T_END,
                                          rng=np.random.default_rng(seed).spawn(1)[0])
        x, t, x0 = ts["x"], ts["t"], ts["x0"]
        Jx = net.jacobian(x[:, 0], t)
        f0 = net(x[:, 0], t)[:, 0]
        lam = vp.snr_weight(t)

        def rhs(_, th, Jx=Jx, f0=f0, lam=lam, y=x0[:, 0]):
            return -(Jx.T @ (lam * (f0 + Jx @ th - y))) / P

        sol = solve_ivp(rhs, (0, tau), np.zeros(Jx.shape[1]), method="LSODA", rtol=1e-11,
                        atol=1e-12)
        got.append(Jx @ W)
        ref.append(Jx @ sol.y[:, -1])
    return compare_close(np.array(got), np.array(ref), rtol=1e-6, atol=1e-8,
                         what=f"lazy net (width {WIDTH}, {4 * WIDTH} parameters), one training "
                              f"set of P = {P} DSM samples (t ~ U[eps, T]), tau in {taus}: "
                              "`training.train_ensemble` with `training.gradient_flow_filter` vs "
                              "solve_ivp of d theta/d tau = -(1/P) J^T Lambda (f - x0) (rtol "
                              "1e-11), f_tau - f0 at the training points")


def check_formula(rng: np.random.Generator) -> CheckResult:
    r"""``kernels.ntk_kernel`` covariance vs the displayed corrected formula (quadrature).

    Passes iff :math:`J(x_a)^T \mathrm{Cov}_\theta J(x_b)` of ``ntk_kernel`` equals
    :func:`displayed_cov` within rtol 1e-5 at all pairs of ``XQ, TQ`` (``TAU``, ``P_SIZES[0]``).

    Parameters
    ----------
    rng : numpy.random.Generator
        Unused (the check is deterministic); the signature of every check.

    Returns
    -------
    result : CheckResult

    Examples
    --------
    The check evaluates :func:`displayed_cov` (about 2.5 s); ``gtv derive ntk-lazy`` runs it:

    >>> TAU, P_SIZES[0], XQ.size
    (5.0, 200, 3)
    """
    mu, vp, net = data_mod.three_points(), c.vp(), _net()
    P = P_SIZES[0]
    k = kernels.ntk_kernel(net, mu, vp, P=P, tau=TAU, eps=EPS, T=T_END, nodes=_nodes())
    full, _ = displayed_cov(XQ, TQ, P, TAU, net)
    return compare_close(_kernel_cov(k, net, XQ, TQ), full, rtol=1e-5,
                         atol=1e-7 * np.abs(full).max(),
                         what=f"`kernels.ntk_kernel` (tau = {TAU}, P = {P}) vs the displayed "
                              "formula (training-law quadrature, h_tau(G) by a block matrix "
                              "exponential, its derivative by finite differences), all pairs of "
                              f"{len(XQ)} points (x, t)")


def check_ensemble(rng: np.random.Generator) -> CheckResult:
    r"""Trained lazy ensembles at three P vs ``kernels.ntk_kernel``: ratio -> 1 as P grows.

    Passes iff :math:`1 + (\widehat{\mathrm{Cov}}_{ab} - \mathrm{Cov}_{ab}) / \sqrt{\mathrm{Var}_a
    \mathrm{Var}_b} \to 1` for all pairs (:func:`~gtv_symbolic.derive.compare_scaling`), with
    ``N_MODELS`` nets per :math:`P \in` ``P_SIZES`` at ``TAU``; about 10 s.

    Parameters
    ----------
    rng : numpy.random.Generator
        Seeds the check's random draws.

    Returns
    -------
    result : CheckResult

    Examples
    --------
    The check trains ``N_MODELS`` networks at each of ``P_SIZES`` (about 10 s); ``gtv derive
    ntk-lazy`` runs it:

    >>> N_MODELS, P_SIZES
    (1500, (200, 800, 3200))
    """
    mu, vp, net = data_mod.three_points(), c.vp(), _net()
    Jq = net.jacobian(XQ, TQ)
    iu = np.triu_indices(len(XQ))
    ratios, ses, old = [], [], []
    for P, r in zip(P_SIZES, rng.spawn(len(P_SIZES)), strict=True):
        W = training.train_ensemble(net.jacobian, mu, vp, P=P, n_models=N_MODELS, eps=EPS,
                                    T=T_END, filt=training.gradient_flow_filter(TAU),
                                    offset=net, rng=r)
        v = np.einsum("ndf,pf->np", W, Jq)
        d = v - v.mean(0)
        cov_e = d.T @ d / (len(v) - 1)
        se = (d[:, :, None] * d[:, None, :]).std(0, ddof=1) / np.sqrt(len(v))
        k = kernels.ntk_kernel(net, mu, vp, P=P, tau=TAU, eps=EPS, T=T_END, nodes=_nodes())
        cov_f = _kernel_cov(k, net, XQ, TQ)
        scale = np.sqrt(np.outer(np.diag(cov_f), np.diag(cov_f)))
        ratios.append((1 + (cov_e - cov_f) / scale)[iu])
        ses.append((se / scale)[iu])
        c_only = Jq[0] @ k.parts["C_term"][0, :, 0, :] @ Jq[0]
        old.append(cov_e[0, 0] / c_only)
    res = compare_scaling_all(P_SIZES, ratios, ses,
                          what=f"{N_MODELS} lazy nets per P (width {WIDTH}) trained by "
                               "`training.train_ensemble` with `training.gradient_flow_filter`"
                               f"(tau = {TAU}), t ~ U[eps, T]; 1 + (empirical - "
                               "`kernels.ntk_kernel`) / sqrt(Var_a Var_b) for all pairs of "
                               f"{len(XQ)} points (x, t)")
    return CheckResult(res.ok, res.detail + "; the C-term alone gives empirical/formula = "
                       + ", ".join(f"{o:.1f}" for o in old) + f" at x = {XQ[0]:g} "
                       f"(P = {', '.join(map(str, P_SIZES))})")


def check_small_tau(rng: np.random.Generator) -> CheckResult:
    r"""Cov(tau)/tau^2 from ``kernels.ntk_kernel`` -> ``kernels.ntk_small_tau_cov``, and that = formula.

    :math:`\mathrm{Cov}_\tau/\tau^2 \to \frac1P\{\mathbb{E}[\lambda^2\Theta\Theta(\Sigma_{\mathrm{post}} +
    (m - f_0)^2)] - \mathbb{E}[\lambda\Theta(m - f_0)]\mathbb{E}[\cdot]^T\}`, :math:`\Theta = J^TJ`:
    limit rel. error < 1e-8; first order in :math:`\tau` at 1e-2, 1e-3 (error < 1e-2).

    Parameters
    ----------
    rng : numpy.random.Generator
        Seeds the check's random draws.

    Returns
    -------
    result : CheckResult

    Examples
    --------
    >>> check_small_tau(np.random.default_rng(0)).ok  # builds the quadrature nodes (~2 s)
    True
    """
    mu, vp, net = data_mod.three_points(), c.vp(), _net()
    P = P_SIZES[0]
    small = kernels.ntk_small_tau_cov(net, mu, vp, P=P, eps=EPS, T=T_END, nodes=_nodes())
    Jq = net.jacobian(XQ, TQ)
    lim = Jq @ small @ Jq.T
    errs = []
    taus = (1e-2, 1e-3)
    for tau in taus:
        k = kernels.ntk_kernel(net, mu, vp, P=P, tau=tau, eps=EPS, T=T_END, nodes=_nodes())
        errs.append(np.max(np.abs(_kernel_cov(k, net, XQ, TQ) / tau**2 - lim)) / np.abs(lim).max())
    # the displayed limit: (1/P){E[lam^2 Theta Theta (Sigma_post + (m - f0)^2)] - E E}
    nd = _nodes()
    J = net.jacobian(nd.y[:, 0], nd.u)
    f0 = net(nd.y[:, 0], nd.u)[:, 0]
    Th = Jq @ J.T
    a = Th * (nd.lam * (nd.m[:, 0] - f0))[None, :]
    Ea = a @ nd.w
    disp = ((Th * (nd.w * nd.lam**2 * (nd.cov[:, 0, 0] + (nd.m[:, 0] - f0) ** 2))) @ Th.T
            - np.outer(Ea, Ea)) / P
    fd = np.max(np.abs(lim - disp)) / np.abs(disp).max()
    order = np.log10(errs[0] / errs[1]) if errs[1] > 0 else np.inf
    ok = bool(fd < 1e-8 and errs[1] < 1e-2 and 0.8 < order < 1.2)
    return CheckResult(ok, f"`kernels.ntk_small_tau_cov` vs the displayed limit (quadrature): "
                           f"max rel. error {fd:.0e}; `kernels.ntk_kernel` Cov/tau^2 at tau = "
                           f"{taus[0]:g}, {taus[1]:g}: rel. error {errs[0]:.1e}, {errs[1]:.1e} "
                           f"(observed order {order:.2f} in tau, expected 1; need < 1e-2 at the "
                           "smaller tau)")


def check_large_tau(rng: np.random.Generator) -> CheckResult:
    r"""``kernels.ntk_kernel(tau)`` -> tau = inf, and tau = inf = least-squares formula (rho = 0).

    :math:`\mathrm{Cov}_\infty = \frac1P \mathbb{E}[\lambda^2 k_\infty k_\infty (\Sigma_{\mathrm{post}}
    + r^2)]`, :math:`k_\infty = J^T G^+ J`, :math:`r = m - f_0 - J\theta_*` (rel. error < 1e-6);
    :math:`\tau = 5/\mu_{\min}, 10/\mu_{\min}` approach it (decreasing, < 1e-3).

    Parameters
    ----------
    rng : numpy.random.Generator
        Seeds the check's random draws.

    Returns
    -------
    result : CheckResult

    Examples
    --------
    >>> check_large_tau(np.random.default_rng(0)).ok
    True
    """
    mu, vp, net = data_mod.three_points(), c.vp(), _net()
    P = P_SIZES[0]
    kinf = kernels.ntk_kernel(net, mu, vp, P=P, tau=np.inf, eps=EPS, T=T_END, nodes=_nodes())
    cinf = _kernel_cov(kinf, net, XQ, TQ)
    errs = []
    mu_min = kinf.eig[kinf.eig > 0].min()
    for f in (5.0, 10.0):
        k = kernels.ntk_kernel(net, mu, vp, P=P, tau=f / mu_min, eps=EPS, T=T_END,
                               nodes=_nodes())
        errs.append(np.max(np.abs(_kernel_cov(k, net, XQ, TQ) - cinf)) / np.abs(cinf).max())
    # displayed limit: (1/P) E[lam^2 k_inf k_inf (Sigma_post + r^2)], r = m - f0 - J theta*
    nd, J, f0, G, g, hG = _population(net, np.inf)
    theta = hG @ g
    r = nd.m[:, 0] - f0 - J @ theta
    kxy = net.jacobian(XQ, TQ) @ hG @ J.T
    disp = (kxy * (nd.w * nd.lam**2 * (nd.cov[:, 0, 0] + r**2))) @ kxy.T / P
    fd = np.max(np.abs(cinf - disp)) / np.abs(disp).max()
    ok = bool(fd < 1e-6 and errs[1] < errs[0] and errs[1] < 1e-3)
    return CheckResult(ok, f"`kernels.ntk_kernel(tau = inf)` vs the displayed least-squares "
                           f"limit (quadrature, pseudo-inverse of G): max rel. error {fd:.0e}; "
                           f"finite tau = 5/mu_min, 10/mu_min: rel. distance to tau = inf "
                           f"{errs[0]:.1e}, {errs[1]:.1e} (decreasing, < 1e-3 at the larger)")
