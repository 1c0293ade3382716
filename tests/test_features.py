"""Feature maps: symbolic oracle, separable numerics, the paper's definitions, bad input."""

import numpy as np
import pytest
import sympy as sp

from gtv_symbolic import symbols as S
from gtv_symbolic.features import MAX_FEATURES, make_features
from gtv_symbolic.numeric import lambdify

CASES = [("gaussian", 1, 4, 3), ("gaussian", 2, 2, 3), ("fourier", 1, 5, 4), ("fourier", 2, 4, 3)]


@pytest.mark.parametrize("family,dim,n_x,n_t", CASES)
def test_numeric_matches_symbolic(family, dim, n_x, n_t, rng):
    fm = make_features(family, dim, n_x, n_t, eps=1e-2)
    expr = fm.symbolic()
    assert expr.shape == (fm.n_features, 1)
    args = list(S.x_vec(dim)) + [S.t]
    # stable=False: the expm1/log1p rewrite pass is slow and irrelevant for exp(-quadratic)
    f = lambdify(args, expr, stable=False)
    J = lambdify(args, expr.jacobian(list(S.x_vec(dim))), stable=False)
    x = rng.uniform(-3, 3, (40, dim))
    t = rng.uniform(1e-2, 1, 40)
    ref = f(*x.T, t).reshape(40, fm.n_features)
    np.testing.assert_allclose(fm(x, t), ref, rtol=1e-10, atol=1e-300)
    jref = J(*x.T, t).reshape(40, fm.n_features, dim)
    np.testing.assert_allclose(fm.grad_x(x, t), jref, rtol=1e-9, atol=1e-12 * np.abs(jref).max())


@pytest.mark.parametrize("family,dim,n_x,n_t", CASES + [("gaussian", 1, 16, 16),
                                                        ("gaussian", 2, 10, 10)])
def test_separable_apply_matches_dense(family, dim, n_x, n_t, rng):
    fm = make_features(family, dim, n_x, n_t, eps=1e-3)
    W = rng.normal(size=(3, dim, fm.n_features))
    x = rng.uniform(-4, 4, (3, 500, dim))  # includes points far outside the centres
    y, jac = fm.apply(W, x, 0.37, jacobian=True)
    y_ref = np.einsum("mdf,mnf->mnd", W, fm(x, 0.37))
    j_ref = np.einsum("mdf,mnfe->mnde", W, fm.grad_x(x, 0.37))
    scale = np.abs(y_ref).max()
    np.testing.assert_allclose(y, y_ref, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(jac, j_ref, rtol=0, atol=1e-12 * np.abs(j_ref).max())
    model = np.repeat(np.arange(3), 500)
    y2, j2 = fm.apply_per_point(W, model, x.reshape(-1, dim), 0.37, jacobian=True)
    np.testing.assert_allclose(y2, y.reshape(-1, dim), rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(j2, jac.reshape(-1, dim, dim), rtol=0,
                               atol=1e-12 * np.abs(j_ref).max())


def test_gaussian_recurrence_equals_direct(rng):
    b = make_features("gaussian", 1, 16, 2, eps=1e-2).x_bases[0]
    z = rng.uniform(-6, 6, (2, 5000))
    direct = b.values(z)
    np.testing.assert_allclose(np.swapaxes(b.columns(z), 1, 2), direct, rtol=1e-11, atol=1e-300)


def test_paper_definitions():
    eps = 1e-2
    g = make_features("gaussian", 1, 16, 16, eps)
    c = np.linspace(-1.5, 1.5, 16)
    np.testing.assert_allclose(g.x_bases[0].centres, c)
    assert g.x_bases[0].std == pytest.approx((c[1] - c[0]) / 2)
    np.testing.assert_allclose(g.t_basis.centres, np.linspace(eps, 1, 16))
    # normalised pdf bumps, C-order flattening phi_x[:, :, None] * phi_t[:, None, :]
    from scipy.stats import norm

    x, t = np.array([[0.3], [-1.1]]), np.array([0.2, 0.7])
    px = norm.pdf(x, loc=c, scale=(c[1] - c[0]) / 2)
    tc = np.linspace(eps, 1, 16)
    pt = norm.pdf(t[:, None], loc=tc, scale=(tc[1] - tc[0]) / 2)
    np.testing.assert_allclose(g(x, t), (px[:, :, None] * pt[:, None, :]).reshape(2, -1),
                               rtol=1e-12)
    f = make_features("fourier", 2, 10, 10, eps)
    z = np.array([0.4])
    vals = f.x_bases[0].values(z)[0]
    k = 2 * np.pi / 3.0
    expect = [1] + [np.cos(k * n * 0.4) for n in range(1, 6)] + [np.sin(k * n * 0.4) for n in range(1, 5)]
    np.testing.assert_allclose(vals, expect, rtol=1e-13, atol=1e-15)
    assert f.t_basis.L == pytest.approx(1 - eps)
    assert f.n_features == 1000 and f.shape == (10, 10, 10)


@pytest.mark.parametrize("family", ["gaussian", "fourier"])
def test_gaussian_expectations_exact(family):
    b = make_features(family, 1, 6, 2, eps=1e-2).x_bases[0]
    mean, var = 0.3, 0.2
    # high-order Gauss-Hermite quadrature as the reference
    z, w = np.polynomial.hermite_e.hermegauss(200)
    pts = mean + np.sqrt(var) * z
    w = w / w.sum()
    v = b.values(pts)
    np.testing.assert_allclose(b.expect(mean, var), w @ v, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(b.expect_outer(mean, var), np.einsum("q,qi,qj->ij", w, v, v),
                               rtol=1e-10, atol=1e-14)


def test_bad_input():
    with pytest.raises(ValueError, match="family"):
        make_features("wavelet", 1, 4, 4, 1e-2)
    with pytest.raises(ValueError, match="eps"):
        make_features("gaussian", 1, 4, 4, 0.0)
    with pytest.raises(ValueError, match="eps"):
        make_features("gaussian", 1, 4, 4, 1.0, T=1.0)
    with pytest.raises(ValueError, match="too large"):
        make_features("gaussian", 3, 20, 20, 1e-2)  # 160000 features > MAX_FEATURES
    assert 20**3 * 20 > MAX_FEATURES
    with pytest.raises(ValueError, match="dim"):
        make_features("gaussian", 0, 4, 4, 1e-2)
    fm = make_features("gaussian", 2, 3, 3, 1e-2)
    with pytest.raises(ValueError, match="shape"):
        fm(np.zeros((4, 3)), 0.5)


def test_symbolic_derivative_is_exact():
    fm = make_features("gaussian", 1, 3, 2, eps=0.1)
    e = fm.symbolic()[0]
    x1 = S.x_vec(1)[0]
    # the derivative of a normalised bump: -(x - c)/s^2 times the bump
    c, s = sp.Rational(-3, 2), sp.Rational(3, 4)
    bump = sp.exp(-(x1 - c) ** 2 / (2 * s**2)) / (sp.sqrt(2 * sp.pi) * s)
    assert sp.simplify(sp.diff(e, x1) - e * (-(x1 - c) / s**2)) == 0
    assert sp.simplify(e / fm.t_basis.symbolic(S.t)[0] - bump) == 0


def test_a_new_family_is_one_subclass():
    """Subclassing AbstractBasis1D registers the family: make_features then builds it."""
    from gtv_symbolic.features import AbstractBasis1D, families

    class Monomials(AbstractBasis1D):
        family = "test-monomials"

        def __init__(self, n):
            self.n = n

        @classmethod
        def for_x(cls, n, lo, hi):
            return cls(n)

        @classmethod
        def for_t(cls, n, eps, T):
            return cls(n)

        def values(self, z):
            return np.asarray(z, dtype=float)[..., None] ** np.arange(self.n)

        def values_and_derivative(self, z):
            z = np.asarray(z, dtype=float)[..., None]
            k = np.arange(self.n)
            return z**k, k * z ** np.maximum(k - 1, 0)

        def expect(self, mean, var):
            raise NotImplementedError

        def expect_outer(self, mean, var):
            raise NotImplementedError

        def symbolic(self, z):
            return [z**k for k in range(self.n)]

        def cache_key(self):
            return ("test-monomials", self.n)

    try:
        assert "test-monomials" in families()
        fm = make_features("test-monomials", 2, 3, 2, eps=1e-2)
        x = np.array([[0.5, -2.0]])
        phi = fm(x, 0.3)
        assert phi.shape == (1, 18)
        np.testing.assert_allclose(phi[0, :6].reshape(3, 2)[:, 0], [1, -2.0, 4.0])  # b_0(x1)=1
        W = np.random.default_rng(0).standard_normal((2, 18))
        np.testing.assert_allclose(fm.apply(W, x, 0.3), phi @ W.T, rtol=1e-12)
        np.testing.assert_allclose(fm.apply(W, x, 0.3, jacobian=True)[1],
                                   np.einsum("nfe,df->nde", fm.grad_x(x, 0.3), W), rtol=1e-12)
    finally:
        from gtv_symbolic.features.base import REGISTRY
        REGISTRY.pop("test-monomials", None)


def test_uneven_gaussian_centres_use_the_direct_formula():
    from gtv_symbolic.features import GaussianBasis

    b = GaussianBasis(4, centres=(-1.0, 0.0, 0.5, 1.0), std=0.25)
    assert not b.uniform
    z = np.linspace(-1.5, 1.5, 13)[None, :]
    np.testing.assert_allclose(b.columns(z)[0], b.values(z[0]).T, rtol=1e-14)


def test_nan_inputs_rejected():
    fm = make_features("gaussian", 1, 4, 3, eps=1e-2)
    with pytest.raises(ValueError, match="finite"):
        fm(np.array([[np.nan]]), 0.5)
    with pytest.raises(ValueError, match="eps must lie"):
        make_features("gaussian", 1, 4, 3, eps=2.0)
