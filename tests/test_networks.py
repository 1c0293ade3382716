"""MLP ensembles in JAX (issue 13): NTK = Jacobian outer product, lazy limit, shapes, bad input."""

import dataclasses

import numpy as np
import pytest

pytest.importorskip("jax")

from gtv_symbolic import data, schedules  # noqa: E402
from gtv_symbolic import networks as nw  # noqa: E402


def _net(width=8, **kw):
    return nw.MLP(width=width, eps=1e-2, **kw)


def test_empirical_ntk_is_jacobian_outer_product():
    net = _net(8)
    rng = np.random.default_rng(0)
    th = nw.init_params(net, rng) + 0.1 * rng.standard_normal(net.n_params)  # break symmetry
    x, t = rng.normal(size=(5, 1)), rng.uniform(0.01, 1, 5)
    # Jacobian by central differences, independent of JAX's autodiff
    h = 1e-6
    J = np.stack([(nw.apply(net, th + h * e, x, t) - nw.apply(net, th - h * e, x, t))[:, 0] / (2 * h)
                  for e in np.eye(net.n_params)], axis=1)
    K = nw.empirical_ntk(net, th, x, t)[:, 0, :, 0]
    np.testing.assert_allclose(K, J @ J.T, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(nw.jacobian(net, th, x, t)[:, 0], J, rtol=1e-6, atol=1e-8)
    B = np.linalg.qr(rng.normal(size=(net.n_params, 4)))[0]
    np.testing.assert_allclose(nw.jacobian_times(net, th, x, t, B), J @ B, rtol=1e-6, atol=1e-8)


def test_init_is_antisymmetric_and_linearisation_exact_to_first_order():
    net = _net(16)
    th0 = nw.init_params(net, np.random.default_rng(1))
    x, t = np.linspace(-1, 1, 4)[:, None], np.full(4, 0.3)
    assert np.abs(nw.apply(net, th0, x, t)).max() < 1e-14
    d = np.random.default_rng(2).standard_normal(net.n_params)
    for s in (1e-2, 1e-3):  # f(th0 + s d) - f_lin = O(s^2)
        err = np.abs(nw.apply(net, th0 + s * d, x, t) - nw.apply_linearised(net, th0, s * d, x, t))
        assert err.max() < 50 * s**2


def test_seeds_are_deterministic():
    net = _net(8)
    a = nw.init_params(net, np.random.default_rng(3))
    b = nw.init_params(net, np.random.default_rng(3))
    assert np.array_equal(a, b)


def test_wide_ntk_network_matches_lazy_prediction():
    """Brief training (tau mu_max < 0.2) of a wide NTK network: ensemble mean and variance of
    mu at probe points agree with the lazy (NTK at init) prediction within k = 4.5 Monte Carlo
    standard errors. (Longer training at this P leaves the network lazy -- it matches the
    production linear trainer on its tangent features -- but the leading-order 1/P law of the
    filtered fit then misses the O(1/P) bias of h(G_hat) g_hat; see the nn-vs-theory table.)"""
    net = nw.MLP(width=1024, eps=1e-2)
    sched, mu = schedules.VP(), data.three_points()
    rng = np.random.default_rng(11)
    P, N = 64, 48
    tr = nw.train_networks(net, mu, sched, P=P, n_models=N, steps=10, lr=1e-3, rng=rng)
    assert tr["tau"] * tr["mu_max"] < 0.2
    lp = nw.lazy_kernel(net, tr["theta0"], mu, sched, P=P, tau=tr["tau"], rng=rng, n_nodes=8192,
                        n_basis=1024)
    assert lp.basis_residual < 0.05
    x = np.linspace(-1.2, 1.2, 7)[:, None]
    t = np.full(7, 0.2)
    f = np.stack([nw.apply(net, th, x, t)[:, 0] for th in tr["theta"]])  # (N, 7)
    mean_pred = lp.kernel.denoiser_mean(x, t)[:, 0]
    var_pred = lp.kernel.denoiser_cov(x, t)[:, 0, 0]
    se = f.std(0, ddof=1) / np.sqrt(N)
    assert np.all(np.abs(f.mean(0) - mean_pred) <= 4.5 * se)
    var = f.var(0, ddof=1)
    assert np.all(np.abs(var / var_pred - 1) <= 4.5 * np.sqrt(2 / (N - 1)))
    kc = nw.kernel_change(net, tr["theta0"], tr["theta"][:4], x, t)
    assert np.all(kc < 0.05)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="width"):
        nw.MLP(width=7, eps=1e-2)
    with pytest.raises(ValueError, match="parameterisation"):
        nw.MLP(width=8, eps=1e-2, parameterisation="mup")
    with pytest.raises(ValueError, match="eps"):
        nw.MLP(width=8, eps=2.0)
    with pytest.raises(ValueError, match="lr"):
        nw.train_networks(_net(8), data.three_points(), schedules.VP(), P=16, n_models=2,
                          steps=2, lr=1e3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="steps"):
        nw.train_networks(_net(8), data.three_points(), schedules.VP(), P=16, n_models=2,
                          steps=0, lr=0.1, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        nw.init_params(_net(8), 3)


def test_nn_vs_theory_save_data_keys(tmp_path):
    from gtv_symbolic import plots
    from gtv_symbolic._runtime.cache import Cache
    from gtv_symbolic.experiments import nn_vs_theory as m

    s = m.Settings(width=(8, 16), n_models=4, n_fields=4, steps=5, lr=0.1, n_boot=10,
                   eps=(1e-2, 1e-3))
    cache = Cache(tmp_path / "cache")  # the one-eps run below reuses the eps = 1e-3 cells
    r = m.run(s, cache=cache, workers=1)
    plots.save_data("nn-vs-theory", r, tmp_path / "nn.npz")
    # PATH holds the first eps; one file (+ sidecar) per eps beside it
    for name, e in (("nn", 1e-2), ("nn_eps1e-02", 1e-2), ("nn_eps1e-03", 1e-3)):
        z = np.load(tmp_path / f"{name}.npz")
        assert float(z["eps"]) == e and z["eps_all"].tolist() == [1e-2, 1e-3]
        assert z["parameterisation"].tolist() == ["ntk", "standard"]
        assert z["width"].tolist() == [8, 16]
        for k in ("ensemble", "lazy_prediction"):
            assert z[k].shape == (2, 2, z["x"].size)
        for k in ("tv", "tv_se", "kernel_change"):
            assert z[k].shape == (2, 2) and np.all(np.isfinite(z[k]))
        assert (tmp_path / f"{name}.json").exists()
    a, b = np.load(tmp_path / "nn_eps1e-03.npz"), np.load(tmp_path / "nn.npz")
    assert not np.allclose(a["ensemble"], b["ensemble"])
    one = m.run(dataclasses.replace(s, eps=(1e-3,)), cache=cache, workers=1)
    paths = plots.save_data("nn-vs-theory", one, tmp_path / "one.npz")
    assert [p.name for p in paths] == ["one.npz", "one.json"]  # one eps: PATH alone
    np.testing.assert_array_equal(np.load(paths[0])["ensemble"], a["ensemble"])
    with pytest.raises(ValueError, match="width"):
        m.run(m.Settings(width=(7,)), cache=False)


def test_ensemble_denoiser_closed_form_matches_autodiff():
    """The D = 1 closed form of the sampler (value and d mu/dx, plain and linearised) equals
    JAX's forward-mode derivative of the network."""
    from gtv_symbolic.networks import sampler as sm
    from gtv_symbolic.networks._jax import jax, jnp

    net = _net(16)
    rng = np.random.default_rng(0)
    th0 = nw.init_params(net, rng)
    th = th0 + 0.3 * rng.standard_normal((3, net.n_params))
    x = rng.normal(size=(3, 8))
    with jax.enable_x64(True):
        for lin in (False, True):
            args = (jnp.asarray(th), jnp.asarray(th0))
            v, d = sm._value_jac_1d(net, lin, *args, jnp.asarray(x), jnp.asarray(0.3))
            v2, d2 = sm._value_jac(net, lin, *args, jnp.asarray(x[..., None]), jnp.asarray(0.3))
            np.testing.assert_allclose(v, np.asarray(v2)[..., 0], rtol=1e-12, atol=1e-13)
            np.testing.assert_allclose(d, np.asarray(d2)[..., 0, 0], rtol=1e-12, atol=1e-13)


def test_gram_top_eigenvalue_closed_form_matches_jacobian():
    net = _net(16)
    rng = np.random.default_rng(4)
    th = nw.init_params(net, rng) + 0.2 * rng.standard_normal(net.n_params)
    x, t, lam = rng.normal(size=(9, 1)), rng.uniform(0.01, 1, 9), rng.uniform(0.5, 50, 9)
    J = nw.jacobian(net, th, x, t)[:, 0]
    G = (J * (lam / 9)[:, None]).T @ J
    np.testing.assert_allclose(nw.gram_top_eigenvalue(net, th, x, t, lam),
                               np.linalg.eigvalsh(G)[-1], rtol=1e-10)
