"""Symbolic identities of the point-mass model (paper Sec. 2)."""

import pytest
import sympy as sp

from gtv_symbolic import proxy
from gtv_symbolic import symbols as S

# explicit small data sets: numbers (made exact) and fully symbolic points
DATASETS = {
    "1d-three": [[-1], [0], [1]],
    "2d-three": [[1, 0], [0, 1], [-1, sp.Rational(1, 2)]],
    "1d-symbolic": list(S.mu_vecs(2, 1)),
}


def _zero(expr):
    """Targeted zero test: numerator over a common denominator, fully expanded.

    ``expand`` splits exp(a + b) into exp(a) exp(b), so sums of Gaussian kernels become
    polynomials in exponentials of atoms and cancel exactly.
    """
    return sp.expand(sp.numer(sp.together(expr))) == 0


@pytest.mark.parametrize("name", DATASETS)
def test_posterior_mean_of_proxy_is_true_score(name):
    d = DATASETS[name]
    dim = len(d[0])
    _, mus, _, _ = proxy.symbolic._sym_setup(d, None)
    w = proxy.sym_posterior_weights(d)
    terms = (wi * proxy.sym_proxy_score(mu, dim) for wi, mu in zip(w, mus, strict=True))
    e_proxy = sum(terms, sp.zeros(dim, 1))
    diff = e_proxy - proxy.sym_true_score(d, form="tweedie")
    assert all(_zero(e) for e in diff)


def test_zero_test_rejects_a_wrong_covariance():
    d = DATASETS["2d-three"]
    wrong = proxy.sym_covariance(d, form="hessian") - 2 * proxy.sym_covariance(d, form="denoiser")
    assert not all(_zero(e) for e in wrong)


@pytest.mark.parametrize("name", DATASETS)
def test_tweedie_equals_grad_log_p(name):
    d = DATASETS[name]
    diff = proxy.sym_true_score(d, form="grad") - proxy.sym_true_score(d, form="tweedie")
    assert all(_zero(e) for e in diff)


@pytest.mark.parametrize("name", DATASETS)
def test_three_forms_of_covariance_agree(name):
    d = DATASETS[name]
    den = proxy.sym_covariance(d, form="denoiser")
    for form in ("posterior", "hessian"):
        diff = proxy.sym_covariance(d, form=form) - den
        assert all(_zero(e) for e in diff), form


def test_generic_M_per_term_identity():
    """grad_x N_m = N_m * s~_m for every m: by linearity, grad p = sum_m N_m s~_m / M."""
    g = proxy.generic_forms(dim=2)
    x = S.x_vec(2)
    for i in range(2):
        assert _zero(sp.diff(g["kernel"], x[i]) - g["kernel"] * g["proxy_score"][i])


def test_generic_M_grad_log_p_is_tweedie_for_explicit_M():
    g = proxy.generic_forms(dim=1)
    x = S.x_vec(1)[0]
    grad = sp.diff(sp.log(g["marginal"]), x)
    for m_val in (1, 2, 3):
        diff = (grad - g["tweedie_score"][0]).subs(S.M, m_val).doit()
        assert _zero(diff)


@pytest.mark.parametrize("form", ["posterior", "hessian", "denoiser"])
def test_single_point_has_zero_covariance(form):
    c = proxy.sym_covariance([[sp.Rational(1, 3), 2]], form=form)
    assert all(_zero(e) for e in c)


def test_single_point_ratio_is_zero():
    assert _zero(proxy.sym_variance_ratio([[1, 2]]))


@pytest.mark.parametrize("dim", [1, 2])
def test_gaussian_data_covariance_constant_in_x(dim):
    m0 = sp.Matrix(sp.symbols(f"m0_1:{dim + 1}", real=True))
    if dim == 1:
        S0 = sp.Matrix([[sp.Symbol("v", positive=True)]])
    else:
        a, c = sp.symbols("a c", positive=True)
        S0 = sp.Matrix([[a, 0], [0, c]])
    hess = proxy.sym_gaussian_covariance(m0, S0, "hessian")
    post = proxy.sym_gaussian_covariance(m0, S0, "posterior")
    assert all(_zero(e) for e in (hess - post))
    x = S.x_vec(dim)
    assert all(_zero(sp.diff(e, xi)) for e in hess for xi in x)
    assert not all(_zero(e) for e in hess)  # nonzero constant


def test_latex_uses_package_names():
    tex = S.latex(proxy.SCORE_EXPR)
    assert r"\alpha_t" in tex and r"\sigma_t^{2}" in tex


def test_generic_forms_reduce_to_explicit_for_M3():
    """The indexed generic-M covariance equals the explicit one after substituting M = 3."""
    g = proxy.generic_forms(dim=1)
    pts = [-1, 0, 2]
    subs = {g["mu"][k + 1, 1]: v for k, v in enumerate(pts)}
    gen = g["covariance"][0, 0].subs(S.M, 3).doit().subs(subs)
    assert _zero(gen - proxy.sym_covariance([[v] for v in pts], form="denoiser")[0, 0])


def test_latex_formulas_parse_with_mathtext():
    from matplotlib.mathtext import MathTextParser

    parser = MathTextParser("path")
    tex = proxy.latex_formulas(dim=1)
    assert r"\sum" in tex["weight"] and r"\alpha_t" in tex["covariance"]
    for s in tex.values():
        parser.parse(f"${s}$")  # raises ValueError on invalid mathtext
