"""Plot of Figure 3 (2-D data, feature families x rotations): draws the result of
:func:`gtv_symbolic.experiments.fig3.run` (``RdBu_r`` colour map shared by all panels, training
points in the data colour, one column of basis functions per row).

The colour scale follows the result's normalisation: the joint density (default) on a
square-root scale whose top 0.05 % of bins saturate; the paper's per-column normalisation
(``--normalisation paper``) on a linear scale from 0 to the maximum, as the paper's plot.
"""

from __future__ import annotations

import json

import numpy as np

from .style import colorbar, data_points

__all__ = ["plot", "scale"]


def scale(result):
    """``(norm, colour-bar label, title)`` of the result's normalisation."""
    from matplotlib.colors import Normalize, PowerNorm

    avg = result["avg"].values
    how = json.loads(result.attrs["settings"]).get("normalisation", "density")
    n = json.loads(result.attrs["settings"])["n_models"]
    if how == "paper":
        return (Normalize(0.0, float(avg.max())),
                "$p(y\\,|\\,x)$ of each x-column, mean over models\n"
                "(paper's per-column normalisation; linear colour scale)",
                f"Mean over N = {n} models, each x-column normalised separately (paper's code)")
    return (PowerNorm(0.5, vmin=0.0, vmax=float(np.quantile(avg, 0.9995))),
            "average learned density (joint)\nsquare-root colour scale, top 0.05 % saturate",
            f"Average learned density of N = {n} models")


def plot(result):
    """Draw the figure from ``result`` (the Dataset of the experiment's ``run``); returns the figure.
    """
    import matplotlib.pyplot as plt

    from ..features import make_features

    s = json.loads(result.attrs["settings"])
    feats, thetas, avg = [str(f) for f in result["features"].values], result["theta"].values, \
        result["avg"].values
    lim = float(s["lim"])
    nr, nc = avg.shape[:2]
    norm, label, title = scale(result)
    fig = plt.figure(figsize=(6.9 * (nc + 0.55) / 3.55, 0.3 + 4.0 * nr / 2))
    top = 1 - 0.45 / fig.get_figheight()
    gs = fig.add_gridspec(nr, nc + 1, width_ratios=[0.55] + [1] * nc, wspace=0.06, hspace=0.06,
                          left=0.01, right=0.84, top=top, bottom=0.02)
    z = np.linspace(-lim, lim, 400)
    im = None
    for r, fam in enumerate(feats):
        ax = fig.add_subplot(gs[r, 0])
        fm = make_features(fam, 2, s["n_x"], s["n_t"], s["eps"], T=s["T"], x_range=(-lim, lim))
        vals = fm.x_bases[0].values(z)
        vals = vals / np.abs(vals).max(axis=0)
        for k in range(vals.shape[1]):
            ax.plot(z, 0.8 * vals[:, k] - 1.6 * k, lw=0.8)
        ax.set_axis_off()
        ax.set_ylim(-1.6 * (vals.shape[1] - 1) - 1.0, 3.4)
        ax.text(0.5, 1.0, f"{fam.capitalize()}\nfeatures", transform=ax.transAxes,
                ha="center", va="top", fontsize=9)
        for c in range(nc):
            ax = fig.add_subplot(gs[r, c + 1])
            im = ax.imshow(avg[r, c].T, origin="lower", extent=(-lim, lim, -lim, lim),
                           cmap="RdBu_r", norm=norm, interpolation="nearest")
            data_points(ax, result["points"].values[c])
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ("top", "right"):
                ax.spines[side].set_visible(True)
            if r == 0:
                ax.set_title(f"data rotated by {np.degrees(thetas[c]):g}$^\\circ$")
    fig.suptitle(title, y=1 - 0.06 / fig.get_figheight(), va="top")
    cax = fig.add_axes([0.86, 0.15, 0.018, 0.65])
    colorbar(fig, im, label, cax=cax)
    return fig
