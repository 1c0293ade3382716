r"""NumPy evaluators of the point-mass data model (paper Sec. 2): posterior, scores, C, p(x|t).

Vectorized over any batch of points ``x`` (shape ``(..., D)``) and times ``t``; built from
lambdified SymPy kernels (:data:`LOGIT_EXPR`, :data:`SCORE_EXPR`, :data:`COV_FACTOR_EXPR`)
plus a log-sum-exp softmax over the training points whose logits are centred on the nearest
noised training point (backward stable). The formulas are in :mod:`gtv_symbolic.proxy`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp
from scipy.special import expit, logsumexp

from .. import symbols as S
from .._validate import FLOAT_MAX, check_schedule, coord_array
from ..data import as_data
from ..numeric import lambdify

__all__ = [
    "LOGIT_EXPR", "SCORE_EXPR", "COV_FACTOR_EXPR",
    "posterior_weights", "posterior_mean", "posterior_covariance", "true_score", "proxy_score",
    "covariance", "variance_ratio", "log_density", "density",
]

# Work arrays of shape (chunk, M, D) are kept under this many float64 elements (32 MB).
_CHUNK_ELEMS = 2**22

# ----------------------------------------------------------------------------------------
# Symbolic kernels shared by the numeric evaluators
# ----------------------------------------------------------------------------------------
#: Centred logit of w_m: log w_m - log w_ref = -(q_m - q_ref) / (2 sigma^2), with
#: ``q_m = |x - alpha mu_m|^2`` computed from the differences (no ``|x||mu|`` cancellation).
LOGIT_EXPR = -(S.q_m - S.q_ref) / (2 * S.sigma2)
_m_sym = sp.Symbol("m_post", real=True)
_x_sym = sp.Symbol("x_c", real=True)
#: Tweedie score, one coordinate: (alpha m - x) / sigma^2.
SCORE_EXPR = (S.alpha * _m_sym - _x_sym) / S.sigma2
#: Factor turning the posterior covariance into C: alpha^2 / sigma^4.
COV_FACTOR_EXPR = S.alpha**2 / S.sigma2**2


@lru_cache(maxsize=None)
def _kernels():
    return {
        "logit": lambdify([S.sigma2, S.q_m, S.q_ref], LOGIT_EXPR),
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
    try:
        xa = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError("x must be an array of real numbers with shape (..., D)") from exc
    if xa.ndim == 0 or xa.shape[-1] != dim:
        raise ValueError(f"x must have shape (..., D) with D = {dim} (the data's dimension), "
                         f"got shape {xa.shape}")
    coord_array(xa, "x")
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


def _centred(x, alpha, sigma2, mu):
    r"""Posterior pieces of one chunk, centred on the nearest noised training point.

    With ``ref = argmin_m q_m``, ``q_m = |x - alpha mu_m|^2`` (each from its own difference
    vector, so its error is relative to q_m, not to |x||mu_m|):

    .. math:: \log w_m = -\frac{q_m - q_{\mathrm{ref}}}{2\sigma^2}
              - \operatorname{LSE}_n\Bigl(-\frac{q_n - q_{\mathrm{ref}}}{2\sigma^2}\Bigr),

    all logits are <= 0 and the reference one is exactly 0. Returns ``log w`` (c, M),
    ``e = x - alpha mu_ref`` (c, D), ``d_m = mu_m - mu_ref`` (c, M, D) and
    ``dbar = sum_m w_m d_m`` (c, D): the posterior mean is ``mu_ref + dbar`` and every
    moment is taken about ``mu_ref``, so no large common offset cancels.
    """
    rows = np.arange(x.shape[0])
    diff = x[:, None, :] - alpha[:, None, None] * mu[None]
    q = np.einsum("cmi,cmi->cm", diff, diff)
    ref = np.argmin(q, axis=1)
    e = diff[rows, ref]  # fancy indexing copies: diff's memory is reused below
    logits = _kernels()["logit"](sigma2[:, None], q, q[rows, ref][:, None])
    # the reference logit is exactly 0: log Z = log1p(sum of the others), no shift needed
    others = np.exp(logits)
    others[rows, ref] = 0.0
    lw = logits - np.log1p(others.sum(axis=1, keepdims=True))
    d = np.subtract(mu[None], mu[ref][:, None, :], out=diff)
    dbar = np.einsum("cm,cmi->ci", np.exp(lw), d)
    return lw, e, d, dbar, mu[ref]


def _posterior(x, t, data, schedule, *, cov=False, log_trace=False):
    """Posterior summaries on a flattened batch; see module docstring for the formulas."""
    xf, alpha, sigma2, mu, batch = _prepare(x, t, data, schedule)
    n, dim = xf.shape
    out = {"mean": np.empty((n, dim)), "dbar": np.empty((n, dim)), "e": np.empty((n, dim))}
    out.update({"cov": np.empty((n, dim, dim))} if cov else {})
    out.update({"log_trace": np.empty(n)} if log_trace else {})
    for sl in _chunks(n, mu):
        lw, e, d, dbar, mu_ref = _centred(xf[sl], alpha[sl], sigma2[sl], mu)
        out["mean"][sl], out["dbar"][sl], out["e"][sl] = mu_ref + dbar, dbar, e
        if cov or log_trace:
            d -= dbar[:, None, :]  # mu_m - m, from the centred differences
            if cov:
                out["cov"][sl] = np.einsum("cm,cmi,cmj->cij", np.exp(lw), d, d)
            if log_trace:  # log space keeps tr Sigma_post finite where the weights underflow
                with np.errstate(divide="ignore"):
                    out["log_trace"][sl] = logsumexp(lw + np.log(np.einsum("cmi,cmi->cm", d, d)), axis=1)
    return out, xf, alpha, sigma2, batch


# ----------------------------------------------------------------------------------------
# Numeric evaluators (public, stable names)
# ----------------------------------------------------------------------------------------
def posterior_weights(x, t, data, schedule) -> np.ndarray:
    r"""Posterior weights ``w_m(x,t) = p(x0 = mu_m | x, t)`` of the training points (paper Sec. 2).

    .. math:: w_m(x,t) = \operatorname{softmax}_m\Bigl(-\frac{|x - \alpha_t \mu_m|^2}{2\sigma_t^2}\Bigr)

    The logits are centred on the nearest noised training point (log-sum-exp), so the
    weights stay exact where most of them underflow.

    Parameters
    ----------
    x : array_like, shape (..., D); the noisy points.
    t : float or array_like; times in the schedule's interval, broadcasting against ``x[..., 0]``.
    data : array_like, shape (M, D); the training points ``mu_m``.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`; gives ``alpha_t`` and ``sigma_t^2``.

    Returns
    -------
    numpy.ndarray, shape (..., M)
        Non-negative weights summing to 1 over the last axis.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, schedules, data
    >>> vp, mu, x = schedules.VP(), data.polygon(6), np.array([[0.3, 0.1]])
    >>> w = proxy.posterior_weights(x, 0.05, mu, vp)
    >>> w.shape, round(float(w.sum()), 12)
    ((1, 6), 1.0)
    >>> int(w.argmax())  # the nearest training point, (1, 0), weighs most
    0
    """
    xf, alpha, sigma2, mu, batch = _prepare(x, t, data, schedule)
    out = np.empty((xf.shape[0], mu.shape[0]))
    for sl in _chunks(xf.shape[0], mu):
        out[sl] = np.exp(_centred(xf[sl], alpha[sl], sigma2[sl], mu)[0])
    return out.reshape(batch + (mu.shape[0],))


def posterior_mean(x, t, data, schedule) -> np.ndarray:
    r"""Bayes denoiser ``m(x,t) = E[x0 | x, t]`` (paper Sec. 2).

    .. math:: m(x,t) = \sum_m w_m(x,t)\, \mu_m

    Parameters
    ----------
    x : array_like, shape (..., D); the noisy points.
    t : float or array_like; times in the schedule's interval, broadcasting against ``x[..., 0]``.
    data : array_like, shape (M, D); the training points ``mu_m``.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`; gives ``alpha_t`` and ``sigma_t^2``.

    Returns
    -------
    numpy.ndarray, shape (..., D)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, schedules, data
    >>> vp, mu, x = schedules.VP(), data.polygon(6), np.array([[0.3, 0.1]])
    >>> np.allclose(proxy.posterior_mean(x, 0.05, mu, vp),
    ...             proxy.posterior_weights(x, 0.05, mu, vp) @ mu)
    True
    >>> proxy.posterior_mean(x, 1e-3, mu, vp).round(6)  # small t: the nearest point
    array([[1., 0.]])
    """
    out, xf, _, _, batch = _posterior(x, t, data, schedule)
    return out["mean"].reshape(batch + xf.shape[1:])


def posterior_covariance(x, t, data, schedule) -> np.ndarray:
    r"""Posterior covariance ``Sigma_post(x,t) = Cov[x0 | x, t]`` (paper Sec. 2).

    .. math:: \Sigma_{\mathrm{post}}(x,t) = \sum_m w_m (\mu_m - m)(\mu_m - m)^\top

    Moments are taken about the nearest training point, so no large offset cancels.

    Parameters
    ----------
    x : array_like, shape (..., D); the noisy points.
    t : float or array_like; times in the schedule's interval, broadcasting against ``x[..., 0]``.
    data : array_like, shape (M, D); the training points ``mu_m``.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`; gives ``alpha_t`` and ``sigma_t^2``.

    Returns
    -------
    numpy.ndarray, shape (..., D, D)
        Symmetric positive semi-definite matrices.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, schedules, data
    >>> vp, mu, x = schedules.VP(), data.polygon(6), np.array([[0.3, 0.1]])
    >>> P = proxy.posterior_covariance(x, 0.5, mu, vp)  # t = 0.5: nearly full noise
    >>> P.shape, np.allclose(P, P.transpose(0, 2, 1))
    ((1, 2, 2), True)
    >>> round(float(np.trace(P[0])), 2)  # tr Cov of the uniform hexagon = 1
    1.0
    """
    out, xf, _, _, batch = _posterior(x, t, data, schedule, cov=True)
    dim = xf.shape[1]
    return out["cov"].reshape(batch + (dim, dim))


def true_score(x, t, data, schedule) -> np.ndarray:
    r"""True score ``s(x,t) = grad_x log p(x|t)`` by Tweedie's formula (paper Sec. 2).

    .. math:: s(x,t) = \frac{\alpha_t\, m(x,t) - x}{\sigma_t^2}

    Evaluated as ``(alpha dbar - e) / sigma^2`` about the nearest training point ``mu_ref``,
    with ``e = x - alpha mu_ref`` and ``dbar = m - mu_ref`` (no cancellation of
    ``alpha m`` against ``x``).

    Parameters
    ----------
    x : array_like, shape (..., D); the noisy points.
    t : float or array_like; times in the schedule's interval, broadcasting against ``x[..., 0]``.
    data : array_like, shape (M, D); the training points ``mu_m``.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`; gives ``alpha_t`` and ``sigma_t^2``.

    Returns
    -------
    numpy.ndarray, shape (..., D)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, schedules, data
    >>> vp, mu, x = schedules.VP(), data.polygon(6), np.array([[0.3, 0.1]])
    >>> s = proxy.true_score(x, 0.05, mu, vp)
    >>> a, s2 = vp.alpha(0.05), vp.sigma2(0.05)
    >>> np.allclose(s, (a * proxy.posterior_mean(x, 0.05, mu, vp) - x) / s2)
    True
    >>> np.allclose(proxy.true_score(np.zeros((1, 2)), 0.5, mu, vp), 0)  # symmetric data
    True
    """
    out, xf, alpha, sigma2, batch = _posterior(x, t, data, schedule)
    s = _kernels()["score"](alpha[:, None], sigma2[:, None], out["dbar"], out["e"])
    return s.reshape(batch + xf.shape[1:])


def proxy_score(x, t, x0, schedule) -> np.ndarray:
    r"""Proxy (denoising score matching) score of one training point (paper Sec. 2).

    .. math:: \tilde s(x,t;x_0) = \nabla_x \log p(x \mid x_0, t) = \frac{\alpha_t x_0 - x}{\sigma_t^2}

    Parameters
    ----------
    x : array_like, shape (..., D)
        Noisy points.
    t : float or array_like
        Time(s) in the schedule's accepted interval.
    x0 : array_like, shape (..., D)
        Training point(s), with the same D as ``x`` (a one-dimensional training point is
        ``x0[:, None]``, never a bare ``(n,)`` vector, which would broadcast into ``(n, n)``).
        The batch shapes of ``x`` and ``x0`` and the shape of ``t`` broadcast.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`

    Returns
    -------
    numpy.ndarray, shape (..., D)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, schedules
    >>> ve = schedules.VE()  # alpha = 1, sigma^2 = t^2
    >>> proxy.proxy_score(np.array([[0.5, 0.0]]), 0.5, np.array([[1.0, 1.0]]), ve)
    array([[2., 4.]])
    """
    check_schedule(schedule)
    xa = coord_array(x, "x")
    x0a = coord_array(x0, "x0")
    if xa.ndim == 0:
        raise ValueError(f"x must have shape (..., D), got shape {xa.shape}")
    dim = xa.shape[-1]
    if x0a.ndim == 0 or x0a.shape[-1] != dim:
        raise ValueError(f"x0 must have shape (..., D) with D = {dim} (x's last axis), got shape "
                         f"{x0a.shape}; for one-dimensional data pass data[:, None]")
    ta = schedule.validate_t(t)
    try:
        batch = np.broadcast_shapes(xa.shape[:-1], x0a.shape[:-1], ta.shape)
    except ValueError:
        raise ValueError(f"x batch shape {xa.shape[:-1]}, x0 batch shape {x0a.shape[:-1]} and t "
                         f"shape {ta.shape} do not broadcast") from None
    ta = ta[..., None]
    s = _kernels()["score"](schedule.alpha(ta), schedule.sigma2(ta), x0a, xa)
    return np.broadcast_to(s, batch + (dim,)).copy()


def covariance(x, t, data, schedule) -> np.ndarray:
    r"""Covariance of the proxy score over the posterior, ``C(x,t)`` (paper Sec. 2).

    .. math:: C(x,t) = \mathbb{E}_{x_0 \mid x,t}\bigl[(\tilde s - s)(\tilde s - s)^\top\bigr]
              = \frac{\alpha_t^2}{\sigma_t^4} \Sigma_{\mathrm{post}}(x,t)
              = \frac{I}{\sigma_t^2} + \nabla_x^2 \log p(x|t)

    (the three forms are proved equal in the derivation *proxy-covariance*).

    Parameters
    ----------
    x : array_like, shape (..., D); the noisy points.
    t : float or array_like; times in the schedule's interval, broadcasting against ``x[..., 0]``.
    data : array_like, shape (M, D); the training points ``mu_m``.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`; gives ``alpha_t`` and ``sigma_t^2``.

    Returns
    -------
    numpy.ndarray, shape (..., D, D)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, schedules, data
    >>> vp, mu, x = schedules.VP(), data.polygon(6), np.array([[0.3, 0.1]])
    >>> a, s2 = vp.alpha(0.05), vp.sigma2(0.05)
    >>> np.allclose(proxy.covariance(x, 0.05, mu, vp),
    ...             a**2 / s2**2 * proxy.posterior_covariance(x, 0.05, mu, vp))
    True
    >>> float(proxy.covariance(x, 0.05, mu[:1], vp).max())  # one training point: C = 0
    0.0
    """
    out, xf, alpha, sigma2, batch = _posterior(x, t, data, schedule, cov=True)
    c = _kernels()["cov_factor"](alpha, sigma2)[:, None, None] * out["cov"]
    dim = xf.shape[1]
    return c.reshape(batch + (dim, dim))


def variance_ratio(x, t, data, schedule) -> np.ndarray:
    r"""Figure 1 ratio of the proxy-score variance to the proxy score's second moment.

    .. math:: R(x,t) = \frac{\operatorname{tr} C}{\operatorname{tr} C + |s|^2}
              = \frac{\alpha^2 \operatorname{tr}\Sigma_{\mathrm{post}}}
                {\alpha^2 \operatorname{tr}\Sigma_{\mathrm{post}} + |x - \alpha m|^2}

    in ``[0, 1]`` (paper Sec. 2, Fig. 1). The factor ``1/sigma^4`` cancels; the ratio is
    evaluated in log space, so it stays exact where the posterior weights underflow (small
    ``t``). ``R = 0`` where ``C = 0`` exactly (e.g. M = 1).

    Parameters
    ----------
    x : array_like, shape (..., D); the noisy points.
    t : float or array_like; times in the schedule's interval, broadcasting against ``x[..., 0]``.
    data : array_like, shape (M, D); the training points ``mu_m``.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`; gives ``alpha_t`` and ``sigma_t^2``.

    Returns
    -------
    numpy.ndarray, shape (...)
        The batch shape of ``x`` and ``t``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, schedules, data
    >>> vp, mu, x = schedules.VP(), data.polygon(6), np.array([[0.3, 0.1]])
    >>> proxy.variance_ratio(x, 0.05, mu, vp).round(3)
    array([0.398])
    >>> C, s = proxy.covariance(x, 0.05, mu, vp)[0], proxy.true_score(x, 0.05, mu, vp)[0]
    >>> round(float(np.trace(C) / (np.trace(C) + s @ s)), 3)
    0.398
    """
    out, xf, alpha, _, batch = _posterior(x, t, data, schedule, log_trace=True)
    resid = out["e"] - alpha[:, None] * out["dbar"]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_r2 = np.log(np.einsum("ci,ci->c", resid, resid))
        log_num = 2 * np.log(alpha) + out["log_trace"]
        zero_c = np.isneginf(out["log_trace"])
        ratio = np.where(zero_c, 0.0, expit(log_num - log_r2))
    return ratio.reshape(batch)


def log_density(x, t, data, schedule) -> np.ndarray:
    r"""Log of the noised data density ``p(x|t)`` (paper Sec. 2).

    .. math:: \log p(x|t) = \log \frac{1}{M} \sum_m \mathcal{N}(x;\ \alpha_t \mu_m,\ \sigma_t^2 I)

    Parameters
    ----------
    x : array_like, shape (..., D); the noisy points.
    t : float or array_like; times in the schedule's interval, broadcasting against ``x[..., 0]``.
    data : array_like, shape (M, D); the training points ``mu_m``.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`; gives ``alpha_t`` and ``sigma_t^2``.

    Returns
    -------
    numpy.ndarray, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, schedules
    >>> ve = schedules.VE()  # alpha = 1, sigma^2 = t^2; one point at 0: log N(0; 0, 1)
    >>> proxy.log_density(np.zeros((1, 1)), 1.0, np.zeros((1, 1)), ve).round(6)
    array([-0.918939])
    """
    xf, alpha, sigma2, mu, batch = _prepare(x, t, data, schedule)
    n, dim = xf.shape
    out = np.empty(n)
    for sl in _chunks(n, mu):
        d = xf[sl, None, :] - alpha[sl, None, None] * mu[None]  # direct distances: no cancellation
        q = -np.einsum("cmi,cmi->cm", d, d) / (2 * sigma2[sl, None])
        out[sl] = logsumexp(q, axis=1) - np.log(mu.shape[0]) - 0.5 * dim * np.log(2 * np.pi * sigma2[sl])
    return out.reshape(batch)


def density(x, t, data, schedule) -> np.ndarray:
    r"""Noised data density ``p(x|t) = exp(log p(x|t))`` (see :func:`log_density`).

    .. math:: p(x|t) = \frac{1}{M} \sum_m (2\pi\sigma_t^2)^{-D/2}
              \exp\Bigl(-\frac{|x - \alpha_t \mu_m|^2}{2\sigma_t^2}\Bigr)

    Parameters
    ----------
    x : array_like, shape (..., D); the noisy points.
    t : float or array_like; times in the schedule's interval, broadcasting against ``x[..., 0]``.
    data : array_like, shape (M, D); the training points ``mu_m``.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`; gives ``alpha_t`` and ``sigma_t^2``.

    Returns
    -------
    numpy.ndarray, shape (...)

    Raises
    ------
    ValueError
        Where ``p`` exceeds the float64 range (large D at small t, where
        ``(2 pi sigma^2)^(-D/2)`` alone overflows): use :func:`log_density` there.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, schedules, data
    >>> vp, mu, x = schedules.VP(), data.polygon(6), np.array([[0.3, 0.1]])
    >>> np.allclose(proxy.density(x, 0.05, mu, vp), np.exp(proxy.log_density(x, 0.05, mu, vp)))
    True
    """
    lp = log_density(x, t, data, schedule)
    top = float(np.max(lp)) if lp.size else -np.inf
    if top > np.log(FLOAT_MAX):
        raise ValueError(f"density p(x|t) exceeds the float64 range (log p up to {top:.4g} > "
                         f"{np.log(FLOAT_MAX):.4g}) at this t and data dimension; use log_density")
    return np.exp(lp)

