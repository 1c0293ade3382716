r"""The interface of a 1-D basis: one factor ``b_0(z), ..., b_{n-1}(z)`` of a crossed feature map.

A family (Gaussian bumps, Fourier modes, ...) is one subclass of :class:`AbstractBasis1D` in
its own module. Subclassing registers the family under its ``family`` name, so
:func:`gtv_symbolic.features.make_features` finds it: adding a family touches one module.
A subclass provides the values and x-derivatives, the exact Gaussian expectations used for the
population optimum ``W*`` (paper Sec. 5),

.. math::  \mathbb E[b_i(z)], \quad \mathbb E[b_i(z) b_j(z)], \qquad z \sim N(m, v),

its SymPy form, and the constructors :meth:`~gtv_symbolic.features.AbstractBasis1D.for_x` /
:meth:`~gtv_symbolic.features.AbstractBasis1D.for_t` used by the figures.

Examples
--------
>>> from gtv_symbolic.features import GaussianBasis, FourierBasis
>>> issubclass(GaussianBasis, AbstractBasis1D), sorted(REGISTRY)[:2]
(True, ['fourier', 'gaussian'])
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import sympy as sp

__all__ = ["AbstractBasis1D", "REGISTRY", "check_count", "rational"]

#: family name -> basis class (filled by subclassing).
REGISTRY: dict[str, type] = {}


def check_count(n, name: str) -> int:
    r"""``n`` as an int ``>= 1`` (a basis size or dimension); no formula: validation.

    Parameters
    ----------
    n : int
    name : str
        Argument name used in the error message.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``n`` is not an integer (bools rejected).
    ValueError
        If ``n < 1``.

    Examples
    --------
    >>> import numpy as np
    >>> check_count(np.int64(3), "n")
    3
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")
    return int(n)


class AbstractBasis1D(ABC):
    r"""A 1-D basis :math:`b_0(z), \dots, b_{n-1}(z)`: one factor of a crossed feature map.

    Subclasses (one per family; setting the class attribute ``family`` registers it) provide
    the values and derivatives, the exact Gaussian expectations used for the population optimum
    (paper Sec. 5.1),

    .. math:: \mathbb E[b_i(z)], \quad \mathbb E[b_i(z)\, b_j(z)], \qquad z \sim \mathcal N(m, v),

    the SymPy form, a cache key and the constructors ``for_x(n, lo, hi)`` / ``for_t(n, eps, T)``.

    Attributes
    ----------
    n : int
        Number of basis functions.
    family : str
        Registered family name (class attribute).

    Examples
    --------
    >>> from gtv_symbolic.features import fourier_basis
    >>> b = fourier_basis(3, 3.0)
    >>> isinstance(b, AbstractBasis1D), b.family, b.values(0.0).tolist()
    (True, 'fourier', [1.0, 1.0, 0.0])
    """

    family: str = ""
    n: int

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.family:
            REGISTRY[cls.family] = cls

    # -- constructors used by make_features ---------------------------------------------
    @classmethod
    @abstractmethod
    def for_x(cls, n: int, lo: float, hi: float) -> AbstractBasis1D:
        """The basis of one x axis on the data range ``[lo, hi]``."""

    @classmethod
    @abstractmethod
    def for_t(cls, n: int, eps: float, T: float) -> AbstractBasis1D:
        """The basis of the time axis on ``[eps, T]``."""

    # -- numeric ------------------------------------------------------------------------
    @abstractmethod
    def values(self, z) -> np.ndarray:
        """``b_i(z)`` for ``z`` of any shape; returns ``z.shape + (n,)`` (float64)."""

    @abstractmethod
    def values_and_derivative(self, z) -> tuple[np.ndarray, np.ndarray]:
        """``(b_i(z), b_i'(z))``, each ``z.shape + (n,)``."""

    def derivative(self, z) -> np.ndarray:
        """``d b_i / dz``; shape ``z.shape + (n,)``."""
        return self.values_and_derivative(z)[1]

    def columns(self, z, deriv: bool = False):
        """Values (and derivatives) with the basis axis before the last: ``z (m, N) -> (m, n, N)``.

        This layout keeps the per-point loops of the samplers contiguous.
        """
        z = np.asarray(z, dtype=float)
        if z.ndim != 2:
            raise ValueError(f"columns() takes z of shape (m, N), got {z.shape}")
        if not deriv:
            return np.ascontiguousarray(np.swapaxes(self.values(z), 1, 2))
        v, d = self.values_and_derivative(z)
        return (np.ascontiguousarray(np.swapaxes(v, 1, 2)),
                np.ascontiguousarray(np.swapaxes(d, 1, 2)))

    def derivative_weights(self):
        """``(c, v)`` when ``b_i'(z) = (c_i - z) b_i(z) / v`` (Gaussian bumps), else None.

        Lets a contraction get ``sum_i W_i b_i'(z) = (sum_i W_i c_i b_i - z sum_i W_i b_i)/v``
        from two value contractions, without a derivative pass.
        """
        return None

    # -- Gaussian expectations ------------------------------------------------------------
    @abstractmethod
    def expect(self, mean, var) -> np.ndarray:
        """``E[b_i(z)]`` for ``z ~ N(mean, var)`` (exact); shape ``mean.shape + (n,)``."""

    @abstractmethod
    def expect_outer(self, mean, var) -> np.ndarray:
        """``E[b_i(z) b_j(z)]`` for ``z ~ N(mean, var)`` (exact); shape ``mean.shape + (n, n)``."""

    # -- symbolic / identity --------------------------------------------------------------
    @abstractmethod
    def symbolic(self, z: sp.Symbol) -> list[sp.Expr]:
        """The basis functions as SymPy expressions of ``z`` (exact rational parameters)."""

    @abstractmethod
    def cache_key(self) -> tuple:
        """A hashable description of the basis (family and parameters)."""


def rational(v: float) -> sp.Rational:
    r"""``v`` as the exact rational of its shortest decimal repr, for symbolic bases.

    .. math:: v \mapsto p/q \in \mathbb Q, \qquad p/q = \texttt{repr}(v) \text{ read exactly}

    Parameters
    ----------
    v : float

    Returns
    -------
    sympy.Rational

    Examples
    --------
    >>> rational(0.1)
    1/10
    """
    return sp.Rational(str(float(v)))
