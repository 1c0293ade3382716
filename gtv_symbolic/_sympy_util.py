"""Small SymPy helpers shared by the derivation engine's modules."""

from __future__ import annotations

import sympy as sp

__all__ = ["is_matrix", "entries"]


def is_matrix(e) -> bool:
    """True for a SymPy matrix (explicit entries)."""
    return isinstance(e, sp.MatrixBase)


def entries(e) -> list:
    """The entries of a matrix, or ``[e]`` for a scalar expression."""
    return list(e) if is_matrix(e) else [sp.sympify(e)]
