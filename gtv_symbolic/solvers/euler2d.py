r"""Compiled Euler PF-ODE sampler for 2-D tensor-product linear denoisers (the Fig. 3 hot loop).

For a learned denoiser ``mu(x, t) = W phi(x, t)`` with crossed features
``phi = b(x_1) (x) b(x_2) (x) h(t)`` (:mod:`gtv_symbolic.features`), one Euler step of the
paper's PF-ODE sampler (paper Sec. 2; :func:`gtv_symbolic.solvers.integrate_pf_ode`) is

.. math::  x_{k+1} = x_k + h_k\bigl(-\beta_k x_k - D_k(\alpha_k \mu(x_k, t_k) - x_k)/\sigma_k^2\bigr)
           = c^{(1)}_k x_k + c^{(2)}_k\, b(x_{k,1})^\top W^{(d)}_k\, b(x_{k,2}),

with ``c1 = 1 + h(D/sigma^2 - beta)``, ``c2 = -h D alpha / sigma^2``
(:func:`~gtv_symbolic.solvers.pf_ode.affine_coefficients`: the same vector field) and the time slice
``W_k = sum_l W[..., l] h_l(t_k)`` contracted once per step. This module evaluates it with
Numba, fused over the 30 steps and vectorised over blocks of samples, at every sample's exact
position (no grid, no lookup). It is the same arithmetic as the NumPy reference
(:class:`gtv_symbolic.denoisers.LinearDenoiser` + :func:`~gtv_symbolic.solvers.integrate_pf_ode`),
which the tests compare it with; only the rounding differs.

The 1-D bases are evaluated with SIMD-friendly formulas:

* Gaussian bumps with equally spaced centres ``c_i`` and std ``s`` (``a = 1/(2 s^2)``):
  from the middle centre ``i0``, ``b_{i0} = exp(-a v^2)`` (``v = z - c_{i0}``) and the exact
  recurrence ``b_{i0 +- (m+1)} = b_{i0 +- m} Q^{+-1} exp(-a delta^2 (2m+1))``,
  ``Q = exp(2 a delta v)``. Points so far out that ``a v^2 > 600`` (or ``|2 a delta v| > 600``,
  for bumps much narrower than their spacing) are recomputed with the direct formula
  ``exp(-a (z - c_i)^2)``, so nothing overflows and no bump loses accuracy.
* Fourier modes: one ``cos``/``sin`` pair of ``2 pi z / L`` (reduced to ``[-pi/4, pi/4]`` by
  quadrant) and the Chebyshev recurrence, as :meth:`gtv_symbolic.features.FourierBasis.values`.

``exp``/``sin``/``cos`` are polynomial kernels (Taylor series of degree 13 / 15 / 16 on the
reduced range; relative error a few ulp), because the C library's versions are scalar calls
that cost more than all the rest of a step.

Numba is imported on first use, so ``import gtv_symbolic`` does not pay for it.

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic.denoisers import LinearDenoiser
>>> from gtv_symbolic.features import make_features
>>> fm = make_features("fourier", 2, 3, 2, eps=1e-2)
>>> supported(LinearDenoiser(fm, np.zeros((2, fm.n_features))))
True
"""

from __future__ import annotations

import numpy as np

from ..features import FourierBasis, GaussianBasis
from ..grids import TimeGrid
from ..metrics import check_edges
from .pf_ode import affine_coefficients, check_grid, initial_samples

__all__ = ["supported", "integrate_euler_2d", "euler_histograms_2d", "bin_counts_2d",
           "axis_parameters", "compiled_kernels", "KERNEL_VERSION", "warm_up"]

#: Part of the cache keys of results computed here (bump when the arithmetic changes).
KERNEL_VERSION = 2
#: Samples per vectorised block (work arrays stay in the L1/L2 cache).
BLOCK = 512


def supported(denoiser) -> bool:
    """True when :func:`integrate_euler_2d` applies: a 2-D :class:`LinearDenoiser` whose x-axes
    are Fourier bases or Gaussian bases with equally spaced centres."""
    fm = getattr(denoiser, "features", None)
    if fm is None or getattr(fm, "dim", None) != 2 or not hasattr(denoiser, "W"):
        return False
    for b in fm.x_bases:
        if isinstance(b, GaussianBasis):
            if not b.uniform:
                return False
        elif not isinstance(b, FourierBasis):
            return False
    return True


def axis_parameters(b):
    """(family code, float parameters, normalisation) of one x-axis basis for the kernels."""
    if isinstance(b, GaussianBasis):
        c = b.c
        a = 1.0 / (2 * b.std**2)
        return 0, np.array([c[0], c[1] - c[0], a, 0.0, 0.0]), 1.0 / (np.sqrt(2 * np.pi) * b.std)
    return 1, np.array([b.L, float(b.n_cos), float(b.n_sin), 0.0, 0.0]), 1.0


def _prepare(denoiser, grid):
    if not supported(denoiser):
        raise ValueError("the compiled 2-D sampler needs a 2-D LinearDenoiser with Gaussian "
                         "(equally spaced centres) or Fourier x-bases; use "
                         "solvers.integrate_pf_ode for other denoisers")
    g = check_grid(grid).ts
    fm = denoiser.features
    W = denoiser.W if denoiser.W.ndim == 3 else denoiser.W[None]
    if not np.all(np.isfinite(W)):
        raise ValueError("the denoiser's weights W must be finite")
    (fx, px, nx), (fy, py, ny) = (axis_parameters(b) for b in fm.x_bases)
    # time slices of every model at every step, with the Gaussian normalisations folded in
    Wt = np.stack([fm.contract_t(W, tk) for tk in g[:-1]], axis=1) * (nx * ny)
    c1, c2 = affine_coefficients(grid)
    return np.ascontiguousarray(Wt), c1, c2, (fx, px, fy, py)


def integrate_euler_2d(denoiser, x_T, grid: TimeGrid) -> np.ndarray:
    """Euler PF-ODE from ``x_T`` (``(N, n, 2)`` for an ensemble, ``(n, 2)`` for one model) along ``grid``.

    Same result as ``solvers.integrate_pf_ode(denoiser, x_T, grid, method='euler')`` up to
    rounding (tested step by step), 3-6 times faster. Returns a new array.
    """
    Wt, c1, c2, (fx, px, fy, py) = _prepare(denoiser, grid)
    x = np.array(x_T, dtype=float, copy=True)
    single = denoiser.W.ndim == 2
    xs = x[None] if single else x
    if xs.ndim != 3 or xs.shape[0] != Wt.shape[0] or xs.shape[-1] != 2:
        raise ValueError(f"x_T must have shape (n_models={Wt.shape[0]}, n, 2)"
                         f"{' or (n, 2)' if single else ''}, got {np.shape(x_T)}")
    if not np.all(np.isfinite(xs)):
        raise ValueError("x_T must be finite")
    k = compiled_kernels()
    for m in range(xs.shape[0]):
        k.euler(xs[m], Wt[m], c1, c2, fx, px, fy, py, BLOCK)  # in place (x is a C-order copy)
    return x


def bin_counts_2d(samples, edges_x, edges_y) -> np.ndarray:
    """Counts of ``samples (n, 2)`` in the bins of equally spaced ``edges``, as ``np.histogram2d``.

    Bins are half-open ``[e_i, e_{i+1})`` except the last, which includes its right edge;
    points outside (or NaN) are dropped.
    """
    ex, ey = check_edges(edges_x, "edges_x"), check_edges(edges_y, "edges_y")
    s = np.ascontiguousarray(samples, dtype=float)
    if s.ndim != 2 or s.shape[1] != 2:
        raise ValueError(f"samples must have shape (n, 2), got {s.shape}")
    out = np.zeros((ex.size - 1, ey.size - 1), np.int64)
    compiled_kernels().bin2d(s, ex, ey, out)
    return out


def euler_histograms_2d(denoiser, grid: TimeGrid, edges, *, n_samples: int,
                        rng: np.random.Generator) -> np.ndarray:
    """Per-model bin masses of ``n_samples`` Euler PF-ODE samples: ``(N, n_bx, n_by)``.

    Model ``m`` integrates ``x_T = sigma_T * rng.standard_normal((n_samples, 2))`` drawn for
    ``m = 0, 1, ...`` in turn: the same seeds, in the same order, as
    ``solvers.sample_pf_ode(denoiser, grid, ..., rng=rng)`` (tested). Masses are fractions of all
    ``n_samples`` (samples outside the bins are not renormalised away), as
    :func:`gtv_symbolic.metrics.histogram_masses`. Memory is one model's samples at a time.
    """
    ex, ey = check_edges(edges[0], "edges_x"), check_edges(edges[1], "edges_y")
    Wt, c1, c2, (fx, px, fy, py) = _prepare(denoiser, grid)
    k = compiled_kernels()
    out = np.empty((Wt.shape[0], ex.size - 1, ey.size - 1))
    counts = np.empty(out.shape[1:], np.int64)
    for m in range(Wt.shape[0]):
        x = initial_samples(grid, n_samples=n_samples, dim=2, rng=rng)
        k.euler(x, Wt[m], c1, c2, fx, px, fy, py, BLOCK)
        if not np.all(np.isfinite(x)):
            raise FloatingPointError(f"model {m}: the sampler diverged (non-finite samples)")
        counts[...] = 0
        k.bin2d(x, ex, ey, counts)
        out[m] = counts / n_samples
    return out


# ----------------------------------------------------------------------------------------
# Numba kernels (compiled on first use; cached on disk by Numba)
# ----------------------------------------------------------------------------------------
def compiled_kernels():
    """The Numba kernel module (imported, and compiled or loaded from cache, on first use)."""
    from . import _euler2d_kernels

    return _euler2d_kernels


def warm_up() -> None:
    """Compile (or load from Numba's disk cache) the kernels, e.g. before forking workers."""
    k = compiled_kernels()
    z = np.linspace(-2.0, 2.0, 4)
    for fam, par in ((0, np.array([-1.5, 1 / 3, 4.5, 0, 0])), (1, np.array([3.0, 5, 4, 0, 0]))):
        k.basis_values(fam, par, 10, z)
    X = np.zeros((3, 2))
    k.euler(X, np.zeros((1, 2, 2, 2)), np.ones(1), np.ones(1), 0,
            np.array([-1.0, 2.0, 0.125, 0, 0]), 1, np.array([3.0, 1, 0, 0, 0]), BLOCK)
    k.bin2d(X, np.linspace(0, 1, 3), np.linspace(0, 1, 3), np.zeros((2, 2), np.int64))
