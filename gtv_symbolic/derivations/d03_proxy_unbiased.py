r"""The proxy score is an unbiased estimate of the score: ``E_{x0|x,t}[s~(x,t;x0)] = s(x,t)``.

``s~ = grad_x log p(x|x0,t) = (alpha_t x0 - x)/sigma_t^2`` (paper Sec. 2, paper-math.md 2.1-2.2):
differentiate ``p(x|t) = int p(x|x0,t) p_data(x0) dx0`` under the integral, use
``grad p(x|x0,t) = p(x|x0,t) s~`` and Bayes' rule.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import proxy
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_mc
from . import _common as c

NAME = "proxy-unbiased"
TITLE = "The proxy score is unbiased: E_post[s~] = s"


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """Draw x0 from the posterior at fixed (x, t); the mean proxy score vs the true score."""
    vp = c.vp()
    data = np.array([[-1.0, 0.0], [0.0, 0.5], [1.0, -0.3], [0.2, 1.0]])
    x = np.array([[0.1, 0.2], [-0.4, 0.1], [0.5, 0.3]])
    t = np.array([0.3, 0.5, 0.2])
    n = 20000
    est, ref, se = [], [], []
    w = proxy.posterior_weights(x, t, data, vp)
    s = proxy.true_score(x, t, data, vp)
    for j in range(len(x)):
        idx = rng.choice(len(data), size=n, p=w[j])
        st = proxy.proxy_score(x[j], t[j], data[idx], vp)
        est.append(st.mean(0))
        se.append(st.std(0, ddof=1) / np.sqrt(n))
        ref.append(s[j])
    return compare_mc(est, ref, se, n=n, what="4 training points in 2-D, VP schedule, 3 points "
                      "(x, t); mean of proxy scores with x0 drawn from the posterior vs the "
                      "lambdified true score")


def build() -> Derivation:
    g1 = proxy.generic_forms(1)
    x1 = S.x_vec(1)[0]
    m, M = c.m, S.M
    kern, pst = g1["kernel"], g1["proxy_score"][0]
    z = sp.Sum(kern, (m, 1, M))
    logp = sp.log(g1["marginal"])

    def explicit(n_pts, dim):
        mus = list(S.mu_vecs(n_pts, dim))
        w = proxy.sym_posterior_weights(mus)
        e_st = sum((wi * proxy.sym_proxy_score(mu, dim) for wi, mu in zip(w, mus, strict=False)),
                   sp.zeros(dim, 1))
        return e_st - proxy.sym_true_score(mus, None, "grad")

    x0, xs = sp.Symbol("x_0", real=True), sp.Symbol("x", real=True)
    steps = [
        c.legacy_step(sp.Symbol("stilde"), (S.alpha * x0 - xs) / S.sigma2, "Proxy score: the score of the "
             "Gaussian conditional $p(x \\mid x_0, t)$, the DSM regression target (paper Sec. 2).",
             residual=(sp.diff(-(xs - S.alpha * x0) ** 2 / (2 * S.sigma2), xs)
                       - (S.alpha * x0 - xs) / S.sigma2),
             simplifier=sp.expand, label="proxy score"),
        c.legacy_step(c.w[m], c.Nm[m] / sp.Sum(c.Nm[S.n_idx], (S.n_idx, 1, M)), "Bayes' rule with the "
             "uniform prior $1/M$ over training points: $p(x_0 = \\mu_m \\mid x, t)$.",
             method="definition", label="posterior"),
        c.legacy_step(c.E_st, c.msum(c.w[m] * c.st[m]), "Posterior expectation over the M training points.",
             method="definition", label="posterior mean of the proxy score"),
        c.legacy_step(c.msum(c.w[m] * c.st[m]), c.grad_logp, "Differentiate the mixture under the (finite) sum "
             "and divide by $p$; checked for generic M with an indexed Sum (D = 1).",
             residual=sp.Sum(kern * pst, (m, 1, M)) / z - sp.diff(logp, x1),
             simplifier=sp.simplify, label="generic M"),
        c.legacy_step(sp.Symbol("ex_M3D1"), c.grad_logp, "Explicit check, M = 3 symbolic points in D = 1.",
             residual=explicit(3, 1), simplifier=sp.simplify, label="explicit M = 3, D = 1"),
        c.legacy_step(sp.Symbol("ex_M2D2"), c.grad_logp, "Explicit check, M = 2 symbolic points in D = 2.",
             residual=explicit(2, 2), simplifier=sp.simplify, label="explicit M = 2, D = 2"),
        c.legacy_step(c.E_st, c.score, "Result: the proxy score is an unbiased estimate of the true score "
             "(paper Sec. 2): steps 3-4 combined with Tweedie's formula.",
             method="assumption", label="result"),
        c.legacy_step(sp.Symbol("E_mc"), c.score, "Monte Carlo over posterior draws of $x_0$.",
             method="numeric", check=_mc_check, label="Monte Carlo"),
    ]
    names = dict(c.NAMES)
    names.update({sp.Symbol("stilde"): r"\tilde{s}(x,t;x_0)", x0: "x_0", xs: "x",
                  sp.Symbol("ex_M3D1"): r"\mathbb{E}_{x_0 \mid x,t}[\tilde{s}]|_{M=3,D=1}",
                  sp.Symbol("ex_M2D2"): r"\mathbb{E}_{x_0 \mid x,t}[\tilde{s}]|_{M=2,D=2}",
                  sp.Symbol("E_mc"): r"\widehat{\mathbb{E}}_{x_0 \mid x,t}[\tilde{s}]"})
    return Derivation(NAME, TITLE, "Averaged over the posterior of the training example, the "
                      "noisy DSM target equals the true score (paper Sec. 2; paper-math.md 2.2).",
                      steps, result=7, names=names)
