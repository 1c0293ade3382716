"""Argument checks shared by the typical-distribution predictors."""

from __future__ import annotations

from ..kernels import NaiveKernel

__all__ = ["check_naive"]


def check_naive(kernel):
    if not isinstance(kernel, NaiveKernel):
        raise TypeError(f"kernel must be a kernels.NaiveKernel, got {type(kernel).__name__}")
    return kernel
