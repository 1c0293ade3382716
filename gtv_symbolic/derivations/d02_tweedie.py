r"""Tweedie's formula for a point-mass training set (paper Sec. 2).

.. math::

    s(x,t) = \nabla_x \log p(x \mid t) = \sum_m w_m \tilde s_m
           = \frac{\alpha_t\, m(x,t) - x}{\sigma_t^2},
    \qquad w_m = \frac{\mathcal{N}_m}{\sum_n \mathcal{N}_n},\quad m(x,t) = \sum_m w_m \mu_m .

The gradient of each Gaussian is the Gaussian times its own score; the gradient of the finite
sum is the sum of the gradients; dividing by :math:`p` gives the posterior weights. The generic
steps are checked for every M with SymPy's indexed ``Sum`` (D = 2); the last step compares the
production :func:`gtv_symbolic.proxy.true_score` with finite differences of
:func:`gtv_symbolic.proxy.log_density`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import proxy
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_close
from . import _common as c

__all__ = ["NAME", "TITLE", "build"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "tweedie"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = r"Tweedie: the true score $s = (\alpha_t m(x,t) - x)/\sigma_t^2$"


def _fd_check(rng: np.random.Generator) -> CheckResult:
    """proxy.true_score vs central differences of proxy.log_density (M = 3, D = 2, VP)."""
    vp = c.vp()
    pts = rng.uniform(-1, 1, (3, 2))
    x, t = c.example_points(rng, 10, 2, pts, vp)
    h = 1e-5
    fd = np.stack(
        [
            (proxy.log_density(x + h * e, t, pts, vp) - proxy.log_density(x - h * e, t, pts, vp)) / (2 * h)
            for e in np.eye(2)
        ],
        axis=-1,
    )
    return compare_close(
        proxy.true_score(x, t, pts, vp),
        fd,
        rtol=1e-6,
        atol=1e-6,
        what="central differences (h = 1e-5) of proxy.log_density at 10 random "
        "(x, t), VP schedule, 3 random training points in 2-D, vs "
        "proxy.true_score",
    )


def build() -> Derivation:
    r"""Build the Tweedie derivation (unverified): the true score of the noised training set.

    For a point-mass training set :math:`\{\mu_m\}` and :math:`S_t = \sigma_t^2 I` (paper Sec. 2)
    the score is the posterior-weighted average of the per-point scores, with
    :math:`w_m \propto N(x; \alpha_t \mu_m, \sigma_t^2 I)` and :math:`m(x,t) = \sum_m w_m \mu_m`:

    .. math::

        s(x,t) = \nabla_x \log p(x \mid t) = \sum_m w_m \tilde s_m
               = \frac{\alpha_t\, m(x,t) - x}{\sigma_t^2}.

    Parameters
    ----------
    None

    Returns
    -------
    derivation : Derivation
        7 steps; result: step 5 (symbolic, every M); the last step compares
        :func:`gtv_symbolic.proxy.true_score` with finite differences of the log density.

    Examples
    --------
    >>> d = build()
    >>> len(d.steps), [i + 1 for i in d.result], [s.status for s in d.result_steps]
    (7, [5], ['symbolic'])
    """
    g = proxy.generic_forms(2)
    x = S.x_vec(2)
    m, M, a, s2 = c.m, S.M, S.alpha, S.sigma2
    kern, pst, mu = g["kernel"], g["proxy_score"], g["mu"]
    z = sp.Sum(kern, (m, 1, M))
    p_conc = g["marginal"]
    grad = lambda f: sp.Matrix([sp.diff(f, xi) for xi in x])  # noqa: E731
    sum_vec = lambda v: sp.Matrix([sp.Sum(e, (m, 1, M)) for e in v])  # noqa: E731
    xs, mvec = sp.Symbol("x_disp"), sp.Symbol("mvec_disp")
    gradN = sp.Symbol("gradN")
    base = {c.Nm[m]: kern, c.st[m]: pst, c.p: p_conc, c.w[m]: kern / z}

    mus = list(S.mu_vecs(2, 2))
    steps = [
        Step(
            c.p,
            c.msum(c.Nm[m]) / M,
            "Marginal over the training set, $\\mathcal{N}_m = "
            "N(x; \\alpha_t \\mu_m, \\sigma_t^2 I)$ (forward-process derivation, $S_t = \\sigma_t^2 I$): "
            "the package's `proxy.sym_marginal` for two symbolic points in the plane.",
            status="symbolic",
            defs={
                c.p: proxy.sym_marginal(mus),
                c.msum(c.Nm[m]) / M: sum(sp.exp(-((x - a * v).T * (x - a * v))[0, 0] / (2 * s2)) for v in mus)
                / (2 * sp.pi * s2)
                / 2,
            },
            where={M: 2, c.DIM: 2},
            label="marginal",
        ),
        Step(
            gradN,
            c.Nm[m] * c.st[m],
            "Per-term identity: the gradient of a Gaussian is the "
            "Gaussian times its own score (D = 2, every m).",
            status="symbolic",
            defs={gradN: grad(kern), **base},
            label="$\\nabla_x \\mathcal{N}_m$",
        ),
        Step(
            c.grad_p,
            c.msum(c.Nm[m] * c.st[m]) / M,
            "Linearity: the gradient of a finite sum "
            "is the sum of the gradients, then the per-term identity (every M, indexed sum; the "
            "normalisation $(2\\pi\\sigma_t^2)^{-1}$ is written into $\\mathcal{N}_m$).",
            status="symbolic",
            defs={
                c.grad_p: grad(p_conc),
                c.msum(c.Nm[m] * c.st[m]): (2 * sp.pi * s2) ** -1 * sum_vec(kern * pst),
                **base,
            },
            label="$\\nabla_x p$",
        ),
        Step(
            c.grad_logp,
            c.msum(c.w[m] * c.st[m]),
            "Divide by $p$: $w_m = \\mathcal{N}_m / "
            "\\sum_n \\mathcal{N}_n = p(x_0 = \\mu_m \\mid x, t)$ are the posterior weights "
            "(every M).",
            status="symbolic",
            defs={c.grad_logp: grad(sp.log(p_conc)), c.msum(c.w[m] * c.st[m]): sum_vec(kern * pst) / z},
            label="$\\nabla_x \\log p$",
        ),
        Step(
            c.score,
            (a * c.post_mean - xs) / s2,
            "Since $\\sum_m w_m = 1$, $\\sum_m w_m(\\alpha_t "
            "\\mu_m - x)/\\sigma_t^2 = (\\alpha_t m(x,t) - x)/\\sigma_t^2$ with the posterior mean "
            "$m(x,t) = \\sum_m w_m \\mu_m = \\mathbb{E}[x_0 \\mid x, t]$: Tweedie's formula (every M).",
            status="symbolic",
            defs={c.score: grad(sp.log(p_conc)), xs: x, c.post_mean: g["posterior_mean"]},
            label="Tweedie",
        ),
        Step(
            c.score,
            (a * c.post_mean - xs) / s2,
            "The same with the package's explicit forms "
            "(`proxy.sym_true_score` with `form='grad'` and `proxy.sym_posterior_mean`) for two "
            "symbolic points in two dimensions.",
            status="symbolic",
            defs={
                c.score: proxy.sym_true_score(mus, None, "grad"),
                xs: x,
                c.post_mean: proxy.sym_posterior_mean(mus),
            },
            where={M: 2, c.DIM: 2},
            label="explicit $M = 2$",
        ),
        Step(
            sp.Symbol("s_fd"),
            c.score,
            "Finite differences of the production $\\log p$ "
            "(`proxy.log_density`) against the production score (`proxy.true_score`).",
            status="numeric",
            check=_fd_check,
            label="finite differences",
        ),
    ]
    names = dict(c.NAMES)
    names.update(
        {
            gradN: r"\nabla_x \mathcal{N}_m",
            xs: "x",
            sp.Symbol("mu_m_disp"): r"\mu_m",
            sp.Symbol("s_fd"): r"\nabla_x^{\mathrm{FD}} \log p(x \mid t)",
        }
    )
    _ = mu, mvec
    return Derivation(
        NAME,
        TITLE,
        "The true score of the noised training distribution is the "
        "posterior-weighted average of the per-point scores, i.e. Tweedie's formula "
        "(paper Sec. 2), with $S_t = \\sigma_t^2 I$.",
        steps,
        result=4,
        names=names,
    )
