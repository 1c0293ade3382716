"""The library of derivations: each verifies, renders, and its numeric results are right."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp
from matplotlib.mathtext import MathTextParser

from gtv_symbolic import derive, proxy
from gtv_symbolic import pathintegral as pi
from gtv_symbolic import symbols as S
from gtv_symbolic.derivations import REGISTRY
from gtv_symbolic.derivations import _common as c

NAMES = list(REGISTRY)


@pytest.fixture(scope="module")
def verified():
    """Every derivation built and verified once (with its own seed) for the module."""
    return {name: derive.run(name) for name in NAMES}


def test_registry_names_and_titles():
    assert len(NAMES) >= 11
    assert NAMES[:4] == ["forward-process", "tweedie", "proxy-unbiased", "proxy-covariance"]
    for name in NAMES:
        assert REGISTRY[name][1]


@pytest.mark.parametrize("name", NAMES)
def test_derivation_verifies(verified, name):
    d = verified[name]
    assert all(s.verified for s in d.steps if s.status in derive.VERIFIED)
    assert all(d.steps[i].verified and d.steps[i].status in derive.VERIFIED for i in d.result)
    assert {s.status for s in d.steps} <= set(derive.STATUSES)
    for s in d.steps:
        assert s.reason and s.detail


@pytest.mark.parametrize("name", NAMES)
def test_scalar_latex_parses_with_mathtext(verified, name):
    parser = MathTextParser("agg")
    d = verified[name]
    n = 0
    for s in d.steps:
        if isinstance(s.lhs, sp.MatrixBase) or isinstance(s.rhs, sp.MatrixBase):
            continue
        parser.parse("$" + d.equation_tex(s) + "$")
        n += 1
    assert n >= 3


@pytest.mark.parametrize("name", NAMES)
def test_rendered_documents(verified, name, tmp_path):
    d = verified[name]
    md_path, tex_path = d.write(tmp_path)
    md = md_path.read_text()
    assert md.startswith("# ") and md.count("\n$$\n") >= len(d.steps)
    tex = tex_path.read_text()
    n_blocks = len(d.steps) + len(d.result)  # one per step, one per result
    assert tex.count(r"\begin{align*}") == tex.count(r"\end{align*}") == n_blocks
    assert tex.count("{") - tex.count(r"\{") == tex.count("}") - tex.count(r"\}")
    assert all(ord(ch) < 128 for ch in tex)  # plain pdflatex without inputenc tricks
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex not on PATH")
    res = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex_path.name],
                         cwd=tmp_path, capture_output=True, timeout=120)
    assert res.returncode == 0, res.stdout.decode(errors="replace")[-2000:]


@pytest.mark.parametrize("name, step", [("tweedie", 5), ("proxy-covariance", 8),
                                        ("path-integral", 13), ("linear-model", 3)])
def test_deliberately_wrong_step_is_rejected(name, step):
    d = derive.get(name)
    target = d.steps[step - 1]
    bump = sp.Rational(1, 7) * S.alpha
    target.rhs = target.rhs + (bump * sp.ones(*target.rhs.shape) if isinstance(target.rhs, sp.MatrixBase)
                               else bump)
    with pytest.raises(derive.VerificationError, match=rf"{name}.*step {step}"):
        d.verify()


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


def test_proxy_covariance_step_numbers_agree_with_proxy_module():
    """The lambdified C of the derivation equals proxy.covariance (independent numeric path)."""
    from gtv_symbolic.derivations import d04_proxy_covariance as pc

    vp = c.vp()
    x = np.array([[0.1, -0.2], [0.4, 0.3]])
    t = np.array([0.2, 0.5])
    val = pc._compiled_C()(vp.alpha(t), vp.sigma2(t), x[:, 0], x[:, 1])
    assert np.allclose(val, proxy.covariance(x, t, pc._DATA, vp), rtol=1e-10, atol=1e-12)
