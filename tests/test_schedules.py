import mpmath
import numpy as np
import pytest
import sympy as sp

from gtv_symbolic import schedules
from gtv_symbolic import symbols as S


@pytest.mark.parametrize("make", [schedules.VP, schedules.VE, schedules.EDM, schedules.Fig1])
def test_sde_consistency_symbolic(make):
    assert make().check()


def test_inconsistent_schedule_is_rejected():
    vp = schedules.VP()
    bad = schedules.Schedule("bad", vp.alpha_expr, vp.sigma2_expr, vp.beta_expr,
                             2 * vp.D_expr, T=1.0, params=vp.params)
    with pytest.raises(AssertionError, match="S' \\+ 2 beta S - 2 D"):
        bad.check()


def test_vp_matches_paper_code_formulas():
    vp = schedules.VP()
    t = np.linspace(1e-3, 1, 50)
    a = np.exp(-(0.1 * t + 19.9 * t**2 / 2))
    np.testing.assert_allclose(vp.alpha(t), a, rtol=1e-14)
    np.testing.assert_allclose(vp.sigma2(t), 1 - a**2, rtol=1e-12)
    np.testing.assert_allclose(vp.beta(t), 0.1 + 19.9 * t, rtol=1e-14)
    np.testing.assert_allclose(vp.D(t), vp.beta(t), rtol=1e-14)


@pytest.mark.parametrize("t", [1e-6, 1e-8, 1e-3])
def test_vp_sigma2_small_t_no_cancellation(t):
    mpmath.mp.dps = 40
    a = mpmath.mpf("0.1") * t + mpmath.mpf("19.9") * mpmath.mpf(t) ** 2 / 2
    exact = float(1 - mpmath.exp(-2 * a))
    assert schedules.VP().sigma2(t) == pytest.approx(exact, rel=1e-14)


def test_stable_rewrite_uses_expm1():
    src = schedules.VP()._compiled["sigma2"].source
    assert "expm1" in src


def test_fig1_schedule_values():
    f = schedules.Fig1()
    np.testing.assert_allclose(f.alpha(0.36), 0.8)
    np.testing.assert_allclose(f.sigma2(0.36), 0.36)
    assert sp.simplify(f.expr("D") - 1 / (2 * (1 - S.t))) == 0


def test_edm_time_grid_endpoints():
    g = schedules.edm_time_grid(0.002, 80.0, 18)
    assert g[0] == pytest.approx(80.0) and g[-1] == pytest.approx(0.002)
    assert np.all(np.diff(g) < 0)


@pytest.mark.parametrize("t", [0.0, -0.1, 1.5, np.nan, np.inf])
def test_t_outside_domain_names_argument(t):
    with pytest.raises(ValueError, match=r"t must .*\[3e-143, 1\]"):
        schedules.VP().alpha(t)


def test_fig1_excludes_t_equal_one():
    with pytest.raises(ValueError, match=r"\[6e-144, 1\)"):
        schedules.Fig1().alpha(1.0)


def test_bad_parameters():
    with pytest.raises(ValueError, match="beta_min"):
        schedules.VP(beta_min=-1)
    with pytest.raises(ValueError, match=r"T must be in \(2.5e-72, 1e\+150\]"):
        schedules.VE(T=0)
    with pytest.raises(ValueError, match="schedule must be one of"):
        schedules.get("cosine")
