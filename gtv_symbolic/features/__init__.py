r"""Feature maps of the linear denoisers: 1-D basis families behind one interface, crossed maps.

A crossed feature map over ``x in R^D`` and ``t`` (paper Sec. 6, the linear models of
Figs. 2-3) is

.. math::  \phi_{i_1 \dots i_D k}(x, t) = b^{(1)}_{i_1}(x_1) \cdots b^{(D)}_{i_D}(x_D)\, h_k(t).

* :mod:`.base` -- :class:`AbstractBasis1D`, the interface of one axis (values, derivatives,
  exact Gaussian expectations, SymPy form); subclassing registers a family by name.
* :mod:`.gaussian` -- :class:`GaussianBasis` (``'gaussian'``, the paper's ``phi_gauss``);
  :mod:`.fourier` -- :class:`FourierBasis` (``'fourier'``, the paper's ``phi_fourier``).
* :mod:`.featuremap` -- :class:`FeatureMap`, the tensor product, with separable
  contractions (:mod:`._contract`).

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
    """Names of every registered basis family (built-in and user-defined subclasses)."""
    return tuple(REGISTRY)


def make_features(family: str, dim: int, n_x: int, n_t: int, eps: float, T: float = 1.0,
                  x_range=(-1.5, 1.5)) -> FeatureMap:
    """Crossed features of one family on every axis (the paper's ``get_phi_crossed_func_*``).

    Parameters
    ----------
    family : a registered family name (:func:`families`; built in: 'gaussian', 'fourier').
    dim : data dimension D (each x axis gets ``n_x`` basis functions).
    n_x, n_t : basis sizes per x axis and for t; ``F = n_x**dim * n_t``.
    eps, T : time window ``[eps, T]`` of the t axis (Gaussian centres ``linspace(eps, T,
        n_t)``; Fourier period ``T - eps``).
    x_range : ``(lo, hi)`` of the x axes (Gaussian centres; Fourier period ``hi - lo``).

    Fig. 2 is ``make_features('gaussian', 1, 16, 16, eps)``; Fig. 3 is
    ``make_features(family, 2, 10, 10, 1e-2)``.
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
