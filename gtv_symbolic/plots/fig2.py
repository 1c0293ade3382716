"""Plot of Figure 2 (average learned distribution, eps x F/P): draws the result of
:func:`gtv_symbolic.experiments.fig2.run`.

Colours and labels from :mod:`gtv_symbolic.plots.style`: the trained ensemble (mean over models
of each model's learned density; band: middle 50 % of models), ``p(x | eps)`` and the
exact-score PF-ODE on the same time grid.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np

from .style import COLORS, curve

__all__ = ["plot", "fmt_ratio"]


def fmt_ratio(r) -> str:
    """``F/P`` as a short fraction: ``fmt_ratio(0.25) == '1/4'``.

    >>> fmt_ratio(0.25), fmt_ratio(4.0)
    ('1/4', '4')
    """
    f = Fraction(float(r)).limit_denominator(64)
    return f"{f.numerator}" if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def plot(result, ylim: float | None = 2.5):
    """One row per eps, one column per P (the layout follows the result's coordinates).

    ``ylim`` is the paper's 2.5 (sharp peaks of ``p(x | eps)`` are clipped); None scales to
    the highest curve.
    """
    import matplotlib.pyplot as plt

    eps_list, P_list, x = result["eps"].values, result["P"].values, result["x"].values
    F = int(result.attrs["n_features"])
    avg, q25, q75 = (result[k].values for k in ("avg", "q25", "q75"))
    true, pfode = result["true"].values, result["pfode"].values
    top = ylim if ylim is not None else 1.05 * float(max(q75.max(), true.max(), pfode.max()))
    nE, nP = len(eps_list), len(P_list)
    width = max(7.2 * nP / 5, 5.0)  # the paper's 7.2 x 3.7 inches at 3 x 5 panels
    ncol = 4 if width >= 6 else 2
    fig, axes = plt.subplots(nE, nP, figsize=(width, 3.7 * max(nE, 1.5) / 3), sharex=True,
                             sharey=True, squeeze=False)
    ticks = np.unique(np.round(np.asarray(json.loads(result.attrs["settings"])["data"],
                                          float).ravel(), 2))
    if ticks.size > 5:
        ticks = np.linspace(ticks[0], ticks[-1], 5)
    ticks = [int(v) if float(v).is_integer() else float(v) for v in ticks]
    for i, eps in enumerate(eps_list):
        for j, P in enumerate(P_list):
            ax = axes[i, j]
            ax.fill_between(x, q25[i, j], q75[i, j], color=COLORS["ensemble"], alpha=0.22, lw=0,
                            step="mid", label="middle 50 % of the models")
            curve(ax, x, pfode[i], "pf_ode", drawstyle="steps-mid")
            curve(ax, x, true[i], "p_eps", drawstyle="steps-mid")
            curve(ax, x, avg[i, j], "ensemble", lw=1.0, drawstyle="steps-mid")
            ax.set_ylim(0, top)
            ax.set_xlim(x[0], x[-1])
            ax.set_xticks(ticks)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            if i == 0:
                ax.set_title(f"F/P = {fmt_ratio(F / P)} (P={P})")
            if j == 0:
                ax.set_ylabel(f"$\\epsilon$ = {eps:g}\ndensity")
            if i == nE - 1:
                ax.set_xlabel("$x$")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    order = [3, 0, 2, 1]
    fig.legend([handles[k] for k in order], [labels[k] for k in order], loc="upper center",
               ncol=ncol, frameon=False, bbox_to_anchor=(0.5, 0.995))
    fig.tight_layout(pad=0.4, h_pad=0.3, w_pad=0.3, rect=(0, 0, 1, 0.93 if ncol == 4 else 0.86))
    return fig
