"""The one trainer (training.py) against the two it replaces, before they are deleted."""

import numpy as np
import pytest

from gtv_symbolic import data, kernels, linear, schedules, training
from gtv_symbolic.features import make_features

VP = schedules.VP()


@pytest.mark.parametrize("P", [40, 300])  # dual (P <= F) and primal (P > F)
def test_ridge_matches_old_linear_trainer_bit_for_bit(P):
    fm = make_features("gaussian", 1, 8, 6, eps=1e-2)
    for target in ("proxy", "true"):
        kw = dict(n_models=4, eps=1e-2, target=target)
        old = linear.train_ensemble(fm, data.three_points(), VP, n_train=P,
                                    rng=np.random.default_rng(5), **kw)
        new = training.train_ensemble(fm, data.three_points(), VP, P=P,
                                      rng=np.random.default_rng(5), **kw)
        assert old.tobytes() == new.tobytes()


def test_sampler_matches_old_linear_sampler():
    old = linear.draw_dsm_samples(data.square(0.2), VP, n_train=50, eps=1e-3,
                                  rng=np.random.default_rng(3))
    new = training.sample_training_set(data.square(0.2), VP, P=50, eps=1e-3,
                                       rng=np.random.default_rng(3))
    for k in old:
        assert old[k].tobytes() == new[k].tobytes()


def _old_filtered_on(draws, feats, filt, target="proxy", offset=None):
    """kernels.train_filtered's fit applied to given draws (its own draw order differs)."""
    old_draws = [(d["x"], d["t"], d["x0"]) for d in draws]
    return kernels._train_batches(old_draws, feats, data.three_points(), VP, draws[0]["t"].size,
                                  filt, target, offset)


@pytest.mark.parametrize("filt", [kernels.ridge_filter(0.1), kernels.gradient_flow_filter(30.0)])
def test_matches_old_filtered_trainer(filt):
    """Same draws -> same weights as kernels.train_filtered (ridge: closed form vs eigh)."""
    fm = make_features("gaussian", 1, 6, 4, eps=1e-2)
    P, N = 80, 5
    nf = training.SpectralFilter(filt.name, filt.param)
    W, smp = training.train_ensemble(fm, data.three_points(), VP, P=P, n_models=N, eps=1e-2,
                                     filt=nf, rng=np.random.default_rng(9), return_samples=True)
    draws = [{k: smp[k][m] for k in ("x", "t", "x0")} for m in range(N)]
    old = _old_filtered_on(draws, fm, filt)
    np.testing.assert_allclose(W, old, rtol=1e-9, atol=1e-11 * np.abs(old).max())


def test_offset_callable_features_match_old_lazy_trainer():
    net = kernels.TwoLayerNet(8, eps=1e-2, rng=np.random.default_rng(1))
    filt = kernels.gradient_flow_filter(5.0)
    nf = training.SpectralFilter(filt.name, filt.param)
    W, smp = training.train_ensemble(net.jacobian, data.three_points(), VP, P=60, n_models=3,
                                     eps=1e-2, filt=nf, offset=net,
                                     rng=np.random.default_rng(2), return_samples=True)
    draws = [{k: smp[k][m] for k in ("x", "t", "x0")} for m in range(3)]
    old = _old_filtered_on(draws, net.jacobian, filt, offset=net)
    np.testing.assert_allclose(W, old, rtol=1e-9, atol=1e-11 * np.abs(old).max())


def test_population_weights_match_old():
    fm = make_features("fourier", 1, 5, 4, eps=1e-2)
    a = linear.population_weights(fm, data.three_points(), VP, eps=1e-2)
    b = training.population_weights(fm, data.three_points(), VP, eps=1e-2)
    assert a.tobytes() == b.tobytes()
