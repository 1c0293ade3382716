"""Bad-input table over the public functions (issue 11, item 5).

Every row calls one public function with one bad argument and asserts the exception type
and that the message names the argument (with the allowed range where there is one). The
message regex is anchored on the argument's name.
"""

import numpy as np
import pytest
import sympy as sp

from gtv_symbolic import _validate, data, numeric, proxy, schedules
from gtv_symbolic import symbols as S

VP = schedules.VP()
F1 = schedules.Fig1()
MU = data.polygon(3)
X = np.zeros((4, 2))
NAN = float("nan")
INF = float("inf")

CASES = []  # (id, thunk, exception, regex)


def case(cid, thunk, exc, regex):
    CASES.append(pytest.param(thunk, exc, regex, id=cid))


# --- proxy: the numeric evaluators share one argument contract --------------------------
EVALUATORS = [proxy.posterior_weights, proxy.posterior_mean, proxy.posterior_covariance,
              proxy.true_score, proxy.covariance, proxy.variance_ratio, proxy.log_density,
              proxy.density]
T_RANGE = r"\[3e-143, 1\] for the VP schedule"
BAD_EVAL_ARGS = {
    # name: (x, t, data, schedule), exception, regex
    "x-nan": ((np.array([[NAN, 0.0]]), 0.5, MU, VP), ValueError, r"^x must be finite"),
    "x-inf": ((np.array([[0.0, -INF]]), 0.5, MU, VP), ValueError, r"^x must be finite"),
    "x-wrong-D": ((np.zeros((4, 3)), 0.5, MU, VP), ValueError, r"^x must have shape \(\.\.\., D\) with D = 2"),
    "x-scalar": ((1.0, 0.5, MU, VP), ValueError, r"^x must have shape \(\.\.\., D\)"),
    "x-huge": ((np.full((1, 2), 1e11), 0.5, MU, VP), ValueError, r"^x must have coordinates in \[-1e\+10, 1e\+10\]"),
    "x-text": (("ab", 0.5, MU, VP), TypeError, r"^x must be an array of real numbers"),
    "t-nan": ((X, NAN, MU, VP), ValueError, r"^t must be finite and lie in " + T_RANGE),
    "t-inf": ((X, INF, MU, VP), ValueError, r"^t must be finite and lie in " + T_RANGE),
    "t-zero": ((X, 0.0, MU, VP), ValueError, r"^t must lie in " + T_RANGE),
    "t-tiny": ((X, 1e-200, MU, VP), ValueError, r"^t must lie in " + T_RANGE),
    "t-above-T": ((X, 1.5, MU, VP), ValueError, r"^t must lie in " + T_RANGE),
    "t-fig1-at-1": ((X, 1.0, MU, F1), ValueError, r"^t must lie in \[6e-144, 1\) for the Fig1"),
    "t-shape": ((X, np.full(3, 0.5), MU, VP), ValueError, r"^t with shape \(3,\) does not broadcast"),
    "t-text": ((X, "half", MU, VP), TypeError, r"^t must be a real number"),
    "data-nan": ((X, 0.5, np.array([[0.0, NAN]]), VP), ValueError, r"^data must be finite"),
    "data-empty": ((X, 0.5, np.zeros((0, 2)), VP), ValueError, r"^data must hold at least one point \(M >= 1\)"),
    "data-3d": ((X, 0.5, np.zeros((3, 2, 2)), VP), ValueError, r"^data must have shape \(M, D\)"),
    "data-huge": ((X, 0.5, np.full((2, 2), -1e12), VP), ValueError, r"^data must have coordinates in \[-1e\+10, 1e\+10\]"),
    "data-text": ((X, 0.5, "abc", VP), TypeError, r"^data must be an array of numbers"),
    "schedule-str": ((X, 0.5, MU, "VP"), TypeError, r"^schedule must be a gtv_symbolic.schedules.Schedule"),
}
for f in EVALUATORS:
    for cid, (args, exc, regex) in BAD_EVAL_ARGS.items():
        case(f"{f.__name__}-{cid}", lambda f=f, a=args: f(*a), exc, regex)

case("density-overflow", lambda: proxy.density(np.zeros((1, 64)), 1e-8, np.zeros((2, 64)), schedules.VE()),
     ValueError, r"^density p\(x\|t\) exceeds the float64 range .*use log_density")

# --- proxy_score --------------------------------------------------------------------------
PS = {
    "x0-1d-vector": ((np.zeros((5, 1)), 0.5, np.zeros(5), VP), ValueError,
                     r"^x0 must have shape \(\.\.\., D\) with D = 1 .*data\[:, None\]"),
    "x0-wrong-D": ((X, 0.5, np.zeros((4, 3)), VP), ValueError, r"^x0 must have shape \(\.\.\., D\) with D = 2"),
    "x0-nan": ((X, 0.5, np.full((4, 2), NAN), VP), ValueError, r"^x0 must be finite"),
    "x0-huge": ((X, 0.5, np.full((4, 2), 1e300), VP), ValueError, r"^x0 must have coordinates in"),
    "x-nan": ((np.full((4, 2), NAN), 0.5, X, VP), ValueError, r"^x must be finite"),
    "x-scalar": ((0.0, 0.5, X, VP), ValueError, r"^x must have shape \(\.\.\., D\)"),
    "t-zero": ((X, 0.0, X, VP), ValueError, r"^t must lie in " + T_RANGE),
    "t-nan": ((X, NAN, X, VP), ValueError, r"^t must be finite"),
    "batch-mismatch": ((X, 0.5, np.zeros((3, 2)), VP), ValueError, r"^x batch shape \(4,\), x0 batch shape \(3,\)"),
    "schedule-none": ((X, 0.5, X, None), TypeError, r"^schedule must be"),
}
for cid, (args, exc, regex) in PS.items():
    case(f"proxy_score-{cid}", lambda a=args: proxy.proxy_score(*a), exc, regex)

# --- proxy: symbolic forms ----------------------------------------------------------------
case("sym_marginal-data-nan", lambda: proxy.sym_marginal([[NAN]]), ValueError, r"^data must be finite")
case("sym_marginal-data-large", lambda: proxy.sym_marginal(np.zeros((100, 2))), ValueError,
     r"^data must have at most 64 entries")
case("sym_marginal-schedule", lambda: proxy.sym_marginal(MU, "VP"), TypeError, r"^schedule must be")
case("sym_posterior_weights-data-empty", lambda: proxy.sym_posterior_weights(np.zeros((0, 1))),
     ValueError, r"^data must hold at least one point")
case("sym_posterior_mean-data-text", lambda: proxy.sym_posterior_mean("x"), TypeError, r"^data must be an array")
case("sym_posterior_covariance-mixed-dims",
     lambda: proxy.sym_posterior_covariance([sp.Matrix([1]), sp.Matrix([1, 2])]), ValueError,
     r"^data: all training points must be column vectors of the same dimension")
case("sym_true_score-form", lambda: proxy.sym_true_score(MU, form="hess"), ValueError,
     r"^form must be 'tweedie' or 'grad'")
case("sym_covariance-form", lambda: proxy.sym_covariance(MU, form="x"), ValueError,
     r"^form must be 'posterior', 'hessian' or 'denoiser'")
case("sym_variance_ratio-data-inf", lambda: proxy.sym_variance_ratio([[INF, 0.0]]), ValueError,
     r"^data must be finite")
case("sym_proxy_score-data_dim-float", lambda: proxy.sym_proxy_score([1.0], 1.0), TypeError,
     r"^data_dim must be an integer")
case("sym_proxy_score-data_dim-zero", lambda: proxy.sym_proxy_score([1.0], 0), ValueError,
     r"^data_dim must be in \[1, 8\]")
case("sym_proxy_score-x0-length", lambda: proxy.sym_proxy_score([1.0, 2.0], 1), ValueError,
     r"^x0 must have 1 \(data_dim\) entries")
case("sym_proxy_score-x0-nan", lambda: proxy.sym_proxy_score([NAN], 1), ValueError, r"^x0 must be finite")
case("generic_forms-dim-zero", lambda: proxy.generic_forms(0), ValueError, r"^dim must be in \[1, 8\]")
case("generic_forms-dim-float", lambda: proxy.generic_forms(1.5), TypeError, r"^dim must be an integer")
case("generic_forms-dim-huge", lambda: proxy.generic_forms(100), ValueError, r"^dim must be in \[1, 8\]")
case("latex_formulas-dim-bool", lambda: proxy.latex_formulas(True), TypeError, r"^dim must be an integer")
case("sym_gaussian_covariance-S0-shape", lambda: proxy.sym_gaussian_covariance([0.0, 0.0], np.eye(3)),
     ValueError, r"^S0 must have shape \(2, 2\)")
case("sym_gaussian_covariance-S0-asym", lambda: proxy.sym_gaussian_covariance([0.0, 0.0], [[1, 0.5], [0, 1]]),
     ValueError, r"^S0 must be symmetric")
case("sym_gaussian_covariance-m0-nan", lambda: proxy.sym_gaussian_covariance([NAN], [[1.0]]),
     ValueError, r"^m0 must be finite")
case("sym_gaussian_covariance-form", lambda: proxy.sym_gaussian_covariance([0.0], [[1.0]], "x"),
     ValueError, r"^form must be 'hessian' or 'posterior'")

# --- schedules ----------------------------------------------------------------------------
for name, bad, exc, regex in [
    ("beta_min-negative", dict(beta_min=-1.0), ValueError, r"^beta_min must be in \[0, 1e\+06\]"),
    ("beta_min-nan", dict(beta_min=NAN), ValueError, r"^beta_min must be finite"),
    ("beta_min-text", dict(beta_min="0.1"), TypeError, r"^beta_min must be a real number"),
    ("beta_d-inf", dict(beta_d=INF), ValueError, r"^beta_d must be finite"),
    ("both-zero", dict(beta_min=0.0, beta_d=0.0), ValueError, r"^beta_min and beta_d must not both be 0"),
    ("T-zero", dict(T=0.0), ValueError, r"^T must be in \(0, inf\)"),
    ("T-nan", dict(T=NAN), ValueError, r"^T must be finite"),
    ("T-too-long", dict(T=50.0), ValueError, r"^T must satisfy beta_min\*T \+ beta_d\*T\^2/2 <= 690"),
]:
    case(f"VP-{name}", lambda b=bad: schedules.VP(**b), exc, regex)
case("VE-T-negative", lambda: schedules.VE(T=-1.0), ValueError, r"^T must be in \(2.5e-72, 1e\+150\]")
case("VE-T-huge", lambda: schedules.VE(T=1e200), ValueError, r"^T must be in \(2.5e-72, 1e\+150\]")
case("VE-T-inf", lambda: schedules.VE(T=INF), ValueError, r"^T must be finite")
case("EDM-rho-zero", lambda: schedules.EDM(rho=0.0), ValueError, r"^rho must be in \(0, 1000\]")
case("EDM-rho-nan", lambda: schedules.EDM(rho=NAN), ValueError, r"^rho must be finite")
case("EDM-T-zero", lambda: schedules.EDM(T=0.0), ValueError, r"^T must be in \(2.5e-72")
case("get-unknown", lambda: schedules.get("cosine"), ValueError, r"^schedule must be one of")
case("get-nonstr", lambda: schedules.get(3), ValueError, r"^schedule must be one of")
for meth in ("alpha", "sigma2", "beta", "D", "snr_weight"):
    case(f"Schedule.{meth}-t-nan", lambda m=meth: getattr(VP, m)(NAN), ValueError, r"^t must be finite")
    case(f"Schedule.{meth}-t-zero", lambda m=meth: getattr(VP, m)(0.0), ValueError, r"^t must lie in " + T_RANGE)
case("Schedule.validate_t-name", lambda: VP.validate_t([0.5, -1.0], "times"), ValueError,
     r"^times must lie in " + T_RANGE)
case("Schedule-T-nan", lambda: schedules.Schedule("s", S.t, S.t, S.t, S.t, T=NAN), ValueError,
     r"^T must be finite")
case("Schedule-t_min-above-T", lambda: schedules.Schedule("s", S.t, S.t, S.t, S.t, T=1.0, t_min=2.0),
     ValueError, r"^t_min must be in \[0, 1\)")
case("Schedule-expr-type", lambda: schedules.Schedule("s", "t", S.t, S.t, S.t, T=1.0), TypeError,
     r"^alpha_expr must be a SymPy expression")
case("Schedule.expr-which", lambda: VP.expr("gamma"), ValueError, r"^which must be one of")
for name, args, exc, regex in [
    ("eps-zero", (0.0, 80.0, 18), ValueError, r"^eps must be in \(0, 80\)"),
    ("eps-above-T", (100.0, 80.0, 18), ValueError, r"^eps must be in \(0, 80\)"),
    ("eps-nan", (NAN, 80.0, 18), ValueError, r"^eps must be finite"),
    ("T-inf", (0.002, INF, 18), ValueError, r"^T must be finite"),
    ("T-negative", (0.002, -1.0, 18), ValueError, r"^T must be in \(0, "),
    ("n_steps-float", (0.002, 80.0, 10.5), TypeError, r"^n_steps must be an integer"),
    ("n_steps-zero", (0.002, 80.0, 0), ValueError, r"^n_steps must be in \[1, 1000000\]"),
    ("n_steps-huge", (0.002, 80.0, 10**9), ValueError, r"^n_steps must be in \[1, 1000000\]"),
    ("rho-negative", (0.002, 80.0, 18, -7.0), ValueError, r"^rho must be in \(0, 1000\]"),
]:
    case(f"edm_time_grid-{name}", lambda a=args: schedules.edm_time_grid(*a), exc, regex)

# --- data ---------------------------------------------------------------------------------
for fname in ("polygon", "line"):
    f = getattr(data, fname)
    case(f"{fname}-m-float", lambda f=f: f(2.5), TypeError, r"^m must be an integer, got float")
    case(f"{fname}-m-zero", lambda f=f: f(0), ValueError, r"^m must be in \[1, 1000000\]")
    case(f"{fname}-m-huge", lambda f=f: f(10**7), ValueError, r"^m must be in \[1, 1000000\]")
    case(f"{fname}-m-bool", lambda f=f: f(True), TypeError, r"^m must be an integer")
case("square-theta-nan", lambda: data.square(NAN), ValueError, r"^theta must be finite")
case("square-theta-text", lambda: data.square("0"), TypeError, r"^theta must be a real number")
case("as_data-name", lambda: data.as_data([[NAN]], "points"), ValueError, r"^points must be finite")
case("as_data-D0", lambda: data.as_data(np.zeros((3, 0))), ValueError, r"^data must have dimension D >= 1")
case("as_data-D-huge", lambda: data.as_data(np.zeros((1, 5000))), ValueError,
     r"^data has dimension D = 5000; at most 4096")

# --- numeric, symbols, _validate ----------------------------------------------------------
_f = numeric.lambdify([S.alpha, S.sigma2], S.alpha / S.sigma2)
case("NumericFunction-nan", lambda: _f(np.array([1.0, NAN]), 1.0), ValueError, r"^argument alpha must be finite")
case("NumericFunction-inf", lambda: _f(1.0, INF), ValueError, r"^argument sigma2 must be finite")
case("NumericFunction-arity", lambda: _f(1.0), TypeError, r"^expected 2 arguments \(alpha, sigma2\)")
case("lambdify-args-symbol", lambda: numeric.lambdify(S.alpha, S.alpha), TypeError,
     r"^args must be a sequence of Symbols")
case("lambdify-args-nonsymbol", lambda: numeric.lambdify([S.alpha**2], S.alpha), TypeError,
     r"^lambdify args must be Symbols")
case("lambdify-free-symbols", lambda: numeric.lambdify([S.alpha], S.alpha * S.sigma2), ValueError,
     r"^expression has free symbols not in args: \['sigma2'\]")
case("x_vec-dim-zero", lambda: S.x_vec(0), ValueError, r"^dim must be in \[1, 4096\]")
case("x_vec-dim-float", lambda: S.x_vec(2.0), TypeError, r"^dim must be an integer")
case("mu_vecs-n-zero", lambda: S.mu_vecs(0, 2), ValueError, r"^n_points must be in \[1, 10000\]")
case("mu_vecs-dim-float", lambda: S.mu_vecs(2, 1.5), TypeError, r"^dim must be an integer")
case("int_arg-range", lambda: _validate.int_arg(5, "k", 1, 3), ValueError, r"^k must be in \[1, 3\], got 5")
case("count-above", lambda: _validate.count(_validate.MAX_MODELS + 1, "n_models", _validate.MAX_MODELS),
     ValueError, r"^n_models must be in \[1, 100000\]")
case("count-negative-seed-like", lambda: _validate.count(-1, "seed", 2**63, lo=0), ValueError,
     r"^seed must be in \[0, ")
case("real_arg-open", lambda: _validate.real_arg(0.0, "tol", 0.0, lo_open=True), ValueError,
     r"^tol must be in \(0, inf\)")
case("real_arg-array", lambda: _validate.real_arg(np.ones(2), "h"), TypeError, r"^h must be a real number")
case("finite_array-ndim", lambda: _validate.finite_array(np.ones((2, 2)), "y", ndim=1), ValueError,
     r"^y must have 1 dimension\(s\)")
case("finite_array-text", lambda: _validate.finite_array(["a"], "y"), TypeError, r"^y must be an array of real")
case("coord_array-huge", lambda: _validate.coord_array([1e20], "y"), ValueError, r"^y must have coordinates in")
case("check_schedule-type", lambda: _validate.check_schedule(1.0), TypeError, r"^schedule must be")


# === the layers below the figures (features, denoisers, solvers, training, metrics, kernels,
# typical): the "plausible wrong answers" and NaN pass-through ====================
from gtv_symbolic import denoisers, features, grids, kernels, metrics, training, typical  # noqa: E402
from gtv_symbolic.solvers import pf_ode, transport  # noqa: E402

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
    ("TimeGrid.linear-eps-zero", lambda: grids.TimeGrid.linear(VP, 0.0), ValueError, r"^eps must lie in \(0, T\)"),
    ("TimeGrid.linear-eps-nan", lambda: grids.TimeGrid.linear(VP, NAN), ValueError, r"^eps must lie in \(0, T\)"),
    ("TimeGrid.linear-T-above", lambda: grids.TimeGrid.linear(VP, 1e-3, 2.0), ValueError,
     r"^T must be <= the schedule's T = 1"),
    ("TimeGrid.make-kind", lambda: grids.TimeGrid.make(VP, 1e-3, kind="cosine"), ValueError, r"^kind must be one of"),
    ("TimeGrid.from_times-unsorted", lambda: grids.TimeGrid.from_times(VP, [0.5, 0.7, 0.1]), ValueError,
     r"^ts must be strictly monotone"),
    ("TimeGrid.from_times-short", lambda: grids.TimeGrid.from_times(VP, [0.5]), ValueError, r"^ts must be a 1-D array"),
    ("check_window-T-nan", lambda: grids.check_window(None, 1e-3, NAN), ValueError, r"^T must be finite and > 0"),
    # features
    ("make_features-family", lambda: features.make_features("wavelet", 1, 4, 3, 1e-2), ValueError,
     r"^family must be one of"),
    ("make_features-dim-float", lambda: features.make_features("gaussian", 1.0, 4, 3, 1e-2), TypeError,
     r"^dim must be an integer"),
    ("make_features-n_x-zero", lambda: features.make_features("gaussian", 1, 0, 3, 1e-2), ValueError,
     r"^n_x must be >= 1"),
    ("make_features-eps-negative", lambda: features.make_features("gaussian", 1, 4, 3, -1.0), ValueError, r"^eps must"),
    ("FeatureMap-x-nan", lambda: FM(np.full((3, 1), NAN), np.full(3, 0.5)), ValueError, r"^x and t must be finite"),
    ("FeatureMap-t-inf", lambda: FM(np.zeros((3, 1)), np.full(3, INF)), ValueError, r"^x and t must be finite"),
    ("FeatureMap-x-shape", lambda: FM(np.zeros((3, 2)), np.full(3, 0.5)), ValueError, r"^x must have shape \(\.\.\., 1\)"),
    # denoisers
    ("LinearDenoiser-W-nan", lambda: denoisers.LinearDenoiser(FM, np.full((1, FM.n_features), NAN)), ValueError,
     r"^W must be finite"),
    ("LinearDenoiser-W-shape", lambda: denoisers.LinearDenoiser(FM, np.zeros((2, 3))), ValueError,
     r"^W must have shape \(N, D, F\) or \(D, F\)"),
    ("LinearDenoiser-x-nan", lambda: LIN(np.full((3, 1), NAN), 0.5), ValueError, r"^x must be finite"),
    ("LinearDenoiser-t-nan", lambda: LIN(np.zeros((3, 1)), NAN), ValueError, r"^t must be finite"),
    ("LinearDenoiser.jacobian-x-inf", lambda: LIN.jacobian(np.full((3, 1), INF), 0.5), ValueError, r"^x must be finite"),
    ("ExactDenoiser-data-nan", lambda: denoisers.ExactDenoiser([[NAN]], VP), ValueError, r"^data must be finite"),
    ("ExactDenoiser-x-nan", lambda: EXACT(np.full((2, 1), NAN), 0.5), ValueError, r"^x must be finite"),
    ("ExactDenoiser-t-zero", lambda: EXACT(X1, 0.0), ValueError, r"^t must lie in " + T_RANGE),
    # solvers
    ("integrate_pf_ode-x_T-nan", lambda: pf_ode.integrate_pf_ode(EXACT, np.full((3, 1), NAN), GRID), ValueError,
     r"^x_T must be a finite array"),
    ("integrate_pf_ode-grid", lambda: pf_ode.integrate_pf_ode(EXACT, X1, [1.0, 0.5]), TypeError, r"^grid must be"),
    ("integrate_pf_ode-method", lambda: pf_ode.integrate_pf_ode(EXACT, X1, GRID, method="rk9"), ValueError,
     r"^method must be one of"),
    ("initial_samples-n_samples-huge", lambda: pf_ode.initial_samples(GRID, n_samples=10**12, dim=1, rng=_rng()),
     ValueError, r"^n_samples must be in \[1, 67108864\]"),
    ("initial_samples-n_models-huge",
     lambda: pf_ode.initial_samples(GRID, n_samples=2, dim=1, rng=_rng(), n_models=10**6), ValueError,
     r"^n_models must be in \[1, 100000\]"),
    ("initial_samples-dim-float", lambda: pf_ode.initial_samples(GRID, n_samples=2, dim=1.5, rng=_rng()), TypeError,
     r"^dim must be an integer"),
    ("sample_pf_ode-n_samples-zero", lambda: pf_ode.sample_pf_ode(EXACT, GRID, n_samples=0, rng=_rng()), ValueError,
     r"^n_samples must be in \[1, "),
    ("sample_pf_ode-rng", lambda: pf_ode.sample_pf_ode(EXACT, GRID, n_samples=2, rng=0), TypeError, r"^rng must be"),
    ("sample_reverse_sde-n_samples-float", lambda: pf_ode.sample_reverse_sde(EXACT, GRID, n_samples=2.0, rng=_rng()),
     TypeError, r"^n_samples must be an integer"),
    ("ode_log_density-x-nan", lambda: pf_ode.ode_log_density(EXACT, np.full((2, 1), NAN), GRID), ValueError, r"^x"),
    ("pushforward_1d-half_width-negative", lambda: transport.pushforward_1d(EXACT, GRID, EDGES, half_width=-1.0),
     ValueError, r"^half_width must be finite and > 0"),
    ("pushforward_1d-pieces-zero", lambda: transport.pushforward_1d(EXACT, GRID, EDGES, pieces=0), ValueError,
     r"^pieces must be in \[1, 1000\]"),
    ("pushforward_1d-tol-zero", lambda: transport.pushforward_1d(EXACT, GRID, EDGES, tol=0.0), ValueError,
     r"^tol must be finite and > 0"),
    ("pushforward_1d-tol-nan", lambda: transport.pushforward_1d(EXACT, GRID, EDGES, tol=NAN), ValueError,
     r"^tol must be finite and > 0"),
    ("pushforward_1d-min_mass", lambda: transport.pushforward_1d(EXACT, GRID, EDGES, min_mass=-1.0), ValueError,
     r"^min_mass must lie in \[0, 1\)"),
    ("pushforward_1d-n_nodes-two", lambda: transport.pushforward_1d(EXACT, GRID, EDGES, n_nodes=2), ValueError,
     r"^n_nodes must be in \[3, "),
    ("pushforward_1d-edges-uneven", lambda: transport.pushforward_1d(EXACT, GRID, [0.0, 1.0, 3.0]), ValueError,
     r"^edges must be increasing and equally spaced"),
    # training
    ("ridge_fit-targets-1d", lambda: training.ridge_fit(PHI, np.ones(6), np.ones(6)), ValueError,
     r"^targets must have shape \(\.\.\., P, D\).*targets\[\.\.\., None\]"),
    ("ridge_fit-weights-shape", lambda: training.ridge_fit(PHI, np.ones((6, 1)), np.ones(5)), ValueError,
     r"^weights must have shape \(\.\.\., P\) = \(6,\)"),
    ("ridge_fit-weights-negative", lambda: training.ridge_fit(PHI, np.ones((6, 1)), -np.ones(6)), ValueError,
     r"^weights must be >= 0"),
    ("ridge_fit-phi-nan", lambda: training.ridge_fit(np.full((6, 3), NAN), np.ones((6, 1)), np.ones(6)), ValueError,
     r"^phi must be finite"),
    ("ridge_fit-targets-inf", lambda: training.ridge_fit(PHI, np.full((6, 1), INF), np.ones(6)), ValueError,
     r"^targets must be finite"),
    ("ridge_fit-ridge-zero", lambda: training.ridge_fit(PHI, np.ones((6, 1)), np.ones(6), 0.0), ValueError, r"^ridge"),
    ("ridge_fit-method", lambda: training.ridge_fit(PHI, np.ones((6, 1)), np.ones(6), method="qr"), ValueError,
     r"^method must be 'primal', 'dual' or 'auto'"),
    ("train_ensemble-P-float", lambda: training.train_ensemble(FM, MU1, VP, P=10.0, n_models=2, eps=1e-2, rng=_rng()),
     TypeError, r"^P must be an integer"),
    ("train_ensemble-P-huge", lambda: training.train_ensemble(FM, MU1, VP, P=10**9, n_models=2, eps=1e-2, rng=_rng()),
     ValueError, r"^P must be in \[1, 100000\]"),
    ("train_ensemble-n_models-huge",
     lambda: training.train_ensemble(FM, MU1, VP, P=10, n_models=10**6, eps=1e-2, rng=_rng()), ValueError,
     r"^n_models must be in \[1, 100000\]"),
    ("train_ensemble-data-nan", lambda: training.train_ensemble(FM, [[NAN]], VP, P=10, n_models=2, eps=1e-2, rng=_rng()),
     ValueError, r"^data must be finite"),
    ("train_ensemble-eps-nan", lambda: training.train_ensemble(FM, MU1, VP, P=10, n_models=2, eps=NAN, rng=_rng()),
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
    ("gap_mass-lo-above-hi", lambda: metrics.gap_mass(PG, XG, 0.75, 0.25), ValueError, r"lo < hi, got lo=0.75, hi=0.25"),
    ("gap_mass-lo-nan", lambda: metrics.gap_mass(PG, XG, NAN, 0.5), ValueError, r"lo < hi, got lo=nan"),
    ("gap_mass-p-nan", lambda: metrics.gap_mass(np.full(41, NAN), XG), ValueError, r"^p must be finite"),
    ("total_variation-q-nan", lambda: metrics.total_variation(PG, np.full(41, NAN), XG), ValueError, r"^q must be"),
    ("mode_masses-p-inf", lambda: metrics.mode_masses(np.full(41, INF), XG), ValueError, r"^p must be"),
    ("ensemble_moments-nan", lambda: metrics.ensemble_moments(np.array([1.0, 2.0, NAN, 4.0, 5.0])), ValueError,
     r"^values must be finite"),
    ("ensemble_moments-few", lambda: metrics.ensemble_moments(np.ones(3)), ValueError,
     r"^values must hold at least 4 models"),
    # kernels
    ("NaiveKernel-kappa-negative", lambda: kernels.NaiveKernel(MU1, VP, -1.0), ValueError,
     r"^kappa must be a finite number >= 0"),
    ("NaiveKernel-kappa-nan", lambda: kernels.NaiveKernel(MU1, VP, NAN), ValueError, r"^kappa must be a finite"),
    ("naive_V-x-nan", lambda: kernels.naive_V(np.full((2, 1), NAN), 0.5, MU1, VP, 0.5), ValueError, r"^x must be finite"),
    ("naive_step_covariance-dt-zero", lambda: kernels.naive_step_covariance(X1, 0.5, 0.0, MU1, VP, 0.5), ValueError,
     r"^dt must be a finite number > 0"),
    ("gaussian_draws-cov-shape", lambda: kernels.gaussian_draws(np.zeros(2), np.eye(3), 4, _rng()), ValueError,
     r"^cov must have shape \(2, 2\)"),
    ("gaussian_draws-n-zero", lambda: kernels.gaussian_draws(np.zeros(2), np.eye(2), 0, _rng()), ValueError,
     r"^n must be in \[1, "),
    ("gaussian_draws-rng", lambda: kernels.gaussian_draws(np.zeros(2), np.eye(2), 3, 1), TypeError, r"^rng must be"),
    ("linear_kernel-P-zero", lambda: kernels.linear_kernel(FM, MU1, VP, P=0, eps=1e-2), ValueError, r"^P must be"),
    # typical
    ("moment_matched_weights-W-nan", lambda: typical.moment_matched_weights(np.full((3, 1, 2), NAN), 4, _rng()),
     ValueError, r"^W must be finite"),
    ("moment_matched_weights-n_models-huge", lambda: typical.moment_matched_weights(np.ones((3, 1, 2)), 10**9, _rng()),
     ValueError, r"^n_models must be in \[1, 100000\]"),
    ("moment_matched_weights-W-shape", lambda: typical.moment_matched_weights(np.ones((1, 1, 2)), 4, _rng()),
     ValueError, r"^W must have shape \(N >= 2, D, F\)"),
    ("naive_step-x-nan", lambda: typical.naive_step(NK, np.full((2, 1), NAN), 0.5, 0.01, _rng()), ValueError,
     r"^x must be finite"),
    ("naive_step-dt-negative", lambda: typical.naive_step(NK, X1, 0.5, -0.01, _rng()), ValueError,
     r"^dt must be in \(0, 0.5\]"),
    ("naive_step-dt-beyond-t", lambda: typical.naive_step(NK, X1, 0.5, 2.0, _rng()), ValueError,
     r"^dt must be in \(0, 0.5\]"),
    ("naive_step-t-nan", lambda: typical.naive_step(NK, X1, NAN, 0.01, _rng()), ValueError, r"^t must be finite"),
    ("naive_step-kernel", lambda: typical.naive_step(3, X1, 0.5, 0.01, _rng()), TypeError, r"^kernel must be"),
    ("naive_em-n_samples-float", lambda: typical.naive_em(NK, GRID, n_samples=2.5, rng=_rng()), TypeError,
     r"^n_samples must be an integer"),
    ("mean_flow-x_T-nan", lambda: typical.mean_flow(EXACT, np.full((2, 1), NAN), GRID), ValueError, r"^x_T must be"),
]
for cid, thunk, exc, regex in LOWER:
    case(cid, thunk, exc, regex)



@pytest.mark.parametrize("thunk, exc, regex", CASES)
def test_bad_input_is_rejected_with_a_clear_message(thunk, exc, regex):
    with pytest.raises(exc, match=regex):
        thunk()


def test_table_is_large_enough():
    assert len(CASES) >= 150
