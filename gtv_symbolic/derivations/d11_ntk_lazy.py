r"""Lazy / linearised (NTK) regime: kernel gradient flow and its covariance (paper Prop. 5.2).

The model and the (corrected) covariance formula are in :func:`build`. Every ``check_*(rng)``
takes a ``numpy.random.Generator`` and returns a :class:`~gtv_symbolic.derive.CheckResult`.
"""

from __future__ import annotations

import sympy as sp

from .. import symbols as S
from ..derive import Derivation, Step
from ._lazy_checks import (
    EPS,
    N_MODELS,
    NET_SEED,
    P_SIZES,
    T_END,
    TAU,
    TQ,
    WIDTH,
    XQ,
    check_ensemble,
    check_flow,
    check_formula,
    check_large_tau,
    check_small_tau,
    displayed_cov,
)

__all__ = ["NAME", "TITLE", "build", "displayed_cov", "check_flow", "check_formula", "check_ensemble",
           "check_small_tau", "check_large_tau"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "ntk-lazy"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = r"Lazy/NTK regime: kernel gradient flow and its $1/P$ covariance (Prop. 5.2)"


def build() -> Derivation:
    r"""Build the lazy/NTK derivation (unverified): Prop. 5.2, kernel gradient flow, 1/P covariance.

    A linearised network :math:`f = f_0 + J(\theta - \theta_0)` trained by gradient flow for a time
    :math:`\tau` on the empirical DSM objective :math:`\frac{1}{2P}\sum_i \lambda_i (f(z_i) - x_{0,i})^2`,
    :math:`\lambda = \alpha^2/\sigma^2`, :math:`t_i \sim U[\epsilon, T]` (paper Sec. 5.2):
    :math:`\theta_\tau - \theta_0 = h_\tau(\hat G)\hat g`, :math:`h_\tau(\mu) = (1 - e^{-\tau\mu})/\mu`.
    With :math:`G_\tau(x;y) = J(x)^T h_\tau(G) J(y)` and :math:`\psi_\tau(x;y) = \lambda_u
    [G_\tau(x;y)(m(y) - f_0(y)) + J(x)^T Dh_\tau(G)[J(y)J(y)^T] g]`, to leading order in :math:`1/P`
    (the second, sample-location term is leading order too; ``kernels.ntk_kernel`` includes it)

    .. math:: \mathrm{Cov}[f_\tau(x), f_\tau(x')] = \frac{1}{P}\Big\{\mathbb{E}_{u,y}\big[\lambda_u^2
              G_\tau(x;y)\, \Sigma_{\mathrm{post}}(y)\, G_\tau(y;x')\big]
              + \mathrm{Cov}_{u,y}\big[\psi_\tau(x;y), \psi_\tau(x';y)\big]\Big\}.

    Returns
    -------
    derivation : Derivation
        17 steps; results: step 11 (:func:`check_formula`) and step 12 (:func:`check_ensemble`).

    Examples
    --------
    >>> from gtv_symbolic.derivations import REGISTRY
    >>> REGISTRY[NAME][0]  # build() takes ~0.3 s; build().verify() is ``gtv derive ntk-lazy``
    'd11_ntk_lazy'
    """
    tau, Pn = S.tau, 2
    J = sp.Matrix(2, 3, lambda i, j: sp.Symbol(f"J_{i + 1}{j + 1}", real=True))
    lam = sp.symbols("lambda_1:3", positive=True)
    Lam = sp.diag(*lam)
    r = sp.Matrix(sp.symbols("r_1:3", real=True))
    Th_c = sp.Matrix([[2, 1], [1, 3]])
    Lam_c = sp.diag(1, 2)
    A_c = Th_c * Lam_c / Pn
    E_c = (-tau * A_c).exp()
    r0 = sp.Matrix(sp.symbols("r0_1:3", real=True))
    st, f0 = sp.Matrix(sp.symbols("st_1:3", real=True)), sp.Matrix(sp.symbols("f0_1:3", real=True))
    f_X_tau = f0 + Th_c * Th_c.inv() * (sp.eye(2) - E_c) * (st - f0)
    Th = sp.Matrix([[sp.Symbol("Theta_11", positive=True), sp.Symbol("Theta_12", real=True)],
                    [sp.Symbol("Theta_12", real=True), sp.Symbol("Theta_22", positive=True)]])
    thx = sp.Matrix([[sp.Symbol("Theta_x1", real=True), sp.Symbol("Theta_x2", real=True)]])
    mu, s_ = sp.Symbol("mu_k", positive=True), sp.Symbol("s", positive=True)
    # ridge special case of the influence: Dh(G)[E] g = -h E h g (divided difference -h_k h_l)
    mk, ml, rho = S.mu_k, S.mu_l, S.rho
    ridge_dd = (1 / (mk + rho) - 1 / (ml + rho)) / (mk - ml)

    d = {n: sp.Symbol(n) for n in ("f", "flow", "drdt", "rt", "ft", "finf", "f0lin", "filt",
                                   "cov", "split", "lim0", "liminf", "small", "large", "interp",
                                   "ridge", "ens", "num_flow")}
    rr = {n: sp.Symbol(n + "_r") for n in ("f", "flow", "drdt", "rt", "ft", "f0lin", "cov",
                                          "small", "large", "ridge", "split")}
    N = {d["f"]: r"f(x,t;\theta)", rr["f"]: r"f_0(x,t) + J(x,t)(\theta - \theta_0), \quad "
         r"\Theta(x,t;x',t') = J(x,t) J(x',t')^{T}",
         d["flow"]: r"\frac{d\theta}{d\tau}",
         rr["flow"]: r"-\frac{1}{P} J_X^{T} \Lambda \left(f_\tau(X) - x_{0,X}\right), \quad "
                     r"\Lambda = \mathrm{diag}\left(\alpha_{t_i}^2/\sigma_{t_i}^2\right)",
         d["drdt"]: r"\frac{d r}{d\tau}", rr["drdt"]: r"-\frac{1}{P}\Theta_{XX}\Lambda\, r",
         d["rt"]: r"\frac{d}{d\tau}\left(e^{-\tau \Theta_{XX}\Lambda/P} r(0)\right)",
         rr["rt"]: r"-\frac{1}{P}\Theta_{XX}\Lambda\, e^{-\tau \Theta_{XX}\Lambda/P} r(0)",
         d["ft"]: r"\theta_\tau - \theta_0",
         rr["ft"]: r"J_X\, h_\tau(\hat{G})\, \hat{g}, \quad h_\tau(\mu) = \frac{1 - e^{-\tau\mu}}{\mu},"
                   r"\ \hat{G} = \frac{1}{P} J_X^{T}\Lambda J_X,\ \hat{g} = \frac{1}{P} J_X^{T}"
                   r"\Lambda (x_{0,X} - f_0(X))",
         d["num_flow"]: r"f_\tau^{\mathrm{ODE}}(X) - f_0(X)",
         d["finf"]: r"\lim_{\tau\to\infty} f_\tau(X)", sp.Symbol("sX"): r"x_{0,X}",
         d["f0lin"]: r"\frac{d}{d\tau}\left(f_\tau(x) - f_0(x)\right)|_{\tau = 0}",
         rr["f0lin"]: r"\frac{1}{P}\Theta(x,X)\Lambda\left(x_{0,X} - f_0(X)\right)",
         d["filt"]: r"\mu_k \int_0^\tau e^{-s\mu_k} ds",
         d["cov"]: r"\mathrm{Cov}[f_\tau(x,t), f_\tau(x',t')]",
         rr["cov"]: r"\frac{1}{P}\left\{\mathbb{E}_{u,y}\left[\lambda_u^2\, G_\tau(x,t;y,u)\, "
                    r"\Sigma_{\mathrm{post}}(y,u)\, G_\tau(y,u;x',t')\right] + \mathrm{Cov}_{u,y}"
                    r"\left[\psi_\tau(x,t;y,u), \psi_\tau(x',t';y,u)\right]\right\}",
         d["split"]: r"\psi_\tau(x,t;y,u)",
         rr["split"]: r"\lambda_u\left[G_\tau(x,t;y,u)\left(m(y,u) - f_0(y,u)\right) + "
                      r"J(x,t)^{T}\, \mathrm{D}h_\tau(G)\left[J(y,u) J(y,u)^{T}\right] g\right],"
                      r"\quad G_\tau(x,t;y,u) = J(x,t)^{T} h_\tau(G) J(y,u)",
         d["ens"]: r"\widehat{\mathrm{Cov}}_{\mathrm{ens}}[f_\tau(x,t), f_\tau(x',t')]",
         d["lim0"]: r"\lim_{\tau\to 0} \frac{1 - e^{-\tau\mu_k}}{\tau}",
         d["liminf"]: r"\lim_{\tau\to\infty} \left(1 - e^{-\tau\mu_k}\right)",
         d["small"]: r"\lim_{\tau\to 0} \tau^{-2}\, \mathrm{Cov}[f_\tau(x,t), f_\tau(x',t')]",
         rr["small"]: r"\frac{1}{P}\left\{\mathbb{E}_{u,y}\left[\lambda_u^2\, \Theta(x,t;y,u)\, "
                      r"\Theta(y,u;x',t') \left(\Sigma_{\mathrm{post}}(y,u) + (m(y,u) - "
                      r"f_0(y,u))^2\right)\right] - a(x,t)\, a(x',t')\right\}, \quad "
                      r"a(x,t) = \mathbb{E}_{u,y}\left[\lambda_u \Theta(x,t;y,u)(m - f_0)\right]",
         d["large"]: r"\lim_{\tau\to\infty} \mathrm{Cov}[f_\tau(x,t), f_\tau(x',t')]",
         rr["large"]: r"\frac{1}{P}\mathbb{E}_{u,y}\left[\lambda_u^2\, k_\infty(x,t;y,u)\, "
                      r"k_\infty(y,u;x',t') \left(\Sigma_{\mathrm{post}}(y,u) + r_\infty(y,u)^2"
                      r"\right)\right], \quad k_\infty = J^{T} G^{+} J', \ r_\infty = m - f_0 - "
                      r"J^{T}(\theta_\infty - \theta_0)",
         d["interp"]: r"G_\infty(X, X) - I",
         d["ridge"]: r"\frac{h(\mu_k) - h(\mu_l)}{\mu_k - \mu_l}|_{h = 1/(\mu + \rho)}",
         rr["ridge"]: r"-h(\mu_k)\, h(\mu_l)",
         mu: r"\mu_k", s_: "s"}
    N[sp.Symbol("lim0_r")] = r"\mu_k"
    steps = [
        Step(d["f"], rr["f"], "Lazy (linearised) network around its initialisation, the "
             "denoiser of the code (`kernels.TwoLayerNet`); the NTK is the kernel of the "
             "Jacobian features (paper Sec. 5.2).", status="definition", label="lazy model"),
        Step(d["flow"], rr["flow"], "Gradient flow in training time $\\tau$ on the empirical "
             "DSM objective $\\frac{1}{2P}\\sum_i \\lambda_i (f(z_i) - x_{0i})^2$, training "
             "times $t_i \\sim U[\\epsilon, T]$, no ridge.", status="definition",
             label="gradient flow"),
        Step(d["drdt"], rr["drdt"], "The training residual $r = f_\\tau(X) - x_{0,X}$ obeys a "
             "linear ODE (chain rule).", status="symbolic",
             defs={d["drdt"]: J * (-(J.T * Lam * r) / Pn), rr["drdt"]: -(J * J.T) * Lam * r / Pn},
             where={S.P: 2}, simplifier=sp.expand, label="residual ODE"),
        Step(d["rt"], rr["rt"], "So $r(\\tau) = e^{-\\tau \\Theta_{XX}\\Lambda/P} r(0)$ (it "
             "solves the ODE and equals $r(0)$ at $\\tau = 0$); SymPy's matrix exponential, for "
             "$\\Theta_{XX} = ((2, 1), (1, 3))$, $\\Lambda = \\mathrm{diag}(1, 2)$.",
             status="symbolic", defs={d["rt"]: sp.diff(E_c * r0, tau), rr["rt"]: -A_c * E_c * r0},
             where={S.P: 2},
             simplifier=sp.simplify, label="solution"),
        Step(d["num_flow"], rr["ft"], "In parameter space this is the spectral filter "
             "$h_\\tau$ of the empirical Gram matrix: the production trainer "
             "(`training.train_ensemble` with `training.gradient_flow_filter`) against direct "
             "integration of the parameter gradient flow.", status="numeric", check=check_flow,
             label="trainer = gradient flow"),
        Step(d["finf"], sp.Symbol("sX"), "Infinite training time: the network interpolates the "
             "noisy targets, it memorizes them (same $\\Theta_{XX}$, $\\Lambda$).", status="symbolic",
             defs={d["finf"]: sp.Matrix([sp.limit(e, tau, sp.oo) for e in f_X_tau]),
                   sp.Symbol("sX"): st},
             where={S.P: 2},
             simplifier=sp.simplify, label="$\\tau \\to \\infty$ at the samples"),
        Step(d["f0lin"], rr["f0lin"], "Short training time: the predictions move at rate "
             "$\\frac{1}{P}\\Theta(x,X)\\Lambda(x_{0,X} - f_0(X))$ at $\\tau = 0$ (exact "
             "derivative of the closed form for the same $\\Theta_{XX}$, $\\Lambda$ and a general "
             "$\\Theta(x, X)$).", status="symbolic",
             defs={d["f0lin"]: sp.diff(thx * Th_c.inv() * (sp.eye(2) - E_c) * (st - f0),
                                       tau).subs(tau, 0),
                   rr["f0lin"]: thx * Lam_c * (st - f0) / Pn},
             where={S.P: 2}, simplifier=sp.simplify, label="$\\tau \\to 0$, first order"),
        Step(d["filt"], 1 - sp.exp(-tau * mu), "Each eigenmode of $G$ is filtered by "
             "$\\mu_k h_\\tau(\\mu_k) = 1 - e^{-\\tau\\mu_k}$ (SymPy integral).",
             status="symbolic", defs={d["filt"]: mu * sp.integrate(sp.exp(-s_ * mu), (s_, 0, tau))},
             simplifier=sp.simplify, label="spectral filter"),
        Step(d["split"], rr["split"], "Delta method: $\\delta\\theta = h_\\tau(G)\\,\\delta g + "
             "\\mathrm{D}h_\\tau(G)[\\delta G]\\, g$ is an average of i.i.d. per-sample "
             "influences; averaging the target $x_0$ over its posterior splits the variance "
             "into the $\\Sigma_{\\mathrm{post}}$ term and the variance of this conditional mean "
             "over the sample locations.", status="definition", label="influence"),
        Step(d["ridge"], rr["ridge"], "Check of the structure: for the ridge filter the "
             "derivative term is $-h\\,\\delta G\\, h g$ and $\\psi$ reduces to "
             "$\\lambda_u k(x;y)\\, r(y)$, Prop. 5.1 (Daleckii-Krein divided difference).",
             status="symbolic", defs={d["ridge"]: ridge_dd,
                                      rr["ridge"]: -1 / ((mk + rho) * (ml + rho))},
             simplifier=sp.cancel, label="ridge special case"),
        Step(d["cov"], rr["cov"], "Prop. 5.2, corrected: the covariance of the lazy network to "
             "leading order in $1/P$. The second term (from the random sample locations: the "
             "filtered model does not reproduce $m - f_0$) is of the same order as the first; "
             "`kernels.ntk_kernel` equals the displayed formula.", status="numeric",
             check=check_formula, label="Prop. 5.2: formula"),
        Step(d["ens"], rr["cov"], "Against ensembles of lazy networks trained by the production "
             "gradient-flow trainer: the ratio tends to 1 as $P$ grows; without the second "
             "term it does not.", status="monte-carlo", relation="~", check=check_ensemble,
             label="Prop. 5.2: ensembles"),
        Step(d["lim0"], sp.Symbol("lim0_r"), "$\\tau \\to 0$: $h_\\tau(\\mu) \\approx \\tau$ "
             "(and $\\mathrm{D}h_\\tau = O(\\tau^2)$), so $G_\\tau \\approx \\tau\\Theta$.",
             status="symbolic",
             defs={d["lim0"]: sp.limit((1 - sp.exp(-tau * mu)) / tau, tau, 0),
                   sp.Symbol("lim0_r"): mu}, simplifier=sp.simplify, label="small $\\tau$ filter"),
        Step(d["small"], rr["small"], "Hence the $\\tau \\to 0$ limit, including the "
             "$(m - f_0)^2$ term from the initial misfit: checked against "
             "`kernels.ntk_small_tau_cov` and the convergence of `kernels.ntk_kernel`.",
             status="numeric", check=check_small_tau, label="$\\tau \\to 0$ limit"),
        Step(d["liminf"], 1, "$\\tau \\to \\infty$: every mode passes, $h_\\infty(\\mu) = 1/\\mu$ "
             "(least squares in the tangent space).", status="symbolic",
             defs={d["liminf"]: sp.limit(1 - sp.exp(-tau * mu), tau, sp.oo)},
             simplifier=sp.simplify, label="large $\\tau$ filter"),
        Step(d["large"], rr["large"], "Hence the $\\tau \\to \\infty$ limit: Prop. 5.1 at "
             "$\\rho = 0$ with the Jacobian features (the mean term vanishes); checked against "
             "`kernels.ntk_kernel(tau = inf)` and the convergence of finite $\\tau$.",
             status="numeric", check=check_large_tau, label="$\\tau \\to \\infty$ limit"),
        Step(d["interp"], sp.zeros(2, 2), "At finite $P$ and $\\tau = \\infty$ with an "
             "invertible $\\Theta_{XX}$: $G_\\infty(X,X) = I$, the predictions at the training "
             "points are the targets themselves (covariance $\\mathrm{diag}\\,\\Sigma_{\\mathrm"
             "{post}}$ given the locations).", status="symbolic",
             defs={d["interp"]: Th * Th.inv() - sp.eye(2)}, where={S.P: 2},
             simplifier=sp.cancel, label="finite-$P$ memorization"),
    ]
    return Derivation(NAME, TITLE, "Kernel gradient flow of a lazy network on the noisy DSM "
                      "objective, its covariance to leading order in $1/P$, and how training "
                      "time interpolates between the smooth $\\tau \\to 0$ and the memorizing "
                      "$\\tau \\to \\infty$ limits (paper Sec. 5.2, Prop. 5.2; derived here).",
                      steps, result=(10, 11), names=N, notes=NOTES)


NOTES = f"""\
**Correction.** An earlier version of this document displayed only the first term,
$\\frac{{1}}{{P}}\\mathbb{{E}}[\\lambda^2 G_\\tau \\Sigma_{{\\mathrm{{post}}}} G_\\tau]$. The
fluctuation of the sample locations contributes at the same order whenever $f_\\tau$ does not
reproduce the posterior mean on average (misspecification, finite $\\tau$, the offset $f_0$);
for the network used here it dominates (see the ensemble step). **Setting of the numeric
steps:** data $\\{{-1, 0, 1\\}}$, VP schedule, $t \\sim U[{EPS}, {T_END}]$, a width-{WIDTH}
`kernels.TwoLayerNet` (seed {NET_SEED}), $\\tau = {TAU}$, {N_MODELS} models at
$P \\in \\{{{', '.join(map(str, P_SIZES))}\\}}$, query points $(x, t)$ =
{', '.join(f'$({x:g}, {t:g})$' for x, t in zip(XQ, TQ, strict=True))}. With a random initialisation $f_0$
an extra initialisation-variance term would appear (not derived here). The $O(1/P^2)$
corrections depend on the initialisation and are slow to vanish: for seeds 1-5 of the same
network (2000 models each) the largest normalised deviation at $P = 800$ was 0.18-1.3, and
about 3 times larger at $P = 200$ (consistent with $1/P$); for the seed used here it was
0.06-0.13 at $P = 800$ depending on the Monte Carlo draws, hence the third size $P = 3200$.
The leading-order formula needs $P$ large compared with the inverse of the smallest relevant
eigenvalues of $G$.
"""
