r"""Denoising score matching vs score matching (paper Sec. 2).

.. math::

    J_1(\theta) = J_0(\theta) + \tfrac12\, \mathbb{E}_t \mathbb{E}_{x \sim p(x|t)}
        [\lambda_t \operatorname{tr} C(x,t)],

so the two objectives differ by a constant and share the population minimiser. In denoiser form
:math:`\hat s = (\alpha_t \hat\mu - x)/\sigma_t^2` with :math:`\lambda_t = \sigma_t^2`:
:math:`\lambda_t \|\hat s - \tilde s\|^2 = (\alpha_t^2/\sigma_t^2) \|\hat\mu - x_0\|^2`.
The result is checked by Monte Carlo with the production :func:`gtv_symbolic.proxy.true_score`
and :func:`gtv_symbolic.proxy.covariance`; the tower property by quadrature with
:func:`gtv_symbolic.proxy.density` and :func:`gtv_symbolic.proxy.posterior_weights`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from scipy.integrate import trapezoid

from .. import proxy
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_close, compare_mc
from . import _common as c

__all__ = ["NAME", "TITLE", "build"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "dsm-vs-sm"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = (
    r"DSM vs score matching: $J_1 = J_0 + \frac{1}{2}\mathbb{E}[\lambda_t \mathrm{tr}\, C]$; denoiser weight"
)

_DATA = np.array([[-1.0], [0.0], [1.0]])


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """Mean of the per-sample J1 - J0 - offset integrand is 0 for two models (production s, C)."""
    vp = c.vp()
    n = 200000
    est, se = [], []
    for theta in (0.0, 1.5):
        t = rng.uniform(0.05, 1.0, n)
        x0 = _DATA[rng.integers(0, len(_DATA), n)]
        a, s2 = vp.alpha(t)[:, None], vp.sigma2(t)[:, None]
        x = a * x0 + np.sqrt(s2) * rng.standard_normal((n, 1))
        shat = -theta * x / s2  # a theta-family of score models
        st = proxy.proxy_score(x, t, x0, vp)
        s = proxy.true_score(x, t, _DATA, vp)
        trc = np.trace(proxy.covariance(x, t, _DATA, vp), axis1=-2, axis2=-1)
        lam = s2[:, 0]
        d = lam / 2 * (((shat - st) ** 2).sum(-1) - ((shat - s) ** 2).sum(-1)) - lam / 2 * trc
        m, e = c.mean_se(d)
        est.append(m)
        se.append(e)
    return compare_mc(
        est,
        [0.0, 0.0],
        se,
        n=n,
        what="data {-1, 0, 1}, VP, t ~ U[0.05, 1], lambda = sigma^2, models "
        "s^ = -theta x / sigma^2, theta in {0, 1.5}; mean of J1 - J0 - offset "
        "integrands with proxy.proxy_score, proxy.true_score, proxy.covariance",
    )


def _tower_check(rng: np.random.Generator) -> CheckResult:
    """Both orders of integration of f(x0, x) = x0 x^2 + x0^2 x^2 by quadrature on a fine grid."""
    vp = c.vp()
    t = 0.4
    a, s2 = float(vp.alpha(t)), float(vp.sigma2(t))
    f = lambda x0, x: x0 * x**2 + x0**2 * x**2  # noqa: E731
    mu = _DATA[:, 0]
    # E_{x0} E_{x|x0}[f]: Gaussian moments, exactly
    lhs = np.mean([m * ((a * m) ** 2 + s2) + m**2 * ((a * m) ** 2 + s2) for m in mu])
    grid = np.linspace(-8, 8, 4001)
    xs = grid[:, None]
    w = proxy.posterior_weights(xs, np.full(len(grid), t), _DATA, vp)
    inner = (w * f(mu[None, :], grid[:, None])).sum(-1)
    rhs = trapezoid(proxy.density(xs, np.full(len(grid), t), _DATA, vp) * inner, grid)
    _ = rng
    return compare_close(
        rhs,
        lhs,
        rtol=1e-8,
        atol=1e-10,
        what="f(x0, x) = x0 x^2 + x0^2 x^2, data {-1, 0, 1}, VP at t = 0.4: exact "
        "Gaussian moments vs trapezoidal quadrature (4001 points on [-8, 8]) "
        "of proxy.density times the posterior average with proxy.posterior_weights",
    )


def build() -> Derivation:
    r"""Build the DSM-vs-score-matching derivation (unverified): the objectives differ by a constant.

    The denoising objective :math:`J_1` and the score-matching objective :math:`J_0` (paper
    Sec. 2) differ by a term independent of the model, so they share the population minimiser:

    .. math::

        J_1(\theta) = J_0(\theta) + \tfrac{1}{2}\, \mathbb{E}_t\, \mathbb{E}_{x \sim p(x \mid t)}
            \big[\lambda_t\, \mathrm{tr}\, C(x,t)\big].

    Parameters
    ----------
    None

    Returns
    -------
    derivation : Derivation
        7 steps; result: step 5 (Monte Carlo with the production
        :func:`gtv_symbolic.proxy.true_score` and :func:`gtv_symbolic.proxy.covariance`).

    Examples
    --------
    >>> d = build()
    >>> len(d.steps), [i + 1 for i in d.result], [s.status for s in d.result_steps]
    (7, [5], ['monte-carlo'])
    """
    m, M, a, s2, lam = c.m, S.M, S.alpha, S.sigma2, S.lam
    g1 = proxy.generic_forms(1)
    kern, pst, s1 = g1["kernel"], g1["proxy_score"][0], g1["tweedie_score"][0]
    z = sp.Sum(kern, (m, 1, M))
    post = lambda e: sp.Sum(kern * e, (m, 1, M)) / z  # noqa: E731
    sh = sp.Symbol("shat", real=True)

    mu_h = sp.Matrix(sp.symbols("muhat_1:3", real=True))
    x0v = sp.Matrix(sp.symbols("x0_1:3", real=True))
    xv = S.x_vec(2)
    J0, J1, EC, Epost = sp.Symbol("J_0"), sp.Symbol("J_1"), sp.Symbol("EC_disp"), sp.Symbol("Epost_disp")
    sq_s, sq_c, dJ = sp.Symbol("sq_s"), sp.Symbol("trC_disp"), sp.Symbol("dJ")
    dsm_sq, den_sq = sp.Symbol("dsm_sq"), sp.Symbol("den_sq")
    tl, tr = sp.Symbol("tower_l"), sp.Symbol("tower_r")
    bv = {
        Epost: post((sh - pst) ** 2),
        sq_s: (sh - s1) ** 2,
        sq_c: a**2 / s2**2 * post((g1["mu"][m, 1] - g1["posterior_mean"][0]) ** 2),
    }
    shat_d, st_d = (a * mu_h - xv) / s2, (a * x0v - xv) / s2
    steps = [
        Step(
            J0,
            sp.Symbol("J0_def"),
            "Score-matching objective with weight $\\lambda_t$ (paper Sec. 2).",
            status="definition",
            label="$J_0$",
        ),
        Step(
            J1,
            sp.Symbol("J1_def"),
            "Denoising score matching: the target is the proxy score (paper Sec. 2).",
            status="definition",
            label="$J_1$",
        ),
        Step(
            tl,
            tr,
            "Both sides integrate $f$ against the same joint law of $(x_0, x)$ at each "
            "$t$ (Bayes' rule): average over $x$ first, then over the posterior of $x_0$.",
            status="numeric",
            check=_tower_check,
            label="tower property",
        ),
        Step(
            Epost,
            sq_s + sq_c,
            "Bias-variance split at fixed $(x, t)$, using $\\mathbb{E}_{x_0 "
            "\\mid x,t}[\\tilde{s}] = s$ and the denoiser form of $C$ (proxy-unbiased and "
            "proxy-covariance derivations); one coordinate (the squared norm is a sum over "
            "coordinates), every M (indexed sum).",
            status="numeric",
            defs=bv,
            where={c.DIM: 1},
            label="bias-variance",
        ),
        Step(
            J1,
            J0 + EC,
            "Insert the split into $J_1$ with the tower property.",
            status="monte-carlo",
            check=_mc_check,
            label="offset",
        ),
        Step(
            dJ,
            0,
            "The offset does not depend on the model output: the derivative of "
            "$\\mathbb{E}_{x_0 \\mid x,t}\\|\\hat{s} - \\tilde{s}\\|^2 - \\|\\hat{s} - s\\|^2$ with "
            "respect to $\\hat{s}$ vanishes, so $J_0$ and $J_1$ share the minimiser (every M).",
            status="numeric",
            defs={dJ: sp.diff(bv[Epost] - bv[sq_s], sh)},
            where={c.DIM: 1},
            label="same minimiser",
        ),
        Step(
            lam * dsm_sq,
            a**2 / s2 * den_sq,
            "Denoiser form $\\hat{s} = (\\alpha_t\\hat{\\mu} - "
            "x)/\\sigma_t^2$ with the paper code's weight $\\lambda_t = \\sigma_t^2$: the DSM loss "
            "is a denoising loss with weight $\\alpha_t^2/\\sigma_t^2$ (D = 2).",
            status="symbolic",
            defs={
                dsm_sq: ((shat_d - st_d).T * (shat_d - st_d))[0, 0],
                den_sq: ((mu_h - x0v).T * (mu_h - x0v))[0, 0],
            },
            where={lam: s2},
            simplifier=sp.expand,
            label="denoiser weight",
        ),
    ]
    names = dict(c.NAMES)
    names.update(
        {
            J0: "J_0",
            J1: "J_1",
            sh: r"\hat{s}",
            sp.Symbol("J0_def"): r"\mathbb{E}_t \mathbb{E}_{x \sim p(x|t)} \left[\frac{\lambda_t}{2} "
            r"\| \hat{s}_\theta(x,t) - s(x,t) \|^2\right]",
            sp.Symbol("J1_def"): r"\mathbb{E}_t \mathbb{E}_{x_0} \mathbb{E}_{x \sim p(x|x_0,t)} "
            r"\left[\frac{\lambda_t}{2} \| \hat{s}_\theta(x,t) - "
            r"\tilde{s}(x,t;x_0) \|^2\right]",
            tl: r"\mathbb{E}_{x_0} \mathbb{E}_{x \mid x_0, t}[f(x_0, x)]",
            tr: r"\mathbb{E}_{x \mid t} \mathbb{E}_{x_0 \mid x, t}[f(x_0, x)]",
            Epost: r"\mathbb{E}_{x_0 \mid x,t} \| \hat{s} - \tilde{s} \|^2",
            sq_s: r"\| \hat{s} - s \|^2",
            sq_c: r"\mathrm{tr}\, C(x,t)",
            EC: r"\frac{1}{2} \mathbb{E}_t \mathbb{E}_{x \sim p(x|t)}[\lambda_t \, \mathrm{tr}\, C(x,t)]",
            dJ: r"\frac{\partial}{\partial \hat{s}} \left(\mathbb{E}_{x_0 \mid x,t} "
            r"\| \hat{s} - \tilde{s} \|^2 - \| \hat{s} - s \|^2\right)",
            dsm_sq: r"\| \hat{s} - \tilde{s} \|^2",
            den_sq: r"\| \hat{\mu} - x_0 \|^2",
        }
    )
    return Derivation(
        NAME,
        TITLE,
        "Why DSM trains the right model on average, and where its extra variance sits (paper Sec. 2).",
        steps,
        result=4,
        names=names,
    )
