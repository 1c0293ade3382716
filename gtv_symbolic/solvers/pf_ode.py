r"""The PF-ODE vector field, its Euler/Heun integrators, the reverse SDE, and the ODE density.

One vector field, in one sign convention (``t`` runs forward; samplers step with negative
``h_k = t_{k+1} - t_k``). With a denoiser ``mu`` and Tweedie's score
``s = (alpha_t mu - x)/sigma_t^2`` (paper Sec. 2):

.. math::  v(x, t) = \frac{dx}{dt} = -\beta_t x - D_t\,\frac{\alpha_t \mu(x, t) - x}{\sigma_t^2},
           \qquad
           \frac{\partial v}{\partial x} = -\beta_t I - \frac{D_t}{\sigma_t^2}
           \Big(\alpha_t \frac{\partial \mu}{\partial x} - I\Big).

Built on it: :func:`~gtv_symbolic.solvers.integrate_pf_ode` (Euler, the paper's ``sample_PF_ODE_*``,
or Heun, with the exact derivative of the discrete map),
:func:`~gtv_symbolic.solvers.sample_reverse_sde` (Euler-Maruyama) and
:func:`~gtv_symbolic.solvers.ode_log_density` (instantaneous change of variables, RK4).

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
    r"""The PF-ODE vector field for a denoiser value :math:`\mu` (paper Sec. 2, Tweedie's score).

    .. math:: v = -\beta_t x - D_t\, \frac{\alpha_t \mu - x}{\sigma_t^2}

    Parameters
    ----------
    mu, x : array_like, shape (..., D); denoiser output :math:`\mu(x, t)` and position.
    alpha, sigma2, beta, D : float or array_like
        Schedule values :math:`\alpha_t`, :math:`\sigma_t^2 > 0`, :math:`\beta_t`, :math:`D_t`.

    Returns
    -------
    numpy.ndarray or float
        :math:`v = dx/dt`, shape of ``x``.

    Examples
    --------
    >>> from gtv_symbolic.solvers.pf_ode import velocity
    >>> round(velocity(1.0, 0.5, alpha=0.8, sigma2=0.36, beta=1.0, D=0.5), 6)
    -0.916667
    """
    return -beta * x - D * (alpha * mu - x) / sigma2


def velocity_jacobian(J, alpha, sigma2, beta, D):
    r"""Jacobian of the PF-ODE vector field, from :math:`J = \partial\mu/\partial x` of the denoiser.

    .. math:: \frac{\partial v}{\partial x} = -\beta_t I - \frac{D_t}{\sigma_t^2}(\alpha_t J - I)

    Parameters
    ----------
    J : array_like, shape (..., D, D); the denoiser Jacobian.
    alpha, sigma2, beta, D : float; schedule values at :math:`t`.

    Returns
    -------
    numpy.ndarray, shape (..., D, D)

    Examples
    --------
    >>> import numpy as np; from gtv_symbolic.solvers.pf_ode import velocity_jacobian
    >>> velocity_jacobian(np.zeros((1, 1)), 0.8, 0.36, 1.0, 0.5).round(4)
    array([[0.3889]])
    """
    eye = np.eye(np.shape(J)[-1])
    return -beta * eye - D * (alpha * J - eye) / sigma2


def velocity_divergence(div_mu, dim, alpha, sigma2, beta, D):
    r"""Divergence of the PF-ODE vector field (trace of :func:`velocity_jacobian`).

    .. math:: \nabla\cdot v = -\beta_t D_x - \frac{D_t}{\sigma_t^2}(\alpha_t\, \nabla\cdot\mu - D_x)

    Parameters
    ----------
    div_mu : float or array_like; :math:`\nabla\cdot\mu = \mathrm{tr}\, \partial\mu/\partial x`.
    dim : int; dimension :math:`D_x` of :math:`x`.
    alpha, sigma2, beta, D : float; schedule values at :math:`t`.

    Returns
    -------
    float or numpy.ndarray, shape of ``div_mu``

    Examples
    --------
    >>> from gtv_symbolic.solvers.pf_ode import velocity_divergence
    >>> round(velocity_divergence(0.0, 2, 0.8, 0.36, 1.0, 0.5), 4)
    0.7778
    """
    return -beta * dim - D * (alpha * div_mu - dim) / sigma2


def affine_coefficients(grid: TimeGrid):
    r"""Per-step coefficients of the Euler map written as :math:`x + h_k v = c_1 x + c_2 \mu`.

    .. math:: c_{1,k} = 1 + h_k\Bigl(\frac{D_k}{\sigma_k^2} - \beta_k\Bigr), \qquad
              c_{2,k} = -h_k \frac{D_k \alpha_k}{\sigma_k^2}

    at :math:`t_k`, :math:`h_k = t_{k+1} - t_k` (the compiled sampler's form).

    Parameters
    ----------
    grid : TimeGrid

    Returns
    -------
    tuple of numpy.ndarray, each shape (N,); ``(c1, c2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import schedules
    >>> from gtv_symbolic.denoisers import ExactDenoiser; from gtv_symbolic.grids import TimeGrid
    >>> from gtv_symbolic.solvers import pf_ode
    >>> c1, c2 = pf_ode.affine_coefficients(TimeGrid.linear(schedules.VE(), eps=0.5, n_steps=2))
    >>> c1.round(4), c2.round(4)  # VE: alpha = 1, beta = 0, D = t, sigma^2 = t^2
    (array([0.75  , 0.6667]), array([0.25  , 0.3333]))
    """
    check_grid(grid)
    h = grid.h
    a, s2, b, Dc = (getattr(grid, k)[:-1] for k in ("alpha", "sigma2", "beta", "D"))
    return 1.0 + h * (Dc / s2 - b), -h * Dc * a / s2


def check_grid(grid) -> TimeGrid:
    r"""Check that ``grid`` is a :class:`~gtv_symbolic.grids.TimeGrid` (no formula: validation).

    Parameters
    ----------
    grid : object

    Returns
    -------
    TimeGrid; ``grid`` itself.

    Raises
    ------
    TypeError
        If ``grid`` is not a ``TimeGrid``.

    Examples
    --------
    >>> from gtv_symbolic import schedules; from gtv_symbolic.grids import TimeGrid
    >>> g = TimeGrid.linear(schedules.VP(), eps=0.5, n_steps=2)
    >>> check_grid(g) is g
    True
    """
    if not isinstance(grid, TimeGrid):
        raise TypeError(f"grid must be a gtv_symbolic.grids.TimeGrid (e.g. TimeGrid.linear("
                        f"schedule, eps, T, n_steps)), got {type(grid).__name__}")
    return grid


def pf_ode_drift(denoiser, x, grid: TimeGrid, k: int) -> np.ndarray:
    r"""The PF-ODE vector field of a denoiser at ``x`` and time ``grid.ts[k]``.

    .. math:: v(x, t_k) = -\beta_k x - D_k\, \frac{\alpha_k \mu(x, t_k) - x}{\sigma_k^2}

    Parameters
    ----------
    denoiser : callable; ``denoiser(x, t) -> mu`` of the shape of ``x``.
    x : numpy.ndarray, shape (..., D)
    grid : TimeGrid
    k : int; index into ``grid.ts``.

    Returns
    -------
    numpy.ndarray, shape of ``x``

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import schedules
    >>> from gtv_symbolic.denoisers import ExactDenoiser; from gtv_symbolic.grids import TimeGrid
    >>> from gtv_symbolic.solvers import pf_ode
    >>> g = TimeGrid.linear(schedules.VE(), eps=0.5, n_steps=2)
    >>> pf_ode.pf_ode_drift(ExactDenoiser([[-1.0], [1.0]], g.schedule), np.zeros((1, 1)), g, 0)
    array([[...0.]])
    """
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
    r"""Integrate the PF-ODE from ``x_T`` at ``grid.ts[0]`` to ``grid.ts[-1]`` (paper Sec. 2).

    Euler (the paper's sampler) or Heun (explicit trapezoid), :math:`h_k = t_{k+1} - t_k`:

    .. math:: x_{k+1} = x_k + h_k v(x_k, t_k), \qquad
              x_{k+1} = x_k + \tfrac{h_k}{2}\bigl[v(x_k, t_k) + v(x_k + h_k v_k, t_{k+1})\bigr]

    With ``jacobian=True`` the exact derivative of the discrete map is propagated by the chain
    rule, e.g. Euler :math:`J_{k+1} = (I + h_k \partial v/\partial x)\, J_k`, :math:`J_0 = I`.

    Parameters
    ----------
    denoiser : callable
        ``denoiser(x, t)``; with ``jacobian=True`` it needs ``value_and_jacobian(x, t)``.
    x_T : array_like, shape (..., D)
        Finite start points.
    grid : TimeGrid
    method : {'euler', 'heun'}, default 'euler'
    jacobian : bool, default False

    Returns
    -------
    numpy.ndarray, shape (..., D), or tuple
        :math:`x_\epsilon`, or ``(x_eps, dx_eps/dx_T)`` with the second of shape (..., D, D).

    Raises
    ------
    ValueError
        For an unknown ``method`` or a non-finite ``x_T``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import schedules
    >>> from gtv_symbolic.denoisers import ExactDenoiser; from gtv_symbolic.grids import TimeGrid
    >>> from gtv_symbolic.solvers import pf_ode
    >>> g = TimeGrid.linear(schedules.VE(), eps=0.5, n_steps=2)
    >>> x, J = pf_ode.integrate_pf_ode(ExactDenoiser([[-1.0], [1.0]], g.schedule),
    ...                                [[0.5], [0.0]], g, jacobian=True)
    >>> x.ravel().round(4), J.ravel().round(4)  # the midpoint 0 is a fixed point
    (array([0.5612, 0.    ]), array([0.9153, 1.2593]))
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
    r"""Start points of the samplers, :math:`x_T \sim \mathcal N(0, \sigma_T^2 I)` at ``grid.ts[0]``.

    Parameters
    ----------
    grid : TimeGrid
    n_samples, dim : int
        Points per model (``>= 1``) and dimension (1 to 1000).
    rng : numpy.random.Generator
    n_models : int, optional
        Ensemble size ``>= 1``; if given the output has a leading model axis.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_models, n_samples, dim)`` or ``(n_samples, dim)``.

    Raises
    ------
    ValueError, TypeError
        For an argument out of range (or over ``MAX_POINTS`` numbers), or a non-Generator ``rng``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import schedules
    >>> from gtv_symbolic.denoisers import ExactDenoiser; from gtv_symbolic.grids import TimeGrid
    >>> from gtv_symbolic.solvers import pf_ode
    >>> g = TimeGrid.linear(schedules.VE(), eps=0.5, n_steps=2)
    >>> pf_ode.initial_samples(g, n_samples=3, dim=2, rng=np.random.default_rng(0), n_models=4).shape
    (4, 3, 2)
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
    r"""PF-ODE samples: :math:`x_T \sim \mathcal N(0, \sigma_T^2 I)` (:func:`initial_samples`), then
    :func:`integrate_pf_ode` to :math:`x_\epsilon`.

    Seeds are drawn up front, so the output does not depend on ``batch``.

    Parameters
    ----------
    denoiser : callable
        ``denoiser(x, t)``; ensembles carry ``n_models`` and ``dim`` attributes.
    grid : TimeGrid
    n_samples : int
        Samples (per model), ``>= 1``.
    rng : numpy.random.Generator
    method : {'euler', 'heun'}, default 'euler'
    dim, n_models : int, optional; default the denoiser's ``dim`` / ``n_models`` attributes.
    batch : int, default 2**15; points per model integrated at once, ``>= 1``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_models, n_samples, D)`` for an ensemble, else ``(n_samples, D)``.

    Examples
    --------
    >>> import numpy as np; from gtv_symbolic import denoisers, grids, schedules, solvers
    >>> g = grids.TimeGrid.linear(schedules.VE(), eps=0.5, n_steps=2)
    >>> den = denoisers.ExactDenoiser([[-1.0], [1.0]], g.schedule)
    >>> solvers.sample_pf_ode(den, g, n_samples=5, rng=np.random.default_rng(0)).shape
    (5, 1)
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
    r"""Reverse-SDE samples by Euler-Maruyama (paper Sec. 2), :math:`z_k \sim \mathcal N(0, I)`:

    .. math:: x_{k+1} = x_k + h_k\,(2 v_k + \beta_k x_k) + \sqrt{2 D_k |h_k|}\, z_k,
              \qquad 2v + \beta x = -\beta x - 2 D s.

    With the exact score and small steps the output law is :math:`p(x | \epsilon)`.

    Parameters
    ----------
    denoiser, grid, n_samples, rng, dim, n_models
        As in :func:`sample_pf_ode`.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_models, n_samples, D)`` for an ensemble, else ``(n_samples, D)``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import schedules
    >>> from gtv_symbolic.denoisers import ExactDenoiser; from gtv_symbolic.grids import TimeGrid
    >>> from gtv_symbolic.solvers import pf_ode
    >>> g = TimeGrid.linear(schedules.VP(), eps=1e-2, n_steps=30)
    >>> pf_ode.sample_reverse_sde(ExactDenoiser([[-1.0], [1.0]], g.schedule), g, n_samples=4,
    ...                           rng=np.random.default_rng(0)).shape
    (4, 1)
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
    r"""Log density :math:`\log q_\epsilon(x)` of the continuous PF-ODE (instantaneous change of variables).

    Integrates :math:`dx/dt = v`, :math:`d\ell/dt = \nabla\cdot v` (:func:`velocity_divergence`,
    exact ``denoiser.divergence``) from :math:`\epsilon` up to :math:`T` with RK4 on the steps
    of ``grid``, then

    .. math:: \log q_\epsilon(x) = \log \mathcal N(x_T; 0, \sigma_T^2 I) + \ell_T .

    For the exact denoiser and enough steps this is :math:`\log p(x | \epsilon)` (tested).

    Parameters
    ----------
    denoiser : callable with ``.divergence(x, t)``
    x : array_like, shape (..., D)
    grid : TimeGrid
        Either direction; used increasing.

    Returns
    -------
    numpy.ndarray, shape (...)

    Raises
    ------
    TypeError
        If the denoiser has no ``divergence``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import schedules
    >>> from gtv_symbolic.denoisers import ExactDenoiser; from gtv_symbolic.grids import TimeGrid
    >>> from gtv_symbolic.solvers import pf_ode
    >>> g = TimeGrid.linear(schedules.VP(), eps=0.1, n_steps=5)
    >>> x, s2 = np.array([[0.0], [0.3]]), g.schedule.sigma2(0.1)  # data: one point at 0
    >>> exact = -x[:, 0]**2 / (2 * s2) - 0.5 * np.log(2 * np.pi * s2)
    >>> bool(np.abs(pf_ode.ode_log_density(ExactDenoiser([[0.0]], g.schedule), x, g) - exact).max() < 0.01)
    True
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
