r"""Summaries of learned distributions: histograms, total variation, gap and mode masses, moments.

For densities ``p, q`` tabulated on a 1-D grid (renormalised on the grid; a uniform grid is
read as bin centres, midpoint rule, otherwise the trapezoid rule):

.. math::  \mathrm{TV}(p, q) = \tfrac12 \int |p - q|\,dx, \qquad
           \mathrm{gap}(p) = \int_{\mathcal G} p\,dx,

with the gap region :math:`\mathcal G` derived from the training points
(:func:`gap_region`: between neighbouring points, at least a fraction ``margin`` of their
distance away from both). For the paper's points ``{-1, 0, 1}`` and ``margin = 1/4`` this is
``0.25 < |x| < 0.75``, the mass between the training points (the paper's Sec. 6 discussion
of Fig. 2: generalisation fills the gaps). Mode masses are the masses of the training
points' Voronoi cells (:func:`mode_cells`). :func:`ensemble_moments` gives the skewness and
excess kurtosis of a quantity across an ensemble, the size of the cumulants beyond the
Gaussian truncation of Prop. 3.1.

Examples
--------
>>> import numpy as np
>>> x = np.linspace(-1.495, 1.495, 300)  # centres of 300 bins on [-1.5, 1.5]
>>> u = np.ones_like(x)
>>> round(float(gap_mass(u, x)), 3), round(float(total_variation(u, u, x)), 3)
(0.333, 0.0)
>>> mode_masses(u, x).round(3).tolist()  # cells (-inf, -0.5), (-0.5, 0.5), (0.5, inf)
[0.333, 0.333, 0.333]
>>> histogram_masses(np.array([[0.1], [0.6], [2.0]]), [0.0, 0.5, 1.0])
array([0.33333333, 0.33333333])
>>> gap_region([[-1.0], [0.0], [1.0]], np.linspace(-1.5, 1.5, 7)).astype(int).tolist()
[0, 0, 1, 0, 1, 0, 0]
"""

from __future__ import annotations

import numpy as np

from .data import as_data, three_points

__all__ = ["histogram_masses", "check_edges", "total_variation", "gap_mass", "mode_masses",
           "ensemble_moments", "grid_weights", "gap_region", "gabriel_edges", "mode_cells",
           "GAP_MARGIN"]

#: default gap margin: the region keeps a fraction 0.25 of each neighbour distance free
GAP_MARGIN = 0.25


def check_edges(edges, name: str = "edges") -> np.ndarray:
    """``edges`` as a finite, increasing, equally spaced 1-D array of >= 2 bin edges.

    No formula: an argument check.

    Parameters
    ----------
    edges : array_like
    name : str; the argument's name in the error message.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If ``edges`` is not finite, 1-D with at least 2 entries, increasing and equally spaced.

    Examples
    --------
    >>> from gtv_symbolic import metrics
    >>> metrics.check_edges([0, 0.5, 1])
    array([0. , 0.5, 1. ])
    >>> metrics.check_edges([0, 0.5, 2])
    Traceback (most recent call last):
    ...
    ValueError: edges must be increasing and equally spaced
    """
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)):
        raise ValueError(f"{name} must be a finite 1-D array of >= 2 bin edges")
    d = np.diff(e)
    if not np.allclose(d, d[0], rtol=1e-9, atol=0) or d[0] <= 0:
        raise ValueError(f"{name} must be increasing and equally spaced")
    return e


def histogram_masses(samples, edges) -> np.ndarray:
    r"""Fraction of samples per bin (not renormalised to the range).

    .. math:: h_b = \frac1n \#\{i : x_i \in \text{bin } b\}

    ``samples`` has shape ``(..., n, D)`` with D = 1 (``edges`` one array) or D = 2
    (``edges = (edges_x, edges_y)``); leading axes (models) are kept.

    Parameters
    ----------
    samples : array_like, shape (..., n, D); finite, D = 1 or 2.
    edges : array_like, or pair of array_like for D = 2; equally spaced (:func:`check_edges`).

    Returns
    -------
    numpy.ndarray, shape (..., n_bins) or (..., n_bins_x, n_bins_y)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import metrics
    >>> metrics.histogram_masses(np.array([[0.1], [0.6], [2.0]]), [0.0, 0.5, 1.0])  # 2.0 is outside
    array([0.33333333, 0.33333333])
    >>> metrics.histogram_masses(np.zeros((4, 10, 2)), ([-1, 0, 1], [-1, 0, 1])).shape
    (4, 2, 2)
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
    r"""Quadrature weights of a strictly increasing grid (midpoint if uniform, else trapezoid).

    .. math:: w_k = \Delta x \ \text{(uniform)}, \qquad
              w_k = \tfrac12 (x_{k+1} - x_{k-1}) \ \text{(else; half cells at the ends)}

    Parameters
    ----------
    x : array_like, shape (n,); finite, strictly increasing, n >= 2.

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    >>> from gtv_symbolic import metrics
    >>> metrics.grid_weights([0.0, 1.0, 2.0]), metrics.grid_weights([0.0, 1.0, 3.0])
    (array([1., 1., 1.]), array([0.5, 1.5, 1. ]))
    """
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
    r"""Total-variation distance of two densities on a 1-D grid (both renormalised on it).

    .. math:: \mathrm{TV}(p, q) = \tfrac12 \int |p - q|\, dx \approx \tfrac12 \sum_k w_k |p_k - q_k|

    with the weights of :func:`grid_weights`.

    Parameters
    ----------
    p, q : array_like, shape (..., n); the grid on the last axis, finite, positive mass.
    x : array_like, shape (n,); the grid.

    Returns
    -------
    numpy.ndarray, shape (...)
        In ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import metrics
    >>> x = np.linspace(-1.495, 1.495, 300)  # centres of 300 bins on [-1.5, 1.5]
    >>> u = np.ones_like(x)  # uniform density
    >>> round(float(metrics.total_variation(u, np.where(x > 0, 1.0, 0.0), x)), 3)  # half the mass moves
    0.5
    """
    w = grid_weights(x)
    p, q = _normalise(p, w, "p"), _normalise(q, w, "q")
    return 0.5 * np.tensordot(np.abs(p - q), w, axes=([-1], [0]))


def gabriel_edges(data) -> list[tuple[int, int]]:
    r"""Neighbouring pairs of training points (Gabriel graph).

    ``(i, j)`` are neighbours when every other point lies strictly outside the closed ball
    with diameter ``mu_i mu_j``:

    .. math:: |\mu_k - \tfrac12(\mu_i + \mu_j)|^2 > \tfrac14 |\mu_i - \mu_j|^2 \quad \forall k \ne i, j

    (the diagonals of a square are not neighbours). In 1-D these are consecutive points;
    duplicates are merged first by the caller.

    Parameters
    ----------
    data : array_like, shape (M, D)

    Returns
    -------
    list of tuple (int, int)

    Examples
    --------
    >>> from gtv_symbolic import metrics
    >>> metrics.gabriel_edges([[0, 0], [1, 0], [1, 1], [0, 1]])  # the sides, not the diagonals
    [(0, 1), (0, 3), (1, 2), (2, 3)]
    """
    mu = as_data(data)
    out = []
    for i in range(len(mu)):
        for j in range(i + 1, len(mu)):
            mid, r2 = 0.5 * (mu[i] + mu[j]), 0.25 * np.sum((mu[i] - mu[j]) ** 2)
            others = np.delete(np.arange(len(mu)), [i, j])
            if r2 > 0 and np.all(np.sum((mu[others] - mid) ** 2, axis=1) > r2 * (1 + 1e-9)):
                out.append((i, j))
    return out


def _grid_points(mu, grid):
    if len(grid) != mu.shape[1]:
        raise ValueError(f"grid must give {mu.shape[1]} coordinate array(s) for "
                         f"{mu.shape[1]}-D data, got {len(grid)}")
    return np.stack(np.meshgrid(*grid, indexing="ij"), axis=-1)  # (..., D)


def gap_region(data, *grid, margin: float = GAP_MARGIN) -> np.ndarray:
    r"""Boolean mask of the gap region on the grid (bin centres ``x`` or ``x, y``).

    For each pair of neighbouring training points ``mu_i, mu_j`` (:func:`gabriel_edges`)
    with ``L = |mu_j - mu_i|``:

    .. math:: \mathcal G = \bigcup_{(i,j)} \bigl\{\mu_i + s(\mu_j - \mu_i) + r :\
              \text{margin} \le s \le 1 - \text{margin},\ r \perp (\mu_j - \mu_i),\
              |r| \le \text{margin}\, L\bigr\}

    between the neighbours, at least ``margin L`` away from both. In 1-D, for data
    {-1, 0, 1} and margin 0.25, this is the paper's ``0.25 < |x| < 0.75`` (closed ends, which
    differ only for a grid point exactly at 0.25 or 0.75).

    Parameters
    ----------
    data : array_like, shape (M, D); D = 1 or 2, one grid array per coordinate.
    *grid : array_like; the coordinates ``x`` (and ``y``).
    margin : float; in ``(0, 0.5)``.

    Returns
    -------
    numpy.ndarray of bool, shape (len(x),) or (len(x), len(y))

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import metrics
    >>> metrics.gap_region([[-1.0], [0.0], [1.0]], np.linspace(-1.5, 1.5, 7)).astype(int).tolist()
    [0, 0, 1, 0, 1, 0, 0]
    """
    if not 0 < margin < 0.5:
        raise ValueError(f"margin must lie in (0, 0.5), got {margin}")
    mu = np.unique(as_data(data), axis=0)
    Z = _grid_points(mu, grid)
    mask = np.zeros(Z.shape[:-1], bool)
    for i, j in gabriel_edges(mu):
        v = mu[j] - mu[i]
        L2 = float(v @ v)
        s = (Z - mu[i]) @ v / L2
        perp2 = np.sum((Z - mu[i] - s[..., None] * v) ** 2, axis=-1)
        mask |= (s >= margin) & (s <= 1 - margin) & (perp2 <= margin**2 * L2 * (1 + 1e-12))
    return mask


def mode_cells(data, *grid) -> np.ndarray:
    r"""Index of the nearest training point (Voronoi cell) of every grid point (ties: lowest).

    .. math:: c(z) = \operatorname{argmin}_m |z - \mu_m|^2

    Parameters
    ----------
    data : array_like, shape (M, D)
    *grid : array_like; one coordinate array per dimension.

    Returns
    -------
    numpy.ndarray of int, shape of the grid

    Examples
    --------
    >>> from gtv_symbolic import metrics
    >>> metrics.mode_cells([[-1.0], [0.0], [1.0]], [-0.9, -0.5, 0.2, 0.8]).tolist()
    [0, 0, 1, 2]
    """
    mu = as_data(data)
    Z = _grid_points(mu, grid)
    d2 = np.sum((Z[..., None, :] - mu) ** 2, axis=-1)
    return np.argmin(d2, axis=-1)


def gap_mass(p, x, data=None, *, margin: float = GAP_MARGIN) -> np.ndarray:
    r"""Mass of the gap region :func:`gap_region` under a density on the 1-D grid ``x``.

    .. math:: \mathrm{gap}(p) = \textstyle\sum_k w_k\, p_k\, [x_k \in \mathcal G]
              \,\big/ \sum_k w_k\, p_k

    ``data=None`` is the paper's {-1, 0, 1}: then the region is ``0.25 < |x| < 0.75`` at the
    default margin (the paper's Sec. 6 discussion of Fig. 2).

    Parameters
    ----------
    p : array_like, shape (..., n); density on the grid (last axis).
    x : array_like, shape (n,)
    data : array_like, shape (M, 1), optional
    margin : float; see :func:`gap_region`.

    Returns
    -------
    numpy.ndarray, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import metrics
    >>> x = np.linspace(-1.495, 1.495, 300)  # centres of 300 bins on [-1.5, 1.5]
    >>> u = np.ones_like(x)  # uniform density
    >>> round(float(metrics.gap_mass(u, x)), 3)  # 1 of the 3 units of length
    0.333
    """
    w = grid_weights(x)
    p = _normalise(p, w)
    sel = gap_region(three_points() if data is None else data, np.asarray(x, float),
                     margin=margin)
    return np.tensordot(p, w * sel, axes=([-1], [0]))


def mode_masses(p, x, data=None) -> np.ndarray:
    r"""Mass of each training point's Voronoi cell (:func:`mode_cells`) under a 1-D density.

    .. math:: M_m(p) = \textstyle\sum_k w_k\, p_k\, [c(x_k) = m] \,\big/ \sum_k w_k\, p_k

    Last axis = cells, in the order of ``data`` (default the paper's {-1, 0, 1}: cells
    ``(-inf, -0.5), (-0.5, 0.5), (0.5, inf)``; a grid point exactly at a midpoint goes to the
    lower-index point).

    Parameters
    ----------
    p : array_like, shape (..., n)
    x : array_like, shape (n,)
    data : array_like, shape (M, 1), optional

    Returns
    -------
    numpy.ndarray, shape (..., M)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import metrics
    >>> x = np.linspace(-1.495, 1.495, 300)  # centres of 300 bins on [-1.5, 1.5]
    >>> u = np.ones_like(x)  # uniform density
    >>> metrics.mode_masses(u, x).round(3).tolist()
    [0.333, 0.333, 0.333]
    """
    w = grid_weights(x)
    p = _normalise(p, w)
    mu = three_points() if data is None else data
    cells = mode_cells(mu, np.asarray(x, float))
    return np.stack([np.tensordot(p, w * (cells == k), axes=([-1], [0]))
                     for k in range(len(as_data(mu)))], axis=-1)


def ensemble_moments(values) -> dict[str, np.ndarray]:
    r"""Mean, variance, skewness and excess kurtosis across the first (model) axis.

    With central moments :math:`m_k = \frac1N \sum_n (v_n - \bar v)^k`,

    .. math:: \mathrm{var} = \tfrac{N}{N-1} m_2, \qquad
              \mathrm{skew} = m_3 / m_2^{3/2}, \qquad \mathrm{kurt} = m_4 / m_2^2 - 3.

    With ``N`` models, Gaussian-null standard errors are ``sqrt(6/N)`` (skew) and
    ``sqrt(24/N)`` (excess kurtosis); returned as ``se_skew``, ``se_kurt``: the size of the
    cumulants beyond the Gaussian truncation of Prop. 3.1. Skewness and kurtosis are
    undefined for a quantity that does not vary across the ensemble, so an element whose
    spread is at rounding level (``sqrt(m_2) <= 16 u max|v|``, ``u`` the unit roundoff)
    raises ValueError naming ``values`` and the element (no 0 or NaN is made up).

    Parameters
    ----------
    values : array_like, shape (N, ...); finite, ``N >= 4`` models.

    Returns
    -------
    dict
        ``mean``, ``var``, ``skew``, ``kurt`` (shape ``(...)``), ``se_skew``, ``se_kurt``.

    Examples
    --------
    >>> import numpy as np
    >>> r = ensemble_moments(np.array([[0.0], [1.0], [0.0], [1.0]]))
    >>> float(r["skew"][0]), float(r["kurt"][0]), round(float(r["se_skew"]), 4)
    (0.0, -2.0, 1.2247)
    >>> ensemble_moments(np.ones((5, 2)))
    Traceback (most recent call last):
    ...
    ValueError: values does not vary across the models (axis 0) at index (0,) ...
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
    flat = np.sqrt(m2) <= 16 * np.finfo(float).eps * np.abs(v).max(0)
    if np.any(flat):
        idx = tuple(int(i) for i in np.argwhere(flat)[0])
        raise ValueError(f"values does not vary across the models (axis 0) at index {idx} "
                         f"({int(flat.sum())} element(s)): skewness and kurtosis are undefined")
    skew = (c**3).mean(0) / m2**1.5
    kurt = (c**4).mean(0) / m2**2 - 3
    return {"mean": m, "var": m2 * n / (n - 1), "skew": skew, "kurt": kurt,
            "se_skew": np.sqrt(6 / n), "se_kurt": np.sqrt(24 / n)}
