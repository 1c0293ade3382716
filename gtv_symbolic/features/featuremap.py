r"""Crossed (tensor-product) feature maps of the linear denoisers (paper Sec. 6, Figs. 2-3).

.. math::  \phi_{i_1 \dots i_D k}(x, t) = b^{(1)}_{i_1}(x_1) \cdots b^{(D)}_{i_D}(x_D)\, h_k(t),

with ``F = n_1 ... n_D n_t`` features flattened in C order over ``(i_1, ..., i_D, k)`` exactly
as the paper's code (``get_phi_crossed_func_*``: ``phi_x[:, :, None] * phi_t[:, None, :]``).
Each factor is an :class:`~gtv_symbolic.features.base.AbstractBasis1D`. Evaluation of a learned
denoiser ``W phi(x, t)`` is separable (:meth:`~gtv_symbolic.features.FeatureMap.apply`, ``_contract``).

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic.features import FeatureMap, gaussian_basis
>>> fm = FeatureMap([gaussian_basis(3, -1, 1)], gaussian_basis(2, 0.1, 1.0))
>>> fm.shape, fm.n_features
((3, 2), 6)
>>> W = np.ones((1, 6))
>>> bool(np.allclose(fm.apply(W, np.zeros((4, 1)), 0.5), fm(np.zeros((4, 1)), 0.5) @ W.T))
True
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import symbols as S
from ._contract import contract_axes, contract_columns

__all__ = ["FeatureMap", "MAX_FEATURES"]

#: Upper bound on the number of features (F x F matrices must fit in memory, 4096^2 * 8 B).
MAX_FEATURES = 4096


class FeatureMap:
    r"""Crossed feature map of the linear denoisers (paper Sec. 5.1, Figs. 2-3).

    .. math:: \phi_{i_1 \dots i_D k}(x, t) = b^{(1)}_{i_1}(x_1) \cdots b^{(D)}_{i_D}(x_D)\, h_k(t),
              \qquad F = n_1 \cdots n_D\, n_t,

    flattened in C order over :math:`(i_1, \dots, i_D, k)`. ``x`` has shape ``(..., D)``; ``t`` is
    a scalar or broadcasts against ``x[..., 0]``. ``fm(x, t)`` returns ``(..., F)``,
    ``fm.grad_x(x, t)`` ``(..., F, D)``; for weights ``W`` of shape ``(..., D_out, F)`` use
    :meth:`apply` (separable, no ``(..., F)`` intermediate).

    Parameters
    ----------
    x_bases : sequence of AbstractBasis1D
        One basis per x axis (``D >= 1``).
    t_basis : AbstractBasis1D
    family : str, optional
        Default the family of the first x basis.

    Attributes
    ----------
    dim : int
        D, the data dimension.
    n_features : int
        F, at most ``MAX_FEATURES``.
    family : str
    shape : tuple of int
        Axis sizes ``(n_1, ..., n_D, n_t)``.
    x_bases : tuple of AbstractBasis1D
        The bases of the x axes.
    t_basis : AbstractBasis1D
        The basis of the time axis.

    Raises
    ------
    ValueError
        For no x axis or ``F > MAX_FEATURES``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic.features import FeatureMap, fourier_basis, gaussian_basis
    >>> fm = FeatureMap([gaussian_basis(3, -1, 1)], fourier_basis(2, 1.0))
    >>> phi = fm(np.zeros((1, 1)), 0.0)  # b(0) (x) h(0), h(0) = (1, cos 0)
    >>> fm.shape, phi.round(4).tolist()
    ((3, 2), [[0.108, 0.108, 0.7979, 0.7979, 0.108, 0.108]])
    """

    def __init__(self, x_bases, t_basis, family: str | None = None):
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
        r"""A hashable description: family and the cache keys of every axis basis."""
        return (self.family, tuple(b.cache_key() for b in self.x_bases), self.t_basis.cache_key())

    # -- input handling -----------------------------------------------------------------
    def _inputs(self, x, t):
        x = np.asarray(x, dtype=float)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape (..., {self.dim}), got shape {x.shape}")
        t = np.asarray(t, dtype=float)
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(t))):
            raise ValueError("x and t must be finite (found NaN or inf)")
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
            y, jac = contract_columns(Wt, xf, self.x_bases, jacobian)
        else:
            vals, ders = [], []
            for d, b in enumerate(self.x_bases):
                if jacobian:
                    v, dv = b.values_and_derivative(xf[..., d])
                    ders.append(dv)
                else:
                    v = b.values(xf[..., d])
                vals.append(v)
            y, jac = contract_axes(Wt, vals, ders if jacobian else None)
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
        dw = [b.derivative_weights() for b in self.x_bases]
        gauss = [w is not None for w in dw]
        if jacobian:
            # Gaussian axis d: sum_i W_i b_i'(z) = (sum_i W_i c_i b_i(z) - z sum_i W_i b_i(z))/v
            Wtc = [Wt * w[0].reshape((-1,) + (1,) * (self.dim - 1 - d)) if w is not None else None
                   for d, w in enumerate(dw)]
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
                                         - x[sl, d][:, None] * yy) / dw[d][1]
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
