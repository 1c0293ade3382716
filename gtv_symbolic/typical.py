r"""The typical (ensemble-average) learned distribution ``[q(x0)]``, predicted from V-kernels.

Prop. 3.1: under the Gaussian (second-cumulant) truncation, ``[q(x0 | x_T)]`` is the
output law of the PF-ODE driven by a Gaussian random score field with the mean and covariance
of a :class:`~gtv_symbolic.kernels.VKernel`. This module turns kernels into distributions
(predictors only; distances and summaries are in :mod:`gtv_symbolic.metrics`, samplers in
:mod:`gtv_symbolic.solvers`):

* **Gaussian fields** (linear models): ``W ~ N(W*, Cov_W)`` pushed through the same sampler
  as the trained ensembles (:func:`gaussian_field_weights`, :func:`moment_matched_weights`).
* **Naive estimator** (Prop. 4.1): Euler-Maruyama of
  ``x_{k+1} = x_k + h_k v(x_k) + sqrt(kappa |h_k|) D (s~(x0) - s)`` with fresh posterior draws
  (:func:`naive_em`), and the 1-D Fokker-Planck equation of its diffusion limit

  .. math::  \partial_\tau q = \partial_x[v\, q] + \tfrac12 \partial_x^2[\kappa D^2 C\, q],
             \qquad \tau = T - t

  (:func:`naive_fokker_planck`; implicit Euler, Scharfetter-Gummel fluxes, mass-conserving).
* **Small-noise (semiclassical) approximation** (a linear-noise approximation, checked in the
  derivation `small-noise`; not claimed to be the paper's own formula): linearise the sampler around the
  mean path, so each seed ``x_T`` lands at ``N(X(x_T), v(x_T))``
  (:func:`semiclassical_linear`, :func:`semiclassical_naive`). Valid while ``sqrt(v)`` is small
  against the mode separation and away from the separatrices of the mean flow, i.e.
  ``kappa = F/P << 1``; it fails for paths that start near a separatrix and at ``F/P >~ 1``.

All predictors take a validated :class:`~gtv_symbolic.grids.TimeGrid` (``T`` down to ``eps``)
and use the one PF-ODE vector field :func:`gtv_symbolic.solvers.velocity`.

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic import schedules
>>> from gtv_symbolic.grids import TimeGrid
>>> from gtv_symbolic.kernels import NaiveKernel
>>> grid = TimeGrid.geometric(schedules.VP(), 2e-2, n_steps=200)
>>> x, q = naive_fokker_planck(NaiveKernel([[-1.0], [1.0]], grid.schedule, 0.5), grid)
>>> round(float(q.sum() * (x[1] - x[0])), 9)
1.0
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_banded

from . import proxy
from ._validate import MAX_MODELS, finite_array, int_arg, real_arg
from .denoisers import ExactDenoiser
from .kernels import NaiveKernel, VKernel
from .solvers import velocity, velocity_jacobian
from .solvers.pf_ode import check_grid

__all__ = [
    "gaussian_field_weights", "moment_matched_weights",
    "naive_step", "naive_em", "naive_fokker_planck",
    "mean_flow", "semiclassical_linear", "semiclassical_naive",
]


# ----------------------------------------------------------------------------------------
# Gaussian fields
# ----------------------------------------------------------------------------------------
def gaussian_field_weights(kernel: VKernel, n_models: int, rng) -> np.ndarray:
    r"""``n_models`` draws of the kernel's Gaussian field parameters (``W ~ N(W*, Cov_W)``).

    Each draw is one Gaussian score field ``s = (alpha (W phi) - x)/sigma^2`` with the predicted
    mean and covariance (Prop. 3.1 with the linear-model kernel, Prop. 5.1).
    """
    if not isinstance(kernel, VKernel):
        raise TypeError(f"kernel must be a VKernel, got {type(kernel).__name__}")
    return kernel.sample_weights(n_models, rng)


def moment_matched_weights(W, n_models: int, rng) -> np.ndarray:
    r"""Gaussian with the empirical mean and covariance of a trained ensemble ``W (N, D, F)``.

    Drawn as ``mean + z^T A / sqrt(N - 1)`` with the centred ensemble ``A`` and
    ``z ~ N(0, I_N)``: exactly ``N(mean, cov)`` with ``cov = A^T A/(N-1)``, and linear (so
    continuous) in ``W``. Comparing it with the ensemble isolates the higher cumulants
    (Gaussian truncation of Prop. 3.1); with :func:`gaussian_field_weights`, the error of the
    leading-order ``1/P`` covariance.
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


# ----------------------------------------------------------------------------------------
# Naive estimator: Euler-Maruyama and Fokker-Planck
# ----------------------------------------------------------------------------------------
def _check_naive(kernel):
    if not isinstance(kernel, NaiveKernel):
        raise TypeError(f"kernel must be a kernels.NaiveKernel, got {type(kernel).__name__}")
    return kernel


def _draw_posterior(x, t, mu, schedule, rng):
    w = proxy.posterior_weights(x, t, mu, schedule)
    cum = np.cumsum(w, axis=-1)
    r = rng.uniform(size=w.shape[:-1] + (1,)) * cum[..., -1:]
    idx = np.minimum((r > cum).sum(axis=-1), mu.shape[0] - 1)
    return mu[idx]


def naive_step(kernel: NaiveKernel, x, t: float, dt: float, rng):
    r"""One reverse Euler-Maruyama step of the naive estimator (Prop. 4.1).

    ``x <- x - dt v(x, t) + sqrt(kappa dt) D_t (s~(x, t; x0) - s)`` with a fresh
    ``x0 ~ p(x0 | x, t)`` per point and the exact-score velocity ``v``; the increment has mean
    ``-dt v`` and covariance ``kappa dt D^2 C`` (Prop. 4.1). ``x (n, D)``, ``dt > 0``.
    """
    _check_naive(kernel)
    mu, sched = kernel.data, kernel.schedule
    x = np.asarray(x, dtype=float)
    t = real_arg(t, "t")
    dt = real_arg(dt, "dt", 0.0, t, lo_open=True)  # the step lands at t - dt >= 0
    a, s2 = float(sched.alpha(t)), float(sched.sigma2(t))
    b, d = float(sched.beta(t)), float(sched.D(t))
    m = proxy.posterior_mean(x, t, mu, sched)
    out = x - dt * velocity(m, x, a, s2, b, d)
    if kernel.kappa == 0:
        return out
    x0 = _draw_posterior(x, t, mu, sched, rng)
    noise = a * (x0 - m) / s2  # s~ - s
    return out + np.sqrt(kernel.kappa * dt) * d * noise


def naive_em(kernel: NaiveKernel, grid, *, n_samples: int, rng, x_T=None):
    r"""Samples of the naive estimator's output law by Euler-Maruyama on ``grid`` (Prop. 4.1).

    Seeds ``x_T ~ N(0, sigma_T^2 I)`` (or ``x_T``); returns ``(n_samples, D)``.
    """
    _check_naive(kernel)
    ts = check_grid(grid).ts
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    n_samples = int_arg(n_samples, "n_samples", 1, 10**7)
    D = kernel.dim
    if x_T is None:
        x = np.sqrt(grid.sigma2[0]) * rng.standard_normal((n_samples, D))
    else:
        x = np.array(x_T, dtype=float).reshape(n_samples, D)
    for k in range(len(ts) - 1):
        x = naive_step(kernel, x, ts[k], ts[k] - ts[k + 1], rng)
    return x


def _sg_coefficients(a, d, dx):
    """Scharfetter-Gummel flux ``J = cp q_i - cm q_{i+1}`` for ``J = a q - d q'`` on one face.

    ``cp = (d/dx) B(-Pe)``, ``cm = (d/dx) B(Pe)``, ``Pe = a dx / d``, ``B(z) = z/(e^z - 1)``;
    written as ``cp = a / (1 - e^{-Pe})``, ``cm = a / (e^{Pe} - 1)`` so that ``|Pe| -> inf``
    (``d -> 0``) tends to exact upwinding instead of overflowing.
    """
    pos = d > 0
    dsafe = np.where(pos, d, 1.0)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        pe = np.where(pos, a * dx / dsafe, np.where(a >= 0, np.inf, -np.inf))
        small = np.abs(pe) < 1e-6
        pes = np.where(small, 1.0, pe)
        cp = np.where(small, dsafe / dx * (1 + pe / 2), a / -np.expm1(-pes))
        cm = np.where(small, dsafe / dx * (1 - pe / 2), a / np.expm1(pes))
    zero = (~pos) & (a == 0)
    cp = np.where(zero, 0.0, np.where(np.isfinite(cp), cp, 0.0))
    cm = np.where(zero, 0.0, np.where(np.isfinite(cm), cm, 0.0))
    return cp, cm


def naive_fokker_planck(kernel: NaiveKernel, grid, *, x=None, dx: float | None = None,
                        x_max: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    r"""1-D density of the naive estimator's output by a Fokker-Planck solve (Prop. 4.1).

    Reverse time ``tau = T - t``: ``d_tau q = -d_x[a q] + d_x^2[d q]`` with ``a = -v`` (the
    exact-score PF-ODE velocity) and ``d = kappa D_t^2 C(x,t) / 2`` (Ito), from
    ``q_T = N(0, sigma_T^2)`` along ``grid`` (a geometric grid suits it). Finite volumes on
    ``[-x_max, x_max]`` with zero-flux ends, Scharfetter-Gummel (exponentially fitted) fluxes,
    implicit Euler: positive and mass-conserving. ``kappa = 0`` gives the exact-score PF-ODE,
    i.e. ``p(x|eps)`` up to discretisation. Returns ``(x, q(x))`` (on ``x`` when given, else
    on the cell centres).
    """
    x = None if x is None else finite_array(x, "x")
    _check_naive(kernel)
    ts = check_grid(grid).ts
    mu, schedule, kappa = kernel.data, kernel.schedule, kernel.kappa
    if mu.shape[1] != 1:
        raise ValueError(f"naive_fokker_planck is 1-D only; data has D = {mu.shape[1]}")
    sig_eps = float(np.sqrt(grid.sigma2[-1]))
    if dx is None:
        dx = min(0.01, sig_eps / 8)
    if not (np.isfinite(dx) and 0 < dx <= 0.1):
        raise ValueError(f"dx must lie in (0, 0.1], got {dx!r}")
    if not (np.isfinite(x_max) and x_max > 0):
        raise ValueError(f"x_max must be finite and > 0, got {x_max!r}")
    n_cells = int(np.ceil(2 * x_max / dx))
    if n_cells > 200_000:
        raise ValueError(f"grid too fine: {n_cells} cells (dx = {dx:g}); at most 200000")
    xc = -x_max + dx * (np.arange(n_cells) + 0.5)
    xf = -x_max + dx * np.arange(1, n_cells)  # interior faces
    q = np.exp(-xc**2 / (2 * grid.sigma2[0]))
    q /= q.sum() * dx
    den = ExactDenoiser(mu, schedule)
    for k in range(len(ts) - 1):
        tn = ts[k + 1]
        dtau = ts[k] - tn
        c = grid.coefficients(k + 1)
        a = -velocity(den(xf[:, None], tn)[:, 0], xf, *c)
        if kappa > 0:
            dc = 0.5 * kernel.V(xc[:, None], tn)[:, 0, 0]
            dface = 0.5 * (dc[1:] + dc[:-1])
            aeff = a - (dc[1:] - dc[:-1]) / dx
        else:
            dface = np.zeros_like(a)
            aeff = a
        cp, cm = _sg_coefficients(aeff, dface, dx)  # J_{i+1/2} = cp q_i - cm q_{i+1}
        # dq_i/dtau = -(J_{i+1/2} - J_{i-1/2}) / dx ; implicit Euler (I - dtau L) q_new = q
        r = dtau / dx
        diag = np.ones(n_cells)
        diag[:-1] += r * cp
        diag[1:] += r * cm
        ab = np.zeros((3, n_cells))
        ab[0, 1:] = -r * cm  # coefficient of q_{i+1} in row i
        ab[1] = diag
        ab[2, :-1] = -r * cp  # coefficient of q_{i-1} in row i
        q = solve_banded((1, 1), ab, q)
        q = np.clip(q, 0, None)
    q /= q.sum() * dx
    if x is None:
        return xc, q
    x = np.asarray(x, dtype=float)
    return x, np.interp(x, xc, q, left=0.0, right=0.0)


# ----------------------------------------------------------------------------------------
# Small-noise (semiclassical) approximation
# ----------------------------------------------------------------------------------------
def mean_flow(denoiser, x_T, grid):
    """Euler PF-ODE ``x_{k+1} = x_k + h_k v(x_k, t_k)`` of a 1-D denoiser, with its step gains.

    Returns ``(path (K+1, n), gain (K, n))``, ``gain_k = 1 + h_k dv/dx`` (so
    ``dX/dx_T = prod_k gain_k``); the denoiser must provide ``value_and_jacobian``.
    """
    ts = check_grid(grid).ts
    x = finite_array(x_T, "x_T").reshape(-1, 1).copy()
    path, gains = [x[:, 0].copy()], []
    for k in range(len(ts) - 1):
        h = ts[k + 1] - ts[k]
        c = grid.coefficients(k)
        m, J = denoiser.value_and_jacobian(x, ts[k])
        gains.append(1 + h * velocity_jacobian(J, *c)[:, 0, 0])
        x = x + h * velocity(m, x, *c)
        path.append(x[:, 0].copy())
    return np.array(path), np.array(gains)


def _mixture_density(x, centres, variances, weights):
    """``sum_j w_j N(x; X_j, v_j + h_j^2)``; ``h_j`` = half the local spacing of the end points
    (a kernel width that resolves the deterministic push-forward when ``v_j`` is tiny)."""
    c = np.asarray(centres, dtype=float)
    h = np.empty_like(c)
    h[1:-1] = 0.5 * np.abs(c[2:] - c[:-2])
    h[0], h[-1] = np.abs(c[1] - c[0]), np.abs(c[-1] - c[-2])
    v = np.asarray(variances, dtype=float) + (0.5 * h) ** 2 + 1e-300
    z = (x[:, None] - centres[None, :]) ** 2 / (2 * v[None, :])
    return (np.exp(-z) / np.sqrt(2 * np.pi * v[None, :])) @ weights


def _seed_quadrature(grid, n_seeds):
    n_seeds = int_arg(n_seeds, "n_seeds", 3, 10**6)
    z = np.linspace(-6, 6, n_seeds)
    w = np.exp(-z**2 / 2)
    return float(np.sqrt(grid.sigma2[0])) * z, w / w.sum()


def _propagated(grid, gains, coef):
    """``c_k = (prod_{j>k} gain_j) * coef_k`` for every step ``k`` (built backwards)."""
    K = gains.shape[0]
    out = np.empty_like(gains)
    prop = np.ones_like(gains[0])
    for k in range(K - 1, -1, -1):
        out[k] = prop * coef[k]
        prop = prop * gains[k]
    return out


def semiclassical_linear(kernel: VKernel, grid, x, *, n_seeds: int = 4001,
                         min_var: float = 0.0):
    r"""Small-noise prediction of ``[q]`` for a random-field denoiser (1-D; reconstructed).

    Linearise the Euler sampler around the mean model: a fluctuation ``d mu`` of the
    denoiser at step ``k`` moves the end point by ``c_k d mu(x_k, t_k)`` with
    ``c_k = (prod_{j>k} gain_j) |h_k| D_k alpha_k / sigma_k^2``, so
    ``x_eps | x_T ~ N(X(x_T), Var[sum_k c_k mu_hat(x_k, t_k)])``
    (:meth:`VKernel.functional_variance`) and ``[q](x) = E_{x_T}[N(x; X, v)]``: the
    Gaussian-fluctuation evaluation of the MSR integral around the classical path (a
    linear-noise approximation, derivation `small-noise`). Valid for ``sqrt(v) <<`` mode separation (module docstring).
    Returns ``(density on x, details dict)``.
    """
    x = finite_array(x, "x")  # before the long computation
    if not isinstance(kernel, VKernel):
        raise TypeError(f"kernel must be a VKernel, got {type(kernel).__name__}")
    if kernel.dim != 1:
        raise ValueError("semiclassical_linear is 1-D only")
    ts = check_grid(grid).ts
    xT, wT = _seed_quadrature(grid, n_seeds)
    path, gains = mean_flow(kernel.mean_denoiser(), xT, grid)
    K = len(ts) - 1
    coef = (-np.diff(ts) * grid.D[:-1] * grid.alpha[:-1] / grid.sigma2[:-1])[:, None]
    c = _propagated(grid, gains, np.broadcast_to(coef, gains.shape))  # (K, n)
    v = kernel.functional_variance(path[:K].T[:, :, None], ts[:K], c.T[:, :, None]) + min_var
    x = np.asarray(x, dtype=float)
    dens = _mixture_density(x, path[-1], v, wT)
    return dens, {"x_T": xT, "x_end": path[-1], "var": v, "weight": wT,
                  "dXdxT": np.prod(gains, axis=0)}


def semiclassical_naive(kernel: NaiveKernel, grid, x, *, n_seeds: int = 4001):
    r"""Small-noise (linear-noise) prediction for the naive estimator (1-D; reconstructed).

    ``v(x_T) = sum_k (prod_{j>k} gain_j)^2 |h_k| kappa D_k^2 C(x_k, t_k)`` along the exact-score
    PF-ODE path; ``[q](x) = E_{x_T} N(x; X(x_T), v(x_T))``. Same stated range as
    :func:`semiclassical_linear`. Returns ``(density, details)``.
    """
    x = finite_array(x, "x")  # before the long computation
    _check_naive(kernel)
    ts = check_grid(grid).ts
    if kernel.dim != 1:
        raise ValueError("semiclassical_naive is 1-D only")
    xT, wT = _seed_quadrature(grid, n_seeds)
    path, gains = mean_flow(ExactDenoiser(kernel.data, kernel.schedule), xT, grid)
    v = np.zeros_like(xT)
    prop = np.ones_like(xT)
    for k in range(len(ts) - 2, -1, -1):
        dt = ts[k] - ts[k + 1]
        v += prop**2 * dt * kernel.V(path[k][:, None], ts[k])[:, 0, 0]
        prop = prop * gains[k]
    x = np.asarray(x, dtype=float)
    return _mixture_density(x, path[-1], v, wT), {"x_T": xT, "x_end": path[-1], "var": v,
                                                   "weight": wT}
