"""Closed-form ridge training: optimality, primal = dual, ensemble mean vs population W*, seeds."""

import numpy as np
import pytest

from gtv_symbolic import data, schedules
from gtv_symbolic.features import make_features
from gtv_symbolic.linear import (
    LinearDenoiser,
    draw_dsm_samples,
    population_moments,
    population_weights,
    ridge_fit,
    ridge_objective,
    train_ensemble,
)

VP = schedules.VP()


@pytest.mark.parametrize("P", [40, 200])  # dual (P <= F) and primal (P > F)
def test_ridge_solution_zeroes_gradient(P, rng):
    fm = make_features("gaussian", 1, 8, 6, eps=1e-2)
    W, smp = train_ensemble(fm, data.three_points(), VP, n_train=P, n_models=2, eps=1e-2, rng=rng,
                            return_samples=True)
    for m in range(2):
        phi = fm(smp["x"][m], smp["t"][m])
        J, g = ridge_objective(W[m], phi, smp["target"][m], smp["weight"][m], 0.1)
        _, g_rand = ridge_objective(W[m] + 0.01 * rng.standard_normal(W[m].shape), phi,
                                    smp["target"][m], smp["weight"][m], 0.1)
        # gradient at the solution vanishes to rounding; a small perturbation does not
        assert np.abs(g).max() < 1e-9 * max(1.0, np.abs(g_rand).max() / 1e-3)
        assert np.abs(g_rand).max() > 1e3 * np.abs(g).max()
        # and the objective is a minimum: perturbations increase it
        J2, _ = ridge_objective(W[m] * 1.001, phi, smp["target"][m], smp["weight"][m], 0.1)
        assert J2 > J


def test_primal_equals_dual(rng):
    fm = make_features("fourier", 2, 3, 3, eps=1e-2)
    s = draw_dsm_samples(data.square(0.3), VP, n_train=20, eps=1e-2, rng=rng)
    phi = fm(s["x"], s["t"])
    Wp = ridge_fit(phi, s["x0"], s["weight"], 0.1, method="primal")
    Wd = ridge_fit(phi, s["x0"], s["weight"], 0.1, method="dual")
    np.testing.assert_allclose(Wp, Wd, rtol=1e-8, atol=1e-10 * np.abs(Wp).max())


def test_tensor_gram_path_matches_dense(rng):
    """train_ensemble's Hadamard-Gram dual path equals the dense ridge_fit on the same draws."""
    fm = make_features("gaussian", 2, 4, 3, eps=1e-2)
    W, smp = train_ensemble(fm, data.square(0.0), VP, n_train=30, n_models=3, eps=1e-2, rng=rng,
                            return_samples=True)
    Wd = ridge_fit(fm(smp["x"], smp["t"]), smp["target"], smp["weight"], 0.1, method="primal")
    np.testing.assert_allclose(W, Wd, rtol=1e-8, atol=1e-10 * np.abs(W).max())


def test_same_seed_same_bytes_and_independent_streams():
    fm = make_features("gaussian", 1, 6, 4, eps=1e-3)
    kw = dict(n_train=50, eps=1e-3, T=1.0)
    a = train_ensemble(fm, data.three_points(), VP, n_models=5, rng=np.random.default_rng(7), **kw)
    b = train_ensemble(fm, data.three_points(), VP, n_models=5, rng=np.random.default_rng(7), **kw)
    assert a.tobytes() == b.tobytes()
    c = train_ensemble(fm, data.three_points(), VP, n_models=3, rng=np.random.default_rng(7), **kw)
    np.testing.assert_array_equal(a[:3], c)  # model k's stream does not depend on N
    d = train_ensemble(fm, data.three_points(), VP, n_models=5, rng=np.random.default_rng(8), **kw)
    assert not np.allclose(a, d)
    assert not np.allclose(a[0], a[1])


def test_population_quadrature_converged():
    fm = make_features("gaussian", 1, 8, 6, eps=1e-3)
    A1, S1 = population_moments(fm, data.three_points(), VP, eps=1e-3, n_panels=48)
    A2, S2 = population_moments(fm, data.three_points(), VP, eps=1e-3, n_panels=96)
    assert np.abs(A1 - A2).max() < 1e-9 * np.abs(A2).max()
    assert np.abs(S1 - S2).max() < 1e-9 * np.abs(S2).max()


def test_population_moments_vs_monte_carlo(rng):
    """A = E[lambda x0 phi^T], Sigma = E[lambda phi phi^T] against a large DSM sample (SE-based)."""
    fm = make_features("fourier", 2, 3, 2, eps=5e-2)
    mu = data.square(0.2)
    A, Sig = population_moments(fm, mu, VP, eps=5e-2)
    s = draw_dsm_samples(mu, VP, n_train=200_000, eps=5e-2, rng=rng)
    phi = fm(s["x"], s["t"])
    w = s["weight"]
    n = len(w)

    def mean_se(u, v):  # mean and standard error of w u_i v_j without (n, F, F) arrays
        m1 = np.einsum("p,pi,pj->ij", w, u, v) / n
        m2 = np.einsum("p,pi,pj->ij", w**2, u**2, v**2) / n
        return m1, np.sqrt(np.maximum(m2 - m1**2, 0) / n)

    mc, se = mean_se(phi, phi)
    assert np.all(np.abs(mc - Sig) <= 5 * se + 1e-12)
    mc, se = mean_se(s["x0"], phi)
    assert np.all(np.abs(mc - A) <= 5 * se + 1e-12)


@pytest.mark.parametrize("target", ["proxy", "true"])
def test_ensemble_mean_matches_population(target, rng):
    """mean over models of W phi -> W* phi (O(1/P) bias), within 5 standard errors."""
    eps = 1e-2
    fm = make_features("gaussian", 1, 5, 4, eps=eps)
    mu = data.three_points()
    N, P = 400, 4000
    W = train_ensemble(fm, mu, VP, n_train=P, n_models=N, eps=eps, rng=rng, target=target)
    Ws = population_weights(fm, mu, VP, eps=eps)
    x = np.linspace(-1.2, 1.2, 7)[:, None]
    for t in (0.05, 0.3, 0.8):
        pred = LinearDenoiser(fm, W)(np.broadcast_to(x, (N,) + x.shape), t)[..., 0]
        ref = LinearDenoiser(fm, Ws)(x, t)[:, 0]
        se = pred.std(0, ddof=1) / np.sqrt(N)
        assert np.all(np.abs(pred.mean(0) - ref) <= 5 * se), (t, pred.mean(0) - ref, se)


def test_true_target_removes_proxy_variance(rng):
    """J0 ablation (math note 5.5): regressing on E[x0|x,t] gives a less variable ensemble."""
    eps = 1e-2
    fm = make_features("gaussian", 1, 8, 6, eps=eps)
    kw = dict(n_train=256, n_models=60, eps=eps)
    Wp = train_ensemble(fm, data.three_points(), VP, rng=np.random.default_rng(1), **kw)
    Wt = train_ensemble(fm, data.three_points(), VP, rng=np.random.default_rng(1), target="true",
                        **kw)
    x = np.broadcast_to(np.linspace(-1, 1, 21)[:, None], (60, 21, 1))
    vp_ = LinearDenoiser(fm, Wp)(x, 0.1).var(0).mean()
    vt_ = LinearDenoiser(fm, Wt)(x, 0.1).var(0).mean()
    assert vt_ < 0.5 * vp_


def test_bad_input(rng):
    fm = make_features("gaussian", 1, 4, 4, eps=1e-2)
    mu = data.three_points()
    with pytest.raises(ValueError, match=r"n_train \(P\) must be"):
        train_ensemble(fm, mu, VP, n_train=0, n_models=2, eps=1e-2, rng=rng)
    with pytest.raises(ValueError, match=r"n_models \(N\) must be >= 1"):
        train_ensemble(fm, mu, VP, n_train=10, n_models=0, eps=1e-2, rng=rng)
    with pytest.raises(ValueError, match=r"eps must lie in \(0, T\)"):
        train_ensemble(fm, mu, VP, n_train=10, n_models=1, eps=0.0, rng=rng)
    with pytest.raises(ValueError, match=r"eps must lie in \(0, T\)"):
        train_ensemble(fm, mu, VP, n_train=10, n_models=1, eps=1.0, rng=rng)
    with pytest.raises(ValueError, match="target"):
        train_ensemble(fm, mu, VP, n_train=10, n_models=1, eps=1e-2, rng=rng, target="x")
    with pytest.raises(ValueError, match="dimension"):
        train_ensemble(fm, data.square(0.0), VP, n_train=10, n_models=1, eps=1e-2, rng=rng)
    with pytest.raises(ValueError, match="ridge"):
        train_ensemble(fm, mu, VP, n_train=10, n_models=1, eps=1e-2, rng=rng, ridge=0.0)
    with pytest.raises(ValueError, match="MB per"):
        train_ensemble(fm, mu, VP, n_train=100_000, n_models=1, eps=1e-2, rng=rng)
