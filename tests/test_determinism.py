"""Issue 11 item 1: Gaussian draws continuous in the covariance; same seed -> same bytes
whatever the BLAS thread count."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from gtv_symbolic import data, kernels, schedules, typical
from gtv_symbolic.denoisers import LinearDenoiser
from gtv_symbolic.features import make_features
from gtv_symbolic.grids import TimeGrid
from gtv_symbolic.solvers import pushforward_1d
from gtv_symbolic.training import population_weights, train_ensemble

VP = schedules.VP()
EPS = 1e-2


@pytest.fixture(scope="module")
def kernel_1d():
    fm = make_features("gaussian", 1, 8, 6, EPS)
    return kernels.linear_kernel(fm, data.three_points(), VP, P=256, eps=EPS)


def _perturbed(cov, rel, seed):
    """``cov * (1 + rel E)`` elementwise, ``E`` symmetric standard normal (a CPU-to-CPU change)."""
    E = np.random.default_rng(seed).standard_normal(cov.shape)
    E = 0.5 * (E + E.T)
    return cov * (1 + rel * E)


def test_draws_continuous_in_covariance(kernel_1d):
    """A 1e-12 relative perturbation of Cov_W (condition number ~1e14) moves the draws by
    O(1e-12) relative to their size; the old eigenvector-basis factor moved them ~1e-7."""
    d, f = kernel_1d.W_star.shape
    C = kernel_1d.cov_W.reshape(d * f, d * f)
    C = 0.5 * (C + C.T)
    ev = np.linalg.eigvalsh(C)
    assert ev.max() / max(ev.min(), 1e-300) > 1e10  # the ill-conditioned case that matters
    m = kernel_1d.W_star.reshape(-1)
    a = kernels.gaussian_draws(m, C, 500, np.random.default_rng(3))
    scale = np.abs(a - m).max()
    for seed in range(3):
        b = kernels.gaussian_draws(m, _perturbed(C, 1e-12, seed), 500, np.random.default_rng(3))
        assert np.abs(a - b).max() <= 1e-10 * scale
    # for contrast: the eigenvector-basis factor is not continuous
    def eig_draw(c):
        w, U = np.linalg.eigh(c)
        return m + np.random.default_rng(3).standard_normal((500, m.size)) @ (
            U * np.sqrt(np.clip(w, 0, None))).T
    assert np.abs(eig_draw(C) - eig_draw(_perturbed(C, 1e-12, 0))).max() > 1e-9 * scale


def test_draws_continuous_well_conditioned():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 40))
    C = A @ A.T + 40 * np.eye(40)
    a = kernels.gaussian_draws(np.zeros(40), C, 200, np.random.default_rng(1))
    b = kernels.gaussian_draws(np.zeros(40), _perturbed(C, 1e-12, 1), 200,
                               np.random.default_rng(1))
    assert np.abs(a - b).max() <= 1e-11 * np.abs(a).max()


def test_moment_matched_draws_are_linear_in_the_ensemble():
    W = np.random.default_rng(0).standard_normal((30, 1, 50))  # rank-deficient covariance
    a = typical.moment_matched_weights(W, 20, np.random.default_rng(2))
    b = typical.moment_matched_weights(W * (1 + 1e-12), 20, np.random.default_rng(2))
    assert np.abs(a - b).max() <= 1e-11 * np.abs(a).max()


def test_gaussian_draws_bad_input():
    with pytest.raises(ValueError, match="positive semidefinite"):
        kernels.gaussian_draws(np.zeros(2), np.array([[1.0, 0.0], [0.0, -1.0]]), 3,
                               np.random.default_rng(0))
    with pytest.raises(ValueError, match="cov must have shape"):
        kernels.gaussian_draws(np.zeros(2), np.eye(3), 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="finite"):
        kernels.gaussian_draws(np.zeros(2), np.full((2, 2), np.nan), 3, np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        kernels.gaussian_draws(np.zeros(2), np.eye(2), 3, 0)
    z = kernels.gaussian_draws(np.ones(2), np.zeros((2, 2)), 3, np.random.default_rng(0))
    np.testing.assert_array_equal(z, np.ones((3, 2)))


def _pipeline():
    """Train (dual and primal), population W*, the V-kernel, Gaussian fields, transport."""
    fm = make_features("gaussian", 1, 6, 5, EPS)
    mu = data.three_points()
    W = train_ensemble(fm, mu, VP, P=20, n_models=4, eps=EPS, rng=np.random.default_rng(1))
    W2 = train_ensemble(fm, mu, VP, P=200, n_models=2, eps=EPS, rng=np.random.default_rng(2))
    Ws = population_weights(fm, mu, VP, eps=EPS)
    K = kernels.linear_kernel(fm, mu, VP, P=64, eps=EPS)
    Wg = K.sample_weights(4, np.random.default_rng(3))
    m = pushforward_1d(LinearDenoiser(fm, Wg), TimeGrid.linear(VP, EPS), np.linspace(-1.5, 1.5, 31),
                       n_nodes=64)
    return [W, W2, Ws, K.cov_W, Wg, m]


def test_same_seed_same_bytes_across_blas_thread_counts():
    with threadpool_limits(limits=1, user_api="blas"):
        one = _pipeline()
    with threadpool_limits(limits=2, user_api="blas"):
        two = _pipeline()
    for a, b in zip(one, two, strict=True):
        assert a.tobytes() == b.tobytes()
