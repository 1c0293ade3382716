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
#: Time ``t`` of the forward process.
t = sp.Symbol("t", positive=True)
#: A second time ``t'`` (two-time kernels).
t_prime = sp.Symbol("t'", positive=True)
#: Training time inside expectations.
u = sp.Symbol("u", positive=True)
#: Final time ``T`` of the forward process.
T = sp.Symbol("T", positive=True)
#: Smallest time ``epsilon`` (where sampling stops).
eps = sp.Symbol("epsilon", positive=True)
#: Euler step ``Delta t``.
dt = sp.Symbol("Delta_t", positive=True)
#: VP schedule: ``beta_min``.
beta_min = sp.Symbol("beta_min", positive=True)
#: VP schedule: ``beta_d`` (``beta_max - beta_min``).
beta_d = sp.Symbol("beta_d", positive=True)
#: Ridge strength.
rho = sp.Symbol("rho", positive=True)
#: Noise scale (naive estimator), or F over P.
kappa = sp.Symbol("kappa", positive=True)
#: Training time (lazy regime).
tau = sp.Symbol("tau", positive=True)
#: Number of DSM training samples.
P = sp.Symbol("P", integer=True, positive=True)
#: Number of features.
F = sp.Symbol("F", integer=True, positive=True)
#: Number of training points.
M = sp.Symbol("M", integer=True, positive=True)
#: Index ``m`` over training points.
m_idx = sp.Symbol("m", integer=True, positive=True)
#: Second index ``n`` over training points.
n_idx = sp.Symbol("n", integer=True, positive=True)

# --- schedule values as plain positive scalars (used by the numeric kernels) ------------
#: ``alpha_t`` as a plain positive scalar (numeric kernels).
alpha = sp.Symbol("alpha", positive=True)
#: ``sigma_t^2 = S_t`` as a plain positive scalar (numeric kernels).
sigma2 = sp.Symbol("sigma2", positive=True)
#: ``beta_t`` as a plain scalar (numeric kernels).
beta = sp.Symbol("beta", nonnegative=True)
#: ``D_t = g_t^2 / 2`` as a plain scalar (numeric kernels).
Dcoef = sp.Symbol("D", nonnegative=True)

# --- schedule values as functions of time (used in derivations) --------------------------
alpha_f = sp.Function("alpha", positive=True)
S_f = sp.Function("S", positive=True)
beta_f = sp.Function("beta", real=True)
D_f = sp.Function("D", positive=True)

# --- scalar helpers for the proxy-score kernels --------------------------------------------
#: ``x . mu_m``.
xdotmu = sp.Symbol("xdotmu", real=True)
#: ``|mu_m|^2``.
musq = sp.Symbol("musq", nonnegative=True)
#: ``|x - alpha mu_m|^2``.
q_m = sp.Symbol("q_m", nonnegative=True)
#: ``|x - alpha mu_ref|^2`` (nearest training point).
q_ref = sp.Symbol("q_ref", nonnegative=True)
#: Objective weight ``lambda_t``.
lam = sp.Symbol("lambda", positive=True)

#: LaTeX name of every symbol that needs one (applied by :func:`latex`).
#:
#: :meta hide-value:
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
    r"""Column vector of real coordinate symbols :math:`x = (x_1, \dots, x_D)^\top`.

    Cached: the same call returns the same symbols.

    Parameters
    ----------
    dim : int
        D, 1 to ``MAX_DIM``.
    name : str, default 'x'
        Base name of the symbols.

    Returns
    -------
    sympy.Matrix, shape (D, 1)

    Examples
    --------
    >>> x_vec(2).T
    Matrix([[x_1, x_2]])
    """
    dim = int_arg(dim, "dim", 1, MAX_DIM)
    syms = [_register(sp.Symbol(f"{name}_{i + 1}", real=True), f"{name}_{{{i + 1}}}")
            for i in range(dim)]
    return sp.Matrix(syms)


@lru_cache(maxsize=None)
def mu_vecs(n_points: int, dim: int) -> tuple[sp.Matrix, ...]:
    r"""Generic training points :math:`\mu_m = (\mu_{m,1}, \dots, \mu_{m,D})^\top`, as real symbols.

    Parameters
    ----------
    n_points : int
        M (points :math:`m = 1..M`), 1 to 10**4.
    dim : int
        D, 1 to ``MAX_DIM``.

    Returns
    -------
    tuple of sympy.Matrix, each shape (D, 1)

    Examples
    --------
    >>> mu_vecs(2, 1)
    (Matrix([[mu_11]]), Matrix([[mu_21]]))
    """
    n_points = int_arg(n_points, "n_points", 1, 10**4)
    dim = int_arg(dim, "dim", 1, MAX_DIM)
    out = []
    for m in range(n_points):
        syms = [_register(sp.Symbol(f"mu_{m + 1}{i + 1}", real=True),
                          rf"\mu_{{{m + 1},{i + 1}}}") for i in range(dim)]
        out.append(sp.Matrix(syms))
    return tuple(out)


def latex(expr, **kwargs) -> str:
    r"""LaTeX for ``expr`` with the package's symbol names (no global printer patch).

    No formula: printing; :data:`LATEX_NAMES` (plus ``symbol_names=``) maps symbols to LaTeX,
    e.g. ``sigma2`` to :math:`\sigma_t^{2}`.

    Parameters
    ----------
    expr : sympy.Basic
    **kwargs
        Passed to ``sympy.latex``; ``symbol_names`` entries override :data:`LATEX_NAMES`.

    Returns
    -------
    str

    Examples
    --------
    >>> latex(alpha**2 / sigma2)
    '\\frac{\\alpha_t^{2}}{\\sigma_t^{2}}'
    """
    names = dict(LATEX_NAMES)
    names.update(kwargs.pop("symbol_names", {}))
    return sp.latex(expr, symbol_names=names, **kwargs)

# --- V-kernel symbols (kernels.py; appended for issue 5) ---------------------------------
#: Eigenvalue of Sigma or of the NTK Gram matrix.
mu_k = _register(sp.Symbol("mu_k", nonnegative=True), r"\mu_k")
#: A second eigenvalue.
mu_l = _register(sp.Symbol("mu_l", nonnegative=True), r"\mu_l")
#: Effective number of features ``tr Sigma (Sigma + rho)^-1``.
F_eff = _register(sp.Symbol("F_eff", positive=True), r"F_{\mathrm{eff}}")
#: Posterior covariance ``Sigma_post`` (one coordinate).
post_var = _register(sp.Symbol("Sigma_post", nonnegative=True), r"\Sigma_{\mathrm{post}}")
