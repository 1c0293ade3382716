"""The one trainer (training.py): ridge optimality, primal = dual = spectral path, the lazy
(offset, gradient-flow) path, ensemble mean vs population W*, seeds, bad input."""

import numpy as np
import pytest

from gtv_symbolic import data, schedules
from gtv_symbolic.denoisers import LinearDenoiser
from gtv_symbolic.features import make_features
from gtv_symbolic.kernels import TwoLayerNet
from gtv_symbolic.training import (
    SpectralFilter,
    gradient_flow_filter,
    population_moments,
    population_weights,
    ridge_filter,
    ridge_fit,
    ridge_objective,
    sample_training_set,
    train_ensemble,
)

VP = schedules.VP()


@pytest.mark.parametrize("P", [40, 200])  # dual (P <= F) and primal (P > F)
def test_ridge_solution_zeroes_gradient(P, rng):
    fm = make_features("gaussian", 1, 8, 6, eps=1e-2)
    W, smp = train_ensemble(fm, data.three_points(), VP, P=P, n_models=2, eps=1e-2, rng=rng,
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
    s = sample_training_set(data.square(0.3), VP, P=20, eps=1e-2, rng=rng)
    phi = fm(s["x"], s["t"])
    Wp = ridge_fit(phi, s["x0"], s["weight"], 0.1, method="primal")
    Wd = ridge_fit(phi, s["x0"], s["weight"], 0.1, method="dual")
    np.testing.assert_allclose(Wp, Wd, rtol=1e-8, atol=1e-10 * np.abs(Wp).max())


def test_tensor_gram_path_matches_dense(rng):
    """train_ensemble's Hadamard-Gram dual path equals the dense ridge_fit on the same draws."""
    fm = make_features("gaussian", 2, 4, 3, eps=1e-2)
    W, smp = train_ensemble(fm, data.square(0.0), VP, P=30, n_models=3, eps=1e-2, rng=rng,
                            return_samples=True)
    Wd = ridge_fit(fm(smp["x"], smp["t"]), smp["target"], smp["weight"], 0.1, method="primal")
    np.testing.assert_allclose(W, Wd, rtol=1e-8, atol=1e-10 * np.abs(W).max())


def test_same_seed_same_bytes_and_independent_streams():
    fm = make_features("gaussian", 1, 6, 4, eps=1e-3)
    kw = dict(P=50, eps=1e-3, T=1.0)
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
    s = sample_training_set(mu, VP, P=200_000, eps=5e-2, rng=rng)
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
    W = train_ensemble(fm, mu, VP, P=P, n_models=N, eps=eps, rng=rng, target=target)
    Ws = population_weights(fm, mu, VP, eps=eps)
    x = np.linspace(-1.2, 1.2, 7)[:, None]
    for t in (0.05, 0.3, 0.8):
        pred = LinearDenoiser(fm, W)(np.broadcast_to(x, (N,) + x.shape), t)[..., 0]
        ref = LinearDenoiser(fm, Ws)(x, t)[:, 0]
        se = pred.std(0, ddof=1) / np.sqrt(N)
        assert np.all(np.abs(pred.mean(0) - ref) <= 5 * se), (t, pred.mean(0) - ref, se)


def test_true_target_removes_proxy_variance(rng):
    """J0 ablation (paper Sec. 5): regressing on E[x0|x,t] gives a less variable ensemble."""
    eps = 1e-2
    fm = make_features("gaussian", 1, 8, 6, eps=eps)
    kw = dict(P=256, n_models=60, eps=eps)
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
    with pytest.raises(ValueError, match=r"P must be in"):
        train_ensemble(fm, mu, VP, P=0, n_models=2, eps=1e-2, rng=rng)
    with pytest.raises(ValueError, match=r"n_models must be in"):
        train_ensemble(fm, mu, VP, P=10, n_models=0, eps=1e-2, rng=rng)
    with pytest.raises(ValueError, match=r"eps must lie in \(0, T\)"):
        train_ensemble(fm, mu, VP, P=10, n_models=1, eps=0.0, rng=rng)
    with pytest.raises(ValueError, match=r"eps must lie in \(0, T\)"):
        train_ensemble(fm, mu, VP, P=10, n_models=1, eps=1.0, rng=rng)
    with pytest.raises(ValueError, match="target"):
        train_ensemble(fm, mu, VP, P=10, n_models=1, eps=1e-2, rng=rng, target="x")
    with pytest.raises(ValueError, match="dimension"):
        train_ensemble(fm, data.square(0.0), VP, P=10, n_models=1, eps=1e-2, rng=rng)
    with pytest.raises(ValueError, match="ridge"):
        train_ensemble(fm, mu, VP, P=10, n_models=1, eps=1e-2, rng=rng, ridge=0.0)
    with pytest.raises(ValueError, match="MB per"):
        train_ensemble(fm, mu, VP, P=100_000, n_models=1, eps=1e-2, rng=rng)
    with pytest.raises(TypeError, match="filt must be a SpectralFilter"):
        train_ensemble(fm, mu, VP, P=10, n_models=1, eps=1e-2, rng=rng, filt="ridge")
    with pytest.raises(TypeError, match="features must be"):
        train_ensemble(3, mu, VP, P=10, n_models=1, eps=1e-2, rng=rng)
    with pytest.raises(TypeError, match="rng"):
        train_ensemble(fm, mu, VP, P=10, n_models=1, eps=1e-2, rng=0)
    with pytest.raises(ValueError, match=r"^targets must have shape \(\.\.\., P, D\)"):
        ridge_fit(np.ones((4, 3)), np.ones(4), np.ones(4))  # 1-D targets: a shape error
    with pytest.raises(ValueError, match="finite"):
        ridge_fit(np.full((4, 3), np.nan), np.ones((4, 1)), np.ones(4))


@pytest.mark.parametrize("P", [40, 300])  # dual (P <= F) and primal (P > F) fast paths
def test_ridge_fast_path_equals_spectral_path(P):
    """FeatureMap ridge (closed form) = the generic path (dense callable features, eigh of G)."""
    fm = make_features("gaussian", 1, 8, 6, eps=1e-2)
    kw = dict(P=P, n_models=3, eps=1e-2, rng=np.random.default_rng(5))
    W = train_ensemble(fm, data.three_points(), VP, **kw)
    kw["rng"] = np.random.default_rng(5)
    Wd = train_ensemble(lambda x, t: fm(x, t), data.three_points(), VP, **kw)  # ridge_fit path
    np.testing.assert_allclose(W, Wd, rtol=1e-9, atol=1e-11 * np.abs(W).max())
    # the eigendecomposition path with a ridge-like gradient flow at tau -> inf is least squares;
    # with the ridge filter's h on the same G it equals the closed form:
    smp = train_ensemble(fm, data.three_points(), VP, P=P, n_models=2, eps=1e-2,
                         rng=np.random.default_rng(6), return_samples=True)[1]
    for m in range(2):
        phi = fm(smp["x"][m], smp["t"][m])
        G = (phi * smp["weight"][m][:, None]).T @ phi / P
        g = (phi * smp["weight"][m][:, None]).T @ smp["target"][m] / P
        ev, U = np.linalg.eigh(G)
        W_eig = (U @ (ridge_filter(0.1).h(np.clip(ev, 0, None))[:, None] * (U.T @ g))).T
        W_cf = ridge_fit(phi, smp["target"][m], smp["weight"][m], 0.1)
        np.testing.assert_allclose(W_cf, W_eig, rtol=1e-9, atol=1e-11 * np.abs(W_cf).max())


def test_gradient_flow_with_offset_solves_the_flow(rng):
    """Gradient flow from W = 0 for time tau on (1/2P) sum lam |W J + f0 - y|^2: the spectral
    filter equals a fine explicit Euler integration of the flow (lazy network, Prop. 5.2)."""
    net = TwoLayerNet(6, eps=1e-2, rng=np.random.default_rng(1))
    tau = 3.0
    W, smp = train_ensemble(net.jacobian, data.three_points(), VP, P=50, n_models=1, eps=1e-2,
                            filt=gradient_flow_filter(tau), offset=net, rng=rng,
                            return_samples=True)
    x, t, w = smp["x"][0], smp["t"][0], smp["weight"][0]
    J = net.jacobian(x, t)
    y = smp["x0"][0] - net(x, t)  # the fit is to y - f0
    np.testing.assert_allclose(smp["target"][0], y)
    th = np.zeros((J.shape[1], 1))
    n = 200_000
    dt = tau / n
    G = (J * w[:, None]).T @ J / 50
    g = (J * w[:, None]).T @ y / 50
    for _ in range(n):
        th -= dt * (G @ th - g)
    np.testing.assert_allclose(W[0], th.T, rtol=1e-4, atol=1e-6 * np.abs(th).max())


def test_population_weights_any_filter():
    fm = make_features("fourier", 1, 5, 4, eps=1e-2)
    a = population_weights(fm, data.three_points(), VP, eps=1e-2, ridge=0.1)
    b = population_weights(fm, data.three_points(), VP, eps=1e-2,
                           filt=SpectralFilter("gradient_flow", np.inf))
    c = population_weights(fm, data.three_points(), VP, eps=1e-2, filt=ridge_filter(1e-8))
    assert not np.allclose(a, b)
    np.testing.assert_allclose(b, c, rtol=1e-4, atol=1e-6 * np.abs(b).max())
