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
    "x-wrong-D": ((np.zeros((4, 3)), 0.5, MU, VP),
     ValueError, r"^x must have shape \(\.\.\., D\) with D = 2"),
    "x-scalar": ((1.0, 0.5, MU, VP), ValueError, r"^x must have shape \(\.\.\., D\)"),
    "x-huge": ((np.full((1, 2), 1e11), 0.5, MU, VP),
     ValueError, r"^x must have coordinates in \[-1e\+10, 1e\+10\]"),
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
    "data-empty": ((X, 0.5, np.zeros((0, 2)), VP),
     ValueError, r"^data must hold at least one point \(M >= 1\)"),
    "data-3d": ((X, 0.5, np.zeros((3, 2, 2)), VP), ValueError, r"^data must have shape \(M, D\)"),
    "data-huge": ((X, 0.5, np.full((2, 2), -1e12), VP),
     ValueError, r"^data must have coordinates in \[-1e\+10, 1e\+10\]"),
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
    "x0-wrong-D": ((X, 0.5, np.zeros((4, 3)), VP),
     ValueError, r"^x0 must have shape \(\.\.\., D\) with D = 2"),
    "x0-nan": ((X, 0.5, np.full((4, 2), NAN), VP), ValueError, r"^x0 must be finite"),
    "x0-huge": ((X, 0.5, np.full((4, 2), 1e300), VP), ValueError, r"^x0 must have coordinates in"),
    "x-nan": ((np.full((4, 2), NAN), 0.5, X, VP), ValueError, r"^x must be finite"),
    "x-scalar": ((0.0, 0.5, X, VP), ValueError, r"^x must have shape \(\.\.\., D\)"),
    "t-zero": ((X, 0.0, X, VP), ValueError, r"^t must lie in " + T_RANGE),
    "t-nan": ((X, NAN, X, VP), ValueError, r"^t must be finite"),
    "batch-mismatch": ((X, 0.5, np.zeros((3, 2)), VP),
     ValueError, r"^x batch shape \(4,\), x0 batch shape \(3,\)"),
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
case("sym_posterior_mean-data-text", lambda: proxy.sym_posterior_mean("x"),
 TypeError, r"^data must be an array")
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
    case(f"Schedule.{meth}-t-zero", lambda m=meth: getattr(VP, m)(0.0),
     ValueError, r"^t must lie in " + T_RANGE)
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
case("NumericFunction-nan", lambda: _f(np.array([1.0, NAN]), 1.0),
 ValueError, r"^argument alpha must be finite")
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
case("finite_array-text", lambda: _validate.finite_array(["a"], "y"),
 TypeError, r"^y must be an array of real")
case("coord_array-huge", lambda: _validate.coord_array([1e20], "y"),
 ValueError, r"^y must have coordinates in")
case("check_schedule-type", lambda: _validate.check_schedule(1.0), TypeError, r"^schedule must be")


@pytest.mark.parametrize("thunk, exc, regex", CASES)
def test_bad_input_is_rejected_with_a_clear_message(thunk, exc, regex):
    with pytest.raises(exc, match=regex):
        thunk()


def test_table_is_large_enough():
    assert len(CASES) >= 150
