"""Plot and table of the target-variance sweep (:func:`gtv_symbolic.experiments.target_variance.run`)."""

from __future__ import annotations

import json

import numpy as np

from .numbers import pm, ratio_pm
from .style import COLORS, curve, sweep_colour
from .theory import run_header

__all__ = ["plot", "table"]


def _label(M) -> str:
    return "inf (J0)" if np.isinf(M) else f"{int(M)}" + (" (J1)" if M == 1 else "")


def _legend_label(M) -> str:
    """``M`` in words for a legend."""
    if np.isinf(M):
        return "exact posterior mean (J0)"
    return f"{int(M)} posterior draw" + ("s" if M != 1 else " (J1)") + " per target"


def plot(result):
    """The target-variance sweep: what averaging M posterior draws per target does to the models.

    No formula: infrastructure (the numbers, and the prediction ``V_mis + V_C / M`` of
    Prop. 5.1, come from :func:`gtv_symbolic.experiments.target_variance.run`). Panels: the
    ensemble's density per ``M`` with ``p(x | eps)`` and the mean model; the gap mass against
    ``1/M`` (``M = inf``, the exact posterior mean J0, at 0) for the ensemble and the
    prediction; the variance across models against ``1/M``; with networks, a fourth panel of
    the networks' gap mass against their lazy prediction. Error bars: ±2 standard errors.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.target_variance.run` (coordinates ``M``,
        ``x`` and, with networks, ``network``).

    Returns
    -------
    matplotlib.figure.Figure
        Three axes in one row (four with networks).

    Examples
    --------
    >>> import numpy as np, xarray as xr, matplotlib.pyplot as plt
    >>> m = [k + e for k in ("gap_mass_ensemble", "gap_mass_prediction",
    ...                      "functional_variance_ensemble") for e in ("", "_se")]
    >>> r = xr.Dataset({k: ("M", [0.2, 0.1]) for k in m + ["functional_variance_prediction"]}
    ...                | {k: ("x", [0.5, 0.5]) for k in ("true", "mean_model")}
    ...                | {"ensemble": (("M", "x"), [[0.4, 0.6], [0.5, 0.5]]),
    ...                   "gap_mass_mean_model": ((), 0.05), "gap_mass_pf_ode": ((), 0.01)},
    ...                coords={"M": [1.0, np.inf], "x": [-1.0, 1.0]})
    >>> fig = plot(r)
    >>> len(fig.axes), fig.axes[0].get_legend().get_texts()[-1].get_text()
    (3, 'ensemble, exact posterior mean (J0)')
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    d = result
    M, x = d["M"].values, d["x"].values
    nets = list(d["network"].values) if "network" in d.dims else []
    fig, axes = plt.subplots(1, 3 + bool(nets), figsize=(12.0 + 4.0 * bool(nets), 4.3))
    ax = axes[0]
    curve(ax, x, d["true"].values, "p_eps")
    curve(ax, x, d["mean_model"].values, "mean_model")
    for i, m in enumerate(M):
        ax.plot(x, d["ensemble"].values[i], lw=1.0, color=sweep_colour(i, len(M)),
                label=f"ensemble, {_legend_label(m)}")
    ax.set_xlabel("$x$")
    ax.set_ylabel("density")
    ax.set_title("learned density per M")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.17))
    inv = np.where(np.isinf(M), 0.0, 1.0 / M)
    ax = axes[1]
    for k, c, lab in (("ensemble", COLORS["ensemble"], "trained ensemble"),
                      ("prediction", COLORS["prediction"], "Gaussian-field prediction")):
        ax.errorbar(inv, d[f"gap_mass_{k}"].values, 2 * d[f"gap_mass_{k}_se"].values, fmt="o-",
                    color=c, ms=3, lw=0.8, capsize=2, label=lab)
    ax.axhline(float(d["gap_mass_mean_model"]), color=COLORS["mean_model"], ls="-.", lw=1.0,
               label="mean model")
    ax.axhline(float(d["gap_mass_pf_ode"]), color=COLORS["pf_ode"], lw=1.0,
               label="exact-score PF-ODE")
    ax.set_xlabel("1/M (M: posterior draws per target)")
    ax.set_ylabel("gap mass (±2 s.e.)")
    ax.set_title("gap mass vs 1/M")
    ax.legend(fontsize=8)
    ax = axes[2]
    ax.errorbar(inv, d["functional_variance_ensemble"].values,
                2 * d["functional_variance_ensemble_se"].values, fmt="o", color=COLORS["ensemble"],
                ms=4, capsize=2, label="trained linear ensemble")
    ax.plot(inv, d["functional_variance_prediction"].values, "s--", color=COLORS["prediction"],
            ms=4, lw=1.0, label="prediction $V_{mis} + V_C / M$")
    for k, p in enumerate(nets):  # networks: in their lazy basis
        ax.errorbar(inv, d["nn_functional_variance_ensemble"].values[k],
                    2 * d["nn_functional_variance_ensemble_se"].values[k], fmt="^",
                    color=COLORS["ensemble"], mfc="white", ms=4, capsize=2,
                    label=f"trained {p} networks")
        ax.plot(inv, d["nn_functional_variance_lazy"].values[k], "v:", color=COLORS["prediction"],
                ms=4, lw=1.0, label=f"lazy prediction, {p} networks")
    ax.set_xlabel("1/M (M: posterior draws per target)")
    ax.set_ylabel(r"$E[\lambda\, \mathrm{tr\,Var}\, \hat\mu]$ (±2 s.e.)")
    ax.set_title("variance across models vs 1/M")
    ax.legend(fontsize=8)
    if nets:  # networks: gap mass vs 1/M, trained ensemble vs the lazy M-draw law
        ax = axes[3]
        for k, p in enumerate(nets):
            for v, c, lab in (("ensemble", COLORS["ensemble"], "trained networks"),
                              ("lazy", COLORS["prediction"], "lazy prediction")):
                ax.errorbar(inv, d[f"nn_gap_mass_{v}"].values[k],
                            2 * d[f"nn_gap_mass_{v}_se"].values[k], fmt="o-" if k == 0 else "s:",
                            color=c, ms=4, lw=1.0, capsize=2, label=f"{lab} ({p})")
        ax.axhline(float(d["gap_mass_pf_ode"]), color=COLORS["pf_ode"], lw=1.0,
                   label="exact-score PF-ODE")
        ax.set_xlabel("1/M (M: posterior draws per target)")
        ax.set_ylabel("gap mass (±2 s.e.)")
        ax.set_title(f"networks of width {d.attrs['nn_width']}: gap mass vs 1/M")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def table(result) -> str:
    """Markdown table of the target-variance sweep: every number with its standard error.

    No formula: infrastructure (formatting). One row per ``M``: gap masses of the ensemble and
    the prediction and their difference, the change against the same models at ``M = inf``,
    TVs, the variance across models measured and predicted, the field count; then the mode
    masses per ``M`` and, with networks, the same for the networks against their lazy law.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.target_variance.run`.

    Returns
    -------
    str
        Markdown, ending with a newline.

    Examples
    --------
    >>> import json, numpy as np, xarray as xr
    >>> m = [k + e for k in ("gap_mass_ensemble", "gap_mass_prediction", "gap_mass_diff",
    ...                      "gap_mass_vs_exact", "tv", "tv_ensemble_pf_ode",
    ...                      "functional_variance_ensemble") for e in ("", "_se")]
    >>> modes = [f"mode_mass_{k}{e}" for k in ("ensemble", "prediction", "vs_exact")
    ...          for e in ("", "_se")]
    >>> r = xr.Dataset({k: ("M", [0.25]) for k in m + ["functional_variance_prediction",
    ...                                                 "n_fields_used", "field_mc_ratio"]}
    ...                | {k: (("M", "mode"), [[0.5]]) for k in modes}
    ...                | {"gap_mass_mean_model": ((), 0.05), "gap_mass_pf_ode": ((), 0.01)},
    ...                coords={"M": [1.0], "mode": [0.0]},
    ...                attrs={"n_features": 256, "F_eff": 40.0, "seed": 0, "version": "1.0",
    ...                       "settings": json.dumps(dict(eps=0.01, P=64, ridge=0.1, n_models=8))})
    >>> lines = table(r).splitlines()
    >>> lines[5].split(" | ")[:3]
    ['| 1 (J1)', '0.2500 ± 0.2500', '0.2500 ± 0.2500']
    >>> lines[-1]
    '- M = 1 (J1): x0=0: 0.500 ± 0.500 vs 0.500 ± 0.500 (0.500 ± 0.500)'
    """
    d = result
    s = json.loads(d.attrs["settings"])
    lines = [run_header(d, "sample-free transport (30-step Euler)"),
             f"eps = {s['eps']}, P = {s['P']}, F = {d.attrs['n_features']} (F_eff = "
             f"{float(d.attrs['F_eff']):.1f}), ridge = {s['ridge']}; mean model gap mass "
             f"{float(d['gap_mass_mean_model']):.4f}, exact-score PF-ODE "
             f"{float(d['gap_mass_pf_ode']):.4f}", "",
             "| M | gap ens | gap pred | diff | gap ens - same models at M = inf | TV(ens, pred) | "
             "TV(ens, PF-ODE) | q ens | q pred | fields (MC ratio) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for i, m in enumerate(d["M"].values):
        g = lambda k, i=i: d[k].values[i]  # noqa: E731
        lines.append(
            f"| {_label(m)} | {pm(g('gap_mass_ensemble'), g('gap_mass_ensemble_se'), 4)} | "
            f"{pm(g('gap_mass_prediction'), g('gap_mass_prediction_se'), 4)} | "
            f"{pm(g('gap_mass_diff'), g('gap_mass_diff_se'), 4)} | "
            f"{pm(g('gap_mass_vs_exact'), g('gap_mass_vs_exact_se'), 4)} | {pm(g('tv'), g('tv_se'))} | "
            f"{pm(g('tv_ensemble_pf_ode'), g('tv_ensemble_pf_ode_se'))} | "
            f"{pm(g('functional_variance_ensemble'), g('functional_variance_ensemble_se'), 4)} | "
            f"{g('functional_variance_prediction'):.4f} | "
            f"{int(g('n_fields_used'))} "
            f"({ratio_pm(g('field_mc_ratio'), g('n_fields_used'), s['n_models'])}) |")
    lines += ["", "Mode masses (ensemble vs prediction; change vs the same models at M = inf):",
              ""]
    for i, m in enumerate(d["M"].values):
        lines.append(f"- M = {_label(m)}: " + "; ".join(
            f"x0={c:g}: {pm(a, b)} vs {pm(e, f)} ({pm(u, v)})" for c, a, b, e, f, u, v in zip(
                d["mode"].values, d["mode_mass_ensemble"].values[i],
                d["mode_mass_ensemble_se"].values[i], d["mode_mass_prediction"].values[i],
                d["mode_mass_prediction_se"].values[i], d["mode_mass_vs_exact"].values[i],
                d["mode_mass_vs_exact_se"].values[i], strict=True)))
    if "network" in d.dims and d.sizes["network"]:
        lines += _network_table(d, s)
    return "\n".join(lines) + "\n"


def _network_table(d, s) -> list[str]:
    """Rows per network parameterisation and M: ensemble vs lazy M-draw prediction."""
    lines = ["", f"Networks (H = {d.attrs['nn_width']}, P = {s['P']}, {s['nn_steps']} steps, "
             "trained on the same M-draw targets; lazy prediction N(W*, Cov_mis + Cov_C / M) "
             "from the NTK at initialisation):", "",
             "| network | M | tau | kernel change | gap ens | gap lazy | diff | gap ens - same "
             "models at M = inf | TV(ens, lazy) | q ens | q lazy | lazy fields (MC ratio) | "
             "outside basis |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for k, p in enumerate(d["network"].values):
        for i, m in enumerate(d["M"].values):
            g = lambda v, k=k, i=i: d[f"nn_{v}"].values[k, i]  # noqa: E731
            lines.append(
                f"| {p} | {_label(m)} | {float(d['nn_tau'].values[k]):.3g} | "
                f"{pm(g('kernel_change'), g('kernel_change_se'), 4)} | "
                f"{pm(g('gap_mass_ensemble'), g('gap_mass_ensemble_se'), 4)} | "
                f"{pm(g('gap_mass_lazy'), g('gap_mass_lazy_se'), 4)} | "
                f"{pm(g('gap_mass_diff'), g('gap_mass_diff_se'), 4)} | "
                f"{pm(g('gap_mass_vs_exact'), g('gap_mass_vs_exact_se'), 4)} | "
                f"{pm(g('tv'), g('tv_se'))} | "
                f"{pm(g('functional_variance_ensemble'), g('functional_variance_ensemble_se'), 4)}"
                f" | {g('functional_variance_lazy'):.4f} | {int(g('n_fields_used'))} "
                f"({ratio_pm(g('field_mc_ratio'), g('n_fields_used'), s['n_models'])}) | "
                f"{g('outside_basis'):.1e} |")
    lines += ["", "Network mode masses (ensemble vs lazy; change vs the same networks at "
              "M = inf):", ""]
    for k, p in enumerate(d["network"].values):
        for i, m in enumerate(d["M"].values):
            lines.append(f"- {p}, M = {_label(m)}: " + "; ".join(
                f"x0={c:g}: {pm(a, b)} vs {pm(e, f)} ({pm(u, v)})"
                for c, a, b, e, f, u, v in zip(
                    d["mode"].values, *(d[f"nn_mode_mass_{q}"].values[k, i] for q in (
                        "ensemble", "ensemble_se", "lazy", "lazy_se", "vs_exact",
                        "vs_exact_se")), strict=True)))
    return lines
