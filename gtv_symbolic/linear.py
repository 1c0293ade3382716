r"""Closed-form ridge training of linear denoisers, batched over ensembles (paper-math.md section 5).

Model (denoiser form, as in the paper's code ``train_phi_denoise``):
``mu_hat(x, t) = W phi(x, t)``, ``s_hat = (alpha_t mu_hat - x) / sigma_t^2``, ``W in R^{D x F}``.
Training minimises the ridge-regularised empirical DSM objective (math note 5.1-5.2)

.. math::  \hat J(W) = \frac{1}{2P}\sum_{i=1}^P \tilde\lambda_i \|W\phi_i - y_i\|^2
           + \frac{\rho}{2}\|W\|_F^2,\qquad \tilde\lambda_i = \alpha_{t_i}^2/\sigma_{t_i}^2,

on ``P`` i.i.d. triples ``t_i ~ U[eps, T]``, ``x0_i`` uniform over the training points,
``x_i ~ N(alpha x0_i, sigma^2 I)``; the target is ``y_i = x0_i`` (J1, proxy score) or the
exact Bayes denoiser ``y_i = E[x0 | x_i, t_i]`` (J0 ablation, math note 5.5). Its minimiser is

.. math::  W = \hat A(\hat\Sigma + \rho I)^{-1},\quad
           \hat A = \frac1P\sum_i\tilde\lambda_i y_i\phi_i^\top,\quad
           \hat\Sigma = \frac1P\sum_i\tilde\lambda_i\phi_i\phi_i^\top .

When ``P <= F`` the equivalent dual (push-through) form is used,
``W = C^T Lambda^{1/2} Phi`` with ``C = (Lambda^{1/2} Phi Phi^T Lambda^{1/2}/P + rho I)^{-1}
Lambda^{1/2} Y / P``; for crossed features the Gram matrix ``Phi Phi^T`` is the Hadamard
product of the per-axis Grams, so it costs ``O(P^2 sum_d n_d)`` instead of ``O(P F^2)``.

The population optimum (math note 5.3) is ``W* = A (Sigma + rho I)^{-1}`` with
``A = E[lambda x0 phi^T]``, ``Sigma = E[lambda phi phi^T]``; :func:`population_weights`
computes these with exact Gaussian expectations over ``x | x0, t`` (per axis, closed form for
both feature families) and composite Gauss-Legendre quadrature in ``log t``.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ._validate import int_arg
from .data import as_data
from .features import FeatureMap
from .proxy import posterior_mean
from .schedules import Schedule

__all__ = ["blas_threads", "draw_dsm_samples", "ridge_fit", "ridge_objective", "train_ensemble",
           "population_moments", "population_weights", "LinearDenoiser", "TARGETS"]

TARGETS = ("proxy", "true")
#: Largest P accepted (P x P and P x F work arrays per model).
MAX_TRAIN = 100_000
#: Work-array budget (float64 elements) for one chunk of models: 2**24 = 128 MB.
_CHUNK_ELEMS = 2**24


# ----------------------------------------------------------------------------------------
# BLAS threads
# ----------------------------------------------------------------------------------------
_SET_NAMES = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
              "openblas_set_num_threads64_", "openblas_set_num_threads")
_GET_NAMES = ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
              "openblas_get_num_threads64_", "openblas_get_num_threads")


def _openblas_handles():
    """(set, get) functions of every OpenBLAS loaded in this process (numpy's and scipy's)."""
    import ctypes

    out = []
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({ln.split()[-1] for ln in f if "openblas" in ln.lower()
                            and ln.split()[-1].startswith("/")})
    except OSError:  # not Linux: leave the thread count alone
        return out
    for p in paths:
        try:
            lib = ctypes.CDLL(p)
        except OSError:
            continue
        st = next((getattr(lib, n) for n in _SET_NAMES if hasattr(lib, n)), None)
        gt = next((getattr(lib, n) for n in _GET_NAMES if hasattr(lib, n)), None)
        if st is not None and gt is not None:
            out.append((st, gt))
    return out


class blas_threads:
    """Context manager limiting OpenBLAS to ``n`` threads (restored on exit).

    The ensembles solve many small (<= 1000 x 1000) systems; on a shared 2-core machine a
    multi-threaded OpenBLAS spin-waits and is 5-20x slower on these than one thread.
    A no-op where OpenBLAS cannot be found.
    """

    def __init__(self, n: int = 1):
        self.n = int(n)
        self._saved = []

    def __enter__(self):
        import ctypes

        for st, gt in _openblas_handles():
            st.argtypes, gt.restype = [ctypes.c_int], ctypes.c_int
            self._saved.append((st, gt()))
            st(self.n)
        return self

    def __exit__(self, *exc):
        for st, n in self._saved:
            st(n)
        self._saved = []
        return False


# ----------------------------------------------------------------------------------------
# Validation
# ----------------------------------------------------------------------------------------


def _check_window(eps, T, schedule):
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a gtv_symbolic.schedules.Schedule, got "
                        f"{type(schedule).__name__}")
    T = float(T)
    if not (np.isfinite(T) and T > 0):
        raise ValueError(f"T must be finite and > 0, got {T}")
    if T > schedule.T or (not schedule.include_T and T >= schedule.T):
        raise ValueError(f"T must be <= the schedule's T = {schedule.T:g}, got {T}")
    eps = float(eps)
    if not (np.isfinite(eps) and 0 < eps < T):
        raise ValueError(f"eps must lie in (0, T) = (0, {T:g}), got {eps}")
    return eps, T


def _check_ridge(ridge):
    ridge = float(ridge)
    if not (np.isfinite(ridge) and ridge > 0):
        raise ValueError(f"ridge must be finite and > 0, got {ridge}")
    return ridge


# ----------------------------------------------------------------------------------------
# Empirical training
# ----------------------------------------------------------------------------------------
def draw_dsm_samples(data, schedule: Schedule, *, n_train: int, eps: float, T: float = 1.0,
                     rng: np.random.Generator) -> dict:
    """Draw ``P`` DSM triples: ``t ~ U[eps, T]``, ``x0`` uniform over ``data``, ``x ~ N(alpha x0, sigma^2)``.

    Returns a dict with ``x0 (P, D)``, ``t (P,)``, ``x (P, D)`` and ``weight (P,)`` =
    ``alpha_t^2 / sigma_t^2`` (math note 1.6). Draw order (index, t, noise) is fixed, so the
    same ``rng`` state gives the same bytes.
    """
    mu = as_data(data)
    n_train = int_arg(n_train, "n_train (P)", 1, 10**8)
    eps, T = _check_window(eps, T, schedule)
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    idx = rng.integers(0, mu.shape[0], size=n_train)
    t = rng.uniform(eps, T, size=n_train)
    z = rng.standard_normal((n_train, mu.shape[1]))
    x0 = mu[idx]
    alpha = schedule.alpha(t)
    x = alpha[:, None] * x0 + np.sqrt(schedule.sigma2(t))[:, None] * z
    return {"x0": x0, "t": t, "x": x, "weight": schedule.snr_weight(t)}


def ridge_objective(W, phi, targets, weights, ridge: float):
    r"""``J(W) = (1/2P) sum_i w_i |W phi_i - y_i|^2 + (rho/2)|W|_F^2`` and its gradient.

    ``grad J = W (Sigma_hat + rho I) - A_hat`` (vanishes at :func:`ridge_fit`'s solution).
    Shapes: ``W (D, F)``, ``phi (P, F)``, ``targets (P, D)``, ``weights (P,)``.
    """
    W, phi, y, w = (np.asarray(a, dtype=float) for a in (W, phi, targets, weights))
    P = phi.shape[0]
    r = phi @ W.T - y
    J = 0.5 * np.sum(w[:, None] * r**2) / P + 0.5 * ridge * np.sum(W**2)
    grad = (w[:, None] * r).T @ phi / P + ridge * W
    return J, grad


def ridge_fit(phi, targets, weights, ridge: float = 0.1, *, method: str = "auto") -> np.ndarray:
    r"""Closed-form ``W = A_hat (Sigma_hat + rho I)^{-1}`` for one or a batch of problems.

    Parameters
    ----------
    phi : (..., P, F)      features of the training inputs
    targets : (..., P, D)  regression targets ``y_i``
    weights : (..., P)     objective weights ``lambda_i`` (>= 0)
    ridge : float          ``rho > 0``
    method : 'primal' | 'dual' | 'auto'
        Primal solves the ``F x F`` system; dual the ``P x P`` system (push-through identity,
        see module docstring). ``'auto'`` picks the smaller.

    Returns ``W`` with shape ``(..., D, F)``.
    """
    phi, y, w = (np.asarray(a, dtype=float) for a in (phi, targets, weights))
    ridge = _check_ridge(ridge)
    P, F = phi.shape[-2:]
    if method == "auto":
        method = "dual" if P <= F else "primal"
    if method == "primal":
        wphi = phi * w[..., None]
        batch = phi.shape[:-2]
        Pf, Yf, Wf = (a.reshape((-1,) + a.shape[-2:]) for a in (phi, y, wphi))
        out = np.empty((Pf.shape[0], y.shape[-1], F))
        for i in range(Pf.shape[0]):  # per-matrix BLAS/LAPACK: far faster than batched linalg
            Sig = Wf[i].T @ Pf[i] / P
            Sig[np.diag_indices(F)] += ridge
            out[i] = _spd_solve(Sig, (Yf[i].T @ Wf[i] / P).T).T
        return out.reshape(batch + out.shape[1:])
    if method == "dual":
        K = phi @ np.swapaxes(phi, -1, -2)
        return _dual_solve(K, phi, y, w, ridge)
    raise ValueError(f"method must be 'primal', 'dual' or 'auto', got {method!r}")


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


def _dual_solve(K, phi, y, w, ridge):
    C = _dual_coefficients(K, y, w, ridge)
    return np.swapaxes(C, -1, -2) @ phi


def train_ensemble(features: FeatureMap, data, schedule: Schedule, *, n_train: int,
                   n_models: int, eps: float, T: float = 1.0, ridge: float = 0.1,
                   rng: np.random.Generator, target: str = "proxy",
                   return_samples: bool = False):
    r"""Train ``N`` independent linear denoisers in closed form; returns ``W (N, D, F)``.

    Model ``n`` uses its own stream ``rng.spawn(N)[n]`` to draw ``P`` DSM triples
    (:func:`draw_dsm_samples`), then ``W_n = A_hat_n (Sigma_hat_n + rho I)^{-1}``
    (math note 5.2; paper code ``train_phi_denoise`` with ``eps_reg = rho = 0.1``).

    Parameters
    ----------
    features : FeatureMap   crossed features with ``features.dim == D``
    data : (M, D)           training points
    n_train : int           P >= 1 training triples per model
    n_models : int          N >= 1 models
    eps, T : float          training times ``t ~ U[eps, T]``, ``0 < eps < T``
    ridge : float           rho > 0
    target : 'proxy' | 'true'
        ``'proxy'`` regresses on ``x0`` (DSM / J1); ``'true'`` on the exact Bayes denoiser
        ``E[x0 | x_i, t_i]`` (J0 ablation, math note 5.5).
    return_samples : bool
        Also return the drawn triples (dict of arrays with a leading model axis).

    Work is batched over chunks of models (BLAS matmul / batched solve, float64); the dual
    ``P x P`` form is used when ``P <= F`` (Gram = Hadamard product of per-axis Grams).
    """
    if not isinstance(features, FeatureMap):
        raise TypeError(f"features must be a FeatureMap, got {type(features).__name__}")
    mu = as_data(data)
    if mu.shape[1] != features.dim:
        raise ValueError(f"data has dimension D = {mu.shape[1]} but the features are for "
                         f"D = {features.dim}")
    n_train = int_arg(n_train, "n_train (P)", 1, MAX_TRAIN)
    n_models = int_arg(n_models, "n_models (N)", 1)
    eps, T = _check_window(eps, T, schedule)
    ridge = _check_ridge(ridge)
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    P, F = n_train, features.n_features
    if P * max(P, F) > _CHUNK_ELEMS * 4:
        raise ValueError(f"n_train (P) = {P} with F = {F} features needs more than 512 MB per "
                         f"model; use P * max(P, F) <= {_CHUNK_ELEMS * 4}")

    streams = rng.spawn(n_models)
    draws = [draw_dsm_samples(mu, schedule, n_train=P, eps=eps, T=T, rng=g) for g in streams]
    x = np.stack([d["x"] for d in draws])
    t = np.stack([d["t"] for d in draws])
    w = np.stack([d["weight"] for d in draws])
    x0 = np.stack([d["x0"] for d in draws])
    y = x0 if target == "proxy" else posterior_mean(x, t, mu, schedule)

    with blas_threads(1):
        W = _fit_ensemble(features, x, t, w, y, ridge)
    if return_samples:
        return W, {"x": x, "t": t, "x0": x0, "weight": w, "target": y}
    return W


def _fit_ensemble(features, x, t, w, y, ridge):
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
            W[sl] = ridge_fit(features(x[sl], t[sl]), y[sl], w[sl], ridge, method="primal")
    return W


def _weights_from_dual(C, vals):
    """``W[m, d, i_1, ..., i_K] = sum_p C[m, p, d] prod_k vals[k][m, p, i_k]``."""
    out = C  # (m, p, d)
    for v in vals:
        out = out[..., None] * v.reshape(v.shape[:2] + (1,) * (out.ndim - 2) + v.shape[-1:])
    return out.sum(axis=1)


# ----------------------------------------------------------------------------------------
# Population optimum
# ----------------------------------------------------------------------------------------
def _t_quadrature(eps, T, n_panels, order):
    """Composite Gauss-Legendre nodes/weights for ``(1/(T-eps)) int_eps^T f(t) dt`` in ``u = log t``.

    ``lambda_t ~ 1/(2 beta_min t)`` near 0, so the integrand is smooth in ``log t``.
    """
    g, gw = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(np.log(eps), np.log(T), n_panels + 1)
    a, b = edges[:-1, None], edges[1:, None]
    u = (a + b) / 2 + (b - a) / 2 * g
    wu = (b - a) / 2 * gw
    t = np.exp(u).ravel()
    return t, (wu.ravel() * t) / (T - eps)


def population_moments(features: FeatureMap, data, schedule: Schedule, *, eps: float,
                       T: float = 1.0, n_panels: int = 96, order: int = 8):
    r"""Population ``A = E[lambda x0 phi^T]`` (D, F) and ``Sigma = E[lambda phi phi^T]`` (F, F).

    ``t ~ U[eps, T]``, ``x0`` uniform over the data, ``x ~ N(alpha x0, sigma^2 I)``,
    ``lambda = alpha^2/sigma^2``. The x-expectations are exact and separable: per axis
    ``E[b_i(x_d)]`` and ``E[b_i(x_d) b_j(x_d)]`` in closed form (Gaussian bumps: product of
    Gaussians; Fourier: characteristic function); the t-integral is composite Gauss-Legendre
    in ``log t`` with ``n_panels * order`` nodes (relative quadrature error below 1e-10 at
    the defaults for the figures' features, checked in the tests by halving the panels).
    """
    mu = as_data(data)
    eps, T = _check_window(eps, T, schedule)
    if mu.shape[1] != features.dim:
        raise ValueError(f"data has dimension D = {mu.shape[1]} but the features are for "
                         f"D = {features.dim}")
    tq, wq = _t_quadrature(eps, T, int_arg(n_panels, "n_panels", 1),
                           int_arg(order, "order", 1))
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


def population_weights(features: FeatureMap, data, schedule: Schedule, *, eps: float,
                       T: float = 1.0, ridge: float = 0.1, n_panels: int = 96,
                       order: int = 8) -> np.ndarray:
    r"""Population optimum ``W* = A (Sigma + rho I)^{-1}``, shape ``(D, F)`` (math note 5.3).

    The mean of :func:`train_ensemble` over many models approaches ``W* phi`` up to
    ``O(1/P)`` (tested against the ensemble's standard error). The target choice does not
    matter here: ``E[lambda E[x0|x,t] phi^T] = E[lambda x0 phi^T]`` (tower property).
    """
    ridge = _check_ridge(ridge)
    A, Sig = population_moments(features, data, schedule, eps=eps, T=T, n_panels=n_panels,
                                order=order)
    Sig[np.diag_indices_from(Sig)] += ridge
    with blas_threads(1):
        return _spd_solve(Sig, A.T).T


# ----------------------------------------------------------------------------------------
# Trained model as a denoiser callable
# ----------------------------------------------------------------------------------------
class LinearDenoiser:
    r"""``mu_hat(x, t) = W phi(x, t)`` for one model (``W (D, F)``) or an ensemble (``W (N, D, F)``).

    Calling convention (shared by the samplers in :mod:`gtv_symbolic.sampling`):

    * ensemble: ``x`` has shape ``(N, ..., D)`` (one batch of points per model) and the
      result has the same shape; a single model takes ``(..., D)``;
    * ``t`` scalar: separable evaluation (:meth:`FeatureMap.apply`), no ``(..., F)`` array;
      ``t`` array broadcasting against ``x[..., 0]``: dense features, chunked.

    :meth:`jacobian` gives ``d mu_hat / dx`` (``(..., D, D)``) from the exact feature
    derivatives; :meth:`divergence` its trace.
    """

    def __init__(self, features: FeatureMap, W):
        W = np.asarray(W, dtype=float)
        if W.ndim not in (2, 3) or W.shape[-1] != features.n_features or \
                W.shape[-2] != features.dim:
            raise ValueError(f"W must have shape (N, D, F) or (D, F) with D = {features.dim}, "
                             f"F = {features.n_features}; got {W.shape}")
        self.features = features
        self.W = W
        self.dim = features.dim
        self.n_models = W.shape[0] if W.ndim == 3 else None

    def __repr__(self) -> str:
        return f"LinearDenoiser({self.features!r}, n_models={self.n_models})"

    def mean_model(self) -> "LinearDenoiser":
        """The single model with the ensemble-mean weights (``[mu_hat] = mean(W) phi``)."""
        return LinearDenoiser(self.features, self.W.mean(axis=0) if self.W.ndim == 3 else self.W)

    def __call__(self, x, t):
        if np.ndim(t) == 0:
            return self.features.apply(self.W, x, float(t))
        phi = self.features(x, t)
        if self.W.ndim == 2:
            return phi @ self.W.T
        return np.einsum("m...f,mdf->m...d", phi, self.W)

    def jacobian(self, x, t):
        if np.ndim(t) == 0:
            return self.features.apply(self.W, x, float(t), jacobian=True)[1]
        g = self.features.grad_x(x, t)
        if self.W.ndim == 2:
            return np.einsum("...fe,df->...de", g, self.W)
        return np.einsum("m...fe,mdf->m...de", g, self.W)

    def value_and_jacobian(self, x, t):
        if np.ndim(t) == 0:
            return self.features.apply(self.W, x, float(t), jacobian=True)
        return self(x, t), self.jacobian(x, t)

    def divergence(self, x, t):
        return np.trace(self.jacobian(x, t), axis1=-2, axis2=-1)

    def per_point(self, model) -> "_PerPointDenoiser":
        """A single-batch denoiser where point ``p`` of ``x (N, D)`` uses model ``model[p]``."""
        if self.W.ndim != 3:
            raise ValueError("per_point() needs an ensemble (W of shape (N, D, F))")
        return _PerPointDenoiser(self, np.asarray(model, dtype=np.intp))


class _PerPointDenoiser:
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
