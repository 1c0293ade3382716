"""Plot and table of trained networks vs the lazy prediction
(:func:`gtv_symbolic.experiments.nn_vs_theory.run`); numbers carry standard errors."""

from __future__ import annotations

import numpy as np

from .style import curve
from .theory import pm, run_header

__all__ = ["plot", "table"]


def plot(result):
    """Rows: parameterisation; columns: width. Ensemble (red) vs lazy prediction (blue)."""
    import matplotlib.pyplot as plt

    d = result
    par, wid, x = d["parameterisation"].values, d["width"].values, d["x"].values
    fig, axes = plt.subplots(len(par), len(wid), figsize=(2.9 * len(wid) + 0.4, 2.0 * len(par) + 0.5),
                             sharex=True, sharey=True, squeeze=False)
    for i, p in enumerate(par):
        for j, w in enumerate(wid):
            ax = axes[i, j]
            curve(ax, x, d["true"].values, "p_eps")
            curve(ax, x, d["pfode"].values, "pf_ode")
            curve(ax, x, d["ensemble"].values[i, j], "ensemble", label="trained networks")
            curve(ax, x, d["lazy_prediction"].values[i, j], "prediction",
                  label="lazy Gaussian-field prediction (NTK at init)")
            ax.set_title(f"{p}, width {w}\nTV {pm(d['tv'].values[i, j], d['tv_se'].values[i, j], 2)}"
                         f", kernel change {d['kernel_change'].values[i, j]:.2g}")
    h, lab = axes[0, 0].get_legend_handles_labels()
    for ax in axes[-1]:
        ax.set_xlabel("$x$")
    fig.tight_layout(rect=(0, 0.5 / fig.get_figheight(), 1, 1))
    fig.legend(h, lab, loc="lower center", ncol=2)
    return fig


def table(result) -> str:
    """Markdown table: TV, gap masses and their paired difference, kernel change, F_eff/P."""
    import json

    d = result
    s = json.loads(d.attrs["settings"])
    lines = [run_header(d, "sample-free transport (30-step Euler)"),
             f"P = {s['P']}, {s['steps']} steps, lr = {s['lr']}, eps = {s['eps']}, "
             f"target = {s['target']}, lazy fields per cell = {s['n_fields']}; exact-score "
             f"PF-ODE gap mass {float(d['gap_mass_pf_ode']):.4f}", "",
             "| param. | H | F_eff/P | kernel change | TV(ens, lazy) | TV null | gap ens | gap lazy | "
             "gap diff | TV(ens, PF-ODE) | lr mu_max | basis resid. |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, p in enumerate(d["parameterisation"].values):
        for j, w in enumerate(d["width"].values):
            g = lambda k: d[k].values[i, j]  # noqa: E731
            lines.append(
                f"| {p} | {w} | {g('F_eff') / s['P']:.3f} | "
                f"{pm(g('kernel_change'), g('kernel_change_se'), 4)} | {pm(g('tv'), g('tv_se'))} | {g('tv_null'):.3f} | "
                f"{pm(g('gap_mass_ensemble'), g('gap_mass_ensemble_se'))} | "
                f"{pm(g('gap_mass_lazy'), g('gap_mass_lazy_se'))} | "
                f"{pm(g('gap_mass_diff'), g('gap_mass_diff_se'))} | "
                f"{pm(g('tv_ensemble_pf_ode'), g('tv_ensemble_pf_ode_se'))} | "
                f"{g('lr_mu_max'):.2f} | {g('basis_residual'):.1e} |")
    lines += ["", "Mode masses (ensemble vs lazy, per training point):", ""]
    for i, p in enumerate(d["parameterisation"].values):
        for j, w in enumerate(d["width"].values):
            me, se = d["mode_mass_ensemble"].values[i, j], d["mode_mass_ensemble_se"].values[i, j]
            ml, sl = d["mode_mass_lazy"].values[i, j], d["mode_mass_lazy_se"].values[i, j]
            lines.append(f"- {p}, H={w}: " + "; ".join(
                f"x0={m:g}: {pm(a, b)} vs {pm(c, e)}"
                for m, a, b, c, e in zip(d["mode"].values, me, se, ml, sl, strict=True)))
    return "\n".join(lines) + "\n"
