"""Plot and table of the ablation (:func:`gtv_symbolic.experiments.ablation.run`)."""

from __future__ import annotations

import json

import numpy as np

from .fig2 import fmt_ratio
from .style import COLORS, curve, sweep_colour
from .theory import pm, run_header

__all__ = ["plot", "table"]


def plot(result):
    """Four panels: J1 vs J0 densities; the variance across models under each target (measured
    and predicted); the naive estimator's density per kappa; mass moved between modes."""
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
    """Markdown table with standard errors and paired J1 - J0 differences."""
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
