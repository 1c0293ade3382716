r"""The probability-flow ODE preserves the marginals (paper Sec. 2).

.. math::

    \dot x_t = -\beta_t x_t - D_t\, s(x_t, t), \qquad s = \nabla_x \log p(x \mid t):

the Fokker-Planck equation of the forward SDE is a continuity equation with this velocity, so the
flow transports :math:`p(\cdot \mid t)`. Checked for an arbitrary density in one and two
dimensions, in closed form for Gaussian data :math:`N(m_0, v_0)` (the flow map is affine; with
:math:`\beta_t, D_t` written through arbitrary :math:`\alpha_t, S_t`), and by integrating the ODE
with the VP schedule's production functions.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_mc
from . import _common as c

__all__ = ["NAME", "TITLE", "build"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "pf-ode-marginals"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = "The PF-ODE preserves the marginals (continuity equation)"

M0, V0 = 0.4, 0.25  # Gaussian data of the numeric check


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """RK4 integration of the PF-ODE (Gaussian data, production VP) from T = 1 to eps."""
    vp = c.vp()
    eps, T, n_steps, n = 0.01, 1.0, 400, 20000

    def vel(y, t):
        var = vp.alpha(t) ** 2 * V0 + vp.sigma2(t)
        return -vp.beta(t) * y + vp.D(t) * (y - vp.alpha(t) * M0) / var

    y = float(vp.alpha(T)) * M0 + np.sqrt(
        float(vp.alpha(T)) ** 2 * V0 + float(vp.sigma2(T))
    ) * rng.standard_normal(n)
    ts = np.linspace(T, eps, n_steps + 1)
    for k in range(n_steps):
        t0, h = ts[k], ts[k + 1] - ts[k]
        k1 = vel(y, t0)
        k2 = vel(y + h / 2 * k1, t0 + h / 2)
        k3 = vel(y + h / 2 * k2, t0 + h / 2)
        k4 = vel(y + h * k3, t0 + h)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    ref_v = float(vp.alpha(eps)) ** 2 * V0 + float(vp.sigma2(eps))
    est, se = c.mean_var_se(y)
    return compare_mc(
        est,
        [float(vp.alpha(eps)) * M0, ref_v],
        se,
        n=n,
        what=f"data N({M0}, {V0}), schedules.VP, seeds from p(x|T=1), RK4 with "
        f"{n_steps} steps down to eps = {eps}; sample mean and variance vs "
        "alpha_eps m0 and alpha_eps^2 v0 + sigma_eps^2",
    )


def build() -> Derivation:
    r"""Build the PF-ODE derivation (unverified): the probability-flow ODE preserves the marginals.

    The Fokker-Planck equation of the forward SDE is a continuity equation whose velocity is
    that of the PF-ODE :math:`\dot x_t = -\beta_t x_t - D_t s(x_t,t)` (paper Sec. 2); for Gaussian
    data :math:`N(m_0, v_0)` the flow keeps the moments of :math:`p(x \mid t)`:

    .. math::

        \nabla \cdot (\beta_t x\, p) + D_t \nabla^2 p = -\nabla \cdot (p\, v), \quad
        v = -\beta_t x - D_t \nabla_x \log p; \qquad
        (\mathbb{E}[x_t], \mathrm{Var}[x_t]) = (\alpha_t m_0,\ S_t + \alpha_t^2 v_0).

    Parameters
    ----------
    None

    Returns
    -------
    derivation : Derivation
        8 steps; results: step 2 (continuity form, symbolic, two dimensions) and step 7
        (marginal preserved, symbolic).

    Examples
    --------
    >>> d = build()
    >>> len(d.steps), [i + 1 for i in d.result], [s.status for s in d.result_steps]
    (8, [2, 7], ['symbolic', 'symbolic'])
    """
    t, s_ = S.t, sp.Symbol("s", positive=True)
    beta, Dt, af, Sf = S.beta_f, S.D_f, S.alpha_f, S.S_f
    x = sp.Symbol("x", real=True)
    x1, x2 = S.x_vec(2)
    p1, p2 = sp.Function("p")(x, t), sp.Function("p")(x1, x2, t)
    fp_r, cont_r = sp.Symbol("fp_r"), sp.Symbol("cont_r")

    def fp_and_continuity(p, xs):
        v = [-beta(t) * xi - Dt(t) * sp.diff(p, xi) / p for xi in xs]
        fp = sum(sp.diff(beta(t) * xi * p, xi) + Dt(t) * sp.diff(p, xi, 2) for xi in xs)
        return {fp_r: fp, cont_r: -sum(sp.diff(p * vi, xi) for vi, xi in zip(v, xs, strict=True))}

    m0, v0 = sp.Symbol("m_0", real=True), sp.Symbol("v_0", positive=True)
    inverse = c.beta_D_from(af, Sf, t)
    V = af(t) ** 2 * v0 + Sf(t)
    gauss = sp.exp(-((x - af(t) * m0) ** 2) / (2 * V)) / sp.sqrt(2 * sp.pi * V)
    score = -(x - af(t) * m0) / V
    xs0 = sp.Symbol("x_s", real=True)
    Vs = af(s_) ** 2 * v0 + Sf(s_)
    flow = af(t) * m0 + sp.sqrt(V / Vs) * (xs0 - af(s_) * m0)
    pg, sg, xt = sp.Function("p_G")(x, t), sp.Symbol("s_g"), sp.Function("X")(t)
    mom = sp.Symbol("moments")
    names = {
        x: "x",
        fp_r: r"\nabla\cdot(\beta_t x\, p) + D_t \nabla^2 p",
        cont_r: r"-\nabla\cdot\left(p\, v\right), \quad v = -\beta_t x - D_t \nabla_x \log p",
        sp.Symbol("xdot"): r"\dot{x}_t",
        sg: r"s(x,t)",
        sp.Symbol("xt_disp"): "x_t",
        mom: r"\left(\mathbb{E}[x_t],\ \mathrm{Var}[x_t]\right)",
        sp.Symbol("mc_v"): r"\widehat{\mathrm{Var}}[x_\epsilon]",
        m0: "m_0",
        v0: "v_0",
        xs0: "x_s",
    }
    steps = [
        Step(
            fp_r,
            cont_r,
            "The Fokker-Planck equation of the forward SDE, $\\partial_t p = \\nabla\\cdot(\\beta_t x p) "
            "+ D_t\\nabla^2 p$ (forward-process derivation), is, because $p \\nabla \\log p = "
            "\\nabla p$, a continuity equation with the PF-ODE velocity; for an arbitrary density.",
            status="symbolic",
            defs=fp_and_continuity(p1, [x]),
            where={c.DIM: 1},
            simplifier=sp.simplify,
            label="continuity form",
        ),
        Step(
            fp_r,
            cont_r,
            "The same for an arbitrary density in two dimensions.",
            status="symbolic",
            defs=fp_and_continuity(p2, [x1, x2]),
            where={c.DIM: 2},
            simplifier=sp.simplify,
            label="continuity form",
        ),
        Step(
            sp.Symbol("xdot"),
            -beta(t) * sp.Symbol("xt_disp") - Dt(t) * sg,
            "The PF-ODE: the "
            "characteristics of the continuity equation. Run from $x_T \\sim p(x|T)$ down to "
            "$\\epsilon$ it gives $x_\\epsilon \\sim p(x|\\epsilon)$ (paper Sec. 2), checked below "
            "for Gaussian data.",
            status="definition",
            label="PF-ODE",
        ),
        Step(
            sp.Derivative(pg, t),
            sp.Derivative(beta(t) * x * pg, x) + Dt(t) * sp.Derivative(pg, x, 2),
            "Gaussian data $N(m_0, v_0)$: the marginal $p_G = N(\\alpha_t m_0, \\alpha_t^2 v_0 + S_t)$ "
            "solves the Fokker-Planck equation, with $\\beta_t$, $D_t$ written through arbitrary "
            "$\\alpha_t$, $S_t$.",
            status="symbolic",
            defs={pg: gauss, **inverse},
            simplifier=sp.simplify,
            label="Gaussian marginal",
        ),
        Step(
            sg,
            sp.Derivative(sp.log(pg), x),
            "Its score, $-(x - \\alpha_t m_0)/(\\alpha_t^2 v_0 + S_t)$.",
            status="symbolic",
            defs={sg: score, pg: gauss},
            simplifier=sp.simplify,
            label="Gaussian score",
        ),
        Step(
            sp.Derivative(xt, t),
            -beta(t) * xt - Dt(t) * sg,
            "The flow map from time $s$ to "
            "time $t$, $x_t = \\alpha_t m_0 + \\sqrt{V_t/V_s}\\,(x_s - \\alpha_s m_0)$ with $V_t = "
            "\\alpha_t^2 v_0 + S_t$, solves the PF-ODE.",
            status="symbolic",
            defs={xt: flow, sg: score.subs(x, flow), **inverse},
            simplifier=sp.simplify,
            label="flow map",
        ),
        Step(
            mom,
            sp.Matrix([[af(t) * m0, V]]),
            "The affine flow map sends $N(\\alpha_s m_0, V_s)$ "
            "to mean $\\alpha_t m_0$ and variance $(V_t/V_s) V_s = V_t$: the marginal is preserved.",
            status="symbolic",
            defs={mom: sp.Matrix([[flow.subs(xs0, af(s_) * m0), sp.diff(flow, xs0) ** 2 * Vs]])},
            simplifier=sp.simplify,
            label="marginal preserved",
        ),
        Step(
            sp.Symbol("mc_v"),
            V,
            "Numerical PF-ODE (RK4) with the production VP schedule against the closed-form moments.",
            status="monte-carlo",
            check=_mc_check,
            where={t: S.eps},
            label="numerical integration",
        ),
    ]
    return Derivation(
        NAME,
        TITLE,
        "The deterministic sampler of the paper reproduces the noised "
        "data distribution exactly when the score is exact (paper Sec. 2).",
        steps,
        result=(1, 6),
        names=names,
    )
