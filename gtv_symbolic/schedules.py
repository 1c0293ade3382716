r"""Forward processes ``dx = -beta_t x dt + sqrt(2 D_t) dW`` as SymPy expressions of ``t``.

A schedule holds ``alpha(t)``, ``sigma2(t)`` (= S_t, isotropic), ``beta(t)`` and
``D(t) = g_t^2 / 2`` (paper Sec. 2). Consistency is checked symbolically:

* ``alpha_t = exp(-int_0^t beta)``, i.e. ``alpha' = -beta alpha``;
* ``dS/dt = -2 beta S + 2 D`` with ``S(0) = 0``.

Numeric evaluation (``sched.alpha(t)`` etc.) goes through :mod:`gtv_symbolic.numeric`, so
``sigma^2 = 1 - exp(-a)`` is evaluated as ``-expm1(-a)``: accurate at ``t = 1e-6``.

Accepted times
--------------
Each schedule accepts ``t`` in ``[t_min, T]`` (``[t_min, T)`` for Fig1), where ``t_min`` is
the time at which :math:`\sigma_t^2` reaches :data:`gtv_symbolic._validate.SIGMA2_MIN`:
above it every evaluator of :mod:`gtv_symbolic.proxy` is finite for coordinates up to
:data:`gtv_symbolic._validate.MAX_COORD` (below it :math:`\sigma^4` and
:math:`\alpha^2 \Sigma_{\mathrm{post}} / \sigma^4` leave the float64 range). Solving
:math:`\sigma^2(t_{\min}) = S_{\min}`:

* VE, EDM (:math:`\sigma^2 = t^2`): :math:`t_{\min} = \sqrt{S_{\min}}`;
* Fig1 (:math:`\sigma^2 = t`): :math:`t_{\min} = S_{\min}`;
* VP (:math:`\sigma^2 = 1 - e^{-2 I(t)}`, :math:`I = \beta_{\min} t + \beta_d t^2 / 2`):
  :math:`I(t_{\min}) = a := -\tfrac12 \log(1 - S_{\min})`, i.e.
  :math:`t_{\min} = 2 a / (\beta_{\min} + \sqrt{\beta_{\min}^2 + 2 \beta_d a})`.

``t_min`` is rounded up to two significant digits (there is a factor 2 of headroom in
``SIGMA2_MIN``). The message of a rejected ``t`` states the interval.

Examples
--------
>>> from gtv_symbolic import schedules
>>> vp = schedules.VP()
>>> float(vp.sigma2(1e-6))  # doctest: +ELLIPSIS
2.0001987...e-07
>>> vp.check()
True
>>> vp.t_min  # doctest: +ELLIPSIS
3...e-143
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy as sp

from . import symbols as S
from ._validate import FLOAT_MAX, MAX_STEPS, SIGMA2_MIN, count, real_arg
from .numeric import NumericFunction, lambdify

__all__ = ["Schedule", "VP", "VE", "EDM", "Fig1", "SCHEDULES", "get", "edm_time_grid"]

#: VP: largest accepted beta_min T + beta_d T^2 / 2 (alpha_T >= e^-690 ~ 1e-300, a normal float).
VP_MAX_INTEGRAL = 690.0
#: VE/EDM: largest accepted T (sigma_T^2 = T^2 <= 1e300 stays finite).
VE_MAX_T = 1e150


_FUNCTIONS = ("alpha", "sigma2", "beta", "D")
#: compiled numeric functions by (name, expressions): one lambdify per process
_COMPILED: dict = {}


def _exact(value: float, name: str) -> sp.Rational:
    return sp.Rational(str(real_arg(value, name)))


def _round_up(v: float) -> float:
    """``v`` rounded up to two significant digits (a readable bound that is still safe)."""
    e = math.floor(math.log10(v)) - 1
    return float(f"{math.ceil(v / 10.0**e)}e{e}")


@dataclass(frozen=True, eq=False)
class Schedule:
    r"""A forward process ``dx = -beta_t x dt + sqrt(2 D_t) dW`` on ``t in (0, T]`` (paper Sec. 2).

    .. math:: p(x \mid x_0, t) = \mathcal{N}(x;\ \alpha_t x_0,\ \sigma_t^2 I), \qquad
              \alpha_t = e^{-\int_0^t \beta_s ds}, \qquad
              \frac{d\sigma_t^2}{dt} = -2\beta_t \sigma_t^2 + 2 D_t

    (``T`` is excluded when ``include_T`` is False). Build one with :func:`VP`, :func:`VE`,
    :func:`EDM`, :func:`Fig1` or :func:`get`; a hand-built one is checked by :meth:`check`.

    Parameters
    ----------
    name : str; non-empty label.
    alpha_expr, sigma2_expr, beta_expr, D_expr : sympy.Expr
        Expressions in :data:`gtv_symbolic.symbols.t` with symbolic parameters.
    T : float; end time, > 0.
    params : dict; ``{parameter symbol: exact value}``, substituted by :meth:`expr`.
    include_T : bool; whether ``t = T`` is accepted.
    t_min : float; smallest accepted t, in ``[0, T)`` (module docstring).

    Examples
    --------
    >>> from gtv_symbolic import schedules
    >>> schedules.VP()
    VP(beta_min=0.1, beta_d=19.9, T=1)
    >>> schedules.VP().expr("alpha", substitute=False)
    exp(-beta_d*t**2/2 - beta_min*t)
    """

    name: str
    alpha_expr: sp.Expr
    sigma2_expr: sp.Expr
    beta_expr: sp.Expr
    D_expr: sp.Expr
    T: float
    params: dict = field(default_factory=dict)
    include_T: bool = True
    #: smallest accepted t: sigma_t^2 >= SIGMA2_MIN there (module docstring).
    t_min: float = 0.0

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty str, got {self.name!r}")
        for k in ("alpha_expr", "sigma2_expr", "beta_expr", "D_expr"):
            if not isinstance(getattr(self, k), sp.Basic):
                raise TypeError(f"{k} must be a SymPy expression, got {type(getattr(self, k)).__name__}")
        T = real_arg(self.T, "T", 0.0, FLOAT_MAX, lo_open=True)
        t_min = real_arg(self.t_min, "t_min", 0.0, T, hi_open=True)
        object.__setattr__(self, "T", T)
        object.__setattr__(self, "t_min", t_min)

    # -- symbolic -------------------------------------------------------------------
    def expr(self, which: str, *, substitute: bool = True) -> sp.Expr:
        """The SymPy expression of ``alpha_t``, ``sigma_t^2``, ``beta_t`` or ``D_t``.

        Parameters
        ----------
        which : {'alpha', 'sigma2', 'beta', 'D'}
        substitute : bool
            True (default) substitutes the exact parameter values of ``params``.

        Returns
        -------
        sympy.Expr
            An expression in :data:`gtv_symbolic.symbols.t`.

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> schedules.VP().expr("alpha")
        exp(-199*t**2/20 - t/10)
        >>> schedules.Fig1().expr("D")
        1/(2 - 2*t)
        """
        table = {"alpha": self.alpha_expr, "sigma2": self.sigma2_expr,
                 "beta": self.beta_expr, "D": self.D_expr}
        if which not in table:
            raise ValueError(f"which must be one of {sorted(table)}, got {which!r}")
        e = table[which]
        return e.subs(self.params) if substitute else e

    def check(self) -> bool:
        r"""Verify the schedule's consistency symbolically (paper Sec. 2).

        .. math:: \alpha_t' = -\beta_t \alpha_t, \qquad
                  \frac{dS_t}{dt} = -2\beta_t S_t + 2 D_t, \qquad S_0 = 0

        with ``S_t = sigma_t^2``, for symbolic parameters.

        Returns
        -------
        bool
            True.

        Raises
        ------
        AssertionError
            Naming the failing identity.

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> schedules.Fig1().check()
        True
        """
        t = S.t
        a, s2, b, d = (self.expr(k, substitute=False) for k in ("alpha", "sigma2", "beta", "D"))
        r1 = sp.simplify(sp.diff(a, t) + b * a)
        if r1 != 0:
            raise AssertionError(f"{self.name}: alpha' + beta*alpha = {r1} != 0")
        r2 = sp.simplify(sp.diff(s2, t) + 2 * b * s2 - 2 * d)
        if r2 != 0:
            raise AssertionError(f"{self.name}: S' + 2 beta S - 2 D = {r2} != 0")
        if sp.limit(s2, t, 0, "+") != 0:
            raise AssertionError(f"{self.name}: S(0) != 0")
        return True

    # -- numeric --------------------------------------------------------------------
    @cached_property
    def _compiled(self) -> dict[str, NumericFunction]:
        exprs = {k: self.expr(k) for k in _FUNCTIONS}
        key = (self.name, tuple(sp.srepr(e) for e in exprs.values()))
        if key not in _COMPILED:  # once per process and expression (also after unpickling)
            _COMPILED[key] = {k: lambdify([S.t], e) for k, e in exprs.items()}
        return _COMPILED[key]

    def __getstate__(self):
        # pickle by the symbolic expressions and parameters: the compiled functions do not
        # pickle, and are rebuilt lazily on first use (so schedules go to Dask workers)
        state = dict(self.__dict__)
        state.pop("_compiled", None)
        return state

    @property
    def t_domain(self) -> str:
        """The accepted interval of ``t`` as text, e.g. ``'[3e-143, 1]'``.

        ``[t_min, T]`` (``[t_min, T)`` without ``T``); a hand-built Schedule with
        ``t_min = 0`` accepts ``(0, T]``.

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> schedules.VP().t_domain, schedules.Fig1().t_domain
        ('[3e-143, 1]', '[6e-144, 1)')
        """
        lo = f"[{self.t_min:.2g}" if self.t_min > 0 else "(0"
        return f"{lo}, {self.T:g}{']' if self.include_T else ')'}"

    def validate_t(self, t, name: str = "t") -> np.ndarray:
        """Return ``t`` as a float array, or raise naming ``name`` and the accepted interval.

        The interval is :attr:`t_domain`, ``[t_min, T]`` (see the module docstring): every
        evaluator of the package is finite on it.

        Parameters
        ----------
        t : float or array_like
        name : str; the argument's name in the error message.

        Returns
        -------
        numpy.ndarray
            ``t`` as floats, same shape.

        Raises
        ------
        TypeError
            For non-numbers.
        ValueError
            For NaN, inf or values outside the interval.

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> schedules.VP().validate_t([0.5, 1.0])
        array([0.5, 1. ])
        >>> schedules.VP().validate_t(2.0)
        Traceback (most recent call last):
        ...
        ValueError: t must lie in [3e-143, 1] for the VP schedule (where every evaluator is finite);
        got values in [2, 2]
        """
        try:
            arr = np.asarray(t, dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be a real number or array of real numbers") from exc
        domain = self.t_domain
        why = f"for the {self.name} schedule (where every evaluator is finite)"
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite and lie in {domain} {why}")
        bad = (arr <= 0) | (arr < self.t_min) | ((arr > self.T) if self.include_T else (arr >= self.T))
        if np.any(bad):
            raise ValueError(f"{name} must lie in {domain} {why}; "
                             f"got values in [{arr.min():g}, {arr.max():g}]")
        return arr

    def alpha(self, t) -> np.ndarray:
        r"""Signal scale ``alpha_t``, evaluated numerically.

        .. math:: \alpha_t = \exp\Bigl(-\int_0^t \beta_s\, ds\Bigr)

        Parameters
        ----------
        t : float or array_like
            Times in :attr:`t_domain` (checked by :meth:`validate_t`).

        Returns
        -------
        numpy.ndarray, shape of ``t``

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> float(schedules.Fig1().alpha(0.75))  # sqrt(1 - t)
        0.5
        """
        t = self.validate_t(t)  # before compiling: bad input fails fast
        return self._compiled["alpha"](t)

    def sigma2(self, t) -> np.ndarray:
        r"""Noise variance ``sigma_t^2 = S_t``, evaluated numerically (expm1-stable).

        .. math:: \sigma_t^2 = \int_0^t 2 D_s\, e^{-2\int_s^t \beta_r dr}\, ds

        (the solution of ``S' = -2 beta S + 2 D``, ``S(0) = 0``); for VP ``1 - exp(-a)`` is
        evaluated as ``-expm1(-a)``, accurate at ``t = 1e-6``.

        Parameters
        ----------
        t : float or array_like
            Times in :attr:`t_domain` (checked by :meth:`validate_t`).

        Returns
        -------
        numpy.ndarray, shape of ``t``

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> vp = schedules.VP()
        >>> round(float(vp.sigma2(0.5) + vp.alpha(0.5)**2), 12)  # variance preserving
        1.0
        """
        t = self.validate_t(t)  # before compiling: bad input fails fast
        return self._compiled["sigma2"](t)

    def beta(self, t) -> np.ndarray:
        """Drift rate ``beta_t`` of ``dx = -beta_t x dt + sqrt(2 D_t) dW``, numerically.

        Parameters
        ----------
        t : float or array_like
            Times in :attr:`t_domain` (checked by :meth:`validate_t`).

        Returns
        -------
        numpy.ndarray, shape of ``t``

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> float(schedules.VP().beta(0.5))  # beta_min + beta_d t
        10.05
        """
        t = self.validate_t(t)  # before compiling: bad input fails fast
        return self._compiled["beta"](t)

    def D(self, t) -> np.ndarray:
        """Diffusion coefficient ``D_t = g_t^2 / 2``, numerically.

        Parameters
        ----------
        t : float or array_like
            Times in :attr:`t_domain` (checked by :meth:`validate_t`).

        Returns
        -------
        numpy.ndarray, shape of ``t``

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> float(schedules.VE().D(0.5))  # D = t, so that sigma^2 = t^2
        0.5
        """
        t = self.validate_t(t)  # before compiling: bad input fails fast
        return self._compiled["D"](t)

    def snr_weight(self, t) -> np.ndarray:
        r"""Denoiser-form DSM weight, the signal-to-noise ratio (paper Sec. 2).

        .. math:: \lambda_t = \frac{\alpha_t^2}{\sigma_t^2}

        Parameters
        ----------
        t : float or array_like
            Times in :attr:`t_domain` (checked by :meth:`validate_t`).

        Returns
        -------
        numpy.ndarray, shape of ``t``

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> float(schedules.VE().snr_weight(0.5))
        4.0
        """
        return self.alpha(t) ** 2 / self.sigma2(t)

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={float(v):g}" for k, v in self.params.items())
        return f"{self.name}({ps}{', ' if ps else ''}T={self.T:g})"

    def cache_key(self) -> tuple:
        """Hashable identity of the schedule (for on-disk caches).

        Returns
        -------
        tuple
            ``(name, T, ((parameter, exact value), ...))``.

        Examples
        --------
        >>> from gtv_symbolic import schedules
        >>> schedules.VP().cache_key()
        ('VP', 1.0, (('beta_min', '1/10'), ('beta_d', '199/10')))
        """
        return (self.name, self.T, tuple((str(k), str(v)) for k, v in self.params.items()))


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
