"""Plot of Figure 3 (2-D data, feature families x rotations): draws the result of
:func:`gtv_symbolic.experiments.fig3.run` (``RdBu_r``, square-root colour scale shared by all
panels, training points in red, one column of basis functions per row)."""

from __future__ import annotations

import json

import numpy as np

__all__ = ["plot"]


def plot(result):
    import matplotlib.pyplot as plt
    from matplotlib.colors import PowerNorm

    from ..features import make_features

    s = json.loads(result.attrs["settings"])
    feats, thetas, avg = [str(f) for f in result["features"].values], result["theta"].values, \
        result["avg"].values
    lim = float(s["lim"])
    nr, nc = avg.shape[:2]
    fig = plt.figure(figsize=(6.6 * (nc + 0.55) / 3.55, 4.3 * nr / 2))
    gs = fig.add_gridspec(nr, nc + 1, width_ratios=[0.55] + [1] * nc, wspace=0.06, hspace=0.06,
                          left=0.01, right=0.9, top=0.86, bottom=0.02)
    vmax = float(np.quantile(avg, 0.9995))  # shared scale; the peaks saturate (red)
    norm = PowerNorm(0.5, vmin=0.0, vmax=vmax)
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
                ha="center", va="top", fontsize=8)
        for c in range(nc):
            ax = fig.add_subplot(gs[r, c + 1])
            im = ax.imshow(avg[r, c].T, origin="lower", extent=(-lim, lim, -lim, lim),
                           cmap="RdBu_r", norm=norm, interpolation="nearest")
            pts = result["points"].values[c]
            ax.plot(pts[:, 0], pts[:, 1], "o", color="#d00000", ms=5, mec="none")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"{np.degrees(thetas[c]):g}$^\\circ$")
    cax = fig.add_axes([0.915, 0.15, 0.015, 0.65])
    fig.colorbar(im, cax=cax, label="avg. learned density")
    return fig
