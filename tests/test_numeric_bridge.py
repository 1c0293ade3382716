import numpy as np
import pytest
import sympy as sp

from gtv_symbolic import numeric
from gtv_symbolic import symbols as S


def test_constant_output_broadcasts():
    f = numeric.lambdify([S.t], sp.Integer(3))
    out = f(np.ones((4, 5)))
    assert out.shape == (4, 5) and np.all(out == 3)


def test_matrix_axes_go_last():
    x1, x2 = S.x_vec(2)
    f = numeric.lambdify([x1, x2], sp.Matrix([[x1, 1], [x2, x1 * x2]]))
    out = f(np.arange(3.0), 2.0)
    assert out.shape == (3, 2, 2)
    np.testing.assert_array_equal(out[:, 1, 1], 2 * np.arange(3.0))
    np.testing.assert_array_equal(out[:, 0, 1], 1)


def test_cse_on_and_off_agree(rng):
    x1, x2 = S.x_vec(2)
    e = sp.exp(-(x1 - x2) ** 2) * sp.sin(x1 - x2) + (x1 - x2) ** 3
    a, b = rng.normal(size=(2, 100))
    np.testing.assert_allclose(numeric.lambdify([x1, x2], e, cse=True)(a, b),
                               numeric.lambdify([x1, x2], e, cse=False)(a, b), rtol=1e-14)


def test_expm1_rewrite_is_accurate():
    e = 1 - sp.exp(-S.t)
    f = numeric.lambdify([S.t], e)
    assert f(1e-12) == pytest.approx(1e-12, rel=1e-10)
    g = numeric.lambdify([S.t], e, stable=False)
    assert abs(g(1e-12) - 1e-12) / 1e-12 > 1e-6  # the naive form really does cancel


def test_missing_symbol_and_wrong_arity():
    x1, x2 = S.x_vec(2)
    with pytest.raises(ValueError, match="free symbols not in args"):
        numeric.lambdify([x1], x1 + x2)
    f = numeric.lambdify([x1, x2], x1 + x2)
    with pytest.raises(TypeError, match="expected 2 arguments"):
        f(1.0)
