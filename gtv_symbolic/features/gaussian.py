r"""Gaussian bump basis: normalised pdf bumps ``b_i(z) = N(z; c_i, s^2)`` (the paper's ``phi_gauss``).

Centres ``c = linspace(lo, hi, n)`` and common std ``s = (c_1 - c_0)/2`` (x axes on
``[-1.5, 1.5]``, the time axis on ``[eps, T]``; paper Sec. 6, Figs. 2-3). Exact Gaussian
expectations (product of Gaussians):

.. math::  \mathbb E\,b_i(z) = N(c_i; m, s^2 + v), \qquad
           \mathbb E\,b_i b_j = N(c_i; c_j, 2 s^2)\, N\big(\tfrac{c_i + c_j}2; m, \tfrac{s^2}2 + v\big).

Examples
--------
>>> b = gaussian_basis(3, -1.0, 1.0)
>>> b.std
0.5
>>> [round(float(v), 6) for v in b.values(0.0)]
[0.107982, 0.797885, 0.107982]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy as sp

from .base import AbstractBasis1D, check_count, rational

__all__ = ["GaussianBasis", "gaussian_basis"]

#: Largest n using the 3-exponential recurrence in :meth:`GaussianBasis.columns`.
_RECURRENCE_MAX = 19


@dataclass(frozen=True, eq=False)
class GaussianBasis(AbstractBasis1D):
    r"""Normalised Gaussian bumps :math:`b_i(z) = \mathcal N(z; c_i, s^2)` (the paper's ``phi_gauss``).

    .. math:: b_i(z) = \frac{1}{\sqrt{2\pi}\, s} e^{-(z - c_i)^2 / (2 s^2)}, \qquad
              \mathbb E\, b_i(z) = \mathcal N(c_i; m, s^2 + v) \text{ for } z \sim \mathcal N(m, v)

    Attributes
    ----------
    n : int
        Number of bumps, ``>= 1``.
    centres : tuple of float, length n
        Finite centres :math:`c_i`.
    std : float
        Common width :math:`s > 0`.

    Examples
    --------
    >>> b = GaussianBasis(2, centres=(0.0, 1.0), std=0.5)
    >>> b.values(0.0).round(4), b.uniform
    (array([0.7979, 0.108 ]), True)
    """

    n: int
    centres: tuple = ()
    std: float = 0.0
    family = "gaussian"

    def __post_init__(self):
        check_count(self.n, "n")
        c = np.asarray(self.centres, dtype=float)
        if c.shape != (self.n,) or not np.all(np.isfinite(c)):
            raise ValueError(f"centres must be {self.n} (n) finite numbers, got shape {c.shape}")
        if not (np.isfinite(self.std) and self.std > 0):
            raise ValueError(f"std must be finite and > 0, got {self.std}")

    @classmethod
    def for_x(cls, n, lo, hi):
        return gaussian_basis(n, lo, hi)

    @classmethod
    def for_t(cls, n, eps, T):
        return gaussian_basis(n, eps, T)

    @cached_property
    def c(self) -> np.ndarray:
        """The centres as a float array."""
        return np.asarray(self.centres, dtype=float)

    @cached_property
    def uniform(self) -> bool:
        """Equally spaced centres (needed by the recurrence and the compiled sampler)."""
        c = self.c
        return c.size >= 2 and bool(np.allclose(np.diff(c), c[1] - c[0], rtol=1e-12, atol=0))

    def cache_key(self) -> tuple:
        return ("gaussian", self.n, tuple(float(c) for c in self.centres), float(self.std), 0.0)

    def symbolic(self, z):
        s = rational(self.std)
        return [sp.exp(-(z - rational(c)) ** 2 / (2 * s**2)) / (sp.sqrt(2 * sp.pi) * s)
                for c in self.centres]

    def values(self, z):
        out = np.asarray(z, dtype=float)[..., None] - self.c
        out *= out
        out *= -1.0 / (2 * self.std**2)
        np.exp(out, out=out)  # in place: this is the hot loop of the samplers
        out *= 1.0 / (np.sqrt(2 * np.pi) * self.std)
        return out

    def derivative(self, z):
        z = np.asarray(z, dtype=float)
        return self.values(z) * (-(z[..., None] - self.c) / self.std**2)

    def values_and_derivative(self, z):
        z = np.asarray(z, dtype=float)
        g = self.values(z)
        d = self.c - z[..., None]
        d *= g
        d *= 1.0 / self.std**2
        return g, d

    def derivative_weights(self):
        if 2 <= self.n <= _RECURRENCE_MAX:
            return self.c, self.std**2
        return None

    def columns(self, z, deriv: bool = False):
        """Column layout ``(m, n, N)``; equally spaced centres use the exact recurrence

        ``b_{i+1} = b_i exp(delta (z - c_0)/s^2) exp(-(2i+1) delta^2 / (2 s^2))`` on values
        scaled by the nearest bump (3 exponentials per point instead of n; the scaled values
        stay in [1e-200, 1], so nothing under- or overflows). Points beyond one spacing
        outside the centres, uneven centres, or n > 19 use the direct formula.
        """
        z = np.asarray(z, dtype=float)
        if z.ndim != 2:
            raise ValueError(f"columns() takes z of shape (m, N), got {z.shape}")
        if not (2 <= self.n <= _RECURRENCE_MAX and self.uniform):
            return super().columns(z, deriv)
        c, s, n = self.c, self.std, self.n
        delta = c[1] - c[0]
        j = np.clip(np.rint((z - c[0]) / delta), 0, n - 1)
        far = (z < c[0] - delta) | (z > c[-1] + delta)
        zc = np.where(far, c[0], z)
        inv2s2 = 1.0 / (2 * s**2)
        rj = zc - (c[0] + j * delta)
        r0 = zc - c[0]
        e_j = -(rj * rj) * inv2s2
        out = np.empty((z.shape[0], n, z.shape[1]))
        out[:, 0] = np.exp(-(r0 * r0) * inv2s2 - e_j)
        ratio = np.exp((delta / s**2) * r0)
        kappa = np.exp(-(2 * np.arange(n - 1) + 1) * delta**2 * inv2s2)
        for i in range(n - 1):
            np.multiply(out[:, i], ratio, out=out[:, i + 1])
            out[:, i + 1] *= kappa[i]
        out *= (np.exp(e_j) / (np.sqrt(2 * np.pi) * s))[:, None, :]
        if np.any(far):
            mi, pi = np.nonzero(far)
            out[mi, :, pi] = self.values(z[mi, pi])
        if not deriv:
            return out
        d = c[None, :, None] - z[:, None, :]
        d *= out
        d *= 1.0 / s**2
        return out, d

    def expect(self, mean, var):
        mean = np.asarray(mean, dtype=float)[..., None]
        var = np.asarray(var, dtype=float)[..., None]
        v = self.std**2 + var
        return np.exp(-((self.c - mean) ** 2) / (2 * v)) / np.sqrt(2 * np.pi * v)

    def expect_outer(self, mean, var):
        mean = np.asarray(mean, dtype=float)[..., None, None]
        var = np.asarray(var, dtype=float)[..., None, None]
        # N(z;ci,s2) N(z;cj,s2) = N(ci;cj,2s2) N(z;(ci+cj)/2,s2/2)
        s2 = self.std**2
        ci, cj = self.c[:, None], self.c[None, :]
        pre = np.exp(-((ci - cj) ** 2) / (4 * s2)) / np.sqrt(4 * np.pi * s2)
        v = s2 / 2 + var
        return pre * np.exp(-(((ci + cj) / 2 - mean) ** 2) / (2 * v)) / np.sqrt(2 * np.pi * v)


def gaussian_basis(n: int, lo: float, hi: float) -> GaussianBasis:
    r"""Gaussian bumps with centres ``linspace(lo, hi, n)`` and std half the spacing (``phi_gauss``).

    .. math:: c_i = lo + i\,\frac{hi - lo}{n - 1}, \qquad s = \frac{c_1 - c_0}{2}

    Parameters
    ----------
    n : int
        ``>= 2``.
    lo, hi : float
        Finite, ``lo < hi``.

    Returns
    -------
    GaussianBasis

    Raises
    ------
    ValueError, TypeError
        For a bad ``n`` or range.

    Examples
    --------
    >>> b = gaussian_basis(3, -1.0, 1.0)
    >>> b.c.tolist(), b.std
    ([-1.0, 0.0, 1.0], 0.5)
    """
    n = check_count(n, "n")
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
        raise ValueError(f"need finite lo < hi for Gaussian centres, got lo={lo}, hi={hi}")
    if n < 2:
        raise ValueError(f"a Gaussian basis needs n >= 2 centres (std = spacing/2), got n={n}")
    c = np.linspace(lo, hi, n)
    return GaussianBasis(n, centres=tuple(c), std=float((c[1] - c[0]) / 2))
