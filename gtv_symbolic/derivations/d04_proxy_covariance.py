r"""Proxy-score covariance, its three forms (paper Sec. 2):

.. math::

    C(x,t) = \mathrm{Cov}_{x_0 \mid x,t}[\tilde s]
           = \frac{I}{\sigma_t^2} + \nabla_x^2 \log p(x \mid t)
           = \frac{\alpha_t^2}{\sigma_t^4} \Sigma_{\mathrm{post}}(x,t)

(isotropic :math:`S_t = \sigma_t^2 I`). The generic steps are checked for every M with an indexed
``Sum`` in one dimension, and as 2x2 matrices with the package's explicit forms; the last two
steps compare the production :func:`gtv_symbolic.proxy.covariance` with finite differences of
:func:`gtv_symbolic.proxy.log_density` and with a Monte Carlo covariance of proxy scores.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import proxy
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_close, compare_mc
from . import _common as c

__all__ = ["NAME", "TITLE", "build"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "proxy-covariance"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = r"Proxy-score covariance $C(x,t)$: its three forms (paper Sec. 2)"

_DATA = np.array([[-1.0, 0.0], [0.3, 0.8], [0.9, -0.5]])


def _fd_check(rng: np.random.Generator) -> CheckResult:
    """proxy.covariance vs I/sigma^2 + second differences of proxy.log_density."""
    vp = c.vp()
    x, t = c.example_points(rng, 8, 2, _DATA, vp, t_range=(0.1, 0.6))
    h, eye = 1e-4, np.eye(2)
    f = lambda y: proxy.log_density(y, t, _DATA, vp)  # noqa: E731
    hess = np.empty((len(t), 2, 2))
    for i in range(2):
        for j in range(2):
            hess[:, i, j] = (
                f(x + h * eye[i] + h * eye[j])
                - f(x + h * eye[i] - h * eye[j])
                - f(x - h * eye[i] + h * eye[j])
                + f(x - h * eye[i] - h * eye[j])
            ) / (4 * h * h)
    return compare_close(
        proxy.covariance(x, t, _DATA, vp),
        eye / vp.sigma2(t)[:, None, None] + hess,
        rtol=1e-4,
        atol=1e-4,
        what="central second differences (h = 1e-4) of proxy.log_density at 8 "
        "random (x, t), VP, M = 3 in 2-D: I/sigma^2 + Hessian vs "
        "proxy.covariance",
    )


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """Sample covariance of proxy_score under posterior draws vs proxy.covariance."""
    vp = c.vp()
    x = np.array([[0.0, 0.3], [-0.3, 0.4]])
    t = np.array([0.25, 0.4])
    n = 40000
    ref = proxy.covariance(x, t, _DATA, vp)
    est, se = [], []
    for st in c.posterior_proxy_scores(x, t, _DATA, vp, n, rng):
        d = st - st.mean(0)
        m, e = c.mean_se(d[:, :, None] * d[:, None, :])
        est.append(m * n / (n - 1))
        se.append(e)
    return compare_mc(
        est,
        ref,
        se,
        n=n,
        what="M = 3 in 2-D, VP, 2 points (x, t); sample covariance "
        "of proxy.proxy_score under draws from proxy.posterior_weights vs "
        "proxy.covariance",
    )


def build() -> Derivation:
    r"""Build the proxy-covariance derivation (unverified): the three forms of :math:`C(x,t)`.

    The covariance of the DSM target given :math:`(x,t)` (paper Sec. 2), with
    :math:`S_t = \sigma_t^2 I`:

    .. math::

        C(x,t) = \mathrm{Cov}_{x_0 \mid x,t}[\tilde s]
               = \frac{I}{\sigma_t^2} + \nabla_x^2 \log p(x \mid t)
               = \frac{\alpha_t^2}{\sigma_t^4}\, \Sigma_{\mathrm{post}}(x,t).

    Parameters
    ----------
    None

    Returns
    -------
    derivation : Derivation
        12 steps; results: step 6 (Hessian form) and step 8 (denoiser form), numeric at random
        points for every M in one dimension; steps 11-12 check :func:`gtv_symbolic.proxy.covariance`.

    Examples
    --------
    >>> from gtv_symbolic.derivations import REGISTRY
    >>> REGISTRY[NAME][0], NAME  # build() takes ~0.1 s; build().verify() is ``gtv derive proxy-covariance``
    ('d04_proxy_covariance', 'proxy-covariance')
    """
    m, M, a, s2 = c.m, S.M, S.alpha, S.sigma2
    g2, g1 = proxy.generic_forms(2), proxy.generic_forms(1)
    x2 = list(S.x_vec(2))
    x1 = S.x_vec(1)[0]
    kern1, pst1, mu1 = g1["kernel"], g1["proxy_score"][0], g1["mu"]
    z1 = sp.Sum(kern1, (m, 1, M))
    s1 = g1["tweedie_score"][0]
    mean1 = g1["posterior_mean"][0]
    post = lambda e: sp.Sum(kern1 * e, (m, 1, M)) / z1  # noqa: E731  posterior expectation

    f = sp.Function("f")(*x2)
    gradf = sp.Matrix([sp.diff(sp.log(f), v) for v in x2])
    E2, ssT, hessN, dif = (sp.Symbol(n) for n in ("E2_disp", "ssT_disp", "hessN", "diff_disp"))
    outer, stst, Sp = sp.Symbol("outer_disp"), sp.Symbol("stst_disp"), sp.Symbol("Sp_disp")
    mu_m, I1 = sp.Symbol("mu_m_disp"), sp.Integer(1)
    C_def1 = post((pst1 - s1) ** 2)
    one_d = {
        c.C: C_def1,
        E2: post(pst1**2),
        ssT: s1**2,
        c.score: s1,
        c.I: I1,
        c.hess_logp: sp.diff(sp.log(g1["marginal"]), x1, 2),
        Sp: post((mu1[m, 1] - mean1) ** 2),
        c.hess_p: sp.diff(g1["marginal"], x1, 2),
        c.p: g1["marginal"],
    }

    mus1, mus2 = list(S.mu_vecs(3, 1)), list(S.mu_vecs(2, 2))
    steps = [
        Step(
            c.C,
            c.msum(c.w[m] * outer),
            "Definition: the posterior covariance of the proxy "
            "score (paper Sec. 2), using $\\mathbb{E}_{x_0 \\mid x,t}[\\tilde{s}] = s$ "
            "(proxy-unbiased derivation).",
            status="definition",
            label="definition",
        ),
        Step(
            hessN,
            c.Nm[m] * (stst - c.I / s2),
            "Per-term identity: the Hessian of a Gaussian, "
            "with $\\nabla_x \\tilde{s}_m = -I/\\sigma_t^2$ independent of $\\mu_m$ (D = 2, every m).",
            status="symbolic",
            defs={
                hessN: sp.hessian(g2["kernel"], x2),
                c.Nm[m]: g2["kernel"],
                stst: g2["proxy_score"] * g2["proxy_score"].T,
                c.I: sp.eye(2),
            },
            label="Hessian of $\\mathcal{N}_m$",
        ),
        Step(
            c.hess_logp,
            c.hess_p / c.p - ssT,
            "Chain rule for any positive $p$: "
            "$\\nabla^2 \\log p = \\nabla^2 p / p - \\nabla \\log p \\, \\nabla \\log p^{T}$ "
            "(an undefined function of two variables).",
            status="symbolic",
            defs={
                c.hess_logp: sp.hessian(sp.log(f), x2),
                c.hess_p: sp.hessian(f, x2),
                c.p: f,
                ssT: gradf * gradf.T,
            },
            label="Hessian of a logarithm",
        ),
        Step(
            c.hess_p / c.p,
            E2 - c.I / s2,
            "Linearity over the sum, the per-term identity and division by $p$ (every M, indexed sum).",
            status="symbolic",
            defs=one_d,
            where={c.DIM: 1},
            label="second moment",
        ),
        Step(
            c.C,
            E2 - ssT,
            "Covariance = second moment minus the outer product of the mean, the "
            "mean being $s$ (every M, indexed sum).",
            status="numeric",
            defs=one_d,
            where={c.DIM: 1},
            label="variance identity",
        ),
        Step(
            c.C,
            c.I / s2 + c.hess_logp,
            "Steps 3-5 combined: the Hessian form (paper Sec. 2) (every M, indexed sum).",
            status="numeric",
            defs=one_d,
            where={c.DIM: 1},
            label="Hessian form",
        ),
        Step(
            dif,
            a * (mu_m - c.post_mean) / s2,
            "Proxy score minus Tweedie score: the $x$ terms cancel (every M, indexed sum).",
            status="symbolic",
            defs={dif: pst1 - s1, mu_m: mu1[m, 1], c.post_mean: mean1},
            where={c.DIM: 1},
            label="centred proxy score",
        ),
        Step(
            c.C,
            a**2 / s2**2 * Sp,
            "Insert the previous step into the definition: the denoiser "
            "form of the covariance (paper Sec. 2), with $\\Sigma_{\\mathrm{post}} = \\sum_m w_m (\\mu_m - m)"
            "(\\mu_m - m)^{T}$ (every M, indexed sum).",
            status="numeric",
            defs=one_d,
            where={c.DIM: 1},
            label="denoiser form",
        ),
        Step(
            c.C,
            a**2 / s2**2 * Sp,
            "The definition against the denoiser form with the "
            "package's explicit forms (`proxy.sym_covariance`), three symbolic points.",
            status="symbolic",
            defs={
                c.C: proxy.sym_covariance(mus1, None, "posterior"),
                Sp: proxy.sym_posterior_covariance(mus1),
            },
            where={M: 3, c.DIM: 1},
            simplifier=sp.simplify,
            timeout=60,
            label="explicit: definition = denoiser form",
        ),
        Step(
            c.I / s2 + c.hess_logp,
            a**2 / s2**2 * Sp,
            "The Hessian form against the denoiser "
            "form, two symbolic points in the plane (all four entries).",
            status="symbolic",
            defs={
                c.hess_logp: proxy.sym_covariance(mus2, None, "hessian") - sp.eye(2) / s2,
                c.I: sp.eye(2),
                Sp: proxy.sym_posterior_covariance(mus2),
            },
            where={M: 2, c.DIM: 2},
            simplifier=sp.simplify,
            timeout=60,
            label="explicit: Hessian form = denoiser form",
        ),
        Step(
            sp.Symbol("Cfd"),
            c.C,
            "Finite-difference Hessian of the production $\\log p$ against the production $C$.",
            status="numeric",
            check=_fd_check,
            label="finite differences",
        ),
        Step(
            sp.Symbol("Cmc"),
            c.C,
            "Monte Carlo covariance of proxy scores over posterior draws against the production $C$.",
            status="monte-carlo",
            check=_mc_check,
            label="Monte Carlo",
        ),
    ]
    names = dict(c.NAMES)
    names.update(
        {
            outer: r"(\tilde{s}_m - s)(\tilde{s}_m - s)^{T}",
            hessN: r"\nabla_x \nabla_x^{T} \mathcal{N}_m",
            stst: r"\tilde{s}_m \tilde{s}_m^{T}",
            ssT: r"s s^{T}",
            E2: r"\mathbb{E}_{x_0 \mid x,t}[\tilde{s}\tilde{s}^{T}]",
            dif: r"\tilde{s}_m - s",
            mu_m: r"\mu_m",
            Sp: r"\Sigma_{\mathrm{post}}(x,t)",
            sp.Symbol("Cfd"): r"\frac{I}{\sigma_t^{2}} + \nabla^2_{\mathrm{FD}} \log p(x \mid t)",
            sp.Symbol("Cmc"): r"\widehat{\mathrm{Cov}}_{x_0 \mid x,t}[\tilde{s}]",
        }
    )
    return Derivation(
        NAME,
        TITLE,
        "The covariance of the DSM target given $(x, t)$, in the three "
        "forms of the covariance (paper Sec. 2), with $S_t = \\sigma_t^2 I$.",
        steps,
        result=(5, 7),
        names=names,
    )
