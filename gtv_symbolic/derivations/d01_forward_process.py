r"""Forward process: conditional Gaussian, alpha_t and S_t from the SDE, mixture marginal.

``dx = -beta_t x dt + G_t dW``, ``D_t = G_t^2 / 2`` (paper Sec. 2). The conditional law is
``p(x | x0, t) = N(alpha_t x0, S_t)`` with ``alpha_t = exp(-int_0^t beta)`` and
``S_t = alpha_t^2 int_0^t 2 D_s / alpha_s^2 ds``, i.e. ``S' = -2 beta S + 2 D``, ``S_0 = 0``
(paper-math.md 1.2); the marginal over a point-mass training set is a Gaussian mixture.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_mc
from ..numeric import lambdify
from ..schedules import VE, Fig1
from . import _common as c

NAME = "forward-process"
TITLE = "Forward process: Gaussian conditional, alpha_t and S_t, mixture marginal"


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """Euler-Maruyama simulation of the VP SDE vs the lambdified alpha_t x0 and S_t."""
    vp = c.vp()
    t_end, n_steps, n_paths, x0 = 0.5, 1000, 20000, 0.7
    alpha = lambdify([S.t], vp.expr("alpha"), stable=False)
    sigma2 = lambdify([S.t], vp.expr("sigma2"), stable=False)
    h = t_end / n_steps
    x = np.full(n_paths, x0)
    for k in range(n_steps):
        tk = (k + 0.5) * h  # midpoint rule for the coefficients: O(h^2) bias per unit time
        x = x - vp.beta(tk) * x * h + np.sqrt(2 * vp.D(tk) * h) * rng.standard_normal(n_paths)
    mean, var = x.mean(), x.var(ddof=1)
    est = [mean, var]
    ref = [float(alpha(t_end)) * x0, float(sigma2(t_end))]
    se = [np.sqrt(var / n_paths), var * np.sqrt(2.0 / (n_paths - 1))]
    return compare_mc(est, ref, se, n=n_paths,
                      what=f"VP SDE from x0 = {x0} to t = {t_end}, Euler-Maruyama with "
                           f"{n_steps} steps; sample mean and variance vs alpha_t x0 and S_t")


def build() -> Derivation:
    t, s, r = S.t, sp.Symbol("s", positive=True), sp.Symbol("r", positive=True)
    beta, Dt = S.beta_f, S.D_f
    a_t, S_t = S.alpha_f(t), S.S_f(t)
    x, x0, g = sp.Symbol("x", real=True), sp.Symbol("x_0", real=True), sp.Function("G")
    xdot, eta = sp.Symbol("xdot"), sp.Symbol("eta_t")
    names = {xdot: r"\dot{x}_t", eta: r"\eta_t", x: "x", x0: "x_0"}

    alpha_expr = sp.exp(-sp.Integral(beta(s), (s, 0, t)))
    alpha_of = lambda v: sp.exp(-sp.Integral(beta(r), (r, 0, v)))  # noqa: E731
    S_expr = alpha_expr**2 * sp.Integral(2 * Dt(s) / alpha_of(s) ** 2, (s, 0, t))

    def same_dummy(e):
        # int_0^t beta(r) dr and int_0^t beta(s) ds are the same number
        e = e.xreplace({sp.Integral(beta(r), (r, 0, t)): sp.Integral(beta(s), (s, 0, t))})
        return sp.simplify(e)

    gauss = sp.exp(-(x - a_t * x0) ** 2 / (2 * S_t)) / sp.sqrt(2 * sp.pi * S_t)
    fp_residual = (sp.diff(gauss, t) - sp.diff(beta(t) * x * gauss, x)
                   - Dt(t) * sp.diff(gauss, x, 2))
    fp_residual = fp_residual.subs({sp.Derivative(a_t, t): -beta(t) * a_t,
                                    sp.Derivative(S_t, t): -2 * beta(t) * S_t + 2 * Dt(t)})
    p_fun = sp.Function("p")

    def sched_residual(sched):
        a, s2, b, d = (sched.expr(k, substitute=False) for k in ("alpha", "sigma2", "beta", "D"))
        return sp.Matrix([sp.diff(a, t) + b * a, sp.diff(s2, t) + 2 * b * s2 - 2 * d,
                          sp.limit(s2, t, 0, "+")])

    vp = c.vp()
    steps = [
        c.legacy_step(xdot, -beta(t) * x + g(t) * eta, "Forward SDE with scalar drift $\\beta_t$ and "
             "white noise $\\eta_t$; the diffusion coefficient is $D_t = G_t^2/2$ (paper Sec. 2).",
             method="definition", label="forward SDE"),
        c.legacy_step(sp.Derivative(a_t, t), -beta(t) * a_t,
             "Mean equation of the linear SDE: $\\alpha_t = \\exp(-\\int_0^t \\beta_s ds)$ solves "
             "it with $\\alpha_0 = 1$ (checked with $\\alpha_t$ written as that integral).",
             residual=sp.diff(alpha_expr, t) + beta(t) * alpha_expr, label="alpha_t"),
        c.legacy_step(sp.Derivative(S_t, t), -2 * beta(t) * S_t + 2 * Dt(t),
             "Variance equation; $S_t = \\alpha_t^2 \\int_0^t 2 D_s \\alpha_s^{-2} ds$ solves it with "
             "$S_0 = 0$ (Leibniz rule; paper-math.md 1.2 corrects the blog's form).",
             residual=sp.diff(S_expr, t) + 2 * beta(t) * S_expr - 2 * Dt(t),
             simplifier=same_dummy, simplifier_name="renaming integration variables, then simplify",
             label="S_t"),
        c.legacy_step(sp.Symbol("p_cond"), gauss,
             "The Gaussian solves the Fokker-Planck equation of the SDE, $\\partial_t p = "
             "\\partial_x(\\beta_t x p) + D_t \\partial_x^2 p$, once "
             "$\\alpha' = -\\beta\\alpha$ and $S' = -2\\beta S + 2D$ are used: the conditional law is "
             "this Gaussian.", residual=fp_residual / gauss,
             simplifier=sp.simplify, simplifier_name="simplify (after dividing by p)",
             label="conditional is Gaussian"),
        c.legacy_step(sp.Symbol("S_VP"), 1 - vp.expr("alpha", substitute=False) ** 2,
             "VP schedule of the paper's code, $D_t = \\beta_t = \\beta_{\\min} + \\beta_d t$: "
             "$S_t = 1 - \\alpha_t^2$ satisfies $S' + 2\\beta S - 2D = 0$, $S_0 = 0$ (and $\\alpha' "
             "= -\\beta\\alpha$); checked as the vector of these three residuals.",
             residual=sched_residual(vp), simplifier=sp.simplify, label="VP schedule"),
        c.legacy_step(sp.Symbol("S_VE"), t**2, "VE/EDM schedule: $\\beta = 0$, $D_t = t$ gives $S_t = t^2$, "
             "$\\alpha = 1$ (same three residuals).", residual=sched_residual(VE()),
             simplifier=sp.simplify, label="VE schedule"),
        c.legacy_step(sp.Symbol("S_Fig1"), t, "Figure 1 parametrisation $\\alpha_t = \\sqrt{1-t}$, "
             "$S_t = t$ needs $\\beta_t = D_t = 1/(2(1-t))$ (same three residuals).",
             residual=sched_residual(Fig1()), simplifier=sp.simplify, label="Fig. 1 schedule"),
        c.legacy_step(p_fun(x, t), sp.Sum(sp.exp(-(x - a_t * sp.Indexed("mu", S.m_idx)) ** 2 / (2 * S_t))
                                / sp.sqrt(2 * sp.pi * S_t), (S.m_idx, 1, S.M)) / S.M,
             "Marginal over $p_{data} = \\frac{1}{M}\\sum_m \\delta(x_0 - \\mu_m)$: a Gaussian "
             "mixture (law of total probability; it solves the same linear Fokker-Planck equation).",
             method="definition", label="mixture marginal"),
        c.legacy_step(sp.Symbol("Var_MC"), S.S_f(t), "Monte Carlo: Euler-Maruyama paths of the VP SDE "
             "against the lambdified $\\alpha_t x_0$ (mean) and $S_t$ (variance).", method="numeric",
             check=_mc_check, label="Monte Carlo"),
    ]
    names.update({sp.Symbol("p_cond"): r"p(x \mid x_0, t)", sp.Symbol("S_VP"): r"S_t^{\mathrm{VP}}",
                  sp.Symbol("S_VE"): r"S_t^{\mathrm{VE}}",
                  sp.Symbol("S_Fig1"): r"S_t^{\mathrm{Fig.1}}",
                  sp.Symbol("Var_MC"): r"\widehat{\mathrm{Var}}[x_t \mid x_0]"})
    return Derivation(NAME, TITLE, "From the forward SDE to the Gaussian conditional law "
                      "$N(\\alpha_t x_0, S_t)$ and the mixture marginal over the training set.",
                      steps, result=3, names=names)
