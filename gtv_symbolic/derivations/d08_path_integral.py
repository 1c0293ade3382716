r"""MSR path integral of the Euler PF-ODE, cumulant expansion and the effective process.

Paper Sec. 3, Prop. 3.1: the MSR representation of the sampler, the cumulant expansion of the
average over training randomness (terms M1, M2), and, under the Gaussian (second-cumulant)
truncation, the effective process with mean score and coloured noise. The symbolic machinery
is :mod:`gtv_symbolic.pathintegral`; the discrete path integral for two Euler steps is done
exactly. Prop. 3.1 itself is checked numerically on the code the figures run: the continuum
limit by convergence of the discrete effective process (``solvers.integrate_pf_ode`` with a
Gaussian field from ``typical.gaussian_field_weights``), the truncation against trained
ensembles (``training.train_ensemble``) and their moment-matched Gaussian
(``typical.moment_matched_weights``).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import data as data_mod
from .. import denoisers, grids, kernels, metrics, solvers, training, typical
from .. import features as features_mod
from .. import pathintegral as pi
from .. import symbols as S
from ..derive import CheckResult, Derivation, Step, compare_mc, fmt_num
from ..numeric import lambdify
from . import _common as c
from ._scaling import compare_scaling_all

N_STEPS_SYM = sp.Symbol("N_steps", integer=True, positive=True)  # number of Euler steps

__all__ = ["NAME", "TITLE", "build", "check_continuum", "check_truncation"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "path-integral"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = r"MSR path integral, cumulants $M_1$, $M_2$, effective process (Prop. 3.1)"

N_X, N_T, RIDGE = 4, 4, 0.1
#: continuum-limit check: step counts of the Euler sampler and the Heun reference
EPS_CONT, STEPS, N_REF, N_FIELDS = 0.05, (40, 80, 160), 1280, 400
#: truncation check: training-set sizes, ensemble size, the figures' 30-step grid
EPS_TRUNC, P_TRUNC, N_ENS, N_STEPS = 1e-2, (100, 400), 3000, 30


def _seeds(n=16):
    """Fixed seeds x_T spread over N(0, sigma_T^2) (the same for every model)."""
    return np.sqrt(float(c.vp().sigma2(1.0))) * np.linspace(-2, 2, n)


def check_continuum(rng: np.random.Generator) -> CheckResult:
    r"""Euler effective process at 3 step sizes vs a fine Heun solution: first-order convergence.

    Prop. 3.1, continuum limit (paper Sec. 3). ``N_FIELDS`` Gaussian score fields
    :math:`W \sim N(W_*, \mathrm{Cov}_W)` of a linear model (data :math:`\{-1,0,1\}`, VP,
    :math:`P = 100`) are integrated from 16 fixed seeds :math:`x_T` to :math:`\epsilon` =
    ``EPS_CONT`` by Euler with :math:`N \in` ``STEPS`` steps and by Heun with ``N_REF``. With
    :math:`e^{(q)}_N = |\overline{q(x^{N}_\epsilon)} - \overline{q(x^{\mathrm{ref}}_\epsilon)}|`
    for :math:`q = |x|, x^2` (means over fields and seeds) it passes iff

    .. math::

        0.8 < \log_2 \frac{e^{(q)}_N}{e^{(q)}_{2N}} < 1.2 \ \ \text{(both } q, N\text{)},
        \qquad \frac{e^{(x^2)}_{N_{\max}}}{\overline{(x^{\mathrm{ref}}_\epsilon)^2}} < 0.05.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all random draws (the derivation passes its seeded Generator).

    Returns
    -------
    result : CheckResult
        ``residual`` is the largest :math:`|\text{order} - 1|`. Takes a few seconds.

    Examples
    --------
    >>> STEPS, N_REF, N_FIELDS, EPS_CONT
    ((40, 80, 160), 1280, 400, 0.05)
    """
    mu, vp = data_mod.three_points(), c.vp()
    fm = features_mod.make_features("gaussian", 1, N_X, N_T, EPS_CONT)
    K = kernels.linear_kernel(fm, mu, vp, P=100, eps=EPS_CONT, ridge=RIDGE)
    W = typical.gaussian_field_weights(K, N_FIELDS, rng)
    xT = _seeds()
    X = np.broadcast_to(xT[None, :, None], (N_FIELDS, xT.size, 1)).copy()
    den = denoisers.LinearDenoiser(fm, W)
    ref = solvers.integrate_pf_ode(den, X, grids.TimeGrid.linear(vp, EPS_CONT, 1.0, N_REF),
                                  method="heun")
    errs = []
    for n in STEPS:
        out = solvers.integrate_pf_ode(den, X, grids.TimeGrid.linear(vp, EPS_CONT, 1.0, n))
        errs.append([abs((np.abs(out) - np.abs(ref)).mean()), abs((out**2 - ref**2).mean())])
    errs = np.array(errs)
    order = np.log2(errs[:-1] / errs[1:])
    scale = (ref**2).mean()
    rel = errs[-1, 1] / scale
    ok = bool(np.all((order > 0.8) & (order < 1.2)) and rel < 0.05)
    return CheckResult(ok, f"{N_FIELDS} Gaussian score fields W ~ N(W*, Cov_W) "
                           "(`typical.gaussian_field_weights`, `kernels.linear_kernel`, P = 100), "
                           f"{xT.size} seeds, eps = {EPS_CONT}; `solvers.integrate_pf_ode` Euler at "
                           f"N = {', '.join(map(str, STEPS))} vs Heun at N = {N_REF}: errors of "
                           "E|x_eps|, E[x_eps^2] halve with the step (observed orders "
                           f"{', '.join(fmt_num(o) for o in order.ravel())}; need 0.8-1.2), "
                           f"relative error of E[x_eps^2] at N = {STEPS[-1]}: {fmt_num(rel)}",
                       float(abs(order - 1).max()))


def _outputs(fm, W, vp):
    xT = _seeds()
    X = np.broadcast_to(xT[None, :, None], (W.shape[0], xT.size, 1)).copy()
    o = solvers.integrate_pf_ode(denoisers.LinearDenoiser(fm, W), X,
                                 grids.TimeGrid.linear(vp, EPS_TRUNC, 1.0, N_STEPS))[..., 0]
    return np.stack([(o**2).mean(1), (np.abs(o) < 0.5).mean(1)], axis=1)  # per model


def check_truncation(rng: np.random.Generator) -> CheckResult:
    r"""Trained (non-Gaussian) ensembles vs moment-matched Gaussian fields, at two P.

    Prop. 3.1, Gaussian truncation (paper Sec. 3). For each :math:`P \in` ``P_TRUNC``,
    ``N_ENS`` linear denoisers trained by :func:`gtv_symbolic.training.train_ensemble` and as
    many Gaussian fields with their mean and covariance
    (:func:`gtv_symbolic.typical.moment_matched_weights`) run through the figures' 30-step
    Euler sampler from 16 seeds; per model :math:`q_1 = \overline{x_\epsilon^2}`,
    :math:`q_2 = \overline{1[|x_\epsilon| < 0.5]}` (means over seeds). The ratios, with
    delta-method standard errors,

    .. math::

        \rho_P = \frac{\mathbb{E}_{\mathrm{trained}}[q]}{\mathbb{E}_{\mathrm{Gauss}}[q]}, \qquad
        \mathrm{se}(\rho_P) = \frac{\rho_P}{\sqrt{N_{\mathrm{ens}}}}
            \sqrt{\frac{\mathrm{sd}_a^2}{\bar a^2} + \frac{\mathrm{sd}_b^2}{\bar b^2}},

    must tend to 1 as :math:`P` grows for both :math:`q` (the criterion of
    :func:`gtv_symbolic.derive.compare_scaling`, each entry).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all random draws (the derivation passes its seeded Generator).

    Returns
    -------
    result : CheckResult
        Its detail adds the ratios with errors and the trained weights' excess kurtosis.
        Takes about 10 s.

    Examples
    --------
    >>> P_TRUNC, N_ENS, N_STEPS, EPS_TRUNC
    ((100, 400), 3000, 30, 0.01)
    """
    mu, vp = data_mod.three_points(), c.vp()
    fm = features_mod.make_features("gaussian", 1, N_X, N_T, EPS_TRUNC)
    ratios, ses, kurt = [], [], []
    for P, r in zip(P_TRUNC, rng.spawn(len(P_TRUNC)), strict=True):
        r_tr, r_mm = r.spawn(2)
        W = training.train_ensemble(fm, mu, vp, P=P, n_models=N_ENS, eps=EPS_TRUNC,
                                    ridge=RIDGE, rng=r_tr)
        Wm = typical.moment_matched_weights(W, N_ENS, r_mm)
        a, b = _outputs(fm, W, vp), _outputs(fm, Wm, vp)
        ma, mb = a.mean(0), b.mean(0)
        ratios.append(ma / mb)
        ses.append(ma / mb * np.hypot(a.std(0, ddof=1) / ma, b.std(0, ddof=1) / mb)
                   / np.sqrt(N_ENS))
        kurt.append(np.abs(metrics.ensemble_moments(W[:, 0, :])["kurt"]).max())
    res = compare_scaling_all(P_TRUNC, ratios, ses,
                              what=f"{N_ENS} linear denoisers per P trained by "
                                   f"`training.train_ensemble` ({N_X} x {N_T} Gaussian features, "
                                   f"t ~ U[{EPS_TRUNC}, 1]) vs as many Gaussian fields with their "
                                   "mean and covariance (`typical.moment_matched_weights`), both "
                                   f"through `solvers.integrate_pf_ode` ({N_STEPS} Euler steps, "
                                   f"{_seeds().size} seeds); ratio trained / Gaussian of E[x_eps^2] "
                                   "and of the mass in |x_eps| < 0.5")
    rr = np.array(ratios)
    se = np.array(ses)
    txt = "; ".join(f"P = {P}: " + ", ".join(f"{fmt_num(x, 3)} +- {fmt_num(e, 1)}"
                                             for x, e in zip(rr[i], se[i], strict=True))
                    for i, P in enumerate(P_TRUNC))
    return CheckResult(res.ok, res.detail + f". Truncation error (ratios with s.e.): {txt}; max "
                       "|excess kurtosis| of the trained weights "
                       + ", ".join(fmt_num(k) for k in kurt)
                       + f" (s.e. {fmt_num(np.sqrt(24 / N_ENS))}): not Gaussian", res.residual)


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
    est, se = c.mean_var_se(out)
    return compare_mc(est, ref, se, n=n,
                      what="2 Euler steps, affine mean score, Gaussian model noise correlated "
                           "across the two steps; ensemble mean and variance of x_N vs the "
                           "lambdified path-integral result")


def build() -> Derivation:
    r"""Build the path-integral derivation (unverified): MSR, cumulants and the effective process.

    From the Euler sampler of a trained model to the typical learned distribution (paper Sec. 3,
    Prop. 3.1), in discrete time and one dimension: the MSR representation, the cumulant
    expansion over training randomness (:math:`M_1`, :math:`M_2`) and, under the Gaussian
    (second-cumulant) truncation, the effective process with mean score :math:`s_{\mathrm{avg}}`
    and noise of covariance the V-kernel:

    .. math::

        \lim_{\Delta t \to 0} x_N^{(\Delta t)} = x_\epsilon \ \text{of}\;
            \dot x_t = -\beta_t x_t - D_t\, s_{\mathrm{avg}}(x_t, t) + \xi(x_t, t), \qquad
            \langle \xi(x,t)\, \xi(x',t')^T \rangle = V(x,t;x',t'),

    Parameters
    ----------
    None

    Returns
    -------
    derivation : Derivation
        19 steps; results: step 18 (continuum limit, :func:`check_continuum`) and step 19
        (the Gaussian truncation :math:`q(x_\epsilon \mid x_T) \sim` the law under the Gaussian
        field with the same :math:`s_{\mathrm{avg}}, V`, :func:`check_truncation`).

    Examples
    --------
    >>> from gtv_symbolic.derivations import REGISTRY
    >>> REGISTRY[NAME][0], NAME  # build() takes ~1 s; build().verify() is ``gtv derive path-integral``
    ('d08_path_integral', 'path-integral')
    """
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
    # noise dt*xi_k in the Euler step: E exp(-i dt sum p_k xi_k) = exp(-dt^2 p^T V p / 2) = exp(-M2/2)
    Vk = pi.v_kernel(path)
    pvec = sp.Matrix(path.p)
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

    N = {N_STEPS_SYM: "N", y: "y", p: "p", eps_r: r"\varepsilon", xi: r"\xi", v1: "v",
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
    Y = sp.Symbol
    one_r = (sp.exp(-(x1 - pi.euler_step(x0, p1.beta[0], p1.D[0], p1.s_avg[0])) ** 2
                    / (2 * dt**2 * p1.D[0] ** 2 * p1.cov[0, 0]))
             / sp.sqrt(2 * sp.pi * dt**2 * p1.D[0] ** 2 * p1.cov[0, 0]))
    sq_l = (sp.I * (pv.T * xv)[0, 0] - (xv.T * Vi * xv)[0, 0] / 2)
    sq_r = (-(xv - sp.I * V * pv).T * Vi * (xv - sp.I * V * pv) / 2 - pv.T * V * pv / 2)[0, 0]
    N.update({Y("cont_l"): r"\lim_{\Delta t \to 0} x_N^{(\Delta t)}",
              Y("cont_r"): r"x_\epsilon \ \text{of}\ \dot{x}_t = -\beta_t x_t - D_t s_{\mathrm{avg}}"
                           r"(x_t, t) + \xi(x_t, t), \quad \langle \xi(x,t) \xi(x',t')^{T} \rangle "
                           r"= V(x,t;x',t')",
              Y("trunc_l"): r"[q(x_\epsilon \mid x_T)]",
              Y("trunc_r"): r"\text{law of } x_\epsilon \text{ under the Gaussian field with the "
                            r"same } s_{\mathrm{avg}}, V",
              Y("eff2"): r"\left(\mathbb{E}, \mathrm{Var}\right)[x_2]_{\mathrm{path\ integral}}",
              Y("eff2_r"): r"\left(\mathbb{E}, \mathrm{Var}\right)[x_2]_{\mathrm{effective\ process}}",
              Y("norm"): r"\left(\int [q(x_2 \mid x_0)]\, dx_2\right)^2",
              Y("d2"): r"\left(\partial^2_{\hat{s}_k} \mathcal{E},\ \partial_{\hat{s}_k} \mathcal{E} "
                       r"+ i \Delta t D_k p_k\right)_{k = 0, 1, 2}",
              Y("mc"): r"\left(\widehat{\mathbb{E}}, \widehat{\mathrm{Var}}\right)[x_2]",
              Y("mc_r"): r"\left(\mathbb{E}, \mathrm{Var}\right)[x_2]_{\mathrm{path\ integral}}"})
    for k in range(2):
        N[a_k[k]] = f"a_{k}"
    steps = [
        Step(Y("euler_l"), pi.euler_step(path.x[0], path.beta[0], path.D[0], path.s_hat[0]).subs(
            {path.x[0]: Y("x_k", real=True), path.beta[0]: Y("beta_k", real=True),
             path.D[0]: Y("D_k", positive=True), path.s_hat[0]: Y("shat_k")}),
             "Euler step of the PF-ODE on the reversed grid $t_k = T - k\\Delta t$ with the learned "
             "score $\\hat{s}_k = \\hat{s}_\\theta(x_k, t_k)$ (paper Sec. 3).",
             status="definition", label="Euler sampler"),
        Step(Y("delta_l"), sp.exp(-y**2 / (2 * eps_r)) / sp.sqrt(2 * sp.pi * eps_r),
             "Fourier representation of the delta function, regularised: $\\int \\frac{dp}{2\\pi} "
             "e^{ipy - \\varepsilon p^2/2}$ is $N(y; 0, \\varepsilon)$, which tends to "
             "$\\delta(y)$ as $\\varepsilon \\to 0$ (SymPy integral).", status="symbolic",
             defs={Y("delta_l"): fourier}, simplifier=sp.simplify, label="delta function"),
        Step(Y("q_l"), Y("q_r"), "One delta function per Euler step, each written as a Fourier "
             "integral: the MSR path integral in discrete time (paper Sec. 3).",
             status="definition", label="MSR representation"),
        Step(Y("d2"), 0, "The model enters the exponent $\\mathcal{E}$ linearly, with coefficient "
             "$-i\\Delta t D_k p_k$.", status="symbolic", defs={Y("d2"): lin_res},
             where={N_STEPS_SYM: 3}, simplifier=sp.expand, label="linear in $\\hat{s}$"),
        Step(Y("kap"), sp.Tuple(*kap_expected), "Cumulant expansion $\\log \\mathbb{E} "
             "e^{\\lambda Z} = \\sum_n \\kappa_n \\lambda^n/n!$ in terms of raw moments (SymPy "
             "series).", status="symbolic", defs={Y("kap"): sp.Matrix(kappas)},
             simplifier=sp.expand, label="cumulants"),
        Step(Y("k2Z"), -Y("M2"), "Second cumulant of the model term: $(-i\\Delta t)^2 \\sum_{kl} "
             "p_k D_k \\mathrm{Cov}[\\hat{s}_k, \\hat{s}_l] D_l p_l = -M_2$ with $M_2 = \\Delta t^2 "
             "\\sum_{kl} p_k V_{kl} p_l$ (`pathintegral.m2`).", status="symbolic",
             defs={Y("k2Z"): kappa2_Z, Y("M2"): pi.m2(path)}, where={N_STEPS_SYM: 3},
             simplifier=sp.expand, label="$M_2$"),
        Step(Y("qavg_l"), Y("qavg_r"), "Average over training randomness: the first cumulant "
             "replaces $\\hat{s}$ by $s_{\\mathrm{avg}}$ in the exponent ($M_1$), the second gives "
             "$-M_2/2$; the Gaussian truncation drops the rest.", status="definition",
             label="truncated average"),
        Step(Y("char_l"), sp.exp(-p**2 * v1 / 2), "Gaussian characteristic function (SymPy "
             "integral).", status="symbolic", defs={Y("char_l"): char1}, simplifier=sp.simplify,
             label="Gaussian average, one variable"),
        Step(Y("sq_l"), Y("sq_r"), "Completing the square for a general $2 \\times 2$ covariance "
             "$V$: the Gaussian average of $e^{ip\\cdot\\xi}$ is $e^{-p^T V p/2}$.",
             status="symbolic", defs={Y("sq_l"): sq_l, Y("sq_r"): sq_r}, simplifier=sp.simplify,
             label="Gaussian average, two variables"),
        Step(Y("noise_l"), -Y("M2") / 2, "So Gaussian noise $\\Delta t\\,\\xi_k$ added to each "
             "Euler step, with $\\langle\\xi_k\\xi_l\\rangle = V_{kl}$, produces exactly the "
             "$-M_2/2$ term.", status="symbolic",
             defs={Y("noise_l"): ((-sp.I * dt * pvec).T * Vk * (-sp.I * dt * pvec) / 2)[0, 0],
                   Y("M2"): pi.m2(path)}, where={N_STEPS_SYM: 3}, simplifier=sp.expand,
             label="noise gives $M_2$"),
        Step(Y("eff_l"), Y("eff_r"), "The effective discrete process: the Euler scheme with the "
             "mean score and coloured Gaussian noise (checked against the truncated path "
             "integral below).", status="definition", label="effective process"),
        Step(Y("one_l"), Y("one_r"), "One step: the truncated path integral over $p_0$ is the "
             "Gaussian $N(x_1;\\ \\text{Euler step with } s_{\\mathrm{avg}},\\ \\Delta t^2 D_0^2 "
             "c_{00})$, the law of the effective process.", status="symbolic",
             defs={Y("one_l"): pref1 * sp.exp(expo1), Y("one_r"): one_r},
             simplifier=sp.simplify, label="one step exactly"),
        Step(Y("var2"), var_c, "Two steps with affine mean score $s_{\\mathrm{avg}}(x_k) = g_k x_k "
             "+ h_k$, $a_k = 1 + \\Delta t(\\beta_k + D_k g_k)$: integrating over $p_0, p_1, x_1$ "
             "gives a Gaussian in $x_2$ with this variance (`pathintegral.averaged_transition`).",
             status="symbolic", defs={Y("var2"): var2, **a_sub}, simplifier=sp.cancel,
             label="two steps: variance"),
        Step(Y("mean2"), mean_c, "Its mean.", status="symbolic",
             defs={Y("mean2"): mean2, **a_sub}, simplifier=sp.cancel, label="two steps: mean"),
        Step(Y("eff2"), Y("eff2_r"), "Both equal those of the effective process propagated "
             "directly (`pathintegral.effective_sde_output`).", status="symbolic",
             defs={Y("eff2"): sp.Matrix([mean2, var2]), Y("eff2_r"): sp.Matrix([mean_d, var_d])},
             simplifier=sp.cancel, label="two steps = effective process"),
        Step(Y("norm"), 1, "And the truncated transition density is normalised.",
             status="symbolic", defs={Y("norm"): pref**2 * 2 * sp.pi * var2},
             simplifier=sp.simplify, label="two steps: normalisation"),
        Step(Y("mc"), Y("mc_r"), "Monte Carlo ensemble of Gaussian random score models "
             "(`pathintegral.simulate_euler_ensemble`) against the two-step result.",
             status="monte-carlo", check=_mc_check, label="two steps, Monte Carlo"),
        Step(Y("cont_l"), Y("cont_r"), "Prop. 3.1, continuum limit: the effective process "
             "converges as $\\Delta t \\to 0$ (first order) to the continuous-time equation, "
             "integrated from $T$ down to $\\epsilon$. Checked with the linear-model Gaussian "
             "field of the figures: Euler at 3 step sizes against a fine Heun solution.",
             status="numeric", check=check_continuum, label="Prop. 3.1: continuum limit"),
        Step(Y("trunc_l"), Y("trunc_r"), "Prop. 3.1, Gaussian truncation, against an ensemble "
             "whose noise is neither Gaussian nor state-independent: trained linear denoisers vs "
             "the Gaussian field with their mean and covariance; the difference (the truncation "
             "error) shrinks as $P$ grows.", status="monte-carlo", relation="~",
             check=check_truncation, label="Prop. 3.1: Gaussian truncation"),
    ]
    N[sp.Symbol("one_r")] = (r"\frac{1}{\sqrt{2\pi \Delta t^2 D_0^2 c_{00}}} e^{-\frac{(x_1 - x_0 - "
                             r"\Delta t(\beta_0 x_0 + D_0 s_{\mathrm{avg},0}))^2}{2 \Delta t^2 "
                             r"D_0^2 c_{00}}}")
    return Derivation(NAME, TITLE, "From the sampler of a trained model to the typical learned "
                      "distribution (paper Sec. 3, Prop. 3.1), in discrete time with one spatial "
                      "dimension. $\\Delta t$ is the step, $c_{kl} = "
                      "\\mathrm{Cov}[\\hat{s}_k, \\hat{s}_l]$.", steps, result=(17, 18), names=N, notes=NOTES)


NOTES = f"""\
**What the Prop. 3.1 steps check.** Continuum limit: Euler at
$N \\in \\{{{', '.join(map(str, STEPS))}\\}}$ steps on $[{EPS_CONT}, 1]$ against Heun at $N = {N_REF}$,
for {N_FIELDS} draws of the linear-model Gaussian score field. Truncation: data $\\{{-1, 0, 1\\}}$,
VP, ensembles of {N_ENS} trained linear denoisers at $P \\in \\{{{', '.join(map(str, P_TRUNC))}\\}}$
({N_X} x {N_T} Gaussian features, ridge {RIDGE}, training times $t \\sim U[{EPS_TRUNC}, 1]$), pushed
through the figures' {N_STEPS}-step Euler sampler from {_seeds().size} fixed seeds; the moment-matched
Gaussian field has the same first two cumulants, so their difference is the effect of the
cumulants of order three and higher. The trained weights have a clearly non-zero excess
kurtosis, and the score field's covariance depends on the state through the features.
"""
