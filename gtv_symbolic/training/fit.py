r"""The DSM training-set sampler and the trainer of linear denoisers (paper Sec. 5).

See :mod:`gtv_symbolic.training` for the model, the objective and the closed-form solves.
"""

from __future__ import annotations

import numpy as np

from .._blas import blas_threads
from .._validate import MAX_MODELS, MAX_TRAIN, int_arg
from ..data import as_data
from ..grids import check_window
from ..proxy import posterior_mean
from ..schedules import Schedule
from ._checks import check_ridge, check_rng, is_feature_map, spd_solve
from .filters import SpectralFilter, ridge_filter

__all__ = ["sample_training_set", "train_ensemble", "ridge_fit", "ridge_objective", "TARGETS"]

#: Training targets: ``"proxy"`` (x0, the DSM objective J1) or ``"true"`` (E[x0 | x, t], J0).
TARGETS = ("proxy", "true")
#: Work-array budget (float64 elements) for one chunk of models: 2**24 = 128 MB.
_CHUNK_ELEMS = 2**24


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
    check_rng(rng)
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
    ridge = check_ridge(ridge)
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
            out[i] = spd_solve(Sig, (Yf[i].T @ Wf[i] / P).T).T
        return out.reshape(batch + out.shape[1:])
    K = phi @ np.swapaxes(phi, -1, -2)
    C = _dual_coefficients(K, y, w, ridge)
    return np.swapaxes(C, -1, -2) @ phi


def _dual_coefficients(K, y, w, ridge):
    """``C = (L^{1/2} K L^{1/2}/P + rho I)^{-1} L^{1/2} Y / P``, scaled back by ``L^{1/2}``."""
    P = K.shape[-1]
    sw = np.sqrt(w)
    G = K * sw[..., :, None] * sw[..., None, :] / P
    G[..., np.arange(P), np.arange(P)] += ridge
    rhs = sw[..., None] * y / P
    Gf, Rf = G.reshape((-1, P, P)), rhs.reshape((-1,) + rhs.shape[-2:])
    C = np.stack([spd_solve(Gf[i], Rf[i]) for i in range(Gf.shape[0])]).reshape(rhs.shape)
    return C * sw[..., None]  # (.., P, D): W = C^T Phi


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
    fast = is_feature_map(features)
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
        filt = ridge_filter(check_ridge(ridge))
    if not isinstance(filt, SpectralFilter):
        raise TypeError(f"filt must be a SpectralFilter, got {type(filt).__name__}")
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    check_rng(rng)
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
