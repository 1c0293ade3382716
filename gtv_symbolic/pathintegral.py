r"""Symbolic Martin-Siggia-Rose (MSR) path integral of the Euler-discretized PF-ODE (paper Sec. 3).

On the grid :math:`t_k = T - k\,\Delta t` the sampler is the Euler map
:math:`x_{k+1} = x_k + \Delta t\,(\beta_k x_k + D_k \hat s_k)`, :math:`\hat s_k = \hat s_\theta(x_k, t_k)`,
and with :math:`\delta(y) = \int \frac{dp}{2\pi} e^{ipy}` the output law is

.. math:: q(x_N | x_0; \theta) = \int \prod_k \frac{dx_k\, dp_k}{2\pi}\,
          e^{i \sum_k p_k [x_{k+1} - x_k - \Delta t(\beta_k x_k + D_k \hat s_k)]}.

The model enters the exponent linearly, so averaging over training randomness is a cumulant
expansion, :math:`[q] = \int e^{M_1 - M_2/2 + \dots}` with (:func:`m1`, :func:`m2`)

.. math:: M_2 = \Delta t^2 \sum_{k,l} p_k V_{kl} p_l, \qquad
          V_{kl} = D_k\, \mathrm{Cov}[\hat s_k, \hat s_l]\, D_l .

Keeping :math:`M_1` and :math:`M_2` only (Gaussian truncation) is the same as adding Gaussian
noise :math:`\xi_k`, :math:`\langle \xi_k \xi_l \rangle = V_{kl}`, to the Euler step: the
effective SDE of Prop. 3.1 (:func:`averaged_transition` against :func:`effective_sde_output`).
Everything is one-dimensional in x and works for any number of steps; the functions return
SymPy objects, plus one NumPy helper for Monte Carlo checks (:func:`simulate_euler_ensemble`).
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
    r"""SymPy symbols of an ``n_steps`` Euler path of the PF-ODE (paper Sec. 3).

    The path has states :math:`x_0, \dots, x_N`, response variables :math:`p_0, \dots, p_{N-1}`
    and, per step :math:`k`, the drift coefficient :math:`\beta_k`, the diffusion :math:`D_k`,
    the model score :math:`\hat s_k`, its training average :math:`\bar s_k` and the score
    covariance :math:`C_{kl} = \mathrm{Cov}[\hat s_k, \hat s_l]` (symmetric; variances positive).
    Build it with :func:`discrete_path`.

    Attributes
    ----------
    n_steps : int
        Number of Euler steps :math:`N \ge 1`.
    x : tuple of sympy.Symbol, length N + 1
        States ``x_0 .. x_N``.
    p : tuple of sympy.Symbol, length N
        Response variables ``p_0 .. p_{N-1}`` of the MSR integral.
    beta : tuple of sympy.Symbol, length N
        Drift coefficients :math:`\beta_k`.
    D : tuple of sympy.Symbol, length N
        Diffusions :math:`D_k > 0`.
    s_hat : tuple of sympy.Symbol, length N
        Model scores :math:`\hat s_k`.
    s_avg : tuple of sympy.Symbol, length N
        Average scores :math:`\bar s_k`.
    cov : sympy.Matrix, shape (N, N)
        Symmetric covariance :math:`C_{kl}` with symbols ``c_kl`` (``k <= l``).

    Examples
    --------
    >>> from gtv_symbolic.pathintegral import discrete_path
    >>> path = discrete_path(2)
    >>> path.x, path.cov.shape
    ((x_0, x_1, x_2), (2, 2))
    """

    n_steps: int
    x: tuple  # x_0 .. x_N
    p: tuple  # p_0 .. p_{N-1}
    beta: tuple
    D: tuple
    s_hat: tuple  # the model's values s^_k at the path points
    s_avg: tuple
    cov: sp.Matrix  # Cov[s^_k, s^_l]


def discrete_path(n_steps: int) -> DiscretePath:
    r"""Symbols of an Euler path with ``n_steps`` steps (paper Sec. 3).

    Parameters
    ----------
    n_steps : int
        Number of Euler steps, ``n_steps >= 1``.

    Returns
    -------
    DiscretePath
        States :math:`x_0..x_N`, responses :math:`p_0..p_{N-1}`, coefficients and the symmetric
        score covariance :math:`C_{kl}`.

    Raises
    ------
    ValueError
        If ``n_steps`` is not an integer ``>= 1``.

    Examples
    --------
    >>> from gtv_symbolic.pathintegral import discrete_path
    >>> discrete_path(1).p, discrete_path(3).cov[0, 2] == discrete_path(3).cov[2, 0]
    ((p_0,), True)
    """
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
    r"""One Euler step of the PF-ODE in reversed time (paper Sec. 3).

    .. math:: x_{k+1} = x_k + \Delta t\,(\beta_k x_k + D_k s_k)

    Parameters
    ----------
    x_k, beta_k, D_k, s_k : sympy.Expr or float
        State, drift coefficient, diffusion and score at step :math:`k`.
    dt : sympy.Expr or float, default :data:`gtv_symbolic.symbols.dt`
        Step :math:`\Delta t > 0`.

    Returns
    -------
    sympy.Expr or float
        :math:`x_{k+1}`.

    Examples
    --------
    >>> from gtv_symbolic.pathintegral import euler_step
    >>> euler_step(1.0, 1.0, 2.0, -0.5, dt=0.1)
    1.0
    """
    return x_k + dt * (beta_k * x_k + D_k * s_k)


def msr_exponent(path: DiscretePath, dt=S.dt, scores=None):
    r"""Exponent of the Martin-Siggia-Rose integral of the Euler sampler (paper Sec. 3).

    .. math:: S = i \sum_{k=0}^{N-1} p_k \bigl[x_{k+1} - x_k - \Delta t\,(\beta_k x_k + D_k s_k)\bigr]

    so that :math:`q(x_N | x_0) = \int \prod_k dx_k\, dp_k/(2\pi)\, e^{S}`.

    Parameters
    ----------
    path : DiscretePath
        Symbols of the path.
    dt : sympy.Expr, default :data:`gtv_symbolic.symbols.dt`
        Step :math:`\Delta t`.
    scores : sequence of sympy.Expr, length N, optional
        Scores :math:`s_k`; default the model values ``path.s_hat``.

    Returns
    -------
    sympy.Expr
        :math:`S`, linear in each :math:`p_k`.

    Examples
    --------
    >>> from gtv_symbolic.pathintegral import discrete_path, msr_exponent
    >>> msr_exponent(discrete_path(1))
    I*p_0*(-Delta_t*(D_0*shat_0 + beta_0*x_0) - x_0 + x_1)
    """
    scores = path.s_hat if scores is None else scores
    return sp.I * sum(path.p[k] * (path.x[k + 1] - euler_step(path.x[k], path.beta[k], path.D[k],
                                                             scores[k], dt))
                      for k in range(path.n_steps))


def m1(path: DiscretePath, dt=S.dt):
    r"""First cumulant term :math:`M_1` of the ensemble-averaged MSR integral (paper Sec. 3).

    .. math:: M_1 = i \sum_k p_k \bigl[x_{k+1} - x_k - \Delta t\,(\beta_k x_k + D_k \bar s_k)\bigr]

    the MSR exponent with :math:`\hat s_k` replaced by its average :math:`\bar s_k`.

    Parameters
    ----------
    path : DiscretePath
        Symbols of the path.
    dt : sympy.Expr, default :data:`gtv_symbolic.symbols.dt`
        Step :math:`\Delta t`.

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> from gtv_symbolic.pathintegral import discrete_path, m1
    >>> m1(discrete_path(1))
    I*p_0*(-Delta_t*(D_0*savg_0 + beta_0*x_0) - x_0 + x_1)
    """
    return msr_exponent(path, dt, scores=path.s_avg)


def v_kernel(path: DiscretePath) -> sp.Matrix:
    r"""The discrete V-kernel of the path (paper Sec. 3, Prop. 3.1).

    .. math:: V_{kl} = D_k\, \mathrm{Cov}[\hat s_k, \hat s_l]\, D_l

    Parameters
    ----------
    path : DiscretePath
        Symbols of the path.

    Returns
    -------
    sympy.Matrix, shape (N, N)
        Symmetric :math:`V`.

    Examples
    --------
    >>> from gtv_symbolic.pathintegral import discrete_path, v_kernel
    >>> v_kernel(discrete_path(2))[0, 1]
    D_0*D_1*c_01
    """
    n = path.n_steps
    return sp.Matrix(n, n, lambda k, j: path.D[k] * path.cov[k, j] * path.D[j])


def m2(path: DiscretePath, dt=S.dt):
    r"""Second cumulant term :math:`M_2` of the ensemble-averaged MSR integral (paper Sec. 3).

    .. math:: M_2 = \Delta t^2 \sum_{k,l} p_k V_{kl} p_l

    with :math:`V` from :func:`v_kernel`; the averaged integrand is :math:`e^{M_1 - M_2/2 + \dots}`.

    Parameters
    ----------
    path : DiscretePath
        Symbols of the path.
    dt : sympy.Expr, default :data:`gtv_symbolic.symbols.dt`
        Step :math:`\Delta t`.

    Returns
    -------
    sympy.Expr
        Quadratic form in :math:`p`.

    Examples
    --------
    >>> from gtv_symbolic.pathintegral import discrete_path, m2
    >>> m2(discrete_path(1))
    D_0**2*Delta_t**2*c_00*p_0**2
    """
    pv = sp.Matrix(path.p)
    return dt**2 * (pv.T * v_kernel(path) * pv)[0, 0]


def cumulants_from_moments(order: int = 3):
    r"""Cumulants :math:`\kappa_1..\kappa_n` in terms of raw moments :math:`\mu_1..\mu_n` (paper Sec. 3).

    Read off from the series

    .. math:: \log\Bigl(1 + \sum_{j=1}^{n} \mu_j \frac{\lambda^j}{j!}\Bigr)
              = \sum_{j=1}^{n} \kappa_j \frac{\lambda^j}{j!} + O(\lambda^{n+1}),

    which is how the average of :math:`e^{S}` over models becomes :math:`e^{M_1 - M_2/2 + \dots}`.

    Parameters
    ----------
    order : int, default 3
        Highest order :math:`n \ge 1`.

    Returns
    -------
    tuple
        ``(moments, cumulants)``: the moment symbols ``mu_1..mu_n`` and a list of the
        :math:`n` cumulants as SymPy expressions.

    Raises
    ------
    ValueError
        If ``order < 1``.

    Examples
    --------
    >>> from gtv_symbolic.pathintegral import cumulants_from_moments
    >>> cumulants_from_moments(2)[1]
    [mu_1, -mu_1**2 + mu_2]
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
    r"""Closed form of a multivariate Gaussian integral, used to do the path integral exactly.

    For :math:`f(v)` quadratic in :math:`v \in \mathbb{R}^n` with
    :math:`A = -\nabla^2 f` (real part positive definite), :math:`b = \nabla f(0)`, :math:`c = f(0)`:

    .. math:: \int e^{f(v)}\, d^n v = \sqrt{\frac{(2\pi)^n}{\det A}}\,
              \exp\Bigl(c + \tfrac12 b^\top A^{-1} b\Bigr)

    Parameters
    ----------
    expr : sympy.Expr
        The exponent :math:`f`, quadratic in ``variables``.
    variables : sequence of sympy.Symbol
        The integration variables :math:`v`.

    Returns
    -------
    tuple of sympy.Expr
        ``(prefactor, exponent)``: the integral is ``prefactor * exp(exponent)``.

    Raises
    ------
    ValueError
        If ``expr`` is not quadratic in ``variables``.

    Examples
    --------
    >>> import sympy as sp
    >>> from gtv_symbolic.pathintegral import gaussian_integral
    >>> v = sp.Symbol("v", real=True)
    >>> gaussian_integral(-v**2 / 2 + v, [v])
    (sqrt(2)*sqrt(pi), 1/2)
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
    r"""Gaussian-truncated ensemble-averaged transition :math:`[q(x_N | x_0)]`, path integral done exactly.

    Paper Sec. 3: integrates

    .. math:: [q](x_N | x_0) = \int \prod_{k=1}^{N-1} dx_k \prod_{k=0}^{N-1} \frac{dp_k}{2\pi}\,
              e^{M_1 - M_2/2}

    over all responses :math:`p_k` and intermediate states (see :func:`m1`, :func:`m2`) with
    :func:`gaussian_integral`. With affine average scores :math:`\bar s_k(x) = g_k x + h_k` the
    result is a Gaussian in :math:`x_N`; its mean and variance equal those of
    :func:`effective_sde_output` (Prop. 3.1).

    Parameters
    ----------
    path : DiscretePath
        Symbols of the path.
    dt : sympy.Expr, default :data:`gtv_symbolic.symbols.dt`
        Step :math:`\Delta t`.
    affine_scores : sequence of (g_k, h_k), length N, optional
        Affine average scores; default the free symbols ``path.s_avg``.

    Returns
    -------
    tuple of sympy.Expr
        ``(prefactor, exponent, mean, variance)``: the density of :math:`x_N` is
        ``prefactor * exp(exponent)``, with that mean and variance.

    Examples
    --------
    >>> from gtv_symbolic.pathintegral import averaged_transition, discrete_path
    >>> averaged_transition(discrete_path(1))[3]
    D_0**2*Delta_t**2*c_00
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
    r"""Mean and variance of :math:`x_N` under the effective SDE of Prop. 3.1, by direct propagation.

    .. math:: x_{k+1} = x_k + \Delta t\,\bigl(\beta_k x_k + D_k \bar s_k(x_k) + \xi_k\bigr),
              \qquad \langle \xi_k \xi_l \rangle = V_{kl},

    so :math:`\mathrm{Var}[x_N] = g^\top V g` with :math:`g_k = \partial x_N / \partial \xi_k`.

    Parameters
    ----------
    path : DiscretePath
        Symbols of the path.
    dt : sympy.Expr, default :data:`gtv_symbolic.symbols.dt`
        Step :math:`\Delta t`.
    affine_scores : sequence of (g_k, h_k), length N, optional
        :math:`\bar s_k(x) = g_k x + h_k`; default the free symbols ``path.s_avg``.

    Returns
    -------
    tuple of sympy.Expr
        ``(mean, variance)`` of :math:`x_N`.

    Examples
    --------
    >>> from gtv_symbolic.pathintegral import discrete_path, effective_sde_output
    >>> effective_sde_output(discrete_path(1))[1]
    D_0**2*Delta_t**2*c_00
    """
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
    r"""Monte Carlo outputs of the Euler sampler for an ensemble of Gaussian random score models.

    Each model has :math:`\hat s_k(x) = g_k x + h_k + \delta_k` with one draw
    :math:`\delta \sim \mathcal N(0, C)` per model, shared along its path, and runs

    .. math:: x_{k+1} = x_k + \Delta t\,(\beta_k x_k + D_k \hat s_k(x_k)),

    a numerical check of :func:`averaged_transition` and :func:`effective_sde_output`.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    x0 : float
        Start :math:`x_0`.
    dt : float
        Step :math:`\Delta t`.
    beta, D, g, h : array_like, shape (N,)
        Per-step :math:`\beta_k`, :math:`D_k`, :math:`g_k`, :math:`h_k`.
    cov : array_like, shape (N, N)
        Covariance :math:`C` of the score errors (symmetric positive semi-definite).
    n_models : int
        Number of models.

    Returns
    -------
    numpy.ndarray, shape (n_models,)
        The outputs :math:`x_N`.

    Raises
    ------
    TypeError
        If ``rng`` is not a ``numpy.random.Generator``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic.pathintegral import simulate_euler_ensemble
    >>> x = simulate_euler_ensemble(np.random.default_rng(0), 1.0, 0.1, [1.0], [1.0], [-1.0],
    ...                             [0.0], [[0.0]], n_models=3)
    >>> x.shape, bool(np.allclose(x, 1.0))
    ((3,), True)
    """
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
