r"""The naive estimator's typical distribution (Prop. 4.1): Euler-Maruyama and Fokker-Planck.

See :mod:`gtv_symbolic.typical` for the equations.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_banded

from .. import proxy
from .._validate import finite_array, int_arg, real_arg
from ..denoisers import ExactDenoiser
from ..kernels import NaiveKernel
from ..solvers import velocity
from ..solvers.pf_ode import check_grid
from ._checks import check_naive

__all__ = ["naive_step", "naive_em", "naive_fokker_planck"]


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
    check_naive(kernel)
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
    check_naive(kernel)
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
    check_naive(kernel)
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
