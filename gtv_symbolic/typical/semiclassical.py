r"""Small-noise (semiclassical, linear-noise) approximation of the typical distribution.

The mean path of the sampler and its linearisation: each seed ``x_T`` lands at
``N(X(x_T), v(x_T))``; see :mod:`gtv_symbolic.typical` for its validity.
"""

from __future__ import annotations

import numpy as np

from .._validate import finite_array, int_arg
from ..denoisers import ExactDenoiser
from ..kernels import NaiveKernel, VKernel
from ..solvers import velocity, velocity_jacobian
from ..solvers.pf_ode import check_grid
from ._checks import check_naive

__all__ = ["mean_flow", "semiclassical_linear", "semiclassical_naive"]


def mean_flow(denoiser, x_T, grid):
    r"""Euler PF-ODE of a 1-D denoiser, with its step gains (the small-noise approximation).

    .. math:: x_{k+1} = x_k + h_k\, v(x_k, t_k), \qquad
              g_k = 1 + h_k \frac{\partial v}{\partial x}(x_k, t_k), \qquad
              \frac{dX}{dx_T} = \prod_k g_k

    with ``h_k = t_{k+1} - t_k < 0``.

    Parameters
    ----------
    denoiser : :class:`~gtv_symbolic.denoisers.Denoiser`; must provide ``value_and_jacobian``.
    x_T : array_like, shape (n,); seeds.
    grid : :class:`~gtv_symbolic.grids.TimeGrid`

    Returns
    -------
    path : numpy.ndarray, shape (K + 1, n)
    gain : numpy.ndarray, shape (K, n)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import schedules, typical
    >>> from gtv_symbolic.denoisers import ExactDenoiser
    >>> from gtv_symbolic.grids import TimeGrid
    >>> vp = schedules.VP()
    >>> grid = TimeGrid.geometric(vp, 2e-2, n_steps=50)
    >>> path, gain = typical.mean_flow(ExactDenoiser(np.array([[-1.0], [1.0]]), vp),
    ...                                np.array([-0.5, 0.5]), grid)
    >>> path.shape, gain.shape, path[-1].round(2).tolist()  # each seed flows to its point
    ((51, 2), (50, 2), [-0.96, 0.96])
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
    denoiser at step ``k`` moves the end point by ``c_k d mu(x_k, t_k)``, so

    .. math:: c_k = \Bigl(\prod_{j>k} g_j\Bigr) |h_k| \frac{D_k \alpha_k}{\sigma_k^2}, \qquad
              v(x_T) = \mathrm{Var}\Bigl[\sum_k c_k \hat\mu(x_k, t_k)\Bigr], \qquad
              [q](x) = \mathbb{E}_{x_T}\, \mathcal{N}\bigl(x;\ X(x_T),\ v(x_T)\bigr)

    (:meth:`~gtv_symbolic.kernels.VKernel.functional_variance`): the Gaussian-fluctuation
    evaluation of the MSR integral around the classical path (a linear-noise approximation,
    derivation *small-noise*). Valid for ``sqrt(v) <<`` mode separation (module docstring).

    Parameters
    ----------
    kernel : :class:`~gtv_symbolic.kernels.VKernel`; 1-D, with a mean denoiser.
    grid : :class:`~gtv_symbolic.grids.TimeGrid`; from ``T`` down to ``eps``.
    x : array_like; where to evaluate the density.
    n_seeds : int; quadrature nodes in ``x_T`` (3 to 10**6).
    min_var : float; added to every ``v``.

    Returns
    -------
    density : numpy.ndarray, shape of ``x``
    details : dict
        ``x_T``, ``x_end``, ``var``, ``weight`` (per seed) and ``dXdxT``.

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
    >>> grid = TimeGrid.geometric(vp, 2e-2, n_steps=50)
    >>> xs = np.linspace(-2, 2, 401)
    >>> q, info = typical.semiclassical_linear(K, grid, xs, n_seeds=201)
    >>> round(float(q.sum() * (xs[1] - xs[0])), 2), info["var"].shape
    (1.0, (201,))
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

    Along the exact-score PF-ODE path (:func:`mean_flow`),

    .. math:: v(x_T) = \sum_k \Bigl(\prod_{j>k} g_j\Bigr)^2 |h_k|\, \kappa D_k^2 C(x_k, t_k), \qquad
              [q](x) = \mathbb{E}_{x_T}\, \mathcal{N}\bigl(x;\ X(x_T),\ v(x_T)\bigr)

    Same stated range as :func:`semiclassical_linear` (derivation *small-noise*).

    Parameters
    ----------
    kernel : :class:`~gtv_symbolic.kernels.NaiveKernel`; 1-D data.
    grid : :class:`~gtv_symbolic.grids.TimeGrid`; from ``T`` down to ``eps``.
    x : array_like; where to evaluate the density.
    n_seeds : int; quadrature nodes in ``x_T``.

    Returns
    -------
    density : numpy.ndarray, shape of ``x``
    details : dict
        ``x_T``, ``x_end``, ``var``, ``weight`` per seed.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import kernels, schedules, typical
    >>> from gtv_symbolic.grids import TimeGrid
    >>> vp = schedules.VP()
    >>> grid = TimeGrid.geometric(vp, 2e-2, n_steps=50)
    >>> k = kernels.NaiveKernel([[-1.0], [1.0]], vp, kappa=0.5)
    >>> xs = np.linspace(-2, 2, 401)
    >>> q, info = typical.semiclassical_naive(k, grid, xs, n_seeds=201)
    >>> round(float(q.sum() * (xs[1] - xs[0])), 1), sorted(info)
    (1.0, ['var', 'weight', 'x_T', 'x_end'])
    """
    x = finite_array(x, "x")  # before the long computation
    check_naive(kernel)
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
