r"""Point-mass data model: posterior, true score, proxy score and its covariance.

For ``p_data = (1/M) sum_m delta(x0 - mu_m)`` and the isotropic forward process
``p(x | x0, t) = N(x; alpha_t x0, sigma_t^2 I)`` (paper-math.md sections 1.3-2.4):

* posterior weights  ``w_m = softmax_m(-|x - alpha mu_m|^2 / (2 sigma^2))``
* posterior mean     ``m(x,t) = sum_m w_m mu_m``
* posterior cov      ``Sigma_post = sum_m w_m (mu_m - m)(mu_m - m)^T``
* true score         ``s = (alpha m - x) / sigma^2``                  (Tweedie, 1.4)
* proxy score        ``s~(x,t;x0) = (alpha x0 - x) / sigma^2``         (2.1)
* its covariance     ``C = alpha^2 Sigma_post / sigma^4``              (paper Eq. (5), 2.3)
* Figure 1 ratio     ``R = tr C / (tr C + |s|^2)``                      (2.4)

Each quantity has a SymPy form (``sym_*``: explicit small data sets, numeric or symbolic
points; ``generic_*``: any M with an indexed sum) and a vectorized NumPy evaluator. The
evaluators are built from lambdified SymPy kernels (:mod:`gtv_symbolic.numeric`) plus a
log-sum-exp softmax over the training points, and are accurate for t down to 1e-6,
|x| up to 50, M up to 1e4 and D up to 64.

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic import proxy, schedules, data
>>> vp = schedules.VP()
>>> s = proxy.true_score(np.zeros((1, 2)), 0.5, data.polygon(6), vp)
>>> np.allclose(s, 0)
True
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp
from scipy.special import expit, logsumexp

from . import symbols as S
from ._validate import check_schedule
from .data import as_data
from .numeric import lambdify

# Work arrays of shape (chunk, M, D) are kept under this many float64 elements (32 MB).
_CHUNK_ELEMS = 2**22

# ----------------------------------------------------------------------------------------
# Symbolic kernels shared by the numeric evaluators
# ----------------------------------------------------------------------------------------
#: Logit of w_m up to an m-independent term: -|x - a mu|^2/(2 s2) + |x|^2/(2 s2).
LOGIT_EXPR = (S.alpha * S.xdotmu - S.alpha**2 * S.musq / 2) / S.sigma2
_m_sym = sp.Symbol("m_post", real=True)
_x_sym = sp.Symbol("x_c", real=True)
#: Tweedie score, one coordinate: (alpha m - x) / sigma^2.
SCORE_EXPR = (S.alpha * _m_sym - _x_sym) / S.sigma2
#: Factor turning the posterior covariance into C: alpha^2 / sigma^4.
COV_FACTOR_EXPR = S.alpha**2 / S.sigma2**2


@lru_cache(maxsize=None)
def _kernels():
    return {
        "logit": lambdify([S.alpha, S.sigma2, S.xdotmu, S.musq], LOGIT_EXPR),
        "score": lambdify([S.alpha, S.sigma2, _m_sym, _x_sym], SCORE_EXPR),
        "cov_factor": lambdify([S.alpha, S.sigma2], COV_FACTOR_EXPR),
    }


# ----------------------------------------------------------------------------------------
# Input handling
# ----------------------------------------------------------------------------------------
def _prepare(x, t, data, schedule):
    check_schedule(schedule)
    mu = as_data(data)
    dim = mu.shape[1]
    xa = np.asarray(x, dtype=float)
    if xa.ndim == 0 or xa.shape[-1] != dim:
        raise ValueError(f"x must have shape (..., D) with D = {dim} (the data's dimension), "
                         f"got shape {xa.shape}")
    if not np.all(np.isfinite(xa)):
        raise ValueError("x must be finite (found NaN or inf)")
    ta = schedule.validate_t(t)
    try:
        batch = np.broadcast_shapes(xa.shape[:-1], ta.shape)
    except ValueError:
        raise ValueError(f"t with shape {ta.shape} does not broadcast against x's batch shape "
                         f"{xa.shape[:-1]}") from None
    alpha = np.broadcast_to(schedule.alpha(ta), batch).reshape(-1)
    sigma2 = np.broadcast_to(schedule.sigma2(ta), batch).reshape(-1)
    xf = np.broadcast_to(xa, batch + (dim,)).reshape(-1, dim)
    return xf, alpha, sigma2, mu, batch


def _chunks(n_batch: int, mu: np.ndarray):
    size = max(1, _CHUNK_ELEMS // (mu.shape[0] * mu.shape[1]))
    for start in range(0, n_batch, size):
        yield slice(start, min(start + size, n_batch))


def _log_weights(x, alpha, sigma2, mu, musq):
    logits = _kernels()["logit"](alpha[:, None], sigma2[:, None], x @ mu.T, musq[None, :])
    return logits - logsumexp(logits, axis=1, keepdims=True)


def _posterior(x, t, data, schedule, *, cov=False, log_trace=False):
    """Posterior summaries on a flattened batch; see module docstring for the formulas."""
    xf, alpha, sigma2, mu, batch = _prepare(x, t, data, schedule)
    n, dim = xf.shape
    musq = np.einsum("md,md->m", mu, mu)
    out = {"mean": np.empty((n, dim))}
    if cov:
        out["cov"] = np.empty((n, dim, dim))
    if log_trace:
        out["log_trace"] = np.empty(n)
    for sl in _chunks(n, mu):
        lw = _log_weights(xf[sl], alpha[sl], sigma2[sl], mu, musq)
        w = np.exp(lw)
        m = w @ mu
        out["mean"][sl] = m
        if cov or log_trace:
            d = mu[None, :, :] - m[:, None, :]  # centred: no E[mu mu^T] - m m^T cancellation
            if cov:
                out["cov"][sl] = np.einsum("cm,cmi,cmj->cij", w, d, d)
            if log_trace:
                with np.errstate(divide="ignore"):
                    # log-space keeps tr Sigma_post finite where the weights underflow
                    out["log_trace"][sl] = logsumexp(lw + np.log(np.einsum("cmi,cmi->cm", d, d)),
                                                     axis=1)
    return out, xf, alpha, sigma2, batch


# ----------------------------------------------------------------------------------------
# Numeric evaluators (public, stable names)
# ----------------------------------------------------------------------------------------
def posterior_weights(x, t, data, schedule) -> np.ndarray:
    """``w_m(x,t) = p(x0 = mu_m | x, t)``; shape ``(..., M)`` (log-sum-exp softmax)."""
    xf, alpha, sigma2, mu, batch = _prepare(x, t, data, schedule)
    musq = np.einsum("md,md->m", mu, mu)
    out = np.empty((xf.shape[0], mu.shape[0]))
    for sl in _chunks(xf.shape[0], mu):
        out[sl] = np.exp(_log_weights(xf[sl], alpha[sl], sigma2[sl], mu, musq))
    return out.reshape(batch + (mu.shape[0],))


def posterior_mean(x, t, data, schedule) -> np.ndarray:
    """Bayes denoiser ``m(x,t) = E[x0 | x, t] = sum_m w_m mu_m``; shape ``(..., D)``."""
    out, xf, _, _, batch = _posterior(x, t, data, schedule)
    return out["mean"].reshape(batch + xf.shape[1:])


def posterior_covariance(x, t, data, schedule) -> np.ndarray:
    """``Sigma_post(x,t) = Cov[x0 | x, t]``; shape ``(..., D, D)``."""
    out, xf, _, _, batch = _posterior(x, t, data, schedule, cov=True)
    dim = xf.shape[1]
    return out["cov"].reshape(batch + (dim, dim))


def true_score(x, t, data, schedule) -> np.ndarray:
    """True score ``s(x,t) = grad_x log p(x|t) = (alpha_t m(x,t) - x) / sigma_t^2``; ``(..., D)``.

    x has shape ``(..., D)``, data ``(M, D)``; t is a scalar or broadcasts against ``x[..., 0]``.
    """
    out, xf, alpha, sigma2, batch = _posterior(x, t, data, schedule)
    s = _kernels()["score"](alpha[:, None], sigma2[:, None], out["mean"], xf)
    return s.reshape(batch + xf.shape[1:])


def proxy_score(x, t, x0, schedule) -> np.ndarray:
    """Proxy score ``s~(x,t;x0) = (alpha_t x0 - x) / sigma_t^2`` (paper-math.md 2.1); ``(..., D)``."""
    xa = np.asarray(x, dtype=float)
    x0a = np.asarray(x0, dtype=float)
    if not (np.all(np.isfinite(xa)) and np.all(np.isfinite(x0a))):
        raise ValueError("x and x0 must be finite")
    ta = schedule.validate_t(t)[..., None]
    return _kernels()["score"](schedule.alpha(ta), schedule.sigma2(ta), x0a, xa)


def covariance(x, t, data, schedule) -> np.ndarray:
    """Proxy-score covariance ``C(x,t) = alpha_t^2 Sigma_post / sigma_t^4`` (paper Eq. (5)).

    Shape ``(..., D, D)``. Equal to ``I/sigma^2 + hess log p`` (tested symbolically).
    """
    out, xf, alpha, sigma2, batch = _posterior(x, t, data, schedule, cov=True)
    c = _kernels()["cov_factor"](alpha, sigma2)[:, None, None] * out["cov"]
    dim = xf.shape[1]
    return c.reshape(batch + (dim, dim))


def variance_ratio(x, t, data, schedule) -> np.ndarray:
    """Figure 1 ratio ``R = tr C / (tr C + |s|^2)`` in [0, 1]; shape ``(...)``.

    The factor ``alpha^2 / sigma^4`` cancels, so ``R = tr Sigma_post / (tr Sigma_post +
    |x/alpha - m|^2)``; evaluated in log space, so it stays exact where the posterior
    weights underflow (small t). ``R = 0`` where ``C = 0`` exactly (e.g. M = 1).
    """
    out, xf, alpha, _, batch = _posterior(x, t, data, schedule, log_trace=True)
    resid = xf / alpha[:, None] - out["mean"]
    with np.errstate(divide="ignore"):
        log_r2 = np.log(np.einsum("ci,ci->c", resid, resid))
    log_tr = out["log_trace"]
    zero_c = np.isneginf(log_tr)
    diff = np.where(zero_c, 0.0, log_tr - np.where(np.isneginf(log_r2), -np.inf, log_r2))
    ratio = np.where(zero_c, 0.0, expit(diff))
    return ratio.reshape(batch)


def log_density(x, t, data, schedule) -> np.ndarray:
    """``log p(x|t) = log (1/M) sum_m N(x; alpha_t mu_m, sigma_t^2 I)``; shape ``(...)``."""
    xf, alpha, sigma2, mu, batch = _prepare(x, t, data, schedule)
    n, dim = xf.shape
    out = np.empty(n)
    for sl in _chunks(n, mu):
        d = xf[sl, None, :] - alpha[sl, None, None] * mu[None]  # direct distances: no cancellation
        q = -np.einsum("cmi,cmi->cm", d, d) / (2 * sigma2[sl, None])
        out[sl] = logsumexp(q, axis=1) - np.log(mu.shape[0]) - 0.5 * dim * np.log(2 * np.pi * sigma2[sl])
    return out.reshape(batch)


def density(x, t, data, schedule) -> np.ndarray:
    """``p(x|t)`` (see :func:`log_density`)."""
    return np.exp(log_density(x, t, data, schedule))


# ----------------------------------------------------------------------------------------
# Symbolic forms
# ----------------------------------------------------------------------------------------
def _sym_setup(data, schedule):
    """Coordinates x, training points mu (numbers -> exact Rationals), alpha, sigma^2."""
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], sp.MatrixBase):
        mus = [sp.Matrix(m) for m in data]
    else:
        arr = as_data(data)
        mus = [sp.Matrix([sp.nsimplify(v, rational=True) for v in row]) for row in arr]
    dim = mus[0].shape[0]
    if any(m.shape != (dim, 1) for m in mus):
        raise ValueError("all training points must have the same dimension")
    if schedule is None:
        a, s2 = S.alpha, S.sigma2
    else:
        a, s2 = schedule.expr("alpha"), schedule.expr("sigma2")
    return S.x_vec(dim), mus, a, s2


def _gauss_kernel(x, mu, a, s2):
    r = x - a * mu
    return sp.exp(-(r.T * r)[0, 0] / (2 * s2))


def sym_marginal(data, schedule=None) -> sp.Expr:
    """``p(x|t) = (1/M) sum_m (2 pi sigma^2)^(-D/2) exp(-|x - alpha mu_m|^2 / (2 sigma^2))``.

    ``data`` is an (M, D) array of numbers (made exact) or a list of SymPy column vectors;
    ``schedule=None`` keeps alpha and sigma^2 as symbols, otherwise uses its expressions of t.
    """
    x, mus, a, s2 = _sym_setup(data, schedule)
    norm = (2 * sp.pi * s2) ** sp.Rational(-len(x), 2)
    return norm * sp.Add(*[_gauss_kernel(x, mu, a, s2) for mu in mus]) / len(mus)


def sym_posterior_weights(data, schedule=None) -> list[sp.Expr]:
    """Posterior weights ``w_m = K_m / sum_n K_n`` with Gaussian kernels ``K_m``."""
    x, mus, a, s2 = _sym_setup(data, schedule)
    ks = [_gauss_kernel(x, mu, a, s2) for mu in mus]
    z = sp.Add(*ks)
    return [k / z for k in ks]


def sym_posterior_mean(data, schedule=None) -> sp.Matrix:
    """``m = sum_m w_m mu_m``."""
    _, mus, _, _ = _sym_setup(data, schedule)
    w = sym_posterior_weights(data, schedule)
    return sum((wi * mu for wi, mu in zip(w, mus, strict=True)), sp.zeros(*mus[0].shape))


def sym_posterior_covariance(data, schedule=None) -> sp.Matrix:
    """``Sigma_post = sum_m w_m (mu_m - m)(mu_m - m)^T``."""
    _, mus, _, _ = _sym_setup(data, schedule)
    w = sym_posterior_weights(data, schedule)
    m = sym_posterior_mean(data, schedule)
    dim = mus[0].shape[0]
    return sum(((wi * (mu - m) * (mu - m).T) for wi, mu in zip(w, mus, strict=True)), sp.zeros(dim, dim))


def sym_proxy_score(x0, data_dim: int, schedule=None) -> sp.Matrix:
    """``s~(x,t;x0) = (alpha x0 - x) / sigma^2`` for a given training point ``x0``."""
    x = S.x_vec(data_dim)
    a, s2 = (S.alpha, S.sigma2) if schedule is None else (schedule.expr("alpha"), schedule.expr("sigma2"))
    return (a * sp.Matrix(x0) - x) / s2


def sym_true_score(data, schedule=None, form: str = "tweedie") -> sp.Matrix:
    """True score: ``form='tweedie'`` gives ``(alpha m - x)/sigma^2``; ``'grad'`` gives grad log p."""
    x, mus, a, s2 = _sym_setup(data, schedule)
    if form == "tweedie":
        return (a * sym_posterior_mean(data, schedule) - x) / s2
    if form == "grad":
        logp = sp.log(sym_marginal(data, schedule))
        return sp.Matrix([sp.diff(logp, xi) for xi in x])
    raise ValueError(f"form must be 'tweedie' or 'grad', got {form!r}")


def sym_covariance(data, schedule=None, form: str = "denoiser") -> sp.Matrix:
    """Proxy-score covariance C in one of the three forms of paper Eq. (5).

    * ``'posterior'``: ``E_post[(s~ - s)(s~ - s)^T]`` (the definition);
    * ``'hessian'``:   ``I / sigma^2 + hess_x log p(x|t)``;
    * ``'denoiser'``:  ``alpha^2 Sigma_post / sigma^4``.
    """
    x, mus, a, s2 = _sym_setup(data, schedule)
    dim = len(x)
    if form == "denoiser":
        return a**2 * sym_posterior_covariance(data, schedule) / s2**2
    if form == "hessian":
        logp = sp.log(sym_marginal(data, schedule))
        return sp.eye(dim) / s2 + sp.hessian(logp, list(x))
    if form == "posterior":
        w = sym_posterior_weights(data, schedule)
        s = sym_true_score(data, schedule)
        out = sp.zeros(dim, dim)
        for wi, mu in zip(w, mus, strict=True):
            r = (a * mu - x) / s2 - s
            out += wi * r * r.T
        return out
    raise ValueError(f"form must be 'posterior', 'hessian' or 'denoiser', got {form!r}")


def sym_variance_ratio(data, schedule=None) -> sp.Expr:
    """``R = tr C / (tr C + |s|^2)``."""
    c = sym_covariance(data, schedule)
    s = sym_true_score(data, schedule)
    return c.trace() / (c.trace() + (s.T * s)[0, 0])


def generic_forms(dim: int = 1) -> dict[str, sp.Basic]:
    """Generic-M forms with an indexed sum over ``m = 1..M`` (``mu[m, i]`` an IndexedBase).

    Returns the marginal ``p``, its Tweedie score and the proxy score of point ``m``, all
    as SymPy expressions (alpha, sigma^2 as symbols). SymPy differentiates under ``Sum``, so
    ``diff(log p, x_i)`` is available; the per-term identity ``grad N_m = N_m s~_m`` is what
    proves E_post[s~] = s for every M (see derivations).
    """
    x = S.x_vec(dim)
    mu = sp.IndexedBase("mu", real=True)
    m = S.m_idx
    a, s2 = S.alpha, S.sigma2
    sq = sum((x[i] - a * mu[m, i + 1]) ** 2 for i in range(dim))
    kern = sp.exp(-sq / (2 * s2))
    norm = (2 * sp.pi * s2) ** sp.Rational(-dim, 2)
    z = sp.Sum(kern, (m, 1, S.M))
    p = norm * z / S.M
    mean = [sp.Sum(kern * mu[m, i + 1], (m, 1, S.M)) / z for i in range(dim)]
    weight = kern / z
    cov = sp.Matrix(dim, dim, lambda i, j: sp.Sum(kern * (mu[m, i + 1] - mean[i]) * (mu[m, j + 1] - mean[j]),
                                                   (m, 1, S.M)) / z)
    score = sp.Matrix([(a * mean[i] - x[i]) / s2 for i in range(dim)])
    c = a**2 * cov / s2**2
    return {
        "marginal": p,
        "kernel": kern,
        "weight": weight,
        "posterior_mean": sp.Matrix(mean),
        "posterior_covariance": cov,
        "tweedie_score": score,
        "proxy_score": sp.Matrix([(a * mu[m, i + 1] - x[i]) / s2 for i in range(dim)]),
        "covariance": c,
        "variance_ratio": c.trace() / (c.trace() + (score.T * score)[0, 0]),
        "mu": mu,
    }


def latex_formulas(dim: int = 1) -> dict[str, str]:
    """LaTeX of the generic-M forms of :func:`generic_forms` (package symbol names)."""
    g = generic_forms(dim)
    keys = ("marginal", "weight", "posterior_mean", "posterior_covariance", "tweedie_score",
            "proxy_score", "covariance", "variance_ratio")
    out = {}
    for k in keys:
        e = g[k]
        if isinstance(e, sp.MatrixBase) and e.shape == (1, 1):
            e = e[0, 0]  # scalar display in one dimension
        out[k] = S.latex(e)
    return out


def sym_gaussian_covariance(m0: sp.Matrix, S0: sp.Matrix, form: str = "hessian") -> sp.Matrix:
    """Proxy covariance for Gaussian data ``N(m0, S0)`` (paper-math.md 2.5, claim 9.6).

    * ``'hessian'``:   ``I / sigma^2 + hess log N(x; alpha m0, alpha^2 S0 + sigma^2 I)``;
    * ``'posterior'``: ``alpha^2 S^-1 Sigma_post S^-1`` with
      ``Sigma_post = (S0^-1 + alpha^2 / sigma^2 I)^-1`` (constant in x).
    """
    m0, S0 = sp.Matrix(m0), sp.Matrix(S0)
    dim = m0.shape[0]
    x = S.x_vec(dim)
    a, s2 = S.alpha, S.sigma2
    if form == "hessian":
        cov = a**2 * S0 + s2 * sp.eye(dim)
        r = x - a * m0
        logp = -(r.T * cov.inv() * r)[0, 0] / 2 - sp.log(cov.det()) / 2
        return sp.eye(dim) / s2 + sp.hessian(logp, list(x))
    if form == "posterior":
        post = (S0.inv() + a**2 / s2 * sp.eye(dim)).inv()
        return a**2 * post / s2**2
    raise ValueError(f"form must be 'hessian' or 'posterior', got {form!r}")
