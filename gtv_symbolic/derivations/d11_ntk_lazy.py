r"""Lazy / infinite-width (NTK) regime: kernel gradient flow and its V-kernel (paper Prop. 5.2).

Linearised network ``f(x,t; theta) = f0 + J (theta - theta0)``, NTK ``Theta = J J^T``; gradient
flow for a training time ``tau`` on the empirical DSM objective (weights ``Lambda = diag(lambda_i)``):

    f_tau(x) = f0(x) + Theta(x, X) Theta_XX^-1 (I - exp(-tau Theta_XX Lambda / P)) (s~_X - f0(X)).

Given the sample locations the targets are independent with covariance C, so
``Cov[f_tau(x), f_tau(x')] = G_tau(x, X) diag(C_i) G_tau(x', X)^T``; for large P this becomes
``(1/P) E[lambda^2 G_tau C G_tau]`` with the spectral filter ``G_tau = sum_k (1 - e^{-tau mu_k}) e_k e_k``
(paper Eqs. (16)-(17) as reconstructed in paper-math.md 6, which this derivation confirms).
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from .. import proxy
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_close, compare_mc
from . import _common as c

NAME = "ntk-lazy"
TITLE = "Lazy/NTK regime: kernel gradient flow and its V-kernel (Prop. 5.2)"


def kernel_flow_predict(theta_xX, theta_XX, lam, targets, tau, f0_x=0.0, f0_X=0.0):
    """``f_tau(x) = f0(x) + Theta(x,X) Theta_XX^-1 (I - expm(-tau Theta_XX Lambda / P)) (y - f0(X))``."""
    G = gain(theta_xX, theta_XX, lam, tau)
    return f0_x + (np.asarray(targets) - f0_X) @ G.T


def gain(theta_xX, theta_XX, lam, tau):
    """``G_tau(x, X) = Theta(x,X) Theta_XX^-1 (I - expm(-tau Theta_XX Lambda / P))``."""
    P = theta_XX.shape[0]
    E = expm(-tau * theta_XX * lam[None, :] / P)
    return theta_xX @ np.linalg.solve(theta_XX, np.eye(P) - E)


def _random_problem(rng, P=4, n_par=6, n_x=2):
    J_X = rng.standard_normal((P, n_par))
    J_x = rng.standard_normal((n_x, n_par))
    lam = rng.uniform(0.3, 2.0, P)
    y = rng.standard_normal(P)
    return J_X, J_x, lam, y


def _flow_check(rng: np.random.Generator) -> CheckResult:
    """Closed form vs direct integration of the parameter-space gradient flow (solve_ivp)."""
    errs, refs = [], []
    for _ in range(5):
        J_X, J_x, lam, y = _random_problem(rng)
        P = len(y)
        tau = rng.uniform(0.5, 5.0)

        def rhs(_, th, J_X, lam, y, P):
            return -(J_X.T @ (lam * (J_X @ th - y))) / P  # f0 = 0, theta0 = 0

        sol = solve_ivp(rhs, (0, tau), np.zeros(J_X.shape[1]), rtol=1e-11, atol=1e-12,
                        args=(J_X, lam, y, P))
        direct = J_x @ sol.y[:, -1]
        closed = kernel_flow_predict(J_x @ J_X.T, J_X @ J_X.T, lam, y, tau)
        errs.append(closed)
        refs.append(direct)
    return compare_close(np.array(errs), np.array(refs), rtol=1e-6, atol=1e-8,
                         what="5 random lazy models (P = 4 samples, 6 parameters, random Lambda, "
                              "tau in [0.5, 5]): closed-form f_tau at 2 query points vs solve_ivp "
                              "of the parameter gradient flow (rtol 1e-11)")


def _residual_ode_check(rng: np.random.Generator) -> CheckResult:
    """d/dtau expm(-tau A) r0 = -A expm(-tau A) r0 for random A = Theta Lambda / P (central differences)."""
    vals, refs = [], []
    for _ in range(10):
        J_X, _, lam, y = _random_problem(rng, P=5, n_par=7)
        A = (J_X @ J_X.T) * lam[None, :] / 5
        tau, h = rng.uniform(0.1, 3.0), 1e-5
        d = (expm(-(tau + h) * A) @ y - expm(-(tau - h) * A) @ y) / (2 * h)
        vals.append(d)
        refs.append(-A @ expm(-tau * A) @ y)
    return compare_close(np.array(vals), np.array(refs), rtol=1e-6, atol=1e-7,
                         what="10 random Theta_XX (P = 5), Lambda; central differences (h = 1e-5) "
                              "of the closed-form residual vs the ODE right-hand side")


def _kernel(xa, ta, xb, tb):
    return (np.exp(-(xa[:, None] - xb[None, :]) ** 2 / (2 * 0.5**2)
                   - (ta[:, None] - tb[None, :]) ** 2 / (2 * 0.3**2)) + 0.1)


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """Ensemble over proxy targets at fixed sample locations vs G diag(C) G^T and G s_X."""
    vp = c.vp()
    data = np.array([[-1.0], [0.0], [1.0]])
    P, n, tau = 12, 20000, 5.0
    u = rng.uniform(0.05, 1.0, P)
    x0 = data[rng.integers(0, 3, P), 0]
    y = vp.alpha(u) * x0 + np.sqrt(vp.sigma2(u)) * rng.standard_normal(P)
    lam = vp.sigma2(u)
    xq, tq = np.array([0.0, 0.5]), np.array([0.2, 0.4])
    G = gain(_kernel(xq, tq, y, u), _kernel(y, u, y, u), lam, tau)
    w = proxy.posterior_weights(y[:, None], u, data, vp)
    C = proxy.covariance(y[:, None], u, data, vp)[:, 0, 0]
    s = proxy.true_score(y[:, None], u, data, vp)[:, 0]
    cum = np.cumsum(w, axis=1)
    idx = (rng.random((n, P, 1)) > cum[None, :, :]).sum(-1)  # posterior draws per sample
    targets = (vp.alpha(u)[None, :] * data[idx, 0] - y[None, :]) / lam[None, :]
    pred = targets @ G.T
    d = pred - pred.mean(0)
    cov_e = d.T @ d / (n - 1)
    cov_f = G @ np.diag(C) @ G.T
    se_cov = np.sqrt((np.outer(np.diag(cov_e), np.diag(cov_e)) + cov_e**2) / n)
    iu = np.triu_indices(2)
    return compare_mc(np.r_[pred.mean(0), cov_e[iu]], np.r_[G @ s, cov_f[iu]],
                      np.r_[np.sqrt(np.diag(cov_e) / n), se_cov[iu]], n=n,
                      what="data {-1, 0, 1}, VP, P = 12 fixed sample locations, Gaussian x "
                           "time kernel, tau = 5; proxy targets redrawn from the posterior; mean "
                           "and covariance of f_tau at 2 points vs G s_X and G diag(C) G^T")


def build() -> Derivation:
    tau, Pn = S.tau, 2
    # symbolic kernel matrices, P = 2
    J = sp.Matrix(2, 3, lambda i, j: sp.Symbol(f"J_{i + 1}{j + 1}", real=True))
    lam = sp.symbols("lambda_1:3", positive=True)
    Lam = sp.diag(*lam)
    r = sp.Matrix(sp.symbols("r_1:3", real=True))
    ode_res = J * (-(J.T * Lam * r) / Pn) + (J * J.T) * Lam * r / Pn

    Th_c = sp.Matrix([[2, 1], [1, 3]])
    Lam_c = sp.diag(1, 2)
    A_c = Th_c * Lam_c / Pn
    E_c = (-tau * A_c).exp()
    r0 = sp.Matrix(sp.symbols("r0_1:3", real=True))
    sol_res = sp.diff(E_c * r0, tau) + A_c * E_c * r0
    st, f0 = sp.Matrix(sp.symbols("st_1:3", real=True)), sp.Matrix(sp.symbols("f0_1:3", real=True))
    f_X_tau = f0 + Th_c * Th_c.inv() * (sp.eye(2) - E_c) * (st - f0)
    inf_res = sp.Matrix([sp.limit(e, tau, sp.oo) for e in f_X_tau]) - st

    Th = sp.Matrix([[sp.Symbol("Theta_11", positive=True), sp.Symbol("Theta_12", real=True)],
                    [sp.Symbol("Theta_12", real=True), sp.Symbol("Theta_22", positive=True)]])
    thx = sp.Matrix([[sp.Symbol("Theta_x1", real=True), sp.Symbol("Theta_x2", real=True)]])
    small_res = thx * Th.inv() * (tau * Th * Lam / Pn) - tau * thx * Lam / Pn

    mu, s_ = sp.Symbol("mu_k", positive=True), sp.Symbol("s", positive=True)
    filt = mu * sp.integrate(sp.exp(-s_ * mu), (s_, 0, tau))
    filt_res = filt - (1 - sp.exp(-tau * mu))
    lim0 = sp.limit((1 - sp.exp(-tau * mu)) / tau, tau, 0)
    liminf = sp.limit(1 - sp.exp(-tau * mu), tau, sp.oo)
    yv, xv, xpv = sp.symbols("y x x'", real=True)
    pfun, Cfun, lfun = sp.Function("p", positive=True), sp.Function("C"), sp.Function("lambda", positive=True)
    delta_int = sp.integrate(pfun(yv) * lfun(yv) ** 2 * sp.DiracDelta(xv - yv) / (lfun(yv) * pfun(yv))
                             * Cfun(yv) * sp.DiracDelta(yv - xpv) / (lfun(yv) * pfun(yv)),
                             (yv, -sp.oo, sp.oo))
    delta_res = delta_int - Cfun(xv) * sp.DiracDelta(xv - xpv) / pfun(xv)
    interp_res = Th * Th.inv() - sp.eye(2)

    N = {sp.Symbol("f"): r"f(x,t;\theta)", sp.Symbol("f_r"): r"f_0(x,t) + J(x,t)(\theta - \theta_0), "
         r"\quad \Theta(x,t;x',t') = J(x,t) J(x',t')^{T}",
         sp.Symbol("flow"): r"\frac{d\theta}{d\tau}",
         sp.Symbol("flow_r"): r"-\frac{1}{P} J_X^{T} \Lambda \left(f_\tau(X) - \tilde{s}_X\right)",
         sp.Symbol("drdt"): r"\frac{d r}{d\tau}", sp.Symbol("drdt_r"): r"-\frac{1}{P}\Theta_{XX}\Lambda\, r",
         sp.Symbol("rt"): r"r(\tau)", sp.Symbol("rt_r"): r"e^{-\tau \Theta_{XX}\Lambda/P} r(0)",
         sp.Symbol("ft"): r"f_\tau(x)",
         sp.Symbol("ft_r"): r"f_0(x) + \Theta(x,X)\,\Theta_{XX}^{-1}\left(I - "
                            r"e^{-\tau\Theta_{XX}\Lambda/P}\right)"
                            r"\left(\tilde{s}_X - f_0(X)\right)",
         sp.Symbol("finf"): r"\lim_{\tau\to\infty} f_\tau(X)", sp.Symbol("sX"): r"\tilde{s}_X",
         sp.Symbol("f0lin"): r"f_\tau(x) - f_0(x)",
         sp.Symbol("f0lin_r"): r"\frac{\tau}{P}\Theta(x,X)\Lambda\left(\tilde{s}_X - f_0(X)\right) "
                               r"+ O(\tau^2)",
         sp.Symbol("ccov"): r"\mathrm{Cov}[f_\tau(x), f_\tau(x') \mid X]",
         sp.Symbol("ccov_r"): r"G_\tau(x,X)\, \mathrm{diag}\left(C(y_i,u_i)\right)\, G_\tau(x',X)^{T}, \quad "
                              r"G_\tau(x,X) = \Theta(x,X)\Theta_{XX}^{-1}\left(I - "
                              r"e^{-\tau\Theta_{XX}\Lambda/P}\right)",
         sp.Symbol("filt"): r"\mu_k \int_0^\tau e^{-s\mu_k} ds",
         sp.Symbol("cov"): r"\mathrm{Cov}[f_\tau(x,t), f_\tau(x',t')]",
         sp.Symbol("cov_r"): r"\frac{1}{P}\mathbb{E}_{u,y}\left[\lambda_u^2\, G_\tau(x,t;y,u)\, C(y,u)\, "
                             r"G_\tau(y,u;x',t')\right], \quad G_\tau = \sum_k (1 - "
                             r"e^{-\tau\mu_k}) e_k \otimes e_k",
         sp.Symbol("lim0"): r"\lim_{\tau\to 0} \frac{1 - e^{-\tau\mu_k}}{\tau}",
         sp.Symbol("liminf"): r"\lim_{\tau\to\infty} \left(1 - e^{-\tau\mu_k}\right)",
         sp.Symbol("dint"): r"\mathbb{E}_y\left[\lambda^2 \frac{\delta(x-y)}{\lambda p(y)} C(y) "
                            r"\frac{\delta(y-x')}{\lambda p(y)}\right]",
         sp.Symbol("interp"): r"G_\infty(X, X) - I",
         sp.Symbol("mc"): r"\widehat{\mathrm{Cov}}[f_\tau(x), f_\tau(x') \mid X]",
         sp.Symbol("num_flow"): r"f_\tau^{\mathrm{ODE}}(x)", mu: r"\mu_k", xpv: "x'", yv: "y", xv: "x"}
    steps = [
        c.legacy_step(sp.Symbol("f"), sp.Symbol("f_r"), "Lazy (linearised) network around its initialisation; "
             "the NTK is the kernel of the Jacobian features (paper Sec. 5.2).",
             method="definition", label="lazy model"),
        c.legacy_step(sp.Symbol("flow"), sp.Symbol("flow_r"), "Gradient flow in training time $\\tau$ on the "
             "empirical DSM objective, $\\Lambda = \\mathrm{diag}(\\lambda_{t_i})$, no ridge.",
             method="definition", label="gradient flow"),
        c.legacy_step(sp.Symbol("drdt"), sp.Symbol("drdt_r"), "The training residual $r = f_\\tau(X) - "
             "\\tilde{s}_X$ obeys a linear ODE (chain rule; P = 2 samples, 3 parameters).",
             residual=ode_res, simplifier=sp.expand, label="residual ODE"),
        c.legacy_step(sp.Symbol("rt"), sp.Symbol("rt_r"), "Its solution; checked with SymPy's matrix "
             "exponential for $\\Theta_{XX} = [[2,1],[1,3]]$, $\\Lambda = \\mathrm{diag}(1,2)$, P = 2.",
             residual=sol_res, simplifier=sp.simplify, label="solution (exact)"),
        c.legacy_step(sp.Symbol("rt"), sp.Symbol("rt_r"), "The same for random kernels (SciPy expm).",
             method="numeric", check=_residual_ode_check, label="solution (random kernels)"),
        c.legacy_step(sp.Symbol("ft"), sp.Symbol("ft_r"), "Integrating $d\\theta/d\\tau$ gives the "
             "predictions at any point (paper-math.md 6; checked against direct integration of the "
             "parameter flow).", method="numeric", check=_flow_check, label="predictions"),
        c.legacy_step(sp.Symbol("finf"), sp.Symbol("sX"), "Infinite training time: the network interpolates "
             "the noisy proxy targets exactly, it memorizes them (exact limit for the 2x2 example).",
             residual=inf_res, simplifier=sp.simplify, label="tau -> infinity"),
        c.legacy_step(sp.Symbol("f0lin"), sp.Symbol("f0lin_r"), "Short training time: first order in "
             "$\\tau$ since $e^{-\\tau A} = I - \\tau A + O(\\tau^2)$ (general symmetric 2x2 kernel).",
             residual=small_res, simplifier=sp.cancel, label="tau -> 0"),
        c.legacy_step(sp.Symbol("ccov"), sp.Symbol("ccov_r"), "Given the sample locations, the targets "
             "$\\tilde{s}_i$ are independent with variance $C(y_i, u_i)$ (paper Eq. (5)); $f_\\tau$ is "
             "linear in them (deterministic initialisation).", method="definition",
             label="conditional covariance"),
        c.legacy_step(sp.Symbol("filt"), 1 - sp.exp(-tau * mu), "Large P: $\\frac{1}{P}\\Theta_{XX}\\Lambda$ "
             "tends to the operator $\\mathcal{T}$ with eigenpairs $(\\mu_k, e_k)$; each mode of "
             "$G_\\tau = \\frac{1}{P}\\Theta\\Lambda\\int_0^\\tau e^{-s\\Theta\\Lambda/P}ds$ is "
             "filtered by $1 - e^{-\\tau\\mu_k}$ (SymPy integral).", residual=filt_res,
             simplifier=sp.simplify, label="spectral filter"),
        c.legacy_step(sp.Symbol("cov"), sp.Symbol("cov_r"), "Prop. 5.2 / Eq. (16) as reconstructed in "
             "paper-math.md 6: the sum over i.i.d. samples becomes $P$ times an expectation; "
             "confirmed. $V = D_t \\mathrm{Cov} D_{t'}$.", method="definition", label="Prop. 5.2"),
        c.legacy_step(sp.Symbol("lim0"), lim0, "$\\tau \\to 0$: $G_\\tau \\approx \\tau\\Theta$, so $V \\approx "
             "\\frac{\\tau^2}{P} D\\, \\mathbb{E}[\\lambda^2 \\Theta C \\Theta] D$: smooth, "
             "kernel-filtered noise.", residual=lim0 - mu, simplifier=sp.simplify,
             label="small tau"),
        c.legacy_step(sp.Symbol("liminf"), liminf, "$\\tau \\to \\infty$: every mode passes, $G_\\infty = "
             "\\sum_k e_k \\otimes e_k = \\delta/(\\lambda p)$ for a universal kernel.",
             residual=liminf - 1, simplifier=sp.simplify, label="large tau"),
        c.legacy_step(sp.Symbol("dint"), Cfun(xv) * sp.DiracDelta(xv - xpv) / pfun(xv), "Hence the "
             "infinite-time covariance is $\\frac{1}{P} C(x,t)\\delta(x-x')\\delta(t-t')/p(x,t)$: white "
             "and local, the structure of Prop. 4.1 ('pure memorization', Eq. (17)); SymPy "
             "integral over y (the time delta works the same way).", residual=delta_res,
             simplifier=sp.simplify, label="Eq. (17)"),
        c.legacy_step(sp.Symbol("interp"), sp.zeros(2, 2), "At finite P and $\\tau = \\infty$: "
             "$G_\\infty(X,X) = I$, so the predictions at the training points are the proxy "
             "targets themselves, with covariance $\\mathrm{diag}(C_i)$.", residual=interp_res,
             simplifier=sp.cancel, label="finite P memorization"),
        c.legacy_step(sp.Symbol("mc"), sp.Symbol("ccov_r"), "Monte Carlo over proxy targets at fixed "
             "sample locations against the conditional covariance formula.", method="numeric",
             check=_mc_check, label="Monte Carlo"),
    ]
    return Derivation(NAME, TITLE, "Kernel gradient flow of a lazy network on the noisy DSM "
                      "objective, and how training time interpolates between a smooth "
                      "kernel-filtered V-kernel and the memorizing one (paper Sec. 5.2; derived "
                      "here, see Notes).", steps, result=15, names=N, notes=NOTES)


NOTES = """\
**Agreement with paper-math.md section 6 (INFERRED there).** The kernel gradient-flow solution,
the spectral filter $1 - e^{-\\tau\\mu_k}$, the leading-order covariance
$\\frac{1}{P}\\mathbb{E}[\\lambda^2 G_\\tau C G_\\tau]$ and both limits agree with the derivation
above. Precisions: (i) the exact finite-P statement is the conditional covariance
$G_\\tau \\mathrm{diag}(C_i) G_\\tau^T$ given the sample locations; the $1/P$ form also needs the
fluctuation of the sample locations (a term like the $r r^T$, $m m^T$ terms of the linear model,
which vanishes when $f_\\tau$ interpolates the true score on average); (ii) with a random
initialisation $f_0$, an extra init-variance term appears (not derived here); (iii) the
$\\tau \\to \\infty$ limit is $\\delta/(\\lambda p)$ only for a universal (full-rank) kernel; for a
rank-F kernel the delta is smoothed and the prefactor scales like $F/P = \\kappa$.
"""
