"""Numeric evaluators vs the lambdified SymPy forms, accuracy at extremes, bad input."""

import mpmath
import numpy as np
import pytest
import sympy as sp

from gtv_symbolic import data, proxy, schedules
from gtv_symbolic import symbols as S
from gtv_symbolic.numeric import lambdify

CASES = {
    "1d-three": np.array([[-1.0], [0.0], [1.0]]),
    "2d-polygon3": data.polygon(3),
    "3d-four": np.array([[0.5, -1, 0.25], [1, 1, 0], [-1, 0.5, 0.5], [0, 0, -1]]),
}


def _compile(expr, dim, vector=False):
    # plain lambdify (no stable rewrite): the reference is the formula as derived
    if isinstance(expr, sp.MatrixBase) and expr.shape[1] == 1 and expr.shape[0] == dim:
        expr = list(expr) if expr.shape != (1, 1) or vector else expr
    return lambdify(list(S.x_vec(dim)) + [S.t], expr, stable=False)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("sched", [schedules.VP(), schedules.Fig1(), schedules.VE()],
                         ids=lambda s: s.name)
def test_numeric_equals_lambdified_sympy(name, sched, rng):
    mu = CASES[name]
    dim = mu.shape[1]
    x = rng.normal(scale=1.5, size=(40, dim))
    # the raw symbolic formula (no log-sum-exp) underflows for VE at small t
    t = rng.uniform(0.3 if sched.name == "VE" else 0.05, 0.9, size=40)
    cols = [x[:, i] for i in range(dim)] + [t]
    checks = {
        "true_score": (proxy.sym_true_score(mu, sched), proxy.true_score),
        "covariance": (proxy.sym_covariance(mu, sched), proxy.covariance),
        "posterior_mean": (proxy.sym_posterior_mean(mu, sched), proxy.posterior_mean),
        "variance_ratio": (proxy.sym_variance_ratio(mu, sched), proxy.variance_ratio),
        "density": (proxy.sym_marginal(mu, sched), proxy.density),
    }
    for what, (expr, func) in checks.items():
        ref = _compile(expr, dim, vector=what in ("true_score", "posterior_mean"))(*cols)
        got = func(x, t, mu, sched)
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12, err_msg=what)


def _mp_reference(x, t, mu, sched, dps=60):
    """Posterior mean and score of a 1-D set in high precision (mpmath)."""
    mpmath.mp.dps = dps
    b = mpmath.mpf("0.1") * t + mpmath.mpf("19.9") * mpmath.mpf(t) ** 2 / 2
    a = mpmath.exp(-b)
    s2 = 1 - mpmath.exp(-2 * b)
    logits = [-(mpmath.mpf(x) - a * m) ** 2 / (2 * s2) for m in mu]
    mx = max(logits)
    w = [mpmath.exp(lg - mx) for lg in logits]
    z = sum(w)
    mean = sum(wi * m for wi, m in zip(w, mu, strict=True)) / z
    var = sum(wi * (m - mean) ** 2 for wi, m in zip(w, mu, strict=True)) / z
    return float(mean), float((a * mean - x) / s2), float(a**2 * var / s2**2)


@pytest.mark.parametrize("t", [1e-6, 1e-4, 1e-2])
@pytest.mark.parametrize("x_rel", [0.4999, 0.5, 0.3, 1.0 + 1e-4, 50.0, -37.0])
def test_small_t_and_large_x_accuracy(t, x_rel):
    """Backward stable: equals the 60-digit value at some x within 8 ulps of the input.

    Near a boundary the score is ill-conditioned (ds/dx = C - 1/sigma^2 ~ 1e12 at
    t = 1e-6), so the tolerance is the spread of the exact values over x(1 +- 8 eps),
    plus a relative 1e-9.
    """
    vp = schedules.VP()
    mu = [-1.0, 0.0, 1.0]
    x = x_rel * float(vp.alpha(t))  # scale with alpha so the point sits where intended
    delta = 8 * np.finfo(float).eps * max(abs(x), 1.0)
    refs = np.array([_mp_reference(xx, t, mu, vp) for xx in (x, x - delta, x + delta)])
    arr = np.array(mu)[:, None]
    got = [proxy.posterior_mean(np.array([[x]]), t, arr, vp)[0, 0],
           proxy.true_score(np.array([[x]]), t, arr, vp)[0, 0],
           proxy.covariance(np.array([[x]]), t, arr, vp)[0, 0, 0]]
    for k, name in enumerate(("posterior_mean", "true_score", "covariance")):
        tol = np.abs(refs[1:, k] - refs[0, k]).max() + 1e-9 * abs(refs[0, k])
        assert abs(got[k] - refs[0, k]) <= tol, (name, got[k], refs[0, k], tol)


def test_large_problem_stays_finite_and_consistent(rng):
    """M = 1e4, D = 64, |x| up to 50, t down to 1e-6 (issue 2's stated range)."""
    vp = schedules.VP()
    mu = rng.normal(size=(10_000, 64)) / 8
    x = rng.normal(size=(6, 64))
    x *= (np.array([0.1, 1, 5, 20, 35, 50]) / np.linalg.norm(x, axis=1))[:, None]
    for t in (1e-6, 1e-3, 0.5, 1.0):
        w = proxy.posterior_weights(x, t, mu, vp)
        assert np.all(np.isfinite(w)) and np.allclose(w.sum(-1), 1)
        s = proxy.true_score(x, t, mu, vp)
        c = proxy.covariance(x, t, mu, vp)
        r = proxy.variance_ratio(x, t, mu, vp)
        assert np.all(np.isfinite(s)) and np.all(np.isfinite(c))
        assert np.all((r >= 0) & (r <= 1))
        np.testing.assert_allclose(c, np.swapaxes(c, -1, -2), rtol=0, atol=1e-12 * (1 + np.abs(c).max()))
        assert np.linalg.eigvalsh(c).min() >= -1e-9 * (1 + np.abs(c).max())
        # tr C / (tr C + |s|^2) recomputed from the other two evaluators
        trc = np.trace(c, axis1=-2, axis2=-1)
        ss = np.einsum("bi,bi->b", s, s)
        ok = (trc + ss) > 1e-200
        np.testing.assert_allclose(r[ok], trc[ok] / (trc[ok] + ss[ok]), rtol=1e-8, atol=1e-300)


def test_ratio_limits():
    f1 = schedules.Fig1()
    mu = data.polygon(6)
    # M = 1: C = 0, so R = 0 everywhere
    assert np.all(proxy.variance_ratio(np.ones((5, 2)), 0.3, mu[:1], f1) == 0)
    # at a fixed point near (not on) a training point, R -> 0 as t -> 0
    x = mu[0] * 1.05
    r = [float(proxy.variance_ratio(np.sqrt(1 - t) * x, t, mu, f1)) for t in (0.1, 0.01, 1e-3)]
    assert r[0] > r[1] > r[2] and r[2] < 1e-30
    # exactly on a (noised) training point the score vanishes to the same order as tr C,
    # so R -> 1 there, while 2% away it is already small
    for t in (0.05, 0.01):
        a = np.sqrt(1 - t)
        assert proxy.variance_ratio(a * mu[0], t, mu, f1) > 0.999
        assert proxy.variance_ratio(1.02 * a * mu[0], t, mu, f1) < 0.25
    # on a Voronoi boundary (midpoint of neighbours) R stays O(1) at small t
    mid = 0.5 * (mu[0] + mu[1])
    assert proxy.variance_ratio(np.sqrt(1 - 1e-3) * mid, 1e-3, mu, f1) > 0.5


def test_broadcasting_x_and_t(rng):
    vp = schedules.VP()
    mu = data.polygon(4)
    x = rng.normal(size=(7, 2))
    t = np.array([0.1, 0.4, 0.9])
    s = proxy.true_score(x[None], t[:, None], mu, vp)
    assert s.shape == (3, 7, 2)
    np.testing.assert_allclose(s[1], proxy.true_score(x, 0.4, mu, vp))


@pytest.mark.parametrize("bad_data, msg", [
    (np.zeros((0, 2)), "M >= 1"),
    (np.zeros((3, 2, 2)), r"shape \(M, D\)"),
    (np.array([[0.0, np.nan]]), "finite"),
    ("abc", "array of numbers"),
])
def test_bad_data(bad_data, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        proxy.true_score(np.zeros((1, 2)), 0.5, bad_data, schedules.VP())


def test_bad_x_and_t():
    vp = schedules.VP()
    mu = data.polygon(3)
    with pytest.raises(ValueError, match=r"x must have shape \(..., D\) with D = 2"):
        proxy.covariance(np.zeros((4, 3)), 0.5, mu, vp)
    with pytest.raises(ValueError, match="x must be finite"):
        proxy.variance_ratio(np.array([[np.inf, 0.0]]), 0.5, mu, vp)
    with pytest.raises(ValueError, match=r"t must lie in \[3e-143, 1\]"):
        proxy.true_score(np.zeros((1, 2)), 0.0, mu, vp)
    with pytest.raises(ValueError, match="does not broadcast"):
        proxy.true_score(np.zeros((4, 2)), np.full(3, 0.5), mu, vp)
    with pytest.raises(TypeError, match="schedule must be"):
        proxy.true_score(np.zeros((1, 2)), 0.5, mu, "VP")


def test_log_density_normalised():
    vp = schedules.VP()
    x = np.linspace(-6, 6, 20001)[:, None]
    p = proxy.density(x, 0.05, data.three_points(), vp)
    assert np.trapezoid(p, x[:, 0]) == pytest.approx(1.0, abs=1e-9)
