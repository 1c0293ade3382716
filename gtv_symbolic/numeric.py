"""The one bridge from SymPy expressions to vectorized NumPy functions.

Every numeric function of the package that comes from a formula is built here, so the same
rules hold everywhere:

* the argument order is recorded on the returned object (``.args``);
* ``modules=["scipy", "numpy"]`` explicitly, ``cse=True`` by default;
* numerical stability is chosen symbolically before printing: ``1 - exp(-a)`` becomes
  ``-expm1(-a)`` and ``log(1 + a)`` becomes ``log1p(a)`` (``sympy.codegen.rewriting``);
* outputs are broadcast to the common input shape (a constant expression still returns an
  array of the right shape), and matrix/vector axes go *last*: a ``(r, c)`` Matrix evaluated
  on inputs of shape ``(...)`` returns ``(..., r, c)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp
from sympy.codegen.rewriting import expm1_opt, log1p_opt, optimize

__all__ = ["STABLE_OPTIMIZATIONS", "stabilize", "NumericFunction", "lambdify"]

STABLE_OPTIMIZATIONS = (expm1_opt, log1p_opt)


def stabilize(expr: sp.Expr) -> sp.Expr:
    """Rewrite ``expr`` into a numerically stable equivalent (expm1/log1p)."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(stabilize)
    return _stabilize_scalar(sp.sympify(expr))


@lru_cache(maxsize=1024)
def _stabilize_scalar(expr: sp.Expr) -> sp.Expr:
    # memoized: the rewrite search takes seconds on e.g. the VP sigma^2
    return optimize(expr, STABLE_OPTIMIZATIONS)


@dataclass(frozen=True)
class NumericFunction:
    """A lambdified expression with its recorded argument order and output shape."""

    args: tuple[sp.Symbol, ...]
    expr: sp.Basic
    shape: tuple[int, ...]
    _func: object = field(repr=False, compare=False)

    def __call__(self, *values):
        if len(values) != len(self.args):
            names = ", ".join(str(a) for a in self.args)
            raise TypeError(f"expected {len(self.args)} arguments ({names}), got {len(values)}")
        arrays = [np.asarray(v, dtype=float) for v in values]
        for a, arr in zip(self.args, arrays, strict=True):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"argument {a} must be finite (found NaN or inf)")
        batch = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        raw = self._func(*arrays)
        if not self.shape:
            return np.broadcast_to(np.asarray(raw, dtype=float), batch).copy()
        flat = [np.broadcast_to(np.asarray(r, dtype=float), batch) for r in raw]
        return np.stack(flat, axis=-1).reshape(batch + self.shape)

    @property
    def source(self) -> str:
        import inspect

        return inspect.getsource(self._func)


def lambdify(args: Sequence[sp.Symbol], expr, *, cse: bool = True,
             stable: bool = True) -> NumericFunction:
    """Compile ``expr`` (scalar or Matrix) of ``args`` into a :class:`NumericFunction`.

    Parameters
    ----------
    args : sequence of Symbol
        Argument order of the compiled function (recorded as ``.args``).
    expr : sympy.Expr, sequence of Expr, or sympy.Matrix
        What to compile. A sequence gives ``(..., n)``; a Matrix gives ``(..., r, c)``
        (flattened row-major and reshaped with its axes last).
    cse : bool
        Common-subexpression elimination in the generated code.
    stable : bool
        Apply the expm1/log1p rewrites first (see :func:`stabilize`).
    """
    if isinstance(args, sp.Basic) or not isinstance(args, Sequence):
        raise TypeError(f"args must be a sequence of Symbols, got {type(args).__name__}")
    args = tuple(args)
    for a in args:
        if not isinstance(a, sp.Symbol):
            raise TypeError(f"lambdify args must be Symbols, got {a!r}")
    if isinstance(expr, (list, tuple)):
        expr = sp.ImmutableMatrix([sp.sympify(e) for e in expr])
        shape = (expr.shape[0],)  # a sequence gives a vector output (..., n)
    elif isinstance(expr, sp.MatrixBase):
        shape = tuple(expr.shape)  # a Matrix keeps its (r, c) shape
    else:
        shape = None
    if shape is not None:
        body = [stabilize(e) if stable else e for e in expr]
        free = set().union(*(e.free_symbols for e in body))
    else:
        shape = ()
        expr = sp.sympify(expr)
        body = stabilize(expr) if stable else expr
        free = body.free_symbols
    missing = free - set(args)
    if missing:
        raise ValueError(f"expression has free symbols not in args: {sorted(map(str, missing))}")
    func = sp.lambdify(args, body, modules=["scipy", "numpy"], cse=cse)
    return NumericFunction(args=args, expr=expr, shape=shape, _func=func)
