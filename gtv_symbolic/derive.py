r"""Derivation engine: ordered, machine-checked steps rendered as Markdown and LaTeX.

A :class:`Derivation` is an ordered list of :class:`Step` objects. Each step displays a relation
``lhs REL rhs`` (REL one of ``=``, ``<=``, ``>=``, ``~``) and is checked *as displayed*: the
display-only symbols of ``lhs``/``rhs`` are replaced by their meaning (``defs``), a special case
(``where``) is substituted and rendered next to the equation, and what is checked is
``lhs - rhs``. Every step has one status from :data:`STATUSES`:

``symbolic``
    a cheap numeric evaluation of ``lhs - rhs`` at random admissible points runs first (a wrong
    step fails at once, with its residual), then a targeted simplifier reduces it to zero under a
    time limit (a simplification that does not finish in time fails, it never hangs);
``numeric``
    ``lhs - rhs`` at ``n_points`` random admissible points is at most ``tol (1 + |rhs|)``
    (for ``<=``/``>=`` the signed difference), or a ``check(rng)`` callable decides;
``monte-carlo``
    a ``check(rng)`` compares an estimate with the formula in units of its standard error;
``definition``
    introduces notation or a model (its ``lhs`` must be new in the derivation);
``assumption``
    a modelling assumption, rendered as one, not verified.

A failing step raises :class:`VerificationError` naming the derivation, the 1-based step, its
label and the residual. Rendering is in :mod:`gtv_symbolic.derive_render`, the stored
verification and the ``gtv derive`` command in :mod:`gtv_symbolic.derive_store`.

Examples
--------
>>> import sympy as sp
>>> from gtv_symbolic.derive import Derivation, Step
>>> x, a = sp.Symbol("x", real=True), sp.Symbol("a", positive=True)
>>> g = sp.Symbol("g")
>>> d = Derivation("toy", "A toy", "Two steps.", [
...     Step(g, sp.exp(-x**2 / (2 * a)), "A Gaussian kernel.", status="definition", label="$g$"),
...     Step(sp.Derivative(g, x), -x / a * g, "Its derivative.", status="symbolic",
...          defs={g: sp.exp(-x**2 / (2 * a))}, label="$g'$")], result=1)
>>> [s.status for s in d.verify().steps], d.steps[1].verified
(['definition', 'symbolic'], True)
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

__all__ = ["STATUSES", "VERIFIED", "RELATIONS", "Step", "Derivation", "CheckResult",
           "VerificationError", "compare_mc", "compare_close", "compare_scaling", "fmt_num",
           "time_limit", "names", "get", "run", "cli", "add_arguments", "write_index"]

STATUSES = ("symbolic", "numeric", "monte-carlo", "definition", "assumption")
VERIFIED = ("symbolic", "numeric", "monte-carlo")
RELATIONS = ("=", "<=", ">=", "~")

#: Default sampling boxes for random admissible points, by assumption.
POSITIVE_BOX = (0.2, 2.0)
NONNEGATIVE_BOX = (0.0, 2.0)
REAL_BOX = (-2.0, 2.0)
INTEGER_BOX = (1, 4)
PRECHECK_POINTS = 4
PRECHECK_TOL = 1e-6


class VerificationError(AssertionError):
    """A derivation step did not verify; the message names derivation, step, label, residual."""


class StepTimeout(BaseException):
    """Raised by :func:`time_limit`. A BaseException, so SymPy's ``except Exception`` cannot eat it."""


@dataclass(frozen=True)
class CheckResult:
    """Outcome of a check: ``ok``, a one-line ``detail`` and the worst normalised ``residual``."""

    ok: bool
    detail: str
    residual: float | None = None


def fmt_num(x, digits: int = 2) -> str:
    """``x`` with ``digits`` significant digits; below ``1e-12`` in size it prints ``< 1e-12``.

    Committed documents print numbers this way so that they do not change between machines.

    >>> fmt_num(0.012345), fmt_num(3e-15), fmt_num(float("nan"))
    ('0.012', '< 1e-12', 'nan')
    """
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if abs(x) < 1e-12:
        return "< 1e-12"
    text = f"{x:.{digits}g}"
    return text.replace("e-0", "e-").replace("e+0", "e+")


# ------------------------------------------------------------------------------------------
# Comparisons used by custom checks
# ------------------------------------------------------------------------------------------
def compare_mc(estimate, reference, stderr, *, k: float = 5.0, n: int, what: str) -> CheckResult:
    """Monte Carlo comparison: pass iff ``|estimate - reference| <= k * stderr`` elementwise."""
    est = np.atleast_1d(np.asarray(estimate, dtype=float))
    ref = np.atleast_1d(np.asarray(reference, dtype=float))
    se = np.atleast_1d(np.asarray(stderr, dtype=float))
    z = np.abs(est - ref) / np.maximum(se, 1e-300)
    ok = bool(np.all(np.isfinite(z)) and np.all(z <= k))
    worst = float(np.max(z)) if z.size else 0.0
    return CheckResult(ok, f"Monte Carlo, {what}; N = {n}; max |estimate - formula| / s.e. = "
                           f"{worst:.1f} (tolerance {k:g} standard errors)", worst)


def compare_close(value, reference, *, rtol: float, atol: float = 0.0, what: str) -> CheckResult:
    """Deterministic comparison: pass iff ``|value - reference| <= atol + rtol |reference|``."""
    v = np.asarray(value, dtype=float)
    r = np.asarray(reference, dtype=float)
    err = np.abs(v - r)
    ok = bool(np.all(np.isfinite(v)) and np.all(err <= atol + rtol * np.abs(r)))
    rel = float(np.max(err / np.maximum(np.abs(r), 1e-300))) if r.size else 0.0
    return CheckResult(ok, f"{what}; max abs error {fmt_num(np.max(err))}, max rel error "
                           f"{fmt_num(rel)} (tolerance rtol = {rtol:g}, atol = {atol:g})", rel)


def compare_scaling(sizes, ratios, ratio_se, *, what: str, k: float = 5.0) -> CheckResult:
    """A leading-order statement ``lhs ~ rhs``: the ratio lhs/rhs tends to 1 as the size grows.

    Pass iff there are two or more increasing sizes, the ratio at the largest size is within
    ``k`` standard errors of 1, and ``|ratio - 1|`` does not grow with the size beyond its error.
    Deterministic ratios have ``ratio_se = 0`` (then the last ratio must be within ``1e-3``).
    """
    n = np.asarray(sizes, dtype=float)
    r = np.asarray(ratios, dtype=float)
    se = np.broadcast_to(np.asarray(ratio_se, dtype=float), r.shape)
    if n.ndim != 1 or n.size < 2 or r.shape != n.shape or np.any(np.diff(n) <= 0):
        raise ValueError(f"sizes must be >= 2 increasing values matching ratios, got {n}, {r}")
    dev = np.abs(r - 1)
    band = np.maximum(k * se, 1e-3)
    ok_last = bool(dev[-1] <= band[-1])
    grow = dev[1:] - dev[:-1] - k * np.hypot(se[1:], se[:-1])
    ok = bool(np.all(np.isfinite(r)) and ok_last and np.all(grow <= 1e-12))
    pairs = ", ".join(f"{int(s) if float(s).is_integer() else s:g}: {fmt_num(x, 3)}"
                      for s, x in zip(n, r, strict=True))
    return CheckResult(ok, f"{what}; ratio lhs/rhs by size ({pairs}); |ratio - 1| at the largest "
                           f"size {fmt_num(dev[-1])} (tolerance {k:g} s.e., s.e. "
                           f"{fmt_num(se[-1])}), not increasing with size", float(dev[-1]))


# ------------------------------------------------------------------------------------------
# Time limit for symbolic work
# ------------------------------------------------------------------------------------------
@contextmanager
def time_limit(seconds: float | None, what: str = "simplification"):
    """Raise :class:`StepTimeout` if the block runs longer than ``seconds`` (SIGALRM, main thread).

    The alarm repeats every 0.5 s after the first expiry, so an interrupt swallowed by a broad
    ``except`` inside SymPy is raised again. Outside the main thread (or without SIGALRM) the block
    runs without a limit.
    """
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return
    state = {"on": True}

    def handler(signum, frame):
        if state["on"]:
            raise StepTimeout(f"{what} did not finish within {seconds:g} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.5)
    try:
        yield
    finally:
        state["on"] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ------------------------------------------------------------------------------------------
# Random admissible points
# ------------------------------------------------------------------------------------------
def _is_matrix(e) -> bool:
    return isinstance(e, sp.MatrixBase)


def _entries(e):
    return list(e) if _is_matrix(e) else [sp.sympify(e)]


def _box(atom, domain):
    if atom in domain:
        return domain[atom]
    base = atom.base.label if isinstance(atom, sp.Indexed) else None
    if base is not None and base in domain:
        return domain[base]
    if getattr(atom, "is_positive", None):
        return POSITIVE_BOX
    if getattr(atom, "is_nonnegative", None):
        return NONNEGATIVE_BOX
    return REAL_BOX


def _random_function(func, nargs, rng):
    """A random smooth positive function for an undefined function (any identity must hold)."""
    args = sp.symbols(f"_a0:{nargs}", real=True)
    c0, c1, c2 = rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5, nargs), rng.uniform(-0.2, 0.2, nargs)
    body = sp.exp(sp.Float(c0) + sum(sp.Float(a) * v + sp.Float(b) * v**2
                                     for a, b, v in zip(c1, c2, args, strict=True)))
    return sp.Lambda(args, body)


def _ground(exprs, rng, domain, timeout):
    """Replace integers (Sum limits), undefined functions and integrals by concrete ones."""
    exprs = [sp.sympify(e) for e in exprs]
    free = set().union(*(e.free_symbols for e in exprs))
    ints = {s: sp.Integer(int(rng.integers(*(_box(s, domain) if s in domain else INTEGER_BOX),
                                           endpoint=True)))
            for s in free if s.is_integer}
    funcs = {}
    for e in exprs:
        for f in e.atoms(AppliedUndef):
            if f.func not in funcs:
                funcs[f.func] = _random_function(f.func, len(f.args), rng)
    out = []
    with time_limit(timeout, "grounding for the numeric check"):
        for e in exprs:
            e = e.xreplace(ints)
            for fn, lam in funcs.items():
                e = e.replace(fn, lam)
            out.append(e.doit())
    return out


def _evaluate(exprs, rng, n, domain, timeout):
    """Values of each expression at ``n`` random admissible points: array (len(exprs), n)."""
    exprs = _ground(exprs, rng, domain, timeout)
    atoms = sorted(set().union(*(e.free_symbols | e.atoms(sp.Indexed) for e in exprs)), key=str)
    atoms = [a for a in atoms if not (isinstance(a, sp.Symbol) and any(
        isinstance(i, sp.Indexed) and a in i.indices for i in atoms))]
    dummies = [sp.Dummy() for _ in atoms]
    sub = dict(zip(atoms, dummies, strict=True))
    vals = [rng.uniform(*_box(a, domain), n) for a in atoms]
    out = np.empty((len(exprs), n), dtype=complex)
    with np.errstate(all="ignore"):
        for i, e in enumerate(exprs):
            e = e.xreplace(sub)
            if e.atoms(sp.Integral, sp.Derivative, sp.Sum, AppliedUndef):
                f = sp.lambdify(dummies, e, "mpmath")
                out[i] = [complex(f(*(v[j] for v in vals))) for j in range(n)]
            else:
                f = sp.lambdify(dummies, e, "numpy")
                out[i] = np.broadcast_to(np.asarray(f(*vals), dtype=complex), (n,))
    return out


# ------------------------------------------------------------------------------------------
# Steps
# ------------------------------------------------------------------------------------------
class Step:
    """One displayed relation ``lhs REL rhs`` with its reason and status.

    Parameters
    ----------
    lhs, rhs : SymPy expression or Matrix (the displayed equation)
    reason : str
        One line; may contain inline math ``$...$``.
    status : one of :data:`STATUSES` (required)
    relation : ``"="``, ``"<="``, ``">="`` or ``"~"`` (leading order; needs ``check``)
    label : str
        Short name, may contain ``$...$``; used in messages and the report.
    defs : dict, optional
        ``{display symbol: concrete expression}``, substituted repeatedly before any check.
    where : dict, optional
        ``{symbol: value}``: a special case, rendered next to the equation and substituted.
    check : callable(rng) -> CheckResult, optional
        For numeric / Monte Carlo steps whose sides cannot be lambdified.
    simplifier : callable, optional
        Targeted simplifier for ``symbolic`` (default: ``cancel``, then ``simplify``).
    domain : dict, optional
        ``{symbol: (lo, hi)}`` sampling boxes for random admissible points.
    n_points, tol : int, float
        Random-point check size and relative tolerance.
    timeout : float
        Seconds allowed for the symbolic work of this step.
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

    # -- the checked expression ----------------------------------------------------------
    def concrete(self, expr):
        """``expr`` with ``defs`` substituted to a fixed point, then the ``where`` special case."""
        for _ in range(20):
            new = expr.xreplace(self.defs) if self.defs and hasattr(expr, "xreplace") else expr
            if new == expr:
                break
            expr = new
        if self.where and hasattr(expr, "subs"):
            expr = expr.subs(self.where)
        return expr

    def sides(self):
        """The concrete ``(lhs, rhs)`` as lists of entries (matrices flattened)."""
        lhs, rhs = (sp.Matrix(list(e)) if isinstance(e, sp.Tuple) else e
                    for e in (self.concrete(self.lhs), self.concrete(self.rhs)))
        if _is_matrix(lhs) or _is_matrix(rhs):
            lhs = sp.Matrix(lhs) if _is_matrix(lhs) else sp.Matrix(lhs) * 0 + lhs
            rhs = sp.Matrix(rhs) if _is_matrix(rhs) else sp.ones(*lhs.shape) * rhs
            if lhs.shape != rhs.shape:
                raise ValueError(f"lhs shape {lhs.shape} != rhs shape {rhs.shape}")
        return _entries(lhs), _entries(rhs)

    # -- verification -------------------------------------------------------------------
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
            worst = self._worst(rng, self.n_points)
            what = "max |lhs - rhs|" if self.relation == "=" else "max violation"
            return self._set(bool(np.isfinite(worst) and worst <= self.tol),
                             f"{what} / (1 + |rhs|) at {self.n_points} random admissible points "
                             f"(seeded numpy Generator) is {fmt_num(worst)} (tolerance "
                             f"{self.tol:g})", worst)
        return self._verify_symbolic(rng)

    def _worst(self, rng, n, timeout=None) -> float:
        """Worst normalised residual (or inequality violation) at ``n`` random points."""
        lhs, rhs = self.sides()
        diff = [a - b for a, b in zip(lhs, rhs, strict=True)]
        vals = _evaluate(diff + rhs, rng, n, self.domain, timeout)
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
        try:
            pre = self._worst(rng, PRECHECK_POINTS, timeout=self.timeout)
        except StepTimeout:
            pre = float("nan")
        except Exception:  # noqa: BLE001 -- not evaluable numerically: the symbolic check decides
            pre = float("nan")
        if np.isfinite(pre) and pre > PRECHECK_TOL:
            return self._set(False, f"numeric pre-check: lhs - rhs does not vanish; max |lhs - rhs| "
                                    f"/ (1 + |rhs|) at {PRECHECK_POINTS} random admissible points "
                                    f"= {fmt_num(pre)}", pre)
        pre_txt = (f"numeric pre-check at {PRECHECK_POINTS} random points: {fmt_num(pre)}"
                   if np.isfinite(pre) else "no numeric pre-check (not evaluable at points)")
        try:
            with time_limit(self.timeout):
                lhs, rhs = self.sides()
                if self.relation == "=":
                    left = [e for e in (sp.sympify(a - b).doit() for a, b in zip(lhs, rhs, strict=True))
                            if simp(e) != 0]
                    ok = not left
                    msg = (f"lhs - rhs reduces to 0 with {name}" if ok else
                           f"lhs - rhs did not reduce to 0 with {name}; left over: "
                           f"{sp.sstr(left[0])[:160]}")
                else:
                    gaps = [simp(sp.sympify(b - a if self.relation == "<=" else a - b).doit())
                            for a, b in zip(lhs, rhs, strict=True)]
                    bad = [g for g in gaps if g.is_nonnegative is not True]
                    ok = not bad
                    msg = (f"the gap ({'rhs - lhs' if self.relation == '<=' else 'lhs - rhs'}) "
                           f"simplifies with {name} to an expression SymPy proves nonnegative"
                           if ok else f"could not prove the gap nonnegative: {sp.sstr(bad[0])[:160]}")
        except StepTimeout as exc:
            return self._set(False, f"symbolic {exc} ({pre_txt})", pre if np.isfinite(pre) else None)
        return self._set(ok, f"{msg} ({pre_txt})", pre if np.isfinite(pre) else None)


def _default_simplifier(e):
    c = sp.cancel(e)
    return c if c == 0 else sp.simplify(c)


def _introduced(expr) -> set:
    """Names an expression mentions: symbols, indexed bases, undefined functions."""
    if _is_matrix(expr):
        return set().union(*(_introduced(e) for e in expr)) if len(expr) else set()
    expr = sp.sympify(expr)
    out = set(expr.free_symbols) | {i.base.label for i in expr.atoms(sp.Indexed)}
    out |= {f.func for f in expr.atoms(AppliedUndef)}
    return out


# ------------------------------------------------------------------------------------------
# Derivations
# ------------------------------------------------------------------------------------------
class Derivation:
    """An ordered list of steps with a title, an introduction and its result step(s).

    ``result`` is an index or a tuple of indices (0-based, negatives allowed); every result step
    must have a verified status. Every ``definition`` must introduce a name not used before.
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
            seen |= _introduced(s.lhs) | _introduced(s.rhs) | set(s.defs)

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

    # -- rendering (gtv_symbolic.derive_render) -------------------------------------------
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


# ------------------------------------------------------------------------------------------
# Registry and the command line (implemented in gtv_symbolic.derive_store)
# ------------------------------------------------------------------------------------------
def names() -> list[str]:
    """Names of all derivations, in order."""
    from .derivations import REGISTRY

    return list(REGISTRY)


def get(name: str) -> Derivation:
    """Build (not yet verify) the derivation called ``name``."""
    from .derivations import REGISTRY, build

    if name not in REGISTRY:
        raise ValueError(f"name must be one of {', '.join(REGISTRY)} or 'all', got {name!r}")
    return build(name)


def run(name: str, out=None, formats=("md", "tex"), rng=None) -> Derivation:
    """Build, verify and (when ``out`` is given) write one derivation."""
    d = get(name).verify(rng)
    if out is not None:
        d.write(out, formats)
    return d


def add_arguments(parser) -> None:
    """Add the ``gtv derive`` arguments to an :mod:`argparse` (sub)parser."""
    from .derive_store import add_arguments as add

    add(parser)


def cli(args) -> int:
    """Entry point of ``gtv derive`` (see :mod:`gtv_symbolic.derive_store`). Returns the exit code."""
    from .derive_store import cli as run_cli

    return run_cli(args)


def write_index(records, out):
    """Write the index ``README.md`` of the derivations folder (see :mod:`.derive_render`)."""
    from .derive_render import write_index as wi

    return wi(records, out)
