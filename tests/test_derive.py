"""The derivation engine: verification (symbolic / numeric / Monte Carlo), rendering, CLI."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp

from gtv_symbolic import derive, derive_render
from gtv_symbolic import symbols as S
from gtv_symbolic.derive import CheckResult, Derivation, Step, VerificationError, compare_close, compare_mc

x = sp.Symbol("x", real=True)
a = S.alpha


def _toy(rhs_factor=1, numeric_rhs=None):
    """d/dx exp(-x^2/2a) = -x/a exp(-x^2/2a), optionally with a wrong factor."""
    g = sp.exp(-x**2 / (2 * a))
    steps = [
        Step(sp.Symbol("g"), g, "A Gaussian kernel.", status="definition", label="kernel"),
        Step(sp.Derivative(g, x), rhs_factor * (-x / a) * g, "Its derivative.", label="derivative",
             status="symbolic", simplifier=sp.simplify),
        Step(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1 if numeric_rhs is None else numeric_rhs,
             "Pythagoras, checked at random points.", status="numeric", label="pythagoras",
             n_points=25, tol=1e-12),
    ]
    return Derivation("toy", "Toy", "A toy derivation.", steps, result=1)


def test_correct_toy_verifies_and_records_methods():
    d = _toy().verify(np.random.default_rng(0))
    assert [s.verified for s in d.steps] == [False, True, True]  # a definition is not verified
    assert "simplify" in d.steps[1].detail
    assert "25 random admissible points" in d.steps[2].detail


def test_wrong_symbolic_step_is_rejected_naming_derivation_and_step():
    with pytest.raises(VerificationError, match=r"'toy', step 2 \(derivative\)"):
        _toy(rhs_factor=2).verify(np.random.default_rng(0))


def test_wrong_numeric_step_is_rejected():
    with pytest.raises(VerificationError, match=r"step 3 \(pythagoras\)"):
        _toy(numeric_rhs=1 + sp.Rational(1, 10**6)).verify(np.random.default_rng(0))


def test_matrix_step_checks_every_entry():
    m = sp.Matrix([[x, 0], [0, x**2]])
    good = Step(m * 2, sp.Matrix([[2 * x, 0], [0, 2 * x**2]]), "r", status="symbolic", label="m")
    bad = Step(m * 2, sp.Matrix([[2 * x, 0], [0, 2 * x**2 + x]]), "r", status="symbolic", label="m")
    assert good.verify(np.random.default_rng(0))
    assert not bad.verify(np.random.default_rng(0))


def test_custom_check_failure_and_exception_are_errors():
    bad = Derivation("c", "C", "i", [Step(1, 1, "r", status="numeric", label="mc",
                                          check=lambda rng: CheckResult(False, "off"))])
    with pytest.raises(VerificationError, match="step 1 \\(mc\\) failed: off"):
        bad.verify()

    def boom(rng):
        raise RuntimeError("kaput")

    crash = Derivation("c", "C", "i", [Step(1, 1, "r", status="numeric", label="mc", check=boom)])
    with pytest.raises(VerificationError, match="kaput"):
        crash.verify()


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="status"):
        Step(1, 1, "r", status="handwave")
    with pytest.raises(TypeError, match="rng"):
        _toy().verify(rng=np.random.RandomState(0))
    with pytest.raises(ValueError, match="name must be one of"):
        derive.get("no-such-derivation")


def test_compare_mc_uses_standard_errors():
    assert compare_mc([1.0], [1.04], [0.01], n=100, what="w").ok  # 4 s.e.
    assert not compare_mc([1.0], [1.06], [0.01], n=100, what="w").ok  # 6 s.e.
    assert not compare_mc([np.nan], [1.0], [0.01], n=100, what="w").ok
    assert compare_close([1.0, 2.0], [1.0, 2.0 + 1e-9], rtol=1e-8, what="w").ok
    assert not compare_close([1.0], [1.1], rtol=1e-3, what="w").ok


def test_monte_carlo_check_rejects_a_wrong_formula(rng):
    """A seeded MC comparison against a 3% wrong variance fails at k = 5 with N = 1e5."""
    z = rng.standard_normal(100000) * 2.0
    var = z.var(ddof=1)
    se = var * np.sqrt(2 / (len(z) - 1))
    assert compare_mc([var], [4.0], [se], n=len(z), what="v").ok
    assert not compare_mc([var], [4.0 * 1.03], [se], n=len(z), what="v").ok


def test_markdown_has_display_blocks_on_their_own_lines():
    d = _toy().verify(np.random.default_rng(0))
    md = d.to_markdown()
    lines = md.splitlines()
    opens = [i for i, line in enumerate(lines) if line.strip() == "$$"]
    assert len(opens) == 2 * (len(d.steps) + 1)  # every step plus the result
    for i in opens:
        assert lines[i] == "$$"
    assert "$$" not in "".join(line for line in lines if line.strip() != "$$")
    assert "*Verified (symbolic):*" in md and "*Verified (numeric):*" in md


def _tex_balanced(tex: str) -> bool:
    depth = 0
    for i, ch in enumerate(tex):
        if ch == "{" and (i == 0 or tex[i - 1] != "\\"):
            depth += 1
        elif ch == "}" and (i == 0 or tex[i - 1] != "\\"):
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def test_latex_document_structure():
    tex = _toy().verify(np.random.default_rng(0)).to_latex()
    assert tex.startswith(r"\documentclass")
    assert r"\usepackage{amsmath" in tex and tex.rstrip().endswith(r"\end{document}")
    assert tex.count(r"\begin{align*}") == tex.count(r"\end{align*}") == 4
    assert _tex_balanced(tex)
    assert "_" not in re.sub(r"\$[^$]*\$|\\begin\{align\*\}.*?\\end\{align\*\}", "", tex,
                             flags=re.S).replace(r"\_", "")


def test_text_escaping_keeps_math_and_escapes_specials():
    out = derive_render._tex_text("50% of a_b & $x_1^2$ `code`")
    assert r"50\% of a\_b \& $x_1^2$ \texttt{code}" == out
    with pytest.raises(ValueError, match="unbalanced"):
        derive_render._tex_text("a $b")


def test_latex_names_come_from_the_symbols_module():
    d = _toy()
    assert d.tex(S.sigma2) == r"\sigma_t^{2}"
    assert d.tex(S.alpha) == r"\alpha_t"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not on PATH")
def test_toy_latex_compiles(tmp_path):
    path = tmp_path / "toy.tex"
    path.write_text(_toy().verify(np.random.default_rng(0)).to_latex())
    res = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", path.name],
                         cwd=tmp_path, capture_output=True, timeout=120)
    assert res.returncode == 0, res.stdout.decode(errors="replace")[-2000:]


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    """Stored verifications go to a temporary folder, never the working tree."""
    monkeypatch.setenv("GTV_CACHE_DIR", str(tmp_path / "cache"))


def _ns(**kw):
    base = dict(name=None, list=False, format=None, out=None, latex_only=False)
    base.update(kw)
    return argparse.Namespace(**base)


def test_cli_list(capsys):
    assert derive.cli(_ns(list=True)) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(derive.names()) and out[0].startswith("forward-process")


def test_cli_latex_only_prints_one_line(capsys):
    assert derive.cli(_ns(name="naive-estimator", latex_only=True)) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and out[1].startswith("% naive-estimator: result verified; ")


def test_cli_writes_requested_format_only(tmp_path, capsys):
    assert derive.cli(_ns(name="dsm-vs-sm", format="md", out=tmp_path)) == 0
    assert (tmp_path / "dsm-vs-sm.md").exists()
    assert not (tmp_path / "dsm-vs-sm.tex").exists()


def test_cli_unknown_name_is_a_value_error():
    with pytest.raises(ValueError, match="name must be one of"):
        derive.cli(_ns(name="tweedy"))


def test_cli_reports_failure_with_nonzero_exit(monkeypatch, tmp_path, capsys):
    real_get = derive.get

    def broken(name):
        d = real_get(name)
        d.steps[1].rhs = d.steps[1].rhs + S.kappa  # sabotage the mean step
        return d

    monkeypatch.setattr(derive, "get", broken)
    assert derive.cli(_ns(name="naive-estimator", out=tmp_path)) == 1
    assert "step 2 (mean)" in capsys.readouterr().err
    assert not (tmp_path / "naive-estimator.md").exists()


def test_index_escapes_pipes_and_links_documents(tmp_path):
    d = _toy().verify(np.random.default_rng(0))
    d.name, d.title = "tweedie", "Tweedie: E[x0|x]"  # a registered name, a title with a pipe
    path = derive.write_index([d], tmp_path)
    text = path.read_text()
    row = [line for line in text.splitlines() if line.startswith("| 1 |")][0]
    assert r"E[x0\|x]" in row
    assert row.count(" | ") == 7  # eight cells: the escaped pipe does not split one
    assert "[Markdown](tweedie.md)" in row and "[LaTeX](tweedie.tex)" in row
