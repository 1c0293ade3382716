r"""Training linear denoisers by denoising score matching: one sampler, one trainer, one W*.

Model (denoiser form, paper Sec. 5): ``mu_hat(x, t) = W phi(x, t) + f0(x, t)`` with
``W in R^{D x F}`` and an optional fixed offset ``f0`` (the lazy network's output at
initialisation, Prop. 5.2); the score is ``s_hat = (alpha_t mu_hat - x) / sigma_t^2``.
Training uses ``P`` i.i.d. DSM triples (:func:`sample_training_set`): ``x0`` uniform over
the training points, ``t ~ U[eps, T]``, ``x ~ N(alpha_t x0, sigma_t^2 I)``, weighted by
``lambda = alpha_t^2 / sigma_t^2`` (the DSM objective of Sec. 2 in denoiser form):

.. math::  \hat G = \frac1P \sum_i \lambda_i \phi_i \phi_i^\top, \qquad
           \hat g = \frac1P \sum_i \lambda_i \phi_i (y_i - f_{0,i})^\top, \qquad
           W^\top = h(\hat G)\, \hat g,

with targets ``y_i = x0_i`` (the proxy objective J1) or ``y_i = E[x0 | x_i, t_i]`` (J0, the
true score). The spectral filter ``h`` is ridge, ``h(m) = 1/(m + rho)`` (the paper's code,
``rho = 0.1``), or gradient flow for a time ``tau`` from ``W = 0``,
``h(m) = (1 - e^{-tau m})/m`` (:class:`SpectralFilter`). Ridge is solved in closed form,

.. math::  W = \hat A (\hat\Sigma + \rho I)^{-1} \quad\text{or, for } P \le F,\quad
           W = C^\top \Lambda^{1/2}\Phi,\;
           C = (\Lambda^{1/2}\Phi\Phi^\top\Lambda^{1/2}/P + \rho I)^{-1}\Lambda^{1/2} Y/P,

(push-through identity); for crossed features the Gram matrix ``Phi Phi^T`` is the Hadamard
product of the per-axis Grams (``O(P^2 sum_d n_d)`` instead of ``O(P F^2)``).

The population optimum (:func:`population_weights`) is ``W* = h(Sigma) A^T`` with
``A = E[lambda x0 phi^T]``, ``Sigma = E[lambda phi phi^T]``, computed with exact Gaussian
expectations over ``x | x0, t`` (per axis, closed form) and Gauss-Legendre quadrature in
``log t``. The ensemble mean of :func:`train_ensemble` approaches ``W*`` up to ``O(1/P)``.

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic import data, schedules
>>> from gtv_symbolic.features import make_features
>>> from gtv_symbolic.training import train_ensemble
>>> fm = make_features("gaussian", dim=1, n_x=4, n_t=3, eps=1e-2)
>>> W = train_ensemble(fm, data.three_points(), schedules.VP(), P=50, n_models=3, eps=1e-2,
...                    rng=np.random.default_rng(0))
>>> W.shape
(3, 1, 12)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ._blas import blas_threads
from ._validate import MAX_MODELS, MAX_TRAIN, int_arg
from .data import as_data
from .grids import check_window
from .proxy import posterior_mean
from .schedules import Schedule

__all__ = ["sample_training_set", "train_ensemble", "population_weights", "optimum_weights",
           "population_moments", "ridge_fit", "ridge_objective", "SpectralFilter", "ridge_filter",
           "gradient_flow_filter", "TARGETS", "MAX_TRAIN"]

#: Training targets: ``"proxy"`` (x0, the DSM objective J1) or ``"true"`` (E[x0 | x, t], J0).
TARGETS = ("proxy", "true")
#: Work-array budget (float64 elements) for one chunk of models: 2**24 = 128 MB.
_CHUNK_ELEMS = 2**24


# Spectral filters --------------------
@dataclass(frozen=True)
class SpectralFilter:
    r"""A spectral filter ``h`` of the Gram matrix: trained weights ``theta = h(G) g`` (paper Sec. 5).

    .. math:: h_{\mathrm{ridge}}(m) = \frac{1}{m + \rho}, \qquad
              h_{\mathrm{gf}}(m) = \frac{1 - e^{-\tau m}}{m}

    (``tau = inf``: ``1/m`` for ``m > 0``, 0 else).

    Build with :func:`ridge_filter` or :func:`gradient_flow_filter`.

    Attributes
    ----------
    name
        str: ``'ridge'`` or ``'gradient_flow'``.
    param
        float: ``rho`` or ``tau``.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(ridge_filter(0.1).h(0.9)), 12)
    1.0
    >>> float(gradient_flow_filter(np.inf).h(4.0))
    0.25
    """

    name: str
    param: float

    def h(self, mu):
        """The filter ``h(m)`` (series near ``tau m = 0`` for the gradient flow).

        Parameters
        ----------
        mu : array_like; eigenvalues ``m >= 0``.

        Returns
        -------
        numpy.ndarray, shape of ``mu``

        Examples
        --------
        >>> import numpy as np
        >>> gradient_flow_filter(2.0).h(np.array([0.0, 1.0])).round(4)  # tau at m = 0
        array([2.    , 0.8647])
        """
        mu = np.asarray(mu, dtype=float)
        if self.name == "ridge":
            return 1.0 / (mu + self.param)
        tau = self.param
        if np.isinf(tau):
            return np.where(mu > 0, 1.0 / np.where(mu > 0, mu, 1.0), 0.0)
        x = tau * mu
        small = np.abs(x) < 1e-8
        safe = np.where(small, 1.0, mu)
        return np.where(small, tau * (1 - x / 2), -np.expm1(-x) / safe)

    def dh(self, mu):
        r"""The derivative ``h'(m)`` (series near ``tau m = 0`` for the gradient flow).

        .. math:: h_{\mathrm{ridge}}'(m) = -\frac{1}{(m + \rho)^2}, \qquad
                  h_{\mathrm{gf}}'(m) = \frac{\tau m\, e^{-\tau m} - (1 - e^{-\tau m})}{m^2}

        Parameters
        ----------
        mu : array_like

        Returns
        -------
        numpy.ndarray, shape of ``mu``

        Examples
        --------
        >>> import numpy as np
        >>> float(ridge_filter(1.0).dh(1.0))
        -0.25
        >>> f, m = gradient_flow_filter(2.0), 1.0  # against a central difference
        >>> bool(np.isclose(f.dh(m), (f.h(m + 1e-6) - f.h(m - 1e-6)) / 2e-6))
        True
        """
        mu = np.asarray(mu, dtype=float)
        if self.name == "ridge":
            return -1.0 / (mu + self.param) ** 2
        tau = self.param
        if np.isinf(tau):
            return np.where(mu > 0, -1.0 / np.where(mu > 0, mu, 1.0) ** 2, 0.0)
        x = tau * mu
        small = np.abs(x) < 1e-3
        safe = np.where(small, 1.0, mu)
        series = -tau**2 / 2 + tau**3 * mu / 3 - tau**4 * mu**2 / 8
        exact = (x * np.exp(-x) + np.expm1(-x)) / safe**2
        return np.where(small, series, exact)

    def divided_differences(self, mu) -> np.ndarray:
        r"""Daleckii-Krein matrix of first divided differences of ``h``.

        .. math:: H_{kl} = \frac{h(m_k) - h(m_l)}{m_k - m_l}, \qquad H_{kk} = h'(m_k)

        exactly ``-h(m_k) h(m_l)`` for ridge (no cancellation); the derivative of ``h`` at the
        midpoint where ``m_k`` and ``m_l`` are within a relative 1e-6.

        Parameters
        ----------
        mu : array_like, shape (F,)

        Returns
        -------
        numpy.ndarray, shape (F, F)

        Examples
        --------
        >>> import numpy as np
        >>> r, m = ridge_filter(0.1), np.array([1.0, 2.0])
        >>> np.allclose(r.divided_differences(m), -np.outer(r.h(m), r.h(m)))
        True
        """
        mu = np.asarray(mu, dtype=float)
        hv = self.h(mu)
        if self.name == "ridge":
            return -np.outer(hv, hv)  # exact, no cancellation
        diff = mu[:, None] - mu[None, :]
        scale = np.maximum(np.abs(mu[:, None]), np.abs(mu[None, :])) + 1e-300
        close = np.abs(diff) <= 1e-6 * scale
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (hv[:, None] - hv[None, :]) / np.where(close, 1.0, diff)
        mid = self.dh(0.5 * (mu[:, None] + mu[None, :]))
        return np.where(close, mid, out)


def ridge_filter(rho: float) -> SpectralFilter:
    r"""Ridge regression filter (paper Sec. 5; the paper's code uses ``rho = 0.1``).

    .. math:: h(m) = \frac{1}{m + \rho}, \qquad W = \hat A (\hat\Sigma + \rho I)^{-1}

    Parameters
    ----------
    rho : float; finite and >= 0.

    Returns
    -------
    SpectralFilter

    Examples
    --------
    >>> ridge_filter(0.1)
    SpectralFilter(name='ridge', param=0.1)
    """
    rho = float(rho)
    if not (np.isfinite(rho) and rho >= 0):
        raise ValueError(f"ridge must be a finite number >= 0, got {rho!r}")
    return SpectralFilter("ridge", rho)


def gradient_flow_filter(tau: float) -> SpectralFilter:
    r"""Gradient flow for a training time ``tau`` from ``W = 0`` (paper Sec. 5, Prop. 5.2).

    .. math:: h_\tau(m) = \frac{1 - e^{-\tau m}}{m}

    ``tau = inf`` is unregularised least squares (``h = 1/m`` on the range of ``G``).

    Parameters
    ----------
    tau : float; > 0, ``np.inf`` allowed.

    Returns
    -------
    SpectralFilter

    Examples
    --------
    >>> gradient_flow_filter(2.0)
    SpectralFilter(name='gradient_flow', param=2.0)
    """
    tau = float(tau)
    if not (tau > 0):
        raise ValueError(f"tau must be > 0 (np.inf allowed), got {tau!r}")
    return SpectralFilter("gradient_flow", tau)


def _check_ridge(ridge):
    ridge = float(ridge)
    if not (np.isfinite(ridge) and ridge > 0):
        raise ValueError(f"ridge must be finite and > 0, got {ridge}")
    return ridge


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


# Training set --------------------
def sample_training_set(data, schedule: Schedule, *, P: int, eps: float, T: float = 1.0,
                        rng: np.random.Generator) -> dict:
    r"""Draw ``P`` DSM triples (paper Sec. 2): training point, time and noisy point.

    .. math:: x_0 \sim \mathrm{U}\{\mu_1, \dots, \mu_M\}, \qquad t \sim \mathrm{U}[\epsilon, T], \qquad
              x \sim \mathcal{N}(\alpha_t x_0, \sigma_t^2 I), \qquad \lambda = \alpha_t^2 / \sigma_t^2

    The draw order (point index, time, noise) is fixed, so the same ``rng`` state gives the
    same bytes.

    Parameters
    ----------
    data : array_like, shape (M, D); training points.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`
    P : int; number of triples, 1 to 10**8.
    eps, T : float; time window.
    rng : numpy.random.Generator

    Returns
    -------
    dict
        ``x0 (P, D)``, ``t (P,)``, ``x (P, D)`` and ``weight (P,)`` = ``lambda``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import schedules
    >>> s = sample_training_set([[-1.0], [1.0]], schedules.VP(), P=4, eps=0.1,
    ...                         rng=np.random.default_rng(1))
    >>> s["x"].shape, bool(np.all((s["t"] >= 0.1) & (s["t"] <= 1.0)))
    ((4, 1), True)
    """
    mu = as_data(data)
    P = int_arg(P, "P", 1, 10**8)
    eps, T = check_window(schedule, eps, T)
    _check_rng(rng)
    idx = rng.integers(0, mu.shape[0], size=P)
    t = rng.uniform(eps, T, size=P)
    z = rng.standard_normal((P, mu.shape[1]))
    x0 = mu[idx]
    alpha = schedule.alpha(t)
    x = alpha[:, None] * x0 + np.sqrt(schedule.sigma2(t))[:, None] * z
    return {"x0": x0, "t": t, "x": x, "weight": schedule.snr_weight(t)}


# Ridge in closed form --------------------
def ridge_objective(W, phi, targets, weights, ridge: float):
    r"""Weighted ridge objective and its gradient (paper Sec. 5, DSM in denoiser form).

    .. math:: J(W) = \frac{1}{2P} \sum_i w_i |W \phi_i - y_i|^2 + \frac{\rho}{2} |W|_F^2, \qquad
              \nabla J = W (\hat\Sigma + \rho I) - \hat A

    (the gradient vanishes at :func:`ridge_fit`'s solution).

    Parameters
    ----------
    W : array_like, shape (D, F)
    phi : array_like, shape (P, F)
    targets : array_like, shape (P, D)
    weights : array_like, shape (P,)
    ridge : float; ``rho``.

    Returns
    -------
    J : float
    grad : numpy.ndarray, shape (D, F)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import training
    >>> rng = np.random.default_rng(0)
    >>> phi, y, w = rng.standard_normal((20, 3)), rng.standard_normal((20, 1)), np.ones(20)
    >>> J, grad = training.ridge_objective(training.ridge_fit(phi, y, w, 0.1), phi, y, w, 0.1)
    >>> bool(np.abs(grad).max() < 1e-12)
    True
    """
    W, phi, y, w = (np.asarray(a, dtype=float) for a in (W, phi, targets, weights))
    P = phi.shape[0]
    r = phi @ W.T - y
    J = 0.5 * np.sum(w[:, None] * r**2) / P + 0.5 * ridge * np.sum(W**2)
    grad = (w[:, None] * r).T @ phi / P + ridge * W
    return J, grad


def ridge_fit(phi, targets, weights, ridge: float = 0.1, *, method: str = "auto") -> np.ndarray:
    r"""Closed-form weighted ridge regression for one or a batch of problems (paper Sec. 5).

    .. math:: W = \hat A (\hat\Sigma + \rho I)^{-1}, \qquad
              \hat\Sigma = \frac1P \sum_i w_i \phi_i \phi_i^\top, \qquad
              \hat A = \frac1P \sum_i w_i y_i \phi_i^\top

    Parameters
    ----------
    phi : array_like, shape (..., P, F)
    targets : array_like, shape (..., P, D)
    weights : array_like, shape (..., P); >= 0.
    ridge : float; ``rho > 0``.
    method : {'auto', 'primal', 'dual'}
        'primal' (``F x F`` system), 'dual' (``P x P``, push-through) or 'auto' (the smaller).

    Returns
    -------
    numpy.ndarray, shape (..., D, F)

    Examples
    --------
    >>> import numpy as np
    >>> phi = np.eye(2)  # P = 2 points: Sigma_hat = I/2, A_hat = y^T/2
    >>> ridge_fit(phi, [[1.0], [2.0]], [1.0, 1.0], 0.5)
    array([[0.5, 1. ]])
    >>> from gtv_symbolic import training
    >>> rng = np.random.default_rng(0)
    >>> phi, y, w = rng.standard_normal((20, 3)), rng.standard_normal((20, 1)), np.ones(20)
    >>> np.allclose(training.ridge_fit(phi, y, w, method="dual"), training.ridge_fit(phi, y, w))
    True
    """
    phi, y, w = (np.asarray(a, dtype=float) for a in (phi, targets, weights))
    ridge = _check_ridge(ridge)
    if phi.ndim < 2:
        raise ValueError(f"phi must have shape (..., P, F), got {phi.shape}")
    if y.ndim != phi.ndim or y.shape[:-1] != phi.shape[:-1]:
        raise ValueError(f"targets must have shape (..., P, D) = {phi.shape[:-1]} + (D,) (phi's "
                         f"batch and P; one output is targets[..., None]), got {y.shape}")
    if w.shape != phi.shape[:-1]:
        raise ValueError(f"weights must have shape (..., P) = {phi.shape[:-1]}, got {w.shape}")
    for name, a in (("phi", phi), ("targets", y), ("weights", w)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be finite (found NaN or inf)")
    if np.any(w < 0):
        raise ValueError(f"weights must be >= 0, got min {w.min():g}")
    if method not in ("primal", "dual", "auto"):
        raise ValueError(f"method must be 'primal', 'dual' or 'auto', got {method!r}")
    return _ridge_solve(phi, y, w, ridge, method)


def _ridge_solve(phi, y, w, ridge, method):
    """:func:`ridge_fit` on checked arrays (the trainer's own, finite by construction)."""
    P, F = phi.shape[-2:]
    if method == "auto":
        method = "dual" if P <= F else "primal"
    if method == "primal":
        wphi = phi * w[..., None]
        batch = phi.shape[:-2]
        Pf, Yf, Wf = (a.reshape((-1,) + a.shape[-2:]) for a in (phi, y, wphi))
        out = np.empty((Pf.shape[0], y.shape[-1], F))
        for i in range(Pf.shape[0]):  # per-matrix LAPACK: far faster than batched linalg
            Sig = Wf[i].T @ Pf[i] / P
            Sig[np.diag_indices(F)] += ridge
            out[i] = _spd_solve(Sig, (Yf[i].T @ Wf[i] / P).T).T
        return out.reshape(batch + out.shape[1:])
    K = phi @ np.swapaxes(phi, -1, -2)
    C = _dual_coefficients(K, y, w, ridge)
    return np.swapaxes(C, -1, -2) @ phi


def _spd_solve(A, B):
    """Solve ``A X = B`` for symmetric positive definite ``A`` (Cholesky)."""
    return cho_solve(cho_factor(A, lower=True, check_finite=False), B, check_finite=False)


def _dual_coefficients(K, y, w, ridge):
    """``C = (L^{1/2} K L^{1/2}/P + rho I)^{-1} L^{1/2} Y / P``, scaled back by ``L^{1/2}``."""
    P = K.shape[-1]
    sw = np.sqrt(w)
    G = K * sw[..., :, None] * sw[..., None, :] / P
    G[..., np.arange(P), np.arange(P)] += ridge
    rhs = sw[..., None] * y / P
    Gf, Rf = G.reshape((-1, P, P)), rhs.reshape((-1,) + rhs.shape[-2:])
    C = np.stack([_spd_solve(Gf[i], Rf[i]) for i in range(Gf.shape[0])]).reshape(rhs.shape)
    return C * sw[..., None]  # (.., P, D): W = C^T Phi


# The trainer --------------------
def _is_feature_map(features) -> bool:
    return all(hasattr(features, a) for a in ("axis_values", "n_features", "dim", "x_bases"))


def _dense_features(features, x, t):
    out = np.asarray(features(x, t), dtype=float)
    if out.ndim != 2 or out.shape[0] != x.shape[0]:
        raise ValueError(f"features(x, t) must return shape (n, F); got {out.shape}")
    return out


def _offset_values(offset, x, t, dim):
    if offset is None:
        return np.zeros((x.shape[0], dim))
    return np.asarray(offset(x, t), dtype=float).reshape(x.shape[0], dim)


def train_ensemble(features, data, schedule: Schedule, *, P: int, n_models: int, eps: float,
                   rng: np.random.Generator, T: float = 1.0, ridge: float = 0.1,
                   filt: SpectralFilter | None = None, target: str = "proxy", offset=None,
                   return_samples: bool = False):
    r"""Train ``N`` independent linear denoisers by DSM (paper Sec. 5); returns ``W (N, D, F)``.

    Model ``n`` draws its ``P`` triples from its own stream ``rng.spawn(N)[n]``
    (:func:`sample_training_set`) and is fitted as

    .. math:: W_n^\top = h(\hat G_n)\, \hat g_n, \qquad
              \hat G_n = \frac1P \sum_i \lambda_i \phi_i \phi_i^\top, \qquad
              \hat g_n = \frac1P \sum_i \lambda_i \phi_i (y_i - f_{0,i})^\top

    (module docstring); the ensemble mean approaches :func:`population_weights` up to ``O(1/P)``.

    Parameters
    ----------
    features : FeatureMap or callable
        Crossed features (:class:`gtv_symbolic.features.FeatureMap`, fast separable paths) or
        any callable ``(x (n, D), t (n,)) -> (n, F)`` (e.g. ``TwoLayerNet.jacobian``).
    data : (M, D) training points.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`
    P, n_models : training triples per model (``1 <= P <=`` :data:`MAX_TRAIN`), models.
    eps, T : training times ``t ~ U[eps, T]``.
    rng : numpy.random.Generator
    ridge : float
        ``rho > 0`` of the default ridge filter (ignored when ``filt`` is given).
    filt : SpectralFilter, optional
        Ridge with ``rho > 0`` (closed form, dual ``P x P`` form when ``P <= F``); ridge
        ``rho = 0`` or gradient flow use the eigendecomposition of ``G_hat``.
    target : 'proxy' | 'true'
        ``x0`` (J1, DSM) or the exact Bayes denoiser ``E[x0 | x_i, t_i]`` (J0).
    offset : callable, optional
        Fixed part ``f0(x, t) -> (n, D)`` of the model; the fit is to ``y - f0``.
    return_samples : bool
        Also return the triples (dict of arrays with a leading model axis).

    Returns
    -------
    numpy.ndarray, shape (n_models, D, F)
        And the dict of triples when ``return_samples``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import schedules, training
    >>> from gtv_symbolic.features import make_features
    >>> vp, two = schedules.VP(), [[-1.0], [1.0]]
    >>> fm = make_features("gaussian", dim=1, n_x=4, n_t=3, eps=0.1)  # F = 12
    >>> W = training.train_ensemble(fm, two, vp, P=2000, n_models=50, eps=0.1,
    ...                             rng=np.random.default_rng(0))
    >>> z = (W.mean(0) - training.population_weights(fm, two, vp, eps=0.1, n_panels=8)) / (
    ...     W.std(0, ddof=1) / np.sqrt(50))  # ensemble mean vs W*, in standard errors
    >>> W.shape, bool(np.abs(z).max() < 5)
    ((50, 1, 12), True)
    """
    mu = as_data(data)
    fast = _is_feature_map(features)
    if fast and mu.shape[1] != features.dim:
        raise ValueError(f"data has dimension D = {mu.shape[1]} but the features are for "
                         f"D = {features.dim}")
    if not fast and not callable(features):
        raise TypeError(f"features must be a FeatureMap or a callable (x, t) -> (n, F), got "
                        f"{type(features).__name__}")
    P = int_arg(P, "P", 1, MAX_TRAIN)
    n_models = int_arg(n_models, "n_models", 1, MAX_MODELS)
    eps, T = check_window(schedule, eps, T)
    if filt is None:
        filt = ridge_filter(_check_ridge(ridge))
    if not isinstance(filt, SpectralFilter):
        raise TypeError(f"filt must be a SpectralFilter, got {type(filt).__name__}")
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    _check_rng(rng)
    if fast:
        F = features.n_features
        if P * max(P, F) > _CHUNK_ELEMS * 4:
            raise ValueError(f"P = {P} with F = {F} features needs more than 512 MB per "
                             f"model; use P * max(P, F) <= {_CHUNK_ELEMS * 4}")

    draws = [sample_training_set(mu, schedule, P=P, eps=eps, T=T, rng=g)
             for g in rng.spawn(n_models)]
    x, t, w, x0 = (np.stack([d[k] for d in draws]) for k in ("x", "t", "weight", "x0"))
    y = x0 if target == "proxy" else posterior_mean(x, t, mu, schedule)
    if offset is not None:
        y = y - _offset_values(offset, x.reshape(-1, mu.shape[1]), t.reshape(-1),
                               mu.shape[1]).reshape(y.shape)
    with blas_threads(1):
        if fast and filt.name == "ridge" and filt.param > 0:
            W = _fit_ridge_features(features, x, t, w, y, filt.param)
        else:
            W = _fit_spectral(features, x, t, w, y, filt)
    if return_samples:
        return W, {"x": x, "t": t, "x0": x0, "weight": w, "target": y}
    return W


def _fit_ridge_features(features, x, t, w, y, ridge):
    """Closed-form ridge for a FeatureMap, chunked over models (dual form when P <= F)."""
    n_models, P = t.shape
    F, D = features.n_features, features.dim
    dual = P <= F
    per_model = P * F + (P * P if dual else F * F)
    chunk = max(1, min(n_models, _CHUNK_ELEMS // per_model))
    W = np.empty((n_models, D, F))
    for s in range(0, n_models, chunk):
        sl = slice(s, min(s + chunk, n_models))
        if dual:
            vals = features.axis_values(x[sl], t[sl])
            K = np.ones((vals[0].shape[0], P, P))
            for v in vals:  # Gram of a tensor product = Hadamard product of Grams
                K *= v @ np.swapaxes(v, -1, -2)
            C = _dual_coefficients(K, y[sl], w[sl], ridge)
            # W = C^T Phi without the (P, F) array: contract P with one axis at a time
            W[sl] = _weights_from_dual(C, vals).reshape(-1, D, F)
        else:
            W[sl] = _ridge_solve(features(x[sl], t[sl]), y[sl], w[sl], ridge, "primal")
    return W


def _weights_from_dual(C, vals):
    """``W[m, d, i_1, ..., i_K] = sum_p C[m, p, d] prod_k vals[k][m, p, i_k]``."""
    out = C  # (m, p, d)
    for v in vals:
        out = out[..., None] * v.reshape(v.shape[:2] + (1,) * (out.ndim - 2) + v.shape[-1:])
    return out.sum(axis=1)


def _fit_spectral(features, x, t, w, y, filt):
    """``W^T = U h(ev) U^T g_hat`` per model (any filter, any feature callable)."""
    n_models, P, D = x.shape
    out = []
    chunk = max(1, 2**22 // (P * 64))  # models per batch (bounded work arrays)
    for s0 in range(0, n_models, chunk):
        sl = slice(s0, min(s0 + chunk, n_models))
        nb = t[sl].shape[0]
        phi = _dense_features(features, x[sl].reshape(-1, D), t[sl].reshape(-1))
        if filt.name == "ridge" and filt.param > 0:
            out.append(ridge_fit(phi.reshape(nb, P, -1), y[sl], w[sl], filt.param))
            continue
        phi = phi.reshape(nb, P, -1)
        lp = phi * w[sl][:, :, None]
        G = np.einsum("npf,npg->nfg", lp, phi) / P
        g = np.einsum("npf,npd->nfd", lp, y[sl]) / P
        ev, U = np.linalg.eigh(0.5 * (G + np.swapaxes(G, 1, 2)))
        ev = np.clip(ev, 0, None)
        c = np.einsum("nfk,nfd->nkd", U, g) * filt.h(ev)[:, :, None]
        out.append(np.swapaxes(np.einsum("nfk,nkd->nfd", U, c), 1, 2))
    return np.concatenate(out)


# Population optimum --------------------
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
    if not _is_feature_map(features):
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
        filt = ridge_filter(_check_ridge(ridge))
    elif filt.name == "ridge":
        _check_ridge(filt.param)  # rho = 0 would invert a singular population Gram matrix
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
            return _spd_solve(Sig, At).T
        ev, U = np.linalg.eigh(Sig) if eig is None else eig
        return (U @ (filt.h(np.clip(ev, 0, None))[:, None] * (U.T @ At))).T
