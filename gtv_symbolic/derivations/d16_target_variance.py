r"""Targets averaged over M posterior draws: the V-kernel's proxy-variance term scales as 1/M.

The DSM target ``x0`` is one draw of ``p(x0 | x, t)``; averaging ``M`` independent draws keeps
the conditional mean ``m(x, t)`` and divides the conditional covariance by ``M``. In the
``1/P`` law of a linear denoiser (Prop. 5.1 as derived in :mod:`gtv_symbolic.kernels`) the
target covariance enters only through the C-term, linearly, so
``Cov_W^(M) = Cov_mis + Cov_C / M`` and the V-kernel is ``V_mis + V_C / M`` (``M = 1``: the
proxy objective J1; ``M -> infinity``: the exact target J0). Checked symbolically for generic
``M`` and by Monte Carlo through the production code
(:func:`gtv_symbolic.experiments.target_variance.averaged_targets`,
:func:`gtv_symbolic.experiments.target_variance.train_panel`, :func:`gtv_symbolic.kernels.linear_kernel`).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..derive import Derivation, Step, compare_mc

#: Registry name of the derivation (``gtv derive NAME``).
NAME = "target-variance"
#: Title of the derivation's document (Markdown with ``$...$`` math).
TITLE = r'Targets averaged over $M$ posterior draws: $\mathrm{Cov} = \Sigma_{post}/M$, $V = V_{mis} + V_C/M$'

__all__ = ["NAME", "TITLE", "build"]

_M_VALUES = (1, 2, 8)


def _target_cov_check(rng):
    """Sample covariance of M-draw targets at fixed (x, t) vs Sigma_post / M."""
    from .. import data, proxy, schedules
    from ..experiments.target_variance import averaged_targets

    mu, sched = data.three_points(), schedules.VP()
    x = np.array([[-0.4], [0.1], [0.6]])
    t = np.array([0.3, 0.5, 0.8])
    n = 20000
    est, ref, se = [], [], []
    for M in (1, 2, 8):
        xx = np.repeat(x, n, axis=0)
        tt = np.repeat(t, n)
        w = proxy.posterior_weights(xx, tt, mu, sched)
        x0 = mu[(rng.random(w.shape[0])[:, None] > np.cumsum(w, axis=1)).sum(1).clip(0, 2)]
        y = averaged_targets(x0, xx, tt, mu, sched, M, rng).reshape(3, n)
        sig = proxy.posterior_covariance(x, t, mu, sched)[:, 0, 0]
        v = y.var(axis=1, ddof=1)
        c = y - y.mean(axis=1, keepdims=True)
        se.append(np.sqrt((np.mean(c**4, axis=1) - v**2) / n))
        est.append(v)
        ref.append(sig / M)
    return compare_mc(np.concatenate(est), np.concatenate(ref), np.concatenate(se), n=n,
                      what="VP, data {-1, 0, 1}, 3 points (x, t), M = 1, 2, 8: sample variance "
                           "of averaged_targets vs Sigma_post / M")


def _target_mean_check(rng):
    """Sample mean of M-draw targets at fixed (x, t) vs the production posterior mean m(x, t)."""
    from .. import data, proxy, schedules
    from ..experiments.target_variance import averaged_targets

    mu, sched = data.three_points(), schedules.VP()
    x = np.array([[-0.4], [0.1], [0.6]])
    t = np.array([0.3, 0.5, 0.8])
    n = 20000
    est, ref, se = [], [], []
    for M in _M_VALUES:
        xx = np.repeat(x, n, axis=0)
        tt = np.repeat(t, n)
        w = proxy.posterior_weights(xx, tt, mu, sched)
        x0 = mu[(rng.random(w.shape[0])[:, None] > np.cumsum(w, axis=1)).sum(1).clip(0, 2)]
        y = averaged_targets(x0, xx, tt, mu, sched, M, rng).reshape(3, n)
        est.append(y.mean(axis=1))
        se.append(y.std(axis=1, ddof=1) / np.sqrt(n))
        ref.append(proxy.posterior_mean(x, t, mu, sched)[:, 0])
    return compare_mc(np.concatenate(est), np.concatenate(ref), np.concatenate(se), n=n,
                      what="VP, data {-1, 0, 1}, 3 points (x, t), M = 1, 2, 8: sample mean "
                           "of averaged_targets vs proxy.posterior_mean")


def _split_check(rng):
    """Production Cov_W = Cov_mis + Cov_C, and the exact-target (J0) Cov_W = Cov_mis of J1."""
    from .. import data, kernels, schedules
    from ..derive import compare_close
    from ..features import make_features

    mu, sched = data.three_points(), schedules.VP()
    fm = make_features("gaussian", dim=1, n_x=4, n_t=4, eps=0.05)
    K1 = kernels.linear_kernel(fm, mu, sched, P=256, eps=0.05, target="proxy")
    K0 = kernels.linear_kernel(fm, mu, sched, P=256, eps=0.05, target="true")
    split = K1.parts["misspecification"] + K1.parts["C_term"]
    scale = float(np.max(np.abs(K1.cov_W)))
    value = np.concatenate([K1.cov_W.ravel(), K0.cov_W.ravel()])
    reference = np.concatenate([split.ravel(), K1.parts["misspecification"].ravel()])
    return compare_close(value, reference, rtol=1e-9, atol=1e-12 * scale,
                         what="kernels.linear_kernel, Gaussian 4 x 4 features, P = 256, "
                              "eps = 0.05, VP, data {-1, 0, 1}: Cov_W (J1) vs Cov_mis + Cov_C, "
                              "and Cov_W (J0, M = infinity) vs Cov_mis of J1")


def _trainer_check(rng):
    """Functional variance of ridge ensembles trained on M-draw targets vs the 1/P law."""
    from ..experiments import target_variance as tv
    from ..experiments._common import make_schedule, seed_sequence
    from ..experiments._compare import kernel

    s = tv.Settings(n_draws=_M_VALUES, P=256, n_x=4, n_t=4, n_models=400, eps=0.05)
    seed = int(rng.integers(0, 2**31))
    sched = make_schedule(s.schedule, s.T)
    fm = tv.fig2.features_for(tv.fig2.settings_like(s, eps=(s.eps,), P=(s.P,)), s.eps)
    K = kernel(fm, np.asarray(s.data, float), sched, eps=s.eps, T=s.T, ridge=s.ridge,
               target="proxy", seed_seq=seed_sequence(seed, 1), cache=False)
    C = K.parts["C_term"] / s.P
    mis = K.cov_W / s.P - C
    q = {}
    for M in _M_VALUES:
        q[M] = tv.nn_vs_theory.functional_variance(tv.train_panel(s, seed, M), K.G)
    pred = {M: float(np.trace(K.G @ (mis + C / M)[0, :, 0, :])) for M in _M_VALUES}
    # paired changes from M = 1 (the same triples, only the target draws differ): they
    # isolate the C-term, tr G Cov_C (1 - 1/M); the M-independent misspecification part
    # (and its O(1/P^2) error) cancels
    est, ref, se = [], [], []
    for M in _M_VALUES[1:]:
        d = q[1] - q[M]
        est.append(d.mean())
        se.append(d.std(ddof=1) / np.sqrt(s.n_models))
        ref.append(pred[1] - pred[M])
    return compare_mc(est, ref, se, n=s.n_models,
                      what=f"ridge, Gaussian 4 x 4 features, P = {s.P}, eps = {s.eps}, VP, "
                           f"data {{-1, 0, 1}}: paired change of E[lam tr Var mu_hat] from M = 1 "
                           f"to M = {', '.join(str(M) for M in _M_VALUES[1:])} vs "
                           f"tr G Cov_C (1 - 1/M)")


def _in_range(expr):
    """``doit``, then keep the ``k <= M`` branch of the inner sum (it holds on the range)."""
    e = expr.doit().replace(lambda z: isinstance(z, sp.Piecewise), lambda z: z.args[0][0])
    return sp.simplify(e.doit())


def build() -> Derivation:
    r"""Build the target-variance derivation (unverified): averaging M targets scales V_C by 1/M.

    Averaging :math:`M` independent posterior draws of :math:`x_0` keeps the target's mean and
    divides its covariance by :math:`M`; in the :math:`1/P` law of a linear denoiser (Prop. 5.1)
    the target covariance enters only through the C-term, linearly, so the weight covariance (and
    the V-kernel, :math:`V = V_{\mathrm{mis}} + V_C/M`) is

    .. math::

        \mathrm{Cov}\Big[\tfrac{1}{M}\textstyle\sum_k x_0^{(k)} \,\Big|\, x,t\Big]
            = \frac{\Sigma_{\mathrm{post}}}{M}, \qquad
        \mathrm{Cov}_W^{(M)} = \mathrm{Cov}_{\mathrm{mis}} + \frac{\mathrm{Cov}_C}{M}.

    Parameters
    ----------
    None

    Returns
    -------
    derivation : Derivation
        8 steps; results: step 5 (symbolic, generic M) and step 8 (Monte Carlo through
        :func:`gtv_symbolic.experiments.target_variance.train_panel`).

    Examples
    --------
    >>> d = build()
    >>> len(d.steps), [i + 1 for i in d.result], [s.status for s in d.result_steps]
    (8, [5, 8], ['symbolic', 'monte-carlo'])
    """
    M = sp.Symbol("M", positive=True, integer=True)
    k, l = sp.symbols("k l", positive=True, integer=True)
    m, Sig = sp.symbols("m Sigma_post", real=True)
    lam, a, P = sp.symbols("lambda a P", positive=True)
    yM, EyM, CovyM = sp.symbols("y_M E_y_M Cov_y_M")
    covC, covW, covmis, covWM = sp.symbols("Cov_C Cov_W Cov_mis Cov_W_M")
    steps = [
        Step(yM, sp.Sum(sp.Symbol("x0_k"), (k, 1, M)) / M,
             "Target averaged over $M$ independent posterior draws "
             "$x_0^{(k)} \\sim p(x_0 \\mid x, t)$; the sampled $x_0$ of the DSM triple is one of "
             "them, so $M = 1$ is the proxy target (J1).", status="definition",
             label="M-draw target"),
        Step(EyM, sp.Sum(m, (k, 1, M)) / M,
             "Linearity of the conditional mean, each draw having mean $m(x, t)$; Monte Carlo: "
             "sample mean of the production averaged targets against the production posterior "
             "mean.", status="monte-carlo", check=_target_mean_check, label="mean of the average"),
        Step(sp.Sum(m, (k, 1, M)) / M, m, "The sum of $M$ equal terms: the average is unbiased "
             "for the exact target $m(x, t)$ (J0) for every $M$.", status="symbolic",
             simplifier=lambda e: sp.simplify(e.doit()), label="unbiased"),
        Step(CovyM, sp.Sum(sp.Sum(sp.KroneckerDelta(k, l) * Sig, (l, 1, M)), (k, 1, M)) / M**2,
             "Bilinearity of the covariance; independent draws have "
             "$\\mathrm{Cov}[x_0^{(k)}, x_0^{(l)}] = \\delta_{kl}\\Sigma_{post}$; Monte Carlo: "
             "sample variance of the production averaged targets at fixed $(x, t)$ against the "
             "double sum evaluated with the production posterior covariance.",
             status="monte-carlo", check=_target_cov_check, label="covariance of the average"),
        Step(sp.Sum(sp.Sum(sp.KroneckerDelta(k, l) * Sig, (l, 1, M)), (k, 1, M)) / M**2, Sig / M,
             "The double sum has $M$ diagonal terms: $\\mathrm{Cov}[y_M \\mid x, t] = "
             "\\Sigma_{post}(x, t)/M$.", status="symbolic", simplifier=_in_range,
             label="1/M"),
        Step(covW, covmis + covC, "The $1/P$ law of a linear denoiser (Prop. 5.1, derivation "
             "linear-model): misspecification part plus the C-term "
             "$\\mathrm{Cov}_C = \\frac1P\\mathbb{E}[\\lambda^2 (h\\circ v)(h\\circ v)^T \\otimes "
             "\\mathrm{Cov}[y \\mid x, t]]$ at $\\mathrm{Cov}[y \\mid x,t] = \\Sigma_{post}$; "
             "checked on the production kernel, together with $\\mathrm{Cov}_W = "
             "\\mathrm{Cov}_{mis}$ for the exact target ($M \\to \\infty$).",
             status="numeric", check=_split_check, label="split of $\\mathrm{Cov}_W$"),
        Step(lam**2 * a**2 * (Sig / M) / P, (lam**2 * a**2 * Sig / P) / M,
             "The target covariance enters the C-term linearly and nowhere else (the "
             "misspecification part uses $m$ only); per feature pair, with $a = (h\\circ v)_f$, "
             "replacing $\\Sigma_{post}$ by $\\Sigma_{post}/M$ divides it by $M$.",
             status="symbolic", label="C-term / M"),
        Step(covWM, covmis + covC / M, "Hence the V-kernel of M-draw training: "
             "$V^{(M)} = V_{mis} + V_C/M$ ($M \\to \\infty$: J0, only the misspecification "
             "part). Monte Carlo through the production trainer: the functional variance "
             "$\\mathbb{E}[\\lambda\\,\\mathrm{tr}\\,\\mathrm{Var}\\,\\hat\\mu] = "
             "\\mathrm{tr}(G\\,\\mathrm{Cov}_W)$ of ridge ensembles trained on $M$-draw targets: "
             "its paired change from $M = 1$ to $M = 2, 8$ against "
             "$\\mathrm{tr}(G\\,\\mathrm{Cov}_C)(1 - 1/M)$ (what is checked is this trace, "
             "not every entry).", status="monte-carlo", check=_trainer_check,
             label="$\\mathrm{Cov}_W$ at $M$"),
    ]
    names = {yM: "y_M", EyM: r"\mathbb{E}[y_M \mid x, t]", CovyM: r"\mathrm{Cov}[y_M \mid x, t]",
             sp.Symbol("x0_k"): "x_0^{(k)}", Sig: r"\Sigma_{\mathrm{post}}", m: "m(x,t)",
             covC: r"\mathrm{Cov}_C", covW: r"\mathrm{Cov}_W", covmis: r"\mathrm{Cov}_{mis}",
             covWM: r"\mathrm{Cov}_W^{(M)}"}
    return Derivation(NAME, TITLE, "Training on the average of $M$ posterior draws of $x_0$ "
                      "(the target-variance sweep of the critique, Bertrand et al. 2025) keeps "
                      "the mean target and scales the proxy-variance part of the V-kernel by "
                      "$1/M$.", steps, result=(4, 7), names=names)
