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
    r"""Coefficient of ``delta(t - t')`` in the naive-estimator V-kernel (Prop. 4.1).

    ``V(x,t;x',t') = kappa D_t C(x,t) D_t' delta(t - t')``; returns ``kappa D_t^2 C(x,t)`` with
    shape ``(..., D, D)``, where ``C = alpha_t^2 Sigma_post / sigma_t^4`` (paper Sec. 2).
    """
    kappa = check_kappa(kappa)
    check_schedule(schedule)
    c = proxy.covariance(x, t, data, schedule)
    d = schedule.D(np.asarray(t, dtype=float))
    d = np.broadcast_to(d, c.shape[:-2])
    return kappa * (d**2)[..., None, None] * c


def naive_step_covariance(x, t, dt: float, data, schedule, kappa: float) -> np.ndarray:
    r"""Covariance of one Euler step of the naive estimator: ``kappa dt D_t^2 C(x,t)``.

    From ``x <- x + dt (beta x + D s) + sqrt(kappa dt) D (s~(x0) - s)`` with a fresh
    ``x0 ~ p(x0 | x, t)`` per step (paper Sec. 4, Prop. 4.1). Shape ``(..., D, D)``.
    """
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a finite number > 0, got {dt!r}")
    return dt * naive_V(x, t, data, schedule, kappa)


def check_kappa(kappa) -> float:
    """``kappa`` as a finite float >= 0 (ValueError otherwise)."""
    kappa = float(kappa)
    if not (np.isfinite(kappa) and kappa >= 0):
        raise ValueError(f"kappa must be a finite number >= 0, got {kappa!r}")
    return kappa


def sym_naive_V(schedule=None) -> sp.Expr:
    r"""Symbolic naive V-kernel (1-D, Prop. 4.1).

    ``kappa D(t) D(t') alpha(t)^2 Sigma_post(x,t) / S(t)^2 delta(t - t')`` with the schedule's
    ``D, alpha, S = sigma^2`` as functions of time (``schedule=None``) or substituted.
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
    r"""``kappa Delta_t D_t^2 alpha_t^2 Sigma_post / sigma_t^4``: per-step noise variance (1-D)."""
    return S.kappa * S.dt * S.Dcoef**2 * S.alpha**2 * S.post_var / S.sigma2**2


class NaiveKernel(VKernel):
    """The naive estimator (Prop. 4.1) as a V-kernel: mean = the exact denoiser, white noise.

    ``denoiser_cov(x, t)`` is the per-unit-time covariance ``kappa Sigma_post(x, t)`` of the
    denoiser noise (the coefficient of ``delta(t - t')``); :meth:`V` is the V-kernel of Prop. 4.1.
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
