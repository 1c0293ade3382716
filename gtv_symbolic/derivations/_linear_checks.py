r"""The numeric checks of the linear-model derivation (:mod:`.d10_linear_model`) and their setting."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import data as data_mod
from .. import features as features_mod
from .. import kernels, proxy, training
from ..derive import CheckResult, compare_close, compare_mc
from . import _common as c
from ._scaling import compare_scaling_all

#: The setting of every numeric check: Figure 2's data and schedule, smaller features.
EPS, T_END, RIDGE = 1e-2, 1.0, 0.1
N_X, N_T = 4, 4
P_SIZES = (400, 1600)
N_MODELS = 2000
#: query points (x, t) at four different times
XQ = np.array([-0.5, 0.0, 0.5, 1.0])
TQ = np.array([0.05, 0.1, 0.3, 0.7])


@lru_cache(maxsize=None)
def _nodes():
    """Production quadrature nodes of the training law (built once; about 2 s)."""
    return kernels.training_nodes(data_mod.three_points(), c.vp(), EPS, T_END)


def _setting():
    """(data, schedule, features) of the checks: three points, VP, Gaussian 4 x 4 features."""
    return (data_mod.three_points(), c.vp(),
            features_mod.make_features("gaussian", 1, N_X, N_T, EPS, T=T_END))


def _kernel(P):
    mu, vp, fm = _setting()
    return kernels.linear_kernel(fm, mu, vp, P=P, eps=EPS, T=T_END, ridge=RIDGE,
                                 nodes=_nodes())


def _score_features(fm, vp, x, t):
    """psi = (alpha/sigma^2) phi: the score-form features of the denoiser model."""
    t = np.asarray(t, dtype=float)
    return fm(np.asarray(x, dtype=float).reshape(-1, 1), t) * (vp.alpha(t) / vp.sigma2(t))[:, None]


def _formula_parts(x, t):
    """The displayed Prop. 5.1 ingredients on the training law (production quadrature nodes).

    Returns ``(kxy, lam, C, r, m_direct, Sigma, Wstar)``: ``k(x_a, t_a; y_n, u_n)``,
    ``lambda_u = sigma_u^2``, ``C(y,u)``, ``r = s - b - W* psi`` at the nodes, and
    ``m = E[lambda k r]`` by quadrature.
    """
    mu, vp, fm = _setting()
    nodes = _nodes()
    Wstar = training.population_weights(fm, mu, vp, eps=EPS, T=T_END, ridge=RIDGE)[0]
    y, u, w = nodes.y[:, 0], nodes.u, nodes.w
    psi_n = _score_features(fm, vp, y, u)
    lam = vp.sigma2(u)
    Sig = np.einsum("n,nf,ng->fg", w * lam, psi_n, psi_n)
    Rinv = np.linalg.inv(Sig + RIDGE * np.eye(Sig.shape[0]))
    b = -y / vp.sigma2(u)
    s = proxy.true_score(y[:, None], u, mu, vp)[:, 0]
    C = proxy.covariance(y[:, None], u, mu, vp)[:, 0, 0]
    r = s - b - psi_n @ Wstar
    kxy = _score_features(fm, vp, x, t) @ Rinv @ psi_n.T
    m = kxy @ (w * lam * r)
    return dict(kxy=kxy, lam=lam, C=C, r=r, w=w, m=m, Sigma=Sig, Rinv=Rinv, Wstar=Wstar)


def _displayed_cov(x, t, P, terms=("C", "r", "m")):
    p = _formula_parts(x, t)
    inner = p["C"] * ("C" in terms) + p["r"] ** 2 * ("r" in terms)
    second = (p["kxy"] * (p["w"] * p["lam"] ** 2 * inner)) @ p["kxy"].T
    m = p["m"] if "m" in terms else np.zeros_like(p["m"])
    return (second - np.outer(m, m)) / P


def check_wstar(rng: np.random.Generator) -> CheckResult:
    r"""``training.population_weights`` (exact Gaussian expectations) vs the quadrature of A (Sigma+rho)^-1.

    Passes iff both give :math:`W_* = A(\Sigma + \rho I)^{-1}` within rtol :math:`10^{-6}` (atol
    :math:`10^{-8}\max|W_*|`), 4 x 4 Gaussian features, :math:`\rho` = ``RIDGE``; deterministic.

    Parameters
    ----------
    rng : numpy.random.Generator

    Returns
    -------
    result : CheckResult

    Examples
    --------
    >>> r = check_wstar(np.random.default_rng(0))
    >>> r.ok, r.residual < 1e-6
    (True, True)
    """
    mu, vp, fm = _setting()
    Ws = training.population_weights(fm, mu, vp, eps=EPS, T=T_END, ridge=RIDGE)
    K = _kernel(P_SIZES[0])
    return compare_close(Ws, K.W_star, rtol=1e-6, atol=1e-8 * np.abs(Ws).max(),
                         what="W* = A (Sigma + rho I)^-1: `training.population_weights` vs "
                              "`kernels.linear_kernel(...).W_star` (independent quadratures), "
                              f"{N_X} x {N_T} Gaussian features, rho = {RIDGE}")


def check_m_identity(rng: np.random.Generator) -> CheckResult:
    r"""m = E[lambda k r] by quadrature vs rho psi^T (Sigma + rho)^-1 W*^T.

    Passes iff :math:`\mathbb{E}_{u,y}[\lambda_u k(x,t;y,u)\, r(y,u)] = \rho\,\psi(x,t)^T(\Sigma + \rho
    I)^{-1}W_*^T` within rtol :math:`10^{-6}` at the query points with :math:`x \ne 0`; deterministic.

    Parameters
    ----------
    rng : numpy.random.Generator

    Returns
    -------
    result : CheckResult

    Examples
    --------
    >>> r = check_m_identity(np.random.default_rng(0))  # builds the quadrature nodes (~2 s)
    >>> r.ok, r.residual < 1e-6
    (True, True)
    """
    sel = XQ != 0  # m(0, t) = 0 by the symmetry of the data and features
    p = _formula_parts(XQ[sel], TQ[sel])
    mu, vp, fm = _setting()
    closed = RIDGE * _score_features(fm, vp, XQ[sel], TQ[sel]) @ p["Rinv"] @ p["Wstar"]
    return compare_close(p["m"], closed, rtol=1e-6, atol=1e-8 * np.abs(closed).max(),
                         what="m(x,t) = E[lambda_u k r] on the production quadrature nodes "
                              "(`kernels.training_nodes`, `proxy.true_score`, W* from "
                              "`training.population_weights`) vs rho psi^T (Sigma + rho I)^-1 W*^T "
                              f"at {sel.sum()} points (x, t), t in {{{', '.join(map(str, TQ[sel]))}}}")


def check_kernel_is_formula(rng: np.random.Generator) -> CheckResult:
    r"""``kernels.linear_kernel`` score covariance vs the displayed formula (quadrature).

    Passes iff ``score_cov`` equals the Prop. 5.1 formula of :func:`build` (training-law
    quadrature, :math:`C` from ``proxy.covariance``) within rtol :math:`10^{-5}`, all pairs of the
    4 query points, :math:`P` = ``P_SIZES[0]``; deterministic.

    Parameters
    ----------
    rng : numpy.random.Generator

    Returns
    -------
    result : CheckResult

    Examples
    --------
    >>> XQ.tolist(), TQ.tolist()  # the 4 query points (x, t) of the checks
    ([-0.5, 0.0, 0.5, 1.0], [0.05, 0.1, 0.3, 0.7])
    """
    P = P_SIZES[0]
    K = _kernel(P)
    mu, vp, fm = _setting()
    n = len(XQ)
    prod = np.array([[K.score_cov(XQ[[a]][:, None], TQ[[a]], XQ[[b]][:, None], TQ[[b]])[0, 0, 0]
                      for b in range(n)] for a in range(n)])
    disp = _displayed_cov(XQ, TQ, P)
    return compare_close(prod, disp, rtol=1e-5, atol=1e-7 * np.abs(disp).max(),
                         what="`kernels.linear_kernel(...).score_cov` vs the displayed formula "
                              "(E over the training law t ~ U[eps, T] by the production quadrature "
                              f"nodes, C from `proxy.covariance`), all {n * n} pairs of {n} "
                              f"points (x, t), P = {P}")


def _ensemble_scores(P, rng):
    mu, vp, fm = _setting()
    W = training.train_ensemble(fm, mu, vp, P=P, n_models=N_MODELS, eps=EPS, T=T_END,
                              ridge=RIDGE, rng=rng)
    phi = fm(XQ[:, None], TQ)
    den = np.einsum("ndf,pf->np", W, phi)
    return (vp.alpha(TQ) * den - XQ) / vp.sigma2(TQ)  # s^ = (alpha mu^ - x)/sigma^2


def _cov_and_se(v):
    n = v.shape[0]
    d = v - v.mean(0)
    cov = d.T @ d / (n - 1)
    prod = d[:, :, None] * d[:, None, :]
    se = prod.std(0, ddof=1) / np.sqrt(n)
    return cov, se


def check_ensemble_cov(rng: np.random.Generator) -> CheckResult:
    r"""Trained ensembles at two P: empirical Cov / ``kernels.linear_kernel`` Cov -> 1 as P grows.

    Passes iff :math:`1 + (\widehat{\mathrm{Cov}}_{ab} - \mathrm{Cov}_{ab})/\sqrt{\mathrm{Var}_a
    \mathrm{Var}_b} \to 1` (:func:`~gtv_symbolic.derive.compare_scaling`) for all pairs, with
    ``N_MODELS`` models per :math:`P \in` ``P_SIZES``; several seconds.

    Parameters
    ----------
    rng : numpy.random.Generator

    Returns
    -------
    result : CheckResult

    Examples
    --------
    >>> P_SIZES, N_MODELS
    ((400, 1600), 2000)
    """
    iu = np.triu_indices(len(XQ))
    ratios, ses = [], []
    for P, r in zip(P_SIZES, rng.spawn(len(P_SIZES)), strict=True):
        cov_e, se = _cov_and_se(_ensemble_scores(P, r))
        K = _kernel(P)
        n = len(XQ)
        cov_f = np.array([[K.score_cov(XQ[[a]][:, None], TQ[[a]], XQ[[b]][:, None],
                                       TQ[[b]])[0, 0, 0] for b in range(n)] for a in range(n)])
        # differences on the correlation scale: 1 + (emp - formula) / sqrt(var_a var_b)
        scale = np.sqrt(np.outer(np.diag(cov_f), np.diag(cov_f)))
        ratios.append((1 + (cov_e - cov_f) / scale)[iu])
        ses.append((se / scale)[iu])
    return compare_scaling_all(P_SIZES, ratios, ses,
                           what=f"{N_MODELS} models per P trained by `training.train_ensemble` "
                                f"(t ~ U[{EPS}, {T_END}], ridge {RIDGE}, {N_X} x {N_T} Gaussian "
                                f"features, data {{-1, 0, 1}}, VP); empirical / "
                                "`kernels.linear_kernel` covariance of s^ for all pairs of "
                                f"{len(XQ)} points (x, t), as 1 + (empirical - formula) / "
                                "sqrt(Var_a Var_b)")


def check_ensemble_mean(rng: np.random.Generator) -> CheckResult:
    r"""Ensemble mean of s^ at the largest P vs W* psi + b (W* from ``training.population_weights``).

    Passes iff :math:`\overline{\hat s}(x,t) = W_*\psi + b = (\alpha_t \phi^T W_* - x)/\sigma_t^2`
    within 5 standard errors at the 4 query points (``N_MODELS`` models, :math:`P` = ``P_SIZES[-1]``).

    Parameters
    ----------
    rng : numpy.random.Generator

    Returns
    -------
    result : CheckResult

    Examples
    --------
    The check trains ``N_MODELS`` models (about 1.5 s); ``gtv derive linear-model`` runs it:

    >>> N_MODELS, P_SIZES[-1]
    (2000, 1600)
    """
    mu, vp, fm = _setting()
    P = P_SIZES[-1]
    s = _ensemble_scores(P, rng)
    Ws = training.population_weights(fm, mu, vp, eps=EPS, T=T_END, ridge=RIDGE)[0]
    den = fm(XQ[:, None], TQ) @ Ws
    ref = (vp.alpha(TQ) * den - XQ) / vp.sigma2(TQ)
    return compare_mc(s.mean(0), ref, s.std(0, ddof=1) / np.sqrt(s.shape[0]), n=s.shape[0],
                      what=f"mean of s^ over {N_MODELS} models trained by `training.train_ensemble` "
                           f"at P = {P} vs W* psi + b at {len(XQ)} points (x, t)")


def check_trace(rng: np.random.Generator) -> CheckResult:
    r"""E[lambda k(y,u;y,u)] by Monte Carlo over the training law vs tr(Sigma (Sigma + rho)^-1).

    Passes iff :math:`\mathbb{E}_{u,y}[\lambda_u k(y,u;y,u)] = \mathrm{tr}\,\Sigma(\Sigma + \rho I)^{-1}
    = F_{\mathrm{eff}}` within 5 standard errors (:math:`10^5` training samples).

    Parameters
    ----------
    rng : numpy.random.Generator

    Returns
    -------
    result : CheckResult

    Examples
    --------
    >>> check_trace(np.random.default_rng(0)).ok
    True
    """
    mu, vp, fm = _setting()
    K = _kernel(P_SIZES[0])
    n = 100_000
    ts = training.sample_training_set(mu, vp, P=n, eps=EPS, T=T_END, rng=rng)
    x, t = ts["x"], ts["t"]
    psi = _score_features(fm, vp, x[:, 0], t)
    Rinv = np.linalg.inv(K.G + RIDGE * np.eye(K.G.shape[0]))
    val = vp.sigma2(t) * np.einsum("nf,fg,ng->n", psi, Rinv, psi)
    return compare_mc([val.mean()], [K.F_eff], [val.std(ddof=1) / np.sqrt(n)], n=n,
                      what="lambda k(y,u;y,u) over training samples from "
                           "`training.sample_training_set` (t ~ U[eps, T]) vs "
                           "`kernels.linear_kernel(...).F_eff`")
