r"""Denoisers: estimates ``mu(x, t)`` of ``E[x0 | x, t]`` that the samplers integrate.

The score follows by Tweedie's formula (paper Sec. 2, in denoiser form)

.. math::  s(x, t) = \frac{\alpha_t\,\mu(x, t) - x}{\sigma_t^2}.

Every denoiser follows the :class:`Denoiser` protocol: ``den(x, t)`` with the shape of ``x``
(``(..., D)``; an ensemble of ``N`` models takes and returns ``(N, ..., D)``),
``value_and_jacobian`` (``d mu / dx`` with shape ``(..., D, D)``), ``divergence`` (its trace),
``dim`` and ``n_models`` (``None`` for a single model).

* :class:`LinearDenoiser` -- ``mu = W phi(x, t)`` with crossed features (paper Sec. 5);
* :class:`ExactDenoiser` -- the Bayes denoiser of point-mass data, ``E[x0 | x, t]`` as a
  softmax over the training points (:mod:`gtv_symbolic.proxy`); its Jacobian is
  ``alpha_t Sigma_post / sigma_t^2``.

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic import schedules
>>> den = ExactDenoiser([[-1.0], [1.0]], schedules.VP())
>>> isinstance(den, Denoiser), den.dim, den.n_models
(True, 1, None)
>>> float(den(np.array([[0.0]]), 0.5)[0, 0])
0.0
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ._validate import check_schedule, finite_array
from .data import as_data
from .proxy import posterior_covariance, posterior_mean

__all__ = ["Denoiser", "LinearDenoiser", "ExactDenoiser"]


@runtime_checkable
class Denoiser(Protocol):
    """What the samplers need of a denoiser (see the module docstring)."""

    dim: int
    n_models: int | None

    def __call__(self, x, t) -> np.ndarray: ...

    def value_and_jacobian(self, x, t) -> tuple[np.ndarray, np.ndarray]: ...

    def divergence(self, x, t) -> np.ndarray: ...


def _finite_xt(x, t):
    return finite_array(x, "x"), finite_array(t, "t")


class LinearDenoiser:
    r"""``mu_hat(x, t) = W phi(x, t)`` for one model (``W (D, F)``) or an ensemble (``W (N, D, F)``).

    ``t`` scalar: separable evaluation (:meth:`FeatureMap.apply`), no ``(..., F)`` array;
    ``t`` array broadcasting against ``x[..., 0]``: dense features. :meth:`jacobian` uses the
    exact feature derivatives.
    """

    def __init__(self, features, W):
        W = np.asarray(W, dtype=float)
        if W.ndim not in (2, 3) or W.shape[-1] != features.n_features or \
                W.shape[-2] != features.dim:
            raise ValueError(f"W must have shape (N, D, F) or (D, F) with D = {features.dim}, "
                             f"F = {features.n_features}; got {W.shape}")
        if not np.all(np.isfinite(W)):
            raise ValueError("W must be finite (found NaN or inf)")
        self.features = features
        self.W = W
        self.dim = features.dim
        self.n_models = W.shape[0] if W.ndim == 3 else None

    def __repr__(self) -> str:
        return f"LinearDenoiser({self.features!r}, n_models={self.n_models})"

    def mean_model(self) -> LinearDenoiser:
        """The single model with the ensemble-mean weights (``[mu_hat] = mean(W) phi``)."""
        return LinearDenoiser(self.features, self.W.mean(axis=0) if self.W.ndim == 3 else self.W)

    def __call__(self, x, t):
        x, t = _finite_xt(x, t)
        if np.ndim(t) == 0:
            return self.features.apply(self.W, x, float(t))
        phi = self.features(x, t)
        if self.W.ndim == 2:
            return phi @ self.W.T
        return np.einsum("m...f,mdf->m...d", phi, self.W)

    def jacobian(self, x, t):
        x, t = _finite_xt(x, t)
        if np.ndim(t) == 0:
            return self.features.apply(self.W, x, float(t), jacobian=True)[1]
        g = self.features.grad_x(x, t)
        if self.W.ndim == 2:
            return np.einsum("...fe,df->...de", g, self.W)
        return np.einsum("m...fe,mdf->m...de", g, self.W)

    def value_and_jacobian(self, x, t):
        x, t = _finite_xt(x, t)
        if np.ndim(t) == 0:
            return self.features.apply(self.W, x, float(t), jacobian=True)
        return self(x, t), self.jacobian(x, t)

    def divergence(self, x, t):
        return np.trace(self.jacobian(x, t), axis1=-2, axis2=-1)

    def per_point(self, model) -> _PerPointDenoiser:
        """A single-batch denoiser where point ``p`` of ``x (n, D)`` uses model ``model[p]``."""
        if self.W.ndim != 3:
            raise ValueError("per_point() needs an ensemble (W of shape (N, D, F))")
        return _PerPointDenoiser(self, np.asarray(model, dtype=np.intp))


class _PerPointDenoiser:
    """Ragged view of an ensemble (adaptive transport refines different points per model)."""

    def __init__(self, parent: LinearDenoiser, model):
        self.parent, self.model = parent, model
        self.dim, self.n_models = parent.dim, None

    def __call__(self, x, t):
        return self.parent.features.apply_per_point(self.parent.W, self.model, x, float(t))

    def value_and_jacobian(self, x, t):
        return self.parent.features.apply_per_point(self.parent.W, self.model, x, float(t),
                                                    jacobian=True)

    def jacobian(self, x, t):
        return self.value_and_jacobian(x, t)[1]

    def divergence(self, x, t):
        return np.trace(self.jacobian(x, t), axis1=-2, axis2=-1)


class ExactDenoiser:
    """The Bayes denoiser ``m(x, t) = E[x0 | x, t]`` of a point-mass data set (the 'true score').

    ``jacobian`` is ``dm/dx = alpha_t Sigma_post / sigma_t^2`` (derivative of the softmax
    weights). Accepts any leading batch axes, including a model axis.
    """

    def __init__(self, data, schedule):
        check_schedule(schedule)
        self.data = as_data(data)
        self.schedule = schedule
        self.dim = self.data.shape[1]
        self.n_models = None

    def __repr__(self) -> str:
        return f"ExactDenoiser(M={self.data.shape[0]}, D={self.dim}, {self.schedule!r})"

    def __call__(self, x, t):
        return posterior_mean(x, t, self.data, self.schedule)

    def jacobian(self, x, t):
        a = np.asarray(self.schedule.alpha(t))
        s2 = np.asarray(self.schedule.sigma2(t))
        c = posterior_covariance(x, t, self.data, self.schedule)
        return (a / s2)[..., None, None] * c

    def value_and_jacobian(self, x, t):
        return self(x, t), self.jacobian(x, t)

    def divergence(self, x, t):
        return np.trace(self.jacobian(x, t), axis1=-2, axis2=-1)
