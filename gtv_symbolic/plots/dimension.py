"""Plot and table of the dimension sweep (:func:`gtv_symbolic.experiments.dimension.run`)."""

from __future__ import annotations

import numpy as np

from .style import sweep_colour
from .theory import pm

__all__ = ["plot", "table", "zero_count_bound"]

#: the critique's time scale (Bertrand et al. 2025, CIFAR-10)
T_CRITIQUE = 0.2


def plot(result):
    """Rows: data families; columns: fraction with R > 1/2, posterior variance, naive V / D."""
    import matplotlib.pyplot as plt

    d = result
    t, Ds = d["t"].values, d["D"].values
    cols = (("frac_R", "mass fraction with R > 1/2"),
            ("post_var", r"$E\,\mathrm{tr}\,\Sigma_{\rm post}\,/\,\mathrm{tr\,Cov}$"),
            ("naive_V", r"$E\,\mathrm{tr}\,V_{\rm naive}\,/\,D$ ($\kappa$ = 1)"))
    fig, axes = plt.subplots(len(d["data"]), 3, figsize=(13.0, 3.0 * len(d["data"])),
                             squeeze=False)
    for i, name in enumerate(d["data"].values):
        for j, (k, lab) in enumerate(cols):
            ax = axes[i, j]
            for n, D in enumerate(Ds):
                c = sweep_colour(n, len(Ds))
                v, se = d[k].values[i, n], d[k + "_se"].values[i, n]
                ax.plot(t, v, color=c, lw=1.0, label=f"dimension {D}")
                ax.fill_between(t, v - 2 * se, v + 2 * se, color=c, alpha=0.2, lw=0)
            ax.axvline(T_CRITIQUE, color="k", ls=":", lw=0.7)
            ax.set_xscale("log")
            if k == "naive_V":
                ax.set_yscale("symlog", linthresh=1e-3)
            ax.set_title(f"{name}: {lab}")
    for ax in axes[-1]:
        ax.set_xlabel("t (dotted: t = 0.2)")
    fig.tight_layout(rect=(0, 0, 1 - 1.3 / fig.get_figwidth(), 1))
    h, lab = axes[0, 0].get_legend_handles_labels()
    fig.legend(h, lab, loc="center right")
    return fig


def table(result) -> str:
    """The Markdown table of ``result`` (the Dataset of the experiment's ``run``): every number with
    its standard error, and the run's N, samples, seed and version.
    """
    import json

    d = result
    s = json.loads(d.attrs["settings"])
    lines = [f"M = {s['n_points']} unit-norm points; {s['n_mc']} draws x ~ p(x|t) per cell; "
             f"{s['schedule']}; seed = {d.attrs.get('seed')}; gtv_symbolic {d.attrs['version']}",
             "", "t_half: time where E tr Sigma_post / tr Cov(data) = 1/2 (below it the proxy and "
             "exact targets nearly coincide); t_star: E tr C = E|s|^2 (NaN: never on the grid); "
             "max frac: largest mass fraction with R > 1/2 over t.", "",
             "| data | D | t_half | t_star | max frac R > 1/2 (at t) |", "|---|---|---|---|---|"]
    t = d["t"].values
    for i, name in enumerate(d["data"].values):
        for j, D in enumerate(d["D"].values):
            f, fse = d["frac_R"].values[i, j], d["frac_R_se"].values[i, j]
            k = int(np.argmax(f))

            def fmt(key):
                v, e = d[key].values[i, j], d[key + "_se"].values[i, j]
                return "NaN" if not np.isfinite(v) else pm(v, e, 4)

            frac = (f"{pm(f[k], fse[k])} (t = {t[k]:.3g})" if f[k] > 0 else
                    f"{zero_count_bound(s['n_mc'])} (none of {s['n_mc']} draws at any t)")
            lines.append(f"| {name} | {D} | {fmt('t_half')} | {fmt('t_star')} | {frac} |")
    return "\n".join(lines) + "\n"


def zero_count_bound(n: int) -> str:
    """A fraction with no hit in ``n`` draws as its 95 % upper bound, ``'< 3/n'`` (rule of three:
    ``(1 - p)^n = 0.05`` at ``p ~ 3/n``), not ``0 ± 0``.

    >>> zero_count_bound(4000)
    '< 0.00075'
    """
    return f"< {3 / n:.2g}"
