r"""The schedule families: VP, VE, EDM and Figure 1's, with the EDM time grid (paper Sec. 2)."""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from .. import symbols as S
from .._validate import FLOAT_MAX, MAX_STEPS, SIGMA2_MIN, count, real_arg
from .base import Schedule

__all__ = ["VP", "VE", "EDM", "Fig1", "SCHEDULES", "get", "edm_time_grid", "VP_MAX_INTEGRAL",
           "VE_MAX_T"]

#: VP: largest accepted beta_min T + beta_d T^2 / 2 (alpha_T >= e^-690 ~ 1e-300, a normal float).
VP_MAX_INTEGRAL = 690.0
#: VE/EDM: largest accepted T (sigma_T^2 = T^2 <= 1e300 stays finite).
VE_MAX_T = 1e150


def _exact(value: float, name: str) -> sp.Rational:
    return sp.Rational(str(real_arg(value, name)))


def _round_up(v: float) -> float:
    """``v`` rounded up to two significant digits (a readable bound that is still safe)."""
    e = math.floor(math.log10(v)) - 1
    return float(f"{math.ceil(v / 10.0**e)}e{e}")


def VP(beta_min: float = 0.1, beta_d: float = 19.9, T: float = 1.0) -> Schedule:
    r"""Variance-preserving schedule exactly as in the paper's code (``get_time_funcs('VP')``).

    .. math:: \beta_t = D_t = \beta_{\min} + \beta_d t, \qquad
              \alpha_t = e^{-(\beta_{\min} t + \beta_d t^2 / 2)}, \qquad
              \sigma_t^2 = 1 - \alpha_t^2

    Parameters
    ----------
    beta_min : float; in ``[0, 1e6]``.
    beta_d : float; in ``[0, 1e6]``, not both 0.
    T : float; end time, with ``beta_min T + beta_d T^2 / 2 <=`` :data:`VP_MAX_INTEGRAL`.

    Returns
    -------
    Schedule
        Accepting ``t`` in ``[t_min, T]``.

    Examples
    --------
    >>> from gtv_symbolic import schedules
    >>> vp = schedules.VP()
    >>> round(float(vp.alpha(0.5)), 6), round(float(vp.sigma2(0.5)), 6)
    (0.079064, 0.993749)
    """
    beta_min = real_arg(beta_min, "beta_min", 0.0, 1e6)
    beta_d = real_arg(beta_d, "beta_d", 0.0, 1e6)
    T = real_arg(T, "T", 0.0, lo_open=True)
    if beta_min + beta_d <= 0:
        raise ValueError(f"beta_min and beta_d must not both be 0, got {beta_min}, {beta_d}")
    if beta_min * T + beta_d * T**2 / 2 > VP_MAX_INTEGRAL:
        raise ValueError(f"T must satisfy beta_min*T + beta_d*T^2/2 <= {VP_MAX_INTEGRAL:g} "
                         f"(alpha_T >= 1e-300), got T = {T:g}")
    a = -math.log1p(-SIGMA2_MIN) / 2  # I(t_min) = a; cancellation-free root of the quadratic
    t_min = _round_up(2 * a / (beta_min + math.sqrt(beta_min**2 + 2 * beta_d * a)))
    if not t_min < T:
        raise ValueError(f"T must be > t_min = {t_min:.2g}, got T = {T:g}")
    t, b0, bd = S.t, S.beta_min, S.beta_d
    integral = b0 * t + bd * t**2 / 2
    return Schedule(
        name="VP",
        alpha_expr=sp.exp(-integral),
        sigma2_expr=1 - sp.exp(-2 * integral),
        beta_expr=b0 + bd * t,
        D_expr=b0 + bd * t,
        T=float(T),
        params={b0: _exact(beta_min, "beta_min"), bd: _exact(beta_d, "beta_d")},
        t_min=t_min,
    )


def VE(T: float = 1.0) -> Schedule:
    r"""Variance-exploding schedule in EDM parametrisation.

    .. math:: \alpha_t = 1, \qquad \sigma_t^2 = t^2, \qquad \beta_t = 0, \qquad D_t = t

    Parameters
    ----------
    T : float; end time, up to :data:`VE_MAX_T`.

    Returns
    -------
    Schedule

    Examples
    --------
    >>> from gtv_symbolic import schedules
    >>> ve = schedules.VE(2.0)
    >>> float(ve.alpha(1.5)), float(ve.sigma2(1.5)), ve.t_domain
    (1.0, 2.25, '[2.5e-72, 2]')
    """
    t_min = _round_up(math.sqrt(SIGMA2_MIN))
    T = real_arg(T, "T", t_min, VE_MAX_T, lo_open=True)
    t = S.t
    return Schedule(name="VE", alpha_expr=sp.Integer(1), sigma2_expr=t**2,
                    beta_expr=sp.Integer(0), D_expr=t, T=T, t_min=t_min)


def EDM(T: float = 80.0, rho: float = 7.0) -> Schedule:
    r"""The EDM schedule (Karras et al.): the VE process with ``sigma = t`` up to ``T``.

    .. math:: \alpha_t = 1, \qquad \sigma_t^2 = t^2

    Parameters
    ----------
    T : float; end time (default 80).
    rho : float; exponent of the EDM time grid, see :func:`edm_time_grid`; in ``(0, 1e3]``.

    Returns
    -------
    Schedule
        Named ``EDM``, with ``rho`` in its ``params``.

    Examples
    --------
    >>> from gtv_symbolic import schedules
    >>> schedules.EDM()
    EDM(rho=7, T=80)
    """
    rho = real_arg(rho, "rho", 0.0, 1e3, lo_open=True)
    sched = VE(T)
    object.__setattr__(sched, "name", "EDM")
    object.__setattr__(sched, "params", {S.rho: _exact(rho, "rho")})
    return sched


def edm_time_grid(eps: float, T: float, n_steps: int, rho: float = 7.0) -> np.ndarray:
    r"""EDM time grid from T down to eps (Karras et al.), ``n_steps + 1`` decreasing times.

    .. math:: t_i = \bigl(T^{1/\rho} + \tfrac{i}{N} (\epsilon^{1/\rho} - T^{1/\rho})\bigr)^{\rho},
              \quad i = 0, \dots, N,

    with the ends set exactly: ``t_0 = T``, ``t_N = eps``.

    Parameters
    ----------
    eps : float; last time, in ``(0, T)``.
    T : float; first time, > 0.
    n_steps : int; number of steps N.
    rho : float; grid exponent, in ``(0, 1e3]``.

    Returns
    -------
    numpy.ndarray, shape (n_steps + 1,)

    Examples
    --------
    >>> g = edm_time_grid(0.002, 80.0, 18)
    >>> float(g[0]), float(g[-1]), len(g)
    (80.0, 0.002, 19)
    """
    T = real_arg(T, "T", 0.0, FLOAT_MAX, lo_open=True)
    eps = real_arg(eps, "eps", 0.0, T, lo_open=True, hi_open=True)
    n_steps = count(n_steps, "n_steps", MAX_STEPS)
    rho = real_arg(rho, "rho", 0.0, 1e3, lo_open=True)
    i = np.arange(n_steps + 1)
    g = (T ** (1 / rho) + i * (eps ** (1 / rho) - T ** (1 / rho)) / n_steps) ** rho
    g[0], g[-1] = T, eps
    return g


def Fig1() -> Schedule:
    r"""The Figure 1 parametrisation, ``t in (0, 1)`` (paper Fig. 1).

    .. math:: \alpha_t = \sqrt{1 - t}, \qquad \sigma_t^2 = t, \qquad
              \beta_t = D_t = \frac{1}{2(1 - t)}

    (``D_t`` from ``S' = -2 beta S + 2 D``).

    Returns
    -------
    Schedule
        Accepting ``t`` in ``[t_min, 1)``.

    Examples
    --------
    >>> from gtv_symbolic import schedules
    >>> f = schedules.Fig1()
    >>> float(f.alpha(0.75)), float(f.sigma2(0.75)), f.check()
    (0.5, 0.75, True)
    """
    t = S.t
    return Schedule(name="Fig1", alpha_expr=sp.sqrt(1 - t), sigma2_expr=t,
                    beta_expr=1 / (2 * (1 - t)), D_expr=1 / (2 * (1 - t)), T=1.0,
                    include_T=False, t_min=_round_up(SIGMA2_MIN))


SCHEDULES = {"VP": VP, "VE": VE, "EDM": EDM, "Fig1": Fig1}


def get(name: str, **kwargs) -> Schedule:
    """Schedule by name.

    No formula: a lookup in :data:`SCHEDULES`.

    Parameters
    ----------
    name : {'VP', 'VE', 'EDM', 'Fig1'}
    **kwargs
        Passed to the constructor (:func:`VP`, :func:`VE`, :func:`EDM`, :func:`Fig1`).

    Returns
    -------
    Schedule

    Examples
    --------
    >>> from gtv_symbolic import schedules
    >>> schedules.get("VE", T=2.0)
    VE(T=2)
    """
    if not isinstance(name, str) or name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {sorted(SCHEDULES)}, got {name!r}")
    return SCHEDULES[name](**kwargs)
