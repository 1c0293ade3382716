r"""Symbolic forms of the V-kernels (SymPy), for the derivations and their LaTeX.

* naive estimator (Prop. 4.1): :func:`~gtv_symbolic.kernels.sym_naive_V`;
* linear models (Prop. 5.1, reconstructed):

  .. math::  V = \frac{D_t D_{t'} \alpha_t \alpha_{t'}}{S_t S_{t'}} \frac1P
             \Big\{\mathbb E\big[\lambda_u^2\, k(x,t;y,u)\, k(y,u;x',t')\,
             (\Sigma_{post} + r^2)\big] - m(x,t)\, m(x',t')\Big\},

  with the filtered feature kernel ``k = phi^T h(Sigma) phi'`` (:func:`~gtv_symbolic.kernels.sym_linear_V`);
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
    r"""The gradient-flow spectral filter (paper Sec. 5, Prop. 5.2, reconstructed).

    .. math:: h_\tau(\mu) = \frac{1 - e^{-\tau \mu}}{\mu}

    Returns
    -------
    sympy.Expr
        In the symbols ``tau`` and ``mu_k``.

    Examples
    --------
    >>> from gtv_symbolic import kernels
    >>> kernels.sym_gradient_flow_filter()
    (1 - exp(-mu_k*tau))/mu_k
    """
    return (1 - sp.exp(-S.tau * S.mu_k)) / S.mu_k


def sym_filter_limits() -> dict[str, sp.Expr]:
    r"""Limits of the spectral filters, computed by SymPy (paper Sec. 5).

    .. math:: \lim_{\tau\to0} \frac{h_\tau}{\tau} = 1, \quad
              \lim_{\tau\to\infty} \mu h_\tau = 1, \quad
              \lim_{\rho\to0} \frac{1}{\mu + \rho} = \frac1\mu, \quad
              \frac{h(\mu_k) - h(\mu_l)}{\mu_k - \mu_l} = -h(\mu_k) h(\mu_l) \ \text{(ridge)}, \quad
              \lim_{\mu\to0} h_\tau = \tau

    So ``Cov ~ tau^2`` at small ``tau`` and least squares at large ``tau``.

    Returns
    -------
    dict of str to sympy.Expr
        Each limit's value (the ridge divided-difference entry is the residual, 0).

    Examples
    --------
    >>> from gtv_symbolic import kernels
    >>> lim = kernels.sym_filter_limits()
    >>> lim["tau->0 of h/tau"], lim["tau->oo of h*mu"], lim["ridge divided difference + h_k h_l"]
    (1, 1, 0)
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
    r"""Symbolic weight covariance of a 1-D ridge model (paper Sec. 5, Prop. 5.1, reconstructed).

    .. math:: \mathrm{Cov}[W] = \frac1P B^{-1} K B^{-1}, \qquad B = \Sigma + \rho I, \qquad
              K = \mathrm{Cov}\bigl[\lambda \phi (x_0 - W_* \phi)\bigr]

    with ``Sigma`` and ``K`` generic symmetric matrices of size ``n_features``.

    Parameters
    ----------
    n_features : int; F, 1 to 8.

    Returns
    -------
    sympy.Matrix, shape (F, F)

    Examples
    --------
    >>> from gtv_symbolic import kernels
    >>> kernels.sym_linear_cov_W(1)
    Matrix([[K_11/(P*(Sigma_11 + rho)**2)]])
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
    r"""Reconstructed linear-model V-kernel (paper Sec. 5, Prop. 5.1), 1-D, denoiser form.

    .. math:: V = \frac{D_t D_{t'} \alpha_t \alpha_{t'}}{S_t S_{t'}} \frac1P
              \Bigl\{\mathbb{E}_{u,y}\bigl[\lambda_u^2\, k(x,t;y,u)\, k(y,u;x',t')\,
              (\Sigma_{\mathrm{post}}(y,u) + r(y,u)^2)\bigr] - m(x,t)\, m(x',t')\Bigr\}

    with the filtered feature kernel ``k = phi^T h(Sigma) phi'``, ``S = sigma^2`` and the
    residual ``r``; the expectation is a formal function ``E_{u,y}``.

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> import sympy as sp
    >>> from gtv_symbolic import kernels, symbols as S
    >>> V = kernels.sym_linear_V()
    >>> V.has(S.P), sp.expand(V * S.P).has(S.P)  # V is proportional to 1/P
    (True, False)
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
    r"""Reconstructed lazy-regime V-kernel in the NTK eigenbasis (paper Sec. 5, Prop. 5.2), C-term.

    .. math:: V = \frac{D_t D_{t'} \alpha_t \alpha_{t'}}{S_t S_{t'}} \frac1P
              \sum_{k,l} h_\tau(\mu_k) h_\tau(\mu_l)\, e_k(x,t)\, E_{kl}\, e_l(x',t'), \qquad
              E_{kl} = \mathbb{E}[\lambda^2 e_k e_l \Sigma_{\mathrm{post}}]

    written for one pair ``(k, l)`` (1-D).

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> import sympy as sp
    >>> from gtv_symbolic import kernels, symbols as S
    >>> V = kernels.sym_ntk_V()
    >>> sp.limit(V / S.tau**2, S.tau, 0).has(S.tau)  # V = O(tau^2) as tau -> 0
    False
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
    """LaTeX of every symbolic V-kernel form (via :func:`gtv_symbolic.symbols.latex`).

    No formula of its own: the LaTeX of the forms this module builds.

    Returns
    -------
    dict of str
        Keyed by form and proposition (naive V, naive step covariance, linear V, gradient-flow
        filter, NTK V).

    Examples
    --------
    >>> from gtv_symbolic import kernels
    >>> list(kernels.latex_forms())[:2]
    ['naive_V (Prop. 4.1)', 'naive step covariance']
    """
    return {
        "naive_V (Prop. 4.1)": S.latex(sym_naive_V()),
        "naive step covariance": S.latex(sym_naive_step_covariance()),
        "linear V (Prop. 5.1, reconstructed)": S.latex(sym_linear_V()),
        "gradient-flow filter (Prop. 5.2, reconstructed)": S.latex(sym_gradient_flow_filter()),
        "NTK V (Prop. 5.2, reconstructed)": S.latex(sym_ntk_V()),
    }
