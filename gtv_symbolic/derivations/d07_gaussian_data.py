r"""Gaussian data :math:`x_0 \sim N(m_0, \Sigma_0)`: every quantity of the theory in closed form.

.. math::

    p(x \mid t) = N(\alpha_t m_0, K_t),\ K_t = \alpha_t^2 \Sigma_0 + \sigma_t^2 I, \qquad
    \Sigma_{\mathrm{post}} = (\Sigma_0^{-1} + \tfrac{\alpha_t^2}{\sigma_t^2} I)^{-1}, \qquad
    C = \frac{\alpha_t^2}{\sigma_t^4}\Sigma_{\mathrm{post}} = \frac{I}{\sigma_t^2} - K_t^{-1},

a nonzero constant in :math:`x` (paper Sec. 2 for this data; a benign case of paper Sec. 6). The
two forms of :func:`gtv_symbolic.proxy.sym_gaussian_covariance` are compared with each other and
with :math:`I/\sigma_t^2 - K_t^{-1}`, for a general symmetric 2x2 :math:`\Sigma_0`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import proxy
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_mc
from ..numeric import lambdify
from . import _common as c

__all__ = ["NAME", "TITLE", "build"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "gaussian-data"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = r"Gaussian data $N(m_0, \Sigma_0)$: score, posterior, constant $C$"

_S0 = np.array([[0.5, 0.2], [0.2, 0.3]])
_M0 = np.array([0.3, -0.2])


def _symbols():
    a11, a22 = sp.symbols("a_11 a_22", positive=True)
    a12 = sp.Symbol("a_12", real=True)
    S0 = sp.Matrix([[a11, a12], [a12, a22]])
    m0 = sp.Matrix(sp.symbols("m_01 m_02", real=True))
    return S0, m0, (a11, a12, a22)


def _C_expr():
    """``I/sigma^2 - K^-1`` for the symbolic 2x2 Sigma_0."""
    S0, _, _ = _symbols()
    K = S.alpha**2 * S0 + S.sigma2 * sp.eye(2)
    return sp.eye(2) / S.sigma2 - K.inv()


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """E over (x0, x) of (s~ - s)(s~ - s)^T vs the lambdified proxy.sym_gaussian_covariance."""
    vp = c.vp()
    S0, m0, (a11, a12, a22) = _symbols()
    Cf = lambdify(
        [S.alpha, S.sigma2, a11, a12, a22], proxy.sym_gaussian_covariance(m0, S0, "posterior"), stable=False
    )
    n, t = 100000, 0.3
    a, s2 = float(vp.alpha(t)), float(vp.sigma2(t))
    x0 = _M0 + rng.standard_normal((n, 2)) @ np.linalg.cholesky(_S0).T
    x = a * x0 + np.sqrt(s2) * rng.standard_normal((n, 2))
    s = -np.linalg.solve(a**2 * _S0 + s2 * np.eye(2), (x - a * _M0).T).T
    d = proxy.proxy_score(x, t, x0, vp) - s
    est, se = c.mean_se(d[:, :, None] * d[:, None, :])
    ref = Cf(a, s2, _S0[0, 0], _S0[0, 1], _S0[1, 1])
    return compare_mc(
        est,
        ref,
        se,
        n=n,
        what="2-D Gaussian data, VP at t = 0.3, (x0, x) from the forward process; "
        "mean of (proxy.proxy_score - s)(...)^T vs proxy.sym_gaussian_covariance",
    )


def build() -> Derivation:
    r"""Build the Gaussian-data derivation (unverified): a constant, nonzero proxy covariance.

    For :math:`x_0 \sim N(m_0, \Sigma_0)`, :math:`p(x \mid t) = N(\alpha_t m_0, K_t)` with
    :math:`K_t = \alpha_t^2 \Sigma_0 + \sigma_t^2 I` and :math:`\Sigma_{\mathrm{post}} =
    (\Sigma_0^{-1} + \alpha_t^2 \sigma_t^{-2} I)^{-1}` (paper Sec. 2; a benign case of Sec. 6):

    .. math::

        C = \frac{\alpha_t^2}{\sigma_t^4}\, \Sigma_{\mathrm{post}} = \frac{I}{\sigma_t^2} - K_t^{-1}
        \quad \text{(independent of } x\text{)}.

    Parameters
    ----------
    None

    Returns
    -------
    derivation : Derivation
        8 steps; results: steps 4 and 5 (symbolic, general symmetric 2x2 :math:`\Sigma_0`).

    Examples
    --------
    >>> from gtv_symbolic.derivations import REGISTRY
    >>> REGISTRY[NAME][0], NAME  # build() takes ~0.15 s; build().verify() is ``gtv derive gaussian-data``
    ('d07_gaussian_data', 'gaussian-data')
    """
    a, s2 = S.alpha, S.sigma2
    S0, m0, (a11, a12, a22) = _symbols()
    x = S.x_vec(2)
    x0 = sp.Matrix(sp.symbols("x0_1 x0_2", real=True))
    I2 = sp.eye(2)
    K = a**2 * S0 + s2 * I2
    quad = lambda v, A: (v.T * A * v)[0, 0]  # noqa: E731
    logp = -quad(x - a * m0, K.inv()) / 2
    Sp = (S0.inv() + a**2 / s2 * I2).inv()
    mp = Sp * (S0.inv() * m0 + a * x / s2)
    log_ratio = -quad(x - a * x0, I2) / (2 * s2) - quad(x0 - m0, S0.inv()) / 2 + quad(x0 - mp, Sp.inv()) / 2
    v0 = sp.Symbol("v_0", positive=True)
    Kg, S0g, Ig, Spg, mpg, sg, Cg = (
        sp.Symbol(n) for n in ("K_g", "S0_g", "I_g", "Sp_g", "mp_g", "s_g", "C_g")
    )
    Kinv, Sp_r = sp.Symbol("Kinv_g"), sp.Symbol("Sp_r")
    xg, x0g, m0g, grad0, dCdx = (sp.Symbol(n) for n in ("x_g", "x0_g", "m0_g", "grad0", "dCdx"))
    base = {Kg: K, S0g: S0, Ig: I2, xg: x, x0g: x0, m0g: m0, Spg: Sp, mpg: mp, Kinv: K.inv()}

    def cancel_then_factor(e):
        return sp.factor(sp.cancel(e))

    C_post = proxy.sym_gaussian_covariance(m0, S0, "posterior")
    C_hess = proxy.sym_gaussian_covariance(m0, S0, "hessian")
    steps = [
        Step(
            sg,
            -Kinv * (xg - a * m0g),
            "$x = \\alpha_t x_0 + \\sigma_t z$ with independent Gaussians: $p(x|t) = "
            "N(\\alpha_t m_0, K_t)$, $K_t = \\alpha_t^2 \\Sigma_0 + \\sigma_t^2 I$, with $\\Sigma_0 = "
            "[[a_{11}, a_{12}], [a_{12}, a_{22}]]$ general symmetric (D = 2); its score.",
            status="symbolic",
            defs={sg: sp.Matrix([sp.diff(logp, v) for v in x]), Kinv: K.inv(), xg: x, m0g: m0},
            simplifier=sp.cancel,
            label="score",
        ),
        Step(
            grad0,
            sp.zeros(2, 1),
            "The posterior of $x_0$ given $x$ is $N(m, \\Sigma_{\\mathrm{post}})$ with "
            "$\\Sigma_{\\mathrm{post}} = (\\Sigma_0^{-1} + \\alpha_t^2 I/\\sigma_t^2)^{-1}$ and $m(x,t) = "
            "\\Sigma_{\\mathrm{post}}(\\Sigma_0^{-1} m_0 + \\alpha_t x/\\sigma_t^2)$ (completing the "
            "square): $\\log p(x \\mid x_0) + \\log p(x_0) - \\log N(x_0; m, \\Sigma_{\\mathrm{post}})$ "
            "does not depend on $x_0$.",
            status="symbolic",
            defs={grad0: sp.Matrix([sp.diff(log_ratio, v) for v in x0])},
            simplifier=cancel_then_factor,
            label="completing the square",
        ),
        Step(
            sg,
            (a * mpg - xg) / s2,
            "Tweedie's formula holds: $(\\alpha_t m - x)/\\sigma_t^2 = -K_t^{-1}(x - \\alpha_t m_0)$.",
            status="symbolic",
            defs={sg: -K.inv() * (x - a * m0), **base},
            simplifier=cancel_then_factor,
            label="Tweedie",
        ),
        Step(
            Cg,
            a**2 / s2**2 * Spg,
            "The covariance of paper Sec. 2 for Gaussian data: the denoiser form "
            "(`proxy.sym_gaussian_covariance`, form 'posterior') equals the Hessian form "
            "$I/\\sigma_t^2 + \\nabla^2 \\log p$ (form 'hessian').",
            status="symbolic",
            defs={Cg: C_hess, **base},
            simplifier=cancel_then_factor,
            label="proxy covariance",
        ),
        Step(
            Cg,
            Ig / s2 - Kinv,
            "And both equal $I/\\sigma_t^2 - K_t^{-1}$.",
            status="symbolic",
            defs={Cg: C_post, **base},
            simplifier=cancel_then_factor,
            label="closed form",
        ),
        Step(
            dCdx,
            sp.zeros(4, 2),
            "$C$ does not depend on $x$: Gaussian data have the same "
            "nonzero proxy variance everywhere (no boundary regions).",
            status="symbolic",
            defs={
                dCdx: sp.Matrix([[sp.diff(C_hess[i, j], v) for v in x] for i in range(2) for j in range(2)])
            },
            simplifier=sp.cancel,
            label="constant in $x$",
        ),
        Step(
            sp.Symbol("C11"),
            a**2 * v0 / (s2 * (a**2 * v0 + s2)),
            "One dimension: the (1,1) entry with $\\Sigma_0$ diagonal.",
            status="symbolic",
            defs={sp.Symbol("C11"): C_post[0, 0]},
            where={a12: 0, a11: v0},
            simplifier=sp.cancel,
            label="$D = 1$",
        ),
        Step(
            sp.Symbol("C_mc"),
            Cg,
            "Monte Carlo from the forward process only (no posterior "
            "sampling): $\\mathbb{E}_x[C] = C$ because $C$ is constant.",
            status="monte-carlo",
            check=_mc_check,
            label="Monte Carlo",
        ),
    ]
    names = {
        Kg: "K_t",
        Kinv: r"K_t^{-1}",
        Sp_r: r"\left(\Sigma_0^{-1} + \frac{\alpha_t^{2}}{\sigma_t^{2}} I\right)^{-1}",
        S0g: r"\Sigma_0",
        Ig: "I",
        Spg: r"\Sigma_{\mathrm{post}}",
        mpg: r"m(x,t)",
        sg: r"s(x,t)",
        Cg: r"C(x,t)",
        xg: "x",
        x0g: "x_0",
        m0g: "m_0",
        grad0: r"\nabla_{x_0}\left[\log p(x \mid x_0) + \log p(x_0) - \log N(x_0; m, "
        r"\Sigma_{\mathrm{post}})\right]",
        dCdx: r"\nabla_x C(x,t)",
        sp.Symbol("C11"): r"C_{11}(x,t)",
        sp.Symbol("C_mc"): r"\widehat{\mathbb{E}}[(\tilde{s} - s)(\tilde{s} - s)^{T}]",
        v0: "v_0",
        a11: "a_{11}",
        a12: "a_{12}",
        a22: "a_{22}",
    }
    return Derivation(
        NAME,
        TITLE,
        "A data distribution where every quantity of the theory is "
        "explicit: the proxy covariance is a nonzero constant.",
        steps,
        result=(3, 4),
        names=names,
    )
