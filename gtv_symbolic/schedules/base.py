r"""The :class:`Schedule` of a forward process: SymPy expressions of ``t``, checked, compiled.

See :mod:`gtv_symbolic.schedules` for the process and the accepted times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy as sp

from .. import symbols as S
from .._validate import FLOAT_MAX, real_arg
from ..numeric import NumericFunction, lambdify

__all__ = ["Schedule"]


_FUNCTIONS = ("alpha", "sigma2", "beta", "D")
#: compiled numeric functions by (name, expressions): one lambdify per process
_COMPILED: dict = {}


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
