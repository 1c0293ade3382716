"""Compiled 2-D Euler sampler (gtv_symbolic.solvers.euler2d): its exp/sin/cos kernels against
high-precision references, its bases against the feature bases, each Euler step and whole runs against the
NumPy reference sampler, binning against np.histogram2d, determinism and bad input."""

import mpmath
import numpy as np
import pytest

from gtv_symbolic import data, schedules
from gtv_symbolic.denoisers import LinearDenoiser
from gtv_symbolic.features import GaussianBasis, make_features
from gtv_symbolic.grids import TimeGrid
from gtv_symbolic.metrics import histogram_masses
from gtv_symbolic.solvers import euler2d, initial_samples, integrate_pf_ode, sample_pf_ode
from gtv_symbolic.training import train_ensemble

VP = schedules.VP()
EPS = 1e-2
ULP = np.finfo(float).eps
K = euler2d.compiled_kernels()
GRID = TimeGrid.linear(VP, EPS, 1.0, 30)


def _sub(g, k):
    """Step k of the grid on its own."""
    return TimeGrid.from_times(VP, g.ts[k:k + 2])


def _model(family, theta=0.0, n_models=3, seed=0, n_x=10, n_t=10):
    fm = make_features(family, 2, n_x, n_t, EPS, T=1.0, x_range=(-1.5, 1.5))
    W = train_ensemble(fm, data.square(theta), VP, P=500, n_models=n_models, eps=EPS,
                       T=1.0, ridge=0.1, rng=np.random.default_rng(seed))
    return LinearDenoiser(fm, W)


@pytest.fixture(scope="module")
def gauss():
    return _model("gaussian")


@pytest.fixture(scope="module")
def fourier():
    return _model("fourier", theta=np.pi / 8, seed=1)


def _gauss_bound(b, z):
    """Rounding bound for the kernel's Gaussian bumps: exp(x) of a rounded x carries relative
    error ~|x| eps, and the recurrence from the middle centre i0 multiplies exp(-a v^2) by
    |i - i0| factors exp(+-2 a delta v) exp(-a delta^2 (2m+1)); the bound is 8 eps times the sum
    of the magnitudes of every exponent involved (+20 for the products' own roundings)."""
    c = np.asarray(b.centres)
    a, delta, i0 = 1 / (2 * b.std**2), c[1] - c[0], b.n // 2
    v = z[:, None] - c[i0]
    k = np.abs(np.arange(b.n) - i0)[None, :]
    mags = (a * v**2 + k * np.abs(2 * a * delta * v) + a * delta**2 * k**2
            + a * (z[:, None] - c) ** 2 + 20)
    return 8 * ULP * mags


# -- elementary functions -------------------------------------------------------------------
def test_exp_kernel_within_two_ulp_of_correctly_rounded():
    mpmath.mp.dps = 40
    x = np.concatenate([np.random.default_rng(0).uniform(-708, 708, 2000),
                        np.random.default_rng(1).uniform(-1, 1, 2000), [0.0, -708.0, 708.0]])
    out, t = np.empty_like(x), np.empty_like(x)
    K.exp_block(x, out, t, x.size)
    ref = np.array([float(mpmath.exp(mpmath.mpf(float(v)))) for v in x])
    assert np.max(np.abs(out / ref - 1)) <= 2 * ULP


def test_sincos_kernel_within_two_ulp_absolute():
    mpmath.mp.dps = 40
    w = np.concatenate([np.random.default_rng(2).uniform(-20, 20, 3000),
                        np.arange(-8, 9) / 8.0, np.arange(-8, 9) / 8.0 + 1e-9])
    c, s = np.empty_like(w), np.empty_like(w)
    K.sincos_block(w, c, s, w.size)
    tau = 2 * mpmath.pi
    rc = np.array([float(mpmath.cos(tau * mpmath.mpf(float(v)))) for v in w])
    rs = np.array([float(mpmath.sin(tau * mpmath.mpf(float(v)))) for v in w])
    assert np.max(np.abs(c - rc)) <= 2 * ULP
    assert np.max(np.abs(s - rs)) <= 2 * ULP


# -- bases --------------------------------------------------------------------------------
def test_gaussian_basis_matches_basis1d():
    b = make_features("gaussian", 2, 10, 10, EPS, T=1.0, x_range=(-1.5, 1.5)).x_bases[0]
    fam, par, norm = euler2d.axis_parameters(b)
    # in range, just outside, and far out (the direct-formula branch)
    z = np.concatenate([np.linspace(-6, 6, 20001), [-1e3, -60.0, -7.31, 6.93, 8.5, 80.0, 1e3]])
    got = K.basis_values(fam, par, b.n, z).T * norm
    ref = b.values(z)
    big = ref > 1e-290
    assert np.all((np.abs(got - ref) <= _gauss_bound(b, z) * ref)[big])
    assert np.all(np.abs(got - ref)[~big] <= 1e-289)


def test_fourier_basis_against_high_precision():
    mpmath.mp.dps = 40
    b = make_features("fourier", 2, 10, 10, EPS, T=1.0, x_range=(-1.5, 1.5)).x_bases[0]
    fam, par, _ = euler2d.axis_parameters(b)
    z = np.concatenate([np.random.default_rng(9).uniform(-6, 6, 1000), [-1e3, -7.31, 80.0]])
    got = K.basis_values(fam, par, b.n, z).T
    tau = 2 * mpmath.pi / mpmath.mpf(b.L)
    modes = [0, 1, 2, 3, 4, 5, 1, 2, 3, 4]
    ref = np.array([[1.0] + [float(mpmath.cos(tau * m * mpmath.mpf(float(v)))) for m in modes[1:6]]
                    + [float(mpmath.sin(tau * m * mpmath.mpf(float(v)))) for m in modes[6:]]
                    for v in z])
    # rounding of the argument 2 pi z / L (~|theta| eps) grows like m^2 through the recurrence
    theta = 2 * np.pi * np.abs(z) / b.L
    bound = 4 * ULP * np.square(modes) * (1 + theta)[:, None]
    assert np.all(np.abs(got - ref) <= bound)


def test_gaussian_basis_odd_count_and_tiny_spacing():
    b = make_features("gaussian", 2, 7, 3, EPS, x_range=(-0.2, 0.4)).x_bases[0]
    fam, par, norm = euler2d.axis_parameters(b)
    z = np.linspace(-1, 1, 4001)
    got = K.basis_values(fam, par, b.n, z).T * norm
    np.testing.assert_allclose(got, b.values(z), rtol=1e-11, atol=1e-300)


@pytest.mark.parametrize("std_over_spacing", [1 / 30, 0.2, 5.0])
def test_gaussian_basis_any_width(std_over_spacing):
    c = np.linspace(-1.0, 2.0, 9)
    b = GaussianBasis(9, centres=tuple(c), std=float(std_over_spacing * (c[1] - c[0])))
    fam, par, norm = euler2d.axis_parameters(b)
    z = np.concatenate([np.linspace(-4, 5, 9001), [-300.0, 41.0, 1e4]])
    got = K.basis_values(fam, par, b.n, z).T * norm
    ref = b.values(z)
    big = ref > 1e-290 * norm
    assert np.all((np.abs(got - ref) <= _gauss_bound(b, z) * ref)[big])
    assert np.all(np.abs(got - ref)[~big] <= 1e-289 * norm)


# -- the sampler ---------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["gauss", "fourier"])
def test_each_euler_step_matches_numpy_reference(which, request):
    """Start every step from the reference trajectory: one step agrees to rounding."""
    den = request.getfixturevalue(which)
    x = initial_samples(GRID, n_samples=4000, dim=2, rng=np.random.default_rng(3), n_models=3)
    worst = 0.0
    for k in range(30):
        ref = integrate_pf_ode(den, x, _sub(GRID, k))
        got = euler2d.integrate_euler_2d(den, x, _sub(GRID, k))
        worst = max(worst, float(np.max(np.abs(got - ref) / (1 + np.abs(ref)))))
        x = ref
    # |c2| ~ 20 on the last step multiplies the denoiser's rounding (~1e-15)
    assert worst < 1e-12


@pytest.mark.parametrize("which", ["gauss", "fourier"])
def test_whole_run_and_histograms_match_numpy_reference(which, request):
    den = request.getfixturevalue(which)
    e = np.linspace(-1.5, 1.5, 201)
    ref = sample_pf_ode(den, GRID, n_samples=20000, rng=np.random.default_rng(4))
    x_T = initial_samples(GRID, n_samples=20000, dim=2, rng=np.random.default_rng(4), n_models=3)
    got = euler2d.integrate_euler_2d(den, x_T, GRID)
    # per-step rounding (< 1e-12, previous test) may grow through 30 steps where the flow
    # separates (Voronoi edges); measured 7e-12 (Gaussian) and 3e-13 (Fourier)
    assert np.max(np.abs(got - ref)) < 1e-8
    h = euler2d.euler_histograms_2d(den, GRID, (e, e), n_samples=20000,
                                    rng=np.random.default_rng(4))
    h_ref = histogram_masses(ref, (e, e))
    assert h.shape == h_ref.shape == (3, 200, 200)
    # identical seeds; a sample could change bin only if it sat within ~1e-8 of an edge
    assert np.abs(h - h_ref).sum(axis=(1, 2)).max() * 20000 <= 2


@pytest.mark.parametrize("family,n_x", [("gaussian", 7), ("fourier", 7), ("fourier", 2),
                                        ("gaussian", 3)])
def test_other_basis_sizes_match_reference(family, n_x):
    """Odd sizes take the contraction's tail path; n = 2 Fourier has no sine mode."""
    den = _model(family, theta=0.3, n_models=2, seed=11, n_x=n_x, n_t=4)
    x_T = initial_samples(GRID, n_samples=3000, dim=2, rng=np.random.default_rng(12), n_models=2)
    x = x_T
    for k in range(30):  # step by step from the reference trajectory, as above
        ref = integrate_pf_ode(den, x, _sub(GRID, k))
        got = euler2d.integrate_euler_2d(den, x, _sub(GRID, k))
        assert np.max(np.abs(got - ref) / (1 + np.abs(ref))) < 1e-12
        x = ref


def test_single_model_and_heun_style_grids(gauss):
    one = LinearDenoiser(gauss.features, gauss.W[1])
    x_T = initial_samples(GRID, n_samples=500, dim=2, rng=np.random.default_rng(5))
    g = TimeGrid.geometric(VP, EPS, 1.0, 40)  # any decreasing grid
    ref = integrate_pf_ode(one, x_T, g)
    got = euler2d.integrate_euler_2d(one, x_T, g)
    assert got.shape == (500, 2)
    assert np.max(np.abs(got - ref)) < 1e-8


def test_same_seed_same_output_and_far_seeds(gauss):
    e = np.linspace(-1.5, 1.5, 61)
    a = euler2d.euler_histograms_2d(gauss, GRID, (e, e), n_samples=3000,
                                    rng=np.random.default_rng(7))
    b = euler2d.euler_histograms_2d(gauss, GRID, (e, e), n_samples=3000,
                                    rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    # seeds far outside the feature range (direct-formula branch) agree with the reference
    x_T = np.array([[[40.0, -3.0], [-9.0, 7.5], [0.1, -0.2]]] * 3)
    np.testing.assert_allclose(euler2d.integrate_euler_2d(gauss, x_T, GRID),
                               integrate_pf_ode(gauss, x_T, GRID), rtol=0, atol=1e-9)


# -- binning --------------------------------------------------------------------------------
@pytest.mark.parametrize("ex,ey", [(np.linspace(-1.5, 1.5, 201), np.linspace(-1.0, 2.0, 31)),
                                   (np.linspace(-0.3, 0.9, 8), np.linspace(0.1, 0.4, 4))])
def test_bin_counts_match_histogram2d_on_edges_and_outside(ex, ey):
    rng = np.random.default_rng(8)
    s = rng.uniform(-2, 2.5, (20000, 2))
    # every edge and its two floating-point neighbours: x / w can round to the wrong bin there
    on_x = np.concatenate([ex, np.nextafter(ex, np.inf), np.nextafter(ex, -np.inf)])
    on_y = np.concatenate([ey, np.nextafter(ey, np.inf), np.nextafter(ey, -np.inf)])
    s[:on_x.size, 0] = on_x
    s[:on_x.size, 1] = rng.uniform(ey[0], ey[-1], on_x.size)
    s[on_x.size:on_x.size + on_y.size, 1] = on_y
    s[-10:] = np.nan
    ref = np.histogram2d(s[:, 0], s[:, 1], bins=(ex, ey))[0]
    np.testing.assert_array_equal(euler2d.bin_counts_2d(s, ex, ey), ref)


# -- bad input ------------------------------------------------------------------------------
def test_supported_and_errors(gauss):
    assert euler2d.supported(gauss)
    one_d = LinearDenoiser(make_features("gaussian", 1, 8, 4, EPS),
                           np.zeros((1, 32)))
    assert not euler2d.supported(one_d)
    fm = make_features("gaussian", 2, 4, 2, EPS)
    uneven = GaussianBasis(4, centres=(-1.0, 0.0, 0.5, 1.0), std=0.25)
    fm2 = type(fm)((uneven, fm.x_bases[1]), fm.t_basis)
    den = LinearDenoiser(fm2, np.zeros((2, fm2.n_features)))
    assert not euler2d.supported(den)
    with pytest.raises(ValueError, match="LinearDenoiser"):
        euler2d.integrate_euler_2d(den, np.zeros((3, 2)), GRID)
    with pytest.raises(ValueError, match="x_T must have shape"):
        euler2d.integrate_euler_2d(gauss, np.zeros((2, 5, 2)), GRID)
    with pytest.raises(ValueError, match="finite"):
        euler2d.integrate_euler_2d(gauss, np.full((3, 5, 2), np.nan), GRID)
    with pytest.raises(TypeError, match="TimeGrid"):
        euler2d.integrate_euler_2d(gauss, np.zeros((3, 5, 2)), VP)
    e = np.linspace(-1, 1, 5)
    with pytest.raises(ValueError, match="n_samples"):
        euler2d.euler_histograms_2d(gauss, GRID, (e, e), n_samples=0,
                                    rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        euler2d.euler_histograms_2d(gauss, GRID, (e, e), n_samples=10, rng=0)
    bad_w = gauss.W.copy()
    bad_w[1, 0, 5] = np.nan
    with pytest.raises(ValueError, match="W must be finite"):
        LinearDenoiser(gauss.features, bad_w)
    with pytest.raises(ValueError, match="edges_x"):
        euler2d.euler_histograms_2d(gauss, GRID, (e[::-1], e), n_samples=10,
                                    rng=np.random.default_rng(0))
