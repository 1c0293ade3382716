"""Training sets as point masses ``p_data = (1/M) sum_m delta(x0 - mu_m)`` (paper Sec. 2).

A training set is a float array of shape ``(M, D)``. The canonical sets of the paper's
figures are here (section 8), shared by tests, figures and examples.
"""

from __future__ import annotations

import numpy as np

from ._validate import MAX_COORD, MAX_DIM, coord_array, int_arg, real_arg

__all__ = ["MAX_POINTS", "as_data", "polygon", "line", "lshape", "random_fig1", "three_points",
           "square", "FIG1_DATASETS"]

MAX_POINTS = 10**6


def as_data(data, name: str = "data") -> np.ndarray:
    r"""Validate a training set and return it as a float64 array of shape ``(M, D)``.

    A training set of points :math:`\mu_1, \dots, \mu_M \in \mathbb R^D` stands for the empirical
    law :math:`p_{\mathrm{data}} = \frac1M \sum_m \delta(x_0 - \mu_m)` (paper Sec. 2). A 1-D
    array is read as :math:`M` points in one dimension.

    Parameters
    ----------
    data : array_like, shape (M, D) or (M,)
        Finite coordinates, at most ``gtv_symbolic._validate.MAX_COORD`` in magnitude;
        ``1 <= M <= MAX_POINTS``, ``1 <= D <= MAX_DIM``.
    name : str, default 'data'
        Argument name used in error messages.

    Returns
    -------
    numpy.ndarray, shape (M, D)

    Raises
    ------
    TypeError, ValueError
        For non-numbers, a wrong shape or size, or bad coordinates.

    Examples
    --------
    >>> as_data([0.0, 1.0]).shape
    (2, 1)
    """
    try:
        arr = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers with shape (M, D)") from exc
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (M, D), got shape {arr.shape}")
    if arr.shape[0] < 1:
        raise ValueError(f"{name} must hold at least one point (M >= 1), got M = 0")
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must have dimension D >= 1, got D = 0")
    if arr.shape[0] > MAX_POINTS:
        raise ValueError(f"{name} has M = {arr.shape[0]} points; at most {MAX_POINTS} supported")
    if arr.shape[1] > MAX_DIM:
        raise ValueError(f"{name} has dimension D = {arr.shape[1]}; at most {MAX_DIM} supported")
    return coord_array(arr, name)


def polygon(m: int = 6) -> np.ndarray:
    r"""Vertices of a regular :math:`m`-gon on the unit circle (Figure 1, 'polygon').

    .. math:: \mu_k = \bigl(\cos(2\pi k/m),\ \sin(2\pi k/m)\bigr), \qquad k = 0, \dots, m - 1

    Parameters
    ----------
    m : int, default 6
        Number of vertices, ``1 <= m <= MAX_POINTS``.

    Returns
    -------
    numpy.ndarray, shape (m, 2)

    Examples
    --------
    >>> polygon(4).round(12).tolist()
    [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [-0.0, -1.0]]
    """
    m = int_arg(m, "m", 1, MAX_POINTS)
    a = 2 * np.pi * np.arange(m) / m
    return np.stack([np.cos(a), np.sin(a)], axis=1)


def line(m: int = 6) -> np.ndarray:
    r"""Equally spaced points on the diagonal (Figure 1, 'line').

    .. math:: \mu_k = (z_k, z_k), \qquad z_k = -1 + \frac{2k}{m - 1}, \quad k = 0, \dots, m - 1

    Parameters
    ----------
    m : int, default 6
        ``1 <= m <= MAX_POINTS``.

    Returns
    -------
    numpy.ndarray, shape (m, 2)

    Examples
    --------
    >>> line(3).tolist()
    [[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]]
    """
    m = int_arg(m, "m", 1, MAX_POINTS)
    z = np.linspace(-1, 1, m)
    return np.stack([z, z], axis=1)


def lshape() -> np.ndarray:
    r"""The L-shaped set of Figure 1 (file ``fig1blend`` in the paper's code).

    .. math:: \{(-1, -1), (-1, 0), (-1, 1), (0, -1), (0.5, -1), (1, -1)\}

    Returns
    -------
    numpy.ndarray, shape (6, 2)

    Examples
    --------
    >>> lshape().shape
    (6, 2)
    """
    return np.array([(-1, -1), (-1, 0), (-1, 1), (0, -1), (0.5, -1), (1, -1)], dtype=float)


def random_fig1() -> np.ndarray:
    r"""The fixed 'random' set of Figure 1.

    .. math:: \{(-1, -1), (-0.9, 1), (-0.3, 0.2), (0.1, -0.1), (0.2, -0.1), (0.9, 0.7)\}

    Returns
    -------
    numpy.ndarray, shape (6, 2)

    Examples
    --------
    >>> random_fig1()[1].tolist()
    [-0.9, 1.0]
    """
    return np.array([(-1, -1), (-0.9, 1), (-0.3, 0.2), (0.1, -0.1), (0.2, -0.1), (0.9, 0.7)],
                    dtype=float)


def three_points() -> np.ndarray:
    r"""The 1-D training set of Figure 2, :math:`\{-1, 0, 1\}`.

    Returns
    -------
    numpy.ndarray, shape (3, 1)

    Examples
    --------
    >>> three_points().ravel().tolist()
    [-1.0, 0.0, 1.0]
    """
    return np.array([[-1.0], [0.0], [1.0]])


def square(theta: float = 0.0) -> np.ndarray:
    r"""Figure 3 data: the corners of a square rotated by :math:`\theta`.

    .. math:: \mu_i = \bigl(\cos(i\pi/2 + \theta),\ \sin(i\pi/2 + \theta)\bigr), \qquad i = 0, \dots, 3

    Parameters
    ----------
    theta : float, default 0.0
        Rotation in radians, finite, at most ``MAX_COORD`` in magnitude.

    Returns
    -------
    numpy.ndarray, shape (4, 2)

    Examples
    --------
    >>> import numpy as np
    >>> square(np.pi / 4)[0].round(4).tolist()
    [0.7071, 0.7071]
    """
    theta = real_arg(theta, "theta", -MAX_COORD, MAX_COORD)
    a = np.arange(4) * np.pi / 2 + theta
    return np.stack([np.cos(a), np.sin(a)], axis=1)


FIG1_DATASETS = {
    "polygon": polygon,
    "lshape": lshape,
    "line": line,
    "random": random_fig1,
}
