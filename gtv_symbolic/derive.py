r"""Derivation engine: ordered, machine-checked steps rendered as Markdown and LaTeX.

A :class:`Derivation` is an ordered list of :class:`Step` objects. Each step is an equation
``lhs = rhs`` (SymPy scalars or matrices), a one-line reason (citing the paper's equation
where there is one) and a verification method:

``symbolic``
    ``lhs - rhs`` (or an explicit ``residual``) is reduced to zero by a *targeted* simplifier
    (``cancel``, ``expand``, ``simplify``, ...); the simplifier used is recorded.
``numeric``
    ``lhs - rhs`` is evaluated at ``n_points`` random admissible points drawn with a seeded
    :class:`numpy.random.Generator` (positive symbols from U(0.2, 2), real ones from U(-2, 2),
    or a per-symbol ``domain``) and must vanish to ``|r| <= tol (1 + |lhs| + |rhs|)``; or a
    custom ``check(rng)`` callable does the comparison (matrix exponentials, Monte Carlo,
    finite differences) and returns a :class:`CheckResult`.
``definition``
    a definition or modelling assumption: stated, nothing to verify.

A step that fails raises :class:`VerificationError` naming the derivation and the step.
Rendering gives GitHub Markdown (``$$`` blocks on their own lines) and a standalone LaTeX
document (``amsmath``, one ``align*`` per step) that compiles with plain ``pdflatex``.
All symbol names go through :func:`gtv_symbolic.symbols.latex`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp

from . import symbols as S
from .numeric import lambdify

METHODS = ("symbolic", "numeric", "definition")

#: Default sampling boxes for numeric checks, by assumption.
POSITIVE_BOX = (0.2, 2.0)
REAL_BOX = (-2.0, 2.0)


class VerificationError(AssertionError):
    """A derivation step did not verify; the message names derivation and step."""


@dataclass(frozen=True)
class CheckResult:
    """Outcome of a custom numeric check: ``ok`` and a one-line description of what was done."""

    ok: bool
    detail: str


# ------------------------------------------------------------------------------------------
# Helpers for custom numeric checks
# ------------------------------------------------------------------------------------------
def compare_mc(estimate, reference, stderr, *, k: float = 5.0, n: int, what: str) -> CheckResult:
    """Monte Carlo comparison: pass iff ``|estimate - reference| <= k * stderr`` elementwise."""
    est = np.atleast_1d(np.asarray(estimate, dtype=float))
    ref = np.atleast_1d(np.asarray(reference, dtype=float))
    se = np.atleast_1d(np.asarray(stderr, dtype=float))
    z = np.abs(est - ref) / np.maximum(se, 1e-300)
    ok = bool(np.all(np.isfinite(z)) and np.all(z <= k))
    return CheckResult(ok, f"Monte Carlo, {what}; N = {n}; max |estimate - formula| / s.e. = "
                           f"{np.max(z):.2f} (tolerance {k:g} standard errors)")


def compare_close(value, reference, *, rtol: float, atol: float = 0.0, what: str) -> CheckResult:
    """Deterministic numeric comparison: ``|value - reference| <= atol + rtol |reference|``."""
    v = np.asarray(value, dtype=float)
    r = np.asarray(reference, dtype=float)
    err = np.abs(v - r)
    bound = atol + rtol * np.abs(r)
    ok = bool(np.all(np.isfinite(v)) and np.all(err <= bound))
    rel = float(np.max(err / np.maximum(np.abs(r), 1e-300))) if r.size else 0.0
    return CheckResult(ok, f"{what}; max abs error {np.max(err):.2e}, max rel error {rel:.2e} "
                           f"(tolerance rtol = {rtol:g}, atol = {atol:g})")


# ------------------------------------------------------------------------------------------
# Steps
# ------------------------------------------------------------------------------------------
def _is_matrix(e) -> bool:
    return isinstance(e, sp.MatrixBase)


def _entries(e):
    return list(e) if _is_matrix(e) else [e]


@dataclass
class Step:
    """One equation ``lhs = rhs`` with its reason and verification method.

    Parameters
    ----------
    lhs, rhs : SymPy expression or Matrix
        The displayed equation.
    reason : str
        One line; may contain inline math ``$...$`` (rendered in both Markdown and LaTeX).
    method : {'symbolic', 'numeric', 'definition'}
    residual : SymPy expression/Matrix, optional
        What must vanish, when it differs from ``lhs - rhs`` (e.g. a concrete instance of a
        displayed generic statement). ``.doit()`` is applied before checking.
    simplifier : callable, optional
        Targeted simplifier for ``symbolic`` (default: ``cancel`` then ``simplify``).
    domain : dict Symbol -> (lo, hi), optional
        Sampling box for ``numeric`` (default by assumption, see module docstring).
    n_points, tol : int, float
        Number of random points and relative tolerance for ``numeric``.
    check : callable(rng) -> CheckResult, optional
        Custom numeric check (Monte Carlo, finite differences, matrix functions).
    label : str
        Short name of the step (used in error messages).
    """

    lhs: object
    rhs: object
    reason: str
    method: str = "symbolic"
    residual: object = None
    simplifier: Callable | None = None
    simplifier_name: str | None = None
    domain: dict = field(default_factory=dict)
    n_points: int = 20
    tol: float = 1e-9
    check: Callable | None = None
    label: str = ""
    relation: str = "="
    detail: str = ""
    verified: bool = False

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.method == "numeric" and self.check is None and self.n_points < 1:
            raise ValueError(f"n_points must be >= 1, got {self.n_points}")

    # -- verification ------------------------------------------------------------------
    def _residual(self):
        if self.residual is not None:
            r = self.residual
        elif _is_matrix(self.lhs) or _is_matrix(self.rhs):
            r = sp.Matrix(self.lhs) - sp.Matrix(self.rhs)
        else:
            r = sp.sympify(self.lhs) - sp.sympify(self.rhs)
        return r.doit() if hasattr(r, "doit") else r

    def verify(self, rng: np.random.Generator) -> bool:
        """Run the check; set ``verified`` and ``detail``. Returns True when it passes."""
        if self.method == "definition":
            self.verified, self.detail = True, "nothing to verify"
            return True
        if self.check is not None:
            res = self.check(rng)
            if not isinstance(res, CheckResult):
                raise TypeError(f"check must return a CheckResult, got {type(res).__name__}")
            self.verified, self.detail = res.ok, res.detail
            return res.ok
        if self.method == "symbolic":
            return self._verify_symbolic()
        return self._verify_numeric(rng)

    def _verify_symbolic(self) -> bool:
        r = self._residual()
        simp = self.simplifier or _default_simplifier
        name = self.simplifier_name or getattr(simp, "__name__", "custom")
        if name == "_default_simplifier":
            name = "cancel, then simplify"
        leftover = [e for e in _entries(r) if simp(sp.sympify(e)) != 0]
        self.verified = not leftover
        what = "lhs - rhs" if self.residual is None else "the residual"
        self.detail = (f"{what} reduces to 0 with {name}" if self.verified
                       else f"{what} did not reduce to 0 with {name}; "
                            f"left over: {sp.sstr(leftover[0])[:200]}")
        return self.verified

    def _verify_numeric(self, rng: np.random.Generator) -> bool:
        r = self._residual()
        entries = [sp.sympify(e) for e in _entries(r)]
        # scale: the rhs entries when the residual is lhs - rhs (relative tolerance)
        scales = ([sp.sympify(e).doit() for e in _entries(self.rhs)] if self.residual is None
                  else [sp.Integer(0)] * len(entries))
        free = sorted(set().union(*(e.free_symbols for e in entries + scales)), key=str)
        vals = []
        for s in free:
            lo, hi = self.domain.get(s, POSITIVE_BOX if s.is_positive else
                                     (0.0, 2.0) if s.is_nonnegative else REAL_BOX)
            vals.append(rng.uniform(lo, hi, self.n_points))
        worst = 0.0
        for e, sc in zip(entries, scales, strict=False):
            v = lambdify(free, e, stable=False)(*vals)
            ref = lambdify(free, sc, stable=False)(*vals)
            worst = max(worst, float(np.max(np.abs(v) / (1.0 + np.abs(ref)))))
        self.verified = bool(np.isfinite(worst) and worst <= self.tol)
        self.detail = (f"max |lhs - rhs| / (1 + |rhs|) over {self.n_points} random "
                       f"admissible points (seeded numpy Generator) is {worst:.1e} "
                       f"(tolerance {self.tol:g})")
        return self.verified


def _default_simplifier(e):
    c = sp.cancel(e)
    return c if c == 0 else sp.simplify(c)


# ------------------------------------------------------------------------------------------
# Derivations
# ------------------------------------------------------------------------------------------
@dataclass
class Derivation:
    """An ordered list of steps with a title, an introduction and a final result.

    ``result`` is the index of the step whose equation is the final result (default: the last
    step), printed by ``gtv derive NAME --latex-only``.
    """

    name: str
    title: str
    intro: str
    steps: list[Step]
    result: int = -1
    names: dict = field(default_factory=dict)  # extra LaTeX names for display-only symbols
    notes: str = ""
    seed: int = 20250422
    elapsed: float = 0.0

    def verify(self, rng: np.random.Generator | None = None) -> Derivation:
        """Verify every step in order; raise :class:`VerificationError` at the first failure."""
        if rng is None:
            rng = np.random.default_rng(self.seed)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        t0 = time.perf_counter()
        for i, step in enumerate(self.steps, 1):
            try:
                ok = step.verify(rng)
            except VerificationError:
                raise
            except Exception as exc:  # a crash inside a check is a failure of that step
                raise VerificationError(f"derivation {self.name!r}, step {i} "
                                        f"({step.label or step.reason}): check raised "
                                        f"{type(exc).__name__}: {exc}") from exc
            if not ok:
                raise VerificationError(f"derivation {self.name!r}, step {i} "
                                        f"({step.label or step.reason}) failed: {step.detail}")
        self.elapsed = time.perf_counter() - t0
        return self

    # -- rendering ---------------------------------------------------------------------
    def tex(self, expr) -> str:
        """LaTeX of ``expr`` with the package names plus this derivation's display names."""
        return S.latex(expr, symbol_names=dict(self.names))

    def equation_tex(self, step: Step) -> str:
        return f"{self.tex(step.lhs)} {_REL[step.relation]} {self.tex(step.rhs)}"

    def result_tex(self) -> str:
        """The final result as one LaTeX line (``gtv derive NAME --latex-only``)."""
        return self.equation_tex(self.steps[self.result])

    def to_markdown(self) -> str:
        lines = [f"# {self.title}", "", f"`gtv derive {self.name}` (module "
                 f"`gtv_symbolic.derivations`). {self.intro}", ""]
        n_sym = sum(s.method == "symbolic" for s in self.steps)
        n_num = sum(s.method == "numeric" for s in self.steps)
        lines += [f"Steps: {len(self.steps)} ({n_sym} verified symbolically, {n_num} numerically, "
                  f"{len(self.steps) - n_sym - n_num} definitions or assumptions). Every check below "
                  f"was run when this file was written (numpy Generator seed {self.seed}).", ""]
        for i, step in enumerate(self.steps, 1):
            head = f"**Step {i}{': ' + step.label if step.label else ''}.** {step.reason}"
            lines += [head, "", "$$", self.equation_tex(step), "$$", "", _status_md(step), ""]
        lines += ["## Result", "", "$$", self.result_tex(), "$$", ""]
        if self.notes:
            lines += ["## Notes", "", self.notes.strip(), ""]
        return "\n".join(lines)

    def to_latex(self) -> str:
        out = [r"\documentclass[11pt]{article}", r"\usepackage{amsmath,amssymb}",
               r"\usepackage[margin=2cm]{geometry}", r"\allowdisplaybreaks",
               r"\begin{document}", rf"\section*{{{_tex_text(self.title)}}}",
               _tex_text(self.intro), ""]
        for i, step in enumerate(self.steps, 1):
            label = f": {_tex_text(step.label)}" if step.label else ""
            out += [rf"\paragraph{{Step {i}{label}.}} {_tex_text(step.reason)}",
                    r"\begin{align*}", self.equation_tex(step), r"\end{align*}",
                    _status_tex(step),
                    ""]
        out += [r"\subsection*{Result}", r"\begin{align*}", self.result_tex(), r"\end{align*}"]
        if self.notes:
            out += [r"\subsection*{Notes}", _tex_text(self.notes.strip())]
        out += [r"\end{document}", ""]
        return "\n".join(out)

    def write(self, out: Path, formats=("md", "tex")) -> list[Path]:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        if "md" in formats:
            p = out / f"{self.name}.md"
            p.write_text(self.to_markdown(), encoding="utf-8")
            paths.append(p)
        if "tex" in formats:
            p = out / f"{self.name}.tex"
            p.write_text(self.to_latex(), encoding="utf-8")
            paths.append(p)
        return paths


_REL = {"=": "=", "approx": r"\approx", "->": r"\to", "<=": r"\leq"}

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex_text(text: str) -> str:
    """Escape plain text for LaTeX, keeping ``$...$`` inline math and turning `code` into \\texttt."""
    parts = text.split("$")
    if len(parts) % 2 == 0:
        raise ValueError(f"unbalanced $ in text: {text[:60]!r}")
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"${part}$")
            continue
        esc = "".join(_TEX_SPECIAL.get(c, c) for c in part)
        esc = re.sub(r"`([^`]*)`", lambda m: r"\texttt{" + m.group(1) + "}", esc)
        esc = esc.replace("**", "")
        out.append(esc)
    return "".join(out)


def _md_escape(text: str) -> str:
    return text.replace("*", r"\*")


def _status(step: Step) -> tuple[str, str]:
    """(heading, detail) saying how the step was checked."""
    if step.method == "definition":
        return "Definition or assumption: nothing to verify.", ""
    if not step.detail:
        return f"Not yet verified ({step.method}).", ""
    mark = "Verified" if step.verified else "FAILED"
    return f"{mark} ({step.method}):", step.detail.rstrip(".") + "."


def _status_md(step: Step) -> str:
    head, detail = _status(step)
    return f"*{head}* {_md_escape(detail)}".rstrip()


def _status_tex(step: Step) -> str:
    head, detail = _status(step)
    return rf"\emph{{{_tex_text(head)}}} {_tex_text(detail)}".rstrip()


# ------------------------------------------------------------------------------------------
# Registry and CLI
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


def run(name: str, out: Path | None = None, formats=("md", "tex"),
        rng: np.random.Generator | None = None) -> Derivation:
    """Build, verify and (when ``out`` is given) write one derivation."""
    d = get(name).verify(rng)
    if out is not None:
        d.write(out, formats)
    return d


INDEX_INTRO = """\
# Checked derivations

Each document below is generated by `gtv derive all` (or by the script of the same number in this
folder) from the modules in `gtv_symbolic/derivations/`. Every step is an equation with a
one-line reason and the way it was checked: **symbolic** (SymPy reduces the difference to zero
with the named simplifier), **numeric** (random admissible points, Monte Carlo or finite
differences, with the sample size and tolerance stated), or a **definition/assumption**. A
failing step stops the build and names the step. Each derivation ends with a numeric check of its
lambdified result against Monte Carlo, finite differences or direct integration.
Formulas of paper sections 5-6 (linear models, NTK) are derived here; the notes at the end of
those documents say where they agree with the reconstruction in the project's math note.
"""


def write_index(derivations: list[Derivation], out: Path) -> Path:
    """Write ``README.md`` in ``out``: one table row per derivation with links and step counts."""
    from .derivations import REGISTRY

    rows = ["| # | name | what | steps (symbolic / numeric / definitions) | documents | script |",
            "|---|---|---|---|---|---|"]
    for i, d in enumerate(derivations, 1):
        n_sym = sum(s.method == "symbolic" for s in d.steps)
        n_num = sum(s.method == "numeric" for s in d.steps)
        script = REGISTRY[d.name][0][1:] + ".py"
        title = d.title.replace("|", "\\|")  # a pipe would end the table cell
        rows.append(f"| {i} | `{d.name}` | {title} | {len(d.steps)} ({n_sym} / {n_num} / "
                    f"{len(d.steps) - n_sym - n_num}) | [Markdown]({d.name}.md), "
                    f"[LaTeX]({d.name}.tex) | [{script}]({script}) |")
    text = (INDEX_INTRO + "\n" + "\n".join(rows)
            + "\n\nRegenerate: `gtv derive all` (about a minute on 2 cores).\n")
    path = Path(out) / "README.md"
    path.write_text(text, encoding="utf-8")
    return path


def cli(args) -> int:
    """Entry point of ``gtv derive`` (see :mod:`gtv_symbolic.cli`). Returns the exit code.

    ``--list``: names and titles; ``NAME``/``all``: build, verify and write ``NAME.md`` and
    ``NAME.tex`` to ``--out`` (only ``--format`` when given); ``--latex-only``: print the
    verified final result as one LaTeX line. Exit code 1 when a step fails.
    """
    import sys

    from .derivations import REGISTRY

    if args.list or not args.name:
        for name, (_, title) in REGISTRY.items():
            print(f"{name:18s} {title}")
        return 0
    todo = list(REGISTRY) if args.name == "all" else [args.name]
    for name in todo:
        if name not in REGISTRY:
            raise ValueError(f"name must be one of {', '.join(REGISTRY)} or 'all', "
                             f"got {name!r}")
    formats = ("md", "tex") if args.format is None else (args.format,)
    failed = 0
    done = []
    t_all = time.perf_counter()
    for name in todo:
        t0 = time.perf_counter()
        d = get(name)
        try:
            d.verify()
        except VerificationError as exc:
            print(f"FAILED {exc}", file=sys.stderr)
            failed += 1
            continue
        if args.latex_only:
            if len(todo) > 1:
                print(f"% {name}")
            print(d.result_tex())
            continue
        paths = d.write(args.out, formats)
        done.append(d)
        n_sym = sum(s.method == "symbolic" for s in d.steps)
        n_num = sum(s.method == "numeric" for s in d.steps)
        print(f"ok  {name:18s} {len(d.steps):2d} steps ({n_sym} symbolic, {n_num} numeric) "
              f"in {time.perf_counter() - t0:5.1f} s -> {', '.join(str(p) for p in paths)}")
    if args.name == "all" and not args.latex_only and not failed:
        print(f"ok  index -> {write_index(done, args.out)}")
    if len(todo) > 1 and not args.latex_only:
        print(f"{len(todo) - failed}/{len(todo)} derivations verified in "
              f"{time.perf_counter() - t_all:.1f} s")
    return 1 if failed else 0
