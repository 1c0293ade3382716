"""The library of derivations: each verifies, renders, checks the production code, cites nothing outside."""

from __future__ import annotations

import re
import shutil
import subprocess
from importlib import import_module
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from matplotlib.mathtext import MathTextParser

from gtv_symbolic import derive, derive_store, kernels, proxy
from gtv_symbolic import pathintegral as pi
from gtv_symbolic import symbols as S
from gtv_symbolic.derivations import REGISTRY
from gtv_symbolic.derivations import _common as c

NAMES = list(REGISTRY)
#: Derivations of the engine branch (issue 9); d08-d11 and d15 are tested in test_derivation_mutations too.
OURS = ["forward-process", "tweedie", "proxy-unbiased", "proxy-covariance", "dsm-vs-sm",
        "pf-ode-marginals", "gaussian-data", "boundary-regions", "benign-cases", "ratio-identities"]
DOCS = Path(__file__).resolve().parents[1] / "derivations"


@pytest.fixture(scope="module")
def summaries(tmp_path_factory):
    """Every derivation verified once for the module (two processes), as stored summaries."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GTV_CACHE_DIR", str(tmp_path_factory.mktemp("store")))
    out = {}
    for name, (rec, _, err, _) in zip(NAMES, derive_store._verify_all(NAMES, False, 2), strict=True):
        assert err is None, err
        out[name] = rec
    mp.undo()
    return out


def test_registry_names_and_titles():
    assert NAMES[:4] == ["forward-process", "tweedie", "proxy-unbiased", "proxy-covariance"]
    for name in NAMES:
        title = REGISTRY[name][1]
        assert title and "->" not in title and "E_post" not in title and "s~" not in title
        assert title.count("$") % 2 == 0
    for name in NAMES:
        assert import_module(f"gtv_symbolic.derivations.{REGISTRY[name][0]}").TITLE == REGISTRY[name][1]


@pytest.mark.parametrize("name", NAMES)
def test_derivation_verifies_and_results_are_verified(summaries, name):
    rec = summaries[name]
    for s in rec["steps"]:
        assert s["verified"] == (s["status"] in derive.VERIFIED), s
    assert any(s["is_result"] for s in rec["steps"])
    assert all(s["verified"] for s in rec["steps"] if s["is_result"])


def test_at_most_15_percent_unverified_in_the_engine_branch_derivations(summaries):
    steps = [s for n in OURS for s in summaries[n]["steps"]]
    unverified = sum(s["status"] in ("definition", "assumption") for s in steps)
    assert unverified <= 0.15 * len(steps), (unverified, len(steps))


@pytest.mark.parametrize("name", NAMES)
def test_scalar_latex_parses_with_mathtext(name):
    parser = MathTextParser("agg")
    d = derive.get(name)
    n = 0
    for s in d.steps:
        if isinstance(s.lhs, sp.MatrixBase) or isinstance(s.rhs, sp.MatrixBase):
            continue
        parser.parse("$" + d.equation_tex(s) + "$")
        n += 1
    assert n >= 1


@pytest.mark.parametrize("name", NAMES)
def test_rendered_documents(summaries, name, tmp_path):
    rec = summaries[name]
    md, tex = rec["texts"]["md"], rec["texts"]["tex"]
    n = len(rec["steps"])
    assert md.startswith("# ") and md.count("\n$$\n") >= n
    assert tex.count(r"\begin{align*}") == tex.count(r"\end{align*}")
    assert tex.count("{") - tex.count(r"\{") == tex.count("}") - tex.count(r"\}")
    assert all(ord(ch) < 128 for ch in tex)  # plain pdflatex without inputenc tricks
    assert "unverified (definitions and assumptions)" in md
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not on PATH")
    path = tmp_path / f"{name}.tex"
    path.write_text(tex)
    res = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", path.name],
                         cwd=tmp_path, capture_output=True, timeout=120)
    assert res.returncode == 0, res.stdout.decode(errors="replace")[-2000:]


@pytest.mark.parametrize("name", OURS)
def test_documents_cite_nothing_outside_and_render_as_math(summaries, name):
    for text in summaries[name]["texts"].values():
        assert "paper-math" not in text and "../shared" not in text
        assert "E_post[" not in text and "tau ->" not in text and "E_post" not in text


@pytest.mark.parametrize("name", OURS)
def test_committed_documents_are_current(summaries, name):
    """What `gtv derive all` writes here equals the committed files (no machine-dependent digits)."""
    for fmt in ("md", "tex"):
        path = DOCS / f"{name}.{fmt}"
        assert path.read_text(encoding="utf-8") == summaries[name]["texts"][fmt], path


@pytest.mark.parametrize("name, step", [("tweedie", 6), ("proxy-covariance", 8), ("proxy-unbiased", 3),
                                        ("boundary-regions", 2), ("ratio-identities", 4),
                                        ("gaussian-data", 4)])
def test_deliberately_wrong_step_is_rejected(name, step):
    d = derive.get(name)
    target = d.steps[step - 1]
    bump = sp.Rational(1, 7) * S.alpha
    target.rhs = target.rhs + (bump * sp.ones(*target.rhs.shape) if isinstance(target.rhs, sp.MatrixBase)
                               else bump)
    with pytest.raises(derive.VerificationError, match=rf"{name}.*step {step}"):
        d.verify()


def _step(name, label):
    d = derive.get(name)
    matches = [s for s in d.steps if s.label == label]
    assert len(matches) == 1, (name, label)
    return matches[0]


@pytest.mark.parametrize("name, label, module, func, wrong", [
    ("proxy-covariance", "finite differences", proxy, "covariance", lambda f: lambda *a: 2 * f(*a)),
    ("proxy-covariance", "Monte Carlo", proxy, "covariance", lambda f: lambda *a: 1.1 * f(*a)),
    ("tweedie", "finite differences", proxy, "true_score", lambda f: lambda *a: -f(*a)),
    ("proxy-unbiased", "Monte Carlo", proxy, "true_score", lambda f: lambda *a: 1.05 * f(*a)),
    ("ratio-identities", "production ratio", proxy, "variance_ratio", lambda f: lambda *a: f(*a) ** 2),
    ("boundary-regions", "production $R$ at the noised point", proxy, "variance_ratio",
     lambda f: lambda *a: 0.9 * f(*a)),
    ("benign-cases", "V-kernel from $C$", kernels, "naive_V",
     lambda f: lambda x, t, d, s, kappa: f(x, t, d, s, kappa) / s.D(np.asarray(t))[..., None, None]),
    ("dsm-vs-sm", "offset", proxy, "covariance", lambda f: lambda *a: 0.8 * f(*a)),
])
def test_a_wrong_production_function_fails_the_derivation(monkeypatch, name, label, module, func, wrong):
    step = _step(name, label)
    assert step.verify(np.random.default_rng(1)), step.detail
    monkeypatch.setattr(module, func, wrong(getattr(module, func)))
    assert not step.verify(np.random.default_rng(1)), step.detail


def test_boundary_limits_at_and_near_a_training_point():
    """R -> 1 exactly at the noised point, R -> 0 at the clean point under VP (issue 9, item 4)."""
    vp = c.vp()
    mu = np.array([[1.0, 0.0], [-0.5, 0.8]])
    for t in (0.01, 0.003):
        assert proxy.variance_ratio(vp.alpha(t) * mu[:1], t, mu, vp)[0] == pytest.approx(1.0, abs=1e-9)
        assert proxy.variance_ratio(mu[:1], t, mu, vp)[0] == pytest.approx(0.0, abs=1e-9)


def test_path_integral_one_step_and_errors():
    path = pi.discrete_path(1)
    _, _, mean, var = pi.averaged_transition(path)
    assert sp.simplify(var - S.dt**2 * path.D[0] ** 2 * path.cov[0, 0]) == 0
    assert sp.simplify(mean - pi.euler_step(path.x[0], path.beta[0], path.D[0], path.s_avg[0])) == 0
    with pytest.raises(ValueError, match="n_steps"):
        pi.discrete_path(0)
    with pytest.raises(ValueError, match="quadratic"):
        pi.gaussian_integral(-path.p[0] ** 4, path.p)
    with pytest.raises(TypeError, match="rng"):
        pi.simulate_euler_ensemble(None, 0.0, 0.1, [0], [1], [0], [0], [[1.0]], 10)


def test_path_integral_three_steps_match_direct_propagation():
    """Exact discrete path integral for 3 steps = effective-SDE propagation (rational coefficients)."""
    import dataclasses

    R = sp.Rational
    path = pi.discrete_path(3)
    num = dataclasses.replace(
        path, beta=(R(1), R(1, 2), R(3, 2)), D=(R(2), R(1), R(1, 3)), s_avg=(R(1, 5), R(-1), R(2)),
        cov=sp.Matrix([[R(1), R(1, 3), R(1, 5)], [R(1, 3), R(2), R(1, 4)], [R(1, 5), R(1, 4), R(1)]]))
    dt = R(1, 10)
    _, _, mean, var = pi.averaged_transition(num, dt)
    mean_d, var_d = pi.effective_sde_output(num, dt)
    assert sp.simplify(mean - mean_d) == 0
    assert sp.simplify(var - var_d) == 0
    assert var != 0
    # a different (wrong) covariance gives a different variance
    wrong = dataclasses.replace(num, cov=num.cov * 2)
    assert sp.simplify(pi.effective_sde_output(wrong, dt)[1] - var) != 0


def test_cumulants_are_standard():
    mus, kappas = pi.cumulants_from_moments(4)
    m1, m2, m3, m4 = mus
    assert sp.expand(kappas[3] - (m4 - 4 * m3 * m1 - 3 * m2**2 + 12 * m2 * m1**2 - 6 * m1**4)) == 0


def test_gaussian_data_C_is_constant_and_matches_mixture_limit():
    """C for Gaussian data equals I/sigma^2 - K^-1; a wrong sign would fail."""
    from gtv_symbolic.derivations import d07_gaussian_data as g

    C = g._C_expr().subs({S.alpha: sp.Rational(1, 2), S.sigma2: sp.Rational(3, 4)})
    S0, _, (a11, a12, a22) = g._symbols()
    Cn = np.array(C.subs({a11: 1, a12: 0, a22: 1}), dtype=float)
    # isotropic S0 = I: C = alpha^2 / (sigma^2 (alpha^2 + sigma^2)) I
    assert np.allclose(Cn, np.eye(2) * 0.25 / (0.75 * 1.0))


def test_scripts_exist_for_every_derivation():
    for module, _ in REGISTRY.values():
        assert (DOCS / f"{module[1:]}.py").exists(), module
    _ = re
