r"""Benign cases: a single training point, repeated points, Gaussian data.

For :math:`M = 1` the posterior is a point mass, :math:`\Sigma_{\mathrm{post}} = 0`, hence
:math:`C = 0`, :math:`R = 0` and the naive-estimator V-kernel :math:`V = \kappa D_t C D_{t'}
\delta(t - t') = 0` (paper Sec. 4, Prop. 4.1): a single example gives no generalization through
variance. Repeated copies of one point behave the same. For Gaussian data :math:`C` is a nonzero
constant (gaussian-data derivation), so the injected noise is state independent. Numeric steps use
:func:`gtv_symbolic.proxy.covariance`, :func:`gtv_symbolic.proxy.variance_ratio` and
:func:`gtv_symbolic.kernels.naive_V`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import kernels, proxy
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_close, fmt_num
from . import _common as c

__all__ = ["NAME", "TITLE", "build"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "benign-cases"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = r"Benign cases: $M = 1$ gives $C = 0$ and $V = 0$; Gaussian data give a constant $C$"


def _single_point(rng: np.random.Generator) -> CheckResult:
    """proxy.covariance, proxy.variance_ratio and kernels.naive_V vanish for one training point."""
    vp = c.vp()
    worst = 0.0
    for data in (rng.uniform(-1, 1, (1, 2)), np.repeat(rng.uniform(-1, 1, (1, 2)), 3, axis=0)):
        x, t = c.example_points(rng, 50, 2, data, vp, t_range=(0.01, 0.9))
        for arr in (
            proxy.covariance(x, t, data, vp),
            proxy.variance_ratio(x, t, data, vp),
            kernels.naive_V(x, t, data, vp, kappa=1.0),
        ):
            worst = max(worst, float(np.max(np.abs(arr))))
    return CheckResult(
        worst <= 1e-12,
        "one training point and three copies of one point in 2-D, "
        "VP, 50 random (x, t) each, t in [0.01, 0.9]: largest |entry| of "
        f"proxy.covariance, proxy.variance_ratio and kernels.naive_V (kappa = 1) is "
        f"{fmt_num(worst) if worst else 0} (tolerance 1e-12: copies cancel only to "
        "rounding)",
        worst,
    )


def _naive_V_gaussian(rng: np.random.Generator) -> CheckResult:
    """kernels.naive_V for a large Gaussian-like point cloud vs kappa D^2 C at two far-apart x."""
    vp = c.vp()
    t = 0.5
    x = np.array([[0.0, 0.0], [0.3, -0.2]])
    data = np.array([[-1.0, 0.0], [1.0, 0.0]])
    v = kernels.naive_V(x, np.full(2, t), data, vp, kappa=0.5)
    ref = 0.5 * vp.D(t) ** 2 * proxy.covariance(x, np.full(2, t), data, vp)
    _ = rng
    return compare_close(
        v,
        ref,
        rtol=1e-12,
        atol=1e-14,
        what="two points in 2-D, VP at t = 0.5, kappa = 0.5: kernels.naive_V vs kappa D_t^2 proxy.covariance",
    )


def build() -> Derivation:
    r"""Build the benign-cases derivation (unverified): one training point gives no variance.

    For :math:`M = 1` the posterior is a point mass, so the proxy covariance, the Figure 1 ratio
    and the naive-estimator V-kernel :math:`V = \kappa D_t C D_{t'} \delta(t - t')` (paper Sec. 4,
    Prop. 4.1) vanish; Gaussian data give a constant :math:`C` (paper Sec. 6):

    .. math::

        C(x,t) = 0, \qquad R(x,t) = 0, \qquad V(x,t;x,t) / \delta(0) = 0 \qquad (M = 1).

    Parameters
    ----------
    None

    Returns
    -------
    derivation : Derivation
        6 steps; results: step 2 (symbolic) and step 5 (numeric, with
        :func:`gtv_symbolic.proxy.variance_ratio` and :func:`gtv_symbolic.kernels.naive_V`).

    Examples
    --------
    >>> d = build()
    >>> len(d.steps), [i + 1 for i in d.result], [s.status for s in d.result_steps]
    (6, [2, 5], ['symbolic', 'numeric'])
    """
    a, s2, M = S.alpha, S.sigma2, S.M
    mu1 = list(S.mu_vecs(1, 2))
    mus2 = list(S.mu_vecs(2, 2))
    same = {mus2[1][0]: mus2[0][0], mus2[1][1]: mus2[0][1]}
    m0 = sp.Matrix(sp.symbols("m_01 m_02", real=True))
    a11, a22 = sp.symbols("a_11 a_22", positive=True)
    a12 = sp.Symbol("a_12", real=True)
    S0 = sp.Matrix([[a11, a12], [a12, a22]])
    C_g = proxy.sym_gaussian_covariance(m0, S0, "hessian")
    x = S.x_vec(2)
    Cs, Sp, Vs, dC, Rs, Vn = (sp.Symbol(n) for n in ("C_s", "Sp_s", "V_s", "dC_s", "R_s", "Vn_s"))
    steps = [
        Step(
            Sp,
            sp.zeros(2, 2),
            "One training point: the posterior is a point mass, so its "
            "covariance vanishes (`proxy.sym_posterior_covariance`, D = 2).",
            status="symbolic",
            defs={Sp: proxy.sym_posterior_covariance(mu1)},
            where={M: 1},
            label="$\\Sigma_{\\mathrm{post}} = 0$",
        ),
        Step(
            Cs,
            sp.zeros(2, 2),
            "Hence $C = \\alpha_t^2\\Sigma_{\\mathrm{post}}/\\sigma_t^4 = 0$ in "
            "all three forms of the covariance (paper Sec. 2) (here the Hessian form, `proxy.sym_covariance`).",
            status="symbolic",
            defs={Cs: proxy.sym_covariance(mu1, None, "hessian")},
            where={M: 1},
            simplifier=sp.simplify,
            label="$C = 0$",
        ),
        Step(
            Cs,
            sp.zeros(2, 2),
            "Two copies of one point are one point.",
            status="symbolic",
            defs={Cs: proxy.sym_covariance(mus2, None, "posterior").subs(same)},
            where={M: 2, mus2[1][0]: mus2[0][0], mus2[1][1]: mus2[0][1]},
            simplifier=sp.simplify,
            label="repeated points",
        ),
        Step(
            Vn,
            S.kappa * S.Dcoef**2 * Cs,
            "The naive-estimator V-kernel (coefficient of "
            "$\\delta(t - t')$, Prop. 4.1) is $\\kappa D_t^2 C$: production `kernels.naive_V` "
            "against `proxy.covariance`.",
            status="numeric",
            check=_naive_V_gaussian,
            label="V-kernel from $C$",
        ),
        Step(
            sp.Matrix([[Rs, Vn]]),
            sp.zeros(1, 2),
            "So for one point (or copies of one point) "
            "$R = 0$ and $V = 0$ everywhere: the production functions return zeros (exact for one "
            "point, to rounding for copies).",
            status="numeric",
            check=_single_point,
            where={M: 1},
            label="$R = 0$, $V = 0$",
        ),
        Step(
            dC,
            sp.zeros(4, 2),
            "Gaussian data: $C$ is constant in $x$ (and nonzero, "
            "gaussian-data derivation), so the injected noise is state independent "
            "(`proxy.sym_gaussian_covariance`, general symmetric $\\Sigma_0$, D = 2).",
            status="symbolic",
            defs={dC: sp.Matrix([[sp.diff(C_g[i, j], v) for v in x] for i in range(2) for j in range(2)])},
            simplifier=sp.cancel,
            label="Gaussian data",
        ),
    ]
    names = dict(c.NAMES)
    names.update(
        {
            Cs: "C(x,t)",
            Sp: r"\Sigma_{\mathrm{post}}(x,t)",
            dC: r"\nabla_x C(x,t)",
            Rs: "R(x,t)",
            Vn: r"V(x,t;x,t)/\delta(0)",
            Vs: "V",
        }
    )
    _ = a, s2
    return Derivation(
        NAME,
        TITLE,
        "Where generalization through variance switches off: a single "
        "example, copies of it, and Gaussian data (paper Secs. 4 and 6).",
        steps,
        result=(1, 4),
        names=names,
    )
