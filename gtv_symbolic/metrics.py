r"""Summaries of learned distributions: histograms, total variation, gap and mode masses, moments.

For densities ``p, q`` tabulated on a 1-D grid (renormalised on the grid; a uniform grid is
read as bin centres, midpoint rule, otherwise the trapezoid rule):

.. math::  \mathrm{TV}(p, q) = \tfrac12 \int |p - q|\,dx, \qquad
           \mathrm{gap}(p) = \int_{lo < |x| < hi} p\,dx,

the latter the mass the learned model puts between the paper's training points
``{-1, 0, 1}`` (its Sec. 6 discussion of Fig. 2: generalisation fills the gaps).
:func:`ensemble_moments` gives the skewness and excess kurtosis of a quantity across an
ensemble, the size of the cumulants beyond the Gaussian truncation of Prop. 3.1.

Examples
--------
>>> import numpy as np
>>> x = np.linspace(-1.495, 1.495, 300)  # centres of 300 bins on [-1.5, 1.5]
>>> u = np.ones_like(x)
>>> round(float(gap_mass(u, x)), 3), round(float(total_variation(u, u, x)), 3)
(0.333, 0.0)
>>> histogram_masses(np.array([[0.1], [0.6], [2.0]]), [0.0, 0.5, 1.0])
array([0.33333333, 0.33333333])
"""

from __future__ import annotations

import numpy as np

__all__ = ["histogram_masses", "check_edges", "total_variation", "gap_mass", "mode_masses",
           "ensemble_moments", "grid_weights"]


def check_edges(edges, name: str = "edges") -> np.ndarray:
    """``edges`` as a finite, increasing, equally spaced 1-D array of >= 2 bin edges."""
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)):
        raise ValueError(f"{name} must be a finite 1-D array of >= 2 bin edges")
    d = np.diff(e)
    if not np.allclose(d, d[0], rtol=1e-9, atol=0) or d[0] <= 0:
        raise ValueError(f"{name} must be increasing and equally spaced")
    return e


def histogram_masses(samples, edges) -> np.ndarray:
    """Fraction of samples per bin (not renormalised to the range): ``(..., n_bins[, n_bins_y])``.

    ``samples`` has shape ``(..., n, D)`` with D = 1 (``edges`` one array) or D = 2
    (``edges = (edges_x, edges_y)``); leading axes (models) are kept.
    """
    x = np.asarray(samples, dtype=float)
    if x.ndim < 2 or x.shape[-1] not in (1, 2) or x.shape[-2] < 1:
        raise ValueError(f"samples must have shape (..., n >= 1, D) with D = 1 or 2, got {x.shape}")
    if not np.all(np.isfinite(x)):  # np.histogram would drop them silently
        raise ValueError("samples must be finite (found NaN or inf)")
    D = x.shape[-1]
    lead = x.shape[:-2]
    n = x.shape[-2]
    xs = x.reshape(-1, n, D)
    if D == 1:
        e = check_edges(edges)
        out = np.stack([np.histogram(v[:, 0], bins=e)[0] for v in xs]) / n
        return out.reshape(lead + (e.size - 1,))
    ex, ey = (check_edges(edges[0], "edges_x"), check_edges(edges[1], "edges_y"))
    out = np.stack([np.histogram2d(v[:, 0], v[:, 1], bins=(ex, ey))[0] for v in xs]) / n
    return out.reshape(lead + (ex.size - 1, ey.size - 1))


def grid_weights(x) -> np.ndarray:
    """Quadrature weights of a strictly increasing grid (midpoint if uniform, else trapezoid)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 2 or not np.all(np.isfinite(x)) or np.any(np.diff(x) <= 0):
        raise ValueError("x must be a finite, strictly increasing 1-D grid with at least 2 points")
    d = np.diff(x)
    if np.allclose(d, d[0], rtol=1e-9, atol=0):
        return np.full_like(x, d[0])  # uniform grid = bin centres: midpoint rule
    w = np.empty_like(x)
    w[1:-1] = 0.5 * (x[2:] - x[:-2])
    w[0] = 0.5 * (x[1] - x[0])
    w[-1] = 0.5 * (x[-1] - x[-2])
    return w


def _normalise(p, w, name="p"):
    p = np.asarray(p, dtype=float)
    if p.ndim == 0 or p.shape[-1] != w.size:
        raise ValueError(f"{name} must have the grid on its last axis ({w.size}), got {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    p = np.clip(p, 0, None)
    z = p @ w if p.ndim == 1 else np.tensordot(p, w, axes=([-1], [0]))
    if np.any(z <= 0):
        raise ValueError(f"{name} has no positive mass on the grid")
    return p / np.expand_dims(z, -1) if p.ndim > 1 else p / z


def total_variation(p, q, x) -> np.ndarray:
    """``TV = (1/2) int |p - q| dx`` on the grid ``x`` (both renormalised on the grid); last axis."""
    w = grid_weights(x)
    p, q = _normalise(p, w, "p"), _normalise(q, w, "q")
    return 0.5 * np.tensordot(np.abs(p - q), w, axes=([-1], [0]))


def gap_mass(p, x, lo: float = 0.25, hi: float = 0.75) -> np.ndarray:
    """``P(lo < |x| < hi)`` of a density on the grid (default: between the paper's points)."""
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo < hi):
        raise ValueError(f"need finite 0 <= lo < hi, got lo={lo}, hi={hi}")
    w = grid_weights(x)
    p = _normalise(p, w)
    x = np.asarray(x, dtype=float)
    sel = (np.abs(x) > lo) & (np.abs(x) < hi)
    return np.tensordot(p, w * sel, axes=([-1], [0]))


def mode_masses(p, x, edges=(-0.5, 0.5)) -> np.ndarray:
    """Mass in the cells ``(-inf, e_0), (e_0, e_1), ..., (e_last, inf)``; last axis = cells."""
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
        raise ValueError(f"edges must be finite and strictly increasing, got {edges}")
    w = grid_weights(x)
    p = _normalise(p, w)
    x = np.asarray(x, dtype=float)
    bounds = [-np.inf, *e, np.inf]
    out = [np.tensordot(p, w * ((x >= bounds[i]) & (x < bounds[i + 1])), axes=([-1], [0]))
           for i in range(len(bounds) - 1)]
    return np.stack(out, axis=-1)


def ensemble_moments(values) -> dict[str, np.ndarray]:
    """Mean, variance, skewness and excess kurtosis across the first (model) axis.

    With ``N`` models, Gaussian-null standard errors are ``sqrt(6/N)`` (skew) and
    ``sqrt(24/N)`` (excess kurtosis); returned as ``se_skew``, ``se_kurt``. A quantity with
    zero variance has skew = kurtosis = 0.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim == 0:
        raise ValueError("values must have a leading model axis")
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite (found NaN or inf)")
    n = v.shape[0]
    if n < 4:
        raise ValueError(f"values must hold at least 4 models (leading axis) for skewness/kurtosis, got {n}")
    m = v.mean(0)
    c = v - m
    m2 = (c**2).mean(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(m2 > 0, (c**3).mean(0) / m2**1.5, 0.0)
        kurt = np.where(m2 > 0, (c**4).mean(0) / m2**2 - 3, 0.0)
    return {"mean": m, "var": m2 * n / (n - 1), "skew": skew, "kurt": kurt,
            "se_skew": np.sqrt(6 / n), "se_kurt": np.sqrt(24 / n)}
