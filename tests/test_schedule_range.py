"""Each schedule's accepted t range is where every proxy evaluator is finite (issue 11, item 4)."""

import re

import numpy as np
import pytest

from gtv_symbolic import proxy, schedules
from gtv_symbolic._validate import MAX_COORD, SIGMA2_MIN

SCHEDS = [schedules.VP(), schedules.VP(beta_min=0.0, beta_d=5.0), schedules.VE(), schedules.EDM(),
          schedules.Fig1()]
EVALUATORS = [proxy.posterior_weights, proxy.posterior_mean, proxy.posterior_covariance,
              proxy.true_score, proxy.covariance, proxy.variance_ratio, proxy.log_density]


def _ends(sched):
    hi = sched.T if sched.include_T else float(np.nextafter(sched.T, 0))
    return [sched.t_min, hi]


def _extreme_problems(dim):
    """Data at +-MAX_COORD; x at the midpoint (largest C), at a corner, on a point."""
    mu = np.stack([np.full(dim, -MAX_COORD), np.full(dim, MAX_COORD), np.zeros(dim)])
    x = np.stack([np.full(dim, MAX_COORD / 2), np.full(dim, MAX_COORD), np.full(dim, -MAX_COORD),
                  np.zeros(dim), np.full(dim, 1e-300)])
    return mu, x


@pytest.mark.parametrize("sched", SCHEDS, ids=repr)
@pytest.mark.parametrize("dim", [1, 3])
def test_every_evaluator_finite_at_the_ends(sched, dim):
    mu, x = _extreme_problems(dim)
    for t in _ends(sched):
        for f in EVALUATORS:
            for xs in (x, x * 1e-10, x * 1e-20):  # also near the data's scale of C
                v = f(xs, t, mu, sched)
                assert np.all(np.isfinite(v)), (f.__name__, t)
        r = proxy.variance_ratio(x, t, mu, sched)
        assert np.all((r >= 0) & (r <= 1))
        try:
            p = proxy.density(x, t, mu, sched)
        except ValueError as exc:  # only where p itself exceeds the float64 range
            assert "log_density" in str(exc)
        else:
            assert np.all(np.isfinite(p))


@pytest.mark.parametrize("sched", SCHEDS, ids=repr)
def test_sigma2_at_t_min_is_above_the_bound(sched):
    assert sched.sigma2(sched.t_min) >= SIGMA2_MIN
    # t_min is tight to two digits: 10% lower would give sigma^2 below the bound
    assert sched._compiled["sigma2"](0.9 * sched.t_min) < SIGMA2_MIN


@pytest.mark.parametrize("sched", SCHEDS, ids=repr)
@pytest.mark.parametrize("where", ["below", "above", "zero", "nan"])
def test_outside_the_range_is_rejected_with_the_range(sched, where):
    t = {"below": sched.t_min * 0.5, "above": sched.T * 1.5, "zero": 0.0, "nan": np.nan}[where]
    domain = re.escape(sched.t_domain)
    with pytest.raises(ValueError, match=rf"^t must .*{domain} for the {sched.name} schedule"):
        proxy.true_score(np.zeros((1, 2)), t, np.ones((3, 2)), sched)
    with pytest.raises(ValueError, match=rf"^t must .*{domain}"):
        sched.alpha(t)


def test_ranges_are_stated():
    assert schedules.VP().t_domain == "[3e-143, 1]"
    assert schedules.VE().t_domain == "[2.5e-72, 1]"
    assert schedules.EDM().t_domain == "[2.5e-72, 80]"
    assert schedules.Fig1().t_domain == "[6e-144, 1)"


def test_schedule_parameters_bounded():
    with pytest.raises(ValueError, match=r"beta_min\*T \+ beta_d\*T\^2/2 <= 690"):
        schedules.VP(T=100.0)
    with pytest.raises(ValueError, match=r"T must be in \(2.5e-72, 1e\+150\]"):
        schedules.VE(T=1e200)
    with pytest.raises(ValueError, match="beta_d must be finite"):
        schedules.VP(beta_d=np.inf)


def test_hand_built_schedule_without_t_min_rejects_zero():
    vp = schedules.VP()
    s = schedules.Schedule("custom", vp.alpha_expr, vp.sigma2_expr, vp.beta_expr, vp.D_expr,
                           T=1.0, params=vp.params)
    assert s.t_domain == "(0, 1]"
    with pytest.raises(ValueError, match=r"^t must lie in \(0, 1\] for the custom schedule"):
        s.alpha(0.0)
