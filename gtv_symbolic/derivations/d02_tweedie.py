r"""Tweedie's formula: ``s(x,t) = grad_x log p(x|t) = S_t^{-1} (alpha_t E[x0|x,t] - x)``.

For the point-mass training set (paper-math.md 1.3-1.4): ``grad N_m = N_m s~_m`` term by term,
linearity of the gradient over the finite sum, division by ``p`` gives the posterior weights.
The generic-M steps are checked with SymPy's indexed ``Sum``; explicit M are checked too.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import data as gdata
from .. import proxy
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_close
from ..numeric import lambdify
from . import _common as c

NAME = "tweedie"
TITLE = "Tweedie: true score s = S^-1 (alpha E[x0|x] - x)"


def _fd_check(rng: np.random.Generator) -> CheckResult:
    """Lambdified Tweedie score (M = 3, D = 2, symbolic points) vs central differences of log p."""
    mus = S.mu_vecs(3, 2)
    expr = proxy.sym_true_score(list(mus), None, "tweedie")
    musyms = [s for v in mus for s in v]
    f = lambdify([S.alpha, S.sigma2, *S.x_vec(2), *musyms], list(expr), stable=False)
    vp = c.vp()
    pts = rng.uniform(-1, 1, (3, 2))
    x, t = c.example_points(rng, 10, 2, pts, vp)
    a, s2 = vp.alpha(t), vp.sigma2(t)
    val = f(a, s2, x[:, 0], x[:, 1], *pts.reshape(-1))
    h = 1e-5
    fd = np.stack([(proxy.log_density(x + h * e, t, pts, vp) - proxy.log_density(x - h * e, t, pts, vp))
                   / (2 * h) for e in np.eye(2)], axis=-1)
    return compare_close(val, fd, rtol=1e-6, atol=1e-6,
                         what="central differences (h = 1e-5) of the numeric log p(x|t) at 10 random "
                              "(x, t), VP schedule, 3 random training points in 2-D, vs the "
                              "lambdified Tweedie score")


def build() -> Derivation:
    g1 = proxy.generic_forms(1)
    x1 = S.x_vec(1)[0]
    m, M, a, s2 = c.m, S.M, S.alpha, S.sigma2
    kern, pst = g1["kernel"], g1["proxy_score"][0]
    z = sp.Sum(kern, (m, 1, M))
    norm = (2 * sp.pi * s2) ** sp.Rational(-1, 2)

    g2 = proxy.generic_forms(2)
    x2 = S.x_vec(2)
    per_term = sp.Matrix([sp.diff(g2["kernel"], xi) for xi in x2]) - g2["kernel"] * g2["proxy_score"]

    mus2 = list(S.mu_vecs(2, 2))
    mus3 = list(S.mu_vecs(3, 1))

    def explicit(mus):
        return (proxy.sym_true_score(mus, None, "grad") - proxy.sym_true_score(mus, None, "tweedie"))

    steps = [
        c.legacy_step(c.p, c.msum(c.Nm[m]) / M, "Marginal over the training set, $\\mathcal{N}_m = "
             "N(x; \\alpha_t \\mu_m, \\sigma_t^2 I)$ (forward-process derivation).",
             method="definition", label="marginal"),
        c.legacy_step(sp.Symbol("gradN"), c.Nm[m] * c.st[m], "Per-term identity: the gradient of a Gaussian "
             "is the Gaussian times its own score $\\tilde{s}_m = (\\alpha_t \\mu_m - x)/\\sigma_t^2$ "
             "(checked for D = 2, every m).", residual=per_term, simplifier=sp.simplify,
             label="grad N_m"),
        c.legacy_step(c.grad_p, c.msum(c.Nm[m] * c.st[m]) / M, "Linearity: the gradient of a finite sum is "
             "the sum of gradients, then the per-term identity (checked for generic M with an "
             "indexed Sum, D = 1).",
             residual=sp.diff(norm * z / M, x1) - norm * sp.Sum(kern * pst, (m, 1, M)) / M,
             simplifier=sp.simplify, label="grad p"),
        c.legacy_step(c.grad_logp, c.msum(c.w[m] * c.st[m]), "Divide by $p$: $w_m = \\mathcal{N}_m / "
             "\\sum_n \\mathcal{N}_n$ are the posterior weights $p(x_0 = \\mu_m \\mid x, t)$ (generic M).",
             residual=sp.diff(sp.log(norm * z / M), x1) - sp.Sum(kern * pst, (m, 1, M)) / z,
             simplifier=sp.simplify, label="grad log p"),
        c.legacy_step(c.score, (a * c.post_mean - sp.Symbol("x")) / s2, "Since $\\sum_m w_m = 1$: "
             "$\\sum_m w_m(\\alpha_t\\mu_m - x)/\\sigma_t^2 = (\\alpha_t m(x,t) - x)/\\sigma_t^2$ with "
             "$m = \\sum_m w_m \\mu_m = E[x_0 \\mid x, t]$ (Tweedie; generic M).",
             residual=sp.Sum(kern * pst, (m, 1, M)) / z - g1["tweedie_score"][0],
             simplifier=sp.simplify, label="Tweedie"),
        c.legacy_step(sp.Symbol("s_M2D2"), sp.Symbol("s_tw"), "Explicit check: M = 2 points in D = 2 with "
             "symbolic coordinates, $\\nabla_x \\log p$ computed by SymPy equals the Tweedie form.",
             residual=explicit(mus2), simplifier=sp.simplify, label="explicit M = 2, D = 2"),
        c.legacy_step(sp.Symbol("s_M3D1"), sp.Symbol("s_tw"), "Explicit check: M = 3 points in D = 1.",
             residual=explicit(mus3), simplifier=sp.simplify, label="explicit M = 3, D = 1"),
        c.legacy_step(c.score, sp.Symbol("s_fd"), "Finite differences of the numeric $\\log p$ against the "
             "lambdified Tweedie score.", method="numeric", check=_fd_check, label="finite differences"),
    ]
    names = dict(c.NAMES)
    names.update({sp.Symbol("gradN"): r"\nabla_x \mathcal{N}_m", sp.Symbol("x"): "x",
                  sp.Symbol("s_M2D2"): r"\nabla_x \log p|_{M=2,D=2}",
                  sp.Symbol("s_M3D1"): r"\nabla_x \log p|_{M=3,D=1}",
                  sp.Symbol("s_tw"): r"\frac{\alpha_t m(x,t) - x}{\sigma_t^{2}}",
                  sp.Symbol("s_fd"): r"\nabla_x^{\mathrm{FD}} \log p(x \mid t)"})
    _ = gdata  # canonical sets are used by the tests
    return Derivation(NAME, TITLE, "The true score of the noised training distribution is the "
                      "posterior-weighted average of the per-point scores, i.e. Tweedie's formula "
                      "(paper Sec. 2; paper-math.md 1.4). Isotropic $S_t = \\sigma_t^2 I$.",
                      steps, result=4, names=names)
