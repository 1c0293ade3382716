r"""The probability-flow ODE preserves the marginals (paper Sec. 2, paper-math.md 1.5).

``dx/dt = -beta_t x - D_t s(x,t)`` with ``s = grad log p(x|t)``: the Fokker-Planck equation of the
forward SDE is a continuity equation with this velocity, so the flow transports ``p(.|t)``.
Checked in closed form for Gaussian data ``N(m0, v0)``, where the flow map is affine.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_mc
from ..numeric import lambdify
from . import _common as c

NAME = "pf-ode-marginals"
TITLE = "The PF-ODE preserves the marginals (continuity equation)"

M0, V0 = 0.4, 0.25  # Gaussian data of the numeric check


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """RK4 integration of the PF-ODE (Gaussian data, VP) from T = 1 to eps; moments vs closed form."""
    vp = c.vp()
    a, s2, x = S.alpha, S.sigma2, sp.Symbol("x", real=True)
    var = a**2 * V0 + s2
    score = lambdify([a, s2, x], -(x - a * M0) / var, stable=False)
    eps, T, n_steps, n = 0.01, 1.0, 400, 20000

    def vel(y, t):
        return -vp.beta(t) * y - vp.D(t) * score(vp.alpha(t), vp.sigma2(t), y)

    y = float(vp.alpha(T)) * M0 + np.sqrt(float(vp.alpha(T)) ** 2 * V0 + float(vp.sigma2(T))) \
        * rng.standard_normal(n)
    ts = np.linspace(T, eps, n_steps + 1)
    for k in range(n_steps):
        t0, h = ts[k], ts[k + 1] - ts[k]
        k1 = vel(y, t0)
        k2 = vel(y + h / 2 * k1, t0 + h / 2)
        k3 = vel(y + h / 2 * k2, t0 + h / 2)
        k4 = vel(y + h * k3, t0 + h)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    ref_m = float(vp.alpha(eps)) * M0
    ref_v = float(vp.alpha(eps)) ** 2 * V0 + float(vp.sigma2(eps))
    v = y.var(ddof=1)
    return compare_mc([y.mean(), v], [ref_m, ref_v], [np.sqrt(v / n), v * np.sqrt(2 / (n - 1))],
                      n=n, what=f"data N({M0}, {V0}), VP, seeds from p(x|T=1), RK4 with {n_steps} "
                                f"steps down to eps = {eps}; sample mean and variance vs the "
                                "lambdified alpha m0 and alpha^2 v0 + S")


def build() -> Derivation:
    t, s_ = S.t, sp.Symbol("s", positive=True)
    beta, Dt = S.beta_f, S.D_f
    x = sp.Symbol("x", real=True)
    x1, x2 = S.x_vec(2)
    p1 = sp.Function("p")(x, t)
    p2 = sp.Function("p")(x1, x2, t)

    def fp_minus_continuity_1d():
        v = -beta(t) * x - Dt(t) * sp.diff(p1, x) / p1
        return (sp.diff(beta(t) * x * p1, x) + Dt(t) * sp.diff(p1, x, 2)) - (-sp.diff(p1 * v, x))

    def fp_minus_continuity_2d():
        xs = (x1, x2)
        v = [-beta(t) * xi - Dt(t) * sp.diff(p2, xi) / p2 for xi in xs]
        fp = sum(sp.diff(beta(t) * xi * p2, xi) + Dt(t) * sp.diff(p2, xi, 2) for xi in xs)
        return fp + sum(sp.diff(p2 * vi, xi) for vi, xi in zip(v, xs, strict=False))

    m0, v0 = sp.Symbol("m_0", real=True), sp.Symbol("v_0", positive=True)
    a_f, S_f = S.alpha_f, S.S_f
    rules = {sp.Derivative(a_f(t), t): -beta(t) * a_f(t),
             sp.Derivative(S_f(t), t): -2 * beta(t) * S_f(t) + 2 * Dt(t)}
    V = a_f(t) ** 2 * v0 + S_f(t)
    gauss = sp.exp(-(x - a_f(t) * m0) ** 2 / (2 * V)) / sp.sqrt(2 * sp.pi * V)
    fp_gauss = (sp.diff(gauss, t) - sp.diff(beta(t) * x * gauss, x)
                - Dt(t) * sp.diff(gauss, x, 2)).subs(rules) / gauss
    score = -(x - a_f(t) * m0) / V
    xs0 = sp.Symbol("x_s", real=True)
    Vs = a_f(s_) ** 2 * v0 + S_f(s_)
    flow = a_f(t) * m0 + sp.sqrt(V / Vs) * (xs0 - a_f(s_) * m0)
    ode_res = (sp.diff(flow, t) - (-beta(t) * flow - Dt(t) * score.subs(x, flow))).subs(rules)

    names = {x: "x", sp.Symbol("cont_l"): r"\partial_t p",
             sp.Symbol("fp_r"): r"\nabla\cdot(\beta_t x\, p) + D_t \nabla^2 p",
             sp.Symbol("cont_r"): r"-\nabla\cdot\left(p\, v\right), \quad v = -\beta_t x - D_t "
                                  r"\nabla_x \log p",
             sp.Symbol("xdot"): r"\dot{x}_t", sp.Symbol("p_g"): r"p(x \mid t)",
             sp.Symbol("s_g"): r"s(x,t)", sp.Symbol("xt"): r"x_t",
             sp.Symbol("var_t"): r"\mathrm{Var}[x_t]",
             sp.Symbol("mc_v"): r"\widehat{\mathrm{Var}}[x_\epsilon]",
             m0: "m_0", v0: "v_0", xs0: "x_s"}
    steps = [
        c.legacy_step(sp.Symbol("cont_l"), sp.Symbol("fp_r"), "Fokker-Planck equation of the forward SDE "
             "(forward-process derivation).", method="definition", label="Fokker-Planck"),
        c.legacy_step(sp.Symbol("fp_r"), sp.Symbol("cont_r"), "Because $p \\nabla \\log p = \\nabla p$, the "
             "Fokker-Planck equation is a continuity equation with the PF-ODE velocity; checked for "
             "an undefined density $p(x, t)$ in D = 1.", residual=fp_minus_continuity_1d(),
             simplifier=sp.simplify, label="continuity form, D = 1"),
        c.legacy_step(sp.Symbol("fp_r"), sp.Symbol("cont_r"), "The same for an undefined density "
             "$p(x_1, x_2, t)$ in D = 2.", residual=fp_minus_continuity_2d(),
             simplifier=sp.simplify, label="continuity form, D = 2"),
        c.legacy_step(sp.Symbol("xdot"), -beta(t) * sp.Symbol("xt") - Dt(t) * sp.Symbol("s_g"),
             "The characteristics of a continuity equation transport the density: running this ODE "
             "from $x_T \\sim p(x|T)$ down to $\\epsilon$ gives $x_\\epsilon \\sim p(x|\\epsilon)$ "
             "(paper Sec. 2).", method="definition", label="PF-ODE"),
        c.legacy_step(sp.Symbol("p_g"), gauss, "Gaussian data $N(m_0, v_0)$: the marginal "
             "$N(\\alpha_t m_0, \\alpha_t^2 v_0 + S_t)$ solves the Fokker-Planck equation "
             "(residual divided by $p$).", residual=fp_gauss, simplifier=sp.simplify,
             label="Gaussian marginal"),
        c.legacy_step(sp.Symbol("s_g"), score, "Its score.", residual=sp.diff(sp.log(gauss), x) - score,
             simplifier=sp.simplify, label="Gaussian score"),
        c.legacy_step(sp.Symbol("xt"), flow, "The PF-ODE flow map from time $s$ to time $t$ is affine; it "
             "solves the PF-ODE (with $\\alpha' = -\\beta\\alpha$, $S' = -2\\beta S + 2D$).",
             residual=ode_res, simplifier=sp.simplify, label="flow map"),
        c.legacy_step(sp.Symbol("var_t"), V, "An affine map of $N(\\alpha_s m_0, V_s)$ with slope "
             "$\\sqrt{V_t/V_s}$ gives variance $V_t$ and mean $\\alpha_t m_0$: the marginal is "
             "preserved.", residual=sp.Matrix([(V / Vs) * Vs - V,
                                               flow.subs(xs0, a_f(s_) * m0) - a_f(t) * m0]),
             simplifier=sp.simplify, label="marginal preserved"),
        c.legacy_step(sp.Symbol("mc_v"), V.subs(t, S.eps), "Numerical PF-ODE (RK4) with the lambdified "
             "score against the closed-form moments.", method="numeric", check=_mc_check,
             label="numerical integration"),
    ]
    return Derivation(NAME, TITLE, "The deterministic sampler of the paper reproduces the noised "
                      "data distribution exactly when the score is exact (paper Sec. 2; "
                      "paper-math.md 1.5).", steps, result=7, names=names)
