"""Plot and table of the ablation (:func:`gtv_symbolic.experiments.ablation.run`)."""

from __future__ import annotations

import json

import numpy as np

from .fig2 import fmt_ratio
from .numbers import pm
from .style import COLORS, curve, sweep_colour
from .theory import run_header

__all__ = ["plot", "table"]


def plot(result):
    """The causal ablation's figure: proxy (J1) vs true-score (J0) targets, and the naive estimator.

    No formula: infrastructure (the numbers come from
    :func:`gtv_symbolic.experiments.ablation.run`). Four panels: the J1 and J0 ensembles'
    densities at the ``P`` nearest 256 with ``p(x | eps)``, the PF-ODE and the mean model W*;
    the variance of the learned mean across models at the second time of ``t_ng``, measured
    and predicted per target (log scale, predictions floored at 1e-12); the naive estimator's
    Fokker-Planck density per noise ``kappa`` (Prop. 4.1); the mass of the middle mode, of the
    other modes and of the gaps against ``kappa``, with the Euler-Maruyama check (±2 s.e.).

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.ablation.run` (coordinates ``target``
        = ``["proxy", "true"]``, ``P``, ``x``, ``x_ng``, ``t_ng``, ``kappa``).

    Returns
    -------
    matplotlib.figure.Figure
        Four axes in one row, each with its legend below.

    Examples
    --------
    >>> import json, numpy as np, xarray as xr, matplotlib.pyplot as plt
    >>> n = {"target": 2, "P": 1, "x": 3, "x_ng": 2, "t_index": 2, "kappa": 2, "mode": 3}
    >>> v = lambda *dims: (dims, np.full([n[d] for d in dims], 0.25))
    >>> r = xr.Dataset(
    ...     {"true": v("x"), "pfode": v("x"), "mean_model": v("x"),
    ...      "density": v("target", "P", "x"), "var_emp": v("target", "P", "x_ng", "t_index"),
    ...      "var_pred": v("target", "P", "x_ng", "t_index"), "naive_fp": v("kappa", "x"),
    ...      "naive_modes": v("kappa", "mode"), "naive_sc_modes": v("kappa", "mode"),
    ...      "naive_gap": v("kappa"), "naive_em_modes": v("mode"), "naive_em_modes_se": v("mode")},
    ...     coords={"target": ["proxy", "true"], "P": [256], "x": [-1.0, 0.0, 1.0],
    ...             "x_ng": [0.0, 0.5], "t_ng": ("t_index", [0.01, 0.1]), "kappa": [0.0, 0.5]},
    ...     attrs={"n_features": 256, "settings": json.dumps({"em_kappa": 0.5})})
    >>> fig = plot(r)
    >>> [ax.get_title() for ax in fig.axes][:2]
    ['proxy vs true-score target (F/P = 1)', 'variance of the learned mean at t = 0.1']
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    d = result
    x, P = d["x"].values, d["P"].values
    F = int(d.attrs["n_features"])
    j = int(np.argmin(np.abs(P - 256)))
    fig, axes = plt.subplots(1, 4, figsize=(12.5, 4.4))
    below = dict(loc="upper center", bbox_to_anchor=(0.5, -0.17))  # legends under the panels
    ax = axes[0]
    curve(ax, x, d["true"].values, "p_eps")
    curve(ax, x, d["pfode"].values, "pf_ode")
    curve(ax, x, d["density"].sel(target="proxy").values[j], "ensemble",
          label="ensemble, proxy target (J1)")
    ax.plot(x, d["density"].sel(target="true").values[j], color=COLORS["ensemble_j0"], lw=1.2, ls="--",
            label="ensemble, true-score target (J0)")
    curve(ax, x, d["mean_model"].values, "mean_model")
    ax.set_ylim(0, 2.5)
    ax.set_xlabel("$x$")
    ax.set_ylabel("density")
    ax.set_title(f"proxy vs true-score target (F/P = {fmt_ratio(F / P[j])})")
    ax.legend(**below)
    ax = axes[1]
    tt = d["t_ng"].values
    k = 1
    for tg, c, name in (("proxy", COLORS["ensemble"], "proxy (J1)"),
                        ("true", COLORS["ensemble_j0"], "true score (J0)")):
        ax.semilogy(d["x_ng"].values, d["var_emp"].sel(target=tg).values[j][:, k], color=c, lw=1.2,
                    label=f"{name}: measured")
        ax.semilogy(d["x_ng"].values, np.maximum(d["var_pred"].sel(target=tg).values[j][:, k],
                                                 1e-12), color=c, ls=":", lw=1.4,
                    label=f"{name}: predicted")
    ax.set_xlabel("$x$")
    ax.set_title(f"variance of the learned mean at t = {tt[k]:g}")
    ax.legend(**below)
    ax = axes[2]
    kap = d["kappa"].values
    for i, kv in enumerate(kap):
        ax.plot(x, d["naive_fp"].values[i], color=sweep_colour(i, len(kap)), lw=1.0,
                label=f"noise $\\kappa$ = {kv:g}")
    ax.set_ylim(0, 4)
    ax.set_xlabel("$x$")
    ax.set_title("naive estimator (Fokker-Planck)")
    ax.legend(ncol=2, **below)
    ax = axes[3]
    modes = d["naive_modes"].values
    mid = modes.shape[1] // 2
    ax.plot(kap, modes[:, mid], "-o", color="k", ms=4, label="middle mode mass")
    ax.plot(kap, modes.sum(1) - modes[:, mid], "-s", color="0.5", ms=4, label="other modes")
    ax.plot(kap, d["naive_gap"].values, "-^", color=COLORS["ensemble"], ms=4, label="gap mass")
    ax.plot(kap, d["naive_sc_modes"].values[:, mid], ":", color="k",
            label="middle, small-noise theory")
    s = json.loads(d.attrs["settings"])
    ax.errorbar([s["em_kappa"]], [d["naive_em_modes"].values[mid]],
                [2 * d["naive_em_modes_se"].values[mid]], fmt="x", color=COLORS["prediction"], capsize=2,
                label="middle, Euler-Maruyama (±2 s.e.)")
    ax.set_xlabel("noise $\\kappa$")
    ax.set_title("mass moved between modes")
    ax.legend(**below)
    fig.tight_layout()
    return fig


def _binomial(p, se, n) -> str:
    """``p ± se``, or for no hits the 95 % upper bound ``3/n`` (rule of three).

    >>> _binomial(0.0, 0.0, 20000)
    '0 of 20000 (95% upper bound 0.00015)'
    """
    return f"0 of {n} (95% upper bound {3 / n:.2g})" if p == 0 else pm(p, se, 5)


def table(result) -> str:
    """Markdown table of the ablation: standard errors and paired J1 - J0 differences.

    No formula: infrastructure (formatting). Columns: ``P``; rows: the variance across models
    (measured over ensembles, predicted, paired difference, C-term), gap masses and their
    paired difference, TV to the PF-ODE and mode masses per target, the exact references, then
    the naive estimator per ``kappa`` and its Euler-Maruyama check (a count of 0 gap hits in
    ``n`` samples is given as the 95 % upper bound ``3/n``).

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.ablation.run`.

    Returns
    -------
    str
        Markdown, ending with a newline.

    Examples
    --------
    >>> import json, numpy as np, xarray as xr
    >>> n = {"target": 2, "P": 1, "mode": 2, "kappa": 1, "em_sample": 4}
    >>> v = lambda *dims: (dims, np.full([n[d] for d in dims], 0.25))
    >>> tp = [k + e for k in ("trainvar_emp", "gap_mass", "tv_pf_ode") for e in ("", "_se")]
    >>> r = xr.Dataset(
    ...     {k: v("target", "P") for k in tp + ["trainvar_pred", "trainvar_Cterm"]}
    ...     | {k: v("P") for k in ("trainvar_diff", "trainvar_diff_se", "gap_mass_diff",
    ...                            "gap_mass_diff_se")}
    ...     | {k: v("target", "P", "mode") for k in ("mode_mass", "mode_mass_se")}
    ...     | {k: v("mode") for k in ("mode_mass_pf_ode", "mode_mass_mean_model",
    ...                               "naive_em_modes", "naive_em_modes_se")}
    ...     | {k: v() for k in ("gap_mass_pf_ode", "gap_mass_mean_model", "naive_em_gap_se")}
    ...     | {"naive_modes": v("kappa", "mode"), "naive_sc_modes": v("kappa", "mode"),
    ...        "naive_gap": v("kappa"), "naive_em_gap": ((), 0.0), "naive_em_samples": v("em_sample")},
    ...     coords={"target": ["proxy", "true"], "P": [64], "kappa": [0.5]},
    ...     attrs={"n_features": 256, "seed": 0, "version": "1.0", "settings": json.dumps(dict(
    ...         n_reps=2, eps=0.01, features="gaussian", n_x=16, n_t=16, ridge=0.1,
    ...         em_kappa=0.5, n_models=8))})
    >>> lines = table(r).splitlines()
    >>> lines[6]
    '| quantity | P=64 (F/P=4) |'
    >>> lines[-1]
    '...modes 0.2500 ± 0.2500 / 0.2500 ± 0.2500, gap 0 of 4 (95% upper bound 0.75)'
    """
    d = result
    s = json.loads(d.attrs["settings"])
    F = int(d.attrs["n_features"])
    P = d["P"].values
    L = ["# ablation: numbers", "",
         run_header(d, "sample-free transport of each model's sampler map (n_samples -> "
                    "infinity)") + f"; training variance over {s['n_reps']} independent "
         "ensembles per target and P.", "",
         f"eps = {s['eps']:g}, {s['features']} {s['n_x']}x{s['n_t']} features (F = {F}), ridge "
         f"{s['ridge']:g}. J1 and J0 models use the same DSM draws (paired). Errors: gap and "
         "mode masses across models (sd/sqrt(N)); training variance across ensembles "
         "(sd/sqrt(n_reps)); TV by the bootstrap over models.", "",
         "| quantity | " + " | ".join(f"P={p} (F/P={fmt_ratio(F / p)})" for p in P) + " |",
         "|---|" + "---|" * len(P)]

    def row(label, v, se, digits=4):
        L.append(f"| {label} | " + " | ".join(pm(a, b, digits) for a, b in
                                             zip(np.ravel(v), np.ravel(se), strict=True)) + " |")

    for tg, lab in (("proxy", "J1 (proxy)"), ("true", "J0 (true)")):
        row(f"E[lam tr Var mu_hat] {lab}, mean over ensembles",
            d["trainvar_emp"].sel(target=tg).values, d["trainvar_emp_se"].sel(target=tg).values)
        L.append(f"| E[lam tr Var mu_hat] {lab}, predicted | " + " | ".join(
            f"{v:.4f}" for v in d["trainvar_pred"].sel(target=tg).values) + " |")
    row("E[lam tr Var] J1 - J0 (paired)", d["trainvar_diff"].values, d["trainvar_diff_se"].values)
    L.append("| of which C-term (J1, predicted) | " + " | ".join(
        f"{v:.4f}" for v in d["trainvar_Cterm"].sel(target="proxy").values) + " |")
    for tg, lab in (("proxy", "J1"), ("true", "J0")):
        row(f"gap mass {lab}", d["gap_mass"].sel(target=tg).values,
            d["gap_mass_se"].sel(target=tg).values)
    row("gap mass J1 - J0 (paired)", d["gap_mass_diff"].values, d["gap_mass_diff_se"].values)
    for tg, lab in (("proxy", "J1"), ("true", "J0")):
        row(f"TV({lab} avg, PF-ODE)", d["tv_pf_ode"].sel(target=tg).values,
            d["tv_pf_ode_se"].sel(target=tg).values)
    for tg, lab in (("proxy", "J1"), ("true", "J0")):
        m, se = d["mode_mass"].sel(target=tg).values, d["mode_mass_se"].sel(target=tg).values
        L.append(f"| modes {lab} | " + " | ".join(
            " / ".join(pm(a, b) for a, b in zip(m[j], se[j], strict=True))
            for j in range(len(P))) + " |")
    L += ["", "Exact (no Monte Carlo error): PF-ODE (exact score) gap mass "
          f"{float(d['gap_mass_pf_ode']):.4f}, modes "
          + " / ".join(f"{m:.4f}" for m in d["mode_mass_pf_ode"].values)
          + f"; mean model W* (no variance; J0 and J1 share it) gap mass "
          f"{float(d['gap_mass_mean_model']):.4f}, modes "
          + " / ".join(f"{m:.4f}" for m in d["mode_mass_mean_model"].values) + ".", "",
          "## naive estimator (Fokker-Planck, diffusion limit of Prop. 4.1; deterministic)", "",
          "| kappa | mode masses | gap mass | small-noise middle mass |", "|---|---|---|---|"]
    mid = d["naive_modes"].shape[1] // 2
    for k, mm, g, sc in zip(d["kappa"].values, d["naive_modes"].values, d["naive_gap"].values,
                            d["naive_sc_modes"].values, strict=True):
        L.append(f"| {k:g} | " + " / ".join(f"{m:.4f}" for m in mm) + f" | {g:.5f} | "
                 f"{sc[mid]:.4f} |")
    em, se = d["naive_em_modes"].values, d["naive_em_modes_se"].values
    L.append(f"\nEuler-Maruyama check at kappa = {s['em_kappa']:g} ({d['naive_em_samples'].size} "
             f"samples, 800 geometric steps; binomial errors): modes "
             + " / ".join(pm(a, b, 4) for a, b in zip(em, se, strict=True)) + ", gap "
             + _binomial(float(d["naive_em_gap"]), float(d["naive_em_gap_se"]),
                         d["naive_em_samples"].size))
    return "\n".join(L) + "\n"
