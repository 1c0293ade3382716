r"""The population optimum ``W* = h(Sigma) A^T`` of a linear denoiser (paper Sec. 5).

``A = E[lambda x0 phi^T]`` and ``Sigma = E[lambda phi phi^T]`` over the DSM training law,
with exact Gaussian expectations over ``x | x0, t`` and Gauss-Legendre quadrature in ``log t``.
"""

from __future__ import annotations

import numpy as np

from .._blas import blas_threads
from .._validate import int_arg
from ..data import as_data
from ..grids import check_window
from ..schedules import Schedule
from ._checks import check_ridge, is_feature_map, spd_solve
from .filters import SpectralFilter, ridge_filter

__all__ = ["population_moments", "population_weights", "optimum_weights"]


def _t_quadrature(eps, T, n_panels, order):
    """Composite Gauss-Legendre nodes/weights for ``(1/(T-eps)) int_eps^T f(t) dt`` in ``log t``.

    ``lambda_t ~ 1/(2 beta_min t)`` near 0, so the integrand is smooth in ``log t``.
    """
    g, gw = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(np.log(eps), np.log(T), n_panels + 1)
    a, b = edges[:-1, None], edges[1:, None]
    u = (a + b) / 2 + (b - a) / 2 * g
    wu = (b - a) / 2 * gw
    t = np.exp(u).ravel()
    return t, (wu.ravel() * t) / (T - eps)


def population_moments(features, data, schedule: Schedule, *, eps: float, T: float = 1.0,
                       n_panels: int = 96, order: int = 8):
    r"""Population moments of the DSM regression (paper Sec. 5), exact in x.

    .. math:: A = \mathbb{E}[\lambda\, x_0 \phi^\top] \in \mathbb{R}^{D \times F}, \qquad
              \Sigma = \mathbb{E}[\lambda\, \phi \phi^\top] \in \mathbb{R}^{F \times F}, \qquad
              \lambda = \alpha_t^2 / \sigma_t^2

    over ``t ~ U[eps, T]``, ``x0`` uniform over ``data``, ``x ~ N(alpha_t x0, sigma_t^2 I)``.
    The x-expectations are exact and separable (per axis ``E[b_i(x_d)]``, ``E[b_i b_j]``,
    :meth:`~gtv_symbolic.features.AbstractBasis1D.expect`); the t-integral is composite
    Gauss-Legendre in ``log t`` with ``n_panels * order`` nodes (relative error below 1e-10
    at the defaults for the figures' features; tested by halving the panels).

    Parameters
    ----------
    features : :class:`~gtv_symbolic.features.FeatureMap`; closed-form expectations needed.
    data : array_like, shape (M, D)
    schedule : :class:`~gtv_symbolic.schedules.Schedule`
    eps, T : float; time window.
    n_panels, order : int; Gauss-Legendre panels in ``log t`` and nodes per panel.

    Returns
    -------
    A : numpy.ndarray, shape (D, F)
    Sigma : numpy.ndarray, shape (F, F); symmetric.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import schedules, training
    >>> from gtv_symbolic.features import make_features
    >>> vp, two = schedules.VP(), [[-1.0], [1.0]]
    >>> fm = make_features("gaussian", dim=1, n_x=4, n_t=3, eps=0.1)  # F = 12
    >>> A, Sig = training.population_moments(fm, two, vp, eps=0.1, n_panels=8)
    >>> A.shape, Sig.shape, bool(np.linalg.eigvalsh(Sig).min() > -1e-12)
    ((1, 12), (12, 12), True)
    """
    mu = as_data(data)
    eps, T = check_window(schedule, eps, T)
    if not is_feature_map(features):
        raise TypeError("population moments need a FeatureMap (closed-form expectations)")
    if mu.shape[1] != features.dim:
        raise ValueError(f"data has dimension D = {mu.shape[1]} but the features are for "
                         f"D = {features.dim}")
    tq, wq = _t_quadrature(eps, T, int_arg(n_panels, "n_panels", 1, 10**5),
                           int_arg(order, "order", 1, 100))
    alpha, s2 = schedule.alpha(tq), schedule.sigma2(tq)
    lam = alpha**2 / s2
    h = features.t_basis.values(tq)  # (Q, n_t)
    M, D = mu.shape
    nx = int(np.prod(features.shape[:-1]))
    X2 = np.zeros((tq.size, nx, nx))  # (1/M) sum_m kron_d E[b b^T]
    X1 = np.zeros((tq.size, D, nx))   # (1/M) sum_m mu_m kron_d E[b]
    for m in range(M):
        e1 = np.ones((tq.size, 1))
        e2 = np.ones((tq.size, 1, 1))
        for d, b in enumerate(features.x_bases):
            mean = alpha * mu[m, d]
            v1 = b.expect(mean, s2)
            v2 = b.expect_outer(mean, s2)
            e1 = (e1[:, :, None] * v1[:, None, :]).reshape(tq.size, -1)
            e2 = (e2[:, :, None, :, None] * v2[:, None, :, None, :]).reshape(
                tq.size, e1.shape[1], e1.shape[1])
        X2 += e2 / M
        X1 += mu[m][None, :, None] * e1[:, None, :] / M
    cw = wq * lam
    nt = h.shape[1]
    # Sigma[(a,k),(b,l)] = sum_q cw_q X2_q[a,b] h_q[k] h_q[l]
    H = (cw[:, None, None] * h[:, :, None] * h[:, None, :]).reshape(tq.size, -1)
    Sig = (X2.reshape(tq.size, -1).T @ H).reshape(nx, nx, nt, nt)
    Sig = Sig.transpose(0, 2, 1, 3).reshape(nx * nt, nx * nt)
    A = np.einsum("q,qda,qk->dak", cw, X1, h).reshape(D, nx * nt)
    return A, (Sig + Sig.T) / 2


def population_weights(features, data, schedule: Schedule, *, eps: float, T: float = 1.0,
                       ridge: float = 0.1, filt: SpectralFilter | None = None,
                       n_panels: int = 96, order: int = 8) -> np.ndarray:
    r"""Population optimum of the DSM regression (paper Sec. 5).

    .. math:: W_* = \bigl(h(\Sigma)\, A^\top\bigr)^\top

    (:func:`optimum_weights` of :func:`population_moments`). The target does not matter:
    ``E[lambda E[x0|x,t] phi^T] = E[lambda x0 phi^T]`` (tower property).

    Parameters
    ----------
    features : :class:`~gtv_symbolic.features.FeatureMap`
    data : array_like, shape (M, D)
    schedule : :class:`~gtv_symbolic.schedules.Schedule`
    eps, T : float; time window.
    ridge : float; ``rho > 0`` of the default ridge filter.
    filt : SpectralFilter, optional; ridge needs ``rho > 0`` here.
    n_panels, order : int; see :func:`population_moments`.

    Returns
    -------
    numpy.ndarray, shape (D, F)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import schedules, training
    >>> from gtv_symbolic.features import make_features
    >>> vp, two = schedules.VP(), [[-1.0], [1.0]]
    >>> fm = make_features("gaussian", dim=1, n_x=4, n_t=3, eps=0.1)  # F = 12
    >>> Ws = training.population_weights(fm, two, vp, eps=0.1, n_panels=8)
    >>> A, Sig = training.population_moments(fm, two, vp, eps=0.1, n_panels=8)
    >>> Ws.shape, np.allclose(Ws @ (Sig + 0.1 * np.eye(12)), A)  # ridge rho = 0.1
    ((1, 12), True)
    """
    if filt is None:
        filt = ridge_filter(check_ridge(ridge))
    elif filt.name == "ridge":
        check_ridge(filt.param)  # rho = 0 would invert a singular population Gram matrix
    A, Sig = population_moments(features, data, schedule, eps=eps, T=T, n_panels=n_panels,
                                order=order)
    return optimum_weights(A, Sig, filt)


def optimum_weights(A, Sigma, filt: SpectralFilter, *, eig=None) -> np.ndarray:
    r"""The one formula for the optimum from the moments, whichever way they were computed.

    .. math:: W_* = \bigl(h(\Sigma)\, A^\top\bigr)^\top

    Cholesky of ``Sigma + rho I`` for ridge with ``rho > 0``, else (or when the caller has
    it, ``eig = (ev, U)`` of ``Sigma``) the eigendecomposition, eigenvalues clipped at 0.

    Parameters
    ----------
    A : array_like, shape (D, F)
    Sigma : array_like, shape (F, F); symmetric positive semi-definite.
    filt : SpectralFilter
    eig : tuple (ev, U), optional; eigendecomposition of ``Sigma``.

    Returns
    -------
    numpy.ndarray, shape (D, F)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic.training import gradient_flow_filter, ridge_filter
    >>> A, Sig = np.array([[1.0, 2.0]]), np.diag([1.0, 3.0])
    >>> optimum_weights(A, Sig, ridge_filter(1.0))
    array([[0.5, 0.5]])
    >>> optimum_weights(A, Sig, gradient_flow_filter(np.inf)).round(4)  # least squares
    array([[1.    , 0.6667]])
    """
    Sig, At = np.array(Sigma, dtype=float), np.asarray(A, float).T  # Sig: a copy, shifted in place
    with blas_threads(1):
        if eig is None and filt.name == "ridge" and filt.param > 0:
            Sig[np.diag_indices_from(Sig)] += filt.param
            return spd_solve(Sig, At).T
        ev, U = np.linalg.eigh(Sig) if eig is None else eig
        return (U @ (filt.h(np.clip(ev, 0, None))[:, None] * (U.T @ At))).T
