r"""Time grids of the samplers, and the one check of a time window ``0 < eps < T``.

The samplers integrate the probability-flow ODE (paper Sec. 2)

.. math::  \frac{dx}{dt} = -\beta_t x - D_t\, s(x, t), \qquad
           s(x, t) = \frac{\alpha_t \hat\mu(x, t) - x}{\sigma_t^2},

from ``t = T`` down to ``t = eps`` on a grid ``t_0 = T > t_1 > ... > t_N = eps``. The paper's
grid is ``linspace(eps, T, N + 1)`` reversed. A :class:`TimeGrid` holds validated times and
the schedule's coefficients ``alpha_k, sigma_k^2, beta_k, D_k`` tabulated once, so a sampler
step only reads arrays.

:func:`check_window` is the only place in the package where ``eps`` and ``T`` are checked;
every other function either takes a :class:`TimeGrid` or calls it.

Examples
--------
>>> from gtv_symbolic import schedules
>>> from gtv_symbolic.grids import TimeGrid, check_window
>>> g = TimeGrid.linear(schedules.VP(), eps=0.2, n_steps=4)
>>> g.ts
array([1. , 0.8, 0.6, 0.4, 0.2])
>>> g.n_steps, g.eps, g.T
(4, 0.2, 1.0)
>>> check_window(schedules.VP(), 0.5, 0.25)
Traceback (most recent call last):
...
ValueError: eps must lie in (0, T) = (0, 0.25), got 0.5
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import MAX_STEPS, check_schedule, int_arg
from .schedules import Schedule

__all__ = ["TimeGrid", "check_window", "KINDS", "MAX_STEPS"]

#: Grid kinds accepted by :meth:`TimeGrid.make`.
KINDS = ("linear", "geometric")


def check_window(schedule: Schedule | None, eps, T=1.0) -> tuple[float, float]:
    r"""Validate a time window (the one check of ``eps`` and ``T`` in the package).

    .. math:: \max(0, t_{\min}) \le \epsilon < T \le T_{\mathrm{schedule}}

    with ``eps > 0`` and ``T < schedule.T`` when the schedule excludes its ``T``;
    ``schedule=None`` checks ``0 < eps < T < inf`` only (feature maps, which know no schedule).

    Parameters
    ----------
    schedule : :class:`~gtv_symbolic.schedules.Schedule` or None
    eps : float; smallest time.
    T : float; largest time.

    Returns
    -------
    tuple of float
        ``(eps, T)``.

    Raises
    ------
    TypeError
        For non-numbers.
    ValueError
        Naming the argument and the allowed range.

    Examples
    --------
    >>> from gtv_symbolic import schedules
    >>> check_window(schedules.VP(), 1e-3)
    (0.001, 1.0)
    >>> check_window(schedules.VP(), 0.1, 2.0)
    Traceback (most recent call last):
    ...
    ValueError: T must be <= the schedule's T = 1, got 2.0
    """
    if schedule is not None:
        check_schedule(schedule)
    try:
        T = float(T)
        eps = float(eps)
    except (TypeError, ValueError):
        raise TypeError(f"eps and T must be real numbers, got eps={eps!r}, T={T!r}") from None
    if not (np.isfinite(T) and T > 0):
        raise ValueError(f"T must be finite and > 0, got {T}")
    if schedule is not None and (T > schedule.T or (not schedule.include_T and T >= schedule.T)):
        hi = "<=" if schedule.include_T else "<"
        raise ValueError(f"T must be {hi} the schedule's T = {schedule.T:g}, got {T}")
    if not (np.isfinite(eps) and 0 < eps < T):
        raise ValueError(f"eps must lie in (0, T) = (0, {T:g}), got {eps}")
    t_min = float(getattr(schedule, "t_min", 0.0) or 0.0)  # where every evaluator is finite
    if eps < t_min:
        raise ValueError(f"eps must be >= the schedule's t_min = {t_min:.3g} (every evaluator "
                         f"is finite on [t_min, T]), got {eps}")
    return eps, T


def _tabulate(f, ts):
    # one scalar evaluation per time: the values do not depend on the grid's length (no
    # SIMD/array code path), so a step sees the same coefficients on every grid.
    return np.array([float(f(t)) for t in ts])


@dataclass(frozen=True, eq=False)
class TimeGrid:
    r"""Validated, strictly monotone times with the schedule tabulated on them.

    .. math:: t_0 = T > t_1 > \dots > t_N = \epsilon, \qquad
              (\alpha_k, \sigma_k^2, \beta_k, D_k) = (\alpha, \sigma^2, \beta, D)(t_k)

    (or increasing times). Build with :meth:`linear` (the paper's grid), :meth:`geometric`
    or :meth:`from_times`.

    Attributes
    ----------
    schedule : Schedule
        The forward process.
    ts : numpy.ndarray, shape (N + 1,)
        The times; ``ts[0]`` is where integration starts.
    alpha : numpy.ndarray, shape (N + 1,)
        :math:`\alpha_k`.
    sigma2 : numpy.ndarray, shape (N + 1,)
        :math:`\sigma_k^2`.
    beta : numpy.ndarray, shape (N + 1,)
        :math:`\beta_k`.
    D : numpy.ndarray, shape (N + 1,)
        :math:`D_k` (all read-only, the schedule at ``ts``).

    Examples
    --------
    >>> from gtv_symbolic import schedules
    >>> g = TimeGrid.linear(schedules.VE(), eps=0.5, n_steps=1)
    >>> g
    TimeGrid(VE(T=1), 1 -> 0.5, n_steps=1)
    >>> g.ts.tolist(), g.sigma2.tolist()
    ([1.0, 0.5], [1.0, 0.25])
    """

    schedule: Schedule
    ts: np.ndarray
    alpha: np.ndarray
    sigma2: np.ndarray
    beta: np.ndarray
    D: np.ndarray

    @classmethod
    def from_times(cls, schedule: Schedule, ts) -> TimeGrid:
        """A grid on the given strictly monotone times (each inside the schedule's range).

        Parameters
        ----------
        schedule : :class:`~gtv_symbolic.schedules.Schedule`
        ts : array_like, shape (N + 1,); 2 to ``MAX_STEPS + 1`` strictly monotone times
            (decreasing for the samplers), in a window accepted by :func:`check_window`.

        Returns
        -------
        TimeGrid
            With read-only arrays.

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> from gtv_symbolic.grids import TimeGrid
        >>> g = TimeGrid.from_times(schedules.VE(), [1.0, 0.5, 0.1])
        >>> g.sigma2.round(12).tolist(), g.D.tolist()  # VE: sigma^2 = t^2, D = t
        ([1.0, 0.25, 0.01], [1.0, 0.5, 0.1])
        """
        check_schedule(schedule)
        g = np.array(ts, dtype=float).reshape(-1) if np.ndim(ts) <= 1 else None
        if g is None or g.size < 2 or g.size > MAX_STEPS + 1:
            raise ValueError(f"ts must be a 1-D array of 2 to {MAX_STEPS + 1} times, "
                             f"got shape {np.shape(ts)}")
        d = np.diff(g)
        if not (np.all(d < 0) or np.all(d > 0)):
            raise ValueError("ts must be strictly monotone (decreasing for the samplers)")
        check_window(schedule, float(g.min()), float(g.max()))
        g.setflags(write=False)
        tab = [_tabulate(f, g) for f in (schedule.alpha, schedule.sigma2, schedule.beta,
                                         schedule.D)]
        for a in tab:
            a.setflags(write=False)
        return cls(schedule, g, *tab)

    @classmethod
    def linear(cls, schedule: Schedule, eps, T=1.0, n_steps=30) -> TimeGrid:
        r"""The paper's grid: ``linspace(eps, T, n_steps + 1)`` reversed.

        .. math:: t_k = T - k\, \frac{T - \epsilon}{N}, \qquad k = 0, \dots, N

        Parameters
        ----------
        schedule : :class:`~gtv_symbolic.schedules.Schedule`
        eps, T : float; window (:func:`check_window`).
        n_steps : int; N, 1 to ``MAX_STEPS``.

        Returns
        -------
        TimeGrid

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> from gtv_symbolic.grids import TimeGrid
        >>> TimeGrid.linear(schedules.VP(), eps=0.2, n_steps=4).ts
        array([1. , 0.8, 0.6, 0.4, 0.2])
        """
        eps, T = check_window(schedule, eps, T)
        n = int_arg(n_steps, "n_steps", 1, MAX_STEPS)
        return cls.from_times(schedule, np.linspace(eps, T, n + 1)[::-1])

    @classmethod
    def geometric(cls, schedule: Schedule, eps, T=1.0, n_steps=30) -> TimeGrid:
        r"""Log-spaced grid: ``geomspace(eps, T, n_steps + 1)`` reversed.

        .. math:: t_k = T \Bigl(\frac{\epsilon}{T}\Bigr)^{k/N}, \qquad k = 0, \dots, N

        Parameters
        ----------
        schedule : :class:`~gtv_symbolic.schedules.Schedule`
        eps, T : float; window (:func:`check_window`).
        n_steps : int; N, 1 to ``MAX_STEPS``.

        Returns
        -------
        TimeGrid

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> from gtv_symbolic.grids import TimeGrid
        >>> TimeGrid.geometric(schedules.VP(), eps=0.01, n_steps=2).ts
        array([1.  , 0.1 , 0.01])
        """
        eps, T = check_window(schedule, eps, T)
        n = int_arg(n_steps, "n_steps", 1, MAX_STEPS)
        return cls.from_times(schedule, np.geomspace(eps, T, n + 1)[::-1])

    @classmethod
    def make(cls, schedule: Schedule, eps, T=1.0, n_steps=30, kind: str = "linear") -> TimeGrid:
        """:meth:`linear` or :meth:`geometric` by name.

        Parameters
        ----------
        schedule : :class:`~gtv_symbolic.schedules.Schedule`
        eps, T : float
        n_steps : int
        kind : str; one of :data:`KINDS`, ``'linear'`` or ``'geometric'``.

        Returns
        -------
        TimeGrid

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> from gtv_symbolic.grids import TimeGrid
        >>> TimeGrid.make(schedules.VP(), 0.01, n_steps=2, kind="geometric")
        TimeGrid(VP(beta_min=0.1, beta_d=19.9, T=1), 1 -> 0.01, n_steps=2)
        """
        if kind == "linear":
            return cls.linear(schedule, eps, T, n_steps)
        if kind == "geometric":
            return cls.geometric(schedule, eps, T, n_steps)
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    @property
    def n_steps(self) -> int:
        """Number of steps N (``len(ts) - 1``).

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> from gtv_symbolic.grids import TimeGrid
        >>> g = TimeGrid.linear(schedules.VP(), eps=0.2, n_steps=4)
        >>> g.n_steps
        4
        """
        return self.ts.size - 1

    @property
    def eps(self) -> float:
        """Smallest time, ``min(ts)``.

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> from gtv_symbolic.grids import TimeGrid
        >>> g = TimeGrid.linear(schedules.VP(), eps=0.2, n_steps=4)
        >>> g.eps
        0.2
        """
        return float(self.ts.min())

    @property
    def T(self) -> float:
        """Largest time, ``max(ts)``.

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> from gtv_symbolic.grids import TimeGrid
        >>> g = TimeGrid.linear(schedules.VP(), eps=0.2, n_steps=4)
        >>> g.T
        1.0
        """
        return float(self.ts.max())

    @property
    def h(self) -> np.ndarray:
        """Signed step sizes ``h_k = t_{k+1} - t_k`` (negative on a sampler's decreasing grid).

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> from gtv_symbolic.grids import TimeGrid
        >>> g = TimeGrid.linear(schedules.VP(), eps=0.2, n_steps=4)
        >>> g.h.round(12)
        array([-0.2, -0.2, -0.2, -0.2])
        """
        return np.diff(self.ts)

    def coefficients(self, k: int) -> tuple:
        """The schedule's coefficients at ``ts[k]`` (the arguments of the vector field).

        Parameters
        ----------
        k : int; index into ``ts``.

        Returns
        -------
        tuple of float
            ``(alpha_k, sigma2_k, beta_k, D_k)``.

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> from gtv_symbolic.grids import TimeGrid
        >>> g = TimeGrid.linear(schedules.VP(), eps=0.2, n_steps=4)
        >>> a, s2, b, d = g.coefficients(0)
        >>> round(float(a**2 + s2), 12), float(b), float(d)  # VP at t = 1
        (1.0, 20.0, 20.0)
        """
        return self.alpha[k], self.sigma2[k], self.beta[k], self.D[k]

    def reversed(self) -> TimeGrid:
        """The same times in the opposite order (coefficients reused, not re-evaluated).

        Returns
        -------
        TimeGrid

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> from gtv_symbolic.grids import TimeGrid
        >>> g = TimeGrid.linear(schedules.VP(), eps=0.2, n_steps=4)
        >>> g.reversed().ts
        array([0.2, 0.4, 0.6, 0.8, 1. ])
        """
        return TimeGrid(self.schedule, self.ts[::-1], self.alpha[::-1], self.sigma2[::-1],
                        self.beta[::-1], self.D[::-1])

    def __repr__(self) -> str:
        return (f"TimeGrid({self.schedule!r}, {self.ts[0]:g} -> {self.ts[-1]:g}, "
                f"n_steps={self.n_steps})")
