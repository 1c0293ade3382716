"""Typical-distribution predictors (typical.py) and the metrics they are scored with."""

import numpy as np
import pytest

from gtv_symbolic import data, kernels, metrics, proxy, schedules, typical
from gtv_symbolic.grids import TimeGrid

K_SE = 4.5
VP = schedules.VP()
MU = data.three_points()


def NK(kappa, mu=MU):
    return kernels.NaiveKernel(mu, VP, kappa)


def GEO(eps, n):
    return TimeGrid.geometric(VP, eps, 1.0, n)


def test_naive_step_mean_and_covariance(rng):
    """One naive Euler step: mean dt (beta x + D s), covariance kappa dt D^2 C (Prop. 4.1)."""
    x = np.array([-0.6, -0.3, 0.0, 0.2, 0.45])[:, None]
    t, dt, kappa, n = 0.05, 1e-3, 0.8, 40000
    xs = np.repeat(x[None], n, axis=0).reshape(-1, 1)
    out = typical.naive_step(NK(kappa), xs, t, dt, rng).reshape(n, x.shape[0])
    inc = out - x[:, 0][None, :]
    b, D = float(VP.beta(t)), float(VP.D(t))
    s = proxy.true_score(x, t, MU, VP)[:, 0]
    mean_pred = dt * (b * x[:, 0] + D * s)
    var_pred = kernels.naive_step_covariance(x, t, dt, MU, VP, kappa)[:, 0, 0]
    c = inc - inc.mean(0)
    var = (c**2).mean(0)
    se_var = np.sqrt(np.maximum((c**4).mean(0) - var**2, 0) / n)
    assert np.all(np.abs(inc.mean(0) - mean_pred) <= K_SE * np.sqrt(var / n) + 1e-15)
    assert np.all(np.abs(var - var_pred) <= K_SE * se_var + 1e-18)
    assert np.all(var_pred > 0)
    # steps are uncorrelated (white noise, delta(t - t')): fresh x0 at each step
    two = typical.naive_step(NK(kappa), out.reshape(-1, 1), t - dt, dt, rng).reshape(n, -1)
    inc2 = two - out
    corr = np.mean((inc - inc.mean(0)) * (inc2 - inc2.mean(0)), axis=0)
    # drift of step 2 depends on x after step 1, so correlation is O(dt * D * ds/dx) * Var
    lin = dt * D * np.abs(1 / float(VP.sigma2(t))) * var_pred * 5
    se_corr = np.sqrt(var * (inc2.var(0))) / np.sqrt(n)
    assert np.all(np.abs(corr) <= K_SE * se_corr + lin)


@pytest.fixture(scope="module")
def fp_em():
    eps, kappa = 2e-2, 0.5
    x, q = typical.naive_fokker_planck(NK(kappa), GEO(eps, 800))
    em = typical.naive_em(NK(kappa), GEO(eps, 400), n_samples=12000,
                          rng=np.random.default_rng(7))
    return eps, kappa, x, q, em


def test_fokker_planck_matches_euler_maruyama(fp_em):
    """Binned FP masses vs the EM histogram: |diff| <= 4.5 SE + the EM time-step bias bound."""
    eps, kappa, x, q, em = fp_em
    edges = np.linspace(-1.5, 1.5, 13)
    dx = x[1] - x[0]
    cdf = np.concatenate([[0], np.cumsum(q) * dx])
    xe = np.concatenate([[x[0] - dx / 2], x + dx / 2])
    p_fp = np.diff(np.interp(edges, xe, cdf))
    p_em = np.histogram(em[:, 0], bins=edges)[0] / em.shape[0]
    se = np.sqrt(np.maximum(p_fp * (1 - p_fp), 1e-6) / em.shape[0])
    # the EM step (400 geometric steps) differs from the diffusion limit by O(dt);
    # bound measured by halving the step count: 0.004 per bin at most
    assert np.all(np.abs(p_fp - p_em) <= K_SE * se + 0.004), np.abs(p_fp - p_em) / se
    # the naive estimator moves mass between modes (middle loses) rather than filling gaps
    mm = metrics.mode_masses(q, x)
    assert mm[1] < 0.3
    assert metrics.gap_mass(q, x) < 0.01


def test_fokker_planck_without_noise_is_pf_ode():
    """kappa = 0: the FP solution is the exact-score PF-ODE output p(x|eps)."""
    eps = 2e-2
    x, q = typical.naive_fokker_planck(NK(0.0), GEO(eps, 800), dx=0.01)
    tv = metrics.total_variation(q, proxy.density(x[:, None], eps, MU, VP), x)
    x2, q2 = typical.naive_fokker_planck(NK(0.0), GEO(eps, 800), dx=0.005)
    tv2 = metrics.total_variation(q2, proxy.density(x2[:, None], eps, MU, VP), x2)
    assert tv < 0.03
    assert tv2 < 0.7 * tv  # (first-order) convergence under grid refinement


def test_single_point_naive_equals_pf_ode():
    mu1 = np.array([[0.2]])
    x, q0 = typical.naive_fokker_planck(NK(0.0, mu1), GEO(2e-2, 300))
    _, q1 = typical.naive_fokker_planck(NK(3.0, mu1), GEO(2e-2, 300))
    np.testing.assert_allclose(q1, q0, rtol=1e-12, atol=1e-12)


def test_distances():
    x = np.linspace(-1.5, 1.5, 301)
    p = np.exp(-x**2)
    assert metrics.total_variation(p, p, x) == 0
    u = np.ones_like(x)
    assert metrics.gap_mass(u, x) == pytest.approx(1.0 / 3.0, abs=0.01)
    assert metrics.mode_masses(u, x).sum() == pytest.approx(1.0)
    q = np.where(x > 0, 1.0, 0.0)
    r = np.where(x < 0, 1.0, 0.0)
    assert metrics.total_variation(q, r, x) == pytest.approx(1.0, abs=0.01)
    with pytest.raises(ValueError, match="strictly increasing"):
        metrics.total_variation(p, p, x[::-1])


def test_paper_regions_are_the_data_derived_ones():
    """gap_mass / mode_masses with the default (paper's {-1, 0, 1}) data are the fixed regions
    0.25 < |x| < 0.75 and cells split at +-0.5, bit for bit, on the Fig. 2 grid; other data
    move the gap."""
    from gtv_symbolic.experiments import fig2

    x, _ = fig2.bin_grid(fig2.Settings())
    p = np.random.default_rng(1).random((3, x.size))
    w = metrics.grid_weights(x)
    q = p / (p @ w)[:, None]
    sel = (np.abs(x) > 0.25) & (np.abs(x) < 0.75)
    np.testing.assert_array_equal(metrics.gap_mass(p, x), q @ (w * sel))
    cells = [x < -0.5, (x >= -0.5) & (x < 0.5), x >= 0.5]
    np.testing.assert_array_equal(metrics.mode_masses(p, x),
                                  np.stack([q @ (w * c) for c in cells], -1))
    # data {-1, -0.2, 1}: the gaps are (-0.8, -0.4) and (0.1, 0.7) at margin 1/4
    sel2 = ((x >= -0.8) & (x <= -0.4)) | ((x >= 0.1) & (x <= 0.7))
    np.testing.assert_allclose(metrics.gap_mass(p, x, [-1.0, -0.2, 1.0]), q @ (w * sel2),
                               rtol=1e-14)


def test_ensemble_moments_formula_and_constant_input():
    v = np.array([0.0, 0.0, 0.0, 1.0, 3.0])
    c = v - v.mean()
    m2 = np.mean(c**2)
    r = metrics.ensemble_moments(np.stack([v, 2 * v + 1], -1))
    np.testing.assert_allclose(r["skew"], np.mean(c**3) / m2**1.5, rtol=1e-13)
    np.testing.assert_allclose(r["kurt"], np.mean(c**4) / m2**2 - 3, rtol=1e-13)
    np.testing.assert_allclose(r["var"], np.var(v, ddof=1) * np.array([1, 4]), rtol=1e-13)
    # undefined at zero variance (also at rounding-level spread): an error, not 0 or NaN
    for bad in (np.zeros((5, 3)), np.full((5, 3), 0.1) + np.array([0, 1, 2]) * 1e-17):
        with pytest.raises(ValueError, match=r"values does not vary across the models"):
            metrics.ensemble_moments(bad)
    with pytest.raises(ValueError, match=r"at index \(1, 0\)"):
        metrics.ensemble_moments(np.stack([v[:, None] * [1, 1], v[:, None] * [0, 1]], 1))


def test_ensemble_moments_of_gaussian_are_null(rng):
    v = rng.standard_normal((4000, 5))
    m = metrics.ensemble_moments(v)
    assert np.all(np.abs(m["skew"]) <= K_SE * m["se_skew"])
    assert np.all(np.abs(m["kurt"]) <= K_SE * m["se_kurt"])
    e = metrics.ensemble_moments(rng.exponential(size=(4000, 3)))
    assert np.all(e["skew"] > 1.5)


def test_moment_matched_weights_and_seed(rng):
    W = rng.standard_normal((50, 1, 4)) * [1, 2, 3, 4]
    a = typical.moment_matched_weights(W, 10, np.random.default_rng(3))
    b = typical.moment_matched_weights(W, 10, np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (10, 1, 4)
    with pytest.raises(ValueError, match="W must have shape"):
        typical.moment_matched_weights(W[:1], 10, rng)


def test_semiclassical_naive_small_kappa_matches_fp():
    """Small kappa: the linear-noise approximation agrees with the FP solution (its stated range)."""
    eps, kappa = 2e-2, 0.02
    x, q = typical.naive_fokker_planck(NK(kappa), GEO(eps, 400))
    d, info = typical.semiclassical_naive(NK(kappa), GEO(eps, 300), x, n_seeds=1001)
    mm_fp, mm_sc = metrics.mode_masses(q, x), metrics.mode_masses(d, x)
    assert np.all(np.abs(mm_fp - mm_sc) < 0.02)
    assert np.all(info["var"] >= 0)


def test_bad_input():
    with pytest.raises(ValueError, match="kappa must be"):
        NK(-0.1)
    with pytest.raises(TypeError, match="NaiveKernel"):
        typical.naive_em(MU, GEO(1e-2, 10), n_samples=10, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="TimeGrid"):
        typical.naive_em(NK(0.1), VP, n_samples=10, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="1-D only"):
        typical.naive_fokker_planck(NK(0.1, data.square(0.0)), GEO(1e-2, 10))
    with pytest.raises(TypeError, match="VKernel"):
        typical.gaussian_field_weights(np.zeros(3), 2, np.random.default_rng(0))
    with pytest.raises(TypeError, match="no finite-dimensional"):
        typical.gaussian_field_weights(NK(0.1), 2, np.random.default_rng(0))


def test_metrics_bad_input():
    x = np.linspace(-1, 1, 11)
    p = np.ones(11)
    with pytest.raises(ValueError, match="margin must lie in"):
        metrics.gap_mass(p, x, margin=0.5)
    with pytest.raises(ValueError, match="finite"):
        metrics.total_variation(np.full(11, np.nan), p, x)
    with pytest.raises(ValueError, match="last axis"):
        metrics.total_variation(np.ones(10), p, x)
    with pytest.raises(ValueError, match="finite"):
        metrics.ensemble_moments(np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="D = 1 or 2"):
        metrics.histogram_masses(np.zeros((5, 3)), [0.0, 1.0])


def test_semiclassical_linear_generic_variance_matches_linear(rng):
    """The generic VKernel.functional_variance (pairwise covariances) equals LinearKernel's."""
    from gtv_symbolic.features import make_features

    fm = make_features("gaussian", 1, 5, 4, eps=1e-2)
    K = kernels.linear_kernel(fm, MU, VP, P=100, eps=1e-2)
    x = rng.uniform(-1, 1, (7, 4, 1))
    t = np.array([0.9, 0.5, 0.1, 0.02])
    c = rng.standard_normal((7, 4, 1))
    fast = K.functional_variance(x, t, c)
    generic = kernels.VKernel.functional_variance(K, x, t, c)
    np.testing.assert_allclose(fast, generic, rtol=1e-10)
    d, info = typical.semiclassical_linear(K, TimeGrid.linear(VP, 1e-2), np.linspace(-1.5, 1.5, 301),
                                           n_seeds=401)
    assert np.all(info["var"] >= 0) and abs(d.sum() * 0.01 - 1) < 0.02
