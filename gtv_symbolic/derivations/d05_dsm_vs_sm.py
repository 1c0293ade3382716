r"""Denoising score matching vs score matching (paper Sec. 2, paper-math.md 1.6).

``J1(theta) = J0(theta) + (1/2) E_t E_{x~p(x|t)}[lambda_t tr C(x,t)]``: the two objectives differ
by a theta-independent constant, so they share the population minimiser. In denoiser form
``s^ = (alpha mu^ - x)/sigma^2`` with ``lambda = sigma^2``:
``lambda |s^ - s~|^2 = (alpha^2/sigma^2) |mu^ - x0|^2``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import proxy
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_mc
from . import _common as c

NAME = "dsm-vs-sm"
TITLE = "DSM vs score matching: J1 = J0 + E[lambda tr C]/2; denoiser weight"


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """Per-sample J1 - J0 integrand minus (lambda/2) C has mean 0 for every theta."""
    vp = c.vp()
    data = np.array([[-1.0], [0.0], [1.0]])
    n = 200000
    est, se = [], []
    for theta in (0.0, 1.5):
        t = rng.uniform(0.05, 1.0, n)
        x0 = data[rng.integers(0, 3, n)]
        a, s2 = vp.alpha(t)[:, None], vp.sigma2(t)[:, None]
        x = a * x0 + np.sqrt(s2) * rng.standard_normal((n, 1))
        shat = -theta * x / s2  # a theta-family of score models
        st = (a * x0 - x) / s2
        s = proxy.true_score(x, t, data, vp)
        C = proxy.covariance(x, t, data, vp)[:, :, 0]
        lam = s2
        d = (lam / 2 * ((shat - st) ** 2 - (shat - s) ** 2) - lam / 2 * C)[:, 0]
        est.append(d.mean())
        se.append(d.std(ddof=1) / np.sqrt(n))
    return compare_mc(est, [0.0, 0.0], se, n=n,
                      what="data {-1, 0, 1}, VP, t ~ U[0.05, 1], lambda = sigma^2, models "
                           "s^ = -theta x / sigma^2 with theta in {0, 1.5}; mean of "
                           "lambda/2 (|s^ - s~|^2 - |s^ - s|^2) - lambda/2 tr C")


def build() -> Derivation:
    sh, lam = sp.Symbol("shat", real=True), S.lam
    w1, w2 = sp.symbols("w_1 w_2", real=True)
    q = sp.symbols("q_1:4", real=True)
    wts = [w1, w2, 1 - w1 - w2]
    s_mean = sum(wi * qi for wi, qi in zip(wts, q, strict=False))
    Cq = sum(wi * (qi - s_mean) ** 2 for wi, qi in zip(wts, q, strict=False))
    e_sq = sum(wi * (sh - qi) ** 2 for wi, qi in zip(wts, q, strict=False))

    a, s2 = S.alpha, S.sigma2
    mu_h = sp.Matrix(sp.symbols("muhat_1:3", real=True))
    x0v = sp.Matrix(sp.symbols("x0_1:3", real=True))
    xv = S.x_vec(2)
    shat_d = (a * mu_h - xv) / s2
    st_d = (a * x0v - xv) / s2
    denoiser = ((s2 * (shat_d - st_d).T * (shat_d - st_d))[0, 0]
                - a**2 / s2 * ((mu_h - x0v).T * (mu_h - x0v))[0, 0])

    J0, J1, EC = sp.Symbol("J_0"), sp.Symbol("J_1"), sp.Symbol("EC_disp")
    Epost = sp.Symbol("Epost_disp")
    steps = [
        c.legacy_step(J0, sp.Symbol("J0_def"), "Score-matching objective with weight $\\lambda_t$ (paper Sec. 2).",
             method="definition", label="J0"),
        c.legacy_step(J1, sp.Symbol("J1_def"), "Denoising score matching: the target is the proxy score "
             "(paper Sec. 2).", method="definition", label="J1"),
        c.legacy_step(sp.Symbol("tower_l"), sp.Symbol("tower_r"), "Same joint law of $(x_0, x)$ at each $t$ "
             "(Bayes' rule): average over $x$ first, then over the posterior of $x_0$.",
             method="definition", label="tower property"),
        c.legacy_step(Epost, sp.Symbol("bv_r"), "Bias-variance split at fixed $(x, t)$, using $\\mathbb{E}_"
             "{post}[\\tilde{s}] = s$ (proxy-unbiased); per coordinate, checked for three weights "
             "summing to one (the squared norm is a sum over coordinates).",
             residual=e_sq - ((sh - s_mean) ** 2 + Cq), simplifier=sp.expand, label="bias-variance"),
        c.legacy_step(J1, J0 + EC, "Insert the split into $J_1$ with the tower property.",
             method="assumption", label="offset"),
        c.legacy_step(sp.Symbol("dJ"), 0, "The offset does not depend on the model output: its derivative "
             "with respect to $\\hat{s}$ vanishes, so $J_0$ and $J_1$ share the minimiser.",
             residual=sp.diff(e_sq - (sh - s_mean) ** 2, sh), simplifier=sp.expand,
             label="same minimiser"),
        c.legacy_step(lam * sp.Symbol("dsm_sq"), a**2 / s2 * sp.Symbol("den_sq"), "Denoiser form "
             "$\\hat{s} = (\\alpha_t\\hat{\\mu} - x)/\\sigma_t^2$ with $\\lambda_t = \\sigma_t^2$: the "
             "DSM loss becomes a denoising loss with weight $\\alpha_t^2/\\sigma_t^2$ "
             "(paper's code; checked in D = 2).", residual=denoiser.subs(lam, s2),
             simplifier=sp.expand, label="denoiser weight"),
        c.legacy_step(sp.Symbol("mc_l"), 0, "Monte Carlo over $(t, x_0, x)$ for two different models: the "
             "offset equals $\\frac12 \\mathbb{E}[\\lambda_t \\mathrm{tr}\\, C]$ (lambdified $C$).",
             method="numeric", check=_mc_check, label="Monte Carlo"),
    ]
    names = dict(c.NAMES)
    names.update({
        J0: "J_0", J1: "J_1", sh: r"\hat{s}",
        sp.Symbol("J0_def"): r"\mathbb{E}_t \mathbb{E}_{x \sim p(x|t)} \left[\frac{\lambda_t}{2} "
                             r"\| \hat{s}_\theta(x,t) - s(x,t) \|^2\right]",
        sp.Symbol("J1_def"): r"\mathbb{E}_t \mathbb{E}_{x_0} \mathbb{E}_{x \sim p(x|x_0,t)} "
                             r"\left[\frac{\lambda_t}{2} \| \hat{s}_\theta(x,t) - "
                             r"\tilde{s}(x,t;x_0) \|^2\right]",
        sp.Symbol("tower_l"): r"\mathbb{E}_{x_0} \mathbb{E}_{x \mid x_0, t}[f(x_0, x)]",
        sp.Symbol("tower_r"): r"\mathbb{E}_{x \mid t} \mathbb{E}_{x_0 \mid x, t}[f(x_0, x)]",
        Epost: r"\mathbb{E}_{x_0 \mid x,t} \| \hat{s} - \tilde{s} \|^2",
        sp.Symbol("bv_r"): r"\| \hat{s} - s \|^2 + \mathrm{tr}\, C(x,t)",
        EC: r"\frac{1}{2} \mathbb{E}_t \mathbb{E}_{x \sim p(x|t)}[\lambda_t \, \mathrm{tr}\, C(x,t)]",
        sp.Symbol("dJ"): r"\frac{\partial}{\partial \hat{s}} \left(\mathbb{E}_{x_0 \mid x,t} "
                         r"\| \hat{s} - \tilde{s} \|^2 - \| \hat{s} - s \|^2\right)",
        sp.Symbol("dsm_sq"): r"\| \hat{s} - \tilde{s} \|^2",
        sp.Symbol("den_sq"): r"\| \hat{\mu} - x_0 \|^2",
        sp.Symbol("mc_l"): r"\widehat{\mathbb{E}}\left[\frac{\lambda_t}{2}\left(\| \hat{s} - "
                           r"\tilde{s} \|^2 - \| \hat{s} - s \|^2 - \mathrm{tr}\, C\right)\right]",
    })
    return Derivation(NAME, TITLE, "Why DSM trains the right model on average, and where its "
                      "extra variance sits (paper Sec. 2; paper-math.md 1.6).",
                      steps, result=7, names=names)
