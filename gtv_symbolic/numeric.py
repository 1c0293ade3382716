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
    r"""Rewrite ``expr`` into a numerically stable equivalent (``expm1``/``log1p``), elementwise.

    .. math:: 1 - e^{-a} \to -\operatorname{expm1}(-a), \qquad \log(1 + a) \to \operatorname{log1p}(a)

    (``sympy.codegen.rewriting``; memoised, as the search takes seconds on e.g. the VP
    :math:`\sigma_t^2`).

    Parameters
    ----------
    expr : sympy.Expr or sympy.Matrix

    Returns
    -------
    sympy.Expr or sympy.Matrix
        Mathematically equal to ``expr``.

    Examples
    --------
    >>> import sympy as sp
    >>> a = sp.Symbol("a", positive=True)
    >>> stabilize(1 - sp.exp(-a)), stabilize(sp.log(1 + a))
    (-expm1(-a), log1p(a))
    """
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(stabilize)
    return _stabilize_scalar(sp.sympify(expr))


@lru_cache(maxsize=1024)
def _stabilize_scalar(expr: sp.Expr) -> sp.Expr:
    # memoized: the rewrite search takes seconds on e.g. the VP sigma^2
    return optimize(expr, STABLE_OPTIMIZATIONS)


@dataclass(frozen=True)
class NumericFunction:
    r"""A lambdified expression with its recorded argument order and output shape.

    Calling it with arrays of broadcastable shapes ``(...)`` evaluates
    :math:`f(a_1, \dots, a_n)` elementwise and returns shape ``(...) + shape`` (scalar ``()``,
    vector ``(n,)`` or matrix ``(r, c)``, matrix axes last); a constant is broadcast too.

    Attributes
    ----------
    args : tuple of sympy.Symbol
        Argument order.
    expr : sympy.Basic
        The expression as given (before :func:`stabilize`).
    shape : tuple of int
        Output shape per point.

    Raises
    ------
    TypeError, ValueError
        On a call with the wrong number of arguments or a non-finite argument.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> x = sp.Symbol("x", positive=True)
    >>> f = lambdify([x], sp.Matrix([[x, 1], [0, x]]))
    >>> f.args, f.shape, f(np.array([1.0, 2.0])).shape
    ((x,), (2, 2), (2, 2, 2))
    """

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
        r"""The generated Python source of the compiled function (for inspection)."""
        import inspect

        return inspect.getsource(self._func)


def lambdify(args: Sequence[sp.Symbol], expr, *, cse: bool = True,
             stable: bool = True) -> NumericFunction:
    r"""Compile ``expr`` (scalar, sequence or Matrix) of ``args`` into a :class:`NumericFunction`.

    No formula of its own: the numeric bridge for every formula of the package, with
    ``modules=["scipy", "numpy"]``, optional common-subexpression elimination and the
    :func:`stabilize` rewrites applied first.

    Parameters
    ----------
    args : sequence of sympy.Symbol
        Argument order of the compiled function (recorded as ``.args``).
    expr : sympy.Expr, sequence of Expr, or sympy.Matrix
        What to compile. A sequence gives ``(..., n)``; a Matrix gives ``(..., r, c)``.
    cse : bool, default True
        Common-subexpression elimination in the generated code.
    stable : bool, default True
        Apply the expm1/log1p rewrites first (see :func:`stabilize`).

    Returns
    -------
    NumericFunction

    Raises
    ------
    TypeError
        If ``args`` is not a sequence of Symbols.
    ValueError
        If ``expr`` has free symbols not in ``args``.

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> x = sp.Symbol("x", positive=True)
    >>> f = lambdify([x], 1 - sp.exp(-x))
    >>> x0 = np.array([1e-20, 1.0])
    >>> (f(x0) / x0).round(6).tolist()  # expm1: no cancellation at 1e-20
    [1.0, 0.632121]
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
