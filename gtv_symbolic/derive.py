r"""Derivation engine: ordered, machine-checked steps rendered as Markdown and LaTeX.

A :class:`Derivation` is a list of :class:`Step` objects, each one relation checked *as displayed*;
see also :mod:`.derive_render`, :mod:`.derive_store` (``gtv derive``) and :mod:`.derivations`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from ._sympy_util import entries, is_matrix
from .derive_checks import (
    CheckResult,
    StepTimeout,
    compare_close,
    compare_mc,
    compare_scaling,
    doit,
    evaluate,
    fmt_num,
    time_limit,
)

__all__ = ["STATUSES", "VERIFIED", "RELATIONS", "Step", "Derivation", "CheckResult",
           "VerificationError", "compare_mc", "compare_close", "compare_scaling", "fmt_num",
           "time_limit", "StepTimeout", "names", "get", "run", "cli", "add_arguments", "write_index"]

STATUSES = ("symbolic", "numeric", "monte-carlo", "definition", "assumption")
VERIFIED = ("symbolic", "numeric", "monte-carlo")
RELATIONS = ("=", "<=", ">=", "~")

PRECHECK_POINTS = 4
PRECHECK_TOL = 1e-6
PRECHECK_SECONDS = 15.0  # budget of the numeric pre-check of a symbolic step


class VerificationError(AssertionError):
    """A derivation step did not verify (no formula: an error type, an ``AssertionError``).

    Parameters
    ----------
    message : str, naming the derivation, the 1-based step, its label and the residual

    Examples
    --------
    >>> issubclass(VerificationError, AssertionError)
    True
    """


class Step:
    r"""One displayed relation ``lhs REL rhs`` with its reason and status.

    After substituting ``defs`` and ``where``, a ``numeric`` step without ``check`` passes iff at
    ``n_points`` random admissible points :math:`\max_j |\mathrm{lhs}(z_j) - \mathrm{rhs}(z_j)|
    / (1 + |\mathrm{rhs}(z_j)|) \le \mathrm{tol}` (signed for ``<=``/``>=``); ``symbolic`` needs
    this at 4 points (tol 1e-6), then ``simplifier(lhs - rhs) == 0`` within ``timeout`` s;
    ``check(rng)`` decides ``monte-carlo``; ``definition`` and ``assumption`` are not verified.

    Parameters
    ----------
    lhs, rhs : SymPy expression or Matrix (the displayed equation)
    reason, label : str, a one-line reason and a short name (both may contain ``$...$``)
    status : str, one of :data:`STATUSES`
    relation : {"=", "<=", ">=", "~"}, default "=" (``~``, leading order, needs ``check``)
    defs, where : dict, optional, ``{display symbol: meaning}``, ``{symbol: value}`` (special case)
    check : callable(rng) -> CheckResult, optional
    simplifier, simplifier_name : callable, str, optional (default: cancel, then simplify)
    domain : dict, optional, ``{symbol: (lo, hi)}`` sampling boxes of the random points
    n_points, tol, timeout : int, float, float, default 20, 1e-9, 20.0

    Raises
    ------
    ValueError
        An unknown status or relation, or an option that the status does not allow.

    Examples
    --------
    >>> x = sp.Symbol("x", positive=True)
    >>> s = Step(sp.log(x**2), 2 * sp.log(x), "Log of a power.", status="symbolic")
    >>> s.verify(np.random.default_rng(0)), s.detail.split(" (")[0]
    (True, 'lhs - rhs reduces to 0 with cancel, then simplify')
    """

    def __init__(self, lhs, rhs, reason: str, *, status: str, relation: str = "=", label: str = "",
                 defs: dict | None = None, where: dict | None = None, check: Callable | None = None,
                 simplifier: Callable | None = None, simplifier_name: str | None = None,
                 domain: dict | None = None, n_points: int = 20, tol: float = 1e-9,
                 timeout: float = 20.0):
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        if relation not in RELATIONS:
            raise ValueError(f"relation must be one of {RELATIONS}, got {relation!r}")
        if status in ("definition", "assumption") and check is not None:
            raise ValueError(f"a {status} step claims nothing to check; got check={check!r}")
        if status == "monte-carlo" and check is None:
            raise ValueError("status 'monte-carlo' needs check=callable(rng) -> CheckResult")
        if relation == "~" and status in VERIFIED and check is None:
            raise ValueError("relation '~' needs check=... using compare_scaling")
        if status == "symbolic" and relation == "~":
            raise ValueError("relation '~' cannot be checked symbolically; use status 'numeric'")
        if n_points < 1 or not tol > 0 or not timeout > 0:
            raise ValueError(f"n_points >= 1, tol > 0 and timeout > 0 required, got {n_points}, "
                             f"{tol}, {timeout}")
        self.lhs, self.rhs, self.reason = lhs, rhs, reason
        self.status, self.relation, self.label = status, relation, label
        self.defs, self.where = dict(defs or {}), dict(where or {})
        self.check, self.simplifier, self.simplifier_name = check, simplifier, simplifier_name
        self.domain = dict(domain or {})
        self.n_points, self.tol, self.timeout = n_points, tol, timeout
        self.verified, self.detail, self.residual, self.seconds = False, "", None, 0.0

    def __repr__(self):
        return f"Step({self.label or self.reason[:30]!r}, status={self.status!r})"

    def concrete(self, expr):
        """``expr`` with ``defs`` substituted to a fixed point, then the ``where`` special case."""
        funcs = {k: v for k, v in self.defs.items() if isinstance(k, sp.FunctionClass)}
        nodes = {k: v for k, v in self.defs.items() if k not in funcs}
        for _ in range(20):
            if not hasattr(expr, "xreplace"):
                break
            new = expr.xreplace(nodes) if nodes else expr
            for k, v in funcs.items():
                new = new.replace(k, v)
            if new == expr:
                break
            expr = new
        if self.where and hasattr(expr, "subs"):
            expr = expr.subs(self.where)
        if isinstance(expr, sp.MatrixExpr) and not is_matrix(expr):
            expr = expr.doit().as_explicit()  # e.g. a * x - y with x, y matrices
        return expr

    def sides(self):
        """The concrete ``(lhs, rhs)`` as lists of entries (matrices flattened)."""
        lhs, rhs = (sp.Matrix(list(e)) if isinstance(e, sp.Tuple) else e
                    for e in (self.concrete(self.lhs), self.concrete(self.rhs)))
        if is_matrix(lhs) or is_matrix(rhs):
            lhs = sp.Matrix(lhs) if is_matrix(lhs) else sp.Matrix(lhs) * 0 + lhs
            rhs = sp.Matrix(rhs) if is_matrix(rhs) else sp.ones(*lhs.shape) * rhs
            if lhs.shape != rhs.shape:
                raise ValueError(f"lhs shape {lhs.shape} != rhs shape {rhs.shape}")
        return entries(lhs), entries(rhs)

    def _set(self, ok: bool, detail: str, residual=None) -> bool:
        self.verified, self.detail = ok, detail
        self.residual = None if residual is None else float(residual)
        return ok

    def verify(self, rng: np.random.Generator) -> bool:
        """Run this step's check; set ``verified``, ``detail``, ``residual``, ``seconds``."""
        t0 = time.perf_counter()
        try:
            return self._verify(rng)
        finally:
            self.seconds = time.perf_counter() - t0

    def _verify(self, rng) -> bool:
        if self.status == "definition":
            return self._set(False, "definition: introduces notation, nothing to verify")
        if self.status == "assumption":
            return self._set(False, "assumption: not verified")
        if self.check is not None:
            res = self.check(rng)
            if not isinstance(res, CheckResult):
                raise TypeError(f"check must return a CheckResult, got {type(res).__name__}")
            return self._set(res.ok, res.detail, res.residual)
        if self.status == "numeric":
            worst = self._worst(rng, self.n_points)  # finite work: no time limit
            what = "max |lhs - rhs|" if self.relation == "=" else "max violation"
            lhs, rhs = self.sides()
            ints = sorted({str(v) for e in lhs + rhs for v in sp.sympify(e).free_symbols
                           if v.is_integer and v not in self.domain})
            how = (f"; {', '.join(ints)} drawn from 1..4, one draw per group of points" if ints else "")
            return self._set(bool(np.isfinite(worst) and worst <= self.tol),
                             f"{what} / (1 + |rhs|) at {self.n_points} random admissible points "
                             f"(seeded numpy Generator{how}) is {_bound(worst, self.tol / 10)} (tolerance "
                             f"{self.tol:g})", worst)
        return self._verify_symbolic(rng)

    def _worst(self, rng, n, timeout=None) -> float:
        """Worst normalised residual (or inequality violation) at ``n`` random points."""
        lhs, rhs = self.sides()
        diff = [a - b for a, b in zip(lhs, rhs, strict=True)]
        vals = evaluate(diff + rhs, rng, n, self.domain, timeout)
        r, scale = vals[: len(diff)], 1 + np.abs(vals[len(diff):])
        if self.relation == "=":
            z = np.abs(r) / scale
        else:  # signed violation; an imaginary part is a violation too
            sign = 1.0 if self.relation == "<=" else -1.0
            z = np.maximum(sign * r.real, 0) / scale + np.abs(r.imag) / scale
        finite = z[np.isfinite(z)]
        return float(np.max(finite)) if finite.size else float("nan")

    def _verify_symbolic(self, rng) -> bool:
        simp = self.simplifier or _default_simplifier
        name = self.simplifier_name or ("cancel, then simplify" if simp is _default_simplifier
                                        else getattr(simp, "__name__", "a custom simplifier"))
        budget = min(self.timeout, PRECHECK_SECONDS)
        why = "not evaluable at points"
        try:
            pre = self._worst(rng, PRECHECK_POINTS, timeout=budget)
        except StepTimeout:
            pre, why = float("nan"), f"did not finish within {budget:g} s"
        except Exception:  # noqa: BLE001 -- not evaluable numerically: the symbolic check decides
            pre = float("nan")
        if np.isfinite(pre) and pre > PRECHECK_TOL:
            return self._set(False, f"numeric pre-check: lhs - rhs does not vanish; max |lhs - rhs| "
                                    f"/ (1 + |rhs|) at {PRECHECK_POINTS} random admissible points "
                                    f"= {fmt_num(pre)}", pre)
        pre_txt = (f"numeric pre-check at {PRECHECK_POINTS} random points: {_bound(pre, 1e-9)}"
                   if np.isfinite(pre) else f"no numeric pre-check: {why}")
        try:
            with time_limit(self.timeout):
                lhs, rhs = self.sides()
                if self.relation == "=":
                    left = [e for e in (doit(a - b) for a, b in zip(lhs, rhs, strict=True))
                            if simp(e) != 0]
                    ok = not left
                    msg = (f"lhs - rhs reduces to 0 with {name}" if ok else
                           f"lhs - rhs did not reduce to 0 with {name}; left over: "
                           f"{sp.sstr(left[0])[:160]}")
                else:
                    gaps = [simp(doit(b - a if self.relation == "<=" else a - b))
                            for a, b in zip(lhs, rhs, strict=True)]
                    bad = [g for g in gaps if g.is_nonnegative is not True]
                    ok = not bad
                    msg = (f"the gap ({'rhs - lhs' if self.relation == '<=' else 'lhs - rhs'}) "
                           f"simplifies with {name} to an expression SymPy proves nonnegative"
                           if ok else f"could not prove the gap nonnegative: {sp.sstr(bad[0])[:160]}")
        except StepTimeout as exc:
            return self._set(False, f"symbolic {exc} ({pre_txt})", pre if np.isfinite(pre) else None)
        return self._set(ok, f"{msg} ({pre_txt})", pre if np.isfinite(pre) else None)


def _bound(x: float, floor: float) -> str:
    """``fmt_num(x)``, or ``< floor`` below it (noise-level digits differ between machines)."""
    return f"< {floor:.0e}".replace("e-0", "e-") if np.isfinite(x) and x < floor else fmt_num(x)


def _default_simplifier(e):
    c = sp.cancel(e)
    return c if c == 0 else sp.simplify(c)


def _introduced(expr) -> set:
    """Names an expression mentions: symbols, indexed bases, undefined functions."""
    if is_matrix(expr):
        return set().union(*(_introduced(e) for e in expr)) if len(expr) else set()
    expr = sp.sympify(expr)
    out = set(expr.free_symbols) | {i.base.label for i in expr.atoms(sp.Indexed)}
    out |= set(expr.atoms(AppliedUndef))
    return out


class Derivation:
    """An ordered list of steps with a title, an introduction and its result step(s) (no formula).

    Parameters
    ----------
    name, title, intro : str, the registry name (file stem), heading and introduction
    steps : non-empty iterable of Step (in reading order)
    result : int or tuple of int, default -1, 0-based index(es) of the verified result step(s)
    names : dict, optional, ``{symbol: LaTeX name}`` of display-only symbols
    notes, seed : str, int; Markdown after the result; seed of :meth:`verify`'s default Generator

    Raises
    ------
    ValueError
        Empty ``steps``, a bad or unverified result index, a definition introducing nothing new.

    Examples
    --------
    >>> a = sp.Symbol("a", positive=True)
    >>> d = Derivation("toy", "Toy", "1 step.", [Step((a + 1)**2, a**2 + 2*a + 1, "", status="symbolic")])
    >>> d.verify().counts()["symbolic"], d.result_steps[0].verified
    (1, True)
    """

    def __init__(self, name: str, title: str, intro: str, steps, *, result=-1, names=None,
                 notes: str = "", seed: int = 20250422):
        self.name, self.title, self.intro, self.steps = name, title, intro, list(steps)
        self.names, self.notes, self.seed, self.elapsed = dict(names or {}), notes, seed, 0.0
        if not self.steps:
            raise ValueError(f"derivation {name!r}: steps must not be empty")
        idx = (result,) if isinstance(result, int) else tuple(result)
        n = len(self.steps)
        if not idx or any(not -n <= i < n for i in idx):
            raise ValueError(f"derivation {name!r}: result indices must be in [-{n}, {n}), got {result}")
        self.result = tuple(sorted({i % n for i in idx}))
        for i in self.result:
            if self.steps[i].status not in VERIFIED:
                raise ValueError(f"derivation {name!r}, step {i + 1} ({self.steps[i].label}): a result "
                                 f"must be verified, got status {self.steps[i].status!r}")
        seen: set = set()
        for i, s in enumerate(self.steps, 1):
            new = _introduced(s.lhs) - seen
            if s.status == "definition" and not new:
                raise ValueError(f"derivation {name!r}, step {i} ({s.label}): a definition must "
                                 f"introduce something new, but its lhs only uses names already "
                                 f"defined; give it a checked status")
            seen |= _introduced(s.lhs) | _introduced(s.rhs) | set(s.defs) | set(s.where)

    @property
    def result_steps(self) -> list[Step]:
        return [self.steps[i] for i in self.result]

    def counts(self) -> dict[str, int]:
        """Steps per status (every status present, in :data:`STATUSES` order)."""
        return {k: sum(s.status == k for s in self.steps) for k in STATUSES}

    def verify(self, rng: np.random.Generator | None = None) -> Derivation:
        """Verify every step in order; raise :class:`VerificationError` at the first failure."""
        if rng is None:
            rng = np.random.default_rng(self.seed)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        t0 = time.perf_counter()
        for i, step in enumerate(self.steps, 1):
            where = f"derivation {self.name!r}, step {i} ({step.label or step.reason[:40]})"
            try:
                ok = step.verify(rng)
            except VerificationError:
                raise
            except (Exception, StepTimeout) as exc:  # a crash inside a check fails that step
                raise VerificationError(f"{where}: check raised {type(exc).__name__}: {exc}") from exc
            if not ok and step.status in VERIFIED:
                res = "" if step.residual is None else f" [residual {fmt_num(step.residual)}]"
                raise VerificationError(f"{where} failed: {step.detail}{res}")
        self.elapsed = time.perf_counter() - t0
        return self

    def tex(self, expr) -> str:
        from .derive_render import tex

        return tex(self, expr)

    def equation_tex(self, step: Step) -> str:
        from .derive_render import equation_tex

        return equation_tex(self, step)

    def result_tex(self) -> str:
        """The result step(s), one LaTeX line each (``gtv derive NAME --latex-only``)."""
        return "\n".join(self.equation_tex(s) for s in self.result_steps)

    def to_markdown(self) -> str:
        from .derive_render import to_markdown

        return to_markdown(self)

    def to_latex(self) -> str:
        from .derive_render import to_latex

        return to_latex(self)

    def write(self, out, formats=("md", "tex")):
        from .derive_render import write

        return write(self, out, formats)


def names() -> list[str]:
    """Names of all derivations, in order (no formula: registry).

    Returns
    -------
    names : list of str, the keys of :data:`gtv_symbolic.derivations.REGISTRY`

    Examples
    --------
    >>> names()[:2]
    ['forward-process', 'tweedie']
    """
    from .derivations import REGISTRY

    return list(REGISTRY)


def get(name: str) -> Derivation:
    """Build (not yet verify) the derivation called ``name`` (no formula: registry).

    Parameters
    ----------
    name : str, one of :func:`names`

    Returns
    -------
    derivation : Derivation, unverified (``ValueError`` if ``name`` is not registered)

    Examples
    --------
    >>> len(get("target-variance").steps)
    8
    """
    from .derivations import REGISTRY, build

    if name not in REGISTRY:
        raise ValueError(f"name must be one of {', '.join(REGISTRY)} or 'all', got {name!r}")
    return build(name)


def run(name: str, out=None, formats=("md", "tex"), rng=None) -> Derivation:
    """Build, verify and (when ``out`` is given) write one derivation (no formula: a driver).

    Parameters
    ----------
    name : str, one of :func:`names`
    out : path-like, optional, folder for ``NAME.md`` / ``NAME.tex`` (default: write nothing)
    formats, rng : tuple of {"md", "tex"}; numpy.random.Generator, optional (default: its seed)

    Returns
    -------
    derivation : Derivation, verified (else :class:`VerificationError`; ValueError: bad name)

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(run("benign-cases", tmp, ("md",)).result_steps[0].verified, os.listdir(tmp))
    True ['benign-cases.md']
    """
    d = get(name).verify(rng)
    if out is not None:
        d.write(out, formats)
    return d


def add_arguments(parser) -> None:
    """Add the ``gtv derive`` arguments to an :mod:`argparse` (sub)parser (no formula: CLI).

    Parameters
    ----------
    parser : argparse.ArgumentParser, modified in place

    Returns
    -------
    None

    Examples
    --------
    >>> import argparse; p = argparse.ArgumentParser(); add_arguments(p)
    >>> p.parse_args(["tweedie", "--latex-only"]).latex_only
    True
    """
    from .derive_store import add_arguments as add

    add(parser)


def cli(args) -> int:
    """Entry point of ``gtv derive`` (no formula: CLI; :func:`gtv_symbolic.derive_store.cli`).

    Parameters
    ----------
    args : argparse.Namespace, as parsed with :func:`add_arguments`

    Returns
    -------
    code : int, 0, or 1 if a derivation failed

    Examples
    --------
    >>> import argparse; cli(argparse.Namespace(name=None, list=True))  # doctest: +ELLIPSIS
    forward-process        Forward process: ...
    0
    """
    from .derive_store import cli as run_cli

    return run_cli(args)


def write_index(records, out):
    """Write the index ``README.md`` of the derivations folder (no formula: rendering).

    Parameters
    ----------
    records : iterable of summary dicts or Derivations; out : existing folder

    Returns
    -------
    path : pathlib.Path, ``out / "README.md"`` (:func:`gtv_symbolic.derive_render.write_index`)

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print("`target-variance`" in write_index([get("target-variance")], tmp).read_text())
    True
    """
    from .derive_render import write_index as wi

    return wi(records, out)
