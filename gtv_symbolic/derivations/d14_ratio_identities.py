r"""The Figure 1 ratio and its computed forms.

.. math::

    R(x,t) = \frac{\mathrm{tr}\, C}{\mathrm{tr}\, C + \|s\|^2}
           = \frac{\mathrm{tr}\, C}{\mathbb{E}_{x_0 \mid x,t}\|\tilde s\|^2}
           = \frac{\mathrm{tr}\,\Sigma_{\mathrm{post}}}
                  {\mathrm{tr}\,\Sigma_{\mathrm{post}} + \|x/\alpha_t - m(x,t)\|^2}
           \in [0, 1]:

the share of the proxy score's mean square that is fluctuation rather than signal (paper Fig. 1).
The last form, in which :math:`\alpha_t^2/\sigma_t^4` cancels, is the one
:func:`gtv_symbolic.proxy.variance_ratio` evaluates; it is compared with
:func:`~gtv_symbolic.proxy.covariance` and :func:`~gtv_symbolic.proxy.true_score`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import proxy
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_close
from ..schedules import Fig1
from . import _common as c

__all__ = ["NAME", "TITLE", "build"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "ratio-identities"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = r"Figure 1 ratio $R = \mathrm{tr}\, C / (\mathrm{tr}\, C + \|s\|^2)$: forms and bounds"


def _production_check(rng: np.random.Generator) -> CheckResult:
    """proxy.variance_ratio vs tr proxy.covariance / (tr C + |proxy.true_score|^2)."""
    got, ref = [], []
    for sched in (c.vp(), Fig1()):
        data = rng.uniform(-1, 1, (6, 2))
        x, t = c.example_points(rng, 40, 2, data, sched, t_range=(0.05, 0.6))
        trc = np.trace(proxy.covariance(x, t, data, sched), axis1=-2, axis2=-1)
        s2 = np.sum(proxy.true_score(x, t, data, sched) ** 2, -1)
        got.append(proxy.variance_ratio(x, t, data, sched))
        ref.append(trc / (trc + s2))
    return compare_close(
        np.concatenate(got),
        np.concatenate(ref),
        rtol=1e-9,
        atol=1e-12,
        what="M = 6 random points in 2-D, 40 random (x, t) each for the VP and "
        "Figure 1 schedules: proxy.variance_ratio vs tr proxy.covariance / "
        "(tr C + |proxy.true_score|^2)",
    )


def _range_check(rng: np.random.Generator) -> CheckResult:
    """0 <= proxy.variance_ratio <= 1 on random sets, including small t (underflowing weights)."""
    vp = c.vp()
    vals = []
    for _ in range(10):
        data = rng.uniform(-2, 2, (int(rng.integers(1, 9)), 2))
        x, t = c.example_points(rng, 50, 2, data, vp, t_range=(1e-4, 1.0))
        vals.append(proxy.variance_ratio(x, t, data, vp))
    v = np.concatenate(vals)
    ok = bool(np.all(np.isfinite(v)) and np.all(v >= 0) and np.all(v <= 1))
    return CheckResult(
        ok,
        "10 random sets (M from 1 to 8, D = 2), 50 random (x, t) each with t in "
        f"[1e-4, 1], VP: min {v.min():.2f}, max {v.max():.2f} of proxy.variance_ratio",
        None,
    )


def build() -> Derivation:
    r"""Build the ratio-identities derivation (unverified): the forms of the Figure 1 ratio.

    The share of the proxy score's mean square that is fluctuation (paper Fig. 1), and the
    form :func:`gtv_symbolic.proxy.variance_ratio` evaluates, in which
    :math:`\alpha_t^2/\sigma_t^4` cancels:

    .. math::

        R(x,t) = \frac{\mathrm{tr}\, C}{\mathrm{tr}\, C + \|s\|^2}
               = \frac{\mathrm{tr}\, \Sigma_{\mathrm{post}}}
                      {\mathrm{tr}\, \Sigma_{\mathrm{post}} + \|x/\alpha_t - m(x,t)\|^2} \in [0, 1].

    Parameters
    ----------
    None

    Returns
    -------
    derivation : Derivation
        8 steps; results: step 4 (the computed form) and step 7 (the production ratio), both
        numeric.

    Examples
    --------
    >>> d = build()
    >>> len(d.steps), [i + 1 for i in d.result], [s.status for s in d.result_steps]
    (8, [4, 7], ['numeric', 'numeric'])
    """
    a, m, M = S.alpha, c.m, S.M
    g = proxy.generic_forms(2)
    kern, pst = g["kernel"], g["proxy_score"]
    z = sp.Sum(kern, (m, 1, M))
    post = lambda e: sp.Sum(kern * e, (m, 1, M)) / z  # noqa: E731
    score = g["tweedie_score"]
    trC_c = g["covariance"].trace()
    x = S.x_vec(2)
    R, trC, ssq, Est2, trSp, res2 = (
        sp.Symbol(n) for n in ("R_r", "trC_r", "ssq_r", "Est2_r", "trSp_r", "res2_r")
    )
    T, Q = sp.Symbol("T_r", positive=True), sp.Symbol("Q_r", nonnegative=True)
    resid = x / a - g["posterior_mean"]
    gen = {
        trC: trC_c,
        ssq: (score.T * score)[0, 0],
        Est2: post((pst.T * pst)[0, 0]),
        trSp: g["posterior_covariance"].trace(),
        res2: (resid.T * resid)[0, 0],
    }
    steps = [
        Step(R, trC / (trC + ssq), "The Figure 1 ratio (paper Fig. 1).", status="definition", label="$R$"),
        Step(
            Est2,
            trC + ssq,
            "Second moment = covariance + squared mean, with $\\mathbb{E}_{x_0 "
            "\\mid x,t}[\\tilde{s}] = s$ (every M, indexed sum, D = 2).",
            status="numeric",
            defs=gen,
            label="mean square of $\\tilde{s}$",
        ),
        Step(
            trC / (trC + ssq),
            trC / Est2,
            "So $R$ is the fluctuation share of "
            "$\\mathbb{E}\\|\\tilde{s}\\|^2$ (every M, indexed sum, D = 2).",
            status="numeric",
            defs=gen,
            domain={M: (2, 4)},
            label="fluctuation share",
        ),
        Step(
            trC / (trC + ssq),
            trSp / (trSp + res2),
            "With $C = \\alpha_t^2\\Sigma_{\\mathrm{post}}"
            "/\\sigma_t^4$ and $s = \\alpha_t(m - x/\\alpha_t)/\\sigma_t^2$ the factor "
            "$\\alpha_t^2/\\sigma_t^4$ cancels: the form `proxy.variance_ratio` evaluates (in log "
            "space; every M, indexed sum, D = 2).",
            status="numeric",
            defs=gen,
            domain={M: (2, 4)},
            label="computed form",
        ),
        Step(
            T / (T + Q),
            1,
            "$R \\le 1$: $1 - R = \\|s\\|^2/(\\mathrm{tr}\\, C + \\|s\\|^2) \\ge 0$, "
            "with $\\mathrm{tr}\\, C = T > 0$ and $\\|s\\|^2 = Q \\ge 0$.",
            status="symbolic",
            relation="<=",
            label="upper bound",
        ),
        Step(T / (T + Q), 0, "$R \\ge 0$.", status="symbolic", relation=">=", label="lower bound"),
        Step(
            sp.Symbol("R_prod"),
            trC / (trC + ssq),
            "The production ratio against the production covariance and score.",
            status="numeric",
            check=_production_check,
            label="production ratio",
        ),
        Step(
            sp.Symbol("R_prod"),
            sp.Interval(0, 1),
            "The production ratio stays in $[0, 1]$, also where the posterior weights underflow.",
            status="numeric",
            check=_range_check,
            label="production range",
        ),
    ]
    names = dict(c.NAMES)
    names.update(
        {
            R: "R(x,t)",
            trC: r"\mathrm{tr}\, C(x,t)",
            ssq: r"\|s(x,t)\|^2",
            Est2: r"\mathbb{E}_{x_0 \mid x,t}\|\tilde{s}\|^2",
            trSp: r"\mathrm{tr}\, \Sigma_{\mathrm{post}}(x,t)",
            res2: r"\|x/\alpha_t - m(x,t)\|^2",
            T: r"\mathrm{tr}\, C",
            Q: r"\|s\|^2",
            sp.Symbol("R_prod"): r"R^{\mathrm{proxy}}(x,t)",
        }
    )
    return Derivation(
        NAME,
        TITLE,
        "The quantity plotted in Figure 1 in its equivalent forms, and "
        "the form the package computes (paper Fig. 1).",
        steps,
        result=(3, 6),
        names=names,
    )
