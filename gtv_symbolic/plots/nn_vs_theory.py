"""Plot and table of trained networks vs the lazy prediction
(:func:`gtv_symbolic.experiments.nn_vs_theory.run`); numbers carry standard errors."""

from __future__ import annotations

from .numbers import pm, ratio_pm
from .style import curve
from .theory import run_header

__all__ = ["plot", "table"]


def plot(result):
    r"""Trained MLP ensembles against their lazy (NTK-at-initialisation) prediction (Prop. 5.2).

    No formula: infrastructure (the numbers come from
    :func:`gtv_symbolic.experiments.nn_vs_theory.run`). Rows: final time ``eps`` x
    parameterisation; columns: hidden width. Each panel shows the networks' average density
    (red), the lazy Gaussian-field prediction (blue), ``p(x | eps)`` and the PF-ODE, and in
    its title TV(ensemble, lazy) ± its standard error and the kernel change (``kernel_change``).

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.nn_vs_theory.run`: ``true``, ``pfode``
        (eps, x), ``ensemble``, ``lazy_prediction`` (eps, parameterisation, width, x), ``tv``,
        ``tv_se``, ``kernel_change`` (eps, parameterisation, width).

    Returns
    -------
    matplotlib.figure.Figure
        ``(len(eps) len(parameterisation)) x len(width)`` axes and one legend below them.

    Examples
    --------
    >>> import numpy as np, xarray as xr, matplotlib.pyplot as plt
    >>> c = ("eps", "parameterisation", "width")
    >>> r = xr.Dataset({k: (("eps", "x"), [[0.5, 0.5]]) for k in ("true", "pfode")}
    ...                | {k: (c + ("x",), [[[[0.4, 0.6]]]]) for k in ("ensemble", "lazy_prediction")}
    ...                | {k: (c, [[[0.05]]]) for k in ("tv", "tv_se", "kernel_change")},
    ...                coords={"eps": [0.01], "parameterisation": ["ntk"], "width": [64],
    ...                        "x": [-1.0, 1.0]})
    >>> fig = plot(r)
    >>> len(fig.axes), fig.axes[0].get_title()
    (1, 'eps 0.01, ntk, width 64\nTV 0.05 ± 0.05, kernel change 0.05')
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    d = result
    eps, par, wid, x = (d[k].values for k in ("eps", "parameterisation", "width", "x"))
    rows = [(a, i) for a in range(len(eps)) for i in range(len(par))]
    fig, axes = plt.subplots(len(rows), len(wid),
                             figsize=(2.9 * len(wid) + 0.4, 2.0 * len(rows) + 0.5),
                             sharex=True, squeeze=False)
    for r, (a, i) in enumerate(rows):
        for j, w in enumerate(wid):
            ax = axes[r, j]
            curve(ax, x, d["true"].values[a], "p_eps")
            curve(ax, x, d["pfode"].values[a], "pf_ode")
            curve(ax, x, d["ensemble"].values[a, i, j], "ensemble", label="trained networks")
            curve(ax, x, d["lazy_prediction"].values[a, i, j], "prediction",
                  label="lazy Gaussian-field prediction (NTK at init)")
            ax.set_title(f"eps {eps[a]:g}, {par[i]}, width {w}\nTV "
                         f"{pm(d['tv'].values[a, i, j], d['tv_se'].values[a, i, j], 2)}"
                         f", kernel change {d['kernel_change'].values[a, i, j]:.2g}")
    h, lab = axes[0, 0].get_legend_handles_labels()
    for ax in axes[-1]:
        ax.set_xlabel("$x$")
    fig.tight_layout(rect=(0, 0.5 / fig.get_figheight(), 1, 1))
    fig.legend(h, lab, loc="lower center", ncol=2)
    return fig


def table(result) -> str:
    """Markdown table of networks vs the lazy prediction: every number with its standard error.

    No formula: infrastructure (formatting). One row per ``eps``, parameterisation and width:
    ``F_eff/P``, ``tau``, kernel change, TV(ensemble, lazy) and its null value, gap masses and
    their paired difference, TV to the PF-ODE, the learning-rate and basis diagnostics and the
    lazy fields' Monte Carlo ratio; then the PF-ODE gap mass per ``eps`` and the mode masses.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.nn_vs_theory.run`.

    Returns
    -------
    str
        Markdown, ending with a newline.

    Examples
    --------
    >>> import json, numpy as np, xarray as xr
    >>> c = ("eps", "parameterisation", "width")
    >>> se = [k + e for k in ("kernel_change", "tv", "gap_mass_ensemble", "gap_mass_lazy",
    ...                       "gap_mass_diff", "tv_ensemble_pf_ode") for e in ("", "_se")]
    >>> diag = ["F_eff", "tau", "tv_null", "lr_mu_max", "basis_residual", "outside_basis",
    ...         "lazy_fields", "field_mc_ratio"]
    >>> modes = [f"mode_mass_{k}{e}" for k in ("ensemble", "lazy") for e in ("", "_se")]
    >>> r = xr.Dataset({k: (c, [[[0.5]]]) for k in se + diag}
    ...                | {k: (c + ("mode",), [[[[0.5]]]]) for k in modes}
    ...                | {"gap_mass_pf_ode": ("eps", [0.1])},
    ...                coords={"eps": [0.01], "parameterisation": ["ntk"], "width": [64],
    ...                        "mode": [0.0]},
    ...                attrs={"seed": 0, "version": "1.0", "settings": json.dumps(dict(
    ...                    P=8, steps=100, lr=0.1, max_lr_mu=1.0, target="proxy", n_fields=4,
    ...                    n_models=8))})
    >>> lines = table(r).splitlines()
    >>> lines[5].split(" | ")[:6]
    ['| 0.01', 'ntk', '64', '0.062', '0.5', '0.5000 ± 0.5000']
    >>> lines[-1]
    '- eps=0.01, ntk, H=64: x0=0: 0.500 ± 0.500 vs 0.500 ± 0.500'
    """
    import json

    d = result
    s = json.loads(d.attrs["settings"])
    lines = [run_header(d, "sample-free transport (30-step Euler)"),
             f"P = {s['P']}, {s['steps']} steps, lr = {s['lr']} (lowered to lr_eff mu_max <= "
             f"{s['max_lr_mu']}), target = {s['target']}, lazy fields per cell = "
             f"{s['n_fields']} (MC ratio: their Monte Carlo error / the ensemble's, max over the "
             "gap and mode cells, +- its normal-theory error; not topped up to 1/3 here)", "",
             "| eps | param. | H | F_eff/P | tau | kernel change | TV(ens, lazy) | TV null | "
             "gap ens | gap lazy | gap diff | TV(ens, PF-ODE) | lr mu_max | basis resid. | "
             "outside basis | lazy fields | MC ratio |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    cells = [(a, i, j) for a in range(d.sizes["eps"]) for i in range(d.sizes["parameterisation"])
             for j in range(d.sizes["width"])]
    for a, i, j in cells:
        g = lambda k, a=a, i=i, j=j: d[k].values[a, i, j]  # noqa: E731
        lines.append(
            f"| {d['eps'].values[a]:g} | {d['parameterisation'].values[i]} | "
            f"{d['width'].values[j]} | {g('F_eff') / s['P']:.3f} | {g('tau'):.3g} | "
            f"{pm(g('kernel_change'), g('kernel_change_se'), 4)} | {pm(g('tv'), g('tv_se'))} | "
            f"{g('tv_null'):.3f} | "
            f"{pm(g('gap_mass_ensemble'), g('gap_mass_ensemble_se'))} | "
            f"{pm(g('gap_mass_lazy'), g('gap_mass_lazy_se'))} | "
            f"{pm(g('gap_mass_diff'), g('gap_mass_diff_se'))} | "
            f"{pm(g('tv_ensemble_pf_ode'), g('tv_ensemble_pf_ode_se'))} | "
            f"{g('lr_mu_max'):.2f} | {g('basis_residual'):.1e} | {g('outside_basis'):.1e} | "
            f"{int(g('lazy_fields'))} | "
            f"{ratio_pm(g('field_mc_ratio'), g('lazy_fields'), s['n_models'])} |")
    lines += ["", "Exact-score PF-ODE gap mass per eps: " + ", ".join(
        f"{e:g}: {v:.4f}" for e, v in zip(d["eps"].values, d["gap_mass_pf_ode"].values,
                                          strict=True)),
        "", "Mode masses (ensemble vs lazy, per training point):", ""]
    for a, i, j in cells:
        me, se = (d[k].values[a, i, j] for k in ("mode_mass_ensemble", "mode_mass_ensemble_se"))
        ml, sl = (d[k].values[a, i, j] for k in ("mode_mass_lazy", "mode_mass_lazy_se"))
        lines.append(f"- eps={d['eps'].values[a]:g}, {d['parameterisation'].values[i]}, "
                     f"H={d['width'].values[j]}: " + "; ".join(
                         f"x0={m:g}: {pm(u, v)} vs {pm(c, e)}"
                         for m, u, v, c, e in zip(d["mode"].values, me, se, ml, sl, strict=True)))
    return "\n".join(lines) + "\n"
