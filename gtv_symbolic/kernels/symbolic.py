r"""Symbolic forms of the V-kernels (SymPy), for the derivations and their LaTeX.

* naive estimator (Prop. 4.1): :func:`~gtv_symbolic.kernels.naive.sym_naive_V`;
* linear models (Prop. 5.1, reconstructed):

  .. math::  V = \frac{D_t D_{t'} \alpha_t \alpha_{t'}}{S_t S_{t'}} \frac1P
             \Big\{\mathbb E\big[\lambda_u^2\, k(x,t;y,u)\, k(y,u;x',t')\,
             (\Sigma_{post} + r^2)\big] - m(x,t)\, m(x',t')\Big\},

  with the filtered feature kernel ``k = phi^T h(Sigma) phi'`` (:func:`sym_linear_V`);
* the gradient-flow filter and its limits, and the lazy-regime kernel (Prop. 5.2).

Examples
--------
>>> sym_gradient_flow_filter()
(1 - exp(-mu_k*tau))/mu_k
"""

from __future__ import annotations

import sympy as sp

from .. import symbols as S
from .._validate import int_arg
from .naive import sym_naive_step_covariance, sym_naive_V

__all__ = ["sym_gradient_flow_filter", "sym_filter_limits", "sym_linear_cov_W", "sym_linear_V",
           "sym_ntk_V", "latex_forms"]


def sym_gradient_flow_filter() -> sp.Expr:
    r"""``h_tau(mu) = (1 - e^{-tau mu}) / mu``: the gradient-flow spectral filter (reconstructed)."""
    return (1 - sp.exp(-S.tau * S.mu_k)) / S.mu_k


def sym_filter_limits() -> dict[str, sp.Expr]:
    r"""Limits of the gradient-flow filter, checked by SymPy.

    ``tau -> 0``: ``h ~ tau`` (``Cov ~ tau^2``); ``tau -> inf``: ``h -> 1/mu`` (least squares);
    the ridge filter ``1/(mu + rho)`` tends to ``1/mu`` as ``rho -> 0``; the Daleckii-Krein
    divided difference of the ridge filter is ``-h(mu_k) h(mu_l)``.
    """
    h = sym_gradient_flow_filter()
    mpos = sp.Dummy("mu", positive=True)  # limits in tau need mu > 0 (mu = 0: h = tau exactly)
    hp = h.subs(S.mu_k, mpos)
    ridge = 1 / (S.mu_k + S.rho)
    ridge_l = ridge.subs(S.mu_k, S.mu_l)
    return {
        "tau->0 of h/tau": sp.limit(hp / S.tau, S.tau, 0),
        "tau->oo of h*mu": sp.limit(hp * mpos, S.tau, sp.oo),
        "rho->0 of ridge": sp.limit(ridge, S.rho, 0),
        "ridge divided difference + h_k h_l": sp.simplify(
            (ridge - ridge_l) / (S.mu_k - S.mu_l) + ridge * ridge_l),
        "mu->0 of h": sp.limit(h, S.mu_k, 0),
    }


def sym_linear_cov_W(n_features: int = 2) -> sp.Matrix:
    r"""Symbolic ``Cov[W] = (1/P) B^{-1} E[zeta zeta^T] B^{-1}``, 1-D ridge model (Prop. 5.1, reconstructed).

    ``B = Sigma + rho I`` and ``E[zeta zeta^T]`` minus the mean term are kept as generic
    symmetric matrices ``Sigma``, ``K`` of size ``n_features`` (``K = Cov[lam phi (x0 - W* phi)]``).
    """
    F = int_arg(n_features, "n_features", 1, 8)
    Sig = sp.Matrix(F, F, lambda i, j: sp.Symbol(f"Sigma_{min(i, j) + 1}{max(i, j) + 1}", real=True))
    K = sp.Matrix(F, F, lambda i, j: sp.Symbol(f"K_{min(i, j) + 1}{max(i, j) + 1}", real=True))
    B = Sig + S.rho * sp.eye(F)
    Binv = B.inv()
    return (Binv * K * Binv / S.P).applyfunc(sp.simplify)


_k = sp.Function("k")  # filtered feature kernel k(x,t;y,u)
_r = sp.Function("r")  # approximation residual
_Sp = sp.Function(r"Sigma_post")
_E = sp.Function(r"E_{u,y}")


def sym_linear_V() -> sp.Expr:
    r"""Reconstructed linear-model V-kernel (Prop. 5.1), 1-D, denoiser form.

    ``V = D_t D_t' alpha_t alpha_t' / (S_t S_t') (1/P) { E[lam_u^2 k(x,t;y,u) k(y,u;x',t')
    (Sigma_post(y,u) + r(y,u)^2)] - m(x,t) m(x',t') }`` with ``k = phi^T h(Sigma) phi``.
    The expectation is written as a formal function ``E_{u,y}``.
    """
    t, tp = S.t, S.t_prime
    x, xp = sp.Symbol("x", real=True), sp.Symbol("x'", real=True)
    y = sp.Symbol("y", real=True)
    u = S.u
    lam_u = S.alpha_f(u) ** 2 / S.S_f(u)
    inner = lam_u**2 * _k(x, t, y, u) * _k(y, u, xp, tp) * (_Sp(y, u) + _r(y, u) ** 2)
    mfun = sp.Function("m_k")
    pref = S.D_f(t) * S.D_f(tp) * S.alpha_f(t) * S.alpha_f(tp) / (S.S_f(t) * S.S_f(tp))
    return pref / S.P * (_E(inner) - mfun(x, t) * mfun(xp, tp))


def sym_ntk_V() -> sp.Expr:
    r"""Reconstructed lazy-regime V-kernel in the NTK eigenbasis (Prop. 5.2), 1-D, C-term.

    ``V = D_t D_t' alpha alpha'/(S S') (1/P) sum_{k,l} h_tau(mu_k) h_tau(mu_l) e_k(x,t)
    E[lam^2 e_k e_l Sigma_post] e_l(x',t')``, written for one pair ``(k, l)``.
    """
    t, tp = S.t, S.t_prime
    x, xp = sp.Symbol("x", real=True), sp.Symbol("x'", real=True)
    e = sp.Function("e")
    Ekl = sp.Symbol("E_kl", real=True)
    h = sym_gradient_flow_filter()
    hl = h.subs(S.mu_k, S.mu_l)
    pref = S.D_f(t) * S.D_f(tp) * S.alpha_f(t) * S.alpha_f(tp) / (S.S_f(t) * S.S_f(tp))
    return pref / S.P * h * hl * e(x, t) * Ekl * e(xp, tp)


def latex_forms() -> dict[str, str]:
    """LaTeX of every symbolic V-kernel form (via :func:`gtv_symbolic.symbols.latex`)."""
    return {
        "naive_V (Prop. 4.1)": S.latex(sym_naive_V()),
        "naive step covariance": S.latex(sym_naive_step_covariance()),
        "linear V (Prop. 5.1, reconstructed)": S.latex(sym_linear_V()),
        "gradient-flow filter (Prop. 5.2, reconstructed)": S.latex(sym_gradient_flow_filter()),
        "NTK V (Prop. 5.2, reconstructed)": S.latex(sym_ntk_V()),
    }
