r"""Feature maps of the linear denoisers: 1-D basis families behind one interface, crossed maps.

A crossed feature map over ``x in R^D`` and ``t`` (paper Sec. 6, the linear models of
Figs. 2-3) is

.. math::  \phi_{i_1 \dots i_D k}(x, t) = b^{(1)}_{i_1}(x_1) \cdots b^{(D)}_{i_D}(x_D)\, h_k(t).

* :mod:`.base` -- :class:`AbstractBasis1D`, the interface of one axis (values, derivatives,
  exact Gaussian expectations, SymPy form); subclassing registers a family by name.
* :mod:`.gaussian` -- :class:`GaussianBasis` (``'gaussian'``, the paper's ``phi_gauss``);
  :mod:`.fourier` -- :class:`FourierBasis` (``'fourier'``, the paper's ``phi_fourier``).
* :mod:`.featuremap` -- :class:`FeatureMap`, the tensor product, with separable
  contractions (``_contract``).

Adding a family: one module with an :class:`AbstractBasis1D` subclass whose ``family``
names it; :func:`make_features` then accepts that name.

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic.features import make_features
>>> fm = make_features("gaussian", dim=1, n_x=16, n_t=16, eps=1e-2)
>>> fm.n_features, fm.family
(256, 'gaussian')
>>> fm(np.zeros((5, 1)), 0.5).shape
(5, 256)
"""

from __future__ import annotations

import numpy as np

from ..grids import check_window
from .base import REGISTRY, AbstractBasis1D, check_count
from .featuremap import MAX_FEATURES, FeatureMap
from .fourier import FourierBasis, fourier_basis
from .gaussian import GaussianBasis, gaussian_basis

__all__ = ["AbstractBasis1D", "GaussianBasis", "FourierBasis", "FeatureMap", "make_features",
           "gaussian_basis", "fourier_basis", "families", "FAMILIES", "MAX_FEATURES"]

#: The built-in family names (``families()`` also lists families registered later).
FAMILIES = ("gaussian", "fourier")


def families() -> tuple[str, ...]:
    r"""Names of every registered 1-D basis family; no formula: a registry listing.

    Subclassing :class:`AbstractBasis1D` with a ``family`` name registers it.

    Returns
    -------
    tuple of str
        In registration order; includes the built-in :data:`FAMILIES` ``'gaussian'``, ``'fourier'``.

    Examples
    --------
    >>> set(FAMILIES) <= set(families())
    True
    """
    return tuple(REGISTRY)


def make_features(family: str, dim: int, n_x: int, n_t: int, eps: float, T: float = 1.0,
                  x_range=(-1.5, 1.5)) -> FeatureMap:
    r"""Crossed features of one family on every axis (the paper's ``get_phi_crossed_func_*``).

    The linear models of paper Sec. 5.1 (Figs. 2-3) use

    .. math:: \phi_{i_1 \dots i_D k}(x, t) = b_{i_1}(x_1) \cdots b_{i_D}(x_D)\, h_k(t),
              \qquad F = n_x^D\, n_t,

    with :math:`b` the family's basis on ``x_range`` (Gaussian centres ``linspace(lo, hi, n_x)``,
    Fourier period ``hi - lo``) and :math:`h` on :math:`[\epsilon, T]` (Gaussian centres
    ``linspace(eps, T, n_t)``, Fourier period ``T - eps``). Fig. 2 is
    ``make_features('gaussian', 1, 16, 16, eps)``, Fig. 3 ``make_features(family, 2, 10, 10, 1e-2)``.

    Parameters
    ----------
    family : str
        A registered family name (:func:`families`).
    dim : int
        Data dimension :math:`D \ge 1`.
    n_x, n_t : int
        Basis sizes per x axis and for t, ``>= 1`` (Gaussian: ``>= 2``); ``F <= MAX_FEATURES``.
    eps, T : float
        Time window, ``0 < eps < T``; ``T`` default 1.0.
    x_range : tuple of float, default (-1.5, 1.5)
        ``(lo, hi)`` with ``lo < hi``.

    Returns
    -------
    FeatureMap

    Raises
    ------
    ValueError, TypeError
        For an unknown family, a bad count or window, or ``F > MAX_FEATURES``.

    Examples
    --------
    >>> fm = make_features("fourier", dim=2, n_x=3, n_t=2, eps=1e-2)
    >>> fm
    FeatureMap(family='fourier', dim=2, shape=(3, 3, 2), F=18)
    """
    if family not in REGISTRY:
        raise ValueError(f"family must be one of {families()}, got {family!r}")
    dim = check_count(dim, "dim")
    n_x = check_count(n_x, "n_x")
    n_t = check_count(n_t, "n_t")
    eps, T = check_window(None, eps, T)
    try:
        lo, hi = map(float, x_range)
    except (TypeError, ValueError):
        raise ValueError(f"x_range must be (lo, hi) with lo < hi, got {x_range!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
        raise ValueError(f"x_range must be (lo, hi) with lo < hi, got {x_range}")
    F = n_x**dim * n_t
    if F > MAX_FEATURES:
        raise ValueError(f"n_x**dim * n_t = {F} features is too large: at most {MAX_FEATURES} "
                         f"are supported (F x F matrices must fit in memory)")
    cls = REGISTRY[family]
    return FeatureMap([cls.for_x(n_x, lo, hi)] * dim, cls.for_t(n_t, eps, T), family=family)
