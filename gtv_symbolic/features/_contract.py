r"""Separable contractions ``y = W phi(x, t)`` of weights with tensor-product features.

For ``phi = b^(1)(x_1) (x) ... (x) b^(D)(x_D) (x) h(t)`` and a scalar ``t`` the time axis is
contracted first (``W_t = sum_k W[..., k] h_k(t)``), then one x axis at a time:

.. math::  y_o = \sum_{i_1 \dots i_D} (W_t)_{o, i_1 \dots i_D}\, b^{(1)}_{i_1}(x_1) \cdots b^{(D)}_{i_D}(x_D),

``O(D_out n_1 ... n_D)`` per point instead of ``O(D_out F)``, with no ``(..., F)`` array.
Bases whose derivative is ``b_i' = (c_i - z) b_i / v`` (Gaussian bumps,
:meth:`~gtv_symbolic.features.base.AbstractBasis1D.derivative_weights`) get the Jacobian from
two value contractions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["contract_columns", "contract_axes"]


def contract_columns(Wt, xf, bases, jacobian, chunk_points: int = 16384):
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
    dw = [b.derivative_weights() for b in bases]
    gauss = [w is not None for w in dw]
    if D == 1:
        W1 = Wt
        Wc = Wt * dw[0][0] if (jacobian and gauss[0]) else None
    else:
        n1, n2 = Wt.shape[2:]
        W1 = np.ascontiguousarray(np.swapaxes(Wt, 2, 3)).reshape(nm, dout * n2, n1)
        if jacobian:
            Wc1 = Wt * dw[0][0][:, None] if gauss[0] else None
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
                    jj = (Wc @ v - z[..., 0][:, None, :] * yy) / dw[0][1]
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
            j0 = (np.einsum("mdjn,mjn->mdn", Bc, v2) - z[..., 0][:, None, :] * yy) / dw[0][1]
        else:
            j0 = np.einsum("mdjn,mjn->mdn", (W1 @ d1).reshape(nm, dout, n2, n_pts), v2)
        if gauss[1]:
            c = dw[1][0]
            j1 = (np.einsum("mdjn,mjn->mdn", B * c[:, None], v2)
                  - z[..., 1][:, None, :] * yy) / dw[1][1]
        else:
            j1 = np.einsum("mdjn,mjn->mdn", B, d2)
        jac[:, sl, :, 0] = np.swapaxes(j0, 1, 2)
        jac[:, sl, :, 1] = np.swapaxes(j1, 1, 2)
    return y, jac


def contract_axes(Wt, vals, ders):
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
