"""Plots and table of the theory-vs-ensemble experiment
(:func:`gtv_symbolic.experiments.theory.run`); numbers are shown with their standard errors."""

from __future__ import annotations

import json

import numpy as np

from .fig2 import fmt_ratio

__all__ = ["figures", "plot", "plot_summary", "plot_2d", "table", "pm", "run_header"]


def pm(v, se, digits: int = 3) -> str:
    """``'v ± se'`` at a fixed number of decimals.

    >>> pm(0.12345, 0.0061)
    '0.123 ± 0.006'
    """
    return f"{float(v):.{digits}f} ± {float(se):.{digits}f}"


def run_header(result, samples: str) -> str:
    """One line stating N, samples, seed, version (every table starts with it).

    The git revision stays in the result's attributes and the JSON sidecar, not in the table:
    a committed table must not change with every commit.
    """
    s = json.loads(result.attrs["settings"])
    n = s.get("n_models", result.attrs.get("n_models"))
    return (f"N = {n} models per ensemble; samples: {samples}; seed = {result.attrs.get('seed')}; "
            f"gtv_symbolic {result.attrs['version']}")


def figures(result) -> dict:
    """All figures of the experiment by file name."""
    out = {"theory_vs_ensemble": plot(result), "theory_vs_ensemble_summary": plot_summary(result)}
    if "P_2d" in result.coords:
        out["theory_vs_ensemble_2d"] = plot_2d(result)
    return out


def plot(result):
    """Grid of panels (eps x P): ensemble, Gaussian field, moment-matched, mean model, PF-ODE."""
    import matplotlib.pyplot as plt

    d = result
    eps, P, x = d["eps"].values, d["P"].values, d["x"].values
    F = int(d.attrs["n_features"])
    nE, nP = len(eps), len(P)
    fig, axes = plt.subplots(nE, nP, figsize=(1.75 * nP, 1.45 * nE), sharex=True, sharey=True,
                             squeeze=False)
    for i in range(nE):
        for j in range(nP):
            ax = axes[i, j]
            ax.plot(x, d["true"].values[i], color="k", lw=0.6, label="p(x|eps)")
            ax.plot(x, d["pfode"].values[i], color="0.6", lw=0.8, label="exact-score PF-ODE")
            ax.plot(x, d["ensemble"].values[i, j], color="C3", lw=1.0, label="trained ensemble")
            ax.plot(x, d["gaussian_field"].values[i, j], color="C0", lw=0.9, ls="--",
                    label="Gaussian field (V-kernel)")
            ax.plot(x, d["mean_model"].values[i], color="C1", lw=0.6, ls="-.",
                    label="mean model W* (no variance)")
            ax.plot(x, d["moment_matched"].values[i, j], color="C2", lw=0.7, ls=":",
                    label="moment-matched Gaussian")
            ax.set_ylim(0, 2.5)
            ax.text(0.03, 0.95, f"TV={pm(d['tv'].values[i, j], d['tv_se'].values[i, j], 2)}",
                    transform=ax.transAxes, va="top", fontsize=5.5)
            if i == 0:
                ax.set_title(f"F/P = {fmt_ratio(F / P[j])}")
            if j == 0:
                ax.set_ylabel(f"eps = {eps[i]:g}")
    h, lab = axes[0, 0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.legend(h, lab, loc="lower center", ncol=6, fontsize=6, frameon=False)
    return fig


def plot_summary(result):
    """TVs and gap masses with error bars vs F/P; variance ratios; non-Gaussianity."""
    import matplotlib.pyplot as plt

    d = result
    eps, P = d["eps"].values, d["P"].values
    r = int(d.attrs["n_features"]) / P
    fig, axes = plt.subplots(1, 5, figsize=(11.5, 2.3))
    for i in range(len(eps)):
        c = f"C{i}"
        axes[0].errorbar(r, d["tv"].values[i], 2 * d["tv_se"].values[i], fmt="-o", color=c,
                         ms=3, capsize=1.5, label=f"eps={eps[i]:g}")
        axes[0].errorbar(r, d["tv_ens_mm"].values[i], 2 * d["tv_ens_mm_se"].values[i], fmt=":s",
                         color=c, ms=2.5, capsize=1.5)
        axes[1].errorbar(r, d["gap_mass_ensemble"].values[i],
                         2 * d["gap_mass_ensemble_se"].values[i], fmt="-o", color=c, ms=3,
                         capsize=1.5)
        axes[1].errorbar(r, d["gap_mass_gaussian_field"].values[i],
                         2 * d["gap_mass_gaussian_field_se"].values[i], fmt="--^", color=c, ms=3,
                         capsize=1.5)
        axes[1].axhline(d["gap_mass_pf_ode"].values[i, 0], color=c, lw=0.5, ls=":")
        axes[2].errorbar(r, d["gap_mass_diff"].values[i], 2 * d["gap_mass_diff_se"].values[i],
                         fmt="-o", color=c, ms=3, capsize=1.5)
        ratio = d["trainvar_emp"].values[i] / d["trainvar_pred"].values[i]
        rse = d["trainvar_emp_se"].values[i] / d["trainvar_pred"].values[i]
        axes[3].errorbar(r, ratio, 2 * rse, fmt="-o", color=c, ms=3, capsize=1.5)
        axes[3].plot(r, d["var_ratio_median"].values[i], "--^", color=c, ms=3)
        axes[4].plot(r, d["skew_absmax"].values[i], "-o", color=c, ms=3)
        axes[4].plot(r, d["kurt_max"].values[i], "--^", color=c, ms=3)
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("F/P")
    axes[0].set_title("TV ens vs GF (o), vs moment-matched (s); ±2 se", fontsize=6)
    axes[1].set_title("gap mass: ens (o), GF (^), PF-ODE (:); ±2 se", fontsize=6)
    axes[2].set_title("gap mass ens - GF (paired); ±2 se", fontsize=6)
    axes[2].axhline(0, color="k", lw=0.5)
    axes[3].set_title("variance emp/pred: tr(G Cov) (o), median (^)", fontsize=6)
    axes[3].axhline(1, color="k", lw=0.5)
    axes[3].set_yscale("log")
    axes[4].set_title("max |skew| (o), max excess kurtosis (^)", fontsize=6)
    axes[4].set_yscale("log")
    axes[0].legend(fontsize=5, frameon=False)
    fig.tight_layout()
    return fig


def plot_2d(result):
    """The 2-D setting: ensemble and Gaussian field per P, and the exact-score PF-ODE."""
    import matplotlib.pyplot as plt

    d = result
    P2 = d["P_2d"].values
    F2 = int(json.loads(d.attrs["settings"])["n_2d"]) ** 3
    fig, axes = plt.subplots(2, len(P2) + 1, figsize=(1.9 * (len(P2) + 1), 3.7), squeeze=False)
    cx, cy = d["x_2d"].values, d["y_2d"].values
    ext = (cx[0], cx[-1], cy[0], cy[-1])
    vmax = float(np.quantile(d["ensemble_2d"].values, 0.995))
    for j in range(len(P2)):
        for i, (k, lab) in enumerate((("ensemble_2d", "ensemble"),
                                      ("gaussian_field_2d", "Gaussian field"))):
            ax = axes[i, j]
            ax.imshow(d[k].values[j].T, origin="lower", extent=ext, cmap="RdBu_r", vmin=0,
                      vmax=vmax)
            ax.set_title(f"{lab}, F/P={fmt_ratio(F2 / P2[j])}", fontsize=6)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, -1].imshow(d["pf_ode_2d"].values[0].T, origin="lower", extent=ext, cmap="RdBu_r",
                       vmin=0, vmax=vmax)
    axes[0, -1].set_title("exact-score PF-ODE", fontsize=6)
    axes[0, -1].set_xticks([])
    axes[0, -1].set_yticks([])
    axes[1, -1].axis("off")
    txt = "\n".join(f"F/P={fmt_ratio(F2 / p)}: TV {pm(a, b, 2)}" for p, a, b in
                    zip(P2, d["tv_2d"].values, d["tv_se_2d"].values, strict=True))
    axes[1, -1].text(0, 0.5, txt, fontsize=5.5, va="center")
    fig.tight_layout()
    return fig


def _row(label, d, key, i, digits=3):
    v, se = d[key].values[i], d[f"{key}_se"].values[i]
    return f"| {label} | " + " | ".join(pm(a, b, digits) for a, b in zip(v, se, strict=True)) + " |"


def table(result) -> str:
    """Markdown table: every cell ``value ± standard error``."""
    d = result
    s = json.loads(d.attrs["settings"])
    F = int(d.attrs["n_features"])
    P = d["P"].values
    nf = d["n_fields"].values
    lines = ["# theory-vs-ensemble: numbers", "",
             run_header(d, "sample-free transport of each model's sampler map (n_samples -> "
                        "infinity)") + f"; Gaussian fields per panel {int(nf.min())}-"
             f"{int(nf.max())} (MC error / ensemble error <= {float(d['mc_ratio'].max()):.2f}).",
             "",
             f"Data {s['data']}, {s['schedule']}, {s['features']} {s['n_x']}x{s['n_t']} features "
             f"(F = {F}), ridge {s['ridge']:g}, {s['n_steps']} Euler steps. Errors: "
             f"{d.attrs['se_method']}. Gap region: {d.attrs['gap_definition']}; modes = Voronoi "
             "cells of the training points. TV of two finite averages is biased upwards by "
             "about their noise.", ""]
    hdr = "| quantity | " + " | ".join(f"P={p} (F/P={fmt_ratio(F / p)})" for p in P) + " |"
    sep = "|---|" + "---|" * len(P)
    rows = [("TV ensemble vs Gaussian field", "tv"),
            ("TV ensemble vs moment-matched", "tv_ens_mm"),
            ("TV ensemble vs PF-ODE", "tv_ensemble_pf_ode"),
            ("TV Gaussian field vs PF-ODE", "tv_gaussian_field_pf_ode"),
            ("gap mass ensemble", "gap_mass_ensemble"),
            ("gap mass Gaussian field", "gap_mass_gaussian_field"),
            ("gap mass ensemble - Gaussian field", "gap_mass_diff"),
            ("gap mass moment-matched", "gap_mass_moment_matched"),
            ("E[lam tr Var mu_hat] ensemble", "trainvar_emp")]
    for i, e in enumerate(d["eps"].values):
        lines += [f"## eps = {e:g}", "", hdr, sep]
        lines += [_row(lab, d, k, i) for lab, k in rows]
        lines.append("| E[lam tr Var mu_hat] predicted | " + " | ".join(
            f"{v:.4f}" for v in d["trainvar_pred"].values[i]) + " |")
        for name in ("ensemble", "gaussian_field"):
            v, se = d[f"mode_mass_{name}"].values[i], d[f"mode_mass_{name}_se"].values[i]
            lines.append(f"| mode masses {name.replace('_', ' ')} | " + " | ".join(
                " / ".join(pm(a, b) for a, b in zip(v[j], se[j], strict=True))
                for j in range(len(P))) + " |")
        N = s["n_models"]
        lines.append(f"| max abs skew (null se {np.sqrt(6 / N):.2f}) | " + " | ".join(
            f"{v:.2f}" for v in d["skew_absmax"].values[i]) + " |")
        lines.append(f"| max excess kurtosis (null se {np.sqrt(24 / N):.2f}) | " + " | ".join(
            f"{v:.2f}" for v in d["kurt_max"].values[i]) + " |")
        lines += ["", f"Exact (no Monte Carlo error): PF-ODE gap mass "
                  f"{float(d['gap_mass_pf_ode'].values[i, 0]):.4f}, p(x|eps) gap mass "
                  f"{float(d['gap_mass_p_eps'].values[i, 0]):.4f}, TV(PF-ODE, p) "
                  f"{float(d['tv_pf_ode_p_eps'].values[i, 0]):.4f}; mean model W* gap mass "
                  f"{float(d['gap_mass_mean_model'].values[i, 0]):.4f}; semiclassical gap mass "
                  + ", ".join(f"{v:.4f}" for v in d["gap_mass_semiclassical"].values[i])
                  + f"; F_eff = {float(d['F_eff'].values[i]):.1f}.", ""]
    if "P_2d" in d.coords:
        P2 = d["P_2d"].values
        F2 = int(s["n_2d"]) ** 3
        lines += [f"## 2-D setting (square, crossed Gaussian {s['n_2d']}^3 = {F2} features, "
                  f"eps = {s['eps_2d']:g}; {s['n_samples_2d']} PF-ODE samples per model and "
                  f"field; Gaussian fields {int(d['n_fields_2d'].values.min())}-"
                  f"{int(d['n_fields_2d'].values.max())})", "",
                  "| quantity | " + " | ".join(f"P={p} (F/P={fmt_ratio(F2 / p)})" for p in P2)
                  + " |", "|---|" + "---|" * len(P2)]
        for lab, k in (("TV ensemble vs Gaussian field", "tv"),
                       ("TV ensemble vs PF-ODE", "tv_ensemble_pf_ode"),
                       ("TV Gaussian field vs PF-ODE", "tv_gaussian_field_pf_ode"),
                       ("gap mass ensemble", "gap_mass_ensemble"),
                       ("gap mass Gaussian field", "gap_mass_gaussian_field"),
                       ("gap mass ensemble - Gaussian field", "gap_mass_diff")):
            v, se = d[f"{k}_2d"].values, d[f"{k}_se_2d"].values
            lines.append(f"| {lab} | " + " | ".join(pm(a, b) for a, b in zip(v, se, strict=True))
                         + " |")
        lines.append("")
    return "\n".join(lines) + "\n"
