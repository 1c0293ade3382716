r"""The small-noise (linear-noise) expansion behind ``typical.semiclassical_*``.

Linearise the noisy Euler sampler ``x_{k+1} = x_k + dt_k (beta_k x_k + D_k s(x_k, t_k)) + eta_k``
around the deterministic path ``X_k``: ``dx_{k+1} = a_k dx_k + eta_k`` with the step gain
``a_k = 1 + dt_k (beta_k + D_k ds/dx(X_k, t_k))``, so to first order in the noise

.. math::  \delta x_K = \sum_k \left(\prod_{j>k} a_j\right)\eta_k,\qquad
           v(x_T) = \sum_{k,l} \Pi_k \Pi_l\, \mathrm{Cov}[\eta_k, \eta_l],

and ``[q](x) ~ E_{x_T} N(x; X_K(x_T), v(x_T))``. For the naive estimator the noise is white,
``Cov = delta_kl kappa dt_k D_k^2 C(X_k)`` (``typical.semiclassical_naive``); for a linear
denoiser ``eta_k = dt_k D_k (alpha_k/sigma_k^2) dW phi(X_k)`` and ``v = g^T Cov_W g``
(``typical.semiclassical_linear``). This is a linear-noise approximation; it is not claimed to
be the paper's own small-noise formula.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import data as data_mod
from .. import denoisers, grids, kernels, proxy, solvers, typical
from .. import features as features_mod
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_close, fmt_num
from . import _common as c
from ._scaling import compare_scaling_all

N_STEPS_SYM = sp.Symbol("N_steps", integer=True, positive=True)  # number of Euler steps

__all__ = ["NAME", "TITLE", "build", "check_dscore", "check_naive", "check_linear"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "small-noise"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = r"Small-noise (linear-noise) expansion of the typical learned distribution"

EPS = 1e-2
#: naive estimator: kappa values, Euler-Maruyama grid, draws per seed, seed indices (of 13)
KAPPAS, NAIVE_STEPS, N_DRAWS = (0.01, 0.0025, 0.000625), 50, 4000
#: linear model: training-set sizes, Gaussian fields, the figures' 30-step grid
P_SIZES, N_FIELDS, LIN_STEPS, N_X, N_T = (400, 3200), 4000, 30, 4, 4
N_SEEDS, SEED_IDX = 13, np.array([2, 4, 5, 7, 8, 10])  # z = -4, -2, -1, 1, 2, 4 (not 0)


def check_dscore(rng: np.random.Generator) -> CheckResult:
    r"""ds/dx by central differences of ``proxy.true_score`` vs C - 1/sigma^2 (``proxy.covariance``).

    The gain of the linear-noise expansion needs :math:`\partial_x s`; in one dimension, from
    Tweedie's formula and the Hessian form of :math:`C` (paper Sec. 2), at 20 random
    :math:`(x,t)` (data :math:`\{-1,0,1\}`, VP):

    .. math::

        \partial_x s(x,t) = \frac{\alpha_t\, \partial_x m(x,t) - 1}{\sigma_t^2}
            = C(x,t) - \frac{1}{\sigma_t^2},

    both left forms (central differences, :math:`h = 10^{-5}`, and the Jacobian of
    :class:`gtv_symbolic.denoisers.ExactDenoiser`) within rtol :math:`10^{-5}`, atol :math:`10^{-6}`.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all random draws (the derivation passes its seeded Generator).

    Returns
    -------
    result : CheckResult
        ``residual`` is the largest relative error.

    Examples
    --------
    >>> r = check_dscore(np.random.default_rng(0))
    >>> r.ok, r.residual < 1e-5
    (True, True)
    """
    mu, vp = data_mod.three_points(), c.vp()
    x = rng.uniform(-1.5, 1.5, 20)
    t = rng.uniform(0.02, 0.8, 20)
    h = 1e-5
    fd = (proxy.true_score((x + h)[:, None], t, mu, vp)
          - proxy.true_score((x - h)[:, None], t, mu, vp))[:, 0] / (2 * h)
    a, s2 = vp.alpha(t), vp.sigma2(t)
    den = denoisers.ExactDenoiser(mu, vp)
    jac = np.array([den.value_and_jacobian(x[[i]][:, None], float(t[i]))[1][0, 0, 0]
                    for i in range(x.size)])
    ref = proxy.covariance(x[:, None], t, mu, vp)[:, 0, 0] - 1 / s2
    return compare_close(np.r_[fd, (a * jac - 1) / s2], np.r_[ref, ref], rtol=1e-5, atol=1e-6,
                         what="central differences (h = 1e-5) of `proxy.true_score`, and "
                              "(alpha dm/dx - 1)/sigma^2 from the Jacobian of "
                              "`denoisers.ExactDenoiser` (used by `typical.mean_flow`), vs "
                              "`proxy.covariance` - 1/sigma^2 at 20 random (x, t), data "
                              "{-1, 0, 1}, VP")


def check_naive(rng: np.random.Generator) -> CheckResult:
    r"""``typical.semiclassical_naive`` variance vs ``typical.naive_em`` at fixed seeds, kappa -> 0.

    For the naive estimator (white noise, :math:`\mathrm{Cov}[\eta_k,\eta_l] = \delta_{kl}\,
    \kappa\, \Delta t_k D_k^2 C(X_k)`), ``N_DRAWS`` Euler-Maruyama draws per seed (6 seeds away
    from the separatrix, ``NAIVE_STEPS`` geometric steps) for each :math:`\kappa \in` ``KAPPAS``;
    the ratio

    .. math::

        \frac{\mathbb{E}[(x_\epsilon - X_K)^2]}{v(x_T)} \ \to\ 1 \quad (\kappa \to 0)

    in the sense of :func:`gtv_symbolic.derive.compare_scaling` with size :math:`1/\kappa`, for
    every seed.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all random draws (the derivation passes its seeded Generator).

    Returns
    -------
    result : CheckResult
        Detail of the worst seed, plus the median deviations and mean shifts. About 2 s.

    Examples
    --------
    >>> KAPPAS, NAIVE_STEPS, N_DRAWS
    ((0.01, 0.0025, 0.000625), 50, 4000)
    """
    mu, vp = data_mod.three_points(), c.vp()
    ratios, ses, shifts = [], [], []
    for kappa, r in zip(KAPPAS, rng.spawn(len(KAPPAS)), strict=True):
        nk = kernels.NaiveKernel(mu, vp, kappa)
        grid = grids.TimeGrid.geometric(vp, EPS, 1.0, NAIVE_STEPS)
        _, det = typical.semiclassical_naive(nk, grid, np.zeros(1), n_seeds=N_SEEDS)
        xT, v, X = det["x_T"][SEED_IDX], det["var"][SEED_IDX], det["x_end"][SEED_IDX]
        seeds = np.repeat(xT, N_DRAWS)[:, None]
        out = typical.naive_em(nk, grid, n_samples=seeds.shape[0], rng=r, x_T=seeds)
        out = out[:, 0].reshape(xT.size, N_DRAWS)
        d2 = (out - X[:, None]) ** 2
        ratios.append(d2.mean(1) / v)
        ses.append(d2.std(1, ddof=1) / np.sqrt(N_DRAWS) / v)
        shifts.append(np.max(np.abs(out.mean(1) - X) / np.sqrt(v)))
    res = compare_scaling_all([1 / k for k in KAPPAS], ratios, ses,
                              what=f"`typical.naive_em` ({N_DRAWS} draws per seed, "
                                   f"{NAIVE_STEPS} geometric steps, eps = {EPS}) from {SEED_IDX.size}"
                                   " seeds x_T away from the separatrix vs "
                                   "`typical.semiclassical_naive` on the same grid; sizes 1/kappa "
                                   f"for kappa = {', '.join(map(str, KAPPAS))}; ratio "
                                   "E[(x_eps - X)^2] / v")
    med = [np.median(np.abs(np.asarray(r) - 1)) for r in ratios]
    return CheckResult(res.ok, res.detail + "; median |ratio - 1| over the seeds by kappa: "
                       + ", ".join(fmt_num(m) for m in med) + "; max |E[x_eps] - X| / sqrt(v): "
                       + ", ".join(fmt_num(s) for s in shifts), res.residual)


def check_linear(rng: np.random.Generator) -> CheckResult:
    r"""``typical.semiclassical_linear`` variance vs Gaussian fields through the sampler, P grows.

    For a linear denoiser (:math:`v = g^T \mathrm{Cov}_W g`): ``N_FIELDS`` Gaussian fields
    :math:`W \sim N(W_*, \mathrm{Cov}_W/P)` through the 30-step Euler sampler from 6 seeds, for
    :math:`P \in` ``P_SIZES``; the ratio

    .. math::

        \frac{\widehat{\mathrm{Var}}[x_\epsilon \mid x_T]}{v(x_T)} \ \to\ 1 \quad (P \to \infty)

    in the sense of :func:`gtv_symbolic.derive.compare_scaling`, for every seed.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all random draws (the derivation passes its seeded Generator).

    Returns
    -------
    result : CheckResult
        Detail of the worst seed. Takes about 0.7 s.

    Examples
    --------
    >>> P_SIZES, N_FIELDS, LIN_STEPS
    ((400, 3200), 4000, 30)
    """
    mu, vp = data_mod.three_points(), c.vp()
    fm = features_mod.make_features("gaussian", 1, N_X, N_T, EPS)
    K0 = kernels.linear_kernel(fm, mu, vp, P=P_SIZES[0], eps=EPS)
    grid = grids.TimeGrid.linear(vp, EPS, 1.0, LIN_STEPS)
    ratios, ses = [], []
    for P, r in zip(P_SIZES, rng.spawn(len(P_SIZES)), strict=True):
        K = K0.with_P(P)
        _, det = typical.semiclassical_linear(K, grid, np.zeros(1), n_seeds=N_SEEDS)
        xT, v = det["x_T"][SEED_IDX], det["var"][SEED_IDX]
        W = typical.gaussian_field_weights(K, N_FIELDS, r)
        X = np.broadcast_to(xT[None, :, None], (N_FIELDS, xT.size, 1)).copy()
        out = solvers.integrate_pf_ode(denoisers.LinearDenoiser(fm, W), X, grid)[..., 0]
        d = out - out.mean(0)
        var = (d**2).mean(0) * N_FIELDS / (N_FIELDS - 1)
        ratios.append(var / v)
        ses.append((d**2).std(0, ddof=1) / np.sqrt(N_FIELDS) / v)
    return compare_scaling_all(P_SIZES, ratios, ses,
                               what=f"{N_FIELDS} Gaussian fields W ~ N(W*, Cov_W/P) "
                                    "(`typical.gaussian_field_weights`, `kernels.linear_kernel`) "
                                    f"through `solvers.integrate_pf_ode` ({LIN_STEPS} Euler steps) "
                                    f"from {SEED_IDX.size} seeds vs `typical.semiclassical_linear`;"
                                    " sizes P; ratio Var[x_eps] / v")


def build() -> Derivation:
    r"""Build the small-noise derivation (unverified): the linear-noise law of the sampler output.

    Linearising the noisy Euler sampler around its deterministic path :math:`X_k` with step
    gains :math:`a_k = 1 + \Delta t_k(\beta_k + D_k \partial_x s(X_k, t_k))` gives
    :math:`\delta x_K = \sum_k \Pi_k \eta_k`, :math:`\Pi_k = \prod_{j>k} a_j`, and each seed lands
    at a Gaussian around :math:`X_K(x_T)` of variance (what :func:`gtv_symbolic.typical.semiclassical_naive`
    and :func:`gtv_symbolic.typical.semiclassical_linear` compute; a linear-noise approximation,
    not claimed to be the paper's own small-noise formula)

    .. math::

        v(x_T) = \sum_{k,l} \Pi_k \Pi_l\, \mathrm{Cov}[\eta_k, \eta_l], \qquad
        \mathrm{Var}[x_\epsilon \mid x_T] \sim v(x_T).

    Parameters
    ----------
    None

    Returns
    -------
    derivation : Derivation
        9 steps; results: step 8 (naive estimator, :math:`\kappa \to 0`, :func:`check_naive`) and
        step 9 (linear denoiser, :math:`P \to \infty`, :func:`check_linear`).

    Examples
    --------
    >>> d = build()
    >>> len(d.steps), [i + 1 for i in d.result], [s.relation for s in d.result_steps]
    (9, [8, 9], ['~', '~'])
    """
    dt = S.dt
    K = 3
    a = sp.symbols("a_0:3", real=True)
    eta = sp.symbols("eta_0:3", real=True)
    dx0 = sp.Symbol("delta_x0", real=True)
    # linearised recursion over three steps from dx_0 = 0
    dx = sp.Integer(0)
    for k in range(K):
        dx = a[k] * dx + eta[k]
    prods = [sp.Mul(*a[k + 1:]) for k in range(K)]
    sol = sum(prods[k] * eta[k] for k in range(K))
    # one Euler step expanded to first order in (delta x, eta)
    xk, bk, Dk, ek = (sp.Symbol(n, real=True) for n in ("X_k", "beta_k", "D_k", "epsilon_n"))
    sfun = sp.Function("s")
    step = lambda z: z + dt * (bk * z + Dk * sfun(z))  # noqa: E731
    lin = sp.diff(step(xk + ek * dx0), ek).subs(ek, 0)
    gain = (1 + dt * (bk + Dk * sp.Subs(sp.Derivative(sfun(xk), xk), xk, xk).doit())) * dx0
    # variances: white noise (naive) and a linear-model field (F = 2)
    kap, Dsym = S.kappa, sp.symbols("D_0:3", positive=True)
    Cs, dts = sp.symbols("C_0:3", positive=True), sp.symbols("Delta_t0:3", positive=True)
    cov_white = sp.diag(*[kap * dts[k] * Dsym[k] ** 2 * Cs[k] for k in range(K)])
    Pi = sp.Matrix(prods)
    v_white = (Pi.T * cov_white * Pi)[0, 0]
    v_naive = sum(prods[k] ** 2 * kap * dts[k] * Dsym[k] ** 2 * Cs[k] for k in range(K))
    F = 2
    cw = sp.Matrix(F, F, lambda i, j: sp.Symbol(f"c_{min(i, j) + 1}{max(i, j) + 1}", real=True))
    phis = [sp.Matrix([sp.Symbol(f"phi_{k}{f + 1}", real=True) for f in range(F)]) for k in range(K)]
    cfs = sp.symbols("b_0:3", real=True)  # dt_k D_k alpha_k / sigma_k^2
    # eta_k = b_k dW . phi_k, Cov[eta_k, eta_l] = b_k b_l phi_k^T Cov_W phi_l
    cov_lin = sp.Matrix(K, K, lambda i, j: cfs[i] * cfs[j] * (phis[i].T * cw * phis[j])[0, 0])
    v_lin_def = (Pi.T * cov_lin * Pi)[0, 0]
    g = sum((prods[k] * cfs[k] * phis[k] for k in range(K)), sp.zeros(F, 1))
    v_lin = (g.T * cw * g)[0, 0]

    Y = sp.Symbol
    N = {N_STEPS_SYM: "K", Y("model"): r"x_{k+1}",
         Y("model_r"): r"x_k + \Delta t_k\left(\beta_k x_k + D_k s(x_k, t_k)\right) + \eta_k",
         Y("lin"): r"\frac{\partial}{\partial \epsilon}\, \Phi_k(X_k + \epsilon\, \delta x_k)"
                   r"|_{\epsilon = 0}",
         Y("lin_r"): r"a_k\, \delta x_k, \quad a_k = 1 + \Delta t_k\left(\beta_k + D_k "
                     r"\partial_x s(X_k, t_k)\right)",
         Y("rec"): r"\delta x_3", Y("rec_r"): r"\sum_{k=0}^{2} \left(\prod_{j>k} a_j\right) \eta_k",
         Y("ds"): r"\partial_x s(x,t)", Y("ds_r"): r"C(x,t) - \frac{1}{\sigma_t^2}",
         Y("vw"): r"\mathrm{Var}[\delta x_3]_{\mathrm{naive}}",
         Y("vw_r"): r"\sum_k \left(\prod_{j>k} a_j\right)^2 \kappa\, \Delta t_k D_k^2 C(X_k, t_k)",
         Y("vl"): r"\mathrm{Var}[\delta x_3]_{\mathrm{linear}}",
         Y("vl_r"): r"g^{T} \mathrm{Cov}[W]\, g, \quad g = \sum_k \left(\prod_{j>k} a_j\right) "
                    r"\frac{\Delta t_k D_k \alpha_k}{\sigma_k^2} \phi(X_k, t_k)",
         Y("q"): r"[q(x)]",
         Y("q_r"): r"\mathbb{E}_{x_T}\left[\mathcal{N}\left(x;\, X_K(x_T),\, v(x_T)\right)\right]",
         Y("qn"): r"\mathrm{Var}[x_\epsilon \mid x_T]_{\mathrm{naive\ EM}}",
         Y("ql"): r"\mathrm{Var}[x_\epsilon \mid x_T]_{\mathrm{Gaussian\ field}}",
         Y("v"): r"v(x_T)", dx0: r"\delta x_k", ek: r"\epsilon", xk: "X_k"}
    steps = [
        Step(Y("model"), Y("model_r"), "The sampler with a small random perturbation $\\eta_k$ of "
             "each Euler step: for the naive estimator $\\eta_k = \\sqrt{\\kappa \\Delta t_k} D_k "
             "(\\tilde{s} - s)$, for a linear denoiser ensemble $\\eta_k = \\Delta t_k D_k "
             "(\\alpha_k/\\sigma_k^2)\\, \\delta W \\phi(x_k, t_k)$.", status="definition",
             label="noisy sampler"),
        Step(Y("lin"), Y("lin_r"), "First order around the deterministic path $X_k$, with "
             "$\\Phi_k(x) = x + \\Delta t_k(\\beta_k x + D_k s(x, t_k))$ the Euler map "
             "(`typical.mean_flow` computes $X_k$ and $a_k$).", status="symbolic",
             defs={Y("lin"): lin, Y("lin_r"): gain}, simplifier=sp.simplify, label="linearised step"),
        Step(Y("rec"), Y("rec_r"), "Solving $\\delta x_{k+1} = a_k \\delta x_k + \\eta_k$ from "
             "$\\delta x_0 = 0$ (three steps).", status="symbolic",
             defs={Y("rec"): dx, Y("rec_r"): sol}, where={N_STEPS_SYM: 3}, simplifier=sp.expand,
             label="propagated noise"),
        Step(Y("ds"), Y("ds_r"), "The gain needs $\\partial_x s$: with $s = (\\alpha m - x)/\\sigma^2$ "
             "and $\\partial_x m = \\alpha \\Sigma_{\\mathrm{post}}/\\sigma^2$ it is $C - 1/\\sigma^2$ "
             "(`typical.mean_flow` uses the Jacobian of the exact denoiser).", status="numeric",
             check=check_dscore, label="$\\partial_x s$"),
        Step(Y("vw"), Y("vw_r"), "Naive estimator: white noise, $\\mathrm{Cov}[\\eta_k, \\eta_l] = "
             "\\delta_{kl}\\kappa \\Delta t_k D_k^2 C(X_k, t_k)$ (Prop. 4.1), so the output "
             "variance is a single sum.", status="symbolic",
             defs={Y("vw"): v_white, Y("vw_r"): v_naive}, where={N_STEPS_SYM: 3},
             simplifier=sp.expand, label="naive variance"),
        Step(Y("vl"), Y("vl_r"), "Linear denoiser: the noise of all steps comes from one weight "
             "fluctuation $\\delta W$, so it is coloured; the variance is a quadratic form in "
             "$\\mathrm{Cov}[W]$ (two features, three steps).", status="symbolic",
             defs={Y("vl"): v_lin_def, Y("vl_r"): v_lin}, where={N_STEPS_SYM: 3, S.F: 2},
             simplifier=sp.expand, label="linear-model variance"),
        Step(Y("q"), Y("q_r"), "Linear-noise approximation: each seed lands at a Gaussian around "
             "the end point $X_K(x_T)$ of the deterministic sampler, with the variance above. "
             "It needs $\\sqrt{v}$ small compared with the scale on which the flow map bends, so "
             "it fails for seeds near a separatrix of the mean flow.", status="assumption",
             label="linear-noise approximation"),
        Step(Y("qn"), Y("v"), "Naive estimator: `typical.semiclassical_naive` against "
             "Euler-Maruyama of the same sampler (`typical.naive_em`) on the same grid; the "
             "ratio tends to 1 as $\\kappa \\to 0$.", status="monte-carlo", relation="~",
             check=check_naive, label="naive: small $\\kappa$"),
        Step(Y("ql"), Y("v"), "Linear denoiser: `typical.semiclassical_linear` against Gaussian "
             "fields $W \\sim N(W_*, \\mathrm{Cov}[W])$ pushed through the figures' sampler; the "
             "ratio tends to 1 as $P$ grows ($\\mathrm{Cov}[W] \\propto 1/P$).",
             status="monte-carlo", relation="~", check=check_linear, label="linear: large $P$"),
    ]
    return Derivation(NAME, TITLE, "What `typical.semiclassical_naive` and "
                      "`typical.semiclassical_linear` compute: the output law of the sampler "
                      "to first order in the noise around the deterministic path (a linear-noise "
                      "approximation).", steps, result=(7, 8), names=N, notes=NOTES)


NOTES = f"""\
**Which expansion this is.** A linear-noise approximation: the noise is kept to first order
around the deterministic (mean-score) path, so each seed gives a Gaussian. It is not claimed to
be the paper's own small-noise (semiclassical) formula, whose statement and equation number
could not be read for this project. It differs from a saddle-point evaluation of the path
integral by terms of higher order in the noise, and it fails where the flow map is steep (seeds
near a separatrix of the mean flow: at $x_T = 0$ and $\\kappa = 0.01$, Euler-Maruyama gives a
variance about 20 times the linear-noise value). **Setting:** data $\\{{-1, 0, 1\\}}$, VP,
$\\epsilon = {EPS}$; naive estimator with {NAIVE_STEPS} geometric steps and
$\\kappa \\in \\{{{', '.join(map(str, KAPPAS))}\\}}$; linear denoisers with {N_X} x {N_T} Gaussian
features at $P \\in \\{{{', '.join(map(str, P_SIZES))}\\}}$ on the {LIN_STEPS}-step grid; seeds
$x_T = z \\sigma_T$ with $z \\in \\{{-4, -2, -1, 1, 2, 4\\}}$.
"""
