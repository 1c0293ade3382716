"""Display-only symbols shared by the derivations (their LaTeX names live in ``NAMES``).

These stand for composite objects (``\\mathcal{N}_m``, ``\\tilde s_m``, ``w_m``, ...) in the
displayed equations; every check substitutes the concrete SymPy expressions. ``NAMES`` is
passed to :func:`gtv_symbolic.symbols.latex` through ``symbol_names=``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from .. import symbols as S
from ..schedules import VP

_N, _W, _ST, _MU = (sp.Symbol(n) for n in ("N_g", "w_g", "st_g", "mu_g"))
Nm = sp.IndexedBase(_N)  # N(x; alpha mu_m, sigma^2 I)
w = sp.IndexedBase(_W)  # posterior weights
st = sp.IndexedBase(_ST)  # proxy score of point m
mu = sp.IndexedBase(_MU)  # training points
m = S.m_idx

score = sp.Symbol("s_disp")
post_mean = sp.Symbol("m_disp")
Sigma_post = sp.Symbol("Sigmapost_disp")
C = sp.Symbol("C_disp")
grad_logp = sp.Symbol("gradlogp_disp")
hess_logp = sp.Symbol("hesslogp_disp")
grad_p = sp.Symbol("gradp_disp")
hess_p = sp.Symbol("hessp_disp")
p = sp.Symbol("p_disp")
E_st = sp.Symbol("Est_disp")
I = sp.Symbol("I_disp")  # noqa: E741 (the identity matrix, as in the paper)

NAMES = {
    _N: r"\mathcal{N}", _W: "w", _ST: r"\tilde{s}", _MU: r"\mu",
    score: r"s(x,t)", post_mean: r"m(x,t)", Sigma_post: r"\Sigma_{\mathrm{post}}(x,t)",
    C: r"C(x,t)", grad_logp: r"\nabla_x \log p(x \mid t)", hess_logp: r"\nabla_x^2 \log p(x \mid t)",
    grad_p: r"\nabla_x p(x \mid t)", hess_p: r"\nabla_x^2 p(x \mid t)", p: r"p(x \mid t)",
    E_st: r"\mathbb{E}_{x_0 \mid x,t}[\tilde{s}]", I: "I",
}


def msum(expr):
    """``Sum(expr, (m, 1, M))`` for display."""
    return sp.Sum(expr, (m, 1, S.M))


def example_points(rng: np.random.Generator, n: int, dim: int, data, schedule, t_range=(0.05, 0.6)):
    """Random admissible (x, t): t uniform in ``t_range``, x near the noised data."""
    t = rng.uniform(*t_range, n)
    idx = rng.integers(0, len(data), n)
    x = schedule.alpha(t)[:, None] * data[idx] + 0.8 * rng.standard_normal((n, dim))
    return x, t


@lru_cache(maxsize=None)
def vp():
    """One shared VP schedule of the paper's code (its compiled functions are built once)."""
    return VP()


#: Display symbol for the dimension of x, used in ``where={DIM: 1}`` to render a special case.
DIM = sp.Symbol("dim_x", integer=True, positive=True)
NAMES[DIM] = S.LATEX_NAMES[DIM] = r"\dim x"


def beta_D_from(alpha_fn, S_fn, t):
    r"""``{beta_t: -alpha'/alpha, D_t: S'/2 - alpha' S/alpha}``: the inverse of
    ``alpha' = -beta alpha``, ``S' = -2 beta S + 2 D``, so identities in ``beta_t, D_t`` hold for
    arbitrary ``alpha_t, S_t`` once these are substituted (as ``defs``)."""
    a, s = alpha_fn(t), S_fn(t)
    da, ds = sp.Derivative(a, t), sp.Derivative(s, t)
    return {S.beta_f(t): -da / a, S.D_f(t): ds / 2 - da * s / a}


def limit_check(ts, values, target: float, *, tol: float, what: str):
    """A limit ``t -> 0``: ``|value - target|`` shrinks along decreasing ``ts`` and ends below ``tol``."""
    from ..derive import CheckResult, fmt_num

    ts, v = np.asarray(ts, dtype=float), np.asarray(values, dtype=float)
    if ts.ndim != 1 or ts.size < 2 or np.any(np.diff(ts) >= 0):
        raise ValueError(f"ts must be >= 2 decreasing times, got {ts}")
    dev = np.abs(v - target)
    ok = bool(np.all(np.isfinite(v)) and np.all(np.diff(dev) <= 1e-12) and dev[-1] <= tol)
    pairs = ", ".join(f"t = {t:g}: {fmt_num(d)}" for t, d in zip(ts, dev, strict=True))
    return CheckResult(ok, f"{what}; |value - {target:g}| by t ({pairs}): decreasing, last "
                           f"below {tol:g}", float(dev[-1]))


# -- Monte Carlo scaffolding shared by the checks ------------------------------------------
def mean_se(v, axis: int = 0):
    """Sample mean over ``axis`` and its standard error ``sd(ddof=1) / sqrt(n)``."""
    v = np.asarray(v, dtype=float)
    return v.mean(axis), v.std(axis, ddof=1) / np.sqrt(v.shape[axis])


def mean_var_se(v):
    """``([mean, var], [se_mean, se_var])`` of 1-D samples; ``se_var = var sqrt(2 / (n - 1))``
    (Gaussian samples)."""
    v = np.asarray(v, dtype=float)
    n, var = v.size, v.var(ddof=1)
    return [v.mean(), var], [np.sqrt(var / n), var * np.sqrt(2 / (n - 1))]


def posterior_proxy_scores(x, t, data, schedule, n: int, rng: np.random.Generator):
    """Per point ``(x_j, t_j)``: ``n`` proxy scores ``proxy_score(x_j, t_j, x0)`` with ``x0``
    drawn from the production posterior weights (a list of ``(n, D)`` arrays)."""
    from .. import proxy

    w = proxy.posterior_weights(x, t, data, schedule)
    return [proxy.proxy_score(x[j], t[j], data[rng.choice(len(data), size=n, p=w[j])], schedule)
            for j in range(len(x))]
