r"""Fourier basis: ``1, cos(2 pi m z / L) (m = 1..n_cos), sin(2 pi m z / L) (m = 1..n_sin)``.

``n_sin = (n - 1) // 2``, ``n_cos = n - 1 - n_sin``; ``L = 3`` for the x axes and ``L = T - eps``
for time; the argument is not shifted by the domain minimum (as the paper's ``phi_fourier``,
Sec. 6, Fig. 3). Values use the Chebyshev recurrence from one ``cos``/``sin`` pair. Writing
each mode as ``Re(c_i e^{i k_i z})``, the Gaussian expectations are characteristic functions:

.. math::  \mathbb E\,e^{ikz} = e^{ikm - k^2 v/2}, \qquad z \sim N(m, v).

Examples
--------
>>> b = fourier_basis(4, 3.0)
>>> b.n_cos, b.n_sin
(2, 1)
>>> [round(float(v), 6) for v in b.values(0.75)]
[1.0, 0.0, -1.0, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .base import AbstractBasis1D, check_count, rational

__all__ = ["FourierBasis", "fourier_basis"]


@dataclass(frozen=True, eq=False)
class FourierBasis(AbstractBasis1D):
    r"""Constant, cosine and sine modes of period :math:`L` (the paper's ``phi_fourier``, Fig. 3).

    .. math:: b(z) = \bigl(1,\ \cos(2\pi m z/L)_{m=1}^{n_{\cos}},\ \sin(2\pi m z/L)_{m=1}^{n_{\sin}}\bigr),
              \qquad n_{\sin} = \lfloor (n - 1)/2 \rfloor,\ n_{\cos} = n - 1 - n_{\sin},

    with Gaussian expectations from :math:`\mathbb E\, e^{ikz} = e^{ikm - k^2 v/2}`.

    Attributes
    ----------
    n : int
        Number of modes, ``>= 1``.
    L : float
        Period, finite and ``> 0``.

    Examples
    --------
    >>> b = FourierBasis(3, L=3.0)
    >>> b.n_cos, b.n_sin, b.expect(0.0, 1.0).round(4).tolist()  # E[cos(2 pi z/3)] = exp(-2 pi^2/9)
    (1, 1, [1.0, 0.1116, 0.0])
    """

    n: int
    L: float = 0.0
    family = "fourier"

    def __post_init__(self):
        check_count(self.n, "n")
        if not (np.isfinite(self.L) and self.L > 0):
            raise ValueError(f"L (the Fourier period) must be finite and > 0, got {self.L}")

    @classmethod
    def for_x(cls, n, lo, hi):
        return fourier_basis(n, hi - lo)

    @classmethod
    def for_t(cls, n, eps, T):
        return fourier_basis(n, T - eps)

    @property
    def n_sin(self) -> int:
        r"""Number of sine modes, :math:`n_{\sin} = \lfloor (n - 1)/2 \rfloor`."""
        return (self.n - 1) // 2

    @property
    def n_cos(self) -> int:
        r"""Number of cosine modes, :math:`n_{\cos} = n - 1 - n_{\sin}`."""
        return self.n - 1 - self.n_sin

    def cache_key(self) -> tuple:
        return ("fourier", self.n, (), 0.0, float(self.L))

    def symbolic(self, z):
        k = 2 * sp.pi / rational(self.L)
        return ([sp.Integer(1)] + [sp.cos(k * m * z) for m in range(1, self.n_cos + 1)]
                + [sp.sin(k * m * z) for m in range(1, self.n_sin + 1)])

    def values(self, z):
        return self._fourier(np.asarray(z, dtype=float))[0]

    def values_and_derivative(self, z):
        return self._fourier(np.asarray(z, dtype=float), deriv=True)

    def _fourier(self, z, deriv=False):
        k = 2 * np.pi / self.L
        th = k * z
        c1, s1 = np.cos(th), np.sin(th)
        nmax = max(self.n_cos, self.n_sin)
        cos = np.empty(z.shape + (nmax + 1,))
        sin = np.empty(z.shape + (nmax + 1,))
        cos[..., 0], sin[..., 0] = 1.0, 0.0
        if nmax >= 1:
            cos[..., 1], sin[..., 1] = c1, s1
        for m in range(2, nmax + 1):  # Chebyshev recurrence: exact up to rounding
            cos[..., m] = 2 * c1 * cos[..., m - 1] - cos[..., m - 2]
            sin[..., m] = 2 * c1 * sin[..., m - 1] - sin[..., m - 2]
        vals = np.concatenate([cos[..., : self.n_cos + 1], sin[..., 1: self.n_sin + 1]], axis=-1)
        if not deriv:
            return vals, None
        mc = np.arange(1, self.n_cos + 1) * k
        ms = np.arange(1, self.n_sin + 1) * k
        d = np.concatenate([np.zeros(z.shape + (1,)), -mc * sin[..., 1: self.n_cos + 1],
                            ms * cos[..., 1: self.n_sin + 1]], axis=-1)
        return vals, d

    def _modes(self):
        """Wave numbers ``k_i`` and complex coefficients ``c_i``: ``b_i = Re(c_i e^{i k_i z})``."""
        k = 2 * np.pi / self.L
        kk = np.concatenate([[0.0], k * np.arange(1, self.n_cos + 1),
                             k * np.arange(1, self.n_sin + 1)])
        cc = np.concatenate([np.ones(1 + self.n_cos), -1j * np.ones(self.n_sin)]).astype(complex)
        return kk, cc

    def expect(self, mean, var):
        mean = np.asarray(mean, dtype=float)[..., None]
        var = np.asarray(var, dtype=float)[..., None]
        kk, cc = self._modes()
        return np.real(cc * np.exp(1j * kk * mean - kk**2 * var / 2))

    def expect_outer(self, mean, var):
        mean = np.asarray(mean, dtype=float)[..., None, None]
        var = np.asarray(var, dtype=float)[..., None, None]
        kk, cc = self._modes()
        ki, kj = kk[:, None], kk[None, :]
        ci, cj = cc[:, None], cc[None, :]

        def char(K):
            return np.exp(1j * K * mean - K**2 * var / 2)

        # Re(a e^{iA}) Re(b e^{iB}) = (Re(ab e^{i(A+B)}) + Re(a conj(b) e^{i(A-B)}))/2
        return 0.5 * np.real(ci * cj * char(ki + kj) + ci * np.conj(cj) * char(ki - kj))


def fourier_basis(n: int, L: float) -> FourierBasis:
    r"""The Fourier basis of :math:`n` modes with period :math:`L` (:class:`FourierBasis`).

    .. math:: 1,\ \cos(2\pi m z/L)\ (m = 1..n_{\cos}),\ \sin(2\pi m z/L)\ (m = 1..n_{\sin})

    Parameters
    ----------
    n : int
        ``>= 1``.
    L : float
        Period, finite and ``> 0``.

    Returns
    -------
    FourierBasis

    Raises
    ------
    ValueError, TypeError
        For a bad ``n`` or ``L``.

    Examples
    --------
    >>> import sympy as sp
    >>> fourier_basis(3, 3.0).symbolic(sp.Symbol("z"))
    [1, cos(2*pi*z/3), sin(2*pi*z/3)]
    """
    n = check_count(n, "n")
    if not (np.isfinite(L) and L > 0):
        raise ValueError(f"the Fourier period L must be finite and > 0, got {L}")
    return FourierBasis(n, L=float(L))
