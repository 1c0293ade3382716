"""Evaluation of feature maps and offsets on quadrature nodes, with shape checks."""

from __future__ import annotations

import numpy as np

__all__ = ["eval_features", "eval_offset"]


def eval_features(features, y, u):
    out = np.asarray(features(y, u), dtype=float)
    if out.ndim != 2 or out.shape[0] != y.shape[0]:
        raise ValueError(f"features(x, t) must return shape (n, F); got {out.shape}")
    return out


def eval_offset(offset, y, u, dim):
    if offset is None:
        return np.zeros((y.shape[0], dim))
    out = np.asarray(offset(y, u), dtype=float).reshape(y.shape[0], dim)
    return out
