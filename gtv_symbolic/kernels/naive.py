r"""The naive estimator's V-kernel (paper Sec. 4, Prop. 4.1).

The naive score estimator draws a fresh ``x0 ~ p(x0 | x, t)`` at every step; its score noise
is white in time with covariance proportional to the proxy covariance ``C`` (paper Sec. 2):

.. math::  V(x, t; x', t') = \kappa\, D_t\, C(x, t)\, D_{t'}\, \delta(t - t'), \qquad
           C = \frac{\alpha_t^2\, \Sigma_{post}(x, t)}{\sigma_t^4}.

:class:`NaiveKernel` puts this behind the :class:`~gtv_symbolic.kernels.base.VKernel`
interface; the delta-correlated field has no smooth samples (its sampler is the
Euler-Maruyama scheme :func:`gtv_symbolic.typical.naive_em`).

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic import schedules
>>> k = NaiveKernel([[-1.0], [1.0]], schedules.VP(), kappa=0.5)
>>> k.V(np.array([[0.0]]), 0.5).shape
(1, 1, 1)
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import proxy
from .. import symbols as S
from .._validate import check_schedule
from ..data import as_data
from .base import VKernel

__all__ = ["naive_V", "naive_step_covariance", "sym_naive_V", "sym_naive_step_covariance",
           "check_kappa", "NaiveKernel"]


def naive_V(x, t, data, schedule, kappa: float) -> np.ndarray:
    r"""Coefficient of ``delta(t - t')`` in the naive-estimator V-kernel (paper Sec. 4, Prop. 4.1).

    .. math:: V(x,t;x',t') = \kappa\, D_t\, C(x,t)\, D_{t'}\, \delta(t - t'), \qquad
              C = \frac{\alpha_t^2\, \Sigma_{\mathrm{post}}(x,t)}{\sigma_t^4}

    Returns ``kappa D_t^2 C(x,t)`` (derivation *naive-estimator*).

    Parameters
    ----------
    x : array_like, shape (..., D); points.
    t : float or array_like; times, broadcasting against ``x[..., 0]``.
    data : array_like, shape (M, D); training points.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`
    kappa : float; noise scale, finite and >= 0.

    Returns
    -------
    numpy.ndarray, shape (..., D, D)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import kernels, proxy, schedules
    >>> vp, two, x = schedules.VP(), np.array([[-1.0], [1.0]]), np.array([[0.2]])
    >>> V = kernels.naive_V(x, 0.3, two, vp, kappa=0.5)
    >>> V.round(4)
    array([[[4.037]]])
    >>> np.allclose(V, 0.5 * vp.D(0.3)**2 * proxy.covariance(x, 0.3, two, vp))
    True
    """
    kappa = check_kappa(kappa)
    check_schedule(schedule)
    c = proxy.covariance(x, t, data, schedule)
    d = schedule.D(np.asarray(t, dtype=float))
    d = np.broadcast_to(d, c.shape[:-2])
    return kappa * (d**2)[..., None, None] * c


def naive_step_covariance(x, t, dt: float, data, schedule, kappa: float) -> np.ndarray:
    r"""Covariance of one Euler step of the naive estimator (paper Sec. 4, Prop. 4.1).

    From ``x <- x + dt (beta x + D s) + sqrt(kappa dt) D (s~(x0) - s)`` with a fresh
    ``x0 ~ p(x0 | x, t)`` per step:

    .. math:: \mathrm{Cov}[\Delta x \mid x] = \kappa\, \Delta t\, D_t^2\, C(x,t)

    Parameters
    ----------
    x : array_like, shape (..., D); points.
    t : float or array_like; times, broadcasting against ``x[..., 0]``.
    dt : float; step, finite and > 0.
    data : array_like, shape (M, D); training points.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`
    kappa : float; noise scale, finite and >= 0.

    Returns
    -------
    numpy.ndarray, shape (..., D, D)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import kernels, proxy, schedules
    >>> vp, two, x = schedules.VP(), np.array([[-1.0], [1.0]]), np.array([[0.2]])
    >>> kernels.naive_step_covariance(x, 0.3, 1e-3, two, vp, kappa=0.5).round(6)
    array([[[0.004037]]])
    """
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a finite number > 0, got {dt!r}")
    return dt * naive_V(x, t, data, schedule, kappa)


def check_kappa(kappa) -> float:
    """``kappa`` as a finite float >= 0.

    No formula: an argument check (raises naming ``kappa`` and the allowed range).

    Parameters
    ----------
    kappa : float

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``kappa`` is NaN, infinite or negative.

    Examples
    --------
    >>> from gtv_symbolic import kernels
    >>> kernels.check_kappa(1)
    1.0
    >>> kernels.check_kappa(-1)
    Traceback (most recent call last):
    ...
    ValueError: kappa must be a finite number >= 0, got -1.0
    """
    kappa = float(kappa)
    if not (np.isfinite(kappa) and kappa >= 0):
        raise ValueError(f"kappa must be a finite number >= 0, got {kappa!r}")
    return kappa


def sym_naive_V(schedule=None) -> sp.Expr:
    r"""Symbolic naive V-kernel in one dimension (paper Sec. 4, Prop. 4.1).

    .. math:: V = \kappa\, D(t)\, D(t')\, \frac{\alpha(t)^2\, \Sigma_{\mathrm{post}}}{S(t)^2}\, \delta(t - t')

    with ``S = sigma^2``.

    Parameters
    ----------
    schedule : :class:`~gtv_symbolic.schedules.Schedule`, optional
        ``None`` (default) keeps ``D, alpha, S`` as undefined functions of time; otherwise
        the schedule's expressions are substituted.

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> from gtv_symbolic import kernels, schedules
    >>> kernels.sym_naive_V(schedules.VE())  # alpha = 1, S = t^2, D = t
    Sigma_post*kappa*t'*DiracDelta(t - t')/t**3
    """
    t, tp = S.t, S.t_prime
    if schedule is None:
        a, s2, d, dp = S.alpha_f(t), S.S_f(t), S.D_f(t), S.D_f(tp)
    else:
        a, s2 = schedule.expr("alpha"), schedule.expr("sigma2")
        d, dp = schedule.expr("D"), schedule.expr("D").subs(t, tp)
    c = a**2 * S.post_var / s2**2
    return S.kappa * d * c * dp * sp.DiracDelta(t - tp)


def sym_naive_step_covariance() -> sp.Expr:
    r"""Symbolic per-step noise variance of the naive estimator (1-D; paper Sec. 4).

    .. math:: \kappa\, \Delta t\, D_t^2\, \frac{\alpha_t^2\, \Sigma_{\mathrm{post}}}{\sigma_t^4}

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> from gtv_symbolic import kernels
    >>> kernels.sym_naive_step_covariance()
    D**2*Delta_t*Sigma_post*alpha**2*kappa/sigma2**2
    """
    return S.kappa * S.dt * S.Dcoef**2 * S.alpha**2 * S.post_var / S.sigma2**2


class NaiveKernel(VKernel):
    r"""The naive estimator (paper Sec. 4, Prop. 4.1) as a V-kernel: exact mean, white noise.

    .. math:: \mathbb{E}[\hat\mu] = m(x,t), \qquad
              \mathrm{Cov}[\hat\mu(x,t), \hat\mu(x,t')]
              = \kappa\, \Sigma_{\mathrm{post}}(x,t)\, \delta(t - t')

    ``denoiser_cov(x, t)`` is the per-unit-time covariance ``kappa Sigma_post(x, t)`` (the
    coefficient of ``delta(t - t')``; only equal points are accepted); :meth:`V` is
    :func:`naive_V`. The field has no smooth samples: its sampler is the Euler-Maruyama
    scheme :func:`gtv_symbolic.typical.naive_em`.

    Parameters
    ----------
    data : array_like, shape (M, D); training points.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`
    kappa : float; noise scale, finite and >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import kernels, schedules
    >>> k = kernels.NaiveKernel([[-1.0], [1.0]], schedules.VP(), kappa=0.5)
    >>> x = np.array([[0.2]])
    >>> k.denoiser_mean(x, 0.3).round(4), k.V(x, 0.3).round(4)
    (array([[0.0938]]), array([[[4.037]]]))
    """

    def __init__(self, data, schedule, kappa: float):
        self.data = as_data(data)
        self.schedule = check_schedule(schedule)
        self.kappa = check_kappa(kappa)

    @property
    def dim(self) -> int:
        return self.data.shape[1]

    def denoiser_mean(self, x, t):
        return proxy.posterior_mean(x, t, self.data, self.schedule)

    def denoiser_cov(self, x, t, x2=None, t2=None):
        if x2 is not None and not (np.array_equal(np.asarray(x2), np.asarray(x))
                                   and np.array_equal(np.asarray(t2 if t2 is not None else t),
                                                      np.asarray(t))):
            raise ValueError("the naive kernel is delta-correlated: only equal points have "
                             "a (per unit time) covariance")
        return self.kappa * proxy.posterior_covariance(x, t, self.data, self.schedule)

    def V(self, x, t, x2=None, t2=None):
        return naive_V(x, t, self.data, self.schedule, self.kappa)
