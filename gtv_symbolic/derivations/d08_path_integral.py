r"""MSR path integral of the Euler PF-ODE, cumulant expansion and the effective SDE.

Paper Eq. (6) (MSR representation), Eq. (7) (cumulants M1, M2), Prop. 3.1 / Eq. (8) (effective
SDE under the Gaussian truncation); paper-math.md 3.2-3.4. The symbolic machinery is in
:mod:`gtv_symbolic.pathintegral`; the discrete path integral for two Euler steps is done
exactly and compared with direct propagation of the effective SDE and with Monte Carlo.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import pathintegral as pi
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_mc
from . import _common as c
from ..numeric import lambdify

NAME = "path-integral"
TITLE = "MSR path integral, cumulants M1, M2, effective SDE (Prop. 3.1)"


def _affine(path):
    g = sp.symbols("g_0:%d" % path.n_steps, real=True)
    h = sp.symbols("h_0:%d" % path.n_steps, real=True)
    return g, h, list(zip(g, h, strict=False))


def _mc_check(rng: np.random.Generator) -> CheckResult:
    """Ensemble of Gaussian random score models through 2 Euler steps vs the path integral."""
    path = pi.discrete_path(2)
    g, h, aff = _affine(path)
    _, _, mean, var = pi.averaged_transition(path, affine_scores=aff)
    args = [path.x[0], S.dt, *path.beta, *path.D, *g, *h, path.cov[0, 0], path.cov[0, 1],
            path.cov[1, 1]]
    fm, fv = lambdify(args, mean, stable=False), lambdify(args, var, stable=False)
    vals = dict(x0=0.8, dt=0.3, beta=[1.2, 0.7], D=[1.1, 0.9], g=[-1.5, -0.8], h=[0.3, -0.2])
    cov = np.array([[0.6, 0.25], [0.25, 0.4]])
    n = 200000
    out = pi.simulate_euler_ensemble(rng, vals["x0"], vals["dt"], vals["beta"], vals["D"],
                                     vals["g"], vals["h"], cov, n)
    num = [vals["x0"], vals["dt"], *vals["beta"], *vals["D"], *vals["g"], *vals["h"],
           cov[0, 0], cov[0, 1], cov[1, 1]]
    ref = [float(fm(*num)), float(fv(*num))]
    v = out.var(ddof=1)
    return compare_mc([out.mean(), v], ref, [np.sqrt(v / n), v * np.sqrt(2 / (n - 1))], n=n,
                      what="2 Euler steps, affine mean score, Gaussian model noise correlated "
                           "across the two steps; ensemble mean and variance of x_N vs the "
                           "lambdified path-integral result")


def build() -> Derivation:
    path = pi.discrete_path(3)
    dt = S.dt
    y, p, eps_r = sp.Symbol("y", real=True), sp.Symbol("p", real=True), sp.Symbol("varepsilon", positive=True)
    fourier = sp.integrate(sp.exp(sp.I * p * y - eps_r * p**2 / 2), (p, -sp.oo, sp.oo)) / (2 * sp.pi)
    expo = pi.msr_exponent(path)
    lin_res = sp.Matrix([sp.diff(expo, path.s_hat[k], 2) for k in range(3)] +
                        [sp.diff(expo, path.s_hat[k]) + sp.I * dt * path.D[k] * path.p[k]
                         for k in range(3)])
    mus, kappas = pi.cumulants_from_moments(3)
    kap_expected = sp.Matrix([mus[0], mus[1] - mus[0] ** 2,
                              mus[2] - 3 * mus[1] * mus[0] + 2 * mus[0] ** 3])
    # kappa_2 of Z = -i dt sum_k p_k D_k s^_k: (-i dt)^2 c^T Cov c with c_k = p_k D_k
    cvec = sp.Matrix([path.p[k] * path.D[k] for k in range(3)])
    kappa2_Z = (-sp.I * dt) ** 2 * (cvec.T * path.cov * cvec)[0, 0]
    xi = sp.Symbol("xi", real=True)
    v1 = sp.Symbol("v", positive=True)
    char1 = sp.integrate(sp.exp(sp.I * p * xi - xi**2 / (2 * v1)) / sp.sqrt(2 * sp.pi * v1),
                         (xi, -sp.oo, sp.oo))
    V = sp.Matrix([[sp.Symbol("V_11", positive=True), sp.Symbol("V_12", real=True)],
                   [sp.Symbol("V_12", real=True), sp.Symbol("V_22", positive=True)]])
    pv, xv = sp.Matrix(sp.symbols("p_1 p_2", real=True)), sp.Matrix(sp.symbols("xi_1 xi_2", real=True))
    Vi = V.inv()
    sq = (sp.I * (pv.T * xv)[0, 0] - (xv.T * Vi * xv)[0, 0] / 2
          - (-(xv - sp.I * V * pv).T * Vi * (xv - sp.I * V * pv) / 2 - pv.T * V * pv / 2)[0, 0])
    # noise dt*xi_k in the Euler step: E exp(-i dt sum p_k xi_k) = exp(-dt^2 p^T V p / 2) = exp(-M2/2)
    Vk = pi.v_kernel(path)
    pvec = sp.Matrix(path.p)
    noise_res = (-sp.I * dt * pvec).T * Vk * (-sp.I * dt * pvec) / 2 + sp.Matrix([[pi.m2(path) / 2]])
    # one Euler step done exactly
    p2 = pi.discrete_path(2)
    g, h, aff = _affine(p2)
    pref, expo2, mean2, var2 = pi.averaged_transition(p2, affine_scores=aff)
    mean_d, var_d = pi.effective_sde_output(p2, affine_scores=aff)
    a_k = sp.symbols("a_0:2", real=True)  # display shorthand a_k = 1 + dt (beta_k + D_k g_k)
    a_sub = {a_k[k]: 1 + dt * (p2.beta[k] + p2.D[k] * g[k]) for k in range(2)}
    var_c = dt**2 * (a_k[1] ** 2 * p2.D[0] ** 2 * p2.cov[0, 0]
                     + 2 * a_k[1] * p2.D[0] * p2.D[1] * p2.cov[0, 1] + p2.D[1] ** 2 * p2.cov[1, 1])
    mean_c = a_k[1] * a_k[0] * p2.x[0] + a_k[1] * dt * p2.D[0] * h[0] + dt * p2.D[1] * h[1]
    p1 = pi.discrete_path(1)
    pref1, expo1, mean1, var1 = pi.averaged_transition(p1)
    x0, x1 = p1.x
    one_step = (pref1 * sp.exp(expo1)
                - sp.exp(-(x1 - pi.euler_step(x0, p1.beta[0], p1.D[0], p1.s_avg[0])) ** 2
                         / (2 * dt**2 * p1.D[0] ** 2 * p1.cov[0, 0]))
                / sp.sqrt(2 * sp.pi * dt**2 * p1.D[0] ** 2 * p1.cov[0, 0]))

    N = {y: "y", p: "p", eps_r: r"\varepsilon", xi: r"\xi", v1: "v",
         sp.Symbol("euler_l"): r"x_{k+1}", sp.Symbol("delta_l"): r"\delta_\varepsilon(y)",
         sp.Symbol("q_l"): r"q(x_N \mid x_0; \theta)",
         sp.Symbol("q_r"): r"\int \prod_{k=1}^{N-1} dx_k \prod_{k=0}^{N-1} \frac{dp_k}{2\pi}\, "
                           r"e^{i \sum_k p_k [x_{k+1} - x_k - \Delta t(\beta_k x_k + D_k \hat{s}_k)]}",
         sp.Symbol("d2"): r"\partial^2_{\hat{s}_k} (\text{exponent})",
         sp.Symbol("kap"): r"(\kappa_1, \kappa_2, \kappa_3)",
         sp.Symbol("k2Z"): r"\kappa_2\left[-i \Delta t \sum_k p_k D_k \hat{s}_k\right]",
         sp.Symbol("qavg_l"): r"[q(x_N \mid x_0)]",
         sp.Symbol("qavg_r"): r"\int \mathcal{D}[x]\mathcal{D}[p]\, e^{M_1 - \frac{1}{2} M_2 + \dots}",
         sp.Symbol("char_l"): r"\mathbb{E}_{\xi \sim N(0,v)}[e^{i p \xi}]",
         sp.Symbol("sq_l"): r"i p^{T}\xi - \frac{1}{2} \xi^{T} V^{-1} \xi",
         sp.Symbol("sq_r"): r"-\frac{1}{2} (\xi - iVp)^{T} V^{-1} (\xi - iVp) - \frac{1}{2} p^{T} V p",
         sp.Symbol("eff_l"): r"x_{k+1}",
         sp.Symbol("eff_r"): r"x_k + \Delta t\left(\beta_k x_k + D_k s_{\mathrm{avg}}(x_k, t_k) + "
                             r"\xi_k\right), "
                             r"\ \langle \xi_k \xi_l \rangle = V_{kl} = D_k "
                             r"\mathrm{Cov}[\hat{s}_k, \hat{s}_l] D_l",
         sp.Symbol("noise_l"): r"\log \mathbb{E}_\xi\, e^{-i \Delta t \sum_k p_k \xi_k}",
         sp.Symbol("M2"): "M_2",
         sp.Symbol("one_l"): r"[q(x_1 \mid x_0)]", sp.Symbol("var2"): r"\mathrm{Var}[x_2 \mid x_0]",
         sp.Symbol("mean2"): r"\mathbb{E}[x_2 \mid x_0]", sp.Symbol("norm"): r"\int [q(x_2 \mid x_0)] dx_2",
         sp.Symbol("mc"): r"\widehat{\mathrm{Var}}[x_2]", sp.Symbol("cont_l"): r"\dot{x}_t",
         sp.Symbol("cont_r"): r"-\beta_t x_t - D_t s_{\mathrm{avg}}(x_t, t) + \xi(x_t, t), \quad "
                              r"\langle \xi(x,t) \xi(x',t')^{T} \rangle = V(x,t;x',t')"}
    steps = [
        c.legacy_step(sp.Symbol("euler_l"), pi.euler_step(path.x[0], path.beta[0], path.D[0], path.s_hat[0]).subs(
            {path.x[0]: sp.Symbol("x_k", real=True), path.beta[0]: sp.Symbol("beta_k", real=True),
             path.D[0]: sp.Symbol("D_k", positive=True), path.s_hat[0]: sp.Symbol("shat_k")}),
             "Euler step of the PF-ODE on the reversed grid $t_k = T - k\\Delta t$ with the learned "
             "score $\\hat{s}_k = \\hat{s}_\\theta(x_k, t_k)$ (paper-math.md 3.2).",
             method="definition", label="Euler sampler"),
        c.legacy_step(sp.Symbol("delta_l"), sp.exp(-y**2 / (2 * eps_r)) / sp.sqrt(2 * sp.pi * eps_r),
             "Fourier representation of the delta function, "
             "regularised: $\\int \\frac{dp}{2\\pi} e^{ipy - \\varepsilon p^2/2}$ is $N(y; 0, "
             "\\varepsilon)$, which tends to $\\delta(y)$ as $\\varepsilon \\to 0$ (SymPy integral).",
             residual=fourier - sp.exp(-y**2 / (2 * eps_r)) / sp.sqrt(2 * sp.pi * eps_r),
             simplifier=sp.simplify, label="delta function"),
        c.legacy_step(sp.Symbol("q_l"), sp.Symbol("q_r"), "One delta function per Euler step, each written "
             "as a Fourier integral: the MSR path integral, paper Eq. (6) in discrete time.",
             method="definition", label="MSR, Eq. (6)"),
        c.legacy_step(sp.Symbol("d2"), 0, "The model enters the exponent linearly, with coefficient "
             "$-i\\Delta t D_k p_k$ (checked for 3 steps: second derivatives vanish and first "
             "derivatives match).", residual=lin_res, simplifier=sp.expand, label="linear in s^"),
        c.legacy_step(sp.Symbol("kap"), sp.Tuple(*kap_expected), "Cumulant expansion $\\log \\mathbb{E} "
                                                        "e^{\\lambda Z} "
             "= \\sum_n \\kappa_n \\lambda^n/n!$ in terms of raw moments (SymPy series).",
             residual=sp.Matrix(kappas) - kap_expected, simplifier=sp.expand, label="cumulants"),
        c.legacy_step(sp.Symbol("k2Z"), -sp.Symbol("M2"), "Second cumulant of the model term: "
             "$(-i\\Delta t)^2 \\sum_{kl} p_k D_k \\mathrm{Cov}[\\hat{s}_k, \\hat{s}_l] D_l p_l = -M_2$ "
             "with $M_2 = \\Delta t^2 \\sum_{kl} p_k V_{kl} p_l$ (3 steps).",
             residual=kappa2_Z + pi.m2(path), simplifier=sp.expand, label="M2"),
        c.legacy_step(sp.Symbol("qavg_l"), sp.Symbol("qavg_r"), "Average over training randomness: the first "
             "cumulant replaces $\\hat{s}$ by $s_{avg}$ in the exponent ($M_1$), the second gives "
             "$-M_2/2$ (paper Eq. (7)).", method="definition", label="Eq. (7)"),
        c.legacy_step(sp.Symbol("char_l"), sp.exp(-p**2 * v1 / 2), "Gaussian characteristic function (SymPy "
                                                          "integral).",
             residual=char1 - sp.exp(-p**2 * v1 / 2), simplifier=sp.simplify,
             label="Gaussian average, D = 1"),
        c.legacy_step(sp.Symbol("sq_l"), sp.Symbol("sq_r"), "Completing the square for a general 2x2 "
             "covariance V: the multivariate Gaussian average of $e^{ip\\cdot\\xi}$ is "
             "$e^{-p^T V p/2}$.", residual=sq, simplifier=sp.simplify, label="Gaussian average, D = 2"),
        c.legacy_step(sp.Symbol("noise_l"), -sp.Symbol("M2") / 2, "So Gaussian noise $\\Delta t\\,\\xi_k$ "
             "added to each Euler step, with $\\langle\\xi_k\\xi_l\\rangle = V_{kl}$, produces "
             "exactly the $-M_2/2$ term (3 steps).", residual=noise_res, simplifier=sp.expand,
             label="noise = M2"),
        c.legacy_step(sp.Symbol("eff_l"), sp.Symbol("eff_r"), "Prop. 3.1 / Eq. (8) in discrete time: under "
             "the Gaussian truncation the averaged sampler is the Euler scheme with mean score and "
             "coloured noise.", method="definition", label="effective SDE"),
        c.legacy_step(sp.Symbol("one_l"), sp.Symbol("one_r"), "Check of the machinery, one step: the "
             "truncated path integral over $p_0$ is the Gaussian $N(x_1;\\ \\text{Euler step with } "
             "s_{avg},\\ \\Delta t^2 D_0^2 \\mathrm{Cov}[\\hat{s}_0])$.",
             residual=one_step, simplifier=sp.simplify, label="one step exactly"),
        c.legacy_step(sp.Symbol("var2"), var_c, "Two steps with affine mean score $s_{avg}(x_k) = g_k x_k + "
             "h_k$ and $a_k = 1 + \\Delta t(\\beta_k + D_k g_k)$: integrating over $p_0, p_1, x_1$ "
             "gives a Gaussian in $x_2$ with this variance, equal to that of the effective SDE "
             "propagated directly (both checked).",
             residual=sp.Matrix([var2 - var_c.subs(a_sub), var2 - var_d]),
             simplifier=sp.cancel, label="two steps: variance"),
        c.legacy_step(sp.Symbol("mean2"), mean_c, "Its mean, equal to the directly propagated mean.",
             residual=sp.Matrix([mean2 - mean_c.subs(a_sub), mean2 - mean_d]),
             simplifier=sp.cancel, label="two steps: mean"),
        c.legacy_step(sp.Symbol("norm"), 1, "And it is normalised: prefactor$^2 \\cdot 2\\pi\\,\\mathrm{Var} = 1$.",
             residual=sp.simplify(pref**2 * 2 * sp.pi * var2) - 1, simplifier=sp.simplify,
             label="two steps: normalisation"),
        c.legacy_step(sp.Symbol("cont_l"), sp.Symbol("cont_r"), "Continuum limit: Prop. 3.1 / Eq. (8), "
             "integrated from $T$ down to $\\epsilon$; with $s_{avg} = s$, $V = 0$ gives back the "
             "memorizing PF-ODE.", method="definition", label="Prop. 3.1"),
        c.legacy_step(sp.Symbol("mc"), var_c, "Monte Carlo ensemble of Gaussian random score models against "
             "the lambdified two-step path-integral result.", method="numeric", check=_mc_check,
             label="Monte Carlo"),
    ]
    N[sp.Symbol("one_r")] = (r"\frac{1}{\sqrt{2\pi \Delta t^2 D_0^2 c_{00}}} e^{-\frac{(x_1 - x_0 - "
                             r"\Delta t(\beta_0 x_0 + D_0 s_{\mathrm{avg},0}))^2}{2 \Delta t^2 "
                             r"D_0^2 c_{00}}}")
    return Derivation(NAME, TITLE, "From the sampler of a trained model to the typical learned "
                      "distribution: paper Eqs. (6)-(8) (paper-math.md 3.2-3.4), in discrete time "
                      "with one spatial dimension. $\\Delta t$ is the step, $c_{kl} = "
                      "\\mathrm{Cov}[\\hat{s}_k, \\hat{s}_l]$.", steps, result=16, names=N)
