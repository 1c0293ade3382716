r"""Gaussian-field and moment-matched weight draws of linear models (Prop. 3.1).

``W ~ N(W*, Cov_W)`` from a V-kernel, or ``N(mean, cov)`` of an ensemble's own weights; pushed
through the same sampler as the trained ensembles.
"""

from __future__ import annotations

import numpy as np

from .._validate import MAX_MODELS, int_arg
from ..kernels import VKernel

__all__ = ["gaussian_field_weights", "moment_matched_weights"]


def gaussian_field_weights(kernel: VKernel, n_models: int, rng) -> np.ndarray:
    r"""``n_models`` draws of the kernel's Gaussian field parameters (paper Sec. 3, Prop. 3.1).

    .. math:: W_n \sim \mathcal{N}(W_*, \mathrm{Cov}_W), \qquad
              \hat s_n(x,t) = \frac{\alpha_t W_n \phi(x,t) - x}{\sigma_t^2}

    Each draw is one Gaussian score field with the predicted mean and covariance
    (Prop. 3.1 with the linear-model kernel, Prop. 5.1).

    Parameters
    ----------
    kernel : :class:`~gtv_symbolic.kernels.VKernel`; with a finite-dimensional field.
    n_models : int; number of fields.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (n_models, D, F)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import kernels, schedules, typical
    >>> from gtv_symbolic.features import make_features
    >>> from gtv_symbolic.grids import TimeGrid
    >>> vp, two = schedules.VP(), [[-1.0], [1.0]]
    >>> nodes = kernels.training_nodes(two, vp, 2e-2, dy=0.1)
    >>> K = kernels.linear_kernel(make_features("gaussian", 1, 4, 3, eps=2e-2), two, vp, P=100,
    ...                           eps=2e-2, nodes=nodes)
    >>> typical.gaussian_field_weights(K, 5, np.random.default_rng(0)).shape
    (5, 1, 12)
    """
    if not isinstance(kernel, VKernel):
        raise TypeError(f"kernel must be a VKernel, got {type(kernel).__name__}")
    return kernel.sample_weights(n_models, rng)


def moment_matched_weights(W, n_models: int, rng) -> np.ndarray:
    r"""Gaussian with the empirical mean and covariance of a trained ensemble (paper Sec. 3).

    .. math:: W_n = \bar W + \frac{z_n^\top A}{\sqrt{N - 1}}, \qquad A_i = W_i - \bar W, \qquad
              z_n \sim \mathcal{N}(0, I_N)

    exactly ``N(mean, cov)`` with ``cov = A^T A/(N-1)``, and linear (so continuous) in
    ``W``. Comparing it with the ensemble isolates the higher cumulants (Gaussian truncation
    of Prop. 3.1); with :func:`gaussian_field_weights`, the error of the leading-order
    ``1/P`` covariance.

    Parameters
    ----------
    W : array_like, shape (N, D, F); a trained ensemble, ``N >= 2``, finite.
    n_models : int; number of draws, 1 to ``MAX_MODELS``.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (n_models, D, F)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import typical
    >>> W = np.array([[[0.0, 1.0]], [[2.0, 1.0]], [[1.0, 4.0]]])  # N = 3, D = 1, F = 2
    >>> Wm = typical.moment_matched_weights(W, 20000, np.random.default_rng(0))
    >>> Wm.shape, Wm.mean(0).round(1).tolist(), float(np.var(Wm[:, 0, 0], ddof=1).round(1))
    ((20000, 1, 2), [[1.0, 2.0]], 1.0)
    """
    W = np.asarray(W, dtype=float)
    if W.ndim != 3 or W.shape[0] < 2:
        raise ValueError(f"W must have shape (N >= 2, D, F), got {W.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("W must be finite (found NaN or inf)")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    n_models = int_arg(n_models, "n_models", 1, MAX_MODELS)
    n, d, f = W.shape
    flat = W.reshape(n, d * f)
    mean = flat.mean(0)
    A = (flat - mean) / np.sqrt(n - 1)
    z = rng.standard_normal((n_models, n))
    return (mean + z @ A).reshape(n_models, d, f)
