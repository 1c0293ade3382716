r"""The V-kernel interface, and Gaussian draws that are continuous in their covariance.

The path-integral result (paper Sec. 3, Prop. 3.1): the ensemble-average learned
distribution is the output of the PF-ODE driven by a Gaussian random score field with mean
``s_avg`` and covariance

.. math::  V(x, t; x', t') = D_t\, \mathrm{Cov}_\theta[\hat s(x, t), \hat s(x', t')]\, D_{t'},
           \qquad \hat s = \frac{\alpha_t \hat\mu - x}{\sigma_t^2}.

A :class:`VKernel` provides the denoiser mean and covariance;
:meth:`~gtv_symbolic.kernels.VKernel.score_cov` and :meth:`~gtv_symbolic.kernels.VKernel.V` follow
from them. Kernels with a finite-dimensional Gaussian field (linear models, the lazy network) also
draw fields (``sample_weights`` / ``sample_field``).

:func:`~gtv_symbolic.kernels.gaussian_weights` draws ``N(mean, cov)`` through the Cholesky factor of
``cov + delta I``, ``delta = 1e-10 max_i cov_ii``: a continuous function of the covariance
(an eigenvector basis is not: its signs and rotations inside near-degenerate clusters flip
under ulp-level changes), so the same seed gives the same draws on any CPU up to rounding.

Examples
--------
>>> import numpy as np
>>> w = gaussian_weights(np.zeros((1, 2)), np.eye(2).reshape(1, 2, 1, 2), 3,
...                      np.random.default_rng(0))
>>> w.shape
(3, 1, 2)
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from scipy.linalg import LinAlgError, cholesky

from .._blas import blas_threads
from .._validate import int_arg

__all__ = ["VKernel", "gaussian_weights", "gaussian_draws", "JITTER"]

#: Relative diagonal shift of the Cholesky factorisation in :func:`~gtv_symbolic.kernels.gaussian_draws`.
JITTER = 1e-10


def gaussian_draws(mean, cov, n: int, rng: np.random.Generator) -> np.ndarray:
    r"""``n`` draws of ``N(mean, cov)`` by a jittered Cholesky factor, continuous in ``cov``.

    .. math:: x_i = \mathrm{mean} + L z_i, \qquad L L^\top = \mathrm{cov} + \delta I, \qquad
              \delta = \mathrm{JITTER} \cdot \max_j \mathrm{cov}_{jj}, \qquad z_i \sim \mathcal{N}(0, I)

    ``delta`` (:data:`~gtv_symbolic.kernels.base.JITTER` = 1e-10) adds a variance far below any
    Monte Carlo error. ``L`` is a continuous function of ``cov``: a relative perturbation of
    ``cov`` of 1e-12 moves the draws by O(1e-12) (tested). Single-threaded BLAS, so the bytes do not depend
    on the thread count; a zero covariance returns the mean (advancing ``rng`` the same).

    Parameters
    ----------
    mean : array_like, shape (d,)
    cov : array_like, shape (d, d); symmetric positive semi-definite (symmetrised here).
    n : int; number of draws, 1 to 10**6.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (n, d)

    Raises
    ------
    ValueError
        For mismatched shapes, NaN/inf, or ``cov`` not positive semi-definite.

    Examples
    --------
    >>> import numpy as np
    >>> c = np.array([[1.0, 0.9], [0.9, 1.0]])
    >>> d = gaussian_draws([0.0, 0.0], c, 20000, np.random.default_rng(0))
    >>> d.shape, np.cov(d.T).round(1).tolist()
    ((20000, 2), [[1.0, 0.9], [0.9, 1.0]])
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    n = int_arg(n, "n", 1, 10**6)
    m = np.asarray(mean, dtype=float).reshape(-1)
    c = np.asarray(cov, dtype=float)
    d = m.size
    if c.shape != (d, d):
        raise ValueError(f"cov must have shape ({d}, {d}) to match mean, got {c.shape}")
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(c))):
        raise ValueError("mean and cov must be finite (found NaN or inf)")
    c = 0.5 * (c + c.T)
    delta = JITTER * max(float(np.max(np.diag(c))), 0.0)
    if delta == 0.0:  # zero covariance: every draw is the mean
        rng.standard_normal((n, d))  # keep the stream position independent of cov
        return np.broadcast_to(m, (n, d)).copy()
    with blas_threads(1):
        try:
            L = cholesky(c + delta * np.eye(d), lower=True, check_finite=False)
        except LinAlgError:
            raise ValueError(f"cov is not positive semidefinite (an eigenvalue is below "
                             f"-{delta:.3g} = -{JITTER:g} max diag)") from None
        z = rng.standard_normal((n, d))
        return m + z @ L.T


def gaussian_weights(mean, cov, n: int, rng: np.random.Generator) -> np.ndarray:
    r"""Draws of matrix-valued weights ``W ~ N(mean, cov)``, by :func:`gaussian_draws`.

    .. math:: \mathrm{vec}\, W_i \sim
              \mathcal{N}(\mathrm{vec}\, \mathrm{mean},\ \mathrm{cov}_{(DF) \times (DF)})

    Parameters
    ----------
    mean : array_like, shape (D, F)
    cov : array_like, shape (D, F, D, F)
        ``cov[a, i, b, j] = Cov[W_ai, W_bj]``.
    n : int; number of draws.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (n, D, F)

    Examples
    --------
    >>> import numpy as np
    >>> w = gaussian_weights(np.ones((1, 2)), np.zeros((1, 2, 1, 2)), 3, np.random.default_rng(0))
    >>> w.shape, float(w.min()), float(w.max())  # zero covariance: every draw is the mean
    ((3, 1, 2), 1.0, 1.0)
    """
    mean = np.asarray(mean, dtype=float)
    if mean.ndim != 2:
        raise ValueError(f"mean must have shape (D, F), got {mean.shape}")
    d, f = mean.shape
    cov = np.asarray(cov, dtype=float)
    if cov.shape != (d, f, d, f):
        raise ValueError(f"cov must have shape {(d, f, d, f)}, got {cov.shape}")
    return gaussian_draws(mean.reshape(-1), cov.reshape(d * f, d * f), n, rng).reshape(n, d, f)


class VKernel(ABC):
    r"""A law of learned denoisers to second order: mean and covariance (paper Sec. 3, Prop. 3.1).

    The learned score ``s_hat = (alpha_t mu_hat - x) / sigma_t^2`` is a Gaussian random field
    whose V-kernel drives the PF-ODE of the ensemble:

    .. math:: V(x, t; x', t') = D_t\, \mathrm{Cov}_\theta[\hat s(x, t), \hat s(x', t')]\, D_{t'}

    Subclasses set ``schedule`` and implement :attr:`dim`, :meth:`denoiser_mean` and
    :meth:`denoiser_cov`; fields that can be drawn also implement :meth:`sample_weights` /
    :meth:`sample_field`, and :meth:`mean_denoiser` for the small-noise predictor.
    Implementations: :class:`~gtv_symbolic.kernels.NaiveKernel`,
    :class:`~gtv_symbolic.kernels.LinearKernel`, :func:`~gtv_symbolic.kernels.ntk_kernel`.

    Attributes
    ----------
    schedule : :class:`~gtv_symbolic.schedules.Schedule`
        The forward process (set by subclasses).
    dim : int
        Data dimension D.

    Examples
    --------
    >>> from gtv_symbolic import kernels, schedules
    >>> k = kernels.NaiveKernel([[-1.0], [1.0]], schedules.VP(), kappa=0.5)
    >>> isinstance(k, kernels.VKernel), k.dim
    (True, 1)
    """

    @property
    @abstractmethod
    def dim(self) -> int:
        """Data dimension D."""

    @abstractmethod
    def denoiser_mean(self, x, t) -> np.ndarray:
        """Mean learned denoiser ``E_theta[mu_hat(x, t)]``.

        Parameters
        ----------
        x : array_like, shape (..., D); points.
        t : float or array_like; times, broadcasting against ``x[..., 0]``.

        Returns
        -------
        numpy.ndarray, shape (..., D)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import kernels, schedules
        >>> k = kernels.NaiveKernel([[-1.0], [1.0]], schedules.VP(), kappa=0.5)
        >>> x = np.array([[0.2]])
        >>> k.denoiser_mean(x, 0.3).round(4)  # the naive estimator's mean: the exact denoiser
        array([[0.0938]])
        """

    @abstractmethod
    def denoiser_cov(self, x, t, x2=None, t2=None) -> np.ndarray:
        r"""Covariance of the learned denoiser across training draws, pointwise.

        .. math:: \mathrm{Cov}_\theta[\hat\mu(x, t), \hat\mu(x', t')]

        Parameters
        ----------
        x : array_like, shape (..., D); points.
        t : float or array_like; times, broadcasting against ``x[..., 0]``.
        x2, t2 : optional; the second point and time (default ``x2 = x``, ``t2 = t``).

        Returns
        -------
        numpy.ndarray, shape (..., D, D)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import kernels, schedules
        >>> k = kernels.NaiveKernel([[-1.0], [1.0]], schedules.VP(), kappa=0.5)
        >>> x = np.array([[0.2]])
        >>> k.denoiser_cov(x, 0.3).round(4)  # naive: kappa Sigma_post (per unit time)
        array([[[0.4956]]])
        """

    def score_cov(self, x, t, x2=None, t2=None) -> np.ndarray:
        r"""Covariance of the learned score, from the denoiser covariance (paper Sec. 3).

        .. math:: \mathrm{Cov}[\hat s(x,t), \hat s(x',t')]
              = \frac{\alpha_t \alpha_{t'}}{\sigma_t^2 \sigma_{t'}^2}
                  \mathrm{Cov}[\hat\mu(x,t), \hat\mu(x',t')]

        Parameters
        ----------
        x : array_like, shape (..., D); points.
        t : float or array_like; times, broadcasting against ``x[..., 0]``.
        x2, t2 : optional; the second point and time (default ``x2 = x``, ``t2 = t``).

        Returns
        -------
        numpy.ndarray, shape (..., D, D)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import kernels, schedules
        >>> k = kernels.NaiveKernel([[-1.0], [1.0]], schedules.VP(), kappa=0.5)
        >>> x = np.array([[0.2]])
        >>> a, s2 = k.schedule.alpha(0.3), k.schedule.sigma2(0.3)
        >>> np.allclose(k.score_cov(x, 0.3), a**2 / s2**2 * k.denoiser_cov(x, 0.3))
        True
        """
        t = np.asarray(t, dtype=float)
        t2 = t if t2 is None else np.asarray(t2, dtype=float)
        c = self.denoiser_cov(x, t, x2, t2)
        f1 = self.schedule.alpha(t) / self.schedule.sigma2(t)
        f2 = self.schedule.alpha(t2) / self.schedule.sigma2(t2)
        f = np.broadcast_to(f1 * f2, c.shape[:-2])
        return f[..., None, None] * c

    def V(self, x, t, x2=None, t2=None) -> np.ndarray:
        r"""The V-kernel of the learned score field (paper Sec. 3, Prop. 3.1).

        .. math:: V(x, t; x', t') = D_t\, \mathrm{Cov}[\hat s(x, t), \hat s(x', t')]\, D_{t'}

        Parameters
        ----------
        x : array_like, shape (..., D); points.
        t : float or array_like; times, broadcasting against ``x[..., 0]``.
        x2, t2 : optional; the second point and time (default ``x2 = x``, ``t2 = t``).

        Returns
        -------
        numpy.ndarray, shape (..., D, D)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import kernels, schedules
        >>> k = kernels.NaiveKernel([[-1.0], [1.0]], schedules.VP(), kappa=0.5)
        >>> x = np.array([[0.2]])
        >>> D = k.schedule.D(0.3)
        >>> np.allclose(k.V(x, 0.3), D**2 * k.score_cov(x, 0.3))
        True
        """
        t = np.asarray(t, dtype=float)
        t2 = t if t2 is None else np.asarray(t2, dtype=float)
        c = self.score_cov(x, t, x2, t2)
        f = np.broadcast_to(self.schedule.D(t) * self.schedule.D(t2), c.shape[:-2])
        return f[..., None, None] * c

    def functional_variance(self, x, t, c) -> np.ndarray:
        r"""Variance of a linear functional of the learned denoiser, one per row.

        .. math:: \mathrm{Var}\Bigl[\sum_k c_k \cdot \hat\mu(x_k, t_k)\Bigr]
                  = \sum_{k, m} c_k^\top\, \mathrm{Cov}[\hat\mu(x_k, t_k), \hat\mu(x_m, t_m)]\, c_m

        The generic form sums :meth:`denoiser_cov` over all pairs of points (``O(K^2)``
        evaluations); finite-dimensional kernels override it.

        Parameters
        ----------
        x : array_like, shape (n, K, D); K points per row.
        t : array_like, shape (K,); their times.
        c : array_like, shape (n, K, D); coefficients.

        Returns
        -------
        numpy.ndarray, shape (n,)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import kernels, schedules
        >>> k = kernels.NaiveKernel([[-1.0], [1.0]], schedules.VP(), kappa=0.5)
        >>> x, c = np.full((1, 1, 1), 0.2), np.ones((1, 1, 1))
        >>> np.allclose(k.functional_variance(x, np.array([0.3]), c),  # K = 1: c^T Cov c
        ...             k.denoiser_cov(x[:, 0], 0.3)[:, 0, 0])
        True
        """
        x, c = np.asarray(x, dtype=float), np.asarray(c, dtype=float)
        t = np.asarray(t, dtype=float)
        K = t.size
        out = np.zeros(x.shape[0])
        for k in range(K):
            for m in range(K):
                cov = self.denoiser_cov(x[:, k], np.full(x.shape[0], t[k]), x[:, m],
                                        np.full(x.shape[0], t[m]))
                out += np.einsum("nd,nde,ne->n", c[:, k], cov, c[:, m])
        return out

    def mean_denoiser(self):
        """The mean model as a :class:`~gtv_symbolic.denoisers.Denoiser` (with a Jacobian).

        Returns
        -------
        gtv_symbolic.denoisers.Denoiser

        Raises
        ------
        TypeError
            For kernels without a mean denoiser with exact x-derivatives (e.g. the naive one).
        """
        raise TypeError(f"{type(self).__name__} has no mean denoiser with exact x-derivatives")

    def sample_weights(self, n: int, rng) -> np.ndarray:
        """``n`` draws of the field's parameters (finite-dimensional fields only).

        Parameters
        ----------
        n : int; number of draws.
        rng : numpy.random.Generator

        Returns
        -------
        numpy.ndarray
            Shape set by the kernel (``(n, D, F)`` for linear models).

        Raises
        ------
        TypeError
            For fields without finite-dimensional Gaussian parameters (e.g. the naive one).
        """
        raise TypeError(f"{type(self).__name__} has no finite-dimensional Gaussian field to draw")

    def sample_field(self, n: int, rng):
        """``n`` Gaussian fields as one ensemble :class:`~gtv_symbolic.denoisers.Denoiser`.

        Parameters
        ----------
        n : int; number of fields (ensemble members).
        rng : numpy.random.Generator

        Returns
        -------
        gtv_symbolic.denoisers.Denoiser
            With ``n_models = n``.

        Raises
        ------
        TypeError
            For fields without finite-dimensional Gaussian parameters (e.g. the naive one).
        """
        raise TypeError(f"{type(self).__name__} has no finite-dimensional Gaussian field to draw")
