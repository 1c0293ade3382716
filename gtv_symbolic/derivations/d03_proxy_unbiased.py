r"""The proxy score is an unbiased estimate of the score (paper Sec. 2).

.. math::

    \tilde s(x,t;x_0) = \nabla_x \log p(x \mid x_0, t) = \frac{\alpha_t x_0 - x}{\sigma_t^2},
    \qquad \mathbb{E}_{x_0 \mid x,t}[\tilde s(x,t;x_0)] = s(x,t).

Differentiate :math:`p(x \mid t) = \int p(x \mid x_0, t)\, p_{\mathrm{data}}(x_0)\, dx_0` under the
(finite) sum, use :math:`\nabla_x p(x \mid x_0,t) = p(x \mid x_0,t)\,\tilde s` and Bayes' rule. The
result is checked for every M with an indexed ``Sum`` (D = 2), with the package's explicit forms,
and by Monte Carlo over posterior draws with the production :mod:`gtv_symbolic.proxy` functions.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import proxy
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_mc
from . import _common as c

__all__ = ["NAME", "TITLE", "build"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "proxy-unbiased"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = r"The proxy score is unbiased: $\mathbb{E}_{x_0 \mid x,t}[\tilde{s}] = s$"

_DATA = np.array([[-1.0, 0.0], [0.0, 0.5], [1.0, -0.3], [0.2, 1.0]])


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """x0 drawn from proxy.posterior_weights at fixed (x, t): mean proxy_score vs true_score."""
    vp = c.vp()
    x = np.array([[0.1, 0.2], [-0.4, 0.1], [0.5, 0.3]])
    t = np.array([0.3, 0.5, 0.2])
    n = 20000
    s = proxy.true_score(x, t, _DATA, vp)
    est, se = zip(*(c.mean_se(st) for st in c.posterior_proxy_scores(x, t, _DATA, vp, n, rng)),
                  strict=True)
    return compare_mc(
        est,
        s,
        se,
        n=n,
        what="4 training points in 2-D, VP schedule, 3 points "
        "(x, t); mean of proxy.proxy_score with x0 drawn from proxy.posterior_weights "
        "vs proxy.true_score",
    )


def build() -> Derivation:
    r"""Build the proxy-unbiased derivation (unverified): the DSM target averages to the score.

    The proxy score :math:`\tilde s(x,t;x_0) = (\alpha_t x_0 - x)/\sigma_t^2` averaged over the
    posterior of the training example is the true score (paper Sec. 2):

    .. math::

        \mathbb{E}_{x_0 \mid x,t}\big[\tilde s(x,t;x_0)\big] = s(x,t).

    Parameters
    ----------
    None

    Returns
    -------
    derivation : Derivation
        6 steps; results: step 3 (symbolic, every M) and step 6 (Monte Carlo over posterior
        draws with the production :mod:`gtv_symbolic.proxy` functions).

    Examples
    --------
    >>> d = build()
    >>> len(d.steps), [i + 1 for i in d.result], [s.status for s in d.result_steps]
    (6, [3, 6], ['symbolic', 'monte-carlo'])
    """
    g = proxy.generic_forms(2)
    x = S.x_vec(2)
    m, M, a, s2 = c.m, S.M, S.alpha, S.sigma2
    kern, pst = g["kernel"], g["proxy_score"]
    z = sp.Sum(kern, (m, 1, M))
    grad = lambda f: sp.Matrix([sp.diff(f, xi) for xi in x])  # noqa: E731
    sum_vec = lambda v: sp.Matrix([sp.Sum(e, (m, 1, M)) for e in v])  # noqa: E731

    x0 = sp.Matrix(sp.symbols("x0_1 x0_2", real=True))
    stilde, xs, x0s = sp.Symbol("stilde"), sp.Symbol("x_disp"), sp.Symbol("x0_disp")
    log_cond = -((x - a * x0).T * (x - a * x0))[0, 0] / (2 * s2) - sp.log(2 * sp.pi * s2)
    gl = sp.Symbol("gradlogcond")

    def explicit(n_pts, dim):
        mus = list(S.mu_vecs(n_pts, dim))
        w = proxy.sym_posterior_weights(mus)
        e_st = sum(
            (wi * proxy.sym_proxy_score(mu, dim) for wi, mu in zip(w, mus, strict=True)), sp.zeros(dim, 1)
        )
        return {c.E_st: e_st, c.score: proxy.sym_true_score(mus, None, "grad")}

    steps = [
        Step(
            stilde,
            (a * x0s - xs) / s2,
            "Proxy score $\\tilde{s} = \\nabla_x \\log p(x \\mid x_0, "
            "t)$, the regression target of denoising score matching (paper Sec. 2), for $p(x \\mid "
            "x_0, t) = N(x; \\alpha_t x_0, \\sigma_t^2 I)$ (D = 2).",
            status="symbolic",
            defs={stilde: grad(log_cond), x0s: x0, xs: x},
            label="closed form",
        ),
        Step(
            c.w[m],
            c.Nm[m] / sp.Sum(c.Nm[S.n_idx], (S.n_idx, 1, M)),
            "Bayes' rule with the uniform prior $1/M$ over training points: $p(x_0 = \\mu_m \\mid x, t)$.",
            status="definition",
            label="posterior weights",
        ),
        Step(
            c.E_st,
            c.score,
            "Result: the posterior expectation $\\mathbb{E}_{x_0 \\mid x,t}[\\tilde{s}] = \\sum_m w_m "
            "\\tilde{s}_m$ is the score. Differentiate the mixture under the finite sum, use "
            "$\\nabla_x \\mathcal{N}_m = \\mathcal{N}_m \\tilde{s}_m$ and divide by $p$ (Bayes' "
            "rule); checked for every M with an indexed sum, D = 2, with $s = \\nabla_x \\log p(x "
            "\\mid t)$ (tweedie derivation).",
            status="symbolic",
            defs={c.E_st: sum_vec(kern * pst) / z, c.score: grad(sp.log(g["marginal"]))},
            label="unbiased (every $M$)",
        ),
        Step(
            c.E_st,
            c.score,
            "The same with the package's explicit forms (`proxy."
            "sym_posterior_weights`, `proxy.sym_proxy_score`, `proxy.sym_true_score`): three "
            "symbolic points on a line.",
            status="symbolic",
            defs=explicit(3, 1),
            where={M: 3, c.DIM: 1},
            label="explicit $M = 3$",
        ),
        Step(
            c.E_st,
            c.score,
            "And two symbolic points in the plane.",
            status="symbolic",
            defs=explicit(2, 2),
            where={M: 2, c.DIM: 2},
            label="explicit $M = 2$",
        ),
        Step(
            sp.Symbol("E_mc"),
            c.score,
            "Monte Carlo over posterior draws of $x_0$ with the production functions.",
            status="monte-carlo",
            check=_mc_check,
            label="Monte Carlo",
        ),
    ]
    names = dict(c.NAMES)
    names.update(
        {
            stilde: r"\tilde{s}(x,t;x_0)",
            x0s: "x_0",
            xs: "x",
            gl: r"\nabla_x \log p(x \mid x_0, t)",
            sp.Symbol("E_mc"): r"\widehat{\mathbb{E}}_{x_0 \mid x,t}[\tilde{s}]",
        }
    )
    return Derivation(
        NAME,
        TITLE,
        "Averaged over the posterior of the training example, the "
        "noisy DSM target equals the true score (paper Sec. 2).",
        steps,
        result=(2, 5),
        names=names,
    )
