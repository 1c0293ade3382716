"""Argument checks and a linear solve shared by the training modules."""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve

__all__ = ["check_ridge", "check_rng", "is_feature_map", "spd_solve"]


def check_ridge(ridge):
    ridge = float(ridge)
    if not (np.isfinite(ridge) and ridge > 0):
        raise ValueError(f"ridge must be finite and > 0, got {ridge}")
    return ridge


def check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def is_feature_map(features) -> bool:
    return all(hasattr(features, a) for a in ("axis_values", "n_features", "dim", "x_bases"))


def spd_solve(A, B):
    """Solve ``A X = B`` for symmetric positive definite ``A`` (Cholesky)."""
    return cho_solve(cho_factor(A, lower=True, check_finite=False), B, check_finite=False)
