r"""The naive score estimator with interleaved training and sampling (paper Sec. 4, Prop. 4.1).

At each Euler step, for each trajectory, a fresh example ``x0 ~ p(x0 | x_t, t)`` is drawn and

    s^(x, t) = s(x, t) + sqrt(kappa / dt) [s~(x, t; x0) - s(x, t)].

Then ``s_avg = s`` and ``V(x,t;x',t') = kappa D_t C(x,t) D_t' delta(t - t')`` (paper Eq. (9));
paper-math.md section 4.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import pathintegral as pi
from .. import proxy
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_mc
from . import _common as c

NAME = "naive-estimator"
TITLE = "Naive estimator: mean s, V = kappa D C D delta (Prop. 4.1)"


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """Draws of the naive estimator at fixed (x, t): mean vs s and (dt/kappa) Var vs C."""
    vp = c.vp()
    data = np.array([[-1.0], [0.0], [1.0]])
    kappa, dt, n = 0.5, 1.0 / 30, 100000
    x = np.array([[0.45], [-0.2]])
    t = np.array([0.1, 0.3])
    w = proxy.posterior_weights(x, t, data, vp)
    s = proxy.true_score(x, t, data, vp)
    C = proxy.covariance(x, t, data, vp)
    est, ref, se = [], [], []
    for j in range(len(x)):
        x0 = data[rng.choice(3, size=n, p=w[j])]
        shat = s[j] + np.sqrt(kappa / dt) * (proxy.proxy_score(x[j], t[j], x0, vp) - s[j])
        shat = shat[:, 0]
        scaled = (shat - shat.mean()) ** 2 * dt / kappa
        est += [shat.mean(), scaled.mean() * n / (n - 1)]
        ref += [s[j, 0], C[j, 0, 0]]
        se += [shat.std(ddof=1) / np.sqrt(n), scaled.std(ddof=1) / np.sqrt(n)]
    return compare_mc(est, ref, se, n=n, what="data {-1, 0, 1}, VP, kappa = 0.5, dt = 1/30, two "
                      "points (x, t); mean of s^ vs s and (dt/kappa) Var[s^] vs C (lambdified kernels)")


def build() -> Derivation:
    kappa, dt = S.kappa, S.dt
    w1, w2 = sp.symbols("w_1 w_2", real=True)
    q = sp.symbols("q_1:4", real=True)
    wts = [w1, w2, 1 - w1 - w2]
    s_mean = sum(wi * qi for wi, qi in zip(wts, q, strict=False))
    Cq = sum(wi * (qi - s_mean) ** 2 for wi, qi in zip(wts, q, strict=False))
    shat = [s_mean + sp.sqrt(kappa / dt) * (qi - s_mean) for qi in q]
    E_shat = sum(wi * si for wi, si in zip(wts, shat, strict=False))
    Var_shat = sum(wi * (si - E_shat) ** 2 for wi, si in zip(wts, shat, strict=False))
    Dk, Cs = sp.Symbol("D_k", positive=True), sp.Symbol("C_k", positive=True)

    path = pi.discrete_path(3)
    Cdiag = sp.symbols("C_0:3", positive=True)
    white = {path.cov[k, j]: (kappa * Cdiag[k] / dt if k == j else 0)
             for k in range(3) for j in range(3)}
    m2_white = pi.m2(path).subs(white)
    m2_expected = dt * kappa * sum(path.p[k] ** 2 * path.D[k] ** 2 * Cdiag[k] for k in range(3))

    N = {sp.Symbol("shat"): r"\hat{s}(x_t, t)",
         sp.Symbol("shat_r"): r"s(x_t,t) + \sqrt{\kappa/\Delta t}\,\left[\tilde{s}(x_t,t;x_{0t}) - "
                              r"s(x_t,t)\right]",
         sp.Symbol("E_shat"): r"\mathbb{E}[\hat{s} \mid x, t]", sp.Symbol("s"): r"s(x,t)",
         sp.Symbol("Var_shat"): r"\mathrm{Cov}[\hat{s} \mid x, t]", sp.Symbol("C"): r"C(x,t)",
         sp.Symbol("incr"): r"\mathrm{Cov}[\Delta t\, D_k \hat{s}_k]",
         sp.Symbol("M2w"): r"M_2|_{\mathrm{Cov}[\hat{s}_k, \hat{s}_l] = \delta_{kl} \kappa C_k/\Delta t}",
         sp.Symbol("V"): r"V(x,t;x',t')",
         sp.Symbol("V_r"): r"\kappa\, D_t\, C(x,t)\, D_{t'}\, \delta(t - t')",
         sp.Symbol("sde_l"): r"\mathrm{Var}[\sqrt{\kappa}\, D_k C_k^{1/2} \Delta W]",
         sp.Symbol("mc"): r"\frac{\Delta t}{\kappa} \widehat{\mathrm{Var}}[\hat{s}]",
         Dk: "D_k", Cs: "C_k"}
    steps = [
        c.legacy_step(sp.Symbol("shat"), sp.Symbol("shat_r"), "Naive estimator: a fresh $x_{0t} \\sim "
             "p(x_0 \\mid x_t, t)$ at every step and for every trajectory; $\\kappa$ sets the noise "
             "scale (paper Sec. 4).", method="definition", label="construction"),
        c.legacy_step(sp.Symbol("E_shat"), sp.Symbol("s"), "Unbiased because $\\mathbb{E}_{post}[\\tilde{s}] "
             "= s$ (proxy-unbiased); checked per coordinate for three posterior weights summing "
             "to one.", residual=E_shat - s_mean, simplifier=sp.expand, label="mean"),
        c.legacy_step(sp.Symbol("Var_shat"), kappa / dt * sp.Symbol("C"), "Its covariance is the proxy "
             "covariance scaled by $\\kappa/\\Delta t$ (same check).",
             residual=Var_shat - kappa / dt * Cq, simplifier=sp.expand, label="covariance"),
        c.legacy_step(sp.Symbol("incr"), kappa * dt * Dk * Cs * Dk, "Noise of one Euler increment "
             "$\\Delta t\\, D_k \\hat{s}_k$: $\\Delta t^2 D_k^2 (\\kappa/\\Delta t) C_k$, finite as "
             "$\\Delta t \\to 0$ per unit time.",
             residual=dt**2 * Dk**2 * kappa * Cs / dt - kappa * dt * Dk * Cs * Dk,
             simplifier=sp.cancel, label="per-step noise"),
        c.legacy_step(sp.Symbol("M2w"), m2_expected, "Fresh draws make different steps independent: "
             "$\\mathrm{Cov}[\\hat{s}_k, \\hat{s}_l] = \\delta_{kl}\\kappa C_k/\\Delta t$, and $M_2$ of "
             "the path-integral derivation becomes a single sum, $\\Delta t \\sum_k p_k V_k p_k$ "
             "(3 steps).", residual=m2_white - m2_expected, simplifier=sp.expand,
             label="white in time"),
        c.legacy_step(sp.Symbol("V"), sp.Symbol("V_r"), "Continuum limit $\\delta_{kl}/\\Delta t \\to "
             "\\delta(t - t')$: Prop. 4.1 / Eq. (9).", method="definition", label="Prop. 4.1"),
        c.legacy_step(sp.Symbol("sde_l"), kappa * dt * Dk * Cs * Dk, "Equivalent Ito SDE in reversed time "
             "$\\tau = T - t$: $dx = [\\beta x + D s]\\,d\\tau + \\sqrt{\\kappa}\\, D\\, C^{1/2} dW_\\tau$ "
             "has the same increment variance.", residual=(sp.sqrt(kappa) * Dk * sp.sqrt(Cs)) ** 2 * dt
             - kappa * dt * Dk * Cs * Dk, simplifier=sp.expand, label="SDE form"),
        c.legacy_step(sp.Symbol("mc"), sp.Symbol("C"), "Monte Carlo draws of the estimator against the "
             "lambdified score and covariance.", method="numeric", check=_mc_check,
             label="Monte Carlo"),
    ]
    return Derivation(NAME, TITLE, "A model that only ever uses training examples still does not "
                      "reproduce $p(x \\mid \\epsilon)$: the variance of the DSM target alone "
                      "adds white noise in boundary regions (paper Sec. 4, Prop. 4.1).",
                      steps, result=7, names=N)
