r"""Feature maps of the linear denoisers of Figs. 2 and 3: symbolic definitions, fast numerics.

A crossed (tensor-product) feature map over ``x in R^D`` and ``t`` is

.. math::  \phi_{i_1 \dots i_D k}(x, t) = b^{(1)}_{i_1}(x_1) \cdots b^{(D)}_{i_D}(x_D)\, h_k(t),

with ``F = n_x^D n_t`` features, flattened in C order over ``(i_1, ..., i_D, k)`` exactly as
the paper's code (``get_phi_crossed_func_*``: ``phi_x[:, :, None] * phi_t[:, None, :]``).
Two 1-D families are provided (paper-math.md section 8):

* ``'gaussian'``: normalised Gaussian pdf bumps ``b_i(z) = N(z; c_i, s^2)``, centres
  ``c = linspace(lo, hi, n)``, ``s = (c_1 - c_0) / 2`` (x: ``[-1.5, 1.5]``; t: ``[eps, T]``);
* ``'fourier'``: ``1, cos(2 pi n z / L) (n = 1..n_cos), sin(2 pi n z / L) (n = 1..n_sin)`` with
  ``n_sin = (n - 1) // 2``, ``n_cos = n - 1 - n_sin``; ``L = 3`` for x, ``L = T - eps`` for t;
  the argument is *not* shifted by the domain minimum (as in the paper's ``phi_fourier``).

Numerics are separable: the 1-D bases are evaluated per axis and contracted one axis at a
time (:meth:`FeatureMap.apply`), so a learned denoiser ``W phi(x, t)`` costs
``O(n_x^D)`` per point and never materialises the dense (grid x grid x time x F) array the
paper's code built. Fourier modes use the Chebyshev recurrence from one ``cos``/``sin`` pair.

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic.features import make_features
>>> fm = make_features("gaussian", dim=1, n_x=16, n_t=16, eps=1e-2)
>>> fm.n_features, fm.family
(256, 'gaussian')
>>> fm(np.zeros((5, 1)), 0.5).shape
(5, 256)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy as sp

from . import symbols as S

FAMILIES = ("gaussian", "fourier")
#: Upper bound on the number of features (F x F matrices must fit in memory: 4096^2 * 8 B).
MAX_FEATURES = 4096

__all__ = ["Basis1D", "FeatureMap", "make_features", "gaussian_basis", "fourier_basis",
           "FAMILIES", "MAX_FEATURES"]


def _rational(v: float) -> sp.Rational:
    return sp.Rational(str(float(v)))


# ----------------------------------------------------------------------------------------
# One axis
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Basis1D:
    """A 1-D basis ``b_0(z), ..., b_{n-1}(z)`` (one factor of a crossed feature map).

    Attributes
    ----------
    family : 'gaussian' or 'fourier'
    n : int
        Number of basis functions.
    centres, std : (gaussian) centres ``c_i`` and common std ``s``.
    L : (fourier) period; ``n_cos``/``n_sin`` numbers of cosine/sine modes.
    """

    family: str
    n: int
    centres: tuple = ()
    std: float = 0.0
    L: float = 0.0

    @property
    def n_sin(self) -> int:
        return (self.n - 1) // 2

    @property
    def n_cos(self) -> int:
        return self.n - 1 - self.n_sin

    def cache_key(self) -> tuple:
        return (self.family, self.n, tuple(float(c) for c in self.centres), float(self.std),
                float(self.L))

    # -- symbolic ---------------------------------------------------------------------
    def symbolic(self, z: sp.Symbol) -> list[sp.Expr]:
        """The basis functions as SymPy expressions of ``z`` (exact rational parameters)."""
        if self.family == "gaussian":
            s = _rational(self.std)
            return [sp.exp(-(z - _rational(c)) ** 2 / (2 * s**2)) / (sp.sqrt(2 * sp.pi) * s)
                    for c in self.centres]
        k = 2 * sp.pi / _rational(self.L)
        return ([sp.Integer(1)] + [sp.cos(k * m * z) for m in range(1, self.n_cos + 1)]
                + [sp.sin(k * m * z) for m in range(1, self.n_sin + 1)])

    # -- numeric ----------------------------------------------------------------------
    @cached_property
    def _c(self) -> np.ndarray:
        return np.asarray(self.centres, dtype=float)

    def values(self, z) -> np.ndarray:
        """``b_i(z)`` for ``z`` of any shape; returns ``z.shape + (n,)`` (float64).

        Gaussian: ``N(z; c_i, s^2)``; Fourier: Chebyshev recurrence from ``cos, sin(2 pi z/L)``.
        """
        z = np.asarray(z, dtype=float)
        if self.family == "fourier":
            return self._fourier(z)[0]
        return self._gauss(z)

    def derivative(self, z) -> np.ndarray:
        """``d b_i / dz``; shape ``z.shape + (n,)``."""
        z = np.asarray(z, dtype=float)
        if self.family == "fourier":
            return self._fourier(z, deriv=True)[1]
        c, s = self._c, self.std
        return self._gauss(z) * (-(z[..., None] - c) / s**2)

    def values_and_derivative(self, z):
        z = np.asarray(z, dtype=float)
        if self.family == "fourier":
            return self._fourier(z, deriv=True)
        g = self._gauss(z)
        d = self._c - z[..., None]
        d *= g
        d *= 1.0 / self.std**2
        return g, d

    def columns(self, z, deriv: bool = False):
        """Values (and derivatives) with the basis axis *before* the last axis.

        ``z`` has shape ``(m, N)``; returns ``(m, n, N)`` arrays. This layout keeps the
        per-point loops contiguous for the samplers. Gaussian bumps with equally spaced
        centres use the exact recurrence ``b_{i+1} = b_i exp(delta (z - c_0)/s^2)
        exp(-(2i+1) delta^2 / (2 s^2))`` on values scaled by the nearest bump (3 exponentials
        per point instead of n; the scaled values stay in [1e-200, 1], so nothing under- or
        overflows); points beyond one spacing outside the centres, or n > 19, use the direct
        formula.
        """
        z = np.asarray(z, dtype=float)
        if z.ndim != 2:
            raise ValueError(f"columns() takes z of shape (m, N), got {z.shape}")
        if self.family == "fourier" or self.n > 19 or self.n == 1:
            v, d = (self.values_and_derivative(z) if deriv else (self.values(z), None))
            v = np.ascontiguousarray(np.swapaxes(v, 1, 2))
            return (v, np.ascontiguousarray(np.swapaxes(d, 1, 2))) if deriv else v
        c, s, n = self._c, self.std, self.n
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
            out[mi, :, pi] = self._gauss_direct(z[mi, pi])
        if not deriv:
            return out
        d = c[None, :, None] - z[:, None, :]
        d *= out
        d *= 1.0 / s**2
        return out, d

    def _gauss_direct(self, z):
        c, s = self._c, self.std
        out = z[..., None] - c
        out *= out
        out *= -1.0 / (2 * s**2)
        np.exp(out, out=out)  # in place: this is the hot loop of the samplers
        out *= 1.0 / (np.sqrt(2 * np.pi) * s)
        return out

    def _gauss(self, z):
        return self._gauss_direct(z)

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

    # -- Gaussian expectations (used for population moments) ----------------------------
    def expect(self, mean, var) -> np.ndarray:
        """``E[b_i(z)]`` for ``z ~ N(mean, var)`` (exact); shape ``mean.shape + (n,)``."""
        mean = np.asarray(mean, dtype=float)[..., None]
        var = np.asarray(var, dtype=float)[..., None]
        if self.family == "gaussian":
            v = self.std**2 + var
            return np.exp(-((self._c - mean) ** 2) / (2 * v)) / np.sqrt(2 * np.pi * v)
        kk, cc = self._modes()
        return np.real(cc * np.exp(1j * kk * mean - kk**2 * var / 2))

    def expect_outer(self, mean, var) -> np.ndarray:
        """``E[b_i(z) b_j(z)]`` for ``z ~ N(mean, var)`` (exact); shape ``mean.shape + (n, n)``."""
        mean = np.asarray(mean, dtype=float)[..., None, None]
        var = np.asarray(var, dtype=float)[..., None, None]
        if self.family == "gaussian":
            # N(z;ci,s2) N(z;cj,s2) = N(ci;cj,2s2) N(z;(ci+cj)/2,s2/2)
            s2 = self.std**2
            ci, cj = self._c[:, None], self._c[None, :]
            pre = np.exp(-((ci - cj) ** 2) / (4 * s2)) / np.sqrt(4 * np.pi * s2)
            v = s2 / 2 + var
            return pre * np.exp(-(((ci + cj) / 2 - mean) ** 2) / (2 * v)) / np.sqrt(2 * np.pi * v)
        kk, cc = self._modes()
        ki, kj = kk[:, None], kk[None, :]
        ci, cj = cc[:, None], cc[None, :]

        def char(K):
            return np.exp(1j * K * mean - K**2 * var / 2)

        # Re(a e^{iA}) Re(b e^{iB}) = (Re(ab e^{i(A+B)}) + Re(a conj(b) e^{i(A-B)}))/2
        return 0.5 * np.real(ci * cj * char(ki + kj) + ci * np.conj(cj) * char(ki - kj))

    def _modes(self):
        """Fourier basis as ``Re(c_i exp(i k_i z))``: wave numbers and complex coefficients."""
        k = 2 * np.pi / self.L
        kk = np.concatenate([[0.0], k * np.arange(1, self.n_cos + 1), k * np.arange(1, self.n_sin + 1)])
        cc = np.concatenate([np.ones(1 + self.n_cos), -1j * np.ones(self.n_sin)]).astype(complex)
        return kk, cc


def gaussian_basis(n: int, lo: float, hi: float) -> Basis1D:
    """Gaussian pdf bumps, centres ``linspace(lo, hi, n)``, std = spacing / 2 (paper ``phi_gauss``)."""
    n = _check_n(n, "n")
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
        raise ValueError(f"need finite lo < hi for Gaussian centres, got lo={lo}, hi={hi}")
    if n < 2:
        raise ValueError(f"a Gaussian basis needs n >= 2 centres (std = spacing/2), got n={n}")
    c = np.linspace(lo, hi, n)
    return Basis1D("gaussian", n, centres=tuple(c), std=float((c[1] - c[0]) / 2))


def fourier_basis(n: int, L: float) -> Basis1D:
    """``1, cos(2 pi m z/L) (m=1..n_cos), sin(2 pi m z/L) (m=1..n_sin)`` (paper ``phi_fourier``)."""
    n = _check_n(n, "n")
    if not (np.isfinite(L) and L > 0):
        raise ValueError(f"the Fourier period L must be finite and > 0, got {L}")
    return Basis1D("fourier", n, L=float(L))


def _check_n(n, name):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{name} must be >= 1, got {n}")
    return int(n)


# ----------------------------------------------------------------------------------------
# Crossed feature map
# ----------------------------------------------------------------------------------------
class FeatureMap:
    r"""Crossed feature map ``phi(x, t) = b^(1)(x_1) (x) ... (x) b^(D)(x_D) (x) h(t)``.

    Attributes
    ----------
    dim : int                D, the data dimension.
    n_features : int         F = prod of the axis sizes.
    family : str             'gaussian' or 'fourier' (family of the x axes).
    shape : tuple            axis sizes ``(n_1, ..., n_D, n_t)``; C-order flattening.
    x_bases, t_basis         the per-axis :class:`Basis1D`.

    Calling conventions: ``x`` has shape ``(..., D)``; ``t`` is a scalar or broadcasts against
    ``x[..., 0]``. ``fm(x, t)`` returns ``(..., F)``, ``fm.grad_x(x, t)`` returns
    ``(..., F, D)``. For learned weights ``W`` of shape ``(..., D_out, F)`` use
    :meth:`apply` (separable, no ``(..., F)`` intermediate).
    """

    def __init__(self, x_bases, t_basis: Basis1D, family: str | None = None):
        self.x_bases = tuple(x_bases)
        if not self.x_bases:
            raise ValueError("a feature map needs at least one x axis (D >= 1)")
        self.t_basis = t_basis
        self.dim = len(self.x_bases)
        self.shape = tuple(b.n for b in self.x_bases) + (t_basis.n,)
        self.n_features = int(np.prod(self.shape))
        self.family = family or self.x_bases[0].family
        if self.n_features > MAX_FEATURES:
            raise ValueError(f"n_features = {self.n_features} is too large: at most {MAX_FEATURES} "
                             f"features are supported (F x F matrices must fit in memory)")

    def __repr__(self) -> str:
        return (f"FeatureMap(family={self.family!r}, dim={self.dim}, shape={self.shape}, "
                f"F={self.n_features})")

    def cache_key(self) -> tuple:
        return (self.family, tuple(b.cache_key() for b in self.x_bases), self.t_basis.cache_key())

    # -- input handling -----------------------------------------------------------------
    def _inputs(self, x, t):
        x = np.asarray(x, dtype=float)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape (..., {self.dim}), got shape {x.shape}")
        t = np.asarray(t, dtype=float)
        try:
            batch = np.broadcast_shapes(x.shape[:-1], t.shape)
        except ValueError:
            raise ValueError(f"t with shape {t.shape} does not broadcast against x's batch "
                             f"shape {x.shape[:-1]}") from None
        return x, t, batch

    def axis_values(self, x, t, deriv: bool = False):
        """Per-axis values ``[b^(1)(x_1), ..., b^(D)(x_D), h(t)]`` (and x-derivatives)."""
        x, t, _ = self._inputs(x, t)
        vals, ders = [], []
        for d, b in enumerate(self.x_bases):
            if deriv:
                v, dv = b.values_and_derivative(x[..., d])
                ders.append(dv)
            else:
                v = b.values(x[..., d])
            vals.append(v)
        vals.append(self.t_basis.values(t))
        return (vals, ders) if deriv else vals

    # -- dense evaluation ---------------------------------------------------------------
    def __call__(self, x, t) -> np.ndarray:
        """``phi(x, t)``, shape ``(..., F)`` (C-order outer product of the axis values)."""
        x, t, batch = self._inputs(x, t)
        vals = self.axis_values(x, t)
        out = np.broadcast_to(vals[0], batch + vals[0].shape[-1:])
        for v in vals[1:]:
            out = (out[..., :, None] * v[..., None, :]).reshape(batch + (-1,))
        return np.ascontiguousarray(out)

    def grad_x(self, x, t) -> np.ndarray:
        """``d phi_f / d x_d``, shape ``(..., F, D)`` (product rule on one factor at a time)."""
        x, t, batch = self._inputs(x, t)
        vals, ders = self.axis_values(x, t, deriv=True)
        cols = []
        for d in range(self.dim):
            factors = list(vals)
            factors[d] = ders[d]
            out = np.broadcast_to(factors[0], batch + factors[0].shape[-1:])
            for v in factors[1:]:
                out = (out[..., :, None] * v[..., None, :]).reshape(batch + (-1,))
            cols.append(out)
        return np.stack(cols, axis=-1)

    # -- separable contraction with weights ------------------------------------------------
    def contract_t(self, W, t: float) -> np.ndarray:
        """``sum_k W[..., i_1..i_D, k] h_k(t)`` for a scalar ``t``: shape ``W.shape[:-1] + (n_1..n_D)``.

        ``W`` has shape ``(..., F)``; the result is the time-slice of the model, reused for all
        points of a sampler step.
        """
        W = np.asarray(W, dtype=float)
        if W.shape[-1] != self.n_features:
            raise ValueError(f"W must have last axis F = {self.n_features}, got shape {W.shape}")
        h = self.t_basis.values(np.asarray(float(t)))
        return W.reshape(W.shape[:-1] + self.shape) @ h

    def apply(self, W, x, t, *, jacobian: bool = False):
        r"""Evaluate ``y = W phi(x, t)`` separably; optionally ``dy/dx``.

        Parameters
        ----------
        W : array (n_models, D_out, F) or (D_out, F)
        x : array (n_models, ..., D) (or (..., D) for 2-D ``W``)
        t : float
            Scalar time (one sampler step); the time axis is contracted first.
        jacobian : bool
            Also return ``dy/dx`` with shape ``(n_models, ..., D_out, D)``.

        Cost per point: ``D_out * n_1 * ... * n_D`` multiply-adds (versus ``D_out * F`` for the
        dense product) and one 1-D basis evaluation per axis.
        """
        W = np.asarray(W, dtype=float)
        single = W.ndim == 2
        if single:
            W = W[None]
            x = np.asarray(x, dtype=float)[None]
        if W.ndim != 3:
            raise ValueError(f"W must have shape (n_models, D_out, F) or (D_out, F), got {W.shape}")
        x = np.asarray(x, dtype=float)
        if x.ndim < 2 or x.shape[0] != W.shape[0] or x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape (n_models={W.shape[0]}, ..., {self.dim}), "
                             f"got {x.shape}")
        if np.ndim(t) != 0:
            raise ValueError("apply() takes a scalar t (one sampler step); use __call__ for "
                             "per-point times")
        nm, dout = W.shape[:2]
        pts = x.shape[1:-1]
        xf = x.reshape(nm, -1, self.dim)
        Wt = self.contract_t(W, t)  # (nm, dout, n_1, ..., n_D)
        if self.dim <= 2:
            y, jac = _contract_columns(Wt, xf, self.x_bases, jacobian)
        else:
            vals, ders = [], []
            for d, b in enumerate(self.x_bases):
                if jacobian:
                    v, dv = b.values_and_derivative(xf[..., d])
                    ders.append(dv)
                else:
                    v = b.values(xf[..., d])
                vals.append(v)
            y, jac = _contract(Wt, vals, ders if jacobian else None)
        y = y.reshape((nm,) + pts + (dout,))
        if jacobian:
            jac = jac.reshape((nm,) + pts + (dout, self.dim))
        if single:
            y = y[0]
            jac = jac[0] if jacobian else None
        return (y, jac) if jacobian else y

    def apply_per_point(self, W, model, x, t, *, jacobian: bool = False):
        """Like :meth:`apply` for a ragged batch: point ``p`` uses model ``model[p]``.

        ``W (n_models, D_out, F)``, ``model (N,)`` integer, ``x (N, D)``, scalar ``t``;
        returns ``(N, D_out)`` (and ``(N, D_out, D)``). Used by adaptive transport, where
        each model refines a different number of points (no padding to a common count).
        """
        W = np.asarray(W, dtype=float)
        x = np.asarray(x, dtype=float)
        model = np.asarray(model)
        if W.ndim != 3 or x.ndim != 2 or x.shape[-1] != self.dim or model.shape != x.shape[:1]:
            raise ValueError("apply_per_point needs W (n_models, D_out, F), x (N, D), model (N,)")
        Wt = self.contract_t(W, t)  # (nm, dout, n_1, ..., n_D)
        dout = Wt.shape[1]
        letters = "abcdefgh"[: self.dim]
        spec = "pk" + letters + "," + ",".join(f"{c}p" for c in letters) + "->pk"
        N = x.shape[0]
        y = np.empty((N, dout))
        jac = np.empty((N, dout, self.dim)) if jacobian else None
        step = 8192  # block of points: work arrays stay in cache
        gauss = [b.family == "gaussian" and 2 <= b.n <= 19 for b in self.x_bases]
        if jacobian:
            # Gaussian axis d: sum_i W_i b_i'(z) = (sum_i W_i c_i b_i(z) - z sum_i W_i b_i(z))/s^2
            Wtc = [Wt * b._c.reshape((-1,) + (1,) * (self.dim - 1 - d)) if g else None
                   for d, (b, g) in enumerate(zip(self.x_bases, gauss, strict=True))]
        for s in range(0, N, step):
            sl = slice(s, min(s + step, N))
            vals, ders = [], []
            for d, b in enumerate(self.x_bases):
                if jacobian and not gauss[d]:
                    v, dv = b.columns(x[None, sl, d], deriv=True)
                    ders.append(dv[0])
                else:
                    v = b.columns(x[None, sl, d])
                    ders.append(None)
                vals.append(v[0])  # (n_d, n)
            mi = model[sl]
            yy = np.einsum(spec, Wt[mi], *vals, optimize=self.dim > 1)
            y[sl] = yy
            if jacobian:
                for d in range(self.dim):
                    if gauss[d]:
                        jac[sl, :, d] = (np.einsum(spec, Wtc[d][mi], *vals, optimize=self.dim > 1)
                                         - x[sl, d][:, None] * yy) / self.x_bases[d].std**2
                    else:
                        f = list(vals)
                        f[d] = ders[d]
                        jac[sl, :, d] = np.einsum(spec, Wt[mi], *f, optimize=self.dim > 1)
        return (y, jac) if jacobian else y

    # -- symbolic -----------------------------------------------------------------------
    def symbolic(self) -> sp.Matrix:
        """``phi`` as a SymPy column Matrix (F x 1) in ``symbols.x_vec(D)`` and ``symbols.t``."""
        xs = S.x_vec(self.dim)
        per_axis = [b.symbolic(xs[d]) for d, b in enumerate(self.x_bases)]
        per_axis.append(self.t_basis.symbolic(S.t))
        out = [sp.Integer(1)]
        for axis in per_axis:
            out = [a * b for a in out for b in axis]
        return sp.Matrix(out)


def _contract_columns(Wt, xf, bases, jacobian, chunk_points: int = 16384):
    """D = 1 or 2: contract ``Wt (nm, dout, n_1[, n_2])`` with column-layout axis values.

    Returns ``y (nm, N, dout)`` and optionally ``jac (nm, N, dout, D)``. Points are processed
    in blocks of about ``chunk_points`` (all models) so the work arrays stay in cache.
    For a Gaussian axis the x-derivative needs no extra basis pass:
    ``sum_i W_i b_i'(z) = (sum_i W_i c_i b_i(z) - z sum_i W_i b_i(z)) / s^2``.
    """
    nm, dout = Wt.shape[:2]
    N = xf.shape[1]
    D = len(bases)
    y = np.empty((nm, N, dout))
    jac = np.empty((nm, N, dout, D)) if jacobian else None
    step = max(1, chunk_points // nm)
    gauss = [b.family == "gaussian" and 2 <= b.n <= 19 for b in bases]
    if D == 1:
        W1 = Wt
        Wc = Wt * bases[0]._c if (jacobian and gauss[0]) else None
    else:
        n1, n2 = Wt.shape[2:]
        W1 = np.ascontiguousarray(np.swapaxes(Wt, 2, 3)).reshape(nm, dout * n2, n1)
        if jacobian:
            Wc1 = Wt * bases[0]._c[:, None] if gauss[0] else None
            Wc1 = (np.ascontiguousarray(np.swapaxes(Wc1, 2, 3)).reshape(nm, dout * n2, n1)
                   if Wc1 is not None else None)
    for s in range(0, N, step):
        sl = slice(s, min(s + step, N))
        z = xf[:, sl]
        if D == 1:
            need_d = jacobian and not gauss[0]
            cols = bases[0].columns(z[..., 0], deriv=need_d)
            v, d = cols if need_d else (cols, None)
            yy = W1 @ v  # (nm, dout, n)
            y[:, sl] = np.swapaxes(yy, 1, 2)
            if jacobian:
                if gauss[0]:
                    jj = (Wc @ v - z[..., 0][:, None, :] * yy) / bases[0].std**2
                else:
                    jj = W1 @ d
                jac[:, sl, :, 0] = np.swapaxes(jj, 1, 2)
            continue
        need = [jacobian and not g for g in gauss]
        c1 = bases[0].columns(z[..., 0], deriv=need[0])
        c2 = bases[1].columns(z[..., 1], deriv=need[1])
        v1, d1 = c1 if need[0] else (c1, None)
        v2, d2 = c2 if need[1] else (c2, None)
        n_pts = z.shape[1]
        B = (W1 @ v1).reshape(nm, dout, n2, n_pts)
        yy = np.einsum("mdjn,mjn->mdn", B, v2)
        y[:, sl] = np.swapaxes(yy, 1, 2)
        if not jacobian:
            continue
        if gauss[0]:
            Bc = (Wc1 @ v1).reshape(nm, dout, n2, n_pts)
            j0 = (np.einsum("mdjn,mjn->mdn", Bc, v2) - z[..., 0][:, None, :] * yy) / bases[0].std**2
        else:
            j0 = np.einsum("mdjn,mjn->mdn", (W1 @ d1).reshape(nm, dout, n2, n_pts), v2)
        if gauss[1]:
            c = bases[1]._c
            j1 = (np.einsum("mdjn,mjn->mdn", B * c[:, None], v2)
                  - z[..., 1][:, None, :] * yy) / bases[1].std**2
        else:
            j1 = np.einsum("mdjn,mjn->mdn", B, d2)
        jac[:, sl, :, 0] = np.swapaxes(j0, 1, 2)
        jac[:, sl, :, 1] = np.swapaxes(j1, 1, 2)
    return y, jac


def _contract(Wt, vals, ders):
    """Contract ``Wt (nm, dout, n_1..n_D)`` with per-point axis values ``vals[d] (nm, N, n_d)``.

    The first axis is a batched matmul (BLAS); the rest are row-wise dot products.
    Returns ``y (nm, N, dout)`` and, if ``ders`` is given, ``jac (nm, N, dout, D)``.
    """
    nm, dout = Wt.shape[:2]
    D = len(vals)
    n_pts = vals[0].shape[1]
    rest = int(np.prod(Wt.shape[3:])) if D > 1 else 1
    W1 = Wt.reshape(nm, dout, Wt.shape[2], rest).transpose(0, 2, 1, 3).reshape(nm, Wt.shape[2], -1)

    def reduce_rest(B, factors):
        # B: (nm, N, dout, n_2, ..., n_D); contract axes 2..D with factors (nm, N, n_d)
        for f in factors:
            B = np.einsum("mnd...j,mnj->mnd...", B, f)
        return B

    shape_rest = (nm, n_pts, dout) + tuple(v.shape[-1] for v in vals[1:])
    B = (vals[0] @ W1).reshape(shape_rest)
    y = reduce_rest(B, vals[1:])
    if ders is None:
        return y, None
    jac = np.empty((nm, n_pts, dout, D))
    jac[..., 0] = reduce_rest((ders[0] @ W1).reshape(shape_rest), vals[1:])
    for d in range(1, D):
        factors = list(vals[1:])
        factors[d - 1] = ders[d]
        jac[..., d] = reduce_rest(B, factors)
    return y, jac


def make_features(family: str, dim: int, n_x: int, n_t: int, eps: float, T: float = 1.0,
                  x_range=(-1.5, 1.5)) -> FeatureMap:
    """Crossed features of the paper's figures (paper-math.md section 8).

    Parameters
    ----------
    family : 'gaussian' | 'fourier'
    dim : int
        Data dimension D (each x axis gets ``n_x`` basis functions).
    n_x, n_t : int
        Basis sizes per x axis and for t; ``F = n_x**dim * n_t``.
    eps, T : float
        Time window ``[eps, T]`` (Gaussian t-centres ``linspace(eps, T, n_t)``; Fourier
        t-period ``L = T - eps``).
    x_range : (lo, hi)
        Gaussian x-centres ``linspace(lo, hi, n_x)``; Fourier x-period ``L = hi - lo``.

    Examples: Fig. 2 is ``make_features('gaussian', 1, 16, 16, eps)``; Fig. 3 is
    ``make_features(family, 2, 10, 10, 1e-2)``.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    dim = _check_n(dim, "dim")
    n_x = _check_n(n_x, "n_x")
    n_t = _check_n(n_t, "n_t")
    if not (np.isfinite(T) and T > 0):
        raise ValueError(f"T must be finite and > 0, got {T}")
    if not (np.isfinite(eps) and 0 < eps < T):
        raise ValueError(f"eps must lie in (0, T) = (0, {T:g}), got {eps}")
    lo, hi = map(float, x_range)
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
        raise ValueError(f"x_range must be (lo, hi) with lo < hi, got {x_range}")
    F = n_x**dim * n_t
    if F > MAX_FEATURES:
        raise ValueError(f"n_x**dim * n_t = {F} features is too large: at most {MAX_FEATURES} "
                         f"are supported (F x F matrices must fit in memory)")
    if family == "gaussian":
        xb = gaussian_basis(n_x, lo, hi)
        tb = gaussian_basis(n_t, eps, T)
    else:
        xb = fourier_basis(n_x, hi - lo)
        tb = fourier_basis(n_t, T - eps)
    return FeatureMap([xb] * dim, tb, family=family)
