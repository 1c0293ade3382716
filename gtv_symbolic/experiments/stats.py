r"""Statistics of learned distributions on a grid, each with its standard error.

All functions work on *bin masses* ``m[..., b]`` (1-D bins, or the flattened cells of a 2-D
grid) normalised to sum to one over the grid; a density is ``m / cell area``.

* Mean over an ensemble of ``N`` models with its standard error

  .. math:: \bar g = \frac1N\sum_n g_n,\qquad
            \mathrm{se}(\bar g) = \sqrt{\frac{1}{N(N-1)}\sum_n (g_n-\bar g)^2}.

* Total variation between the ensemble averages ``\bar p = (1/N) sum_n p_n`` and
  ``\bar q = (1/M) sum_m q_m``:

  .. math:: \mathrm{TV}(\bar p,\bar q) = \tfrac12\sum_b |\bar p_b - \bar q_b|,

  its standard error by the bootstrap: models (and fields) are resampled with replacement
  ``B`` times and ``se = sd(TV^*)``. TV of two finite averages is biased upwards by their
  sampling noise (of the order of the standard error); the bootstrap does not remove that.
* Gap mass: the mass of a region between neighbouring training points, away from both by a
  margin (:func:`gap_region`); mode masses: the mass of each training point's Voronoi cell
  (:func:`mode_cells`). Both regions are :mod:`gtv_symbolic.metrics`'s, re-exported here.

Examples
--------
>>> import numpy as np
>>> x = np.linspace(-1.5, 1.5, 7)
>>> gap_region(np.array([[-1.0], [0.0], [1.0]]), x, margin=0.25).astype(int).tolist()
[0, 0, 1, 0, 1, 0, 0]
>>> mode_cells(np.array([[-1.0], [1.0]]), x).tolist()
[0, 0, 0, 0, 1, 1, 1]
>>> m, se = mean_se(np.array([0.1, 0.2, 0.3]))
>>> round(float(m), 3), round(float(se), 4)
(0.2, 0.0577)
>>> tv(np.array([0.5, 0.5]), np.array([1.0, 0.0]))
0.5
"""

from __future__ import annotations

import numpy as np

from ..metrics import GAP_MARGIN, gabriel_edges, gap_region, mode_cells  # the one copy

__all__ = ["mean_se", "diff_se", "normalise", "tv", "bootstrap_tv", "gap_region",
           "gabriel_edges", "mode_cells", "region_mass", "GAP_MARGIN"]


def mean_se(v, axis: int = 0):
    """Mean over ``axis`` and its standard error ``sd(ddof=1)/sqrt(n)`` (0 when n = 1)."""
    v = np.asarray(v, dtype=float)
    n = v.shape[axis]
    m = v.mean(axis)
    if n < 2:
        return m, np.zeros_like(m)
    return m, v.std(axis, ddof=1) / np.sqrt(n)


def diff_se(se_a, se_b):
    r"""Standard error of a difference of two independent estimates: ``sqrt(se_a^2 + se_b^2)``."""
    return np.hypot(se_a, se_b)


def normalise(m):
    """Bin masses renormalised to sum to one over the last axis (negative parts clipped)."""
    m = np.clip(np.asarray(m, dtype=float), 0, None)
    tot = m.sum(-1, keepdims=True)
    if np.any(tot <= 0):
        raise ValueError("a distribution put no mass inside the grid")
    return m / tot


def tv(p, q):
    """``(1/2) sum_b |p_b - q_b|`` of two normalised mass vectors (last axis)."""
    out = 0.5 * np.abs(normalise(p) - normalise(q)).sum(-1)
    return float(out) if np.ndim(out) == 0 else out


def bootstrap_tv(a, b, *, n_boot: int = 200, rng):
    """TV between the averages of ``a (N, bins)`` and ``b`` and its bootstrap standard error.

    ``b`` is ``(M, bins)`` (an independent ensemble, resampled too) or ``(bins,)`` (a fixed
    reference). Returns ``(tv, se)``.
    """
    a = normalise(a)
    b = normalise(b)
    est = tv(a.mean(0), b.mean(0) if b.ndim == 2 else b)
    boots = np.empty(n_boot)
    for k in range(n_boot):
        pa = a[rng.integers(0, a.shape[0], a.shape[0])].mean(0)
        pb = b[rng.integers(0, b.shape[0], b.shape[0])].mean(0) if b.ndim == 2 else b
        boots[k] = tv(pa, pb)
    return est, float(boots.std(ddof=1))


def region_mass(m, mask):
    """Mass of the (flattened) region ``mask`` under normalised masses ``m (..., bins)``."""
    return normalise(m) @ np.asarray(mask, dtype=float).reshape(-1)
