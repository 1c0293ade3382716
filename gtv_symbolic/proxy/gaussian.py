r"""SymPy form of the proxy-score covariance for Gaussian data ``N(m0, S0)`` (paper Sec. 2)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import symbols as S
from .._validate import coord_array
from .symbolic import MAX_SYMBOLIC_DIM

__all__ = ["sym_gaussian_covariance"]


def _sym_matrix(v, name):
    if isinstance(v, sp.MatrixBase):
        return sp.Matrix(v)
    arr = np.atleast_1d(coord_array(v, name, ndim=(1, 2)))
    return sp.Matrix(arr.reshape(arr.shape[0], -1)).applyfunc(lambda e: sp.nsimplify(float(e), rational=True))


def sym_gaussian_covariance(m0: sp.Matrix, S0: sp.Matrix, form: str = "hessian") -> sp.Matrix:
    r"""Proxy-score covariance for Gaussian data ``N(m0, S0)`` (paper Sec. 2).

    .. math:: C = \frac{I}{\sigma^2} + \nabla_x^2 \log \mathcal{N}(x;\ \alpha m_0,\ \alpha^2 S_0 + \sigma^2 I)
              = \frac{\alpha^2}{\sigma^4}\bigl(S_0^{-1} + \tfrac{\alpha^2}{\sigma^2} I\bigr)^{-1}

    (``form='hessian'`` and ``'posterior'``; the posterior covariance is constant in x;
    derivation *gaussian-data*).

    Parameters
    ----------
    m0 : array_like or sympy.Matrix, shape (D,) or (D, 1)
        Data mean, D at most :data:`MAX_SYMBOLIC_DIM`.
    S0 : array_like or sympy.Matrix, shape (D, D)
        Symmetric data covariance.
    form : {'hessian', 'posterior'}

    Returns
    -------
    sympy.Matrix, shape (D, D)
        In the symbols ``alpha``, ``sigma2`` (and ``x`` before simplification).

    Examples
    --------
    >>> from gtv_symbolic import proxy
    >>> proxy.sym_gaussian_covariance([0], [[1]], form="posterior")
    Matrix([[alpha**2/(sigma2*(alpha**2 + sigma2))]])
    """
    m0, S0 = _sym_matrix(m0, "m0"), _sym_matrix(S0, "S0")
    dim = m0.shape[0]
    if m0.shape[1] != 1 or dim > MAX_SYMBOLIC_DIM:
        raise ValueError(f"m0 must be a column of at most {MAX_SYMBOLIC_DIM} entries, got shape {m0.shape}")
    if S0.shape != (dim, dim):
        raise ValueError(f"S0 must have shape ({dim}, {dim}) (m0's dimension), got {S0.shape}")
    if S0 != S0.T:
        raise ValueError("S0 must be symmetric")
    x = S.x_vec(dim)
    a, s2 = S.alpha, S.sigma2
    if form == "hessian":
        cov = a**2 * S0 + s2 * sp.eye(dim)
        r = x - a * m0
        logp = -(r.T * cov.inv() * r)[0, 0] / 2 - sp.log(cov.det()) / 2
        return sp.eye(dim) / s2 + sp.hessian(logp, list(x))
    if form == "posterior":
        post = (S0.inv() + a**2 / s2 * sp.eye(dim)).inv()
        return a**2 * post / s2**2
    raise ValueError(f"form must be 'hessian' or 'posterior', got {form!r}")
