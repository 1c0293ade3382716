"""Forward processes ``dx = -beta_t x dt + sqrt(2 D_t) dW`` as SymPy expressions of ``t``.

A schedule holds ``alpha(t)``, ``sigma2(t)`` (= S_t, isotropic), ``beta(t)`` and
``D(t) = g_t^2 / 2`` (paper-math.md section 1.2). Consistency is checked symbolically:

* ``alpha_t = exp(-int_0^t beta)``, i.e. ``alpha' = -beta alpha``;
* ``dS/dt = -2 beta S + 2 D`` with ``S(0) = 0``.

Numeric evaluation (``sched.alpha(t)`` etc.) goes through :mod:`gtv_symbolic.numeric`, so
``sigma^2 = 1 - exp(-a)`` is evaluated as ``-expm1(-a)``: accurate at ``t = 1e-6``.

Examples
--------
>>> from gtv_symbolic import schedules
>>> vp = schedules.VP()
>>> float(vp.sigma2(1e-6))  # doctest: +ELLIPSIS
2.0001987...e-07
>>> vp.check()
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy as sp

from . import symbols as S
from .numeric import NumericFunction, lambdify


def _exact(value: float, name: str) -> sp.Rational:
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return sp.Rational(str(float(value)))


@dataclass(frozen=True, eq=False)
class Schedule:
    """A forward process on ``t in (0, T]`` (or ``(0, T)`` when ``T`` is excluded).

    Attributes ``alpha_expr``, ``sigma2_expr``, ``beta_expr``, ``D_expr`` are SymPy
    expressions in :data:`gtv_symbolic.symbols.t` with symbolic parameters; ``params`` maps
    those parameters to their exact values. ``expr(name)`` substitutes them.
    """

    name: str
    alpha_expr: sp.Expr
    sigma2_expr: sp.Expr
    beta_expr: sp.Expr
    D_expr: sp.Expr
    T: float
    params: dict = field(default_factory=dict)
    include_T: bool = True

    # -- symbolic -------------------------------------------------------------------
    def expr(self, which: str, *, substitute: bool = True) -> sp.Expr:
        """The SymPy expression ``which`` in {'alpha', 'sigma2', 'beta', 'D'} of ``t``."""
        table = {"alpha": self.alpha_expr, "sigma2": self.sigma2_expr,
                 "beta": self.beta_expr, "D": self.D_expr}
        if which not in table:
            raise ValueError(f"which must be one of {sorted(table)}, got {which!r}")
        e = table[which]
        return e.subs(self.params) if substitute else e

    def check(self) -> bool:
        """Verify ``alpha' = -beta alpha`` and ``S' = -2 beta S + 2 D`` symbolically.

        Raises ``AssertionError`` naming the failing identity; returns True otherwise.
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
        return {k: lambdify([S.t], self.expr(k)) for k in ("alpha", "sigma2", "beta", "D")}

    def validate_t(self, t, name: str = "t") -> np.ndarray:
        """Return ``t`` as a float array, or raise ValueError naming ``name`` and the domain."""
        arr = np.asarray(t, dtype=float)
        hi = "]" if self.include_T else ")"
        domain = f"(0, {self.T:g}{hi}"
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite and in {domain} for the {self.name} schedule")
        bad = (arr <= 0) | ((arr > self.T) if self.include_T else (arr >= self.T))
        if np.any(bad):
            raise ValueError(f"{name} must lie in {domain} for the {self.name} schedule; "
                             f"got values in [{arr.min():g}, {arr.max():g}]")
        return arr

    def alpha(self, t) -> np.ndarray:
        """alpha_t (numeric)."""
        t = self.validate_t(t)  # before compiling: bad input fails fast
        return self._compiled["alpha"](t)

    def sigma2(self, t) -> np.ndarray:
        """sigma_t^2 = S_t (numeric, expm1-stable)."""
        t = self.validate_t(t)  # before compiling: bad input fails fast
        return self._compiled["sigma2"](t)

    def beta(self, t) -> np.ndarray:
        """beta_t (numeric)."""
        t = self.validate_t(t)  # before compiling: bad input fails fast
        return self._compiled["beta"](t)

    def D(self, t) -> np.ndarray:
        """D_t = g_t^2 / 2 (numeric)."""
        t = self.validate_t(t)  # before compiling: bad input fails fast
        return self._compiled["D"](t)

    def snr_weight(self, t) -> np.ndarray:
        """Denoiser-form DSM weight alpha_t^2 / sigma_t^2 (paper-math.md section 1.6)."""
        return self.alpha(t) ** 2 / self.sigma2(t)

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={float(v):g}" for k, v in self.params.items())
        return f"{self.name}({ps}{', ' if ps else ''}T={self.T:g})"

    def cache_key(self) -> tuple:
        """Hashable identity of the schedule (for on-disk caches)."""
        return (self.name, self.T, tuple((str(k), str(v)) for k, v in self.params.items()))


def VP(beta_min: float = 0.1, beta_d: float = 19.9, T: float = 1.0) -> Schedule:
    """Variance-preserving schedule exactly as in the paper's code (``get_time_funcs('VP')``).

    ``beta_t = beta_min + beta_d t``, ``D_t = beta_t``,
    ``alpha_t = exp(-(beta_min t + beta_d t^2 / 2))``, ``sigma_t^2 = 1 - alpha_t^2``.
    """
    if not beta_min >= 0 or not beta_d >= 0 or beta_min + beta_d <= 0:
        raise ValueError(f"beta_min and beta_d must be >= 0 and not both 0, got {beta_min}, {beta_d}")
    if not T > 0:
        raise ValueError(f"T must be > 0, got {T}")
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
    )


def VE(T: float = 1.0) -> Schedule:
    """Variance-exploding schedule in EDM parametrisation: ``alpha = 1``, ``sigma^2 = t^2``, ``D = t``."""
    if not T > 0:
        raise ValueError(f"T must be > 0, got {T}")
    t = S.t
    return Schedule(name="VE", alpha_expr=sp.Integer(1), sigma2_expr=t**2,
                    beta_expr=sp.Integer(0), D_expr=t, T=float(T))


def EDM(T: float = 80.0, rho: float = 7.0) -> Schedule:
    """The EDM schedule (Karras et al.): the VE process with ``sigma = t`` up to ``T``.

    ``rho`` is the exponent of the EDM time grid, see :func:`edm_time_grid`.
    """
    sched = VE(T)
    if not rho > 0:
        raise ValueError(f"rho must be > 0, got {rho}")
    object.__setattr__(sched, "name", "EDM")
    object.__setattr__(sched, "params", {S.rho: _exact(rho, "rho")})
    return sched


def edm_time_grid(eps: float, T: float, n_steps: int, rho: float = 7.0) -> np.ndarray:
    """``t_i = (T^(1/rho) + i (eps^(1/rho) - T^(1/rho)) / N)^rho``, i = 0..N (T down to eps)."""
    if not 0 < eps < T:
        raise ValueError(f"need 0 < eps < T, got eps={eps}, T={T}")
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    i = np.arange(n_steps + 1)
    return (T ** (1 / rho) + i * (eps ** (1 / rho) - T ** (1 / rho)) / n_steps) ** rho


def Fig1() -> Schedule:
    """The Figure 1 parametrisation: ``alpha_t = sqrt(1 - t)``, ``sigma_t^2 = t``, t in (0, 1).

    Then ``beta_t = 1 / (2 (1 - t))`` and, from ``S' = -2 beta S + 2 D``,
    ``D_t = 1 / (2 (1 - t))``.
    """
    t = S.t
    return Schedule(name="Fig1", alpha_expr=sp.sqrt(1 - t), sigma2_expr=t,
                    beta_expr=1 / (2 * (1 - t)), D_expr=1 / (2 * (1 - t)), T=1.0,
                    include_T=False)


SCHEDULES = {"VP": VP, "VE": VE, "EDM": EDM, "Fig1": Fig1}


def get(name: str, **kwargs) -> Schedule:
    """Schedule by name: one of ``VP``, ``VE``, ``EDM``, ``Fig1``."""
    if name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {sorted(SCHEDULES)}, got {name!r}")
    return SCHEDULES[name](**kwargs)
