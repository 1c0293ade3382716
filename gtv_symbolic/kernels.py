r"""V-kernels: the covariance of the learned score across training draws (paper §§4-5).

The path-integral result (Prop. 3.1 / Eq. (8)) says that the ensemble-average learned
distribution is the output of the effective SDE

    dx/dt = -beta_t x - D_t s_avg(x,t) + xi,   <xi(x,t) xi(x',t')^T> = V(x,t;x',t'),
    V(x,t;x',t') = D_t Cov_theta[s_hat(x,t), s_hat(x',t')] D_t'.

This module computes V for three estimators.

* **Naive estimator** (Prop. 4.1 / Eq. (9)): ``V = kappa D_t C(x,t) D_t' delta(t - t')``,
  :func:`naive_V`, :func:`naive_step_covariance`, :func:`sym_naive_V`.
* **Linear models** (Prop. 5.1 / Eq. (13); formula reconstructed and *derived here*, see
  :func:`linear_kernel`): a model ``mu_hat = W phi(x,t) (+ f0)`` in denoiser form, trained on
  ``P`` DSM samples by a *spectral filter* of the empirical Gram matrix (ridge:
  ``h(mu) = 1/(mu + rho)``; gradient flow for a time ``tau``: ``h(mu) = (1 - e^{-tau mu})/mu``).
  To leading order in ``1/P`` (delta method), ``W ~ N(W*, Cov_W)`` with ``Cov_W = O(1/P)``.
* **Lazy / NTK regime** (Prop. 5.2 / Eqs. (16)-(17); reconstructed): a two-layer ``tanh``
  network with an analytic Jacobian, linearised around its initialisation and trained by
  gradient flow for a time ``tau`` (:class:`TwoLayerNet`, :func:`ntk_kernel`). ``tau -> 0``
  gives ``Cov = (tau^2/P) Cov[lambda J (x0 - f0)]`` (kernel-filtered, smooth);
  ``tau -> inf`` gives the unregularised least-squares (memorisation-limit) covariance.

Derivation of the linear-model covariance (new; checked against trained ensembles in
``tests/test_kernels.py``). Write ``G_hat = (1/P) sum_i lam_i phi_i phi_i^T`` and
``g_hat = (1/P) sum_i lam_i phi_i (y_i - f0_i)^T`` (targets ``y_i = x0_i`` for the proxy
objective J1, ``y_i = m(x_i, t_i)`` for J0), and the trained weights
``theta_hat = h(G_hat) g_hat`` (``W = theta^T``). The population values ``G, g`` give
``theta* = h(G) g``. The first-order (Daleckii-Krein) expansion is

    delta theta = h(G) delta g + Dh(G)[delta G] g,
    Dh(G)[E] = U (H o U^T E U) U^T,   H_kl = (h(mu_k) - h(mu_l)) / (mu_k - mu_l)

(``G = U diag(mu) U^T``, ``H_kk = h'(mu_k)``), a sum of ``P`` i.i.d. terms, so
``Cov[theta] = (1/P) Cov[xi] + O(P^-2)`` with the per-sample influence (eigenbasis)

    xi = lam [ (h o v)(y - f0)^T + v o (H (v o c)) ],   v = U^T phi,  c = U^T g.

For ridge, ``H = -h h^T`` and ``xi = lam (G + rho)^{-1} phi (y - f0 - W* phi)^T`` - the
formula of paper-math.md §5.4. Averaging ``y = x0`` over the posterior splits the covariance
into the misspecification part and the proxy-variance part
``(1/P) E[lam^2 (h o v)(h o v)^T (x) Sigma_post]``, i.e. in function space the C-term
``(1/P) E_{u,y}[lam_u^2 k(x,t;y,u) Sigma_post(y,u) k(y,u;x',t')]`` with the filtered feature
kernel ``k = phi^T h(G) phi'``. The trace identity ``E[lam k(y,u;y,u)] = tr(G h(G)) = F_eff``
gives the ``F_eff / P`` scaling of the learned-denoiser variance.

Expectations over the training law ``u ~ U[eps, T], x0 ~ p_data, y ~ N(alpha_u x0,
sigma_u^2)`` are computed by deterministic quadrature in one dimension and by Monte Carlo
(with Rao-Blackwellised posterior moments) otherwise (:func:`training_nodes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from scipy.special import ndtri
from scipy.stats import qmc

from . import proxy
from . import symbols as S
from ._validate import check_schedule
from .data import as_data
from .linear import blas_threads
from .schedules import Schedule

__all__ = [
    "naive_V", "naive_step_covariance", "sym_naive_V", "sym_naive_step_covariance",
    "TrainingNodes", "training_nodes", "SpectralFilter", "ridge_filter", "gradient_flow_filter",
    "LinearKernel", "linear_kernel", "train_filtered", "sample_training_set",
    "TwoLayerNet", "ntk_kernel", "ntk_small_tau_cov",
    "sym_linear_cov_W", "sym_linear_V", "sym_gradient_flow_filter", "sym_filter_limits",
    "sym_ntk_V", "latex_forms",
]

_CHUNK = 4096


def _check_eps(eps, T):
    eps = float(eps)
    if not (np.isfinite(eps) and 0 < eps < T):
        raise ValueError(f"eps must lie in (0, T) = (0, {T:g}), got {eps!r}")
    return eps


def _check_pos_int(v, name, lo=1):
    if isinstance(v, bool) or int(v) != v or v < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)




# ========================================================================================
# Naive estimator: Prop. 4.1 / Eq. (9)
# ========================================================================================
def naive_V(x, t, data, schedule, kappa: float) -> np.ndarray:
    r"""Coefficient of ``delta(t - t')`` in the naive-estimator V-kernel (Prop. 4.1, Eq. (9)).

    ``V(x,t;x',t') = kappa D_t C(x,t) D_t' delta(t - t')``; returns ``kappa D_t^2 C(x,t)`` with
    shape ``(..., D, D)``, where ``C = alpha_t^2 Sigma_post / sigma_t^4`` (paper Eq. (5)).
    """
    kappa = _check_kappa(kappa)
    check_schedule(schedule)
    c = proxy.covariance(x, t, data, schedule)
    d = schedule.D(np.asarray(t, dtype=float))
    d = np.broadcast_to(d, c.shape[:-2])
    return kappa * (d**2)[..., None, None] * c


def naive_step_covariance(x, t, dt: float, data, schedule, kappa: float) -> np.ndarray:
    r"""Covariance of one Euler step of the naive estimator: ``kappa dt D_t^2 C(x,t)``.

    From ``x <- x + dt (beta x + D s) + sqrt(kappa dt) D (s~(x0) - s)`` with a fresh
    ``x0 ~ p(x0 | x, t)`` per step (paper-math.md §4; Prop. 4.1). Shape ``(..., D, D)``.
    """
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a finite number > 0, got {dt!r}")
    return dt * naive_V(x, t, data, schedule, kappa)


def _check_kappa(kappa):
    kappa = float(kappa)
    if not (np.isfinite(kappa) and kappa >= 0):
        raise ValueError(f"kappa must be a finite number >= 0, got {kappa!r}")
    return kappa


def sym_naive_V(schedule=None) -> sp.Expr:
    r"""Symbolic naive V-kernel (1-D, Prop. 4.1 / Eq. (9)).

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


# ========================================================================================
# Quadrature over the training law u ~ U[eps,T], x0 ~ p_data, y ~ N(alpha x0, sigma^2)
# ========================================================================================
@dataclass(frozen=True)
class TrainingNodes:
    """Weighted nodes ``(y, u)`` of the training law with posterior moments at each node.

    ``w`` sums to one; ``lam = alpha_u^2 / sigma_u^2`` (denoiser-form DSM weight);
    ``m = E[x0 | y, u]``, ``cov = Cov[x0 | y, u]``.
    """

    y: np.ndarray
    u: np.ndarray
    w: np.ndarray
    lam: np.ndarray
    m: np.ndarray
    cov: np.ndarray
    method: str


def _u_nodes(eps, T, n_per_panel=6):
    """Composite Gauss-Legendre nodes in u: geometric panels near eps, linear above."""
    knee = min(0.05 * T, max(eps * 10, 0.05 * T))
    edges = []
    if eps < knee:
        n_geo = max(2, int(np.ceil(4 * np.log10(knee / eps))))
        edges.append(np.geomspace(eps, knee, n_geo + 1))
    else:
        knee = eps
    edges.append(np.linspace(knee, T, 25))
    e = np.unique(np.concatenate(edges))
    z, wz = np.polynomial.legendre.leggauss(n_per_panel)
    a, b = e[:-1, None], e[1:, None]
    u = (0.5 * (b - a) * z + 0.5 * (a + b)).ravel()
    w = (0.5 * (b - a) * wz).ravel() / (T - eps)
    return u, w


def training_nodes(data, schedule, eps: float, T: float = 1.0, *, method: str = "auto",
                   dy: float = 0.02, n_mc: int = 200_000, rng=None) -> TrainingNodes:
    r"""Quadrature for ``E_{u ~ U[eps,T]} E_{x0 ~ p_data} E_{y ~ N(alpha_u x0, sigma_u^2)}[...]``.

    ``method='quadrature'`` (1-D data only; default for D = 1): composite Gauss-Legendre in
    ``u`` (geometric panels near ``eps``), trapezoid nodes in ``y`` with spacing
    ``min(dy, sigma_u/4)``. ``method='qmc'`` (default for D > 1): scrambled Sobol points
    (``rng`` seeds the scrambling) in ``(u, z)``, about ``n_mc`` in total, with ``x0``
    stratified exactly over the training points; ``method='mc'``: plain Monte Carlo. The
    ``x0`` draw is Rao-Blackwellised into the posterior moments at each node.
    """
    check_schedule(schedule)
    mu = as_data(data)
    T = float(T)
    eps = _check_eps(eps, T)
    dim = mu.shape[1]
    if method == "auto":
        method = "quadrature" if dim == 1 else "qmc"
    if method == "quadrature":
        if dim != 1:
            raise ValueError(f"method='quadrature' needs 1-D data, got D = {dim}; use method='mc'")
        if not (np.isfinite(dy) and 0 < dy <= 0.5):
            raise ValueError(f"dy must lie in (0, 0.5], got {dy!r}")
        u_n, w_n = _u_nodes(eps, T)
        al, s2 = schedule.alpha(u_n), schedule.sigma2(u_n)
        ys, us, ws = [], [], []
        lo, hi = mu.min(), mu.max()
        for ui, wi, a, v in zip(u_n, w_n, al, s2, strict=True):
            sd = np.sqrt(v)
            h = min(dy, sd / 4)
            if sd < 0.1:  # per-component nodes
                nz = max(29, int(np.ceil(14 * sd / h)) | 1)
                z = np.linspace(-7, 7, nz)
                gz = np.exp(-z**2 / 2)
                gz /= gz.sum()
                y = (a * mu[:, 0][:, None] + sd * z[None, :]).ravel()
                wy = np.tile(gz, mu.shape[0]) / mu.shape[0]
            else:  # common grid under the mixture
                y = np.arange(a * lo - 7 * sd, a * hi + 7 * sd + h, h)
                d2 = (y[:, None] - a * mu[None, :, 0]) ** 2
                wy = np.exp(-d2 / (2 * v)).sum(axis=1)
                wy /= wy.sum()
            ys.append(y)
            us.append(np.full(y.shape, ui))
            ws.append(wi * wy)
        y = np.concatenate(ys)[:, None]
        u = np.concatenate(us)
        w = np.concatenate(ws)
        w /= w.sum()
    elif method in ("mc", "qmc"):
        n_mc = _check_pos_int(n_mc, "n_mc", 100)
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"method={method!r} needs rng (a numpy.random.Generator)")
        if method == "mc":
            u = rng.uniform(eps, T, n_mc)
            x0 = mu[rng.integers(0, mu.shape[0], n_mc)]
            z = rng.standard_normal((n_mc, dim))
        else:  # scrambled Sobol points in (u, z), the same set for every training point
            n_per = max(1, n_mc // mu.shape[0])
            m_pow = int(np.ceil(np.log2(n_per)))
            pts = qmc.Sobol(d=1 + dim, scramble=True, seed=rng).random_base2(m_pow)
            pts = np.clip(pts, 1e-12, 1 - 1e-12)
            # u log-uniform (importance weights prop. to u): flattens lam ~ 1/u near eps
            u1 = eps * (T / eps) ** pts[:, 0]
            w1 = u1 / u1.sum()
            z1 = ndtri(pts[:, 1:])
            u = np.tile(u1, mu.shape[0])
            z = np.tile(z1, (mu.shape[0], 1))
            x0 = np.repeat(mu, u1.shape[0], axis=0)
            n_mc = u.shape[0]
        y = schedule.alpha(u)[:, None] * x0 + np.sqrt(schedule.sigma2(u))[:, None] * z
        w = np.full(n_mc, 1.0 / n_mc) if method == "mc" else np.tile(w1, mu.shape[0]) / mu.shape[0]
    else:
        raise ValueError(f"method must be 'auto', 'quadrature', 'mc' or 'qmc', got {method!r}")
    lam = schedule.snr_weight(u)
    m = proxy.posterior_mean(y, u, mu, schedule)
    cov = proxy.posterior_covariance(y, u, mu, schedule)
    return TrainingNodes(y=y, u=u, w=w, lam=lam, m=m, cov=cov, method=method)


# ========================================================================================
# Spectral filters (ridge, gradient flow) and their divided differences
# ========================================================================================
@dataclass(frozen=True)
class SpectralFilter:
    """``theta = h(G) g``: ridge ``h = 1/(mu + rho)``; gradient flow ``h = (1 - e^{-tau mu})/mu``."""

    name: str
    param: float

    def h(self, mu):
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
        """``H_kl = (h(mu_k) - h(mu_l)) / (mu_k - mu_l)``, ``H_kk = h'(mu_k)`` (Daleckii-Krein)."""
        mu = np.asarray(mu, dtype=float)
        if self.name == "ridge":
            hv = self.h(mu)
            return -np.outer(hv, hv)  # exact, no cancellation
        hv = self.h(mu)
        diff = mu[:, None] - mu[None, :]
        scale = np.maximum(np.abs(mu[:, None]), np.abs(mu[None, :])) + 1e-300
        close = np.abs(diff) <= 1e-6 * scale
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (hv[:, None] - hv[None, :]) / np.where(close, 1.0, diff)
        mid = self.dh(0.5 * (mu[:, None] + mu[None, :]))
        return np.where(close, mid, out)


def ridge_filter(rho: float) -> SpectralFilter:
    """Ridge regression ``W = A_hat (Sigma_hat + rho I)^{-1}`` (paper-math.md §5.2)."""
    rho = float(rho)
    if not (np.isfinite(rho) and rho >= 0):
        raise ValueError(f"ridge must be a finite number >= 0, got {rho!r}")
    return SpectralFilter("ridge", rho)


def gradient_flow_filter(tau: float) -> SpectralFilter:
    """Gradient flow for a training time ``tau`` from ``theta_0`` (``tau = inf``: least squares)."""
    tau = float(tau)
    if not (tau > 0):
        raise ValueError(f"tau must be > 0 (np.inf allowed), got {tau!r}")
    return SpectralFilter("gradient_flow", tau)


# ========================================================================================
# Linear models: Prop. 5.1 / Eq. (13) (reconstructed; derivation in the module docstring)
# ========================================================================================
def _eval_features(features, y, u):
    out = np.asarray(features(y, u), dtype=float)
    if out.ndim != 2 or out.shape[0] != y.shape[0]:
        raise ValueError(f"features(x, t) must return shape (n, F); got {out.shape}")
    return out


def _eval_offset(offset, y, u, dim):
    if offset is None:
        return np.zeros((y.shape[0], dim))
    out = np.asarray(offset(y, u), dtype=float).reshape(y.shape[0], dim)
    return out


@dataclass
class LinearKernel:
    r"""Leading-order ``1/P`` law of a linear denoiser ``mu_hat = W phi(x,t) + f0(x,t)``.

    ``W_star`` (D, F) is the population solution ``h(G) g`` (the ensemble mean to O(1/P));
    ``cov_W`` (D, F, D, F) the covariance of W to O(1/P) (module docstring). Use
    :meth:`denoiser_cov`, :meth:`score_cov`, :meth:`V` for the V-kernel (Prop. 3.1 / Eq. (8):
    ``V = D_t Cov[s_hat, s_hat'] D_t'``) and :meth:`sample_weights` for Gaussian fields.
    """

    features: object
    schedule: Schedule
    P: int
    W_star: np.ndarray
    cov_W: np.ndarray
    eig: np.ndarray
    filt: SpectralFilter
    target: str
    G: np.ndarray = None
    offset: object = None
    parts: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return self.W_star.shape[0]

    @property
    def n_features(self) -> int:
        return self.W_star.shape[1]

    @property
    def F_eff(self) -> float:
        """``tr(G h(G))`` (ridge: ``tr Sigma (Sigma + rho)^{-1}``) <= F."""
        return float(np.sum(self.eig * self.filt.h(self.eig)))

    def with_P(self, P: int) -> LinearKernel:
        """The same kernel for another ``P`` (``Cov_W`` scales exactly as ``1/P``)."""
        P = _check_pos_int(P, "P")
        return LinearKernel(self.features, self.schedule, P, self.W_star,
                            self.cov_W * (self.P / P), self.eig, self.filt, self.target,
                            self.G, self.offset,
                            {k: v * (self.P / P) for k, v in self.parts.items()})

    def _phi(self, x, t):
        x = np.asarray(x, dtype=float)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape (..., {self.dim}), got {x.shape}")
        t = self.schedule.validate_t(t)
        batch = np.broadcast_shapes(x.shape[:-1], t.shape)
        xb = np.broadcast_to(x, batch + (self.dim,)).reshape(-1, self.dim)
        tb = np.broadcast_to(t, batch).reshape(-1)
        return _eval_features(self.features, xb, tb), xb, tb, batch

    def denoiser_mean(self, x, t) -> np.ndarray:
        """``W* phi(x,t) + f0`` (ensemble mean to O(1/P)); shape ``(..., D)``."""
        phi, xb, tb, batch = self._phi(x, t)
        out = phi @ self.W_star.T + _eval_offset(self.offset, xb, tb, self.dim)
        return out.reshape(batch + (self.dim,))

    def denoiser_cov(self, x, t, x2=None, t2=None) -> np.ndarray:
        """``Cov[mu_hat(x,t), mu_hat(x2,t2)] = phi^T Cov_W phi'`` pointwise; ``(..., D, D)``."""
        phi, _, _, batch = self._phi(x, t)
        if x2 is None:
            phi2 = phi
        else:
            phi2, _, _, batch2 = self._phi(x2, t2 if t2 is not None else t)
            if batch2 != batch:
                raise ValueError("(x2, t2) must broadcast to the same batch shape as (x, t)")
        out = np.einsum("nf,dfeg,ng->nde", phi, self.cov_W, phi2, optimize=True)
        return out.reshape(batch + (self.dim, self.dim))

    def denoiser_cov_matrix(self, x, t) -> np.ndarray:
        """Full covariance between all points: ``(n, D, n, D)`` for x ``(n, D)``, t ``(n,)``."""
        phi, _, _, _ = self._phi(x, t)
        return np.einsum("nf,dfeg,mg->ndme", phi, self.cov_W, phi, optimize=True)

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
        """``V(x,t;x',t') = D_t Cov[s_hat(x,t), s_hat(x',t')] D_t'`` (Prop. 3.1 / Eq. (8))."""
        t = np.asarray(t, dtype=float)
        t2 = t if t2 is None else np.asarray(t2, dtype=float)
        c = self.score_cov(x, t, x2, t2)
        f = np.broadcast_to(self.schedule.D(t) * self.schedule.D(t2), c.shape[:-2])
        return f[..., None, None] * c

    def training_variance(self) -> float:
        """``E_train[lam tr Var mu_hat(y,u)] = sum_d tr(G Cov_W[d,:,d,:])``: the size of V.

        Scales as ``F_eff / P`` times a feature-weighted average of ``lam Sigma_post``.
        """
        return float(sum(np.trace(self.G @ self.cov_W[d, :, d, :]) for d in range(self.dim)))

    def sample_weights(self, n: int, rng) -> np.ndarray:
        """``n`` draws of ``W ~ N(W*, Cov_W)``: shape ``(n, D, F)`` (Gaussian-field prediction)."""
        n = _check_pos_int(n, "n")
        return gaussian_weights(self.W_star, self.cov_W, n, rng)


def gaussian_weights(mean: np.ndarray, cov: np.ndarray, n: int, rng) -> np.ndarray:
    """Draws of ``N(mean, cov)`` for ``mean`` (D, F), ``cov`` (D, F, D, F) -> ``(n, D, F)``.

    The square root is taken by ``eigh`` with negative round-off eigenvalues clipped to 0.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    d, f = mean.shape
    c = cov.reshape(d * f, d * f)
    c = 0.5 * (c + c.T)
    ev, U = np.linalg.eigh(c)
    root = U * np.sqrt(np.clip(ev, 0, None))
    z = rng.standard_normal((n, d * f))
    return (mean.reshape(1, -1) + z @ root.T).reshape(n, d, f)


def linear_kernel(features, data, schedule, *, P: int, eps: float, T: float = 1.0,
                  ridge: float = 0.1, target: str = "proxy", filt: SpectralFilter | None = None,
                  offset=None, nodes: TrainingNodes | None = None, rng=None) -> LinearKernel:
    r"""Mean ``W*`` and covariance ``Cov_W`` of a linear denoiser trained on ``P`` DSM samples.

    Model (denoiser form, paper-math.md §5.1): ``mu_hat(x,t) = W phi(x,t) + f0(x,t)``,
    ``s_hat = (alpha_t mu_hat - x)/sigma_t^2``; weights ``lam = alpha^2/sigma^2``; training
    ``theta = h(G_hat) g_hat`` (default: ridge ``rho = ridge``, the paper's code). Returns the
    leading-order law ``W ~ N(W*, Cov_W)``:

    .. math::
        W_* = h(G)\,g,\qquad
        \mathrm{Cov}[W] = \tfrac1P\big(\mathbb E[\xi\xi^\top] - \mathbb E\xi\,\mathbb E\xi^\top\big),

    with the influence ``xi`` of the module docstring; for ridge and the proxy target this is
    ``(1/P)(Sigma+rho)^{-1} E[lam^2 phi phi^T ((m - W*phi)^2 + Sigma_post)] (Sigma+rho)^{-1}``
    minus the mean term: Prop. 5.1 / Eq. (13) as reconstructed in paper-math.md §5.4,
    derived here (new derivation; the paper's exact statement could not be read).

    ``target='proxy'`` is the DSM objective J1 (targets ``x0``); ``target='true'`` is J0
    (targets ``m(x,t)``, i.e. the true score): the ``Sigma_post`` (proxy-variance) term drops.
    ``features`` is any callable ``(x (n,D), t (n,)) -> (n, F)``; ``offset`` an optional
    callable ``-> (n, D)`` (the lazy network's output at initialisation). Runs with
    single-threaded BLAS (many small products; much faster on a shared 2-core machine).
    """
    with blas_threads(1):
        return _linear_kernel(features, data, schedule, P=P, eps=eps, T=T, ridge=ridge,
                              target=target, filt=filt, offset=offset, nodes=nodes, rng=rng)


def _linear_kernel(features, data, schedule, *, P, eps, T=1.0, ridge=0.1, target="proxy",
                   filt=None, offset=None, nodes=None, rng=None) -> LinearKernel:
    """Implementation of :func:`linear_kernel` (BLAS threads already limited)."""
    check_schedule(schedule)
    P = _check_pos_int(P, "P")
    mu = as_data(data)
    dim = mu.shape[1]
    if target not in ("proxy", "true"):
        raise ValueError(f"target must be 'proxy' (J1) or 'true' (J0), got {target!r}")
    if filt is None:
        filt = ridge_filter(ridge)
    if nodes is None:
        nodes = training_nodes(mu, schedule, eps, T, rng=rng)
    n = nodes.u.shape[0]
    # pass 1: population Gram matrix G and cross moment g
    F = None
    G = g = None
    for s in range(0, n, _CHUNK):
        sl = slice(s, min(n, s + _CHUNK))
        y, u = nodes.y[sl], nodes.u[sl]
        phi = _eval_features(features, y, u)
        if F is None:
            F = phi.shape[1]
            G = np.zeros((F, F))
            g = np.zeros((F, dim))
        f0 = _eval_offset(offset, y, u, dim)
        wl = nodes.w[sl] * nodes.lam[sl]
        G += (phi * wl[:, None]).T @ phi
        g += (phi * wl[:, None]).T @ (nodes.m[sl] - f0)
    G = 0.5 * (G + G.T)
    mu_eig, U = np.linalg.eigh(G)
    mu_eig = np.clip(mu_eig, 0, None)
    hv = filt.h(mu_eig)
    H = filt.divided_differences(mu_eig)
    c = U.T @ g  # (F, D)
    theta = U @ (hv[:, None] * c)  # (F, D)
    # pass 2: second moments of the influence xi (eigenbasis)
    Ea = np.zeros((F, dim))
    Eaa = np.zeros((F * dim, F * dim))
    Ebb = np.zeros((F, dim, F, dim))
    for s in range(0, n, _CHUNK):
        sl = slice(s, min(n, s + _CHUNK))
        y, u = nodes.y[sl], nodes.u[sl]
        phi = _eval_features(features, y, u)
        f0 = _eval_offset(offset, y, u, dim)
        lam = nodes.lam[sl]
        w = nodes.w[sl]
        v = phi @ U  # (n, F)
        hvv = v * hv[None, :]
        # a = lam [ (h o v)(m - f0)^T + v o (H (v o c)) ]
        vc = v[:, :, None] * c[None, :, :]  # (n, F, D)
        Hvc = np.einsum("kl,nld->nkd", H, vc, optimize=True)
        a = lam[:, None, None] * (hvv[:, :, None] * (nodes.m[sl] - f0)[:, None, :]
                                  + v[:, :, None] * Hvc)
        af = a.reshape(a.shape[0], -1)
        Ea += np.einsum("n,nfd->fd", w, a)
        Eaa += (af * w[:, None]).T @ af
        if target == "proxy":
            b = hvv * (lam * np.sqrt(w))[:, None]  # (n, F)
            for d1 in range(dim):
                for d2 in range(dim):
                    Ebb[:, d1, :, d2] += (b * nodes.cov[sl, d1, d2][:, None]).T @ b
    Eaa = Eaa.reshape(F, dim, F, dim)
    cov_mis = (Eaa - np.einsum("fd,ge->fdge", Ea, Ea)) / P
    cov_C = Ebb / P

    def rot(ct):  # eigenbasis (F,D,F,D) -> W layout (D,F,D,F)
        r = np.einsum("af,fdge,bg->adbe", U, ct, U, optimize=True)
        return np.ascontiguousarray(r.transpose(1, 0, 3, 2))

    cov_mis_W, cov_C_W = rot(cov_mis), rot(cov_C)
    cov_W = cov_mis_W + cov_C_W
    return LinearKernel(features=features, schedule=schedule, P=P, W_star=theta.T.copy(),
                        cov_W=cov_W, eig=mu_eig, filt=filt, target=target, G=G, offset=offset,
                        parts={"C_term": cov_C_W, "misspecification": cov_mis_W})


# ========================================================================================
# Empirical training with any spectral filter (for the lazy regime and checks)
# ========================================================================================
def sample_training_set(data, schedule, *, P: int, eps: float, T: float = 1.0, rng):
    """``P`` DSM samples: ``t ~ U[eps,T]``, ``x0`` uniform over the data, ``x ~ N(alpha x0, sigma^2)``.

    Returns ``(x (P,D), t (P,), x0 (P,D))``.
    """
    mu = as_data(data)
    P = _check_pos_int(P, "P")
    eps = _check_eps(eps, float(T))
    t = rng.uniform(eps, T, P)
    x0 = mu[rng.integers(0, mu.shape[0], P)]
    x = schedule.alpha(t)[:, None] * x0 + np.sqrt(schedule.sigma2(t))[:, None] * \
        rng.standard_normal(x0.shape)
    return x, t, x0


def train_filtered(features, data, schedule, *, P: int, eps: float, n_models: int,
                   filt: SpectralFilter, T: float = 1.0, target: str = "proxy", offset=None,
                   rng) -> np.ndarray:
    """Ensemble ``W`` ``(n_models, D, F)`` trained as ``theta = h(G_hat) g_hat`` (any filter).

    Each model uses its own stream ``rng.spawn``; ``target='true'`` regresses on ``m(x,t)``.
    For the ridge filter this is the paper's closed-form ridge solution.
    """
    n_models = _check_pos_int(n_models, "n_models")
    if target not in ("proxy", "true"):
        raise ValueError(f"target must be 'proxy' or 'true', got {target!r}")
    mu = as_data(data)
    P = _check_pos_int(P, "P")
    draws = [sample_training_set(mu, schedule, P=P, eps=eps, T=T, rng=r)
             for r in rng.spawn(n_models)]
    with blas_threads(1):
        return _train_batches(draws, features, mu, schedule, P, filt, target, offset)


def _train_batches(draws, features, mu, schedule, P, filt, target, offset):
    n_models = len(draws)
    out = []
    chunk = max(1, 2**22 // (P * 64))  # models per batch (bounded work arrays)
    for s0 in range(0, n_models, chunk):
        part = draws[s0:s0 + chunk]
        x = np.concatenate([d[0] for d in part])
        t = np.concatenate([d[1] for d in part])
        x0 = np.concatenate([d[2] for d in part])
        y = x0 if target == "proxy" else proxy.posterior_mean(x, t, mu, schedule)
        phi = _eval_features(features, x, t)
        lam = schedule.snr_weight(t)
        f0 = _eval_offset(offset, x, t, mu.shape[1])
        nb = len(part)
        phi = phi.reshape(nb, P, -1)
        lp = phi * lam.reshape(nb, P, 1)
        G = np.einsum("npf,npg->nfg", lp, phi) / P
        g = np.einsum("npf,npd->nfd", lp, (y - f0).reshape(nb, P, -1)) / P
        ev, U = np.linalg.eigh(0.5 * (G + np.swapaxes(G, 1, 2)))
        ev = np.clip(ev, 0, None)
        c = np.einsum("nfk,nfd->nkd", U, g) * filt.h(ev)[:, :, None]
        out.append(np.swapaxes(np.einsum("nfk,nkd->nfd", U, c), 1, 2))
    return np.concatenate(out)


# ========================================================================================
# Lazy / NTK regime: Prop. 5.2 / Eqs. (16)-(17) (reconstructed)
# ========================================================================================
class TwoLayerNet:
    r"""Two-layer ``tanh`` network for the 1-D denoiser, with an analytic Jacobian.

    ``f(x,t) = H^{-1/2} sum_h a_h tanh(w_h . z + b_h)``, input ``z = (x, c(t))`` with
    ``c(t) = 2 (log t - log eps)/(log T - log eps) - 1 in [-1, 1]``. Parameters
    ``theta = (a, w_x, w_t, b)`` (``4H``), NTK parametrisation, initialised with ``rng``:
    ``a, w ~ N(0, 1)``, ``b ~ N(0, bias_std^2)``. In the lazy regime the network is the linear
    model with features ``J(x,t) = df/dtheta`` and offset ``f0 = f(.; theta_0)``; the NTK is
    ``Theta(z, z') = J(z) . J(z')``.
    """

    def __init__(self, width: int, *, eps: float, T: float = 1.0, rng, bias_std: float = 1.0,
                 input_scale: float = 2.0):
        self.width = _check_pos_int(width, "width")
        self.T = float(T)
        self.eps = _check_eps(eps, self.T)
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng must be a numpy.random.Generator")
        self.a = rng.standard_normal(self.width)
        self.wx = input_scale * rng.standard_normal(self.width)
        self.wt = input_scale * rng.standard_normal(self.width)
        self.b = bias_std * rng.standard_normal(self.width)
        self.dim = 1

    @property
    def n_params(self) -> int:
        return 4 * self.width

    @property
    def n_features(self) -> int:
        return self.n_params

    def _pre(self, x, t):
        x = np.asarray(x, dtype=float).reshape(-1)
        t = np.asarray(t, dtype=float).reshape(-1)
        c = 2 * (np.log(t) - np.log(self.eps)) / (np.log(self.T) - np.log(self.eps)) - 1
        pre = x[:, None] * self.wx + c[:, None] * self.wt + self.b
        return x, c, pre

    def __call__(self, x, t) -> np.ndarray:
        """Network output ``f(x,t; theta_0)``, shape ``(n, 1)``."""
        _, _, pre = self._pre(x, t)
        return (np.tanh(pre) @ self.a / np.sqrt(self.width))[:, None]

    def jacobian(self, x, t) -> np.ndarray:
        """``df/dtheta`` at theta_0, shape ``(n, 4H)``, order ``(a, w_x, w_t, b)``."""
        x, c, pre = self._pre(x, t)
        th = np.tanh(pre)
        dth = (1 - th**2) * self.a
        s = 1 / np.sqrt(self.width)
        return s * np.concatenate([th, dth * x[:, None], dth * c[:, None], dth], axis=1)

    def ntk(self, x, t, x2, t2) -> np.ndarray:
        """``Theta((x,t),(x2,t2)) = J(x,t) J(x2,t2)^T`` (matrix over the two point sets)."""
        return self.jacobian(x, t) @ self.jacobian(x2, t2).T


def ntk_kernel(net: TwoLayerNet, data, schedule, *, P: int, tau: float, eps: float,
               T: float = 1.0, target: str = "proxy", nodes=None) -> LinearKernel:
    r"""Lazy-regime law of the network after gradient flow for time ``tau`` (Prop. 5.2, reconstructed).

    Gradient flow on ``(1/2P) sum_i lam_i (f(z_i) - x0_i)^2`` for the linearised network gives
    ``theta_tau - theta_0 = h_tau(G_hat) g_hat`` with ``h_tau(mu) = (1 - e^{-tau mu})/mu``, i.e.
    in function space ``f_tau = f0 + Theta(., X) Theta_XX^{-1} (I - e^{-tau Theta_XX Lam/P})
    (y - f0(X))``. Mean and ``1/P`` covariance follow from :func:`linear_kernel` with features
    ``J`` and offset ``f0``. Limits: ``tau -> 0``: ``Cov -> (tau^2/P) Cov[lam J (x0 - f0)]``
    (:func:`ntk_small_tau_cov`); ``tau -> inf``: unregularised least squares in the tangent
    space (pass ``tau=np.inf``), the finite-width counterpart of Eq. (17).
    """
    if getattr(net, "dim", 1) != 1 or as_data(data).shape[1] != 1:
        raise ValueError("ntk_kernel supports 1-D data only (D = 1)")
    return linear_kernel(net.jacobian, data, schedule, P=P, eps=eps, T=T,
                         filt=gradient_flow_filter(tau), offset=net, target=target, nodes=nodes)


def ntk_small_tau_cov(net: TwoLayerNet, data, schedule, *, P: int, eps: float, T: float = 1.0,
                      nodes=None) -> np.ndarray:
    r"""``lim_{tau->0} Cov[theta_tau]/tau^2 = (1/P) Cov[lam J (x0 - f0)]`` (shape ``(p, p)``).

    In function space: ``V ~ (tau^2/P) D_t E[lam^2 Theta C Theta] D_t'`` minus the mean term
    (paper-math.md §6, tau -> 0 limit).
    """
    mu = as_data(data)
    if nodes is None:
        nodes = training_nodes(mu, schedule, eps, T)
    J = net.jacobian(nodes.y, nodes.u)
    f0 = net(nodes.y, nodes.u)[:, 0]
    lam, w = nodes.lam, nodes.w
    resid = nodes.m[:, 0] - f0
    a = J * (lam * resid)[:, None]
    Ea = w @ a
    E2 = (a * w[:, None]).T @ a + (J * (lam**2 * w * nodes.cov[:, 0, 0])[:, None]).T @ J
    return (E2 - np.outer(Ea, Ea)) / _check_pos_int(P, "P")


# ========================================================================================
# Symbolic forms
# ========================================================================================
def sym_gradient_flow_filter() -> sp.Expr:
    r"""``h_tau(mu) = (1 - e^{-tau mu}) / mu``: the gradient-flow spectral filter (reconstructed)."""
    return (1 - sp.exp(-S.tau * S.mu_k)) / S.mu_k


def sym_filter_limits() -> dict[str, sp.Expr]:
    r"""Limits of the gradient-flow filter, checked by SymPy.

    ``tau -> 0``: ``h ~ tau`` (``Cov ~ tau^2``); ``tau -> inf``: ``h -> 1/mu`` (least squares);
    the ridge filter ``1/(mu + rho)`` tends to ``1/mu`` as ``rho -> 0``; the Daleckii-Krein
    divided difference of the ridge filter is ``-h(mu_k) h(mu_l)``.
    """
    h = sym_gradient_flow_filter()
    mpos = sp.Dummy("mu", positive=True)  # limits in tau need mu > 0 (mu = 0: h = tau exactly)
    hp = h.subs(S.mu_k, mpos)
    ridge = 1 / (S.mu_k + S.rho)
    ridge_l = ridge.subs(S.mu_k, S.mu_l)
    return {
        "tau->0 of h/tau": sp.limit(hp / S.tau, S.tau, 0),
        "tau->oo of h*mu": sp.limit(hp * mpos, S.tau, sp.oo),
        "rho->0 of ridge": sp.limit(ridge, S.rho, 0),
        "ridge divided difference + h_k h_l": sp.simplify(
            (ridge - ridge_l) / (S.mu_k - S.mu_l) + ridge * ridge_l),
        "mu->0 of h": sp.limit(h, S.mu_k, 0),
    }


def sym_linear_cov_W(n_features: int = 2) -> sp.Matrix:
    r"""Symbolic ``Cov[W] = (1/P) B^{-1} E[zeta zeta^T] B^{-1}``, 1-D ridge model (Prop. 5.1, reconstructed).

    ``B = Sigma + rho I`` and ``E[zeta zeta^T]`` minus the mean term are kept as generic
    symmetric matrices ``Sigma``, ``K`` of size ``n_features`` (``K = Cov[lam phi (x0 - W* phi)]``).
    """
    F = _check_pos_int(n_features, "n_features")
    Sig = sp.Matrix(F, F, lambda i, j: sp.Symbol(f"Sigma_{min(i, j) + 1}{max(i, j) + 1}", real=True))
    K = sp.Matrix(F, F, lambda i, j: sp.Symbol(f"K_{min(i, j) + 1}{max(i, j) + 1}", real=True))
    B = Sig + S.rho * sp.eye(F)
    Binv = B.inv()
    return (Binv * K * Binv / S.P).applyfunc(sp.simplify)


_k = sp.Function("k")  # filtered feature kernel k(x,t;y,u)
_r = sp.Function("r")  # approximation residual
_Sp = sp.Function(r"Sigma_post")
_E = sp.Function(r"E_{u,y}")


def sym_linear_V() -> sp.Expr:
    r"""Reconstructed linear-model V-kernel (Prop. 5.1 / Eq. (13); paper-math.md §5.4), 1-D, denoiser form.

    ``V = D_t D_t' alpha_t alpha_t' / (S_t S_t') (1/P) { E[lam_u^2 k(x,t;y,u) k(y,u;x',t')
    (Sigma_post(y,u) + r(y,u)^2)] - m(x,t) m(x',t') }`` with ``k = phi^T h(Sigma) phi``.
    The expectation is written as a formal function ``E_{u,y}``.
    """
    t, tp = S.t, S.t_prime
    x, xp = sp.Symbol("x", real=True), sp.Symbol("x'", real=True)
    y = sp.Symbol("y", real=True)
    u = S.u
    lam_u = S.alpha_f(u) ** 2 / S.S_f(u)
    inner = lam_u**2 * _k(x, t, y, u) * _k(y, u, xp, tp) * (_Sp(y, u) + _r(y, u) ** 2)
    mfun = sp.Function("m_k")
    pref = S.D_f(t) * S.D_f(tp) * S.alpha_f(t) * S.alpha_f(tp) / (S.S_f(t) * S.S_f(tp))
    return pref / S.P * (_E(inner) - mfun(x, t) * mfun(xp, tp))


def sym_ntk_V() -> sp.Expr:
    r"""Reconstructed lazy-regime V-kernel in the NTK eigenbasis (Prop. 5.2 / Eq. (16)), 1-D, C-term.

    ``V = D_t D_t' alpha alpha'/(S S') (1/P) sum_{k,l} h_tau(mu_k) h_tau(mu_l) e_k(x,t)
    E[lam^2 e_k e_l Sigma_post] e_l(x',t')``, written for one pair ``(k, l)``.
    """
    t, tp = S.t, S.t_prime
    x, xp = sp.Symbol("x", real=True), sp.Symbol("x'", real=True)
    e = sp.Function("e")
    Ekl = sp.Symbol("E_kl", real=True)
    h = sym_gradient_flow_filter()
    hl = h.subs(S.mu_k, S.mu_l)
    pref = S.D_f(t) * S.D_f(tp) * S.alpha_f(t) * S.alpha_f(tp) / (S.S_f(t) * S.S_f(tp))
    return pref / S.P * h * hl * e(x, t) * Ekl * e(xp, tp)


def latex_forms() -> dict[str, str]:
    """LaTeX of every symbolic V-kernel form (via :func:`gtv_symbolic.symbols.latex`)."""
    return {
        "naive_V (Prop. 4.1, Eq. (9))": S.latex(sym_naive_V()),
        "naive step covariance": S.latex(sym_naive_step_covariance()),
        "linear V (Prop. 5.1, Eq. (13), reconstructed)": S.latex(sym_linear_V()),
        "gradient-flow filter (Prop. 5.2, reconstructed)": S.latex(sym_gradient_flow_filter()),
        "NTK V (Prop. 5.2, Eq. (16), reconstructed)": S.latex(sym_ntk_V()),
    }
