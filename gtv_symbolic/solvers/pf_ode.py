r"""The PF-ODE vector field, its Euler/Heun integrators, the reverse SDE, and the ODE density.

One vector field, in one sign convention (``t`` runs forward; samplers step with negative
``h_k = t_{k+1} - t_k``). With a denoiser ``mu`` and Tweedie's score
``s = (alpha_t mu - x)/sigma_t^2`` (paper Sec. 2):

.. math::  v(x, t) = \frac{dx}{dt} = -\beta_t x - D_t\,\frac{\alpha_t \mu(x, t) - x}{\sigma_t^2},
           \qquad
           \frac{\partial v}{\partial x} = -\beta_t I - \frac{D_t}{\sigma_t^2}
           \Big(\alpha_t \frac{\partial \mu}{\partial x} - I\Big).

* :func:`integrate_pf_ode` -- Euler ``x_{k+1} = x_k + h_k v(x_k, t_k)`` (the paper's
  ``sample_PF_ODE_*``) or Heun (explicit trapezoid, second order), optionally with the exact
  derivative ``d x_eps / d x_T`` of the discrete map (chain rule);
* :func:`sample_reverse_sde` -- Euler-Maruyama of ``dx = (v - D s) dt + sqrt(2 D) dW``
  (drift ``2 v + beta x``);
* :func:`ode_log_density` -- ``log q_eps(x) = log N(x_T; 0, sigma_T^2) + int_eps^T div v dt``
  (instantaneous change of variables, RK4).

Every function takes a validated :class:`~gtv_symbolic.grids.TimeGrid` built once by the
caller; the denoiser is evaluated exactly at the current positions (the paper's code read it
off a 200-point grid by nearest-neighbour lookup, which left spikes in its figures).

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic import schedules
>>> from gtv_symbolic.denoisers import ExactDenoiser
>>> from gtv_symbolic.grids import TimeGrid
>>> grid = TimeGrid.linear(schedules.VP(), eps=1e-2, n_steps=30)
>>> x = sample_pf_ode(ExactDenoiser([[-1.0], [1.0]], grid.schedule), grid, n_samples=4,
...                   rng=np.random.default_rng(0))
>>> x.shape, bool(np.all(np.abs(np.abs(x) - 1) < 0.2))
((4, 1), True)
"""

from __future__ import annotations

import numpy as np

from .._validate import MAX_MODELS, MAX_SAMPLES, int_arg
from ..grids import TimeGrid

__all__ = ["velocity", "velocity_jacobian", "velocity_divergence", "affine_coefficients",
           "pf_ode_drift", "integrate_pf_ode", "initial_samples", "sample_pf_ode",
           "sample_reverse_sde", "ode_log_density", "check_grid", "METHODS", "MAX_POINTS"]

METHODS = ("euler", "heun")
#: Largest lattice / sample batch held at once (float64 elements per coordinate).
MAX_POINTS = MAX_SAMPLES


def velocity(mu, x, alpha, sigma2, beta, D):
    """``v = -beta x - D (alpha mu - x) / sigma^2`` (the PF-ODE vector field)."""
    return -beta * x - D * (alpha * mu - x) / sigma2


def velocity_jacobian(J, alpha, sigma2, beta, D):
    """``dv/dx = -beta I - D (alpha J - I) / sigma^2`` for ``J = d mu/dx`` of shape ``(..., D, D)``."""
    eye = np.eye(np.shape(J)[-1])
    return -beta * eye - D * (alpha * J - eye) / sigma2


def velocity_divergence(div_mu, dim, alpha, sigma2, beta, D):
    """``div v = -beta dim - D (alpha div mu - dim) / sigma^2`` (trace of :func:`velocity_jacobian`)."""
    return -beta * dim - D * (alpha * div_mu - dim) / sigma2


def affine_coefficients(grid: TimeGrid):
    """``(c1, c2)`` per Euler step with ``x + h v = c1 x + c2 mu`` (the compiled sampler's form).

    ``c1 = 1 + h (D/sigma^2 - beta)``, ``c2 = -h D alpha / sigma^2`` at ``t_k``.
    """
    check_grid(grid)
    h = grid.h
    a, s2, b, Dc = (getattr(grid, k)[:-1] for k in ("alpha", "sigma2", "beta", "D"))
    return 1.0 + h * (Dc / s2 - b), -h * Dc * a / s2


def check_grid(grid) -> TimeGrid:
    """TypeError unless ``grid`` is a :class:`~gtv_symbolic.grids.TimeGrid`."""
    if not isinstance(grid, TimeGrid):
        raise TypeError(f"grid must be a gtv_symbolic.grids.TimeGrid (e.g. TimeGrid.linear("
                        f"schedule, eps, T, n_steps)), got {type(grid).__name__}")
    return grid


def pf_ode_drift(denoiser, x, grid: TimeGrid, k: int) -> np.ndarray:
    """:func:`velocity` of ``denoiser`` at ``x`` and the grid's ``k``-th time."""
    return velocity(denoiser(x, grid.ts[k]), x, *grid.coefficients(k))


def _drift_and_jac(denoiser, x, grid, k):
    mu, J = denoiser.value_and_jacobian(x, grid.ts[k])
    c = grid.coefficients(k)
    return velocity(mu, x, *c), velocity_jacobian(J, *c)


def _check_x(x, name="x_T"):
    x = np.array(x, dtype=float, copy=True)
    if x.ndim < 1 or not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be a finite array of shape (..., D)")
    return x


def integrate_pf_ode(denoiser, x_T, grid: TimeGrid, *, method: str = "euler",
                     jacobian: bool = False):
    r"""Integrate the PF-ODE from ``x_T`` at ``grid.ts[0]`` to ``grid.ts[-1]``; returns ``x_eps``.

    ``method='euler'``: ``x <- x + h_k v(x, t_k)``; ``'heun'``: explicit trapezoidal rule.
    With ``jacobian=True`` also returns ``d x_eps / d x_T`` (``(..., D, D)``), propagated step
    by step (needs ``denoiser.value_and_jacobian``).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    g = check_grid(grid).ts
    x = _check_x(x_T)
    if jacobian:
        J = np.broadcast_to(np.eye(x.shape[-1]), x.shape + (x.shape[-1],)).copy()
    for k in range(g.size - 1):
        h = g[k + 1] - g[k]
        if not jacobian:
            f0 = pf_ode_drift(denoiser, x, grid, k)
            if method == "euler":
                x = x + h * f0
            else:
                x1 = x + h * f0
                x = x + 0.5 * h * (f0 + pf_ode_drift(denoiser, x1, grid, k + 1))
            continue
        f0, A0 = _drift_and_jac(denoiser, x, grid, k)
        if method == "euler":
            x, J = x + h * f0, J + h * (A0 @ J)
        else:
            x1, J1 = x + h * f0, J + h * (A0 @ J)
            f1, A1 = _drift_and_jac(denoiser, x1, grid, k + 1)
            x, J = x + 0.5 * h * (f0 + f1), J + 0.5 * h * (A0 @ J + A1 @ J1)
    return (x, J) if jacobian else x


def initial_samples(grid: TimeGrid, *, n_samples: int, dim: int, rng: np.random.Generator,
                    n_models: int | None = None) -> np.ndarray:
    """``x_T ~ N(0, sigma_T^2 I)`` at ``T = grid.ts[0]``: ``(n_models, n_samples, dim)``.

    Without ``n_models`` the shape is ``(n_samples, dim)``.
    """
    check_grid(grid)
    n_samples = int_arg(n_samples, "n_samples", 1, MAX_POINTS)
    dim = int_arg(dim, "dim", 1, 1000)
    shape = (n_samples, dim) if n_models is None else (int_arg(n_models, "n_models", 1, MAX_MODELS),
                                                       n_samples, dim)
    if np.prod(shape) > MAX_POINTS:
        raise ValueError(f"n_models * n_samples * dim = {np.prod(shape)} exceeds {MAX_POINTS}; "
                         f"sample in batches")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    return np.sqrt(grid.sigma2[0]) * rng.standard_normal(shape)


def _dims(denoiser, dim, n_models):
    dim = dim if dim is not None else getattr(denoiser, "dim", None)
    if dim is None:
        raise ValueError("dim must be given for a denoiser without a .dim attribute")
    return dim, (n_models if n_models is not None else getattr(denoiser, "n_models", None))


def sample_pf_ode(denoiser, grid: TimeGrid, *, n_samples: int, rng: np.random.Generator,
                  method: str = "euler", dim: int | None = None, n_models: int | None = None,
                  batch: int = 2**15) -> np.ndarray:
    """PF-ODE samples: ``x_T ~ N(0, sigma_T^2 I)`` then :func:`integrate_pf_ode`.

    Returns ``(N, n_samples, D)`` for an ensemble denoiser, else ``(n_samples, D)``. Seeds are
    drawn up front, so the output does not depend on ``batch`` (points per model integrated
    at once).
    """
    dim, n_models = _dims(denoiser, dim, n_models)
    x = initial_samples(grid, n_samples=n_samples, dim=dim, rng=rng, n_models=n_models)
    batch = int_arg(batch, "batch", 1)
    out = np.empty_like(x)
    for s in range(0, n_samples, batch):
        sl = (slice(None), slice(s, s + batch)) if n_models is not None else (slice(s, s + batch),)
        out[sl] = integrate_pf_ode(denoiser, x[sl], grid, method=method)
    return out


def sample_reverse_sde(denoiser, grid: TimeGrid, *, n_samples: int, rng: np.random.Generator,
                       dim: int | None = None, n_models: int | None = None) -> np.ndarray:
    r"""Reverse-SDE samples (Euler-Maruyama): ``x <- x + h_k (2 v + beta_k x) + sqrt(2 D_k |h_k|) z_k``.

    ``2 v + beta x = -beta x - 2 D s`` is the reverse-time drift; with the exact score and
    small steps the output law is ``p(x | eps)``.
    """
    dim, n_models = _dims(denoiser, dim, n_models)
    x = initial_samples(grid, n_samples=n_samples, dim=dim, rng=rng, n_models=n_models)
    g = grid.ts
    for k in range(g.size - 1):
        h = g[k + 1] - g[k]
        v = pf_ode_drift(denoiser, x, grid, k)
        x = x + h * (2 * v + grid.beta[k] * x) + np.sqrt(2 * grid.D[k] * abs(h)) * \
            rng.standard_normal(x.shape)
    return x


def ode_log_density(denoiser, x, grid: TimeGrid) -> np.ndarray:
    r"""``log q_eps(x)`` of the continuous PF-ODE with the given denoiser (exact divergence).

    Integrates ``(x_t, ell_t)`` from ``t = eps`` up to ``T`` with classical RK4 over the steps
    of ``grid`` (midpoint coefficients tabulated once), ``dx/dt = v``,
    ``d ell/dt = div v`` (:func:`velocity_divergence`, with ``denoiser.divergence``); then
    ``log q_eps(x) = log N(x_T; 0, sigma_T^2 I) + ell_T``. For the exact denoiser and enough
    steps this equals ``log p(x | eps)`` (tested). ``x (..., D)`` -> ``(...)``.
    """
    if not hasattr(denoiser, "divergence"):
        raise TypeError("the denoiser must provide .divergence(x, t) (exact d mu/dx trace)")
    up = check_grid(grid)
    if up.ts[0] > up.ts[-1]:
        up = up.reversed()  # increasing: eps -> T
    mid = TimeGrid.from_times(up.schedule, 0.5 * (up.ts[:-1] + up.ts[1:]))
    x = _check_x(x, "x")
    D = x.shape[-1]

    def rhs(xc, g, k):
        c = g.coefficients(k)
        t = g.ts[k]
        return (velocity(denoiser(xc, t), xc, *c),
                velocity_divergence(denoiser.divergence(xc, t), D, *c))

    ell = np.zeros(x.shape[:-1])
    for k in range(up.n_steps):
        h = up.ts[k + 1] - up.ts[k]
        v1, d1 = rhs(x, up, k)
        v2, d2 = rhs(x + h / 2 * v1, mid, k)
        v3, d3 = rhs(x + h / 2 * v2, mid, k)
        v4, d4 = rhs(x + h * v3, up, k + 1)
        x = x + h / 6 * (v1 + 2 * v2 + 2 * v3 + v4)
        ell = ell + h / 6 * (d1 + 2 * d2 + 2 * d3 + d4)
    s2T = up.sigma2[-1]
    logp_T = -0.5 * np.sum(x**2, axis=-1) / s2T - 0.5 * D * np.log(2 * np.pi * s2T)
    return logp_T + ell
