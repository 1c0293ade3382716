"""Plots and table of the theory-vs-ensemble experiment
(:func:`gtv_symbolic.experiments.theory.run`); numbers are shown with their standard errors."""

from __future__ import annotations

import json

import numpy as np

from .fig2 import fmt_ratio
from .numbers import pm
from .style import COLORS, colorbar, curve

#: marker of the i-th final time eps in the summary panels
EPS_MARKERS = ("o", "s", "^", "D", "v", "P")

__all__ = ["figures", "plot", "plot_summary", "plot_2d", "table", "run_header"]


def run_header(result, samples: str) -> str:
    """One line stating N, samples, seed, version (every table starts with it).

    No formula: infrastructure. The git revision stays in the result's attributes and the JSON
    sidecar, not in the table: a committed table must not change with every commit.

    Parameters
    ----------
    result : xarray.Dataset
        A result of an experiment's ``run``; uses ``attrs["settings"]`` (JSON, with
        ``n_models`` or else ``attrs["n_models"]``), ``attrs["seed"]`` and ``attrs["version"]``.
    samples : str
        How the densities were sampled, in words.

    Returns
    -------
    str
        One line, no trailing newline.

    Examples
    --------
    >>> import json, xarray as xr
    >>> r = xr.Dataset(attrs={"settings": json.dumps({"n_models": 8}), "seed": 1,
    ...                       "version": "1.0"})
    >>> run_header(r, "exact transport")
    'N = 8 models per ensemble; samples: exact transport; seed = 1; gtv_symbolic 1.0'
    """
    s = json.loads(result.attrs["settings"])
    n = s.get("n_models", result.attrs.get("n_models"))
    return (f"N = {n} models per ensemble; samples: {samples}; seed = {result.attrs.get('seed')}; "
            f"gtv_symbolic {result.attrs['version']}")


def figures(result) -> dict:
    """All figures of the theory-vs-ensemble experiment by file stem.

    No formula: infrastructure. Draws :func:`plot` and :func:`plot_summary`, and
    :func:`plot_2d` when the result has the 2-D setting (coordinate ``P_2d``).

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.theory.run`.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        Keys ``"theory_vs_ensemble"``, ``"theory_vs_ensemble_summary"`` and, with the 2-D
        setting, ``"theory_vs_ensemble_2d"``.

    Examples
    --------
    Which figures a result gets (the drawing itself is stubbed out here, to keep the example
    fast; :func:`plot`, :func:`plot_summary` and :func:`plot_2d` show real drawings):

    >>> import xarray as xr
    >>> from unittest import mock
    >>> with (mock.patch(f"{__name__}.plot"), mock.patch(f"{__name__}.plot_summary"),
    ...       mock.patch(f"{__name__}.plot_2d")):
    ...     one_d, two_d = figures(xr.Dataset()), figures(xr.Dataset(coords={"P_2d": [16]}))
    >>> list(one_d), list(two_d)[-1]
    (['theory_vs_ensemble', 'theory_vs_ensemble_summary'], 'theory_vs_ensemble_2d')
    """
    out = {"theory_vs_ensemble": plot(result), "theory_vs_ensemble_summary": plot_summary(result)}
    if "P_2d" in result.coords:
        out["theory_vs_ensemble_2d"] = plot_2d(result)
    return out


def plot(result):
    """Grid of panels (eps x P): does the Gaussian field predict the trained ensemble?

    No formula: infrastructure (the numbers come from the experiment). Each panel shows the
    trained ensemble's average density, the Gaussian-field prediction (Prop. 3.1 with the
    linear-model V-kernel, paper Sec. 5.1), the mean model W*, the exact-score PF-ODE and
    ``p(x | eps)``, with TV(ensemble, field) and its standard error; the moment-matched
    diagnostic is in :func:`plot_summary`. Rows: final time ``eps``; columns: ``F/P``.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.theory.run`; uses ``true``, ``pfode``,
        ``mean_model`` (eps, x), ``ensemble``, ``gaussian_field`` (eps, P, x), ``tv``,
        ``tv_se`` (eps, P) and ``attrs["n_features"]``.

    Returns
    -------
    matplotlib.figure.Figure
        ``len(eps) x len(P)`` axes and one legend below them.

    Examples
    --------
    >>> import numpy as np, xarray as xr, matplotlib.pyplot as plt
    >>> ex = ("eps", "x")
    >>> r = xr.Dataset({k: (ex, [[0.0, 1.0]]) for k in ("true", "pfode", "mean_model")}
    ...                | {k: (("eps", "P", "x"), [[[0.0, 1.0]]]) for k in ("ensemble", "gaussian_field")}
    ...                | {"tv": (("eps", "P"), [[0.1]]), "tv_se": (("eps", "P"), [[0.01]])},
    ...                coords={"eps": [0.01], "P": [8], "x": [-1.0, 1.0]}, attrs={"n_features": 16})
    >>> fig = plot(r)
    >>> len(fig.axes), fig.axes[0].get_title()
    (1, 'F/P = 2')
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    d = result
    eps, P, x = d["eps"].values, d["P"].values, d["x"].values
    F = int(d.attrs["n_features"])
    nE, nP = len(eps), len(P)
    fig, axes = plt.subplots(nE, nP, figsize=(1.8 * nP + 0.5, 1.5 * nE + 0.5), sharex=True,
                             sharey=True, squeeze=False)
    for i in range(nE):
        for j in range(nP):
            ax = axes[i, j]
            curve(ax, x, d["true"].values[i], "p_eps")
            curve(ax, x, d["pfode"].values[i], "pf_ode")
            curve(ax, x, d["mean_model"].values[i], "mean_model")
            curve(ax, x, d["ensemble"].values[i, j], "ensemble")
            curve(ax, x, d["gaussian_field"].values[i, j], "prediction")
            ax.set_ylim(0, 2.5)
            ax.text(0.03, 0.96, f"TV {pm(d['tv'].values[i, j], d['tv_se'].values[i, j], 2)}",
                    transform=ax.transAxes, va="top", fontsize=8, zorder=10,
                    bbox=dict(fc="white", ec="none", alpha=0.8, pad=1.0))
            if i == 0:
                ax.set_title(f"F/P = {fmt_ratio(F / P[j])}")
            if j == 0:
                ax.set_ylabel(f"$\\epsilon$ = {eps[i]:g}\ndensity")
            if i == nE - 1:
                ax.set_xlabel("$x$")
    h, lab = axes[0, 0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.45 / fig.get_figheight(), 1, 1), h_pad=0.3, w_pad=0.3)
    fig.legend(h, lab, loc="lower center", ncol=3)
    return fig


def _eps_legend(ax, eps):
    from matplotlib.lines import Line2D

    return ax.legend([Line2D([], [], color="0.3", marker=EPS_MARKERS[i % len(EPS_MARKERS)], ls="")
                      for i in range(len(eps))],
                     [f"final time $\\epsilon$ = {e:g}" for e in eps], loc="center")


def plot_summary(result):
    r"""Summary of the theory-vs-ensemble comparison against ``F/P``: six panels, one message each.

    Panels: TV from the ensemble (Gaussian field, moment-matched Gaussian); gap mass (ensemble,
    field, exact-score PF-ODE); the paired gap-mass difference ensemble - field; the variance
    across models, measured over predicted; the largest skewness and excess kurtosis across
    models; a legend of the final times. Markers give ``eps``, colours the role; error bars are
    ±2 standard errors. The only quantity computed here is the variance ratio (the prediction
    has no Monte Carlo error, so the measured standard error is divided by it):

    .. math:: \rho = \frac{q_{\rm emp}}{q_{\rm pred}}, \qquad
              \mathrm{se}(\rho) = \frac{\mathrm{se}(q_{\rm emp})}{q_{\rm pred}}, \qquad
              q = \mathbb E\big[\lambda\,\mathrm{tr}\,\mathrm{Var}\,\hat\mu\big],

    with ``q_emp = trainvar_emp`` and ``q_pred = trainvar_pred`` (the V-kernel's value).

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.theory.run`; uses the (eps, P) variables
        ``tv``, ``tv_ens_mm``, ``gap_mass_ensemble``, ``gap_mass_gaussian_field``,
        ``gap_mass_diff``, ``trainvar_emp`` (each with ``_se``), ``gap_mass_pf_ode``,
        ``trainvar_pred``, ``var_ratio_median``, ``skew_absmax``, ``kurt_max`` and
        ``attrs["n_features"]``.

    Returns
    -------
    matplotlib.figure.Figure
        A 2 x 3 grid of axes (the last one holds only the legend of ``eps``).

    Examples
    --------
    >>> import numpy as np, xarray as xr, matplotlib.pyplot as plt
    >>> keys = ("tv tv_se tv_ens_mm tv_ens_mm_se gap_mass_ensemble gap_mass_ensemble_se "
    ...         "gap_mass_gaussian_field gap_mass_gaussian_field_se gap_mass_pf_ode gap_mass_diff "
    ...         "gap_mass_diff_se trainvar_emp trainvar_emp_se trainvar_pred var_ratio_median "
    ...         "skew_absmax kurt_max").split()
    >>> r = xr.Dataset({k: (("eps", "P"), [[0.5, 0.4]]) for k in keys},
    ...                coords={"eps": [0.01], "P": [8, 32]}, attrs={"n_features": 16})
    >>> fig = plot_summary(r)
    >>> len(fig.axes), fig.axes[3].get_title()
    (6, 'variance across models: measured / predicted')
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    d = result
    eps, P = d["eps"].values, d["P"].values
    r = int(d.attrs["n_features"]) / P
    fig, grid = plt.subplots(2, 3, figsize=(10.0, 5.6))
    axes = grid.ravel()
    eb = dict(ms=4, capsize=2, lw=1.0)
    for i in range(len(eps)):
        mk = EPS_MARKERS[i % len(EPS_MARKERS)]
        lab = (lambda s: s) if i == 0 else (lambda s: "_" + s)  # label each role once
        axes[0].errorbar(r, d["tv"].values[i], 2 * d["tv_se"].values[i], marker=mk, ls="-",
                         color=COLORS["prediction"], label=lab("Gaussian field"), **eb)
        axes[0].errorbar(r, d["tv_ens_mm"].values[i], 2 * d["tv_ens_mm_se"].values[i],
                         marker=mk, ls=":", color=COLORS["moment_matched"],
                         label=lab("moment-matched Gaussian"), **eb)
        axes[1].errorbar(r, d["gap_mass_ensemble"].values[i],
                         2 * d["gap_mass_ensemble_se"].values[i], marker=mk, ls="-",
                         color=COLORS["ensemble"], label=lab("trained ensemble"), **eb)
        axes[1].errorbar(r, d["gap_mass_gaussian_field"].values[i],
                         2 * d["gap_mass_gaussian_field_se"].values[i], marker=mk, ls="--",
                         color=COLORS["prediction"], label=lab("Gaussian field"), **eb)
        axes[1].axhline(d["gap_mass_pf_ode"].values[i, 0], color=COLORS["pf_ode"], lw=1.0,
                        ls=":", label=lab("exact-score PF-ODE"))
        axes[2].errorbar(r, d["gap_mass_diff"].values[i], 2 * d["gap_mass_diff_se"].values[i],
                         marker=mk, ls="-", color="k", **eb)
        ratio = d["trainvar_emp"].values[i] / d["trainvar_pred"].values[i]
        rse = d["trainvar_emp_se"].values[i] / d["trainvar_pred"].values[i]
        axes[3].errorbar(r, ratio, 2 * rse, marker=mk, ls="-", color="k",
                         label=lab("trace of the variance"), **eb)
        axes[3].plot(r, d["var_ratio_median"].values[i], marker=mk, ls="--", color="0.5", ms=4,
                     label=lab("median over points"))
        axes[4].plot(r, d["skew_absmax"].values[i], marker=mk, ls="-", color="k", ms=4,
                     label=lab("largest |skewness|"))
        axes[4].plot(r, d["kurt_max"].values[i], marker=mk, ls="--", color="0.5", ms=4,
                     label=lab("largest excess kurtosis"))
    titles = ("TV distance from the ensemble", "mass in the gaps between points",
              "gap mass: ensemble minus field", "variance across models: measured / predicted",
              "non-Gaussianity across models")
    for ax, t in zip(axes[:5], titles, strict=True):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("F/P")
        ax.set_title(t)
    axes[2].axhline(0, color="k", lw=0.6)
    axes[3].axhline(1, color="k", lw=0.6)
    axes[3].set_yscale("log")
    axes[4].set_yscale("log")
    for ax in (axes[0], axes[1], axes[3], axes[4]):
        ax.legend(loc="best")
    axes[5].axis("off")
    _eps_legend(axes[5], eps)
    axes[5].text(0.5, 0.02, "error bars: ±2 standard errors", ha="center", va="bottom",
                 transform=axes[5].transAxes)
    fig.tight_layout()
    return fig


def plot_2d(result):
    r"""The 2-D setting: ensemble and Gaussian field per P, and the exact-score PF-ODE.

    Top row: the ensemble's average density per ``P`` and the PF-ODE; bottom row: the
    Gaussian-field prediction per ``P`` and TV(ensemble, field) ± its standard error. All
    maps share one linear colour scale that saturates at the ensemble's 99.5 % bin quantile:

    .. math:: c(v) = \min\!\big(v / q_{0.995},\, 1\big), \qquad
              q_{0.995} = \text{the 0.995 quantile of all ensemble bins}.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.theory.run` with the 2-D setting; uses
        ``ensemble_2d``, ``gaussian_field_2d`` (P_2d, x_2d, y_2d), ``pf_ode_2d`` (first entry),
        ``tv_2d``, ``tv_se_2d`` (P_2d) and ``n_2d`` of ``attrs["settings"]`` (``F = n_2d^3``).

    Returns
    -------
    matplotlib.figure.Figure
        ``2 x (len(P_2d) + 1)`` axes plus a labelled colour bar.

    Examples
    --------
    >>> import json, numpy as np, xarray as xr, matplotlib.pyplot as plt
    >>> g = ("P_2d", "x_2d", "y_2d")
    >>> img = np.arange(4.0).reshape(1, 2, 2)
    >>> r = xr.Dataset({k: (g, img) for k in ("ensemble_2d", "gaussian_field_2d", "pf_ode_2d")}
    ...                | {"tv_2d": ("P_2d", [0.2]), "tv_se_2d": ("P_2d", [0.02])},
    ...                coords={"P_2d": [16], "x_2d": [0.0, 1.0], "y_2d": [0.0, 1.0]},
    ...                attrs={"settings": json.dumps({"n_2d": 2})})
    >>> fig = plot_2d(r)
    >>> len(fig.axes), fig.axes[0].get_title()
    (5, 'ensemble\nF/P = 1/2')
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    d = result
    P2 = d["P_2d"].values
    F2 = int(json.loads(d.attrs["settings"])["n_2d"]) ** 3
    n = len(P2) + 1
    fig, axes = plt.subplots(2, n, figsize=(2.1 * n + 0.9, 4.4), squeeze=False)
    cx, cy = d["x_2d"].values, d["y_2d"].values
    ext = (cx[0], cx[-1], cy[0], cy[-1])
    vmax = float(np.quantile(d["ensemble_2d"].values, 0.995))
    kw = dict(origin="lower", extent=ext, cmap="RdBu_r", vmin=0, vmax=vmax)
    for j in range(len(P2)):
        for i, (k, lab) in enumerate((("ensemble_2d", "ensemble"),
                                      ("gaussian_field_2d", "Gaussian field"))):
            ax = axes[i, j]
            im = ax.imshow(d[k].values[j].T, **kw)
            ax.set_title(f"{lab}\nF/P = {fmt_ratio(F2 / P2[j])}")
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, -1].imshow(d["pf_ode_2d"].values[0].T, **kw)
    axes[0, -1].set_title("exact-score\nPF-ODE")
    axes[0, -1].set_xticks([])
    axes[0, -1].set_yticks([])
    axes[1, -1].axis("off")
    txt = "TV(ensemble, field)\n" + "\n".join(
        f"F/P = {fmt_ratio(F2 / p)}: {pm(a, b, 2)}" for p, a, b in
        zip(P2, d["tv_2d"].values, d["tv_se_2d"].values, strict=True))
    axes[1, -1].text(0, 0.5, txt, fontsize=8, va="center")
    fig.tight_layout(rect=(0, 0, 1 - 0.9 / fig.get_figwidth(), 1))
    cax = fig.add_axes([1 - 0.8 / fig.get_figwidth(), 0.15, 0.02, 0.7])
    colorbar(fig, im, "average density (linear scale,\ntop 0.5 % saturate)", cax=cax)
    return fig


def _row(label, d, key, i, digits=3):
    v, se = d[key].values[i], d[f"{key}_se"].values[i]
    return f"| {label} | " + " | ".join(pm(a, b, digits) for a, b in zip(v, se, strict=True)) + " |"


def table(result) -> str:
    """Markdown table of the theory-vs-ensemble numbers: every cell ``value ± standard error``.

    No formula: infrastructure (formatting). One section per ``eps`` (TVs, gap and mode
    masses, the variance across models measured and predicted, skewness and kurtosis with
    their null standard errors ``sqrt(6/N)`` and ``sqrt(24/N)``, and the exact reference
    numbers), then the 2-D setting when present.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.theory.run`.

    Returns
    -------
    str
        Markdown, ending with a newline.

    Examples
    --------
    >>> import json, numpy as np, xarray as xr
    >>> ep, keys = ("eps", "P"), ("tv tv_ens_mm tv_ensemble_pf_ode tv_gaussian_field_pf_ode "
    ...     "gap_mass_ensemble gap_mass_gaussian_field gap_mass_diff gap_mass_moment_matched "
    ...     "trainvar_emp").split()
    >>> one = ("trainvar_pred skew_absmax kurt_max n_fields mc_ratio gap_mass_pf_ode "
    ...        "gap_mass_p_eps tv_pf_ode_p_eps gap_mass_mean_model gap_mass_semiclassical").split()
    >>> modes = [f"mode_mass_{n}{e}" for n in ("ensemble", "gaussian_field") for e in ("", "_se")]
    >>> r = xr.Dataset({k: (ep, [[0.5]]) for k in keys + [k + "_se" for k in keys] + one}
    ...                | {k: (ep + ("mode",), [[[0.5, 0.5]]]) for k in modes}
    ...                | {"F_eff": ("eps", [12.0])}, coords={"eps": [0.01], "P": [8]},
    ...                attrs={"n_features": 16, "seed": 0, "version": "1.0", "se_method": "b",
    ...                       "gap_definition": "g", "settings": json.dumps(dict(
    ...                           data=[-1, 1], schedule="vp", features="gaussian", n_x=4,
    ...                           n_t=4, ridge=0.1, n_steps=30, n_models=4))})
    >>> lines = table(r).splitlines()
    >>> lines[0], lines[6], lines[8]
    ('# theory-vs-ensemble: numbers', '## eps = 0.01', '| quantity | P=8 (F/P=2) |')
    >>> lines[10]
    '| TV ensemble vs Gaussian field | 0.500 ± 0.500 |'
    """
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
