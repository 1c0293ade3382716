r"""The V-kernel interface, and Gaussian draws that are continuous in their covariance.

The path-integral result (paper Sec. 3, Prop. 3.1): the ensemble-average learned
distribution is the output of the PF-ODE driven by a Gaussian random score field with mean
``s_avg`` and covariance

.. math::  V(x, t; x', t') = D_t\, \mathrm{Cov}_\theta[\hat s(x, t), \hat s(x', t')]\, D_{t'},
           \qquad \hat s = \frac{\alpha_t \hat\mu - x}{\sigma_t^2}.

A :class:`VKernel` provides the denoiser mean and covariance; :meth:`VKernel.score_cov` and
:meth:`VKernel.V` follow from them. Kernels with a finite-dimensional Gaussian field (linear
models, the lazy network) also draw fields (``sample_weights`` / ``sample_field``).

:func:`gaussian_weights` draws ``N(mean, cov)`` through the Cholesky factor of
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

#: Relative diagonal shift of the Cholesky factorisation in :func:`gaussian_draws`.
JITTER = 1e-10


def gaussian_draws(mean, cov, n: int, rng: np.random.Generator) -> np.ndarray:
    r"""``n`` draws of ``N(mean, cov)`` for a vector ``mean (d,)`` and ``cov (d, d)``: ``(n, d)``.

    ``x = mean + L z`` with ``L L^T = cov + delta I``, ``delta = JITTER * max(diag cov)``
    (1e-10; the added variance is far below any Monte Carlo error). ``L`` is a continuous
    function of ``cov``: a relative perturbation of ``cov`` of 1e-12 moves the draws by
    O(1e-12) (tested). Single-threaded BLAS, so the bytes do not depend on the thread count.
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
    """Draws of ``N(mean, cov)`` for ``mean (D, F)``, ``cov (D, F, D, F)`` -> ``(n, D, F)``.

    See :func:`gaussian_draws` (Cholesky of ``cov + delta I``, continuous in ``cov``).
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
    """A law of learned denoisers to second order: mean and covariance (Prop. 3.1).

    Subclasses set ``schedule`` and implement :attr:`dim`, :meth:`denoiser_mean` and
    :meth:`denoiser_cov`; fields that can be drawn also implement :meth:`sample_weights` /
    :meth:`sample_field`, and :meth:`mean_denoiser` for the small-noise predictor.
    """

    @property
    @abstractmethod
    def dim(self) -> int:
        """Data dimension D."""

    @abstractmethod
    def denoiser_mean(self, x, t) -> np.ndarray:
        """``E[mu_hat(x, t)]``; shape ``(..., D)``."""

    @abstractmethod
    def denoiser_cov(self, x, t, x2=None, t2=None) -> np.ndarray:
        """``Cov[mu_hat(x, t), mu_hat(x2, t2)]`` pointwise (default ``x2 = x``); ``(..., D, D)``."""

    def score_cov(self, x, t, x2=None, t2=None) -> np.ndarray:
        """``Cov[s_hat, s_hat'] = alpha_t alpha_t' / (sigma_t^2 sigma_t'^2) Cov[mu_hat, mu_hat']``."""
        t = np.asarray(t, dtype=float)
        t2 = t if t2 is None else np.asarray(t2, dtype=float)
        c = self.denoiser_cov(x, t, x2, t2)
        f1 = self.schedule.alpha(t) / self.schedule.sigma2(t)
        f2 = self.schedule.alpha(t2) / self.schedule.sigma2(t2)
        f = np.broadcast_to(f1 * f2, c.shape[:-2])
        return f[..., None, None] * c

    def V(self, x, t, x2=None, t2=None) -> np.ndarray:
        """``V(x,t;x',t') = D_t Cov[s_hat(x,t), s_hat(x',t')] D_t'`` (Prop. 3.1)."""
        t = np.asarray(t, dtype=float)
        t2 = t if t2 is None else np.asarray(t2, dtype=float)
        c = self.score_cov(x, t, x2, t2)
        f = np.broadcast_to(self.schedule.D(t) * self.schedule.D(t2), c.shape[:-2])
        return f[..., None, None] * c

    def functional_variance(self, x, t, c) -> np.ndarray:
        r"""``Var[sum_k c_k . mu_hat(x_k, t_k)]`` per row: ``x (n, K, D)``, ``t (K,)``, ``c (n, K, D)``.

        The generic form sums :meth:`denoiser_cov` over all pairs of points (``O(K^2)``
        evaluations); finite-dimensional kernels override it.
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
        """The mean model as a :class:`~gtv_symbolic.denoisers.Denoiser` (with a Jacobian)."""
        raise TypeError(f"{type(self).__name__} has no mean denoiser with exact x-derivatives")

    def sample_weights(self, n: int, rng) -> np.ndarray:
        """``n`` draws of the field's parameters (finite-dimensional fields only)."""
        raise TypeError(f"{type(self).__name__} has no finite-dimensional Gaussian field to draw")

    def sample_field(self, n: int, rng):
        """``n`` Gaussian fields as one ensemble :class:`~gtv_symbolic.denoisers.Denoiser`."""
        raise TypeError(f"{type(self).__name__} has no finite-dimensional Gaussian field to draw")
