r"""Proxy-score covariance, paper Eq. (5), in three equivalent forms:

``C(x,t) = Cov_{x0|x,t}[s~] = S^-1 + hess_x log p(x|t) = alpha_t^2 S^-1 Sigma_post S^-1``

(isotropic: ``C = I/sigma^2 + hess log p = alpha^2 Sigma_post / sigma^4``; paper-math.md 2.3).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from .. import proxy
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_close, compare_mc
from ..numeric import lambdify
from . import _common as c

NAME = "proxy-covariance"
TITLE = "Proxy-score covariance C, the three forms of Eq. (5)"

_DATA = np.array([[-1.0, 0.0], [0.3, 0.8], [0.9, -0.5]])


@lru_cache(maxsize=None)
def _compiled_C():
    """Lambdified denoiser-form C for ``_DATA`` (exact rationals); args (alpha, sigma2, x1, x2)."""
    expr = proxy.sym_covariance(_DATA, None, "denoiser")
    return lambdify([S.alpha, S.sigma2, *S.x_vec(2)], expr, stable=False)


def _fd_check(rng: np.random.Generator) -> CheckResult:
    """Lambdified C (denoiser form) vs I/sigma^2 + finite-difference Hessian of log p."""
    vp = c.vp()
    x, t = c.example_points(rng, 8, 2, _DATA, vp, t_range=(0.1, 0.6))
    val = _compiled_C()(vp.alpha(t), vp.sigma2(t), x[:, 0], x[:, 1])
    h = 1e-4
    eye = np.eye(2)
    hess = np.empty((len(t), 2, 2))
    f = lambda y: proxy.log_density(y, t, _DATA, vp)  # noqa: E731
    for i in range(2):
        for j in range(2):
            hess[:, i, j] = (f(x + h * eye[i] + h * eye[j]) - f(x + h * eye[i] - h * eye[j])
                             - f(x - h * eye[i] + h * eye[j]) + f(x - h * eye[i] - h * eye[j])) / (4 * h * h)
    ref = eye / vp.sigma2(t)[:, None, None] + hess
    return compare_close(val, ref, rtol=1e-4, atol=1e-4,
                         what="central second differences (h = 1e-4) of the numeric log p at 8 random "
                              "(x, t), VP schedule, M = 3 in 2-D: I/sigma^2 + Hessian vs the "
                              "lambdified alpha^2 Sigma_post / sigma^4")


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """Sample covariance of proxy scores under posterior draws of x0 vs the lambdified C."""
    vp = c.vp()
    x = np.array([[0.0, 0.3], [-0.3, 0.4]])
    t = np.array([0.25, 0.4])
    n = 40000
    w = proxy.posterior_weights(x, t, _DATA, vp)
    Cf = _compiled_C()(vp.alpha(t), vp.sigma2(t), x[:, 0], x[:, 1])
    est, ref, se = [], [], []
    for j in range(len(x)):
        idx = rng.choice(len(_DATA), size=n, p=w[j])
        st = proxy.proxy_score(x[j], t[j], _DATA[idx], vp)
        d = st - st.mean(0)
        prod = d[:, :, None] * d[:, None, :]
        est.append(prod.mean(0) * n / (n - 1))
        se.append(prod.std(0, ddof=1) / np.sqrt(n))
        ref.append(Cf[j])
    return compare_mc(est, ref, se, n=n, what="M = 3 in 2-D, VP, 2 points (x, t); sample "
                      "covariance of proxy scores under posterior draws vs the lambdified C")


def build() -> Derivation:
    m, M = c.m, S.M
    a, s2 = S.alpha, S.sigma2
    g2 = proxy.generic_forms(2)
    x2 = list(S.x_vec(2))
    kern, pst = g2["kernel"], g2["proxy_score"]
    per_term = sp.hessian(kern, x2) - kern * (pst * pst.T - sp.eye(2) / s2)

    f = sp.Function("f")(*x2)
    logf_hess = sp.hessian(sp.log(f), x2)
    gradf = sp.Matrix([sp.diff(f, v) for v in x2])
    generic_log = logf_hess - (sp.hessian(f, x2) / f - gradf * gradf.T / f**2)

    g1 = proxy.generic_forms(1)
    x1 = S.x_vec(1)[0]
    z = sp.Sum(g1["kernel"], (m, 1, M))
    hess_over_p = sp.diff(g1["marginal"], x1, 2) / g1["marginal"]
    second_moment = sp.Sum(g1["kernel"] * g1["proxy_score"][0] ** 2, (m, 1, M)) / z

    w1, w2, q1, q2, q3 = sp.symbols("w_1 w_2 q_1 q_2 q_3", real=True)
    wts = [w1, w2, 1 - w1 - w2]  # three weights summing to one
    qs = [q1, q2, q3]
    mean_q = sum(wi * qi for wi, qi in zip(wts, qs, strict=False))
    var_identity = (sum(wi * (qi - mean_q) ** 2 for wi, qi in zip(wts, qs, strict=False))
                    - (sum(wi * qi**2 for wi, qi in zip(wts, qs, strict=False)) - mean_q**2))

    mus1, mus2 = list(S.mu_vecs(3, 1)), list(S.mu_vecs(2, 2))
    forms1 = {k: proxy.sym_covariance(mus1, None, k) for k in ("posterior", "denoiser")}
    forms2 = {k: proxy.sym_covariance(mus2, None, k) for k in ("hessian", "denoiser")}
    xs, mu_m, mpost = sp.Symbol("x", real=True), sp.Symbol("mu_m", real=True), sp.Symbol("m_p", real=True)
    E2 = sp.Symbol("E2_disp")
    ssT = sp.Symbol("ssT_disp")
    mq = mean_q
    steps = [
        c.legacy_step(c.C, c.msum(c.w[m] * sp.Symbol("outer_disp")),
             "Definition: the posterior covariance of the proxy score (paper Eq. (5)).",
             method="definition", label="definition"),
        c.legacy_step(sp.Symbol("hessN"), c.Nm[m] * (sp.Symbol("stst_disp") - c.I / s2),
             "Per-term identity: the Hessian of a Gaussian, $\\nabla\\nabla^T \\mathcal{N}_m = "
             "\\mathcal{N}_m(\\tilde{s}_m\\tilde{s}_m^T + \\nabla \\tilde{s}_m)$ with "
             "$\\nabla\\tilde{s}_m = -I/\\sigma_t^2$ independent of $\\mu_m$ (checked in D = 2).",
             residual=per_term, simplifier=sp.simplify, label="Hessian of N_m"),
        c.legacy_step(c.hess_logp, c.hess_p / c.p - sp.Symbol("ssT_disp"), "Chain rule for any positive "
             "$f$: $\\nabla^2 \\log f = \\nabla^2 f / f - \\nabla\\log f \\, \\nabla \\log f^T$ "
             "(checked for an undefined function of two variables).",
             residual=generic_log, simplifier=sp.simplify, label="Hessian of log"),
        c.legacy_step(c.hess_p / c.p, E2 - c.I / s2, "Linearity over the sum and division by $p$: "
             "$\\nabla^2 p / p = \\mathbb{E}_{post}[\\tilde{s}\\tilde{s}^T] - I/\\sigma_t^2$ "
             "(generic M, indexed Sum, D = 1).", residual=hess_over_p - (second_moment - 1 / s2),
             simplifier=sp.simplify, label="second moment"),
        c.legacy_step(c.C, E2 - sp.Symbol("ssT_disp"), "Covariance = second moment minus outer product of "
             "the mean, the mean being $s$ (proxy-unbiased derivation); checked as the "
             "variance identity for three weights summing to one.", residual=var_identity,
             simplifier=sp.expand, label="covariance = second moment - mean^2"),
        c.legacy_step(c.C, c.I / s2 + c.hess_logp, "Combine the last three steps: the Hessian form of "
             "paper Eq. (5) (checked by substituting steps 3-5 into each other).",
             residual=(E2 - ssT) - (c.I / s2 + (E2 - c.I / s2) - ssT), simplifier=sp.expand,
             label="Hessian form"),
        c.legacy_step(sp.Symbol("diff_disp"), a * (mu_m - mpost) / s2, "Proxy score minus Tweedie score: "
             "$\\tilde{s}_m - s = \\alpha_t(\\mu_m - m)/\\sigma_t^2$; the $x$ terms cancel.",
             residual=(a * mu_m - xs) / s2 - (a * mpost - xs) / s2 - a * (mu_m - mpost) / s2,
             simplifier=sp.cancel, label="centred proxy score"),
        c.legacy_step(c.C, sp.Symbol("Cden"), "Insert the previous step into the definition: "
             "$C = (\\alpha_t^2/\\sigma_t^4)\\sum_m w_m (\\mu_m - m)(\\mu_m - m)^T$, the denoiser "
             "form of paper Eq. (5) (checked for one coordinate and three weights summing to one).",
             residual=sum(wi * ((a * qi - xs) / s2 - (a * mq - xs) / s2) ** 2
                          for wi, qi in zip(wts, qs, strict=False))
             - a**2 * sum(wi * (qi - mq) ** 2 for wi, qi in zip(wts, qs, strict=False)) / s2**2,
             simplifier=sp.expand, label="denoiser form"),
        c.legacy_step(sp.Symbol("Cpost"), sp.Symbol("Cden"), "Explicit check of the definition against the "
             "denoiser form, M = 3 symbolic points in D = 1.",
             residual=forms1["posterior"] - forms1["denoiser"], simplifier=sp.simplify,
             label="explicit: definition = denoiser form"),
        c.legacy_step(sp.Symbol("Chess"), sp.Symbol("Cden"), "Explicit check of the Hessian form against "
             "the denoiser form, M = 2 symbolic points in D = 2 (all four entries).",
             residual=forms2["hessian"] - forms2["denoiser"], simplifier=sp.simplify,
             label="explicit: Hessian form = denoiser form"),
        c.legacy_step(sp.Symbol("Cden"), sp.Symbol("Cfd"), "Finite-difference Hessian of the numeric "
             "$\\log p$ against the lambdified result.", method="numeric", check=_fd_check,
             label="finite differences"),
        c.legacy_step(sp.Symbol("Cden"), sp.Symbol("Cmc"), "Monte Carlo covariance of proxy scores over "
             "posterior draws against the lambdified result.", method="numeric", check=_mc_check,
             label="Monte Carlo"),
    ]
    names = dict(c.NAMES)
    names.update({
        sp.Symbol("outer_disp"): r"(\tilde{s}_m - s)(\tilde{s}_m - s)^{T}",
        sp.Symbol("hessN"): r"\nabla_x \nabla_x^{T} \mathcal{N}_m",
        sp.Symbol("stst_disp"): r"\tilde{s}_m \tilde{s}_m^{T}", sp.Symbol("ssT_disp"): r"s s^{T}",
        E2: r"\mathbb{E}_{x_0 \mid x,t}[\tilde{s}\tilde{s}^{T}]",
        sp.Symbol("diff_disp"): r"\tilde{s}_m - s", mu_m: r"\mu_m", mpost: r"m(x,t)", xs: "x",
        sp.Symbol("Cpost"): r"C^{\mathrm{def}}|_{M=3,D=1}",
        sp.Symbol("Chess"): r"C^{\mathrm{Hess}}|_{M=2,D=2}",
        sp.Symbol("Cden"): r"\frac{\alpha_t^{2}}{\sigma_t^{4}} \Sigma_{\mathrm{post}}(x,t)",
        sp.Symbol("Cfd"): r"\frac{I}{\sigma_t^{2}} + \nabla^2_{\mathrm{FD}} \log p(x \mid t)",
        sp.Symbol("Cmc"): r"\widehat{\mathrm{Cov}}_{x_0 \mid x,t}[\tilde{s}]",
    })
    return Derivation(NAME, TITLE, "The covariance of the DSM target given $(x, t)$, in the three "
                      "forms of paper Eq. (5) (paper-math.md 2.3), with $S_t = \\sigma_t^2 I$.",
                      steps, result=7, names=names)
