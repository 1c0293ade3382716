r"""Rendering of checked derivations: Markdown (GitHub ``$$`` blocks), LaTeX, and the index.

Every step shows its relation as displayed (``=``, ``\leq``, ``\geq``, ``\sim``), a special case
(``where``) next to the equation, and its status line: *Verified (symbolic / numeric / Monte
Carlo)* with what was checked, *Definition*, or *Assumption (not verified)*. The header counts the
steps by status and the unverified ones. Numbers come pre-rounded from the checks
(:func:`gtv_symbolic.derive.fmt_num`) and no timings are written, so regenerated documents are
identical on every machine. All symbol names go through :func:`gtv_symbolic.symbols.latex`.
"""

from __future__ import annotations

import re
from pathlib import Path

import sympy as sp
from sympy.core.function import AppliedUndef

from . import symbols as S
from .derive import STATUSES, VERIFIED

__all__ = ["tex", "equation_tex", "to_markdown", "to_latex", "write", "write_index",
           "status_text", "counts_text", "INDEX_INTRO"]

_REL = {"=": "=", "<=": r"\leq", ">=": r"\geq", "~": r"\sim"}
_STATUS_NAME = {"symbolic": "symbolic", "numeric": "numeric", "monte-carlo": "Monte Carlo",
                "definition": "definition", "assumption": "assumption"}
_PLURAL = {"symbolic": "symbolic", "numeric": "numeric", "monte-carlo": "Monte Carlo",
           "definition": "definitions", "assumption": "assumptions"}


#: Schedule functions of one time argument print with a subscript: ``alpha(t)`` -> ``\alpha_t``.
_SUBSCRIPTED = {"alpha": r"\alpha", "beta": r"\beta", "S": "S", "D": "D", "G": "G", "sigma": r"\sigma",
                "lambda": r"\lambda"}


def _subscript_functions(expr, names: dict):
    if not hasattr(expr, "atoms"):
        return expr
    sub = {}
    for f in expr.atoms(AppliedUndef):
        base = _SUBSCRIPTED.get(f.func.__name__)
        if base is not None and len(f.args) == 1 and f.args[0].is_Symbol:
            sym = sp.Symbol(f"_{f.func.__name__}_{f.args[0].name}")
            names[sym] = f"{base}_{{{S.latex(f.args[0], symbol_names=dict(names))}}}"
            sub[f] = sym
    return expr.xreplace(sub) if sub else expr


def tex(d, expr) -> str:
    r"""LaTeX of ``expr`` with the package names plus the derivation's display names.

    No formula: rendering. Schedule functions of one time argument print with a subscript
    (``alpha(t)`` as :math:`\alpha_t`); names go through :func:`gtv_symbolic.symbols.latex`.

    Parameters
    ----------
    d : Derivation
        Supplies ``d.names``, the LaTeX names of its display-only symbols.
    expr : SymPy expression or Matrix

    Returns
    -------
    latex : str

    Examples
    --------
    >>> import sympy as sp
    >>> from gtv_symbolic.derive import Derivation, Step
    >>> x, a = sp.Symbol("x", real=True), sp.Symbol("a", positive=True)
    >>> d = Derivation("toy", "Toy", "One step.", [Step(x**2 / a, a, "At the root.", status="numeric",
    ...                                                 where={x: a}, label="$q$")])
    >>> tex(d, x**2 / a)
    '\\frac{x^{2}}{a}'
    """
    names = dict(d.names)
    expr = _subscript_functions(expr, names)
    return S.latex(expr, symbol_names=names)


def where_tex(d, step) -> str:
    """The special case as LaTeX, e.g. ``M = 1,\\ t = \\frac{1}{10}`` (empty if none)."""
    return r",\ ".join(f"{tex(d, k)} = {tex(d, v)}" for k, v in step.where.items())


def equation_tex(d, step) -> str:
    """LaTeX of the step's displayed relation ``lhs REL rhs``, with its special case (``where``) next
    to it.

    No formula: rendering (REL as ``=``, ``\\leq``, ``\\geq`` or ``\\sim``).

    Parameters
    ----------
    d : Derivation
        Supplies the display names (see :func:`tex`).
    step : Step

    Returns
    -------
    latex : str
        One line, without ``$$``.

    Examples
    --------
    >>> import sympy as sp
    >>> from gtv_symbolic.derive import Derivation, Step
    >>> x, a = sp.Symbol("x", real=True), sp.Symbol("a", positive=True)
    >>> d = Derivation("toy", "Toy", "One step.", [Step(x**2 / a, a, "At the root.", status="numeric",
    ...                                                 where={x: a}, label="$q$")])
    >>> print(equation_tex(d, d.steps[0]))
    \\frac{x^{2}}{a} = a \\qquad \\left(x = a\\right)
    """
    eq = f"{tex(d, step.lhs)} {_REL[step.relation]} {tex(d, step.rhs)}"
    return eq + (rf" \qquad \left({where_tex(d, step)}\right)" if step.where else "")


def counts_text(counts: dict) -> str:
    """``'12 steps: 6 symbolic, ...; 2 of 12 unverified (definitions and assumptions)'``.

    No formula: the header line of a document and of ``gtv derive``.

    Parameters
    ----------
    counts : dict
        ``{status: number of steps}`` (:meth:`~gtv_symbolic.derive.Derivation.counts`); a
        missing status counts 0.

    Returns
    -------
    text : str

    Examples
    --------
    >>> print(counts_text({"symbolic": 2, "numeric": 1, "definition": 1}))
    4 steps: 2 symbolic, 1 numeric, 0 Monte Carlo, 1 definitions, 0 assumptions;
    1 of 4 unverified (definitions and assumptions)
    """
    n = sum(counts.values())
    parts = ", ".join(f"{counts.get(k, 0)} {_PLURAL[k]}" for k in STATUSES)
    unv = counts.get("definition", 0) + counts.get("assumption", 0)
    return f"{n} steps: {parts}; {unv} of {n} unverified (definitions and assumptions)"


def status_text(step, special: str = "") -> tuple[str, str]:
    """(heading, detail) saying how the step was checked.

    No formula: the status line under each rendered step -- ``Verified (KIND):`` / ``FAILED
    (KIND):`` with the check's detail, ``Not yet verified (KIND).``, ``Definition ...`` or
    ``Assumption (not verified).``.

    Parameters
    ----------
    step : Step
    special : str, default ""
        LaTeX of the special case (``where``), named in the heading.

    Returns
    -------
    heading, detail : str, str
        ``detail`` ends with a full stop (empty for unverified kinds).

    Examples
    --------
    >>> import sympy as sp
    >>> from gtv_symbolic.derive import Derivation, Step
    >>> x, a = sp.Symbol("x", real=True), sp.Symbol("a", positive=True)
    >>> d = Derivation("toy", "Toy", "One step.", [Step(x**2 / a, a, "At the root.", status="numeric",
    ...                                                 where={x: a}, label="$q$")])
    >>> status_text(d.steps[0])
    ('Not yet verified (numeric).', '')
    >>> status_text(d.verify().steps[0], "x = a")[0]
    'Verified (numeric, special case $x = a$):'
    """
    sc = f", special case ${special}$" if special else ""
    if step.status == "definition":
        return f"Definition{sc} (introduces notation or a model; nothing to verify).", ""
    if step.status == "assumption":
        return f"Assumption{sc} (not verified).", ""
    name = _STATUS_NAME[step.status]
    if not step.detail:
        return f"Not yet verified ({name}{sc}).", ""
    mark = "Verified" if step.verified else "FAILED"
    return f"{mark} ({name}{sc}):", step.detail.rstrip(".") + "."


def _md_escape(text: str) -> str:
    return text.replace("*", r"\*")


_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "<": r"\textless{}", ">": r"\textgreater{}"}


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
        esc = "".join(_TEX_SPECIAL.get(ch, ch) for ch in part)
        esc = re.sub(r"`([^`]*)`", lambda m: r"\texttt{" + m.group(1) + "}", esc)
        out.append(esc.replace("**", ""))
    return "".join(out)


def _header(d) -> str:
    res = ", ".join(f"step {i + 1} ({_STATUS_NAME[d.steps[i].status]})" for i in d.result)
    return (f"{counts_text(d.counts())}. Result: {res}. Every check below was run when "
            f"this file was written (numpy Generator seed {d.seed}); numbers are rounded to two "
            f"significant digits and residuals below 1e-12 print as < 1e-12.")


def to_markdown(d) -> str:
    """The derivation as a Markdown document (GitHub ``$$`` math): title, counts, every step with its
    status and check, the result.

    No formula: rendering. No timings are written, so a regenerated document is identical on
    every machine.

    Parameters
    ----------
    d : Derivation
        Verified or not (unverified steps say so).

    Returns
    -------
    text : str
        Markdown, the content of ``NAME.md``.

    Examples
    --------
    >>> import sympy as sp
    >>> from gtv_symbolic.derive import Derivation, Step
    >>> x, a = sp.Symbol("x", real=True), sp.Symbol("a", positive=True)
    >>> d = Derivation("toy", "Toy", "One step.", [Step(x**2 / a, a, "At the root.", status="numeric",
    ...                                                 where={x: a}, label="$q$")])
    >>> md = to_markdown(d.verify())
    >>> md.splitlines()[0], "**Step 1: $q$ (result).** At the root." in md, "## Result" in md
    ('# Toy', True, True)
    """
    from .derivations import REGISTRY

    where = (f"`gtv derive {d.name}` (module `gtv_symbolic.derivations`). " if d.name in REGISTRY
             else "")  # a user's own derivation is not a `gtv derive` command
    lines = [f"# {d.title}", "", f"{where}{d.intro}", "", _header(d), ""]
    for i, step in enumerate(d.steps, 1):
        mark = " (result)" if i - 1 in d.result else ""
        head = f"**Step {i}{': ' + step.label if step.label else ''}{mark}.** {step.reason}"
        h, detail = status_text(step, where_tex(d, step))
        lines += [head, "", "$$", equation_tex(d, step), "$$", "",
                  f"*{h}* {_md_escape(detail)}".rstrip(), ""]
    lines += ["## Result", ""]
    for s in d.result_steps:
        lines += ["$$", equation_tex(d, s), "$$", ""]
    if d.notes:
        lines += ["## Notes", "", d.notes.strip(), ""]
    return "\n".join(lines)


def to_latex(d) -> str:
    """The derivation as a standalone LaTeX document (``article``, amsmath).

    No formula: rendering; plain text is escaped for LaTeX, ``$...$`` kept.

    Parameters
    ----------
    d : Derivation

    Returns
    -------
    text : str
        The content of ``NAME.tex`` (compiles with ``pdflatex``).

    Raises
    ------
    ValueError
        A text (title, reason, ...) with unbalanced ``$``.

    Examples
    --------
    >>> import sympy as sp
    >>> from gtv_symbolic.derive import Derivation, Step
    >>> x, a = sp.Symbol("x", real=True), sp.Symbol("a", positive=True)
    >>> d = Derivation("toy", "Toy", "One step.", [Step(x**2 / a, a, "At the root.", status="numeric",
    ...                                                 where={x: a}, label="$q$")])
    >>> lines = to_latex(d).splitlines()
    >>> print(lines[0], lines[5], lines[-1])
    \\documentclass[11pt]{article} \\section*{Toy} \\end{document}
    """
    out = [r"\documentclass[11pt]{article}", r"\usepackage{amsmath,amssymb}",
           r"\usepackage[margin=2cm]{geometry}", r"\allowdisplaybreaks",
           r"\begin{document}", rf"\section*{{{_tex_text(d.title)}}}", _tex_text(d.intro), "",
           _tex_text(_header(d)), ""]
    for i, step in enumerate(d.steps, 1):
        label = f": {_tex_text(step.label)}" if step.label else ""
        mark = " (result)" if i - 1 in d.result else ""
        h, detail = status_text(step, where_tex(d, step))
        out += [rf"\paragraph{{Step {i}{label}{mark}.}} {_tex_text(step.reason)}",
                r"\begin{align*}", equation_tex(d, step), r"\end{align*}",
                rf"\emph{{{_tex_text(h)}}} {_tex_text(detail)}".rstrip(), ""]
    out += [r"\subsection*{Result}"]
    for s in d.result_steps:
        out += [r"\begin{align*}", equation_tex(d, s), r"\end{align*}"]
    if d.notes:
        out += [r"\subsection*{Notes}", _tex_text(d.notes.strip())]
    out += [r"\end{document}", ""]
    return "\n".join(out)


def write(d, out, formats=("md", "tex")) -> list[Path]:
    """Write ``NAME.md`` and/or ``NAME.tex`` into ``out``.

    No formula: file output (UTF-8; ``out`` is created if missing).

    Parameters
    ----------
    d : Derivation
    out : path-like
        Folder.
    formats : tuple of {"md", "tex"}, default ("md", "tex")

    Returns
    -------
    paths : list of pathlib.Path
        The files written, Markdown first.

    Examples
    --------
    >>> import sympy as sp
    >>> from gtv_symbolic.derive import Derivation, Step
    >>> x, a = sp.Symbol("x", real=True), sp.Symbol("a", positive=True)
    >>> d = Derivation("toy", "Toy", "One step.", [Step(x**2 / a, a, "At the root.", status="numeric",
    ...                                                 where={x: a}, label="$q$")])
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print([q.name for q in write(d, tmp)])
    ['toy.md', 'toy.tex']
    """
    return write_texts(d.name, {"md": to_markdown(d), "tex": to_latex(d)}, out, formats)


def write_texts(name: str, texts: dict, out, formats=("md", "tex")) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in ("md", "tex"):
        if fmt in formats:
            p = out / f"{name}.{fmt}"
            p.write_text(texts[fmt], encoding="utf-8")
            paths.append(p)
    return paths


INDEX_INTRO = """\
# Checked derivations

Each document below is generated by `gtv derive all` (or by the script of the same number in this
folder) from the modules in `gtv_symbolic/derivations/`. Every step displays one relation and says
how that relation, as displayed, was checked:

- **symbolic**: a numeric evaluation of lhs - rhs at random admissible points, then SymPy reduces
  lhs - rhs to zero with the named simplifier under a time limit;
- **numeric**: lhs - rhs at random admissible points, or a deterministic comparison (finite
  differences, quadrature, matrix functions) with its tolerance;
- **Monte Carlo**: an estimate against the formula in units of its standard error, at a fixed seed;
- **definition** (introduces notation or a model) or **assumption** (a modelling assumption): not
  verified, and counted as such.

A special case is displayed as one (its substitutions next to the equation). A failing step stops
the build and names the derivation, the step and the residual. Numeric and Monte Carlo steps call
the package's production functions (`proxy.covariance`, `kernels.naive_V`, ...), so a wrong
production formula makes `gtv derive` fail.
"""


def write_index(records, out) -> Path:
    """Write ``README.md`` in ``out``: one row per derivation (``records``: summaries or Derivations).

    No formula: the index of the derivations folder -- :data:`INDEX_INTRO`, a table with the
    steps per status of each derivation, the totals, and the "Writing a derivation" section of
    :mod:`gtv_symbolic.derivations`.

    Parameters
    ----------
    records : iterable of dict or Derivation
        :func:`gtv_symbolic.derive_store.summary` records or registered derivations (their
        names must be in :data:`gtv_symbolic.derivations.REGISTRY`).
    out : path-like
        Existing folder.

    Returns
    -------
    path : pathlib.Path
        ``out / "README.md"``.

    Examples
    --------
    >>> import tempfile
    >>> from gtv_symbolic.derive import get
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     text = write_index([get("target-variance")], tmp).read_text()
    >>> [line for line in text.splitlines() if line.startswith("| 1 |")][0][:25]
    '| 1 | `target-variance` |'
    """
    from .derivations import REGISTRY
    from .derive_store import summary

    recs = [r if isinstance(r, dict) else summary(r) for r in records]
    rows = ["| # | name | what | steps | symbolic / numeric / Monte Carlo | definitions / assumptions "
            "| documents | script |", "|---|---|---|---|---|---|---|---|"]
    total = dict.fromkeys(STATUSES, 0)
    for i, r in enumerate(recs, 1):
        c = r["counts"]
        for k in STATUSES:
            total[k] += c.get(k, 0)
        script = REGISTRY[r["name"]][0][1:] + ".py"
        title = r["title"].replace("|", "\\|")  # a pipe would end the table cell
        rows.append(f"| {i} | `{r['name']}` | {title} | {sum(c.values())} | {c['symbolic']} / "
                    f"{c['numeric']} / {c['monte-carlo']} | {c['definition']} / {c['assumption']} | "
                    f"[Markdown]({r['name']}.md), [LaTeX]({r['name']}.tex) | [{script}]({script}) |")
    n = sum(total.values())
    unv = total["definition"] + total["assumption"]
    verified = sum(total[k] for k in VERIFIED)
    text = (INDEX_INTRO + "\n" + "\n".join(rows)
            + f"\n\nTotal: {n} steps, {verified} verified, {unv} unverified "
              f"({100 * unv / max(n, 1):.0f}%); every result step is verified.\n"
            + "\nRegenerate: `gtv derive all` (verifies every step; `--report r.json` writes one "
              "record per step). `gtv derive NAME --latex-only` prints a result from the stored "
              "verification when the sources are unchanged.\n")
    from .derivations import __doc__ as howto

    text += "\n" + _howto_md(howto or "")
    path = Path(out) / "README.md"
    path.write_text(text, encoding="utf-8")
    return path


def _howto_md(doc: str) -> str:
    """The 'Writing a derivation' section of the derivations package docstring, as Markdown."""
    marker = "Writing a derivation"
    if marker not in doc:
        return ""
    return "## " + doc[doc.index(marker):].strip() + "\n"
