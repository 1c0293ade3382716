"""Numba kernels behind :mod:`gtv_symbolic.solvers.euler2d` (imported on first use; see its docstring).

Every loop over samples ``p`` is innermost and branch-free where it matters, so LLVM turns it
into SIMD code. ``fastmath={'contract'}`` only lets it fuse ``a*b + c`` into FMAs (no
reassociation), so results are deterministic.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["euler", "bin2d", "basis_values"]

_opts = dict(cache=True, fastmath={"contract"}, error_model="numpy")
jit = nb.njit(**_opts)

INVLN2 = 1.4426950408889634
LN2HI = 6.93147180369123816490e-01
LN2LO = 1.90821492927058770002e-10
SHIFT = 6755399441055744.0  # 1.5 * 2**52: t = x + SHIFT rounds x to an integer k in t's low bits
SHIFT_BITS = int(np.array([SHIFT]).view(np.int64)[0])
HALF_PI = np.pi / 2
#: Gaussian: a v^2 or |2 a delta v| above this -> direct formula (exp(-600) is still normal).
FAR = 600.0


@jit
def exp_reduced(x):
    """``exp(x) = 2^k q``: returns ``q = exp(f)``, ``|f| <= ln2/2`` (Taylor, degree 13), and
    ``t = x/ln2 + SHIFT`` whose low bits hold ``k``. Valid for ``|x| <= 708``."""
    t = x * INVLN2 + SHIFT
    k = t - SHIFT
    f = (x - k * LN2HI) - k * LN2LO
    q = 1.0 / 6227020800.0
    q = q * f + 1.0 / 479001600.0
    q = q * f + 1.0 / 39916800.0
    q = q * f + 1.0 / 3628800.0
    q = q * f + 1.0 / 362880.0
    q = q * f + 1.0 / 40320.0
    q = q * f + 1.0 / 5040.0
    q = q * f + 1.0 / 720.0
    q = q * f + 1.0 / 120.0
    q = q * f + 1.0 / 24.0
    q = q * f + 1.0 / 6.0
    q = q * f + 0.5
    q = q * f + 1.0
    q = q * f + 1.0
    return q, t


@jit
def scale_pow2(vals, tbuf, nb_):
    """``vals[p] *= 2^k[p]``, ``k`` from the bits of ``tbuf`` (integer SIMD, no scalar ldexp)."""
    ti = tbuf.view(np.int64)
    for p in range(nb_):
        ti[p] = (ti[p] - SHIFT_BITS + 1023) << 52
    for p in range(nb_):
        vals[p] *= tbuf[p]


@jit
def exp_block(x, out, t1, nb_):
    """``out[p] = exp(x[p])`` for ``|x| <= 708`` (test hook for the polynomial exp)."""
    for p in range(nb_):
        out[p], t1[p] = exp_reduced(x[p])
    scale_pow2(out, t1, nb_)


@jit
def gauss_block(z, nb_, par, out, e0, q, t1, t2, far):
    """``out[i, p] = exp(-a (z_p - c_i)^2)``, ``c_i = c0 + i delta`` (unnormalised bumps).

    Recurrence from the middle centre (fixed, so the loops vectorise); points where either
    exponent would leave ``[-600, 600]`` are recomputed with the direct formula."""
    c0, delta, a = par[0], par[1], par[2]
    n = out.shape[0]
    i0 = n // 2
    ci0 = c0 + i0 * delta
    for p in range(nb_):
        v = z[p] - ci0
        av2 = a * v * v
        arg2 = 2.0 * a * delta * v
        far[p] = av2 > FAR or abs(arg2) > FAR  # the second only for bumps far narrower than delta
        arg2 = min(max(arg2, -FAR), FAR)
        e0[p], t1[p] = exp_reduced(-min(av2, FAR))
        q[p], t2[p] = exp_reduced(arg2)
    scale_pow2(e0, t1, nb_)
    scale_pow2(q, t2, nb_)
    for p in range(nb_):
        out[i0, p] = e0[p]
    ad2 = a * delta * delta
    for m in range(n - 1 - i0):  # b_{i0+m+1} = b_{i0+m} Q exp(-a delta^2 (2m+1))
        kap = np.exp(-ad2 * (2 * m + 1))
        for p in range(nb_):
            out[i0 + m + 1, p] = out[i0 + m, p] * q[p] * kap
    for p in range(nb_):
        q[p] = 1.0 / q[p]
    for m in range(i0):  # b_{i0-m-1} = b_{i0-m} / Q exp(-a delta^2 (2m+1))
        kap = np.exp(-ad2 * (2 * m + 1))
        for p in range(nb_):
            out[i0 - m - 1, p] = out[i0 - m, p] * q[p] * kap
    for p in range(nb_):
        if far[p]:
            for i in range(n):
                d = z[p] - (c0 + i * delta)
                out[i, p] = np.exp(-a * d * d)


@jit
def sincos_2pi(w):
    """``cos(2 pi w), sin(2 pi w)``: ``r = w - rint(w)``, quadrant ``q = rint(4 r)``,
    ``f = (4 r - q) pi/2 in [-pi/4, pi/4]``; Taylor series of degree 16 (cos) and 15 (sin)."""
    r = w - np.rint(w)
    q4 = np.rint(4.0 * r)
    f = (4.0 * r - q4) * HALF_PI
    f2 = f * f
    s = -1.0 / 1307674368000.0
    s = s * f2 + 1.0 / 6227020800.0
    s = s * f2 - 1.0 / 39916800.0
    s = s * f2 + 1.0 / 362880.0
    s = s * f2 - 1.0 / 5040.0
    s = s * f2 + 1.0 / 120.0
    s = s * f2 - 1.0 / 6.0
    s = (s * f2) * f + f
    c = 1.0 / 20922789888000.0
    c = c * f2 - 1.0 / 87178291200.0
    c = c * f2 + 1.0 / 479001600.0
    c = c * f2 - 1.0 / 3628800.0
    c = c * f2 + 1.0 / 40320.0
    c = c * f2 - 1.0 / 720.0
    c = c * f2 + 1.0 / 24.0
    c = c * f2 - 0.5
    c = c * f2 + 1.0
    # quadrant by float selects (SIMD-friendly): odd q swaps cos and sin, then signs
    odd = abs(q4) == 1.0
    half = abs(q4) == 2.0
    cs = s if odd else c
    sn = c if odd else s
    cs = -cs if (q4 == 1.0 or half) else cs
    sn = -sn if (q4 == -1.0 or half) else sn
    return cs, sn


@jit
def sincos_block(w, c_out, s_out, nb_):
    """``cos, sin of 2 pi w[p]`` (test hook for the polynomial sin/cos)."""
    for p in range(nb_):
        c_out[p], s_out[p] = sincos_2pi(w[p])


@jit
def fourier_block(z, nb_, par, out):
    """Rows ``[1, cos(2 pi m z/L) (m = 1..n_cos), sin(2 pi m z/L) (m = 1..n_sin)]`` as
    ``FourierBasis.values`` (Chebyshev recurrence from one cos/sin pair; ``n_cos >= n_sin``)."""
    L, ncos, nsin = par[0], int(par[1]), int(par[2])
    for p in range(nb_):
        out[0, p] = 1.0
    if ncos == 0:
        return
    for p in range(nb_):
        c, s = sincos_2pi(z[p] / L)
        out[1, p] = c
        if nsin >= 1:
            out[ncos + 1, p] = s
    for m in range(2, ncos + 1):
        for p in range(nb_):
            out[m, p] = 2.0 * out[1, p] * out[m - 1, p] - out[m - 2, p]
    for m in range(2, nsin + 1):
        prev2 = ncos + m - 2
        for p in range(nb_):
            s2 = out[prev2, p] if m > 2 else 0.0
            out[ncos + m, p] = 2.0 * out[1, p] * out[ncos + m - 1, p] - s2


@jit
def basis_block(fam, z, nb_, par, out, e0, q, t1, t2, far):
    if fam == 0:
        gauss_block(z, nb_, par, out, e0, q, t1, t2, far)
    else:
        fourier_block(z, nb_, par, out)


@jit
def basis_values(fam, par, n, z):
    """Basis values ``(n, len(z))`` exactly as the sampler computes them (test hook)."""
    B = z.size
    out = np.empty((n, B))
    e0, q, t1, t2 = np.empty(B), np.empty(B), np.empty(B), np.empty(B)
    far = np.empty(B, np.bool_)
    basis_block(fam, z, B, par, out, e0, q, t1, t2, far)
    return out


@jit
def euler(X, Wt, c1, c2, fx, px, fy, py, B):
    """In place: ``X (n, 2)`` through ``x <- c1[k] x + c2[k] mu_k(x)``, ``k = 0..n_steps-1``,
    ``mu_k,d = b(x_1)^T Wt[k, d] b(x_2)``, in blocks of ``B`` samples."""
    ns, nk, nx, ny = X.shape[0], Wt.shape[0], Wt.shape[2], Wt.shape[3]
    bx, by = np.empty((nx, B)), np.empty((ny, B))
    x, y = np.empty(B), np.empty(B)
    e0, q, t1, t2 = np.empty(B), np.empty(B), np.empty(B), np.empty(B)
    far = np.empty(B, np.bool_)
    acc0, acc1, m0, m1 = np.empty(B), np.empty(B), np.empty(B), np.empty(B)
    for s in range(0, ns, B):
        nb_ = min(B, ns - s)
        for p in range(nb_):
            x[p] = X[s + p, 0]
            y[p] = X[s + p, 1]
        for k in range(nk):
            basis_block(fx, x, nb_, px, bx, e0, q, t1, t2, far)
            basis_block(fy, y, nb_, py, by, e0, q, t1, t2, far)
            for p in range(nb_):
                m0[p] = 0.0
                m1[p] = 0.0
            for i in range(nx):
                for p in range(nb_):
                    acc0[p] = 0.0
                    acc1[p] = 0.0
                # two j per pass: half the accumulator loads and stores (the limit here)
                for j in range(0, ny - 1, 2):
                    wa0, wb0 = Wt[k, 0, i, j], Wt[k, 0, i, j + 1]
                    wa1, wb1 = Wt[k, 1, i, j], Wt[k, 1, i, j + 1]
                    for p in range(nb_):
                        ya, yb = by[j, p], by[j + 1, p]
                        acc0[p] += wa0 * ya + wb0 * yb
                        acc1[p] += wa1 * ya + wb1 * yb
                if ny % 2:
                    w0, w1 = Wt[k, 0, i, ny - 1], Wt[k, 1, i, ny - 1]
                    for p in range(nb_):
                        acc0[p] += w0 * by[ny - 1, p]
                        acc1[p] += w1 * by[ny - 1, p]
                for p in range(nb_):
                    m0[p] += bx[i, p] * acc0[p]
                    m1[p] += bx[i, p] * acc1[p]
            u, w = c1[k], c2[k]
            for p in range(nb_):
                x[p] = u * x[p] + w * m0[p]
                y[p] = u * y[p] + w * m1[p]
        for p in range(nb_):
            X[s + p, 0] = x[p]
            X[s + p, 1] = y[p]


@jit
def bin2d(X, ex, ey, out):
    """``out[i, j] += #{p : X[p] in bin (i, j)}``, with ``np.histogram2d``'s edge rules
    (half-open bins, the last one closed; points outside or NaN dropped)."""
    nbx, nby = ex.size - 1, ey.size - 1
    wx, wy = (ex[-1] - ex[0]) / nbx, (ey[-1] - ey[0]) / nby
    for p in range(X.shape[0]):
        a, b = X[p, 0], X[p, 1]
        if not (ex[0] <= a <= ex[-1] and ey[0] <= b <= ey[-1]):
            continue
        i = min(int((a - ex[0]) / wx), nbx - 1)
        j = min(int((b - ey[0]) / wy), nby - 1)
        # the division can land one bin off next to an edge: settle it against the edges
        if a < ex[i]:
            i -= 1
        elif i < nbx - 1 and a >= ex[i + 1]:
            i += 1
        if b < ey[j]:
            j -= 1
        elif j < nby - 1 and b >= ey[j + 1]:
            j += 1
        out[i, j] += 1
