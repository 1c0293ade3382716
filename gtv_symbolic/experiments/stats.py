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
    r"""Mean over ``axis`` and its standard error ``sd(ddof=1)/sqrt(n)`` (0 when n = 1).

    .. math:: \bar v = \frac1n\sum_{k=1}^n v_k,\qquad
              \mathrm{se}(\bar v) = \sqrt{\frac{1}{n(n-1)}\sum_{k=1}^n (v_k-\bar v)^2}.

    Parameters
    ----------
    v : array_like
        Values; ``axis`` indexes the ``n`` independent replicates (models, seeds).
    axis : int, default 0
        The replicate axis.

    Returns
    -------
    mean, se : numpy.ndarray
        Arrays of ``v``'s shape without ``axis``; ``se`` is zero when ``n = 1``.

    Examples
    --------
    >>> m, se = mean_se([[1.0, 2.0], [3.0, 2.0]])
    >>> m.tolist(), se.tolist()
    ([2.0, 2.0], [1.0, 0.0])
    """
    v = np.asarray(v, dtype=float)
    n = v.shape[axis]
    m = v.mean(axis)
    if n < 2:
        return m, np.zeros_like(m)
    return m, v.std(axis, ddof=1) / np.sqrt(n)


def diff_se(se_a, se_b):
    r"""Standard error of a difference of two independent estimates.

    .. math:: \mathrm{se}(a - b) = \sqrt{\mathrm{se}_a^2 + \mathrm{se}_b^2}.

    Parameters
    ----------
    se_a, se_b : float or array_like
        Standard errors of the two estimates (broadcast against each other).

    Returns
    -------
    float or numpy.ndarray
        The standard error of ``a - b`` (not valid for paired, correlated estimates).

    Examples
    --------
    >>> float(diff_se(0.3, 0.4))
    0.5
    """
    return np.hypot(se_a, se_b)


def normalise(m):
    r"""Bin masses renormalised to sum to one over the last axis (negative parts clipped).

    .. math:: \hat m_b = \frac{\max(m_b, 0)}{\sum_{b'} \max(m_{b'}, 0)}.

    Parameters
    ----------
    m : array_like, shape (..., bins)
        Unnormalised bin masses (or densities on a uniform grid).

    Returns
    -------
    numpy.ndarray, shape (..., bins)
        Non-negative masses summing to one over the last axis.

    Raises
    ------
    ValueError
        If some distribution has no positive mass on the grid.

    Examples
    --------
    >>> normalise([[1.0, 3.0], [-1.0, 2.0]]).tolist()
    [[0.25, 0.75], [0.0, 1.0]]
    """
    m = np.clip(np.asarray(m, dtype=float), 0, None)
    tot = m.sum(-1, keepdims=True)
    if np.any(tot <= 0):
        raise ValueError("a distribution put no mass inside the grid")
    return m / tot


def tv(p, q):
    r"""Total variation distance of two mass vectors over the last axis.

    Both are first renormalised by :func:`normalise`:

    .. math:: \mathrm{TV}(p, q) = \tfrac12 \sum_b |\hat p_b - \hat q_b| \in [0, 1].

    Parameters
    ----------
    p, q : array_like, shape (..., bins)
        Bin masses (broadcast against each other).

    Returns
    -------
    float or numpy.ndarray
        A float for 1-D inputs, otherwise an array of the broadcast leading shape.

    Raises
    ------
    ValueError
        If a distribution has no positive mass (from :func:`normalise`).

    Examples
    --------
    >>> tv([1.0, 1.0, 0.0], [0.0, 1.0, 1.0])
    0.5
    """
    out = 0.5 * np.abs(normalise(p) - normalise(q)).sum(-1)
    return float(out) if np.ndim(out) == 0 else out


def bootstrap_tv(a, b, *, n_boot: int = 200, rng):
    r"""TV between the ensemble averages of ``a`` and ``b`` and its bootstrap standard error.

    With the renormalised models :math:`a_n` (:math:`n \le N`) and :math:`b_m` (:math:`m \le M`),

    .. math:: \widehat{\mathrm{TV}} = \mathrm{TV}\Big(\frac1N\sum_n a_n, \frac1M\sum_m b_m\Big),
              \qquad \mathrm{se} = \mathrm{sd}_{k=1..B}\big(\mathrm{TV}^{*}_k\big),

    where :math:`\mathrm{TV}^*_k` is the same statistic on the models resampled with
    replacement (``b`` too when it is an ensemble). The estimate is biased upwards by the
    sampling noise of the averages; the bootstrap does not remove that bias.

    Parameters
    ----------
    a : array_like, shape (N, bins)
        Bin masses of ``N`` models.
    b : array_like, shape (M, bins) or (bins,)
        An independent ensemble (resampled too) or a fixed reference distribution.
    n_boot : int, default 200
        Bootstrap replicates ``B`` (>= 2 for a standard error).
    rng : numpy.random.Generator
        Source of the resampling indices.

    Returns
    -------
    tv : float
        TV between the averages.
    se : float
        Bootstrap standard error of ``tv``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> est, se = bootstrap_tv(a, np.array([0.5, 0.5]), n_boot=50, rng=np.random.default_rng(0))
    >>> float(est), bool(se > 0)
    (0.0, True)
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
    r"""Mass of the (flattened) region ``mask`` under the renormalised masses ``m``.

    .. math:: M(\mathcal R) = \sum_{b \in \mathcal R} \hat m_b,

    with :math:`\hat m` from :func:`normalise` (e.g. the gap mass for ``mask =
    gap_region(...)``).

    Parameters
    ----------
    m : array_like, shape (..., bins)
        Bin masses (a 2-D grid flattened to ``bins`` cells).
    mask : array_like of bool, ``bins`` entries (any shape, flattened)
        The region's cells, e.g. from :func:`gap_region` or one cell of :func:`mode_cells`.

    Returns
    -------
    float or numpy.ndarray, shape (...)
        The region's mass in [0, 1].

    Examples
    --------
    >>> float(region_mass([1.0, 2.0, 1.0], [False, True, False]))
    0.5
    """
    return normalise(m) @ np.asarray(mask, dtype=float).reshape(-1)
