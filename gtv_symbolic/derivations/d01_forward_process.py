r"""Forward process: the Gaussian conditional law, :math:`\alpha_t`, :math:`S_t`, the mixture marginal.

The forward SDE :math:`\dot x_t = -\beta_t x_t + G_t \eta_t`, :math:`D_t = G_t^2/2` (paper Sec. 2)
has the conditional law :math:`p(x \mid x_0, t) = N(\alpha_t x_0, S_t)` with

.. math::

    \alpha_t = e^{-\int_0^t \beta_s ds}, \qquad
    S_t = \alpha_t^2 \int_0^t \frac{2 D_s}{\alpha_s^2} ds
    \quad (\dot S = -2\beta S + 2D,\ S_0 = 0),

and over a point-mass training set the marginal is a Gaussian mixture. The Fokker-Planck checks
write :math:`\beta_t, D_t` through :math:`\alpha_t, S_t` (the inverse of the two ODEs), so they
hold for arbitrary schedules.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_mc
from ..schedules import VE, Fig1
from . import _common as c

__all__ = ["NAME", "TITLE", "build"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "forward-process"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = r"Forward process: Gaussian conditional $N(\alpha_t x_0, S_t)$ and the mixture marginal"

_T_END, _X0 = 0.5, 0.7


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """Euler-Maruyama paths of the VP SDE vs the schedule's alpha_t x0 and S_t (production VP)."""
    vp = c.vp()
    n_steps, n_paths = 1000, 20000
    h = _T_END / n_steps
    x = np.full(n_paths, _X0)
    for k in range(n_steps):
        tk = (k + 0.5) * h  # midpoint rule for the coefficients: O(h^2) bias per unit time
        x = x - vp.beta(tk) * x * h + np.sqrt(2 * vp.D(tk) * h) * rng.standard_normal(n_paths)
    est, se = c.mean_var_se(x)
    ref = [float(vp.alpha(_T_END)) * _X0, float(vp.sigma2(_T_END))]
    return compare_mc(
        est,
        ref,
        se,
        n=n_paths,
        what=f"VP SDE from x0 = {_X0} to t = {_T_END}, Euler-Maruyama with {n_steps} "
        "steps; sample mean and variance vs schedules.VP alpha_t x0 and sigma_t^2",
    )


def _schedule_defs(sched):
    """``{alpha: ..., S: ..., beta: ..., D: ...}`` of a schedule, as functions of t (for ``defs``)."""
    t = S.t
    return {
        f: sp.Lambda(t, sched.expr(k, substitute=False))
        for f, k in ((S.alpha_f, "alpha"), (S.S_f, "sigma2"), (S.beta_f, "beta"), (S.D_f, "D"))
    }


def build() -> Derivation:
    r"""Build the forward-process derivation (unverified): Gaussian conditional and mixture marginal.

    From the forward SDE (paper Sec. 2) to the conditional law
    :math:`p(x \mid x_0, t) = N(\alpha_t x_0, S_t)` with :math:`\alpha_t = e^{-\int_0^t \beta_s ds}`,
    :math:`\dot S_t = -2\beta_t S_t + 2 D_t`, :math:`S_0 = 0`, and the Gaussian-mixture marginal over
    the training set. The result step: this Gaussian solves the Fokker-Planck equation (one
    dimension, :math:`\beta_t, D_t` written through arbitrary :math:`\alpha_t, S_t`),

    .. math::

        \partial_t p(x \mid x_0, t) = D_t\, \partial_x^2 p(x \mid x_0, t)
            + \partial_x \big(\beta_t\, x\, p(x \mid x_0, t)\big).

    Parameters
    ----------
    None

    Returns
    -------
    derivation : Derivation
        9 steps; result: step 4 (symbolic). ``.verify()`` checks every step (``gtv derive
        forward-process``).

    Examples
    --------
    >>> d = build()
    >>> len(d.steps), [i + 1 for i in d.result], [s.status for s in d.result_steps]
    (9, [4], ['symbolic'])
    """
    t, s, r = S.t, sp.Symbol("s", positive=True), sp.Symbol("r", positive=True)
    beta, Dt, af, Sf = S.beta_f, S.D_f, S.alpha_f, S.S_f
    a_t, S_t = af(t), Sf(t)
    x, x0 = sp.Symbol("x", real=True), sp.Symbol("x_0", real=True)
    g, xdot, eta = sp.Function("G"), sp.Symbol("xdot"), sp.Symbol("eta_t")
    p_c, p_m = sp.Function("p")(x, x0, t), sp.Function("p")(x, t)
    mu = sp.IndexedBase("mu", real=True)
    m, M = c.m, S.M

    alpha_expr = sp.exp(-sp.Integral(beta(s), (s, 0, t)))
    S_expr = alpha_expr**2 * sp.Integral(2 * Dt(s) / sp.exp(-sp.Integral(beta(r), (r, 0, s))) ** 2, (s, 0, t))

    def same_dummy(e):
        # int_0^t beta(r) dr and int_0^t beta(s) ds are the same number
        e = e.xreplace({sp.Integral(beta(r), (r, 0, t)): sp.Integral(beta(s), (s, 0, t))})
        return sp.simplify(e)

    gauss = sp.exp(-((x - a_t * x0) ** 2) / (2 * S_t)) / sp.sqrt(2 * sp.pi * S_t)
    mix = sp.Sum(sp.exp(-((x - a_t * mu[m]) ** 2) / (2 * S_t)) / sp.sqrt(2 * sp.pi * S_t), (m, 1, M)) / M
    inverse = c.beta_D_from(af, Sf, t)

    def fp(p):  # the two sides of the Fokker-Planck equation of the forward SDE
        return sp.Derivative(p, t), sp.Derivative(beta(t) * x * p, x) + Dt(t) * sp.Derivative(p, x, 2)

    def ode_sides(sched):
        lhs = sp.Matrix(
            [
                sp.Derivative(a_t, t) + beta(t) * a_t,
                sp.Derivative(S_t, t) + 2 * beta(t) * S_t - 2 * Dt(t),
                Sf(0),
            ]
        )
        return dict(lhs=lhs, rhs=sp.zeros(3, 1), defs=_schedule_defs(sched))

    sched_reason = (
        "$\\alpha_t$ and $S_t$ of the schedule satisfy $\\alpha' = -\\beta\\alpha$, "
        "$S' = -2\\beta S + 2D$ and $S_0 = 0$ (the schedule's own $\\beta_t$, $D_t$)"
    )
    vp = c.vp()
    steps = [
        Step(
            xdot,
            -beta(t) * x + g(t) * eta,
            "Forward SDE with scalar drift $\\beta_t$ and "
            "white noise $\\eta_t$; the diffusion coefficient is $D_t = G_t^2/2$ (paper Sec. 2).",
            status="definition",
            label="forward SDE",
        ),
        Step(
            sp.Derivative(a_t, t),
            -beta(t) * a_t,
            "The signal scale $\\alpha_t = "
            "e^{-\\int_0^t \\beta_s ds}$ solves the mean equation $\\dot{\\mathbb{E}}[x_t] = "
            "-\\beta_t \\mathbb{E}[x_t]$, with $\\alpha_0 = 1$.",
            status="symbolic",
            defs={a_t: alpha_expr},
            label="mean equation",
        ),
        Step(
            sp.Derivative(S_t, t),
            -2 * beta(t) * S_t + 2 * Dt(t),
            "The conditional variance "
            "$S_t = \\alpha_t^2 \\int_0^t 2 D_s \\alpha_s^{-2} ds$ (variation of constants) solves "
            "the variance equation of the linear SDE, with $S_0 = 0$ (Leibniz rule).",
            status="symbolic",
            defs={S_t: S_expr, a_t: alpha_expr},
            simplifier=same_dummy,
            simplifier_name="renaming integration variables, then simplify",
            timeout=60,
            label="variance equation",
        ),
        Step(
            *fp(p_c),
            "The Gaussian $p(x \\mid x_0, t) = N(x; \\alpha_t x_0, S_t)$ solves the "
            "Fokker-Planck equation of the SDE, with $\\beta_t = -\\dot\\alpha_t/\\alpha_t$ and "
            "$D_t = \\dot S_t/2 + \\beta_t S_t$ from steps 2 and 3, for arbitrary $\\alpha_t$, "
            "$S_t$; it tends to $\\delta(x - x_0)$ as $t \\to 0$, so it is the conditional law.",
            status="symbolic",
            defs={p_c: gauss, **inverse},
            simplifier=sp.simplify,
            label="conditional law is Gaussian",
        ),
        Step(
            label="VP schedule",
            reason="VP schedule of the paper's code, $D_t = \\beta_t = "
            "\\beta_{\\min} + \\beta_d t$, $S_t = 1 - \\alpha_t^2$: " + sched_reason + ".",
            status="symbolic",
            simplifier=sp.simplify,
            **ode_sides(vp),
        ),
        Step(
            label="VE schedule",
            reason="VE (EDM) schedule, $\\beta = 0$, $D_t = t$, $S_t = t^2$: " + sched_reason + ".",
            status="symbolic",
            simplifier=sp.simplify,
            **ode_sides(VE()),
        ),
        Step(
            label="Fig. 1 schedule",
            reason="Figure 1 parametrisation $\\alpha_t = \\sqrt{1-t}$, "
            "$S_t = t$ with $\\beta_t = D_t = 1/(2(1-t))$: " + sched_reason + ".",
            status="symbolic",
            simplifier=sp.simplify,
            **ode_sides(Fig1()),
        ),
        Step(
            *fp(p_m),
            "With the training set as the data distribution, $p_{\\mathrm{data}} = \\frac{1}{M}"
            "\\sum_m \\delta(x_0 - \\mu_m)$ (paper Sec. 2), the law of total probability gives the "
            "mixture $p(x \\mid t) = \\frac{1}{M}\\sum_m N(x; \\alpha_t \\mu_m, S_t)$; "
            "it solves the same linear "
            "Fokker-Planck equation; checked for M = 2 symbolic points, arbitrary $\\alpha_t$, $S_t$.",
            status="symbolic",
            defs={p_m: mix, **inverse},
            where={M: 2},
            timeout=60,
            simplifier=sp.simplify,
            label="mixture marginal",
        ),
        Step(
            sp.Symbol("Var_MC"),
            S_t,
            "Monte Carlo: Euler-Maruyama paths of the VP SDE against the "
            "production schedule's $\\alpha_t x_0$ (mean) and $S_t = \\sigma_t^2$ (variance).",
            status="monte-carlo",
            check=_mc_check,
            where={t: sp.Rational(1, 2)},
            label="Monte Carlo",
        ),
    ]
    names = {
        xdot: r"\dot{x}_t",
        eta: r"\eta_t",
        x: "x",
        x0: "x_0",
        sp.Symbol("Var_MC"): r"\widehat{\mathrm{Var}}[x_t \mid x_0]",
    }
    return Derivation(
        NAME,
        TITLE,
        "From the forward SDE to the Gaussian conditional law "
        "$N(\\alpha_t x_0, S_t)$ and the mixture marginal over the training set "
        "(paper Sec. 2).",
        steps,
        result=3,
        names=names,
    )
