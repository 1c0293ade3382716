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
    r"""What the samplers need of a denoiser ``mu(x, t) ~ E[x0 | x, t]`` (paper Sec. 2).

    The score follows by Tweedie's formula,

    .. math:: s(x, t) = \frac{\alpha_t\, \mu(x, t) - x}{\sigma_t^2}.

    A runtime-checkable protocol: an object with

    * ``den(x, t)`` -- values with the shape of ``x``, ``(..., D)`` (an ensemble of ``N``
      models takes and returns ``(N, ..., D)``);
    * ``den.value_and_jacobian(x, t)`` -- the values and ``d mu / dx``, shape ``(..., D, D)``;
    * ``den.divergence(x, t)`` -- the trace of the Jacobian, shape ``(...)``;
    * ``dim`` (D) and ``n_models`` (``None`` for a single model).

    Attributes
    ----------
    dim : int
        Data dimension D.
    n_models : int or None
        Ensemble size N, ``None`` for a single model.

    Examples
    --------
    >>> from gtv_symbolic import denoisers, schedules
    >>> den = denoisers.ExactDenoiser([[-1.0], [1.0]], schedules.VP())
    >>> isinstance(den, denoisers.Denoiser), den.dim, den.n_models
    (True, 1, None)
    """

    dim: int
    n_models: int | None

    def __call__(self, x, t) -> np.ndarray: ...

    def value_and_jacobian(self, x, t) -> tuple[np.ndarray, np.ndarray]: ...

    def divergence(self, x, t) -> np.ndarray: ...


def _finite_xt(x, t):
    return finite_array(x, "x"), finite_array(t, "t")


class LinearDenoiser:
    r"""Linear denoiser for one model or an ensemble (paper Sec. 5).

    .. math:: \hat\mu(x, t) = W \phi(x, t), \qquad W \in \mathbb{R}^{D \times F}
              \ \text{or}\ \mathbb{R}^{N \times D \times F}

    ``den(x, t)``: ``t`` scalar gives the separable evaluation
    (:meth:`~gtv_symbolic.features.FeatureMap.apply`, no ``(..., F)`` array); ``t`` an array
    broadcasting against ``x[..., 0]`` uses dense features. :meth:`jacobian` uses the exact
    feature derivatives.

    Parameters
    ----------
    features : :class:`~gtv_symbolic.features.FeatureMap`
    W : array_like, shape (D, F) or (N, D, F); finite.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import denoisers
    >>> from gtv_symbolic.features import make_features
    >>> fm = make_features("gaussian", 1, 4, 3, eps=0.1)  # D = 1, F = 12
    >>> W = np.random.default_rng(0).standard_normal((5, 1, 12))  # an ensemble of 5 models
    >>> den = denoisers.LinearDenoiser(fm, W)
    >>> x = np.broadcast_to([[0.2], [0.4]], (5, 2, 1))  # (N, n, D)
    >>> den
    LinearDenoiser(FeatureMap(family='gaussian', dim=1, shape=(4, 3), F=12), n_models=5)
    >>> den(x, 0.5).shape, np.allclose(den(x, 0.5), den(x, np.array([0.5, 0.5])))
    ((5, 2, 1), True)
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
        r"""The single model with the ensemble-mean weights.

        .. math:: [\hat\mu](x, t) = \bar W \phi(x, t), \qquad \bar W = \frac1N \sum_n W_n

        Returns
        -------
        LinearDenoiser
            A single model (itself for a single model's weights).

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import denoisers
        >>> from gtv_symbolic.features import make_features
        >>> fm = make_features("gaussian", 1, 4, 3, eps=0.1)  # D = 1, F = 12
        >>> W = np.random.default_rng(0).standard_normal((5, 1, 12))  # an ensemble of 5 models
        >>> den = denoisers.LinearDenoiser(fm, W)
        >>> x = np.broadcast_to([[0.2], [0.4]], (5, 2, 1))  # (N, n, D)
        >>> np.allclose(den.mean_model()(x[0], 0.5), den(x, 0.5).mean(0))
        True
        """
        return LinearDenoiser(self.features, self.W.mean(axis=0) if self.W.ndim == 3 else self.W)

    def __call__(self, x, t):
        """Values ``W phi(x, t)``.

        Parameters
        ----------
        x : array_like, shape (..., D); ``(N, ..., D)`` for an ensemble.
        t : float or array_like; a scalar, or times broadcasting against ``x[..., 0]``.

        Returns
        -------
        numpy.ndarray, shape of ``x``
        """
        x, t = _finite_xt(x, t)
        if np.ndim(t) == 0:
            return self.features.apply(self.W, x, float(t))
        phi = self.features(x, t)
        if self.W.ndim == 2:
            return phi @ self.W.T
        return np.einsum("m...f,mdf->m...d", phi, self.W)

    def jacobian(self, x, t):
        r"""Jacobian ``d mu / dx = W d phi / dx`` from the exact feature derivatives.

        .. math:: \frac{\partial \hat\mu_d}{\partial x_e} = \sum_f W_{df} \frac{\partial \phi_f}{\partial x_e}

        Parameters
        ----------
        x : array_like, shape (..., D); ``(N, ..., D)`` for an ensemble.
        t : float or array_like; a scalar, or times broadcasting against ``x[..., 0]``.

        Returns
        -------
        numpy.ndarray, shape (..., D, D)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import denoisers
        >>> from gtv_symbolic.features import make_features
        >>> fm = make_features("gaussian", 1, 4, 3, eps=0.1)  # D = 1, F = 12
        >>> W = np.random.default_rng(0).standard_normal((5, 1, 12))  # an ensemble of 5 models
        >>> den = denoisers.LinearDenoiser(fm, W)
        >>> x = np.broadcast_to([[0.2], [0.4]], (5, 2, 1))  # (N, n, D)
        >>> J = den.jacobian(x, 0.5)
        >>> fd = (den(x + 1e-6, 0.5) - den(x - 1e-6, 0.5)) / 2e-6  # central difference
        >>> J.shape, np.allclose(J[..., 0], fd, atol=1e-6)
        ((5, 2, 1, 1), True)
        """
        x, t = _finite_xt(x, t)
        if np.ndim(t) == 0:
            return self.features.apply(self.W, x, float(t), jacobian=True)[1]
        g = self.features.grad_x(x, t)
        if self.W.ndim == 2:
            return np.einsum("...fe,df->...de", g, self.W)
        return np.einsum("m...fe,mdf->m...de", g, self.W)

    def value_and_jacobian(self, x, t):
        """Values and Jacobian together (one separable pass for a scalar ``t``).

        Parameters
        ----------
        x : array_like, shape (..., D); ``(N, ..., D)`` for an ensemble.
        t : float or array_like; a scalar, or times broadcasting against ``x[..., 0]``.

        Returns
        -------
        value : numpy.ndarray, shape (..., D)
        jacobian : numpy.ndarray, shape (..., D, D)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import denoisers
        >>> from gtv_symbolic.features import make_features
        >>> fm = make_features("gaussian", 1, 4, 3, eps=0.1)  # D = 1, F = 12
        >>> W = np.random.default_rng(0).standard_normal((5, 1, 12))  # an ensemble of 5 models
        >>> den = denoisers.LinearDenoiser(fm, W)
        >>> x = np.broadcast_to([[0.2], [0.4]], (5, 2, 1))  # (N, n, D)
        >>> m, J = den.value_and_jacobian(x, 0.5)
        >>> m.shape, J.shape, np.allclose(m, den(x, 0.5))
        ((5, 2, 1), (5, 2, 1, 1), True)
        """
        x, t = _finite_xt(x, t)
        if np.ndim(t) == 0:
            return self.features.apply(self.W, x, float(t), jacobian=True)
        return self(x, t), self.jacobian(x, t)

    def divergence(self, x, t):
        r"""Divergence ``div mu = tr(d mu / dx)``.

        .. math:: \nabla \cdot \hat\mu = \sum_d \frac{\partial \hat\mu_d}{\partial x_d}

        Parameters
        ----------
        x : array_like, shape (..., D); ``(N, ..., D)`` for an ensemble.
        t : float or array_like; a scalar, or times broadcasting against ``x[..., 0]``.

        Returns
        -------
        numpy.ndarray, shape (...)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import denoisers
        >>> from gtv_symbolic.features import make_features
        >>> fm = make_features("gaussian", 1, 4, 3, eps=0.1)  # D = 1, F = 12
        >>> W = np.random.default_rng(0).standard_normal((5, 1, 12))  # an ensemble of 5 models
        >>> den = denoisers.LinearDenoiser(fm, W)
        >>> x = np.broadcast_to([[0.2], [0.4]], (5, 2, 1))  # (N, n, D)
        >>> den.divergence(x, 0.5).shape
        (5, 2)
        """
        return np.trace(self.jacobian(x, t), axis1=-2, axis2=-1)

    def per_point(self, model) -> _PerPointDenoiser:
        """A single-batch denoiser where point ``p`` of ``x (n, D)`` uses model ``model[p]``.

        (A ragged view of an ensemble: adaptive transport refines different points per model.)

        Parameters
        ----------
        model : array_like of int, shape (n,); model index per point.

        Returns
        -------
        Denoiser
            With ``n_models = None``; scalar ``t`` only.

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import denoisers
        >>> from gtv_symbolic.features import make_features
        >>> fm = make_features("gaussian", 1, 4, 3, eps=0.1)  # D = 1, F = 12
        >>> W = np.random.default_rng(0).standard_normal((5, 1, 12))  # an ensemble of 5 models
        >>> den = denoisers.LinearDenoiser(fm, W)
        >>> x = np.broadcast_to([[0.2], [0.4]], (5, 2, 1))  # (N, n, D)
        >>> pp = den.per_point([0, 3])
        >>> np.allclose(pp(x[0], 0.5)[:, 0], den(x, 0.5)[[0, 3], [0, 1], 0])
        True
        """
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
    r"""The Bayes denoiser of a point-mass data set (the 'true score'; paper Sec. 2).

    .. math:: m(x, t) = \mathbb{E}[x_0 \mid x, t] = \sum_m w_m(x, t)\, \mu_m, \qquad
              \frac{\partial m}{\partial x} = \frac{\alpha_t}{\sigma_t^2} \Sigma_{\mathrm{post}}(x, t)

    (the softmax weights of :func:`gtv_symbolic.proxy.posterior_weights`). Accepts any
    leading batch axes, including a model axis.

    Parameters
    ----------
    data : array_like, shape (M, D); training points.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import denoisers, schedules
    >>> vp = schedules.VP()
    >>> den = denoisers.ExactDenoiser([[-1.0], [1.0]], vp)
    >>> x = np.array([[0.2], [0.4]])
    >>> den
    ExactDenoiser(M=2, D=1, VP(beta_min=0.1, beta_d=19.9, T=1))
    >>> a, s2 = vp.alpha(0.1), vp.sigma2(0.1)  # two points at -1, 1: m = tanh(alpha x / sigma^2)
    >>> np.allclose(den(x, 0.1), np.tanh(a * x / s2))
    True
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
        """Values ``m(x, t)`` (:func:`gtv_symbolic.proxy.posterior_mean`).

        Parameters
        ----------
        x : array_like, shape (..., D)
        t : float or array_like; broadcasting against ``x[..., 0]``.

        Returns
        -------
        numpy.ndarray, shape (..., D)
        """
        return posterior_mean(x, t, self.data, self.schedule)

    def jacobian(self, x, t):
        r"""Jacobian of the Bayes denoiser, the derivative of the softmax weights.

        .. math:: \frac{\partial m}{\partial x} = \frac{\alpha_t}{\sigma_t^2} \Sigma_{\mathrm{post}}(x, t)

        Parameters
        ----------
        x : array_like, shape (..., D)
        t : float or array_like

        Returns
        -------
        numpy.ndarray, shape (..., D, D)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import denoisers, schedules
        >>> vp = schedules.VP()
        >>> den = denoisers.ExactDenoiser([[-1.0], [1.0]], vp)
        >>> x = np.array([[0.2], [0.4]])
        >>> fd = (den(x + 1e-6, 0.1) - den(x - 1e-6, 0.1)) / 2e-6  # central difference
        >>> np.allclose(den.jacobian(x, 0.1)[..., 0], fd, rtol=1e-6)
        True
        """
        a = np.asarray(self.schedule.alpha(t))
        s2 = np.asarray(self.schedule.sigma2(t))
        c = posterior_covariance(x, t, self.data, self.schedule)
        return (a / s2)[..., None, None] * c

    def value_and_jacobian(self, x, t):
        """Values and Jacobian together.

        Parameters
        ----------
        x : array_like, shape (..., D)
        t : float or array_like

        Returns
        -------
        value : numpy.ndarray, shape (..., D)
        jacobian : numpy.ndarray, shape (..., D, D)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import denoisers, schedules
        >>> vp = schedules.VP()
        >>> den = denoisers.ExactDenoiser([[-1.0], [1.0]], vp)
        >>> x = np.array([[0.2], [0.4]])
        >>> m, J = den.value_and_jacobian(x, 0.1)
        >>> m.shape, J.shape
        ((2, 1), (2, 1, 1))
        """
        return self(x, t), self.jacobian(x, t)

    def divergence(self, x, t):
        r"""Divergence ``tr(dm/dx) = alpha_t tr Sigma_post / sigma_t^2``.

        .. math:: \nabla \cdot m = \frac{\alpha_t}{\sigma_t^2} \operatorname{tr} \Sigma_{\mathrm{post}}(x, t)

        Parameters
        ----------
        x : array_like, shape (..., D)
        t : float or array_like

        Returns
        -------
        numpy.ndarray, shape (...)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import denoisers, schedules
        >>> vp = schedules.VP()
        >>> den = denoisers.ExactDenoiser([[-1.0], [1.0]], vp)
        >>> x = np.array([[0.2], [0.4]])
        >>> den.divergence(x, 0.1).round(4)
        array([2.1828, 0.4519])
        """
        return np.trace(self.jacobian(x, t), axis1=-2, axis2=-1)
