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
    """Validate a training set and return it as a float64 array of shape ``(M, D)``.

    A 1-D array is read as M points in one dimension. Coordinates must be finite and at
    most :data:`gtv_symbolic._validate.MAX_COORD` in magnitude, ``D <= MAX_DIM``.

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
    """Vertices of a regular m-gon on the unit circle: ``(cos 2 pi k/m, sin 2 pi k/m)``.

    >>> polygon(3).shape
    (3, 2)
    """
    m = int_arg(m, "m", 1, MAX_POINTS)
    a = 2 * np.pi * np.arange(m) / m
    return np.stack([np.cos(a), np.sin(a)], axis=1)


def line(m: int = 6) -> np.ndarray:
    """``x = y = linspace(-1, 1, m)`` (Figure 1, 'line')."""
    m = int_arg(m, "m", 1, MAX_POINTS)
    z = np.linspace(-1, 1, m)
    return np.stack([z, z], axis=1)


def lshape() -> np.ndarray:
    """The L-shaped set of Figure 1 (file ``fig1blend`` in the paper's code)."""
    return np.array([(-1, -1), (-1, 0), (-1, 1), (0, -1), (0.5, -1), (1, -1)], dtype=float)


def random_fig1() -> np.ndarray:
    """The fixed 'random' set of Figure 1."""
    return np.array([(-1, -1), (-0.9, 1), (-0.3, 0.2), (0.1, -0.1), (0.2, -0.1), (0.9, 0.7)],
                    dtype=float)


def three_points() -> np.ndarray:
    """The 1-D training set {-1, 0, 1} of Figure 2, shape (3, 1)."""
    return np.array([[-1.0], [0.0], [1.0]])


def square(theta: float = 0.0) -> np.ndarray:
    """Figure 3 data: ``(cos(i pi/2 + theta), sin(i pi/2 + theta))``, i = 0..3."""
    theta = real_arg(theta, "theta", -MAX_COORD, MAX_COORD)
    a = np.arange(4) * np.pi / 2 + theta
    return np.stack([np.cos(a), np.sin(a)], axis=1)


FIG1_DATASETS = {
    "polygon": polygon,
    "lshape": lshape,
    "line": line,
    "random": random_fig1,
}
