"""Bad-input table, second part: the layers below the figures (issue 11, item 5).

Features, denoisers, solvers, training, metrics, kernels and the typical-distribution
predictors: the issue's "plausible wrong answers" (1-D ridge targets, a dropped third
coordinate, negative widths, non-integer step counts, lo > hi) and NaN pass-through. Each
row asserts the exception type and that the message names the argument (anchored regex).
"""

import numpy as np
import pytest

from gtv_symbolic import data, denoisers, features, grids, kernels, metrics, schedules, training, typical
from gtv_symbolic.solvers import euler2d, pf_ode, transport

VP = schedules.VP()
NAN = float("nan")
INF = float("inf")
T_RANGE = r"\[3e-143, 1\] for the VP schedule"

MU1 = data.three_points()
GRID = grids.TimeGrid.linear(VP, 1e-2, 1.0, 4)
FM = features.make_features("gaussian", 1, 4, 3, 1e-2)
LIN = denoisers.LinearDenoiser(FM, np.zeros((1, FM.n_features)))
EXACT = denoisers.ExactDenoiser(MU1, VP)
NK = kernels.NaiveKernel(MU1, VP, 0.5)
EDGES = np.linspace(-2, 2, 9)
XG = np.linspace(-2, 2, 41)
PG = np.exp(-XG**2)
PHI = np.ones((6, 3))
X1 = np.zeros((5, 1))


def _rng():
    return np.random.default_rng(0)


LOWER = [
    # grids
    ("TimeGrid.linear-n_steps-float", lambda: grids.TimeGrid.linear(VP, 1e-3, 1.0, 10.5), TypeError,
     r"^n_steps must be an integer"),
    ("TimeGrid.linear-n_steps-huge", lambda: grids.TimeGrid.linear(VP, 1e-3, 1.0, 10**9), ValueError,
     r"^n_steps must be in \[1, 1000000\]"),
    ("TimeGrid.linear-eps-zero", lambda: grids.TimeGrid.linear(VP, 0.0),
     ValueError, r"^eps must lie in \(0, T\)"),
    ("TimeGrid.linear-eps-nan", lambda: grids.TimeGrid.linear(VP, NAN),
     ValueError, r"^eps must lie in \(0, T\)"),
    ("TimeGrid.linear-T-above", lambda: grids.TimeGrid.linear(VP, 1e-3, 2.0), ValueError,
     r"^T must be <= the schedule's T = 1"),
    ("TimeGrid.make-kind", lambda: grids.TimeGrid.make(VP, 1e-3, kind="cosine"),
     ValueError, r"^kind must be one of"),
    ("TimeGrid.from_times-unsorted", lambda: grids.TimeGrid.from_times(VP, [0.5, 0.7, 0.1]), ValueError,
     r"^ts must be strictly monotone"),
    ("TimeGrid.from_times-short", lambda: grids.TimeGrid.from_times(VP, [0.5]),
     ValueError, r"^ts must be a 1-D array"),
    ("check_window-T-nan", lambda: grids.check_window(None, 1e-3, NAN),
     ValueError, r"^T must be finite and > 0"),
    # features
    ("make_features-family", lambda: features.make_features("wavelet", 1, 4, 3, 1e-2), ValueError,
     r"^family must be one of"),
    ("make_features-dim-float", lambda: features.make_features("gaussian", 1.0, 4, 3, 1e-2), TypeError,
     r"^dim must be an integer"),
    ("make_features-n_x-zero", lambda: features.make_features("gaussian", 1, 0, 3, 1e-2), ValueError,
     r"^n_x must be >= 1"),
    ("make_features-eps-negative", lambda: features.make_features("gaussian", 1, 4, 3, -1.0),
     ValueError, r"^eps must"),
    ("FeatureMap-x-nan", lambda: FM(np.full((3, 1), NAN), np.full(3, 0.5)),
     ValueError, r"^x and t must be finite"),
    ("FeatureMap-t-inf", lambda: FM(np.zeros((3, 1)), np.full(3, INF)),
     ValueError, r"^x and t must be finite"),
    ("FeatureMap-x-shape", lambda: FM(np.zeros((3, 2)), np.full(3, 0.5)),
     ValueError, r"^x must have shape \(\.\.\., 1\)"),
    # denoisers
    ("LinearDenoiser-W-nan", lambda: denoisers.LinearDenoiser(FM, np.full((1, FM.n_features), NAN)),
     ValueError,
     r"^W must be finite"),
    ("LinearDenoiser-W-shape", lambda: denoisers.LinearDenoiser(FM, np.zeros((2, 3))), ValueError,
     r"^W must have shape \(N, D, F\) or \(D, F\)"),
    ("LinearDenoiser-x-nan", lambda: LIN(np.full((3, 1), NAN), 0.5), ValueError, r"^x must be finite"),
    ("LinearDenoiser-t-nan", lambda: LIN(np.zeros((3, 1)), NAN), ValueError, r"^t must be finite"),
    ("LinearDenoiser.jacobian-x-inf", lambda: LIN.jacobian(np.full((3, 1), INF), 0.5),
     ValueError, r"^x must be finite"),
    ("ExactDenoiser-data-nan", lambda: denoisers.ExactDenoiser([[NAN]], VP),
     ValueError, r"^data must be finite"),
    ("ExactDenoiser-x-nan", lambda: EXACT(np.full((2, 1), NAN), 0.5), ValueError, r"^x must be finite"),
    ("ExactDenoiser-t-zero", lambda: EXACT(X1, 0.0), ValueError, r"^t must lie in " + T_RANGE),
    # solvers
    ("integrate_pf_ode-x_T-nan", lambda: pf_ode.integrate_pf_ode(EXACT, np.full((3, 1), NAN), GRID),
     ValueError,
     r"^x_T must be a finite array"),
    ("integrate_pf_ode-grid", lambda: pf_ode.integrate_pf_ode(EXACT, X1, [1.0, 0.5]),
     TypeError, r"^grid must be"),
    ("integrate_pf_ode-method", lambda: pf_ode.integrate_pf_ode(EXACT, X1, GRID, method="rk9"), ValueError,
     r"^method must be one of"),
    ("initial_samples-n_samples-huge",
     lambda: pf_ode.initial_samples(GRID, n_samples=10**12, dim=1, rng=_rng()),
     ValueError, r"^n_samples must be in \[1, 67108864\]"),
    ("initial_samples-n_models-huge",
     lambda: pf_ode.initial_samples(GRID, n_samples=2, dim=1, rng=_rng(), n_models=10**6), ValueError,
     r"^n_models must be in \[1, 100000\]"),
    ("initial_samples-dim-float", lambda: pf_ode.initial_samples(GRID, n_samples=2, dim=1.5, rng=_rng()),
     TypeError,
     r"^dim must be an integer"),
    ("sample_pf_ode-n_samples-zero", lambda: pf_ode.sample_pf_ode(EXACT, GRID, n_samples=0, rng=_rng()),
     ValueError,
     r"^n_samples must be in \[1, "),
    ("sample_pf_ode-rng", lambda: pf_ode.sample_pf_ode(EXACT, GRID, n_samples=2, rng=0),
     TypeError, r"^rng must be"),
    ("sample_reverse_sde-n_samples-float",
     lambda: pf_ode.sample_reverse_sde(EXACT, GRID, n_samples=2.0, rng=_rng()),
     TypeError, r"^n_samples must be an integer"),
    ("ode_log_density-x-nan", lambda: pf_ode.ode_log_density(EXACT, np.full((2, 1), NAN), GRID),
     ValueError, r"^x"),
    ("pushforward_1d-half_width-negative",
     lambda: transport.pushforward_1d(EXACT, GRID, EDGES, half_width=-1.0),
     ValueError, r"^half_width must be finite and > 0"),
    ("pushforward_1d-pieces-zero", lambda: transport.pushforward_1d(EXACT, GRID, EDGES, pieces=0), ValueError,
     r"^pieces must be in \[1, 1000\]"),
    ("pushforward_1d-tol-zero", lambda: transport.pushforward_1d(EXACT, GRID, EDGES, tol=0.0), ValueError,
     r"^tol must be finite and > 0"),
    ("pushforward_1d-tol-nan", lambda: transport.pushforward_1d(EXACT, GRID, EDGES, tol=NAN), ValueError,
     r"^tol must be finite and > 0"),
    ("pushforward_1d-min_mass", lambda: transport.pushforward_1d(EXACT, GRID, EDGES, min_mass=-1.0),
     ValueError,
     r"^min_mass must lie in \[0, 1\)"),
    ("pushforward_1d-n_nodes-two", lambda: transport.pushforward_1d(EXACT, GRID, EDGES, n_nodes=2),
     ValueError,
     r"^n_nodes must be in \[3, "),
    ("pushforward_1d-edges-uneven", lambda: transport.pushforward_1d(EXACT, GRID, [0.0, 1.0, 3.0]),
     ValueError,
     r"^edges must be increasing and equally spaced"),
    # training
    ("ridge_fit-targets-1d", lambda: training.ridge_fit(PHI, np.ones(6), np.ones(6)), ValueError,
     r"^targets must have shape \(\.\.\., P, D\).*targets\[\.\.\., None\]"),
    ("ridge_fit-weights-shape", lambda: training.ridge_fit(PHI, np.ones((6, 1)), np.ones(5)), ValueError,
     r"^weights must have shape \(\.\.\., P\) = \(6,\)"),
    ("ridge_fit-weights-negative", lambda: training.ridge_fit(PHI, np.ones((6, 1)), -np.ones(6)), ValueError,
     r"^weights must be >= 0"),
    ("ridge_fit-phi-nan", lambda: training.ridge_fit(np.full((6, 3), NAN), np.ones((6, 1)), np.ones(6)),
     ValueError,
     r"^phi must be finite"),
    ("ridge_fit-targets-inf", lambda: training.ridge_fit(PHI, np.full((6, 1), INF), np.ones(6)), ValueError,
     r"^targets must be finite"),
    ("ridge_fit-ridge-zero", lambda: training.ridge_fit(PHI, np.ones((6, 1)), np.ones(6), 0.0),
     ValueError, r"^ridge"),
    ("ridge_fit-method", lambda: training.ridge_fit(PHI, np.ones((6, 1)), np.ones(6), method="qr"),
     ValueError,
     r"^method must be 'primal', 'dual' or 'auto'"),
    ("train_ensemble-P-float",
     lambda: training.train_ensemble(FM, MU1, VP, P=10.0, n_models=2, eps=1e-2, rng=_rng()),
     TypeError, r"^P must be an integer"),
    ("train_ensemble-P-huge",
     lambda: training.train_ensemble(FM, MU1, VP, P=10**9, n_models=2, eps=1e-2, rng=_rng()),
     ValueError, r"^P must be in \[1, 100000\]"),
    ("train_ensemble-n_models-huge",
     lambda: training.train_ensemble(FM, MU1, VP, P=10, n_models=10**6, eps=1e-2, rng=_rng()), ValueError,
     r"^n_models must be in \[1, 100000\]"),
    ("train_ensemble-data-nan",
     lambda: training.train_ensemble(FM, [[NAN]], VP, P=10, n_models=2, eps=1e-2, rng=_rng()),
     ValueError, r"^data must be finite"),
    ("train_ensemble-eps-nan",
     lambda: training.train_ensemble(FM, MU1, VP, P=10, n_models=2, eps=NAN, rng=_rng()),
     ValueError, r"^eps must lie in \(0, T\)"),
    ("sample_training_set-P-zero", lambda: training.sample_training_set(MU1, VP, P=0, eps=1e-2, rng=_rng()),
     ValueError, r"^P must be in \[1, "),
    ("population_weights-ridge-negative",
     lambda: training.population_weights(FM, MU1, VP, eps=1e-2, ridge=-1.0), ValueError, r"^ridge"),
    # metrics
    ("histogram_masses-third-coordinate", lambda: metrics.histogram_masses(np.zeros((10, 3)), (EDGES, EDGES)),
     ValueError, r"^samples must have shape \(\.\.\., n >= 1, D\) with D = 1 or 2"),
    ("histogram_masses-nan", lambda: metrics.histogram_masses(np.full((10, 1), NAN), EDGES), ValueError,
     r"^samples must be finite"),
    ("histogram_masses-edges", lambda: metrics.histogram_masses(np.zeros((10, 1)), [1.0]), ValueError,
     r"^edges must be a finite 1-D array"),
    ("histogram_masses-edges_y", lambda: metrics.histogram_masses(np.zeros((10, 2)), (EDGES, [0.0, NAN])),
     ValueError, r"^edges_y must be a finite 1-D array"),
    ("gap_mass-margin-too-large", lambda: metrics.gap_mass(PG, XG, margin=0.75),
     ValueError, r"^margin must lie in \(0, 0.5\), got 0.75"),
    ("gap_mass-margin-nan", lambda: metrics.gap_mass(PG, XG, margin=NAN), ValueError,
     r"^margin must lie in \(0, 0.5\), got nan"),
    ("gap_mass-data-nan", lambda: metrics.gap_mass(PG, XG, [0.0, NAN]), ValueError, r"^data must"),
    ("gap_mass-data-2d", lambda: metrics.gap_mass(PG, XG, [[0.0, 1.0]]), ValueError,
     r"^grid must give 2 coordinate array"),
    ("gap_mass-p-nan", lambda: metrics.gap_mass(np.full(41, NAN), XG), ValueError, r"^p must be finite"),
    ("total_variation-q-nan", lambda: metrics.total_variation(PG, np.full(41, NAN), XG),
     ValueError, r"^q must be"),
    ("mode_masses-p-inf", lambda: metrics.mode_masses(np.full(41, INF), XG), ValueError, r"^p must be"),
    ("ensemble_moments-nan", lambda: metrics.ensemble_moments(np.array([1.0, 2.0, NAN, 4.0, 5.0])),
     ValueError,
     r"^values must be finite"),
    ("ensemble_moments-few", lambda: metrics.ensemble_moments(np.ones(3)), ValueError,
     r"^values must hold at least 4 models"),
    ("ensemble_moments-constant", lambda: metrics.ensemble_moments(np.ones((6, 2))), ValueError,
     r"^values does not vary across the models \(axis 0\) at index \(0,\)"),
    # kernels
    ("NaiveKernel-kappa-negative", lambda: kernels.NaiveKernel(MU1, VP, -1.0), ValueError,
     r"^kappa must be a finite number >= 0"),
    ("NaiveKernel-kappa-nan", lambda: kernels.NaiveKernel(MU1, VP, NAN),
     ValueError, r"^kappa must be a finite"),
    ("naive_V-x-nan", lambda: kernels.naive_V(np.full((2, 1), NAN), 0.5, MU1, VP, 0.5),
     ValueError, r"^x must be finite"),
    ("naive_step_covariance-dt-zero", lambda: kernels.naive_step_covariance(X1, 0.5, 0.0, MU1, VP, 0.5),
     ValueError,
     r"^dt must be a finite number > 0"),
    ("gaussian_draws-cov-shape", lambda: kernels.gaussian_draws(np.zeros(2), np.eye(3), 4, _rng()),
     ValueError,
     r"^cov must have shape \(2, 2\)"),
    ("gaussian_draws-n-zero", lambda: kernels.gaussian_draws(np.zeros(2), np.eye(2), 0, _rng()), ValueError,
     r"^n must be in \[1, "),
    ("gaussian_draws-rng", lambda: kernels.gaussian_draws(np.zeros(2), np.eye(2), 3, 1),
     TypeError, r"^rng must be"),
    ("linear_kernel-P-zero", lambda: kernels.linear_kernel(FM, MU1, VP, P=0, eps=1e-2),
     ValueError, r"^P must be"),
    # typical
    ("moment_matched_weights-W-nan",
     lambda: typical.moment_matched_weights(np.full((3, 1, 2), NAN), 4, _rng()),
     ValueError, r"^W must be finite"),
    ("moment_matched_weights-n_models-huge",
     lambda: typical.moment_matched_weights(np.ones((3, 1, 2)), 10**9, _rng()),
     ValueError, r"^n_models must be in \[1, 100000\]"),
    ("moment_matched_weights-W-shape", lambda: typical.moment_matched_weights(np.ones((1, 1, 2)), 4, _rng()),
     ValueError, r"^W must have shape \(N >= 2, D, F\)"),
    ("naive_step-x-nan", lambda: typical.naive_step(NK, np.full((2, 1), NAN), 0.5, 0.01, _rng()), ValueError,
     r"^x must be finite"),
    ("naive_step-dt-negative", lambda: typical.naive_step(NK, X1, 0.5, -0.01, _rng()), ValueError,
     r"^dt must be in \(0, 0.5\]"),
    ("naive_step-dt-beyond-t", lambda: typical.naive_step(NK, X1, 0.5, 2.0, _rng()), ValueError,
     r"^dt must be in \(0, 0.5\]"),
    ("naive_step-t-nan", lambda: typical.naive_step(NK, X1, NAN, 0.01, _rng()),
     ValueError, r"^t must be finite"),
    ("naive_step-kernel", lambda: typical.naive_step(3, X1, 0.5, 0.01, _rng()),
     TypeError, r"^kernel must be"),
    ("naive_em-n_samples-float", lambda: typical.naive_em(NK, GRID, n_samples=2.5, rng=_rng()), TypeError,
     r"^n_samples must be an integer"),
    ("mean_flow-x_T-nan", lambda: typical.mean_flow(EXACT, np.full((2, 1), NAN), GRID),
     ValueError, r"^x_T must be"),
    # found by probing: NaN through bases, NTK net, predictors, binning
    ("GaussianBasis-centres-nan", lambda: features.GaussianBasis(3, centres=(0.0, NAN, 1.0), std=0.5),
     ValueError, r"^centres must be 3 \(n\) finite numbers"),
    ("GaussianBasis-std-negative", lambda: features.GaussianBasis(2, centres=(0.0, 1.0), std=-1.0),
     ValueError, r"^std must be finite and > 0"),
    ("FourierBasis-L-nan", lambda: features.FourierBasis(3, L=NAN), ValueError, r"^L \(the Fourier period\)"),
    ("FourierBasis-L-zero",
     lambda: features.FourierBasis(3, L=0.0), ValueError, r"^L \(the Fourier period\)"),
    ("TwoLayerNet-bias_std-nan", lambda: kernels.TwoLayerNet(4, eps=1e-2, rng=_rng(), bias_std=NAN),
     ValueError, r"^bias_std must be finite"),
    ("TwoLayerNet.jacobian-x-nan",
     lambda: kernels.TwoLayerNet(4, eps=1e-2, rng=_rng()).jacobian(np.full(2, NAN), np.full(2, 0.5)),
     ValueError, r"^x must be finite"),
    ("naive_fokker_planck-x-nan", lambda: typical.naive_fokker_planck(NK, GRID, x=np.array([0.0, NAN])),
     ValueError, r"^x must be finite"),
    ("naive_fokker_planck-dx-negative", lambda: typical.naive_fokker_planck(NK, GRID, dx=-0.1),
     ValueError, r"^dx must lie in \(0, 0.1\]"),
    ("semiclassical_naive-x-nan", lambda: typical.semiclassical_naive(NK, GRID, np.array([0.0, NAN])),
     ValueError, r"^x must be finite"),
    ("bin_counts_2d-shape", lambda: euler2d.bin_counts_2d(np.zeros((3, 3)), EDGES, EDGES), ValueError,
     r"^samples must have shape \(n, 2\)"),
]
CASES = [pytest.param(thunk, exc, regex, id=cid) for cid, thunk, exc, regex in LOWER]


@pytest.mark.parametrize("thunk, exc, regex", CASES)
def test_bad_input_is_rejected_with_a_clear_message(thunk, exc, regex):
    with pytest.raises(exc, match=regex):
        thunk()
