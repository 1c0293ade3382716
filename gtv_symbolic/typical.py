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
    r"""One reverse Euler-Maruyama step of the naive estimator (paper Sec. 4, Prop. 4.1).

    .. math:: x \leftarrow x - \Delta t\, v(x, t) + \sqrt{\kappa \Delta t}\, D_t\,
              \bigl(\tilde s(x, t; x_0) - s(x, t)\bigr), \qquad x_0 \sim p(x_0 \mid x, t)

    with a fresh ``x0`` per point and the exact-score PF-ODE velocity ``v``
    (:func:`gtv_symbolic.solvers.velocity`); the increment has mean ``-dt v`` and covariance
    ``kappa dt D^2 C`` (Prop. 4.1; derivation *naive-estimator*).

    Parameters
    ----------
    kernel : :class:`~gtv_symbolic.kernels.NaiveKernel`
    x : array_like, shape (n, D)
    t : float; current time.
    dt : float; step, in ``(0, t]``.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (n, D); the points at ``t - dt``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import kernels, schedules, typical
    >>> from gtv_symbolic.grids import TimeGrid
    >>> vp = schedules.VP()
    >>> grid = TimeGrid.geometric(vp, 2e-2, n_steps=50)
    >>> k = kernels.NaiveKernel([[-1.0], [1.0]], vp, kappa=0.5)
    >>> x = typical.naive_step(k, np.zeros((3, 1)), 0.5, 1e-3, np.random.default_rng(0))
    >>> x.shape, np.abs(x).round(4).ravel().tolist()  # at x = 0 the drift vanishes: pure noise
    ((3, 1), [0.0179, 0.0179, 0.0179])
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

    Repeats :func:`naive_step` from ``t_0 = T`` to ``t_K = eps``, seeds
    ``x_T ~ N(0, sigma_T^2 I)`` (or ``x_T``):

    .. math:: x_{k+1} = x_k - \Delta t_k\, v(x_k, t_k) + \sqrt{\kappa \Delta t_k}\, D_{t_k}\,
              (\tilde s - s)(x_k, t_k)

    Parameters
    ----------
    kernel : :class:`~gtv_symbolic.kernels.NaiveKernel`
    grid : :class:`~gtv_symbolic.grids.TimeGrid`; from ``T`` down to ``eps``.
    n_samples : int; 1 to 10**7.
    rng : numpy.random.Generator
    x_T : array_like, optional; ``n_samples`` seeds.

    Returns
    -------
    numpy.ndarray, shape (n_samples, D)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import kernels, schedules, typical
    >>> from gtv_symbolic.grids import TimeGrid
    >>> vp = schedules.VP()
    >>> grid = TimeGrid.geometric(vp, 2e-2, n_steps=50)
    >>> k = kernels.NaiveKernel([[-1.0], [1.0]], vp, kappa=0.5)
    >>> x = typical.naive_em(k, grid, n_samples=2000, rng=np.random.default_rng(0))
    >>> x.shape, float(np.mean(np.abs(x)).round(1))  # near the training points -1, 1
    ((2000, 1), 1.1)
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
    r"""1-D density of the naive estimator's output by a Fokker-Planck solve (paper Sec. 4, Prop. 4.1).

    Reverse time ``tau = T - t``, from ``q_T = N(0, sigma_T^2)``:

    .. math:: \partial_\tau q = -\partial_x[a\, q] + \partial_x^2[d\, q], \qquad a = -v, \qquad
              d = \tfrac12 \kappa D_t^2 C(x,t)

    with ``v`` the exact-score PF-ODE velocity (Ito form). Finite volumes on
    ``[-x_max, x_max]`` with zero-flux ends, Scharfetter-Gummel (exponentially fitted)
    fluxes, implicit Euler: positive and mass-conserving. ``kappa = 0`` gives the exact-score
    PF-ODE, i.e. ``p(x|eps)`` up to discretisation.

    Parameters
    ----------
    kernel : :class:`~gtv_symbolic.kernels.NaiveKernel`; 1-D data.
    grid : :class:`~gtv_symbolic.grids.TimeGrid`; from ``T`` down to ``eps``. A geometric grid suits it.
    x : array_like, optional; where to return the density (interpolated).
    dx : float, optional; cell width in ``(0, 0.1]`` (default ``min(0.01, sigma_eps/8)``).
    x_max : float; half-width of the domain.

    Returns
    -------
    x : numpy.ndarray; ``x`` when given, else the cell centres.
    q : numpy.ndarray; the density there.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import kernels, schedules, typical
    >>> from gtv_symbolic.grids import TimeGrid
    >>> vp = schedules.VP()
    >>> grid = TimeGrid.geometric(vp, 2e-2, n_steps=50)
    >>> k = kernels.NaiveKernel([[-1.0], [1.0]], vp, kappa=0.5)
    >>> xs, q = typical.naive_fokker_planck(k, grid)
    >>> xs.shape, round(float(q.sum() * (xs[1] - xs[0])), 9)
    ((1000,), 1.0)
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
