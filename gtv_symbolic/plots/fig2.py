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
    r"""``F/P`` as a short fraction: ``fmt_ratio(0.25) == '1/4'``.

    The fraction nearest to ``r`` whose denominator is at most 64
    (:meth:`fractions.Fraction.limit_denominator`), written without a denominator of 1:

    .. math:: \frac{p}{q} = \operatorname*{arg\,min}_{p \in \mathbb Z,\ 1 \le q \le 64}
              \Big|\, r - \frac{p}{q} \Big|.

    Parameters
    ----------
    r : float
        A ratio (anything :class:`float` accepts; finite).

    Returns
    -------
    str
        ``"p/q"``, or ``"p"`` when ``q = 1``.

    Examples
    --------
    >>> fmt_ratio(0.25), fmt_ratio(4.0), fmt_ratio(256 / 3)
    ('1/4', '4', '256/3')
    """
    f = Fraction(float(r)).limit_denominator(64)
    return f"{f.numerator}" if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def plot(result, ylim: float | None = 2.5):
    """Figure 2 (paper Fig. 2): average learned density of linear-model ensembles, eps x F/P.

    No formula: infrastructure (the densities come from
    :func:`gtv_symbolic.experiments.fig2.run`). One row per ``eps``, one column per ``P`` (the
    layout follows the result's coordinates); each panel shows the trained ensemble's mean
    density with the band of the middle 50 % of models, ``p(x | eps)`` and the exact-score
    PF-ODE, as step curves over the histogram bins.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.fig2.run`: ``avg``, ``q25``, ``q75``
        (eps, P, x), ``true``, ``pfode`` (eps, x), ``attrs["n_features"]`` and
        ``attrs["settings"]`` (JSON with the training points ``data``, used for the x ticks).
    ylim : float or None, default 2.5
        Top of the y axes, ``> 0``: the paper's 2.5 (sharp peaks of ``p(x | eps)`` are
        clipped); None scales to 1.05 times the highest curve.

    Returns
    -------
    matplotlib.figure.Figure
        ``len(eps) x len(P)`` axes sharing x and y, and one legend on top.

    Examples
    --------
    >>> import json, numpy as np, xarray as xr, matplotlib.pyplot as plt
    >>> one = np.ones((1, 1, 3))
    >>> r = xr.Dataset({k: (("eps", "P", "x"), one) for k in ("avg", "q25", "q75")}
    ...                | {k: (("eps", "x"), one[0]) for k in ("true", "pfode")},
    ...                coords={"eps": [0.01], "P": [8], "x": [-1.0, 0.0, 1.0]},
    ...                attrs={"n_features": 4, "settings": json.dumps({"data": [-1, 0, 1]})})
    >>> fig = plot(r, ylim=None)
    >>> len(fig.axes), fig.axes[0].get_title(), float(fig.axes[0].get_ylim()[1])
    (1, 'F/P = 1/2 (P=8)', 1.05)
    >>> plt.close(fig)
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
