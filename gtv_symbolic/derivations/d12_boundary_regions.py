r"""Boundary regions: where the proxy covariance :math:`C` and the ratio :math:`R` are large.

With :math:`\Delta_m = \mu_m - \mu_1` and the posterior weights :math:`w_m` (paper Sec. 2),
at the *noised* training point :math:`x = \alpha_t \mu_1`

.. math::

    s = \frac{\alpha_t}{\sigma_t^2} \sum_m w_m \Delta_m, \qquad
    R = 1 - \frac{\|\sum_m w_m \Delta_m\|^2}{\sum_m w_m \|\Delta_m\|^2}
      \;\ge\; 1 - \sum_{m \ne 1} w_m \;\to\; 1 \quad (t \to 0),

because the score vanishes at the same rate as :math:`\mathrm{tr}\, C` (both exponentially small);
at a fixed :math:`x` near, but not at, :math:`\alpha_t \mu_1` (e.g. the clean point :math:`\mu_1
\ne 0` under the VP schedule) :math:`R \to 0`; on the bisector of two points :math:`C =
\alpha_t^2 \Delta\Delta^T / (4\sigma_t^4)` diverges as :math:`t \to 0`. So "R -> 1 at a training
point" holds exactly at the noised point :math:`\alpha_t \mu_m` (the clean point when
:math:`\alpha_t = 1` or :math:`\mu_m = 0`), not at the clean point in general. All numeric steps use
:func:`gtv_symbolic.proxy.variance_ratio`, :func:`~gtv_symbolic.proxy.covariance` and
:func:`~gtv_symbolic.proxy.posterior_weights`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import proxy
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_close, compare_scaling, fmt_num
from ..schedules import VE
from . import _common as c

__all__ = ["NAME", "TITLE", "build"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "boundary-regions"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = r"Boundary regions: $C$ and $R$ as $t \to 0$ near, at and between training points"

_MU = np.array([[1.0, 0.0], [-0.5, 0.8], [-0.4, -0.9], [1.6, 1.1]])
_TS = (0.03, 0.01, 0.003)


def _noised_point_check(rng: np.random.Generator) -> CheckResult:
    """proxy.variance_ratio at x = alpha_t mu_1 vs 1 - |sum w D|^2 / sum w |D|^2 (random sets)."""
    vp = c.vp()
    got, ref = [], []
    for _ in range(20):
        mu = rng.uniform(-1.5, 1.5, (int(rng.integers(2, 7)), 2))
        t = rng.uniform(0.1, 0.6)
        x = vp.alpha(t) * mu[:1]
        w = proxy.posterior_weights(x, t, mu, vp)[0]
        d = mu - mu[0]
        ref.append(1 - np.sum((w @ d) ** 2) / np.sum(w * np.sum(d**2, 1)))
        got.append(proxy.variance_ratio(x, t, mu, vp)[0])
    return compare_close(
        got,
        ref,
        rtol=1e-9,
        atol=1e-12,
        what="20 random training sets (M from 2 to 6, D = 2), t ~ U[0.1, 0.6], VP, "
        "x = alpha_t mu_1: proxy.variance_ratio vs the weighted-moment form "
        "from proxy.posterior_weights",
    )


def _bound_check(rng: np.random.Generator) -> CheckResult:
    """R(alpha_t mu_1) >= 1 - sum_{m != 1} w_m on random sets (the Cauchy-Schwarz bound)."""
    vp = c.vp()
    gap = []
    for _ in range(40):
        mu = rng.uniform(-1.5, 1.5, (int(rng.integers(2, 7)), 2))
        t = rng.uniform(0.05, 0.8)
        x = vp.alpha(t) * mu[:1]
        w = proxy.posterior_weights(x, t, mu, vp)[0]
        gap.append(proxy.variance_ratio(x, t, mu, vp)[0] - (1 - w[1:].sum()))
    worst = float(-min(0.0, min(gap)))
    return CheckResult(
        worst <= 1e-12,
        "40 random training sets (M from 2 to 6, D = 2), t ~ "
        "U[0.05, 0.8], VP: R - (1 - sum of the other weights) with proxy.variance_ratio "
        f"and proxy.posterior_weights; largest violation {fmt_num(worst)}",
        worst,
    )


def _limit_at(point, sched, target, where):
    def check(rng):
        vals = [proxy.variance_ratio(point(sched, t)[None], t, _MU, sched)[0] for t in _TS]
        return c.limit_check(
            _TS,
            vals,
            target,
            tol=1e-9,
            what=f"proxy.variance_ratio at {where}, {sched.name} schedule, M = 4 points in 2-D",
        )

    return check


def _midpoint_scaling(rng: np.random.Generator) -> CheckResult:
    """tr C at the midpoint of the two nearest points vs alpha^2 |Delta|^2 / (4 sigma^4), M = 4."""
    vp = c.vp()
    ratios = []
    for t in _TS:
        a, s2 = float(vp.alpha(t)), float(vp.sigma2(t))
        mid = a * (_MU[0] + _MU[1]) / 2
        trc = np.trace(proxy.covariance(mid[None], t, _MU, vp)[0])
        ratios.append(trc / (a**2 * np.sum((_MU[0] - _MU[1]) ** 2) / (4 * s2**2)))
    return compare_scaling(
        [1 / t for t in _TS],
        ratios,
        0.0,
        what="proxy.covariance at the midpoint of mu_1, mu_2 of M = 4 points in 2-D, VP; sizes are 1/t",
    )


def build() -> Derivation:
    r"""Build the boundary-regions derivation (unverified): :math:`C` and :math:`R` as :math:`t \to 0`.

    With :math:`\Delta_m = \mu_m - \mu_1` and posterior weights :math:`w_m` (paper Sec. 2, Fig. 1):
    at the noised training point the ratio tends to 1, at a fixed point near (not at) it to 0,
    and on the bisector of two points (:math:`M = 2`, :math:`\Delta = \mu_2 - \mu_1`) :math:`C`
    diverges:

    .. math::

        R\big|_{x = \alpha_t \mu_1} = 1 - \frac{\|\sum_m w_m \Delta_m\|^2}{\sum_m w_m \|\Delta_m\|^2}
            \xrightarrow{t \to 0} 1, \qquad
        R\big|_{x = \mu_1 + \delta} \xrightarrow{t \to 0} 0, \qquad
        C\big|_{\text{bisector}} = \frac{\alpha_t^2\, \Delta \Delta^T}{4 \sigma_t^4}.

    Parameters
    ----------
    None

    Returns
    -------
    derivation : Derivation
        11 steps; results: step 2 (numeric, random points), steps 6 and 7 (the limits, with
        :func:`gtv_symbolic.proxy.variance_ratio`) and step 10 (symbolic, :math:`M = 2`).

    Examples
    --------
    >>> d = build()
    >>> len(d.steps), [i + 1 for i in d.result], [s.status for s in d.result_steps]
    (11, [2, 6, 7, 10], ['numeric', 'numeric', 'numeric', 'symbolic'])
    """
    a, s2, M, m = S.alpha, S.sigma2, S.M, c.m
    g = proxy.generic_forms(2)
    x = S.x_vec(2)
    mu = g["mu"]
    kern = g["kernel"]
    z = sp.Sum(kern, (m, 1, M))
    post = lambda e: sp.Sum(kern * e, (m, 1, M)) / z  # noqa: E731
    dm = [mu[m, i] - mu[1, i] for i in (1, 2)]
    at_noised = {x[0]: a * mu[1, 1], x[1]: a * mu[1, 2]}
    R, sc, Rn, wD, wD2 = (sp.Symbol(n) for n in ("R_g", "s_g", "Rn_g", "wD_g", "wD2_g"))
    score = g["tweedie_score"]

    mus2 = list(S.mu_vecs(2, 1))
    q = 1 / (1 + sp.exp(a**2 * (mus2[1][0] - mus2[0][0]) ** 2 / (2 * s2)))
    mus2d = list(S.mu_vecs(2, 2))
    d2 = mus2d[1] - mus2d[0]
    lam = sp.Symbol("lambda_b", real=True)
    bisector = a * (mus2d[0] + mus2d[1]) / 2 + lam * sp.Matrix([-d2[1], d2[0]])
    Cb, Dl = sp.Symbol("C_b"), sp.Symbol("Delta_b")
    sub_b = {x[0]: bisector[0], x[1]: bisector[1]}
    lim_r = sp.Symbol("limR")
    steps = [
        Step(
            sc,
            a / s2 * wD,
            "At the noised point $x = \\alpha_t\\mu_1$: $s = \\alpha_t(m - \\mu_1)"
            "/\\sigma_t^2$ and $\\sum_m w_m = 1$ (every M, indexed sum, D = 2).",
            status="numeric",
            defs={sc: score.subs(at_noised), wD: sp.Matrix([post(e) for e in dm]).subs(at_noised)},
            where={sp.Symbol("x_b"): a * sp.Symbol("mu_1b")},
            label="score at the noised point",
        ),
        Step(
            R,
            1 - sp.Symbol("wDsq") / wD2,
            "With $R = \\mathrm{tr}\\, C/(\\mathrm{tr}\\, C + \\|s\\|^2)$ (ratio-identities "
            "derivation) and $\\mathrm{tr}\\,\\Sigma_{\\mathrm{post}} = "
            "\\sum_m w_m\\|\\Delta_m\\|^2 - \\|\\sum_m w_m \\Delta_m\\|^2$ (shift invariance), the "
            "factor $\\alpha_t^2/\\sigma_t^4$ cancels from $R$ (every M, indexed sum, D = 2).",
            status="numeric",
            defs={
                R: g["variance_ratio"].subs(at_noised),
                sp.Symbol("wDsq"): sum(post(e) ** 2 for e in dm).subs(at_noised),
                wD2: post(sum(e**2 for e in dm)).subs(at_noised),
            },
            where={sp.Symbol("x_b"): a * sp.Symbol("mu_1b")},
            domain={M: (2, 4)},
            label="exact $R$ at the noised point",
        ),
        Step(
            R,
            1 - sp.Symbol("wDsq") / wD2,
            "The same identity for the production ratio `proxy.variance_ratio`.",
            status="numeric",
            check=_noised_point_check,
            where={sp.Symbol("x_b"): a * sp.Symbol("mu_1b")},
            label="production $R$ at the noised point",
        ),
        Step(
            R,
            1 - q,
            "Two points: $R = 1 - w_2$, with $w_2 = 1/(1 + e^{\\alpha_t^2 |\\mu_2 - "
            "\\mu_1|^2 / (2\\sigma_t^2)})$ the weight of the other point (`proxy.sym_variance_ratio`, "
            "one dimension).",
            status="symbolic",
            defs={R: proxy.sym_variance_ratio(mus2)},
            where={M: 2, S.x_vec(1)[0]: a * mus2[0][0]},
            simplifier=sp.simplify,
            label="two points",
        ),
        Step(
            R,
            1 - sp.Symbol("wother"),
            "Cauchy-Schwarz, $\\|\\sum_{m} w_m \\Delta_m\\|^2 \\le "
            "(\\sum_{m \\ne 1} w_m) \\sum_m w_m \\|\\Delta_m\\|^2$ ($\\Delta_1 = 0$).",
            relation=">=",
            status="numeric",
            check=_bound_check,
            where={sp.Symbol("x_b"): a * sp.Symbol("mu_1b")},
            label="lower bound",
        ),
        Step(
            lim_r,
            1,
            "Hence $R \\to 1$ at the noised point as $t \\to 0$: the other weights "
            "vanish like $e^{-\\alpha_t^2 \\|\\Delta_m\\|^2/(2\\sigma_t^2)}$, and the score vanishes "
            "at the same rate as $\\mathrm{tr}\\, C$ ($|s|^2 \\ll \\mathrm{tr}\\, C$).",
            status="numeric",
            check=_limit_at(lambda sc_, t: sc_.alpha(t) * _MU[0], c.vp(), 1.0, "x = alpha_t mu_1"),
            where={sp.Symbol("x_b"): a * sp.Symbol("mu_1b")},
            label="$R \\to 1$ at $\\alpha_t \\mu_1$",
        ),
        Step(
            lim_r,
            0,
            "At a fixed point near $\\mu_1$ but not at the noised point, $s \\approx "
            "(\\alpha_t \\mu_1 - x)/\\sigma_t^2$ diverges while $\\mathrm{tr}\\, C$ is exponentially "
            "small: $R \\to 0$ (here $x = \\mu_1 + (0.05, 0.03)$).",
            status="numeric",
            check=_limit_at(
                lambda sc_, t: _MU[0] + np.array([0.05, 0.03]), c.vp(), 0.0, "x = mu_1 + (0.05, 0.03)"
            ),
            where={sp.Symbol("x_b"): sp.Symbol("mu_1b") + sp.Symbol("delta_b")},
            label="$R \\to 0$ near $\\mu_1$",
        ),
        Step(
            lim_r,
            0,
            "Exactly at the clean training point $\\mu_1 \\ne 0$ under the VP schedule: "
            "$x - \\alpha_t\\mu_1 = (1 - \\alpha_t)\\mu_1$ and $s \\to -\\mu_1/2$ stays finite, "
            "so again $R \\to 0$.",
            status="numeric",
            check=_limit_at(lambda sc_, t: _MU[0], c.vp(), 0.0, "x = mu_1"),
            where={sp.Symbol("x_b"): sp.Symbol("mu_1b")},
            label="$R \\to 0$ at $\\mu_1$ (VP)",
        ),
        Step(
            lim_r,
            1,
            "With the VE schedule ($\\alpha_t = 1$) the clean point is the noised point: $R \\to 1$.",
            status="numeric",
            check=_limit_at(lambda sc_, t: _MU[0], VE(), 1.0, "x = mu_1"),
            where={sp.Symbol("x_b"): sp.Symbol("mu_1b")},
            label="$R \\to 1$ at $\\mu_1$ (VE)",
        ),
        Step(
            Cb,
            a**2 / (4 * s2**2) * Dl,
            "On the bisector of two points, $x = \\alpha_t(\\mu_1 + "
            "\\mu_2)/2 + \\lambda\\,\\Delta^{\\perp}$, the weights are $1/2$ each and $C = \\alpha_t^2 "
            "\\Delta\\Delta^{T}/(4\\sigma_t^4)$, $\\Delta = \\mu_2 - \\mu_1$ (`proxy.sym_covariance`, "
            "M = 2, D = 2).",
            status="symbolic",
            defs={Cb: proxy.sym_covariance(mus2d).subs(sub_b), Dl: d2 * d2.T},
            where={M: 2},
            simplifier=sp.simplify,
            label="Voronoi edge",
        ),
        Step(
            sp.Symbol("trC_mid"),
            a**2 * sp.Symbol("D2") / (4 * s2**2),
            "Between two nearest "
            "neighbours of a larger set the other weights vanish as $t \\to 0$: at the midpoint, "
            "$\\mathrm{tr}\\, C$ grows like $\\alpha_t^2\\|\\Delta\\|^2/(4\\sigma_t^4)$, without bound.",
            relation="~",
            status="numeric",
            check=_midpoint_scaling,
            label="$C$ large on the edge",
        ),
    ]
    names = dict(c.NAMES)
    names.update(
        {
            R: "R(x,t)",
            sc: "s(x,t)",
            wD: r"\sum_m w_m \Delta_m",
            sp.Symbol("wDsq"): r"\left\|\sum_m w_m \Delta_m\right\|^2",
            wD2: r"\sum_m w_m \|\Delta_m\|^2",
            sp.Symbol("wother"): r"\sum_{m \ne 1} w_m",
            sp.Symbol("R_def"): r"\frac{\mathrm{tr}\, C(x,t)}{\mathrm{tr}\, C(x,t) + \|s(x,t)\|^2}",
            sp.Symbol("x_b"): "x",
            sp.Symbol("mu_1b"): r"\mu_1",
            sp.Symbol("delta_b"): r"\delta",
            lim_r: r"\lim_{t \to 0} R(x,t)",
            Cb: "C(x,t)",
            Dl: r"\Delta\Delta^{T}",
            lam: r"\lambda",
            sp.Symbol("trC_mid"): r"\mathrm{tr}\, C\left(\alpha_t \frac{\mu_1 + \mu_2}{2}, t\right)",
            sp.Symbol("D2"): r"\|\Delta\|^2",
        }
    )
    return Derivation(
        NAME,
        TITLE,
        "Where the DSM target is noisy: the limits $t \\to 0$ of the "
        "proxy covariance and of the Figure 1 ratio near, at and between training "
        "points (paper Sec. 2 and Fig. 1).",
        steps,
        result=(1, 5, 6, 9),
        names=names,
    )
