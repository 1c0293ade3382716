r"""SymPy forms of the point-mass data model (paper Sec. 2).

``sym_*``: explicit small data sets with numeric or symbolic points (exact Rationals);
``generic_forms`` / ``latex_formulas``: any M with an indexed sum (the Gaussian-data
covariance is in :mod:`gtv_symbolic.proxy.gaussian`). The formulas are in :mod:`gtv_symbolic.proxy`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import symbols as S
from .._validate import check_schedule, coord_array, int_arg
from ..data import as_data

__all__ = [
    "MAX_SYMBOLIC_DIM",
    "sym_marginal", "sym_posterior_weights", "sym_posterior_mean", "sym_posterior_covariance",
    "sym_proxy_score", "sym_true_score", "sym_covariance", "sym_variance_ratio",
    "generic_forms", "latex_formulas",
]

#: Largest D accepted by generic_forms / latex_formulas (symbolic expressions grow as D^2).
MAX_SYMBOLIC_DIM = 8
_MAX_SYMBOLIC_ENTRIES = 64


def _sym_setup(data, schedule):
    """Coordinates x, training points mu (numbers -> exact Rationals), alpha, sigma^2."""
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], sp.MatrixBase):
        mus = [sp.Matrix(m) for m in data]
    else:
        arr = as_data(data)
        if arr.size > _MAX_SYMBOLIC_ENTRIES:
            raise ValueError(f"data must have at most {_MAX_SYMBOLIC_ENTRIES} entries (M * D) for a "
                             f"symbolic form, got shape {arr.shape}")
        mus = [sp.Matrix([sp.nsimplify(v, rational=True) for v in row]) for row in arr]
    dim = mus[0].shape[0]
    if any(m.shape != (dim, 1) for m in mus):
        raise ValueError("data: all training points must be column vectors of the same dimension")
    if schedule is not None:
        check_schedule(schedule)
    if schedule is None:
        a, s2 = S.alpha, S.sigma2
    else:
        a, s2 = schedule.expr("alpha"), schedule.expr("sigma2")
    return S.x_vec(dim), mus, a, s2


def _gauss_kernel(x, mu, a, s2):
    r = x - a * mu
    return sp.exp(-(r.T * r)[0, 0] / (2 * s2))


def sym_marginal(data, schedule=None) -> sp.Expr:
    r"""Symbolic noised density ``p(x|t)`` of a given data set (paper Sec. 2).

    .. math:: p(x|t) = \frac{1}{M} \sum_m (2\pi\sigma^2)^{-D/2}
              \exp\Bigl(-\frac{|x - \alpha \mu_m|^2}{2\sigma^2}\Bigr)

    Parameters
    ----------
    data : array_like, shape (M, D), or list of SymPy column vectors
        Training points; numbers are made exact Rationals (at most 64 entries M * D).
    schedule : :class:`gtv_symbolic.schedules.Schedule`, optional
        ``None`` (default) keeps ``alpha`` and ``sigma2`` as symbols; otherwise its
        expressions of ``t`` are substituted.

    Returns
    -------
    sympy.Expr
        In the coordinates ``x_1 .. x_D`` (:func:`gtv_symbolic.symbols.x_vec`).

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, symbols as S
    >>> two = np.array([[-1.0], [1.0]])  # M = 2 points in D = 1
    >>> at = {S.alpha: 1, S.sigma2: 1, S.x_vec(1)[0]: 0.5}  # a point to evaluate at
    >>> p = proxy.sym_marginal(two)  # (N(0.5; -1, 1) + N(0.5; 1, 1)) / 2
    >>> round(float(p.subs(at)), 6)
    0.240791
    """
    x, mus, a, s2 = _sym_setup(data, schedule)
    norm = (2 * sp.pi * s2) ** sp.Rational(-len(x), 2)
    return norm * sp.Add(*[_gauss_kernel(x, mu, a, s2) for mu in mus]) / len(mus)


def sym_posterior_weights(data, schedule=None) -> list[sp.Expr]:
    r"""Symbolic posterior weights of the training points (paper Sec. 2).

    .. math:: w_m = \frac{K_m}{\sum_n K_n}, \qquad
              K_m = \exp\Bigl(-\frac{|x - \alpha \mu_m|^2}{2\sigma^2}\Bigr)

    Parameters
    ----------
    data : array_like, shape (M, D), or list of SymPy column vectors
        Training points; numbers are made exact Rationals (at most 64 entries M * D).
    schedule : :class:`gtv_symbolic.schedules.Schedule`, optional
        ``None`` (default) keeps ``alpha`` and ``sigma2`` as symbols; otherwise its
        expressions of ``t`` are substituted.

    Returns
    -------
    list of sympy.Expr
        One weight per training point.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, symbols as S
    >>> two = np.array([[-1.0], [1.0]])  # M = 2 points in D = 1
    >>> at = {S.alpha: 1, S.sigma2: 1, S.x_vec(1)[0]: 0.5}  # a point to evaluate at
    >>> w = proxy.sym_posterior_weights(two)
    >>> [round(float(wi.subs(at)), 6) for wi in w]  # 1/(1 + e), e/(1 + e)
    [0.268941, 0.731059]
    """
    x, mus, a, s2 = _sym_setup(data, schedule)
    ks = [_gauss_kernel(x, mu, a, s2) for mu in mus]
    z = sp.Add(*ks)
    return [k / z for k in ks]


def sym_posterior_mean(data, schedule=None) -> sp.Matrix:
    r"""Symbolic posterior mean (Bayes denoiser) ``m = E[x0 | x, t]`` (paper Sec. 2).

    .. math:: m = \sum_m w_m \mu_m

    Parameters
    ----------
    data : array_like, shape (M, D), or list of SymPy column vectors
        Training points; numbers are made exact Rationals (at most 64 entries M * D).
    schedule : :class:`gtv_symbolic.schedules.Schedule`, optional
        ``None`` (default) keeps ``alpha`` and ``sigma2`` as symbols; otherwise its
        expressions of ``t`` are substituted.

    Returns
    -------
    sympy.Matrix, shape (D, 1)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, symbols as S
    >>> two = np.array([[-1.0], [1.0]])  # M = 2 points in D = 1
    >>> at = {S.alpha: 1, S.sigma2: 1, S.x_vec(1)[0]: 0.5}  # a point to evaluate at
    >>> m = proxy.sym_posterior_mean(two)  # = tanh(alpha x / sigma^2) here
    >>> round(float(m[0].subs(at)), 6), round(float(np.tanh(0.5)), 6)
    (0.462117, 0.462117)
    """
    _, mus, _, _ = _sym_setup(data, schedule)
    w = sym_posterior_weights(data, schedule)
    return sum((wi * mu for wi, mu in zip(w, mus, strict=True)), sp.zeros(*mus[0].shape))


def sym_posterior_covariance(data, schedule=None) -> sp.Matrix:
    r"""Symbolic posterior covariance ``Sigma_post = Cov[x0 | x, t]`` (paper Sec. 2).

    .. math:: \Sigma_{\mathrm{post}} = \sum_m w_m (\mu_m - m)(\mu_m - m)^\top

    Parameters
    ----------
    data : array_like, shape (M, D), or list of SymPy column vectors
        Training points; numbers are made exact Rationals (at most 64 entries M * D).
    schedule : :class:`gtv_symbolic.schedules.Schedule`, optional
        ``None`` (default) keeps ``alpha`` and ``sigma2`` as symbols; otherwise its
        expressions of ``t`` are substituted.

    Returns
    -------
    sympy.Matrix, shape (D, D)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, symbols as S
    >>> two = np.array([[-1.0], [1.0]])  # M = 2 points in D = 1
    >>> at = {S.alpha: 1, S.sigma2: 1, S.x_vec(1)[0]: 0.5}  # a point to evaluate at
    >>> P = proxy.sym_posterior_covariance(two)  # = 1 - tanh^2(alpha x / sigma^2) here
    >>> round(float(P[0].subs(at)), 6), round(float(1 - np.tanh(0.5)**2), 6)
    (0.786448, 0.786448)
    """
    _, mus, _, _ = _sym_setup(data, schedule)
    w = sym_posterior_weights(data, schedule)
    m = sym_posterior_mean(data, schedule)
    dim = mus[0].shape[0]
    return sum(((wi * (mu - m) * (mu - m).T) for wi, mu in zip(w, mus, strict=True)), sp.zeros(dim, dim))


def sym_proxy_score(x0, data_dim: int, schedule=None) -> sp.Matrix:
    r"""Symbolic proxy score of a given training point ``x0`` (paper Sec. 2).

    .. math:: \tilde s(x,t;x_0) = \frac{\alpha x_0 - x}{\sigma^2}

    Parameters
    ----------
    x0 : array_like of numbers (made exact), SymPy Matrix or list of SymPy expressions
        The training point, ``data_dim`` entries.
    data_dim : int
        Dimension D, 1 to :data:`MAX_SYMBOLIC_DIM`.
    schedule : :class:`gtv_symbolic.schedules.Schedule`, optional
        ``None`` (default) keeps ``alpha`` and ``sigma2`` as symbols.

    Returns
    -------
    sympy.Matrix, shape (D, 1)

    Examples
    --------
    >>> from gtv_symbolic import proxy
    >>> proxy.sym_proxy_score([1, 0], 2)
    Matrix([
    [(alpha - x_1)/sigma2],
    [      -x_2/sigma2]])
    """
    data_dim = int_arg(data_dim, "data_dim", 1, MAX_SYMBOLIC_DIM)
    if isinstance(x0, sp.MatrixBase) or (isinstance(x0, (list, tuple))
                                        and any(isinstance(v, sp.Basic) for v in x0)):
        x0 = sp.Matrix(x0)
    else:
        x0 = sp.Matrix([sp.nsimplify(float(v), rational=True) for v in np.ravel(coord_array(x0, "x0"))])
    if x0.shape != (data_dim, 1):
        raise ValueError(f"x0 must have {data_dim} (data_dim) entries, got shape {x0.shape}")
    if schedule is not None:
        check_schedule(schedule)
    x = S.x_vec(data_dim)
    a, s2 = (S.alpha, S.sigma2) if schedule is None else (schedule.expr("alpha"), schedule.expr("sigma2"))
    return (a * x0 - x) / s2


def sym_true_score(data, schedule=None, form: str = "tweedie") -> sp.Matrix:
    r"""Symbolic true score in Tweedie form or as the gradient of ``log p`` (paper Sec. 2).

    .. math:: s = \frac{\alpha m - x}{\sigma^2} \quad (\texttt{form='tweedie'}), \qquad
              s = \nabla_x \log p(x|t) \quad (\texttt{form='grad'})

    The two are equal (derivation *tweedie*).

    Parameters
    ----------
    data : array_like, shape (M, D), or list of SymPy column vectors
        Training points; numbers are made exact Rationals (at most 64 entries M * D).
    schedule : :class:`gtv_symbolic.schedules.Schedule`, optional
        ``None`` (default) keeps ``alpha`` and ``sigma2`` as symbols; otherwise its
        expressions of ``t`` are substituted.
    form : {'tweedie', 'grad'}

    Returns
    -------
    sympy.Matrix, shape (D, 1)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, symbols as S
    >>> two = np.array([[-1.0], [1.0]])  # M = 2 points in D = 1
    >>> at = {S.alpha: 1, S.sigma2: 1, S.x_vec(1)[0]: 0.5}  # a point to evaluate at
    >>> d = proxy.sym_true_score(two) - proxy.sym_true_score(two, form="grad")
    >>> abs(float(d[0].subs(at))) < 1e-14
    True
    """
    x, mus, a, s2 = _sym_setup(data, schedule)
    if form == "tweedie":
        return (a * sym_posterior_mean(data, schedule) - x) / s2
    if form == "grad":
        logp = sp.log(sym_marginal(data, schedule))
        return sp.Matrix([sp.diff(logp, xi) for xi in x])
    raise ValueError(f"form must be 'tweedie' or 'grad', got {form!r}")


def sym_covariance(data, schedule=None, form: str = "denoiser") -> sp.Matrix:
    r"""Symbolic proxy-score covariance ``C`` in one of its three forms (paper Sec. 2).

    .. math:: C = \mathbb{E}_{\mathrm{post}}\bigl[(\tilde s - s)(\tilde s - s)^\top\bigr]
              = \frac{I}{\sigma^2} + \nabla_x^2 \log p(x|t)
              = \frac{\alpha^2}{\sigma^4} \Sigma_{\mathrm{post}}

    selected by ``form`` = ``'posterior'`` (the definition), ``'hessian'`` or
    ``'denoiser'`` (default); their equality is the derivation *proxy-covariance*.

    Parameters
    ----------
    data : array_like, shape (M, D), or list of SymPy column vectors
        Training points; numbers are made exact Rationals (at most 64 entries M * D).
    schedule : :class:`gtv_symbolic.schedules.Schedule`, optional
        ``None`` (default) keeps ``alpha`` and ``sigma2`` as symbols; otherwise its
        expressions of ``t`` are substituted.
    form : {'denoiser', 'hessian', 'posterior'}

    Returns
    -------
    sympy.Matrix, shape (D, D)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, symbols as S
    >>> two = np.array([[-1.0], [1.0]])  # M = 2 points in D = 1
    >>> at = {S.alpha: 1, S.sigma2: 1, S.x_vec(1)[0]: 0.5}  # a point to evaluate at
    >>> d = proxy.sym_covariance(two, form="hessian") - proxy.sym_covariance(two)
    >>> abs(float(d[0].subs(at))) < 1e-14
    True
    """
    x, mus, a, s2 = _sym_setup(data, schedule)
    dim = len(x)
    if form == "denoiser":
        return a**2 * sym_posterior_covariance(data, schedule) / s2**2
    if form == "hessian":
        logp = sp.log(sym_marginal(data, schedule))
        return sp.eye(dim) / s2 + sp.hessian(logp, list(x))
    if form == "posterior":
        w = sym_posterior_weights(data, schedule)
        s = sym_true_score(data, schedule)
        out = sp.zeros(dim, dim)
        for wi, mu in zip(w, mus, strict=True):
            r = (a * mu - x) / s2 - s
            out += wi * r * r.T
        return out
    raise ValueError(f"form must be 'posterior', 'hessian' or 'denoiser', got {form!r}")


def sym_variance_ratio(data, schedule=None) -> sp.Expr:
    r"""Symbolic Figure 1 ratio ``R = tr C / (tr C + |s|^2)`` (paper Sec. 2, Fig. 1).

    .. math:: R = \frac{\operatorname{tr} C}{\operatorname{tr} C + s^\top s}

    Parameters
    ----------
    data : array_like, shape (M, D), or list of SymPy column vectors
        Training points; numbers are made exact Rationals (at most 64 entries M * D).
    schedule : :class:`gtv_symbolic.schedules.Schedule`, optional
        ``None`` (default) keeps ``alpha`` and ``sigma2`` as symbols; otherwise its
        expressions of ``t`` are substituted.

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import proxy, symbols as S
    >>> two = np.array([[-1.0], [1.0]])  # M = 2 points in D = 1
    >>> at = {S.alpha: 1, S.sigma2: 1, S.x_vec(1)[0]: 0.5}  # a point to evaluate at
    >>> R = proxy.sym_variance_ratio(two)
    >>> R.subs({**at, S.x_vec(1)[0]: 0})  # at the midpoint the mean score is 0
    1
    """
    c = sym_covariance(data, schedule)
    s = sym_true_score(data, schedule)
    return c.trace() / (c.trace() + (s.T * s)[0, 0])


def generic_forms(dim: int = 1) -> dict[str, sp.Basic]:
    r"""Generic-M forms with an indexed sum over ``m = 1..M`` (paper Sec. 2).

    ``mu[m, i]`` is a SymPy IndexedBase and ``M`` a symbol, so these hold for every data set:

    .. math:: p = \frac{(2\pi\sigma^2)^{-D/2}}{M} \sum_{m=1}^{M} K_m, \quad
              w_m = \frac{K_m}{\sum_n K_n}, \quad
              s = \frac{\alpha m - x}{\sigma^2}, \quad
              C = \frac{\alpha^2}{\sigma^4}\Sigma_{\mathrm{post}}

    with ``K_m = exp(-|x - alpha mu_m|^2 / (2 sigma^2))``. SymPy differentiates under
    ``Sum``, so ``diff(log p, x_i)`` is available; the per-term identity
    ``grad N_m = N_m s~_m`` proves ``E_post[s~] = s`` for every M (derivation *proxy-unbiased*).

    Parameters
    ----------
    dim : int
        Dimension D, 1 to :data:`MAX_SYMBOLIC_DIM`.

    Returns
    -------
    dict
        Keys ``marginal``, ``kernel``, ``weight``, ``posterior_mean``,
        ``posterior_covariance``, ``tweedie_score``, ``proxy_score``, ``covariance``,
        ``variance_ratio`` (SymPy expressions or matrices; alpha, sigma^2 symbols) and
        ``mu`` (the IndexedBase).

    Examples
    --------
    >>> from gtv_symbolic import proxy
    >>> g = proxy.generic_forms(2)
    >>> g["proxy_score"].shape, g["covariance"].shape
    ((2, 1), (2, 2))
    """
    dim = int_arg(dim, "dim", 1, MAX_SYMBOLIC_DIM)
    x = S.x_vec(dim)
    mu = sp.IndexedBase("mu", real=True)
    m = S.m_idx
    a, s2 = S.alpha, S.sigma2
    sq = sum((x[i] - a * mu[m, i + 1]) ** 2 for i in range(dim))
    kern = sp.exp(-sq / (2 * s2))
    norm = (2 * sp.pi * s2) ** sp.Rational(-dim, 2)
    z = sp.Sum(kern, (m, 1, S.M))
    p = norm * z / S.M
    mean = [sp.Sum(kern * mu[m, i + 1], (m, 1, S.M)) / z for i in range(dim)]
    weight = kern / z
    cov = sp.Matrix(dim, dim, lambda i, j: sp.Sum(kern * (mu[m, i + 1] - mean[i]) * (mu[m, j + 1] - mean[j]),
                                                   (m, 1, S.M)) / z)
    score = sp.Matrix([(a * mean[i] - x[i]) / s2 for i in range(dim)])
    c = a**2 * cov / s2**2
    return {
        "marginal": p,
        "kernel": kern,
        "weight": weight,
        "posterior_mean": sp.Matrix(mean),
        "posterior_covariance": cov,
        "tweedie_score": score,
        "proxy_score": sp.Matrix([(a * mu[m, i + 1] - x[i]) / s2 for i in range(dim)]),
        "covariance": c,
        "variance_ratio": c.trace() / (c.trace() + (score.T * score)[0, 0]),
        "mu": mu,
    }


def latex_formulas(dim: int = 1) -> dict[str, str]:
    r"""LaTeX of the generic-M forms of :func:`generic_forms` (package symbol names).

    No formula of its own: the LaTeX of :func:`generic_forms`.

    Parameters
    ----------
    dim : int
        Dimension D, 1 to :data:`MAX_SYMBOLIC_DIM`.

    Returns
    -------
    dict of str
        Keys ``marginal``, ``weight``, ``posterior_mean``, ``posterior_covariance``,
        ``tweedie_score``, ``proxy_score``, ``covariance``, ``variance_ratio``; 1x1
        matrices are shown as scalars.

    Examples
    --------
    >>> from gtv_symbolic import proxy
    >>> print(proxy.latex_formulas(1)["proxy_score"])
    \frac{\alpha_t {\mu}_{m,1} - x_{1}}{\sigma_t^{2}}
    """
    dim = int_arg(dim, "dim", 1, MAX_SYMBOLIC_DIM)
    g = generic_forms(dim)
    keys = ("marginal", "weight", "posterior_mean", "posterior_covariance", "tweedie_score",
            "proxy_score", "covariance", "variance_ratio")
    out = {}
    for k in keys:
        e = g[k]
        if isinstance(e, sp.MatrixBase) and e.shape == (1, 1):
            e = e[0, 0]  # scalar display in one dimension
        out[k] = S.latex(e)
    return out
