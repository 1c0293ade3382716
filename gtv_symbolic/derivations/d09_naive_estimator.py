r"""The naive score estimator with interleaved training and sampling (paper Sec. 4, Prop. 4.1).

At each Euler step, for each trajectory, a fresh example ``x0 ~ p(x0 | x_t, t)`` is drawn and

    s^(x, t) = s(x, t) + sqrt(kappa / dt) [s~(x, t; x0) - s(x, t)].

Then ``s_avg = s`` and ``V(x,t;x',t') = kappa D_t C(x,t) D_t' delta(t - t')`` (Prop. 4.1).
The Monte Carlo steps draw the production sampler step ``typical.naive_step`` and compare with
``proxy.true_score`` and ``kernels.naive_V`` (which uses ``proxy.covariance``).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import data as data_mod
from .. import kernels, proxy, typical
from .. import pathintegral as pi
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_mc
from . import _common as c

__all__ = ["NAME", "TITLE", "build", "check_increment", "check_white"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "naive-estimator"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = r"Naive estimator: mean $s$, $V = \kappa D_t C D_{t'} \delta(t - t')$ (Prop. 4.1)"

KAPPA, DT, N_DRAWS = 0.5, 1e-3, 200_000
XQ = np.array([0.45, -0.2])
TQ = np.array([0.3, 0.6])


def _drift(x, t, mu, vp):
    return float(vp.beta(t)) * x + float(vp.D(t)) * proxy.true_score(x, t, mu, vp)


def check_increment(rng: np.random.Generator) -> CheckResult:
    r"""One ``typical.naive_step`` from fixed (x, t): mean vs dt (beta x + D s), Cov vs dt naive_V.

    Prop. 4.1 (paper Sec. 4) for one step of the production sampler: ``N_DRAWS`` draws of
    :math:`x_{k+1}` from :math:`x_k = x` at :math:`(x,t) \in \{(0.45, 0.3), (-0.2, 0.6)\}`
    (data :math:`\{-1,0,1\}`, VP, :math:`\kappa` = ``KAPPA``, :math:`\Delta t` = ``DT``) against

    .. math::

        \mathbb{E}[x_{k+1} - x_k] = \Delta t\, (\beta_t x + D_t s(x,t)), \qquad
        \mathbb{E}\big[(x_{k+1} - x_k - \Delta t(\beta_t x + D_t s))^2\big]
            = \Delta t\, \kappa D_t^2 C(x,t),

    with :func:`gtv_symbolic.proxy.true_score` and :func:`gtv_symbolic.kernels.naive_V`; passes
    iff every estimate is within 5 standard errors (:func:`gtv_symbolic.derive.compare_mc`).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all random draws (the derivation passes its seeded Generator).

    Returns
    -------
    result : CheckResult
        ``residual`` is the largest z-score. Takes about 0.5 s.

    Examples
    --------
    >>> KAPPA, DT, N_DRAWS, XQ.tolist(), TQ.tolist()
    (0.5, 0.001, 200000, [0.45, -0.2], [0.3, 0.6])
    """
    mu, vp = data_mod.three_points(), c.vp()
    est, ref, se = [], [], []
    for x, t, r in zip(XQ, TQ, rng.spawn(len(XQ)), strict=True):
        x0 = np.full((N_DRAWS, 1), x)
        inc = (typical.naive_step(kernels.NaiveKernel(mu, vp, KAPPA), x0, t, DT, r) - x0)[:, 0]
        drift = DT * _drift(x0[:1], t, mu, vp)[0, 0]
        V = kernels.naive_V(np.array([[x]]), t, mu, vp, KAPPA)[0, 0, 0]
        sq = (inc - drift) ** 2
        est += [inc.mean(), sq.mean()]
        ref += [drift, DT * V]
        se += [inc.std(ddof=1) / np.sqrt(N_DRAWS), sq.std(ddof=1) / np.sqrt(N_DRAWS)]
    return compare_mc(est, ref, se, n=N_DRAWS,
                      what=f"one step of `typical.naive_step` (kappa = {KAPPA}, Delta t = {DT}) "
                           f"from (x, t) in {{(0.45, 0.3), (-0.2, 0.6)}}, data {{-1, 0, 1}}, VP: "
                           "mean increment vs Delta t (beta x + D `proxy.true_score`), second "
                           "moment about it vs Delta t `kernels.naive_V`")


def check_white(rng: np.random.Generator) -> CheckResult:
    r"""Two consecutive ``typical.naive_step`` calls: the noise of the two steps is uncorrelated.

    The :math:`\delta(t - t')` of Prop. 4.1 (paper Sec. 4): with the noise of a step
    :math:`\xi_k = x_{k+1} - x_k - \Delta t\,(\beta_t x_k + D_t s(x_k, t))`, from
    :math:`(x, t) = (0.45, 0.3)`, ``N_DRAWS`` draws must give

    .. math::

        \frac{\mathbb{E}[\xi_k\, \xi_{k+1}]}{\Delta t\, V_{\mathrm{naive}}(x,t)} = 0
        \quad \text{within 5 standard errors.}

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all random draws (the derivation passes its seeded Generator).

    Returns
    -------
    result : CheckResult
        ``residual`` is the z-score. Takes about 0.5 s.

    Examples
    --------
    >>> KAPPA, DT, N_DRAWS
    (0.5, 0.001, 200000)
    """
    mu, vp = data_mod.three_points(), c.vp()
    x, t = XQ[0], TQ[0]
    r1, r2 = rng.spawn(2)
    x0 = np.full((N_DRAWS, 1), x)
    nk = kernels.NaiveKernel(mu, vp, KAPPA)
    x1 = typical.naive_step(nk, x0, t, DT, r1)
    x2 = typical.naive_step(nk, x1, t - DT, DT, r2)
    e1 = (x1 - x0 - DT * _drift(x0, t, mu, vp))[:, 0]
    e2 = (x2 - x1 - DT * _drift(x1, t - DT, mu, vp))[:, 0]
    prod = e1 * e2
    V = kernels.naive_V(np.array([[x]]), t, mu, vp, KAPPA)[0, 0, 0]
    return compare_mc([prod.mean() / (DT * V)], [0.0], [prod.std(ddof=1) / np.sqrt(N_DRAWS) / (DT * V)],
                      n=N_DRAWS, what="noise of two consecutive `typical.naive_step` calls "
                                      f"from (x, t) = ({x:g}, {t:g}): E[xi_k xi_(k+1)] / "
                                      "(Delta t naive_V) vs 0")


def build() -> Derivation:
    r"""Build the naive-estimator derivation (unverified): Prop. 4.1, white noise of strength C.

    A fresh posterior draw :math:`x_0 \sim p(x_0 \mid x_t, t)` at every Euler step gives
    :math:`\hat s = s + \sqrt{\kappa/\Delta t}\,(\tilde s - s)`, so :math:`s_{\mathrm{avg}} = s` and
    (paper Sec. 4, Prop. 4.1; shown per step as the increment's variance)

    .. math::

        V(x,t;x',t') = \kappa\, D_t\, C(x,t)\, D_{t'}\, \delta(t - t'), \qquad
        \frac{1}{\Delta t} \mathrm{Var}[x_{k+1} - x_k \mid x_k = x] = \kappa\, D_t\, C(x,t)\, D_t.

    Parameters
    ----------
    None

    Returns
    -------
    derivation : Derivation
        9 steps; result: step 7 (Monte Carlo with :func:`gtv_symbolic.typical.naive_step`,
        :func:`check_increment`).

    Examples
    --------
    >>> d = build()
    >>> len(d.steps), [i + 1 for i in d.result], d.result_steps[0].check is check_increment
    (9, [7], True)
    """
    kappa, dt = S.kappa, S.dt
    w1, w2 = sp.symbols("w_1 w_2", positive=True)
    q = sp.symbols("q_1:4", real=True)
    wts = [w1, w2, 1 - w1 - w2]
    s_mean = sum(wi * qi for wi, qi in zip(wts, q, strict=True))
    Cq = sum(wi * (qi - s_mean) ** 2 for wi, qi in zip(wts, q, strict=True))
    shat = [s_mean + sp.sqrt(kappa / dt) * (qi - s_mean) for qi in q]
    E_shat = sum(wi * si for wi, si in zip(wts, shat, strict=True))
    Var_shat = sum(wi * (si - E_shat) ** 2 for wi, si in zip(wts, shat, strict=True))
    Dk, Cs = sp.Symbol("D_k", positive=True), sp.Symbol("C_k", positive=True)

    path = pi.discrete_path(3)
    Cdiag = sp.symbols("C_0:3", positive=True)
    white = {path.cov[k, j]: (kappa * Cdiag[k] / dt if k == j else 0)
             for k in range(3) for j in range(3)}
    m2_white = pi.m2(path).subs(white)
    m2_expected = dt * kappa * sum(path.p[k] ** 2 * path.D[k] ** 2 * Cdiag[k] for k in range(3))

    d = {n: sp.Symbol(n) for n in ("shat", "E_shat", "Var_shat", "incr", "M2w", "V", "sde_l",
                                   "mc", "white")}
    s_d, C_d = sp.Symbol("s_d"), sp.Symbol("C_d")
    N = {d["shat"]: r"\hat{s}(x_t, t)",
         sp.Symbol("shat_r"): r"s(x_t,t) + \sqrt{\kappa/\Delta t}\,\left[\tilde{s}(x_t,t;x_{0t}) - "
                              r"s(x_t,t)\right]",
         d["E_shat"]: r"\mathbb{E}[\hat{s} \mid x, t]", s_d: r"s(x,t)",
         d["Var_shat"]: r"\mathrm{Var}[\hat{s} \mid x, t]", C_d: r"C(x,t)",
         d["incr"]: r"\mathrm{Var}[\Delta t\, D_k \hat{s}_k]",
         d["M2w"]: r"M_2|_{\mathrm{Cov}[\hat{s}_k, \hat{s}_l] = \delta_{kl} \kappa C_k/\Delta t}",
         d["V"]: r"\frac{1}{\Delta t}\mathrm{Var}[x_{k+1} - x_k \mid x_k = x]",
         sp.Symbol("V_r"): r"\kappa\, D_t\, C(x,t)\, D_{t}",
         d["white"]: r"\frac{1}{\Delta t}\mathrm{Cov}[\xi_k, \xi_{k+1}]",
         d["sde_l"]: r"\mathrm{Var}[\sqrt{\kappa}\, D_k C_k^{1/2} \Delta W]",
         d["mc"]: r"\frac{1}{\Delta t}\mathbb{E}[x_{k+1} - x_k \mid x_k = x]",
         sp.Symbol("mc_r"): r"\beta_t x + D_t s(x,t)",
         Dk: "D_k", Cs: "C_k"}
    steps = [
        Step(d["shat"], sp.Symbol("shat_r"), "Naive estimator: a fresh $x_{0t} \\sim p(x_0 \\mid "
             "x_t, t)$ at every step and for every trajectory; $\\kappa$ sets the noise scale "
             "(paper Sec. 4).", status="definition", label="construction"),
        Step(d["E_shat"], s_d, "Unbiased because $\\mathbb{E}_{x_0 \\mid x,t}[\\tilde{s}] = s$; "
             "per coordinate, a posterior on three training points.", status="symbolic",
             defs={d["E_shat"]: E_shat, s_d: s_mean}, where={S.M: 3}, simplifier=sp.expand,
             label="mean"),
        Step(d["Var_shat"], kappa / dt * C_d, "Its variance is the proxy variance scaled by "
             "$\\kappa/\\Delta t$ (same posterior).", status="symbolic",
             defs={d["Var_shat"]: Var_shat, C_d: Cq}, where={S.M: 3}, simplifier=sp.expand,
             label="variance"),
        Step(d["incr"], kappa * dt * Dk * Cs * Dk, "Noise of one Euler increment $\\Delta t\\, "
             "D_k \\hat{s}_k$: $\\Delta t^2 D_k^2 (\\kappa/\\Delta t) C_k$, finite per unit time.",
             status="symbolic", defs={d["incr"]: dt**2 * Dk**2 * kappa * Cs / dt},
             simplifier=sp.cancel, label="per-step noise"),
        Step(d["M2w"], m2_expected, "Fresh draws make different steps independent: "
             "$\\mathrm{Cov}[\\hat{s}_k, \\hat{s}_l] = \\delta_{kl}\\kappa C_k/\\Delta t$, and "
             "$M_2$ of the path-integral derivation becomes a single sum (three steps).",
             status="symbolic", defs={d["M2w"]: m2_white}, simplifier=sp.expand,
             label="white in time"),
        Step(d["mc"], sp.Symbol("mc_r"), "Monte Carlo of the production sampler step "
             "`typical.naive_step`: the drift uses the true score (`proxy.true_score`), and "
             "(next step) its variance per unit time is `kernels.naive_V`.",
             status="monte-carlo", check=check_increment, label="sampler step"),
        Step(d["V"], sp.Symbol("V_r"), "Prop. 4.1: $V(x,t;x',t') = \\kappa D_t C(x,t) D_{t'} "
             "\\delta(t - t')$, the coefficient of $\\delta(t - t')$ being the increment variance "
             "per unit time (same Monte Carlo as above; `kernels.naive_V` with "
             "`proxy.covariance`).", status="monte-carlo", check=check_increment,
             label="Prop. 4.1"),
        Step(d["white"], 0, "White in time: the noise of consecutive steps of "
             "`typical.naive_step` is uncorrelated, so the continuum limit "
             "$\\delta_{kl}/\\Delta t \\to \\delta(t - t')$ applies.", status="monte-carlo",
             check=check_white, label="white noise"),
        Step(d["sde_l"], kappa * dt * Dk * Cs * Dk, "Equivalent Ito SDE in reversed time "
             "$\\tau = T - t$: $dx = [\\beta x + D s]\\,d\\tau + \\sqrt{\\kappa}\\, D\\, C^{1/2} "
             "dW_\\tau$ has the same increment variance.", status="symbolic",
             defs={d["sde_l"]: (sp.sqrt(kappa) * Dk * sp.sqrt(Cs)) ** 2 * dt},
             simplifier=sp.expand, label="SDE form"),
    ]
    return Derivation(NAME, TITLE, "A model that only ever uses training examples still does not "
                      "reproduce $p(x \\mid \\epsilon)$: the variance of the DSM target alone "
                      "adds white noise in boundary regions (paper Sec. 4, Prop. 4.1).",
                      steps, result=6, names=N)
