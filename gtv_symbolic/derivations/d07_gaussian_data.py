r"""Gaussian data ``x0 ~ N(m0, S0)``: everything in closed form (paper-math.md 2.5, 9.6).

``p(x|t) = N(alpha m0, K)``, ``K = alpha^2 S0 + sigma^2 I``; score ``-K^-1 (x - alpha m0)``;
posterior ``Sigma_post = (S0^-1 + alpha^2/sigma^2 I)^-1`` (constant in x); proxy covariance
``C = alpha^2 Sigma_post / sigma^4 = I/sigma^2 - K^-1`` (paper Eq. (5)), a nonzero constant.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_mc
from ..numeric import lambdify
from . import _common as c

NAME = "gaussian-data"
TITLE = "Gaussian data N(m0, S0): score, posterior, constant C"

_S0 = np.array([[0.5, 0.2], [0.2, 0.3]])
_M0 = np.array([0.3, -0.2])


def _symbols():
    a11, a22 = sp.symbols("a_11 a_22", positive=True)
    a12 = sp.Symbol("a_12", real=True)
    S0 = sp.Matrix([[a11, a12], [a12, a22]])
    m0 = sp.Matrix(sp.symbols("m_01 m_02", real=True))
    return S0, m0, (a11, a12, a22)


def _C_expr():
    S0, _, _ = _symbols()
    K = S.alpha**2 * S0 + S.sigma2 * sp.eye(2)
    return sp.eye(2) / S.sigma2 - K.inv()


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """E over (x0, x) of (s~ - s(x))(s~ - s(x))^T equals the constant C (forward sampling only)."""
    vp = c.vp()
    S0, _, (a11, a12, a22) = _symbols()
    Cf = lambdify([S.alpha, S.sigma2, a11, a12, a22], _C_expr(), stable=False)
    n, t = 100000, 0.3
    a, s2 = float(vp.alpha(t)), float(vp.sigma2(t))
    L = np.linalg.cholesky(_S0)
    x0 = _M0 + rng.standard_normal((n, 2)) @ L.T
    x = a * x0 + np.sqrt(s2) * rng.standard_normal((n, 2))
    K = a**2 * _S0 + s2 * np.eye(2)
    s = -np.linalg.solve(K, (x - a * _M0).T).T
    d = (a * x0 - x) / s2 - s
    prod = d[:, :, None] * d[:, None, :]
    ref = Cf(a, s2, _S0[0, 0], _S0[0, 1], _S0[1, 1])
    return compare_mc(prod.mean(0), ref, prod.std(0, ddof=1) / np.sqrt(n), n=n,
                      what="2-D Gaussian data, VP at t = 0.3, (x0, x) from the forward process; "
                           "mean of (s~ - s)(s~ - s)^T vs the lambdified constant C")


def build() -> Derivation:
    a, s2 = S.alpha, S.sigma2
    S0, m0, _ = _symbols()
    x = S.x_vec(2)
    x0 = sp.Matrix(sp.symbols("x0_1 x0_2", real=True))
    I2 = sp.eye(2)
    K = a**2 * S0 + s2 * I2
    Kinv = K.inv()
    quad = lambda v, A: (v.T * A * v)[0, 0]  # noqa: E731
    logp = -quad(x - a * m0, Kinv) / 2
    score = -Kinv * (x - a * m0)
    Sp = (S0.inv() + a**2 / s2 * I2).inv()
    mp = Sp * (S0.inv() * m0 + a * x / s2)
    log_joint = -quad(x - a * x0, I2) / (2 * s2) - quad(x0 - m0, S0.inv()) / 2
    log_post = -quad(x0 - mp, Sp.inv()) / 2
    post_res = sp.Matrix([sp.diff(log_joint - log_post, v) for v in x0])
    C_den = a**2 * Sp / s2**2
    v0 = sp.Symbol("v_0", positive=True)

    def cancel_then_factor(e):
        return sp.factor(sp.cancel(e))

    D = {sp.Symbol("p_g"): r"p(x \mid t)", sp.Symbol("K_g"): "K_t", sp.Symbol("s_g"): r"s(x,t)",
         sp.Symbol("Sp_g"): r"\Sigma_{\mathrm{post}}", sp.Symbol("mp_g"): r"m(x,t)",
         sp.Symbol("C_g"): r"C(x,t)", sp.Symbol("C_1d"): r"C(x,t)|_{D=1}",
         sp.Symbol("C_mc"): r"\widehat{\mathbb{E}}[(\tilde{s} - s)(\tilde{s} - s)^{T}]",
         sp.Symbol("dCdx"): r"\nabla_x C(x,t)", v0: "v_0"}
    steps = [
        c.legacy_step(sp.Symbol("K_g"), a**2 * sp.Symbol("S0_g") + s2 * sp.Symbol("I_g"),
             "$x = \\alpha_t x_0 + \\sigma_t z$ with independent Gaussians: "
             "$p(x|t) = N(\\alpha_t m_0, K_t)$ (general symmetric $\\Sigma_0 = [[a_{11}, a_{12}], "
             "[a_{12}, a_{22}]]$, D = 2).",
             method="definition", label="marginal"),
        c.legacy_step(sp.Symbol("s_g"), -sp.Symbol("Kinv_g") * sp.Symbol("x_m_disp"), "Gradient of the "
             "Gaussian log-density.", residual=sp.Matrix([sp.diff(logp, v) for v in x]) - score,
             simplifier=sp.cancel, label="score"),
        c.legacy_step(sp.Symbol("Sp_g"), sp.Symbol("Sp_r"), "Posterior of $x_0$: "
             "$\\log p(x|x_0) + \\log p(x_0) - \\log N(x_0; m, \\Sigma_{post})$ has zero gradient in "
             "$x_0$ (completing the square), with $m = \\Sigma_{post}(\\Sigma_0^{-1} m_0 + \\alpha_t "
             "x/\\sigma_t^2)$.", residual=post_res, simplifier=cancel_then_factor, label="posterior"),
        c.legacy_step(sp.Symbol("s_g"), (a * sp.Symbol("mp_g") - sp.Symbol("x_disp")) / s2, "Tweedie's "
             "formula holds: $(\\alpha_t m - x)/\\sigma_t^2 = -K_t^{-1}(x - \\alpha_t m_0)$.",
             residual=(a * mp - x) / s2 - score, simplifier=cancel_then_factor, label="Tweedie"),
        c.legacy_step(sp.Symbol("C_g"), sp.Symbol("I_g") / s2 - sp.Symbol("Kinv_g"), "Paper Eq. (5): the "
                                                                            "denoiser form "
             "$\\alpha_t^2 \\Sigma_{post}/\\sigma_t^4$ equals $I/\\sigma_t^2 + \\nabla^2 \\log p = "
             "I/\\sigma_t^2 - K_t^{-1}$.", residual=C_den - (I2 / s2 + sp.hessian(logp, list(x))),
             simplifier=cancel_then_factor, label="proxy covariance"),
        c.legacy_step(sp.Symbol("dCdx"), sp.zeros(2, 4), "C does not depend on x: Gaussian data have the "
             "same nonzero proxy variance everywhere (no boundary regions).",
             residual=sp.Matrix([[sp.diff(C_den[i, j], v) for v in x] for i in range(2) for j in range(2)]),
             simplifier=sp.cancel, label="constant in x"),
        c.legacy_step(sp.Symbol("C_1d"), a**2 * v0 / (s2 * (a**2 * v0 + s2)), "One dimension, $\\Sigma_0 = "
             "v_0$.", residual=(C_den[0, 0] - a**2 * v0 / (s2 * (a**2 * v0 + s2))).subs(
                 {S0[0, 1]: 0, S0[0, 0]: v0}), simplifier=sp.cancel, label="D = 1"),
        c.legacy_step(sp.Symbol("C_mc"), sp.Symbol("C_g"), "Monte Carlo from the forward process only: "
             "$\\mathbb{E}_x[C] = C$ because C is constant.", method="numeric", check=_mc_check,
             label="Monte Carlo"),
    ]
    D.update({sp.Symbol("S0_g"): r"\Sigma_0",
              sp.Symbol("Sp_r"): r"\left(\Sigma_0^{-1} + \frac{\alpha_t^{2}}{\sigma_t^{2}} I\right)^{-1}, "
                                 r"\quad m(x,t) = \Sigma_{\mathrm{post}}\left(\Sigma_0^{-1} m_0 + "
                                 r"\frac{\alpha_t}{\sigma_t^{2}} x\right)",
              sp.Symbol("Kinv_g"): r"K_t^{-1}", sp.Symbol("I_g"): "I",
              sp.Symbol("x_m_disp"): r"(x - \alpha_t m_0)", sp.Symbol("x_disp"): "x"})
    return Derivation(NAME, TITLE, "A data distribution where every quantity of the theory is "
                      "explicit (paper-math.md 2.5): the proxy covariance is a nonzero constant.",
                      steps, result=4, names=D)
