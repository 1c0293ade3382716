"""V-kernels (gtv_symbolic.kernels) against trained ensembles, Monte Carlo and SymPy.

Statistical tolerances are k = 4.5 standard errors of the estimator (variance of a variance
from the ensemble's own fourth moment), plus the stated O(F/P) relative term of the
leading-order 1/P covariance where it applies.
"""

import numpy as np
import pytest
import sympy as sp

from gtv_symbolic import data, kernels, proxy, schedules
from gtv_symbolic import symbols as S
from gtv_symbolic.features import make_features
from gtv_symbolic.training import population_weights, train_ensemble

K_SE = 4.5
VP = schedules.VP()
MU = data.three_points()


def _var_and_se(samples):
    """Sample variance across axis 0 and its standard error sqrt((m4 - m2^2)/N)."""
    n = samples.shape[0]
    c = samples - samples.mean(0)
    m2 = (c**2).mean(0)
    m4 = (c**4).mean(0)
    return m2 * n / (n - 1), np.sqrt(np.maximum(m4 - m2**2, 0) / n)


@pytest.fixture(scope="module")
def small_setting():
    eps = 1e-2
    fm = make_features("gaussian", dim=1, n_x=4, n_t=4, eps=eps)
    nodes = kernels.training_nodes(MU, VP, eps)
    return eps, fm, nodes


POINTS_X = np.array([-1.0, -0.5, 0.0, 0.3, 0.5, 1.0])
POINTS_T = np.array([0.02, 0.1, 0.3, 0.7])


def _ensemble_values(W, fm, xs, ts):
    X, Tt = np.meshgrid(xs, ts, indexing="ij")
    phi = fm(X.reshape(-1, 1), Tt.reshape(-1))
    return np.einsum("ndf,pf->np", W, phi), X.reshape(-1, 1), Tt.reshape(-1)


def test_linear_covariance_matches_trained_ensemble(small_setting, rng):
    """Predicted Var[mu_hat(x,t)] vs a trained ensemble at F/P = 16/4000 (Prop. 5.1, reconstructed)."""
    eps, fm, nodes = small_setting
    P, N = 4000, 400
    K = kernels.linear_kernel(fm, MU, VP, P=P, eps=eps, nodes=nodes)
    # the trained ensemble comes from the independent batched trainer of training.py
    W = train_ensemble(fm, MU, VP, P=P, n_models=N, eps=eps, ridge=0.1, rng=rng)
    vals, X, Tt = _ensemble_values(W, fm, POINTS_X, POINTS_T)
    ve, se = _var_and_se(vals)
    vp = K.denoiser_cov(X, Tt)[:, 0, 0]
    tol = K_SE * se + (K.F_eff / P) * vp  # SE of the variance + stated O(F/P) term
    assert np.all(np.abs(ve - vp) <= tol), np.max(np.abs(ve - vp) / tol)
    # the ensemble mean agrees with W* phi within its standard error
    m_pred = K.denoiser_mean(X, Tt)[:, 0]
    m_se = np.sqrt(ve / N)
    assert np.all(np.abs(vals.mean(0) - m_pred) <= K_SE * m_se + 1e-3 * np.abs(m_pred))
    # the kernel is not trivially zero and the C term dominates near the midpoints
    assert np.all(vp > 0)


def test_population_mean_matches_linear_module(small_setting):
    """W* from the kernel quadrature equals training.population_weights (closed-form x-moments)."""
    eps, fm, nodes = small_setting
    K = kernels.linear_kernel(fm, MU, VP, P=100, eps=eps, nodes=nodes)
    Wp = population_weights(fm, MU, VP, eps=eps, ridge=0.1)
    np.testing.assert_allclose(K.W_star, Wp, rtol=1e-6, atol=1e-9 * np.abs(Wp).max())


def test_covariance_scales_as_one_over_P(small_setting, rng):
    eps, fm, nodes = small_setting
    K1 = kernels.linear_kernel(fm, MU, VP, P=1000, eps=eps, nodes=nodes)
    K4 = kernels.linear_kernel(fm, MU, VP, P=4000, eps=eps, nodes=nodes)
    np.testing.assert_allclose(K1.cov_W, 4 * K4.cov_W, rtol=1e-12, atol=0)
    np.testing.assert_allclose(K4.with_P(1000).cov_W, K1.cov_W, rtol=1e-12)
    # empirically: Var at P = 1000 is 4x Var at P = 4000
    r1, r2 = rng.spawn(2)
    W1 = train_ensemble(fm, MU, VP, P=1000, n_models=300, eps=eps, ridge=0.1, rng=r1)
    W4 = train_ensemble(fm, MU, VP, P=4000, n_models=300, eps=eps, ridge=0.1, rng=r2)
    v1, se1 = _var_and_se(_ensemble_values(W1, fm, POINTS_X, POINTS_T[:2])[0])
    v4, se4 = _var_and_se(_ensemble_values(W4, fm, POINTS_X, POINTS_T[:2])[0])
    ratio = v1 / v4
    se_ratio = ratio * np.sqrt((se1 / v1) ** 2 + (se4 / v4) ** 2)
    # O(F/P) correction at P = 1000 is 16/1000 relative
    assert np.all(np.abs(ratio - 4) <= K_SE * se_ratio + 4 * 16 / 1000 * 2), ratio
    # the trace identity: E[lam tr Var] = O(F_eff / P)
    tv1, tv4 = K1.training_variance(), K4.training_variance()
    assert tv1 == pytest.approx(4 * tv4, rel=1e-12)
    assert 0 < K1.F_eff <= fm.n_features


def test_J0_with_true_score_in_span_gives_zero_V(rng):
    """Causal check: regressing on the true score (J0) removes the proxy variance entirely."""
    eps = 1e-2

    def feats(x, t):  # the posterior mean m(x,t) is itself a feature: s is in the span
        m = proxy.posterior_mean(x, t, MU, VP)[:, 0]
        return np.stack([m, np.ones_like(m), x[:, 0]], axis=1)

    filt = kernels.ridge_filter(0.0)
    K0 = kernels.linear_kernel(feats, MU, VP, P=500, eps=eps, target="true", filt=filt)
    K1 = kernels.linear_kernel(feats, MU, VP, P=500, eps=eps, target="proxy", filt=filt)
    np.testing.assert_allclose(K0.W_star, [[1.0, 0.0, 0.0]], atol=1e-8)
    assert np.max(np.abs(K0.cov_W)) < 1e-12 * np.max(np.abs(K1.cov_W)) + 1e-20
    assert np.max(np.abs(K1.cov_W)) > 1e-6
    r0, r1 = rng.spawn(2)
    W0 = train_ensemble(feats, MU, VP, P=500, eps=eps, n_models=20, filt=filt,
        target="true", rng=r0)
    W1 = train_ensemble(feats, MU, VP, P=500, eps=eps, n_models=20, filt=filt,
        target="proxy", rng=r1)
    assert np.max(np.abs(W0 - [[1.0, 0.0, 0.0]])) < 1e-8
    assert np.max(np.std(W1, axis=0)) > 1e-3


def test_single_training_point_gives_zero_V(rng):
    """M = 1: C = 0, so the naive V and the linear-model V vanish (paper Sec. 2)."""
    mu1 = np.array([[0.3]])
    eps = 1e-2
    x = np.linspace(-1, 1, 7)[:, None]
    assert np.all(kernels.naive_V(x, 0.1, mu1, VP, kappa=2.0) == 0)

    def feats(x, t):
        return np.stack([np.ones(x.shape[0]), x[:, 0]], axis=1)

    filt = kernels.ridge_filter(0.0)
    K = kernels.linear_kernel(feats, mu1, VP, P=200, eps=eps, filt=filt)
    np.testing.assert_allclose(K.W_star, [[0.3, 0.0]], atol=1e-10)
    assert np.max(np.abs(K.cov_W)) < 1e-18
    W = train_ensemble(feats, mu1, VP, P=200, eps=eps, n_models=10, filt=filt, rng=rng)
    assert np.max(np.abs(W - [[0.3, 0.0]])) < 1e-9


def test_naive_V_is_kappa_D2_C():
    x = np.linspace(-1.2, 1.2, 9)[:, None]
    t = 0.05
    V = kernels.naive_V(x, t, MU, VP, kappa=0.7)
    C = proxy.covariance(x, t, MU, VP)
    np.testing.assert_allclose(V, 0.7 * float(VP.D(t)) ** 2 * C, rtol=1e-14)
    np.testing.assert_allclose(kernels.naive_step_covariance(x, t, 1e-3, MU, VP, 0.7), 1e-3 * V)
    # symbolic form: substituting numbers reproduces the numeric value at one point
    e = kernels.sym_naive_step_covariance()
    a, s2, d = float(VP.alpha(t)), float(VP.sigma2(t)), float(VP.D(t))
    spost = proxy.posterior_covariance(x[3:4], t, MU, VP)[0, 0, 0]
    val = float(e.subs({S.kappa: 0.7, S.dt: 1e-3, S.Dcoef: d, S.alpha: a, S.sigma2: s2,
                        S.post_var: spost}))
    assert val == pytest.approx(1e-3 * V[3, 0, 0], rel=1e-12)
    assert sp.DiracDelta(S.t - S.t_prime) in kernels.sym_naive_V().atoms(sp.DiracDelta)


def test_ridge_filter_reproduces_closed_form(rng):
    """theta = h(G) g with h = 1/(mu + rho) is A (Sigma + rho)^-1 (paper Sec. 5)."""
    G = rng.standard_normal((5, 5))
    G = G @ G.T
    g = rng.standard_normal((5, 2))
    f = kernels.ridge_filter(0.1)
    ev, U = np.linalg.eigh(G)
    theta = U @ (f.h(ev)[:, None] * (U.T @ g))
    np.testing.assert_allclose(theta, np.linalg.solve(G + 0.1 * np.eye(5), g), rtol=1e-10)
    H = f.divided_differences(ev)
    np.testing.assert_allclose(np.diag(H), f.dh(ev), rtol=1e-12)
    gf = kernels.gradient_flow_filter(2.0)
    Hg = gf.divided_differences(ev)
    i, j = 0, 3
    assert Hg[i, j] == pytest.approx((gf.h(ev[i]) - gf.h(ev[j])) / (ev[i] - ev[j]), rel=1e-10)
    # finite-difference check of the Frechet derivative (Daleckii-Krein)
    E = rng.standard_normal((5, 5))
    E = E + E.T
    d = 1e-6

    def hG(M):
        e, V = np.linalg.eigh(M)
        return V @ np.diag(gf.h(e)) @ V.T

    fd = (hG(G + d * E) - hG(G - d * E)) / (2 * d)
    dk = U @ (Hg * (U.T @ E @ U)) @ U.T
    np.testing.assert_allclose(dk, fd, rtol=1e-5, atol=1e-7)


def test_symbolic_filter_limits():
    lim = kernels.sym_filter_limits()
    assert lim["tau->0 of h/tau"] == 1
    assert lim["tau->oo of h*mu"] == 1
    assert sp.simplify(lim["rho->0 of ridge"] - 1 / S.mu_k) == 0
    assert lim["ridge divided difference + h_k h_l"] == 0
    assert lim["mu->0 of h"] == S.tau
    # one-feature Cov[W] = K / (P (Sigma + rho)^2)
    c = kernels.sym_linear_cov_W(1)
    sig, k = sp.Symbol("Sigma_11", real=True), sp.Symbol("K_11", real=True)
    assert sp.simplify(c[0, 0] - k / (S.P * (sig + S.rho) ** 2)) == 0
    forms = kernels.latex_forms()
    assert all(isinstance(v, str) and v for v in forms.values())
    assert r"\kappa" in forms["naive_V (Prop. 4.1)"]


def test_ntk_jacobian_matches_finite_differences(rng):
    net = kernels.TwoLayerNet(6, eps=1e-2, rng=rng)
    x = np.array([-0.7, 0.1, 0.9])
    t = np.array([0.02, 0.3, 0.8])
    J = net.jacobian(x, t)
    theta0 = np.concatenate([net.a, net.wx, net.wt, net.b])
    d = 1e-6

    def f(th):
        H = net.width
        clone = kernels.TwoLayerNet(H, eps=1e-2, rng=np.random.default_rng(0))
        clone.a, clone.wx, clone.wt, clone.b = th[:H], th[H:2 * H], th[2 * H:3 * H], th[3 * H:]
        return clone(x, t)[:, 0]

    fd = np.stack([(f(theta0 + d * e) - f(theta0 - d * e)) / (2 * d)
                   for e in np.eye(theta0.size)], axis=1)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-8)
    K = net.ntk(x, t, x, t)
    np.testing.assert_allclose(K, J @ J.T)


def test_ntk_tau_limits(rng):
    eps = 1e-2
    net = kernels.TwoLayerNet(4, eps=eps, rng=rng)
    nodes = kernels.training_nodes(MU, VP, eps)
    small = kernels.ntk_small_tau_cov(net, MU, VP, P=1000, eps=eps, nodes=nodes)
    tau = 1e-6
    k = kernels.ntk_kernel(net, MU, VP, P=1000, tau=tau, eps=eps, nodes=nodes)
    np.testing.assert_allclose(k.cov_W[0, :, 0, :] / tau**2, small, rtol=1e-4,
                               atol=1e-4 * np.abs(small).max())
    kinf = kernels.ntk_kernel(net, MU, VP, P=1000, tau=np.inf, eps=eps, nodes=nodes)
    big = kernels.ntk_kernel(net, MU, VP, P=1000, tau=1e6 / kinf.eig.min(), eps=eps, nodes=nodes)
    np.testing.assert_allclose(big.cov_W, kinf.cov_W, rtol=1e-5, atol=1e-8 * np.abs(kinf.cov_W).max())
    np.testing.assert_allclose(big.W_star, kinf.W_star, rtol=1e-5, atol=1e-10)


def test_ntk_covariance_matches_gradient_flow_ensemble(rng):
    """Lazy network trained by gradient flow for tau: predicted vs empirical Var (p/P = 16/4000)."""
    eps = 1e-2
    r_net, r_train = rng.spawn(2)
    net = kernels.TwoLayerNet(4, eps=eps, rng=r_net)
    nodes = kernels.training_nodes(MU, VP, eps)
    P, N = 4000, 300
    for tau in (0.05, 5.0):
        k = kernels.ntk_kernel(net, MU, VP, P=P, tau=tau, eps=eps, nodes=nodes)
        W = train_ensemble(net.jacobian, MU, VP, P=P, eps=eps, n_models=N,
                                   filt=kernels.gradient_flow_filter(tau), offset=net,
                                   rng=r_train.spawn(1)[0])
        X, Tt = np.meshgrid(POINTS_X, POINTS_T, indexing="ij")
        J = net.jacobian(X.ravel(), Tt.ravel())
        vals = np.einsum("ndf,pf->np", W, J)
        ve, se = _var_and_se(vals)
        vp = k.denoiser_cov(X.reshape(-1, 1), Tt.ravel())[:, 0, 0]
        tol = K_SE * se + (net.n_params / P) * vp
        assert np.all(np.abs(ve - vp) <= tol), (tau, np.max(np.abs(ve - vp) / tol))


@pytest.mark.parametrize("kw, match", [
    (dict(P=0), "P must be"),
    (dict(eps=0.0), "eps must lie"),
    (dict(eps=1.5), "eps must lie"),
    (dict(target="J2"), "target must be"),
    (dict(ridge=-1.0), "ridge must be"),
])
def test_bad_input_raises(kw, match, small_setting):
    _, fm, _ = small_setting
    args = dict(P=100, eps=1e-2)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        kernels.linear_kernel(fm, MU, VP, **args)


def test_bad_kappa_and_tau():
    with pytest.raises(ValueError, match="kappa must be"):
        kernels.naive_V(np.zeros((1, 1)), 0.1, MU, VP, kappa=-1)
    with pytest.raises(ValueError, match="tau must be"):
        kernels.gradient_flow_filter(0.0)
    with pytest.raises(ValueError, match="width must be"):
        kernels.TwoLayerNet(0, eps=1e-2, rng=np.random.default_rng(0))


def test_gaussian_weights_moments_and_seed(rng):
    mean = np.array([[1.0, -2.0, 0.5]])
    A = rng.standard_normal((3, 3))
    cov = (A @ A.T).reshape(1, 3, 1, 3)
    a = kernels.gaussian_weights(mean, cov, 20000, np.random.default_rng(5))
    b = kernels.gaussian_weights(mean, cov, 20000, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    emp = np.cov(a[:, 0, :], rowvar=False)
    c = cov[0, :, 0, :]
    se = np.sqrt((c**2 + np.outer(np.diag(c), np.diag(c))) / 20000)
    assert np.all(np.abs(emp - c) <= K_SE * se)
    assert np.all(np.abs(a.mean(0) - mean) <= K_SE * np.sqrt(np.diag(c) / 20000))
