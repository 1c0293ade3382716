r"""Every SymPy symbol of the package, defined once with its assumptions and LaTeX name.

Two symbols with the same name but different assumptions are different objects in SymPy
and break substitution and ``lambdify``; so all modules import their symbols from here.
LaTeX names are applied through :func:`latex` (``symbol_names=``), never by patching the
global printer.

Notation follows the paper (Sec. 2, Background): data ``x0`` in R^D, forward process
``dx = -beta_t x dt + G_t dW`` with ``D_t = G_t G_t^T / 2``, conditional law
``N(alpha_t x0, S_t)`` with ``S_t = sigma_t^2 I`` (isotropic throughout).

The schedule values as undefined functions of time, ``alpha_f``, ``S_f``, ``beta_f`` and
``D_f`` (``alpha_f(t)`` is :math:`\alpha(t)`), are public but not in ``__all__``: SymPy makes
each one a class whose ``__module__`` is ``None`` (for pickling), which ``help()`` cannot
document.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ._validate import MAX_DIM, int_arg

__all__ = [
    "t", "t_prime", "u", "T", "eps", "dt", "beta_min", "beta_d", "rho", "kappa", "tau", "P", "F",
    "M", "m_idx", "n_idx", "alpha", "sigma2", "beta", "Dcoef", "xdotmu", "musq", "q_m", "q_ref",
    "lam", "LATEX_NAMES", "x_vec", "mu_vecs", "latex", "mu_k", "mu_l", "F_eff", "post_var",
]

# --- time and schedule parameters -------------------------------------------------------
t = sp.Symbol("t", positive=True)
t_prime = sp.Symbol("t'", positive=True)  # a second time (two-time kernels)
u = sp.Symbol("u", positive=True)  # training time inside expectations
T = sp.Symbol("T", positive=True)
eps = sp.Symbol("epsilon", positive=True)
dt = sp.Symbol("Delta_t", positive=True)
beta_min = sp.Symbol("beta_min", positive=True)
beta_d = sp.Symbol("beta_d", positive=True)
rho = sp.Symbol("rho", positive=True)  # ridge strength
kappa = sp.Symbol("kappa", positive=True)  # noise scale / F over P
tau = sp.Symbol("tau", positive=True)  # training time (lazy regime)
P = sp.Symbol("P", integer=True, positive=True)  # number of DSM training samples
F = sp.Symbol("F", integer=True, positive=True)  # number of features
M = sp.Symbol("M", integer=True, positive=True)  # number of training points
m_idx = sp.Symbol("m", integer=True, positive=True)  # index over training points
n_idx = sp.Symbol("n", integer=True, positive=True)

# --- schedule values as plain positive scalars (used by the numeric kernels) ------------
alpha = sp.Symbol("alpha", positive=True)  # alpha_t
sigma2 = sp.Symbol("sigma2", positive=True)  # sigma_t^2 = S_t
beta = sp.Symbol("beta", nonnegative=True)  # beta_t
Dcoef = sp.Symbol("D", nonnegative=True)  # D_t = g_t^2 / 2

# --- schedule values as functions of time (used in derivations) --------------------------
alpha_f = sp.Function("alpha", positive=True)
S_f = sp.Function("S", positive=True)
beta_f = sp.Function("beta", real=True)
D_f = sp.Function("D", positive=True)

# --- scalar helpers for the proxy-score kernels --------------------------------------------
xdotmu = sp.Symbol("xdotmu", real=True)  # x . mu_m
musq = sp.Symbol("musq", nonnegative=True)  # |mu_m|^2
q_m = sp.Symbol("q_m", nonnegative=True)  # |x - alpha mu_m|^2
q_ref = sp.Symbol("q_ref", nonnegative=True)  # |x - alpha mu_ref|^2 (nearest training point)
lam = sp.Symbol("lambda", positive=True)  # objective weight lambda_t

LATEX_NAMES: dict[sp.Basic, str] = {
    t_prime: "t'",
    dt: r"\Delta t",
    beta_min: r"\beta_{\min}",
    beta_d: r"\beta_{d}",
    eps: r"\epsilon",
    sigma2: r"\sigma_t^{2}",
    alpha: r"\alpha_t",
    beta: r"\beta_t",
    Dcoef: r"D_t",
    xdotmu: r"x\cdot\mu_m",
    musq: r"\lVert\mu_m\rVert^{2}",
    q_m: r"\lVert x - \alpha_t\mu_m\rVert^{2}",
    q_ref: r"\lVert x - \alpha_t\mu_{\mathrm{ref}}\rVert^{2}",
    lam: r"\lambda_t",
}


def _register(sym: sp.Symbol, latex_name: str) -> sp.Symbol:
    LATEX_NAMES[sym] = latex_name
    return sym


@lru_cache(maxsize=None)
def x_vec(dim: int, name: str = "x") -> sp.Matrix:
    """Column vector of real coordinate symbols ``x_1..x_D`` (cached: same call, same symbols)."""
    dim = int_arg(dim, "dim", 1, MAX_DIM)
    syms = [_register(sp.Symbol(f"{name}_{i + 1}", real=True), f"{name}_{{{i + 1}}}")
            for i in range(dim)]
    return sp.Matrix(syms)


@lru_cache(maxsize=None)
def mu_vecs(n_points: int, dim: int) -> tuple[sp.Matrix, ...]:
    """Generic training points ``mu_m`` (m = 1..M) as real symbol vectors."""
    n_points = int_arg(n_points, "n_points", 1, 10**4)
    dim = int_arg(dim, "dim", 1, MAX_DIM)
    out = []
    for m in range(n_points):
        syms = [_register(sp.Symbol(f"mu_{m + 1}{i + 1}", real=True),
                          rf"\mu_{{{m + 1},{i + 1}}}") for i in range(dim)]
        out.append(sp.Matrix(syms))
    return tuple(out)


def latex(expr, **kwargs) -> str:
    """LaTeX for ``expr`` with the package's symbol names (no global printer patch)."""
    names = dict(LATEX_NAMES)
    names.update(kwargs.pop("symbol_names", {}))
    return sp.latex(expr, symbol_names=names, **kwargs)

# --- V-kernel symbols (kernels.py; appended for issue 5) ---------------------------------
mu_k = _register(sp.Symbol("mu_k", nonnegative=True), r"\mu_k")  # eigenvalue of Sigma / NTK Gram
mu_l = _register(sp.Symbol("mu_l", nonnegative=True), r"\mu_l")  # a second eigenvalue
F_eff = _register(sp.Symbol("F_eff", positive=True), r"F_{\mathrm{eff}}")  # tr Sigma (Sigma + rho)^-1
post_var = _register(sp.Symbol("Sigma_post", nonnegative=True), r"\Sigma_{\mathrm{post}}")
