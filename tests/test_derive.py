"""The derivation engine: statuses, relations, defs/where, failures, time limits, store, CLI."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
import sympy as sp

from gtv_symbolic import derive, derive_render, derive_store, proxy
from gtv_symbolic import symbols as S
from gtv_symbolic.derive import (
    CheckResult,
    Derivation,
    Step,
    VerificationError,
    compare_close,
    compare_mc,
    compare_scaling,
)

x = sp.Symbol("x", real=True)
a = S.alpha
g, dg = sp.Symbol("g"), sp.Symbol("dg")
KERNEL = sp.exp(-x**2 / (2 * a))


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    """Stored verifications go to a temporary folder, never the working tree."""
    monkeypatch.setenv("GTV_CACHE_DIR", str(tmp_path / "cache"))


def _toy(rhs_factor=1, numeric_rhs=None):
    """d/dx exp(-x^2/2a) = -x/a exp(-x^2/2a), optionally with a wrong factor."""
    steps = [
        Step(g, KERNEL, "A Gaussian kernel.", status="definition", label="kernel"),
        Step(dg, rhs_factor * (-x / a) * g, "Its derivative.", label="derivative", status="symbolic",
             defs={dg: sp.diff(KERNEL, x), g: KERNEL}, simplifier=sp.simplify),
        Step(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1 if numeric_rhs is None else numeric_rhs,
             "Pythagoras, checked at random points.", status="numeric", label="pythagoras",
             n_points=25, tol=1e-12),
    ]
    return Derivation("toy", "Toy", "A toy derivation.", steps, result=1)


# -- statuses -------------------------------------------------------------------------------
def test_each_status_verifies_and_records_how():
    mc = Step(sp.Symbol("est"), 1, "MC.", status="monte-carlo", label="mc",
              check=lambda rng: compare_mc([1.0], [1.0], [0.1], n=10, what="w"))
    assume = Step(sp.Symbol("A"), 0, "An assumption.", status="assumption", label="assume")
    d = Derivation("toy", "Toy", "i", _toy().steps + [mc, assume], result=(1, 3)).verify()
    assert [s.verified for s in d.steps] == [False, True, True, True, False]
    assert "simplify" in d.steps[1].detail and "pre-check" in d.steps[1].detail
    assert "25 random admissible points" in d.steps[2].detail
    assert d.counts() == {"symbolic": 1, "numeric": 1, "monte-carlo": 1, "definition": 1, "assumption": 1}
    md = d.to_markdown()
    for mark in ("*Verified (symbolic):*", "*Verified (numeric):*", "*Verified (Monte Carlo):*",
                 "*Definition (introduces", "*Assumption (not verified).*",
                 "2 of 5 unverified (definitions and assumptions)"):
        assert mark in md


def test_statuses_and_relations_are_validated():
    with pytest.raises(ValueError, match="status"):
        Step(1, 1, "r", status="handwave")
    with pytest.raises(TypeError):
        Step(1, 1, "r")  # status has no default
    with pytest.raises(ValueError, match="relation"):
        Step(1, 1, "r", status="numeric", relation="approx")
    with pytest.raises(ValueError, match="monte-carlo"):
        Step(1, 1, "r", status="monte-carlo")
    with pytest.raises(ValueError, match="definition"):
        Step(1, 1, "r", status="definition", check=lambda rng: CheckResult(True, ""))
    with pytest.raises(ValueError, match="compare_scaling"):
        Step(1, 1, "r", status="numeric", relation="~")


def test_results_must_be_verified_and_definitions_new():
    d = _toy().steps
    with pytest.raises(ValueError, match="result must be verified"):
        Derivation("toy", "T", "i", d, result=0)
    again = Step(g, 2 * KERNEL, "g again.", status="definition", label="again")
    with pytest.raises(ValueError, match="step 4 .*introduce something new"):
        Derivation("toy", "T", "i", d + [again], result=1)


# -- what is checked is the displayed equation -------------------------------------------------
def test_a_false_displayed_identity_fails():
    with pytest.raises(VerificationError, match=r"'toy', step 2 \(derivative\) failed: numeric pre-check"):
        _toy(rhs_factor=2).verify(np.random.default_rng(0))
    with pytest.raises(VerificationError, match=r"step 3 \(pythagoras\)"):
        _toy(numeric_rhs=1 + sp.Rational(1, 10**6)).verify(np.random.default_rng(0))


def test_defs_are_substituted_and_where_is_rendered_and_substituted():
    s = Step(dg, -x / a * g, "r", status="symbolic", defs={dg: sp.diff(KERNEL, x), g: KERNEL},
             where={x: 0}, label="w")
    lhs, rhs = s.sides()
    assert lhs == [0] and rhs == [0]
    d = Derivation("toy", "T", "i", [s], result=0).verify()
    assert r"\left(x = 0\right)" in d.equation_tex(s)
    assert "special case $x = 0$" in d.to_markdown()


def test_matrix_step_checks_every_entry():
    m = sp.Matrix([[x, 0], [0, x**2]])
    good = Step(m * 2, sp.Matrix([[2 * x, 0], [0, 2 * x**2]]), "r", status="symbolic", label="m")
    bad = Step(m * 2, sp.Matrix([[2 * x, 0], [0, 2 * x**2 + x]]), "r", status="symbolic", label="m")
    assert good.verify(np.random.default_rng(0))
    assert not bad.verify(np.random.default_rng(0))


def test_indexed_sums_are_checked_numerically_for_several_M():
    m, M = S.m_idx, S.M
    y = sp.IndexedBase("y", real=True)
    lhs = sp.Sum(y[m] ** 2, (m, 1, M)) - sp.Sum(y[m], (m, 1, M)) ** 2 / M
    rhs = sp.Sum((y[m] - sp.Sum(y[S.n_idx], (S.n_idx, 1, M)) / M) ** 2, (m, 1, M))
    ok = Step(lhs, rhs, "r", status="numeric", label="var")
    assert ok.verify(np.random.default_rng(1)), ok.detail
    assert "M drawn from 1..4" in ok.detail
    assert not Step(lhs, 2 * rhs, "r", status="numeric", label="var").verify(np.random.default_rng(1))


def test_inequalities_are_checked_as_inequalities():
    T, Q = sp.Symbol("T", positive=True), sp.Symbol("Q", nonnegative=True)
    assert Step(T / (T + Q), 1, "r", status="symbolic", relation="<=").verify(np.random.default_rng(0))
    assert Step(T / (T + Q), 0, "r", status="numeric", relation=">=").verify(np.random.default_rng(0))
    assert not Step(T / (T + Q), sp.Rational(1, 2), "r", status="numeric",
                    relation="<=").verify(np.random.default_rng(0))
    assert not Step(x, 0, "r", status="symbolic", relation=">=").verify(np.random.default_rng(0))


def test_compare_scaling_needs_the_ratio_to_approach_one():
    assert compare_scaling([100, 400], [1.1, 1.02], [0.01, 0.01], what="w").ok
    assert not compare_scaling([100, 400], [3.9, 3.9], [0.05, 0.05], what="w").ok  # a missing term
    assert not compare_scaling([100, 400], [1.0, 1.3], [0.01, 0.01], what="w").ok
    with pytest.raises(ValueError, match="sizes"):
        compare_scaling([100], [1.0], [0.0], what="w")


def test_compare_helpers_use_standard_errors_and_round():
    assert compare_mc([1.0], [1.04], [0.01], n=100, what="w").ok  # 4 s.e.
    assert not compare_mc([1.0], [1.06], [0.01], n=100, what="w").ok  # 6 s.e.
    assert not compare_mc([np.nan], [1.0], [0.01], n=100, what="w").ok
    assert compare_close([1.0, 2.0], [1.0, 2.0 + 1e-9], rtol=1e-8, what="w").ok
    assert not compare_close([1.0], [1.1], rtol=1e-3, what="w").ok
    assert derive.fmt_num(1.2345e-5) == "1.2e-5" and derive.fmt_num(1e-15) == "< 1e-12"


def test_monte_carlo_check_rejects_a_wrong_formula(rng):
    """A seeded MC comparison against a 3% wrong variance fails at k = 5 with N = 1e5."""
    z = rng.standard_normal(100000) * 2.0
    var = z.var(ddof=1)
    se = var * np.sqrt(2 / (len(z) - 1))
    assert compare_mc([var], [4.0], [se], n=len(z), what="v").ok
    assert not compare_mc([var], [4.0 * 1.03], [se], n=len(z), what="v").ok


# -- failing fast ---------------------------------------------------------------------------
def test_a_wrong_factor_in_a_symbolic_step_fails_fast_with_its_residual():
    """C with alpha instead of alpha^2 (M = 3, D = 2): fails in the numeric pre-check, no hang."""
    mus = list(S.mu_vecs(3, 2))
    wrong = a / S.sigma2**2 * proxy.sym_posterior_covariance(mus)
    d = Derivation("wrong-C", "w", "w", [Step(wrong, proxy.sym_covariance(mus, None, "hessian"), "C",
                                              status="symbolic", label="C")], result=0)
    t0 = time.perf_counter()
    with pytest.raises(VerificationError, match=r"'wrong-C', step 1 \(C\) failed: .*residual \d"):
        d.verify()
    assert time.perf_counter() - t0 < 30


def _sleepy(e):
    time.sleep(30)
    return e


def _swallowing(e):
    for _ in range(300):  # like code inside SymPy that catches every Exception
        try:
            time.sleep(0.1)
        except Exception:  # noqa: BLE001
            pass
    return e


@pytest.mark.parametrize("simp", [_sleepy, _swallowing])
def test_symbolic_simplification_that_does_not_finish_fails(simp):
    s = Step(dg, -x / a * g, "r", status="symbolic", defs={dg: sp.diff(KERNEL, x), g: KERNEL},
             simplifier=simp, timeout=0.5, label="slow")
    t0 = time.perf_counter()
    with pytest.raises(VerificationError, match=r"step 1 \(slow\) failed: symbolic simplification did "
                                                r"not finish within 0.5 s"):
        Derivation("slow", "s", "i", [s], result=0).verify()
    assert time.perf_counter() - t0 < 10


def test_custom_check_failure_and_exception_are_errors():
    bad = Derivation("c", "C", "i", [Step(1, 1, "r", status="numeric", label="mc",
                                          check=lambda rng: CheckResult(False, "off", 0.3))])
    with pytest.raises(VerificationError, match=r"step 1 \(mc\) failed: off \[residual 0.3\]"):
        bad.verify()

    def boom(rng):
        raise RuntimeError("kaput")

    crash = Derivation("c", "C", "i", [Step(1, 1, "r", status="numeric", label="mc", check=boom)])
    with pytest.raises(VerificationError, match="kaput"):
        crash.verify()
    with pytest.raises(TypeError, match="rng"):
        _toy().verify(rng=np.random.RandomState(0))
    with pytest.raises(ValueError, match="name must be one of"):
        derive.get("no-such-derivation")


# -- rendering -------------------------------------------------------------------------------
def test_markdown_has_display_blocks_on_their_own_lines():
    d = _toy().verify(np.random.default_rng(0))
    lines = d.to_markdown().splitlines()
    opens = [i for i, line in enumerate(lines) if line.strip() == "$$"]
    assert len(opens) == 2 * (len(d.steps) + 1)  # every step plus the result
    assert all(lines[i] == "$$" for i in opens)


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
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    assert tex.count(r"\begin{align*}") == tex.count(r"\end{align*}") == 4
    assert _tex_balanced(tex)
    assert "_" not in re.sub(r"\$[^$]*\$|\\begin\{align\*\}.*?\\end\{align\*\}", "", tex,
                             flags=re.S).replace(r"\_", "")


def test_text_escaping_keeps_math_and_escapes_specials():
    out = derive_render._tex_text("50% of a_b & $x_1^2$ `code`")
    assert r"50\% of a\_b \& $x_1^2$ \texttt{code}" == out
    with pytest.raises(ValueError, match="unbalanced"):
        derive_render._tex_text("a $b")


def test_latex_names_are_the_package_notation():
    d = _toy()
    assert d.tex(S.sigma2) == r"\sigma_t^{2}" and d.tex(S.alpha) == r"\alpha_t"
    assert d.tex(S.D_f(S.t) * S.beta_f(S.t)) == r"D_{t} \beta_{t}"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not on PATH")
def test_toy_latex_compiles(tmp_path):
    path = tmp_path / "toy.tex"
    path.write_text(_toy().verify(np.random.default_rng(0)).to_latex())
    res = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", path.name],
                         cwd=tmp_path, capture_output=True, timeout=120)
    assert res.returncode == 0, res.stdout.decode(errors="replace")[-2000:]


# -- CLI, report, stored verification -----------------------------------------------------------
FAST = "benign-cases"  # a quick real derivation


def _ns(**kw):
    base = dict(name=None, list=False, format=None, out=None, latex_only=False, report=None,
                reverify=False, jobs=1)
    base.update(kw)
    return argparse.Namespace(**base)


def test_cli_arguments_are_added_by_one_call():
    p = argparse.ArgumentParser()
    derive.add_arguments(p)
    args = p.parse_args(["all", "--report", "r.json", "--latex-only", "--reverify", "--jobs", "2"])
    assert (args.name, str(args.report), args.latex_only, args.reverify, args.jobs) == \
        ("all", "r.json", True, True, 2)


def test_cli_list(capsys):
    from gtv_symbolic.derivations import REGISTRY

    assert derive.cli(_ns(list=True)) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(REGISTRY) and out[0].startswith("forward-process")


def test_report_has_one_record_per_step(tmp_path, capsys):
    report = tmp_path / "r.json"
    assert derive.cli(_ns(name=FAST, out=tmp_path, report=report)) == 0
    recs = json.loads(report.read_text())
    d = derive.get(FAST)
    assert len(recs) == len(d.steps)
    for i, r in enumerate(recs, 1):
        assert set(derive_store.REPORT_KEYS) <= set(r)
        assert r["derivation"] == FAST and r["step"] == i and r["status"] in derive.STATUSES
        assert isinstance(r["is_result"], bool) and r["seconds"] >= 0
    assert sum(r["is_result"] for r in recs) == len(d.result)
    out = capsys.readouterr().out
    assert f"ok  {FAST}" in out and "unverified (definitions and assumptions)" in out


def test_stored_verification_hit_miss_and_corruption(monkeypatch, capsys):
    rec, stored = derive_store.verified_summary(FAST)
    assert not stored and rec["counts"]["symbolic"] > 0
    real_get = derive.get
    monkeypatch.setattr(derive, "get", lambda name: pytest.fail("a hit must not build"))
    rec2, stored2 = derive_store.verified_summary(FAST)
    assert stored2 and rec2 == rec
    assert derive.cli(_ns(name=FAST, latex_only=True)) == 0  # the --latex-only path of a hit
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0] == rec["result_tex"].splitlines()[0]
    assert out[-1].startswith(f"% {FAST}: result verified; ") and "unverified" in out[-1]
    monkeypatch.setattr(derive, "get", real_get)
    derive_store._path(FAST).write_text("{not json")  # corrupt: ignored, verified again
    assert derive_store.verified_summary(FAST)[1] is False
    assert derive_store.verified_summary(FAST)[1] is True
    monkeypatch.setattr(derive_store, "_key", lambda name: "changed-sources")  # sources changed
    assert derive_store.verified_summary(FAST)[1] is False


def test_cli_writes_requested_format_only(tmp_path, capsys):
    assert derive.cli(_ns(name=FAST, format="md", out=tmp_path)) == 0
    assert (tmp_path / f"{FAST}.md").exists() and not (tmp_path / f"{FAST}.tex").exists()


def test_cli_unknown_name_is_a_value_error():
    with pytest.raises(ValueError, match="name must be one of"):
        derive.cli(_ns(name="tweedy"))


def test_cli_reports_failure_with_nonzero_exit(monkeypatch, tmp_path, capsys):
    real_get = derive.get

    def broken(name):
        d = real_get(name)
        d.steps[0].rhs = d.steps[0].rhs + sp.ones(2, 2) * S.kappa  # sabotage the first step
        return d

    monkeypatch.setattr(derive, "get", broken)
    assert derive.cli(_ns(name=FAST, out=tmp_path, reverify=True)) == 1
    assert "step 1 (" in capsys.readouterr().err
    assert not (tmp_path / f"{FAST}.md").exists()


def test_latex_only_from_a_fresh_process_uses_the_store(tmp_path):
    """The command-line path: the second call answers from the stored verification."""
    cmd = [sys.executable, "-m", "gtv_symbolic", "derive", FAST, "--latex-only"]
    env = {**__import__("os").environ, "GTV_CACHE_DIR": str(tmp_path / "c")}
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout and "% benign-cases: result verified" in second.stdout
    assert list((tmp_path / "c" / "derive").glob(f"{FAST}-*.json"))


def test_index_escapes_pipes_and_links_documents(tmp_path):
    d = _toy().verify(np.random.default_rng(0))
    d.name, d.title = "tweedie", "Tweedie: E[x0|x]"  # a registered name, a title with a pipe
    text = derive.write_index([d], tmp_path).read_text()
    row = [line for line in text.splitlines() if line.startswith("| 1 |")][0]
    assert r"E[x0\|x]" in row
    assert row.count(" | ") == 7  # eight cells: the escaped pipe does not split one
    assert "[Markdown](tweedie.md)" in row and "[LaTeX](tweedie.tex)" in row
    assert "## Writing a derivation" in text
