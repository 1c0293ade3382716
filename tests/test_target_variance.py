"""Target-variance sweep (issue 13): M-draw targets, the trainer's data, save-data keys."""

import numpy as np
import pytest

from gtv_symbolic import data, proxy, schedules, training
from gtv_symbolic.experiments import target_variance as tv


def test_m_draws_reduce_target_variance_by_1_over_m():
    sched, mu = schedules.VP(), data.three_points()
    rng = np.random.default_rng(5)
    n = 20000
    x, t = np.full((n, 1), 0.2), np.full(n, 0.4)
    w = proxy.posterior_weights(x[:1], t[:1], mu, sched)[0]
    sig = proxy.posterior_covariance(x[:1], t[:1], mu, sched)[0, 0, 0]
    m = proxy.posterior_mean(x[:1], t[:1], mu, sched)[0, 0]
    x0 = mu[rng.choice(3, size=n, p=w)]
    for M in (1, 3, 10):
        y = tv.averaged_targets(x0, x, t, mu, sched, M, rng)[:, 0]
        v = y.var(ddof=1)
        se = np.sqrt((np.mean((y - y.mean()) ** 4) - v**2) / n)
        assert abs(v - sig / M) <= 4.5 * se
        assert abs(y.mean() - m) <= 4.5 * y.std() / np.sqrt(n)
    assert np.array_equal(tv.averaged_targets(x0, x, t, mu, sched, 1, rng), x0)
    np.testing.assert_allclose(tv.averaged_targets(x0, x, t, mu, sched, None, rng),
                               proxy.posterior_mean(x, t, mu, sched))
    with pytest.raises(ValueError, match="n_draws"):
        tv.averaged_targets(x0, x, t, mu, sched, 0, rng)


def test_m1_panel_is_the_production_trainer():
    """Same triples as training.train_ensemble (one DSM sampler): M = 1 gives its weights."""
    s = tv.Settings(P=64, n_x=4, n_t=4, n_models=5)
    W = tv.train_panel(s, 3, 1)
    fm = tv.fig2.features_for(tv._fig2_settings(s), s.eps)
    train_rng, _ = np.random.default_rng(tv.seed_sequence(3, 16)).spawn(2)
    W0 = training.train_ensemble(fm, np.asarray(s.data, float), schedules.VP(), P=64, n_models=5,
                                 eps=s.eps, ridge=s.ridge, rng=train_rng)
    np.testing.assert_allclose(W, W0, rtol=1e-8, atol=1e-10)


def test_save_data_keys(tmp_path):
    from gtv_symbolic import plots

    s = tv.Settings(n_draws=(1, 4), P=64, n_x=4, n_t=4, n_models=6, n_fields=6, n_boot=10,
                    nn_width=8, nn_steps=5)
    r = tv.run(s, cache=False, workers=1)
    z = np.load(plots.save_data("target-variance", r, tmp_path / "tv.npz")[0])
    assert z["M"].tolist() == [1.0, 4.0, np.inf]
    assert z["ensemble"].shape == (3, z["x"].size)
    assert z["mode_mass_ensemble"].shape == (3, 3)
    assert np.all(np.isfinite(z["gap_mass_ensemble_se"]))
    # the C-term shrinks as 1/M in the predictions (linear models and the lazy networks)
    for q in (z["functional_variance_prediction"], z["nn_functional_variance_lazy"][0]):
        assert q[0] > q[1] > q[2] > 0
    # fields were topped up to the 1/3 Monte Carlo error rule (or hit the cap)
    assert np.all((z["field_mc_ratio"] <= 1 / 3) | (z["n_fields_used"] >= 50 * 6))
    assert np.all(z["n_fields_used"] >= 6)
    assert z["network"].tolist() == ["ntk"]
    assert z["nn_gap_mass_ensemble"].shape == (1, 3)
    assert z["nn_mode_mass_lazy"].shape == (1, 3, 3)
    assert z["nn_ensemble"].shape == (1, 3, z["x"].size)
    # paired changes against the same models at M = inf vanish there exactly
    for k in ("gap_mass_vs_exact", "nn_gap_mass_vs_exact"):
        v = z[k].reshape(-1, 3)
        assert np.all(v[:, -1] == 0) and np.all(np.isfinite(v))
    assert np.all(z["nn_gap_mass_vs_exact_se"][:, :-1] > 0)
    with pytest.raises(ValueError, match="n_draws"):
        tv.run(tv.Settings(n_draws=(0,)), cache=False)
