r"""Symbolic Martin-Siggia-Rose (MSR) path integral of the Euler-discretized PF-ODE.

Paper Sec. 3. On the grid ``t_k = T - k dt`` the sampler is the Euler map

    x_{k+1} = x_k + dt (beta_k x_k + D_k s^_k),     s^_k = s^_theta(x_k, t_k),

and with ``delta(y) = int dp/(2 pi) exp(i p y)`` the output law is (paper Sec. 3)

    q(x_N | x_0; theta) = int prod_k dx_k dp_k/(2 pi)
                          exp(i sum_k p_k [x_{k+1} - x_k - dt(beta_k x_k + D_k s^_k)]).

The model enters the exponent linearly, so averaging over training randomness is a cumulant
expansion (paper Sec. 3): ``[q] = int exp(M1 - M2/2 + ...)`` with

    M1 = i sum_k p_k [x_{k+1} - x_k - dt(beta_k x_k + D_k s_avg,k)],
    M2 = dt^2 sum_{k,l} p_k V_kl p_l,      V_kl = D_k Cov[s^_k, s^_l] D_l.

Keeping M1 and M2 only (Gaussian truncation) is the same as adding Gaussian noise ``xi_k`` with
``<xi_k xi_l> = V_kl`` to the Euler step: the effective SDE of Prop. 3.1.

Everything here is one-dimensional in x (D = 1) and works for any number of steps ``n_steps``;
the functions return SymPy objects, plus one NumPy helper for Monte Carlo checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from . import symbols as S

__all__ = ["DiscretePath", "discrete_path", "euler_step", "msr_exponent", "m1", "v_kernel", "m2",
           "cumulants_from_moments", "gaussian_integral", "averaged_transition",
           "effective_sde_output", "simulate_euler_ensemble"]


@dataclass(frozen=True)
class DiscretePath:
    """Symbols of an ``n_steps`` Euler path: states x_0..x_N, responses p_0..p_{N-1}, coefficients."""

    n_steps: int
    x: tuple  # x_0 .. x_N
    p: tuple  # p_0 .. p_{N-1}
    beta: tuple
    D: tuple
    s_hat: tuple  # the model's values s^_k at the path points
    s_avg: tuple
    cov: sp.Matrix  # Cov[s^_k, s^_l]


def discrete_path(n_steps: int) -> DiscretePath:
    """Symbols for an Euler path with ``n_steps`` steps (``n_steps >= 1``)."""
    if not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(f"n_steps must be an integer >= 1, got {n_steps!r}")
    n = n_steps
    x = sp.symbols(f"x_0:{n + 1}", real=True)
    p = sp.symbols(f"p_0:{n}", real=True)
    beta = sp.symbols(f"beta_0:{n}", real=True)
    D = sp.symbols(f"D_0:{n}", positive=True)
    s_hat = sp.symbols(f"shat_0:{n}", real=True)
    s_avg = sp.symbols(f"savg_0:{n}", real=True)
    # variances positive, covariances real
    cov = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"c_{min(i, j)}{max(i, j)}", real=True,
                                                  positive=True if i == j else None))
    return DiscretePath(n, x, p, beta, D, s_hat, s_avg, cov)


def euler_step(x_k, beta_k, D_k, s_k, dt=S.dt):
    """One Euler step of the PF-ODE in reversed time: ``x_k + dt (beta_k x_k + D_k s_k)``."""
    return x_k + dt * (beta_k * x_k + D_k * s_k)


def msr_exponent(path: DiscretePath, dt=S.dt, scores=None):
    """Exponent of the MSR integral (paper Sec. 3) on the grid: ``i sum_k p_k [x_{k+1} - euler_step(x_k)]``."""
    scores = path.s_hat if scores is None else scores
    return sp.I * sum(path.p[k] * (path.x[k + 1] - euler_step(path.x[k], path.beta[k], path.D[k],
                                                             scores[k], dt))
                      for k in range(path.n_steps))


def m1(path: DiscretePath, dt=S.dt):
    """First cumulant term ``M1``: the MSR exponent with ``s^`` replaced by ``s_avg``."""
    return msr_exponent(path, dt, scores=path.s_avg)


def v_kernel(path: DiscretePath) -> sp.Matrix:
    """``V_kl = D_k Cov[s^_k, s^_l] D_l``."""
    n = path.n_steps
    return sp.Matrix(n, n, lambda k, j: path.D[k] * path.cov[k, j] * path.D[j])


def m2(path: DiscretePath, dt=S.dt):
    """Second cumulant term ``M2 = dt^2 sum_{k,l} p_k V_kl p_l`` (paper Sec. 3)."""
    pv = sp.Matrix(path.p)
    return dt**2 * (pv.T * v_kernel(path) * pv)[0, 0]


def cumulants_from_moments(order: int = 3):
    """Cumulants ``kappa_1..kappa_order`` in terms of raw moments ``mu_1..mu_order``.

    From the series ``log E[e^{lam Z}] = sum_n kappa_n lam^n / n!`` with
    ``E[e^{lam Z}] = 1 + sum_n mu_n lam^n / n!``. Returns ``(moments, cumulants)``.
    """
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    lam = sp.Symbol("lambda_c")
    mus = sp.symbols(f"mu_1:{order + 1}", real=True)
    mgf = 1 + sum(mus[n - 1] * lam**n / sp.factorial(n) for n in range(1, order + 1))
    series = sp.series(sp.log(mgf), lam, 0, order + 1).removeO()
    kappas = [sp.expand(series.coeff(lam, n) * sp.factorial(n)) for n in range(1, order + 1)]
    return mus, kappas


def gaussian_integral(expr, variables):
    r"""``int exp(expr) d^n v`` for ``expr`` quadratic in ``variables`` (Re of the quadratic part
    negative definite): ``sqrt((2 pi)^n / det A) exp(c + b^T A^{-1} b / 2)`` with
    ``A = -hess expr``, ``b = grad expr |_0``, ``c = expr |_0``.

    Returns ``(prefactor, exponent)`` so that the integral is ``prefactor * exp(exponent)``.
    """
    variables = list(variables)
    zero = {v: 0 for v in variables}
    A = -sp.hessian(expr, variables)
    if any(sp.diff(A, v) != sp.zeros(*A.shape) for v in variables):
        raise ValueError("expr must be quadratic in variables")
    b = sp.Matrix([sp.diff(expr, v).subs(zero) for v in variables])
    c = expr.subs(zero)
    Ainv = A.inv()
    return sp.sqrt((2 * sp.pi) ** len(variables) / A.det()), c + (b.T * Ainv * b)[0, 0] / 2


def averaged_transition(path: DiscretePath, dt=S.dt, affine_scores=None):
    """Gaussian-truncated ``[q(x_N | x_0)]`` by doing the discrete path integral exactly.

    Integrates ``exp(M1 - M2/2)`` over ``p_0..p_{N-1}`` (measure ``dp/(2 pi)``) and the
    intermediate states ``x_1..x_{N-1}``. ``affine_scores`` (a list of ``(g_k, h_k)``) sets
    ``s_avg(x_k) = g_k x_k + h_k`` so the result is a Gaussian in ``x_N``.
    Returns ``(prefactor, exponent, mean, variance)``: the density of ``x_N`` is
    ``prefactor * exp(exponent)``.
    """
    n = path.n_steps
    if affine_scores is not None:
        savg = [g * path.x[k] + h for k, (g, h) in enumerate(affine_scores)]
    else:
        savg = list(path.s_avg)
    expo = msr_exponent(path, dt, scores=savg) - m2(path, dt) / 2
    pref, expo = gaussian_integral(expo, path.p)
    pref = pref / (2 * sp.pi) ** n
    for k in range(1, n):
        pk, expo = gaussian_integral(expo, [path.x[k]])
        pref = pref * pk
    xN = path.x[n]
    var = sp.factor(sp.cancel(-1 / sp.diff(expo, xN, 2)))
    mean = sp.factor(sp.cancel(sp.diff(expo, xN).subs(xN, 0) * var))
    return pref, expo, mean, var


def effective_sde_output(path: DiscretePath, dt=S.dt, affine_scores=None):
    """Mean and variance of ``x_N`` from the effective SDE (Prop. 3.1) by direct propagation:
    ``x_{k+1} = x_k + dt (beta_k x_k + D_k s_avg(x_k) + xi_k)``, ``<xi_k xi_l> = V_kl``."""
    n = path.n_steps
    xi = sp.symbols(f"xi_0:{n}", real=True)
    xk = path.x[0]
    for k in range(n):
        savg = (affine_scores[k][0] * xk + affine_scores[k][1]) if affine_scores else path.s_avg[k]
        xk = xk + dt * (path.beta[k] * xk + path.D[k] * savg + xi[k])
    xk = sp.expand(xk)
    grad = sp.Matrix([xk.coeff(v) for v in xi])
    mean = xk.subs({v: 0 for v in xi})
    var = (grad.T * v_kernel(path) * grad)[0, 0]  # grad already carries the dt
    return mean, var


def simulate_euler_ensemble(rng: np.random.Generator, x0: float, dt: float, beta, D, g, h, cov,
                            n_models: int) -> np.ndarray:
    """Monte Carlo: ``n_models`` Gaussian random score "models" ``s^_k = g_k x_k + h_k + delta_k``,
    ``delta ~ N(0, cov)`` shared along each path; returns the ``n_models`` outputs ``x_N``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    cov = np.asarray(cov, dtype=float)
    n = cov.shape[0]
    delta = rng.multivariate_normal(np.zeros(n), cov, size=n_models)
    x = np.full(n_models, float(x0))
    for k in range(n):
        s = g[k] * x + h[k] + delta[:, k]
        x = x + dt * (beta[k] * x + D[k] * s)
    return x
