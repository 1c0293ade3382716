r"""Linear models trained on the empirical DSM objective (paper Sec. 5.1, Prop. 5.1).

The model and the covariance formula are in :func:`build`. The production code
(``kernels.linear_kernel``, ``training.train_ensemble``, ``training.population_weights``) is the
denoiser form ``psi = (alpha/sigma^2) phi``, ``b = -x/sigma^2``, ``lambda = sigma^2``; the checks
run on it.
"""

from __future__ import annotations

import sympy as sp

from .. import symbols as S
from ..derive import Derivation, Step
from ._linear_checks import (
    EPS,
    N_MODELS,
    N_T,
    N_X,
    P_SIZES,
    RIDGE,
    T_END,
    TQ,
    check_ensemble_cov,
    check_ensemble_mean,
    check_kernel_is_formula,
    check_m_identity,
    check_trace,
    check_wstar,
)

__all__ = ["NAME", "TITLE", "build", "check_wstar", "check_m_identity", "check_kernel_is_formula",
           "check_ensemble_mean", "check_ensemble_cov", "check_trace"]

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "linear-model"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = r"Linear models: ridge solution, mean, $1/P$ covariance (Prop. 5.1)"


def build() -> Derivation:
    r"""Build the linear-model derivation (unverified): Prop. 5.1, the ridge solution and 1/P covariance.

    :math:`\hat s = W\psi(x,t) + b(x,t)` trained on the ridge-regularised empirical DSM objective
    with :math:`P` samples, :math:`t_i \sim U[\epsilon, T]` (paper Sec. 5.1, Prop. 5.1; derived here):
    :math:`W = \hat A(\hat\Sigma + \rho I)^{-1}`, mean :math:`W_*\psi + b` with :math:`W_* = A(\Sigma +
    \rho I)^{-1}`; with :math:`k = \psi^T(\Sigma + \rho I)^{-1}\psi'`, :math:`r = s - b - W_*\psi` and
    :math:`m(x,t) = \mathbb{E}[\lambda_u k\, r] = \rho\,\psi^T(\Sigma + \rho I)^{-1}W_*^T` (exactly), to
    leading order in :math:`1/P` (delta method)

    .. math:: \mathrm{Cov}[\hat s(x,t), \hat s(x',t')] = \frac{1}{P}\Big\{\mathbb{E}_{u,y}\big[
              \lambda_u^2 k(x,t;y,u)\, k(y,u;x',t')\, (C(y,u) + r r^T)\big] - m(x,t)\, m(x',t')^T\Big\}.

    Returns
    -------
    derivation : Derivation
        16 steps; results: step 9 (:func:`check_kernel_is_formula`), 12 (:func:`check_ensemble_cov`).

    Examples
    --------
    >>> d = build()
    >>> len(d.steps), [s.check.__name__ for s in d.result_steps]
    (16, ['check_kernel_is_formula', 'check_ensemble_cov'])
    """
    rho, Pn, Fn = S.rho, 3, 2
    lam = sp.symbols(f"lambda_1:{Pn + 1}", positive=True)
    y = sp.symbols(f"y_1:{Pn + 1}", real=True)  # targets s~_i - b_i
    psis = [sp.Matrix([sp.Symbol(f"psi_{i}{j}", real=True) for j in range(1, Fn + 1)])
            for i in range(1, Pn + 1)]
    Wsym = sp.Matrix([[sp.Symbol(f"W_{j}", real=True) for j in range(1, Fn + 1)]])
    Sig_h = sum((lam[i] * psis[i] * psis[i].T for i in range(Pn)), sp.zeros(Fn, Fn)) / Pn
    A_h = sum((lam[i] * y[i] * psis[i].T for i in range(Pn)), sp.zeros(1, Fn)) / Pn
    W_sol = A_h * (Sig_h + rho * sp.eye(Fn)).inv()
    J = (sum(lam[i] * ((Wsym * psis[i])[0, 0] - y[i]) ** 2 for i in range(Pn)) / (2 * Pn)
         + rho / 2 * (Wsym * Wsym.T)[0, 0])
    grad = sp.Matrix([[sp.diff(J, wj) for wj in Wsym]]).subs(dict(zip(Wsym, W_sol, strict=True)))

    # population quantities, F = 2
    Sg = sp.Matrix([[sp.Symbol("Sigma_11", positive=True), sp.Symbol("Sigma_12", real=True)],
                    [sp.Symbol("Sigma_12", real=True), sp.Symbol("Sigma_22", positive=True)]])
    Am = sp.Matrix([[sp.Symbol("A_1", real=True), sp.Symbol("A_2", real=True)]])
    R = Sg + rho * sp.eye(2)
    Wst = Am * R.inv()
    e = sp.Symbol("varepsilon_d")
    Bm = sp.Matrix([[sp.Symbol("B_11", real=True), sp.Symbol("B_12", real=True)],
                    [sp.Symbol("B_12", real=True), sp.Symbol("B_22", real=True)]])
    am = sp.Matrix([[sp.Symbol("a_1", real=True), sp.Symbol("a_2", real=True)]])
    Weps = (Am + e * am) * (Sg + e * Bm + rho * sp.eye(2)).inv()
    dW_val = sp.diff(Weps, e).subs(e, 0)

    # first-order fluctuation at a query point, P = 3 samples: kernel form (exact identity)
    psx = sp.Matrix([sp.Symbol("psix_1", real=True), sp.Symbol("psix_2", real=True)])
    fluct = ((A_h - Am) - Wst * (Sig_h - Sg)) * R.inv() * psx
    kx = [(psis[i].T * R.inv() * psx)[0, 0] for i in range(Pn)]
    fluct_rhs = (sum(lam[i] * (y[i] - (Wst * psis[i])[0, 0]) * kx[i] for i in range(Pn)) / Pn
                 - rho * (Wst * R.inv() * psx)[0, 0])
    # E[lambda psi r^T] = A^T - Sigma W*^T = rho W*^T, hence m = rho psi^T R^-1 W*^T
    m_def = (psx.T * R.inv() * (Am.T - Sg * Wst.T))[0, 0]
    m_closed = rho * (psx.T * R.inv() * Wst.T)[0, 0]

    # E[(s~ - b - W* psi)^2 | y, u] = C + r^2, three posterior weights
    w1, w2 = sp.symbols("w_1 w_2", positive=True)
    q = sp.symbols("q_1:4", real=True)
    bW = sp.Symbol("c_bW", real=True)  # b + W* psi at (y, u)
    wts = [w1, w2, 1 - w1 - w2]
    smean = sum(wi * qi for wi, qi in zip(wts, q, strict=True))
    e2_val = sum(wi * (qi - bW) ** 2 for wi, qi in zip(wts, q, strict=True))
    e2_rhs = sum(wi * (qi - smean) ** 2 for wi, qi in zip(wts, q, strict=True)) + (smean - bW) ** 2
    # trace identity for a 3-point distribution of (lambda, psi) with weights pi_j
    pis = sp.symbols("pi_1:4", positive=True)
    Rinv = R.inv()
    lam_k = sum(pis[j] * lam[j] * (psis[j].T * Rinv * psis[j])[0, 0] for j in range(Pn))
    Sig3 = sum((pis[j] * lam[j] * psis[j] * psis[j].T for j in range(Pn)), sp.zeros(2, 2))
    # denoiser form: psi = (alpha/sigma^2) phi, lambda = sigma^2 -> weight alpha^2/sigma^2
    au, s2u = sp.Symbol("alpha_u", positive=True), sp.Symbol("sigma2_u", positive=True)

    d = {n: sp.Symbol(n) for n in ("shat", "J", "gradJ", "Wstar", "dW", "fluct", "m", "e2",
                                   "cov", "V", "trl", "den_l", "Ceq", "Wnum", "mnum", "kform",
                                   "ens", "ensm", "trmc")}
    N = {d["shat"]: r"\hat{s}(x,t)", d["J"]: r"\hat{J}(W)",
         d["gradJ"]: r"\nabla_W \hat{J}|_{W = \hat{A}(\hat{\Sigma} + \rho I)^{-1}}",
         d["Wstar"]: r"\mathbb{E}[\hat{s}(x,t)]", d["dW"]: r"\frac{d}{d\varepsilon} (A + "
         r"\varepsilon a)(\Sigma + \varepsilon B + \rho I)^{-1}|_{\varepsilon = 0}",
         d["fluct"]: r"\left(\hat{A} - A - W_*(\hat{\Sigma} - \Sigma)\right)(\Sigma + \rho I)^{-1}"
                     r"\psi(x,t)",
         d["m"]: r"m(x,t)", d["e2"]: r"\mathbb{E}[e^2 \mid y, u]",
         d["cov"]: r"\mathrm{Cov}[\hat{s}(x,t), \hat{s}(x',t')]", d["V"]: r"V(x,t;x',t')",
         d["trl"]: r"\mathbb{E}_{u,y}[\lambda_u k(y,u;y,u)]",
         d["den_l"]: r"\lambda_u \psi(y,u) \psi(y,u)^{T}",
         d["Wnum"]: r"W_*", d["mnum"]: r"\mathbb{E}_{u,y}[\lambda_u k(x,t;y,u)\, r(y,u)]",
         d["kform"]: r"\mathrm{Cov}[\hat{s}(x,t), \hat{s}(x',t')]_{\texttt{linear\_kernel}}",
         d["ens"]: r"\widehat{\mathrm{Cov}}_{\mathrm{ens}}[\hat{s}(x,t), \hat{s}(x',t')]",
         d["ensm"]: r"\widehat{\mathbb{E}}_{\mathrm{ens}}[\hat{s}(x,t)]",
         d["trmc"]: r"\widehat{\mathbb{E}}[\lambda_u k(y,u;y,u)]", rho: r"\rho"}
    r_ = {n: sp.Symbol(n + "_r") for n in ("shat", "J", "Wstar", "cov", "V", "Wnum", "trl",
                                          "den", "e2")}
    N.update({
        r_["shat"]: r"W \psi(x,t) + b(x,t)",
        r_["J"]: r"\frac{1}{2P}\sum_{i=1}^{P} \lambda_{t_i} \| W\psi_i + b_i - \tilde{s}_i \|^2 + "
                 r"\frac{\rho}{2} \| W \|_F^2, \quad t_i \sim U[\epsilon, T]",
        r_["Wstar"]: r"W_* \psi(x,t) + b(x,t) + O(P^{-1}), \quad W_* = A (\Sigma + \rho I)^{-1},"
                     r"\ A = \mathbb{E}[\lambda (s - b)\psi^{T}],\ \Sigma = \mathbb{E}[\lambda \psi"
                     r"\psi^{T}]",
        r_["Wnum"]: r"A (\Sigma + \rho I)^{-1} \ \text{(quadrature)}",
        r_["cov"]: r"\frac{1}{P}\left\{\mathbb{E}_{u,y}\left[\lambda_u^2 k(x,t;y,u)\, "
                   r"k(y,u;x',t') \left(C(y,u) + r(y,u) r(y,u)^{T}\right)\right] - m(x,t)\, "
                   r"m(x',t')^{T}\right\}",
        r_["V"]: r"D_t\, \mathrm{Cov}[\hat{s}(x,t), \hat{s}(x',t')]\, D_{t'}",
        r_["trl"]: r"\mathrm{tr}\left(\Sigma(\Sigma + \rho I)^{-1}\right) = F_{\mathrm{eff}}",
        r_["den"]: r"\frac{\alpha_u^2}{\sigma_u^2} \phi(y,u) \phi(y,u)^{T}",
        r_["e2"]: r"C(y,u) + r(y,u)^2",
    })
    fl_r = sp.Symbol("fluct_r")
    N[fl_r] = (r"\frac{1}{P}\sum_{i=1}^{P} \lambda_i e_i\, k(x,t; y_i,u_i) - m(x,t), \quad "
               r"e_i = \tilde{s}_i - b_i - W_*\psi_i")
    mrhs = sp.Symbol("m_r")
    N[mrhs] = r"\rho\, \psi(x,t)^{T} (\Sigma + \rho I)^{-1} W_*^{T}"
    dWr = sp.Symbol("dW_r")
    N[dWr] = r"(a - W_* B)(\Sigma + \rho I)^{-1}"

    steps = [
        Step(d["shat"], r_["shat"], "Linear model in fixed features $\\psi \\in \\mathbb{R}^F$ "
             "with a fixed offset $b$ (paper Sec. 5.1). The code's denoiser form "
             "$\\hat{\\mu} = W\\phi$ is the case $\\psi = (\\alpha_t/\\sigma_t^2)\\phi$, "
             "$b = -x/\\sigma_t^2$, $\\lambda_t = \\sigma_t^2$.", status="definition",
             label="model"),
        Step(d["J"], r_["J"], "Ridge-regularised empirical DSM objective on $P$ i.i.d. samples "
             "$(t_i, x_{0i}, x_i)$, training times drawn uniformly on $[\\epsilon, T]$ as in the "
             "figures.", status="definition", label="objective"),
        Step(d["gradJ"], sp.zeros(1, Fn), "The closed form $W = \\hat{A}(\\hat{\\Sigma} + "
             "\\rho I)^{-1}$, $\\hat{A} = \\frac{1}{P}\\sum_i \\lambda_i (\\tilde{s}_i - b_i)"
             "\\psi_i^T$, $\\hat{\\Sigma} = \\frac{1}{P}\\sum_i \\lambda_i\\psi_i\\psi_i^T$, is the "
             "stationary point of the strictly convex objective.", status="symbolic",
             defs={d["gradJ"]: grad}, where={S.F: 2, S.P: 3}, simplifier=sp.cancel,
             label="ridge solution"),
        Step(d["dW"], dWr, "Delta method: first-order change of the solution under $\\hat{A} = "
             "A + \\varepsilon a$, $\\hat{\\Sigma} = \\Sigma + \\varepsilon B$ (general symmetric "
             "$\\Sigma$, $B$).", status="symbolic",
             defs={d["dW"]: dW_val, dWr: (am - Wst * Bm) * R.inv()}, where={S.F: 2},
             simplifier=sp.cancel, label="delta method"),
        Step(d["fluct"], fl_r, "Applied to a query point, the first-order fluctuation "
             "$\\hat{s} - s_{\\mathrm{avg}}$ is an average of i.i.d. terms, each $\\lambda_i e_i$ "
             "times the feature kernel $k(x,t;y,u) = \\psi(x,t)^T(\\Sigma + \\rho I)^{-1}"
             "\\psi(y,u)$, minus its mean $m$ (exact identity, using $A = W_*(\\Sigma + \\rho I)$).",
             status="symbolic", defs={d["fluct"]: fluct, fl_r: fluct_rhs},
             where={S.F: 2, S.P: 3}, simplifier=sp.cancel, label="kernel form"),
        Step(d["m"], mrhs, "The mean of one term, $m(x,t) = \\mathbb{E}[\\lambda_u k(x,t;y,u) "
             "r(y,u)]$ with $r = s - b - W_*\\psi$: since $\\mathbb{E}[\\lambda\\psi r^T] = A^T - "
             "\\Sigma W_*^T = \\rho W_*^T$, it is exactly this. So $m = 0$ only at $\\rho = 0$; "
             "with $\\rho > 0$ the residual $r$ cannot vanish identically unless $W_* = 0$.",
             status="symbolic", defs={d["m"]: m_def, mrhs: m_closed}, where={S.F: 2},
             simplifier=sp.cancel, label="mean term"),
        Step(d["mnum"], mrhs, "The same identity on the production quadrature of the training "
             "law.", status="numeric", check=check_m_identity, label="mean term, numeric"),
        Step(d["e2"], r_["e2"], "Conditional second moment of the residual target $e = \\tilde{s} "
             "- b - W_*\\psi$ (bias-variance over the posterior of $x_0$; one coordinate, three "
             "posterior weights).", status="symbolic", defs={d["e2"]: e2_val, r_["e2"]: e2_rhs},
             where={S.M: 3}, simplifier=sp.expand, label="$C$ appears"),
        Step(d["cov"], r_["cov"], "Covariance of an average of $P$ i.i.d. terms: $1/P$ times the "
             "covariance of one term, $O(P^{-2})$ dropped: Prop. 5.1. The production kernel "
             "(`kernels.linear_kernel`, denoiser form) equals the displayed formula evaluated "
             "by quadrature over the training law.", status="numeric",
             check=check_kernel_is_formula, label="Prop. 5.1: formula"),
        Step(d["Wnum"], r_["Wnum"], "The population optimum of the production code.",
             status="numeric", check=check_wstar, label="$W_*$"),
        Step(d["ensm"], r_["Wstar"], "Mean of the trained ensemble: $W_*\\psi + b$ up to "
             "$O(1/P)$ (the tower property $\\mathbb{E}[\\tilde{s} \\mid y, u] = s$ makes $A$ "
             "the same for $s$ and $\\tilde{s}$).", status="monte-carlo",
             check=check_ensemble_mean, label="mean model"),
        Step(d["ens"], r_["cov"], "Prop. 5.1 against ensembles trained by the production "
             "trainer with $t \\sim U[\\epsilon, T]$: the ratio of empirical to predicted "
             "covariance tends to 1 as $P$ grows.", status="monte-carlo", relation="~",
             check=check_ensemble_cov, label="Prop. 5.1: ensembles"),
        Step(d["V"], r_["V"], "The V-kernel of this model, as in Prop. 3.1.",
             status="definition", label="V-kernel"),
        Step(d["trl"], r_["trl"], "Trace identity $\\mathbb{E}[\\lambda \\psi^T A \\psi] = "
             "\\mathrm{tr}(A\\, \\mathbb{E}[\\lambda\\psi\\psi^T])$ for a three-point law of "
             "$(\\lambda, \\psi)$: the size of $V$ scales as $F_{\\mathrm{eff}}/P$, with "
             "$F_{\\mathrm{eff}} = F$ at $\\rho = 0$.", status="symbolic",
             defs={d["trl"]: lam_k, r_["trl"]: (Sig3 * Rinv).trace()}, where={S.F: 2},
             simplifier=sp.cancel, label="trace identity"),
        Step(d["trmc"], r_["trl"], "The trace identity by Monte Carlo over the training law.",
             status="monte-carlo", check=check_trace, label="trace identity, Monte Carlo"),
        Step(d["den_l"], r_["den"], "Denoiser form: with $\\psi = (\\alpha_u/\\sigma_u^2)\\phi$ "
             "and $\\lambda_u = \\sigma_u^2$ the Gram weight is $\\alpha_u^2/\\sigma_u^2$, the "
             "weight used by `training.train_ensemble` and `kernels.linear_kernel`.",
             status="symbolic", defs={d["den_l"]: s2u * (au / s2u) ** 2,
                                      r_["den"]: au**2 / s2u},
             simplifier=sp.cancel, label="denoiser form"),
    ]
    return Derivation(NAME, TITLE, "Closed-form training of linear models on the noisy DSM "
                      "objective with training times $t \\sim U[\\epsilon, T]$, and the "
                      "resulting covariance to leading order in $1/P$ (paper Sec. 5.1, "
                      "Prop. 5.1; derived here).", steps, result=(8, 11), names=N, notes=NOTES)


NOTES = f"""\
**What the numeric steps check.** Data $\\{{-1, 0, 1\\}}$, VP schedule, training times
$t \\sim U[{EPS}, {T_END}]$, {N_X} x {N_T} Gaussian features, $\\rho = {RIDGE}$ (the figures'
ridge), query points $(x, t)$ with $t \\in \\{{{', '.join(map(str, TQ))}\\}}$; ensembles of
{N_MODELS} models at $P \\in \\{{{', '.join(map(str, P_SIZES))}\\}}$. The $O(P^{{-2}})$ terms
dropped include the bias of $\\mathbb{{E}}[W] - W_*$ and random-matrix corrections from the
fluctuations of $(\\hat{{\\Sigma}} + \\rho I)^{{-1}}$, which matter when $F$ is comparable to
$P$. The paper's own regime $F/P \\geq 1/4$ is outside the leading-order formula.
**Correction.** An earlier version of this document said that expressive features
($r \\approx 0$) give $m = 0$. In fact $m(x,t) = \\rho\\, \\psi(x,t)^T(\\Sigma + \\rho I)^{-1}W_*^T$
exactly (step 6), so $m = 0$ only at $\\rho = 0$, and with $\\rho > 0$ the residual $r$
cannot vanish identically (unless $W_* = 0$).
"""
