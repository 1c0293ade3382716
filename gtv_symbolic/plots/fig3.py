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
    r"""``(norm, colour-bar label, title)`` of the result's normalisation (paper Fig. 3).

    The colour scale of the average density :math:`v` follows
    ``settings["normalisation"]`` (default ``"density"``): the joint density on a square-root
    scale that saturates at the 99.95 % quantile :math:`q` of all bins of all panels, or the
    paper's per-column normalisation on a linear scale from 0 to the maximum:

    .. math:: c_{\rm density}(v) = \min\!\big(v / q_{0.9995},\, 1\big)^{1/2}, \qquad
              c_{\rm paper}(v) = v \,/\, \max v .

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.fig3.run`: ``avg`` and
        ``attrs["settings"]`` (JSON with ``n_models`` and optionally ``normalisation``).

    Returns
    -------
    tuple
        ``(norm, label, title)``: a :class:`matplotlib.colors.Normalize` (``PowerNorm`` for
        ``"density"``), the colour-bar label and the figure title (both str).

    Examples
    --------
    >>> import json, numpy as np, xarray as xr
    >>> r = xr.Dataset({"avg": (("x", "y"), [[0.0, 1.0], [4.0, 16.0]])},
    ...                attrs={"settings": json.dumps({"n_models": 2})})
    >>> norm, label, title = scale(r)
    >>> type(norm).__name__, round(float(norm(4.0)), 3), title
    ('PowerNorm', 0.5, 'Average learned density of N = 2 models')
    >>> r.attrs["settings"] = json.dumps({"n_models": 2, "normalisation": "paper"})
    >>> norm, label, _ = scale(r)
    >>> type(norm).__name__, float(norm(4.0)), "per-column" in label
    ('Normalize', 0.25, True)
    """
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
    r"""Figure 3 (paper Fig. 3): average learned 2-D density per feature family and rotation.

    One row per feature family: a column of its x-basis functions on ``[-lim, lim]``, each
    scaled to a peak of 1 and stacked (:math:`0.8\,\phi_k(z) / \max_z|\phi_k(z)| - 1.6\,k`),
    then one map per rotation ``theta`` with the training points. All maps share the colour
    scale of :func:`scale` (``RdBu_r``) and one labelled colour bar.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.fig3.run`: ``avg`` (features, theta, x,
        y), ``points`` (theta, point, coord) and ``attrs["settings"]`` (JSON with ``lim``,
        ``n_x``, ``n_t``, ``eps``, ``T``, ``n_models``, optionally ``normalisation``).

    Returns
    -------
    matplotlib.figure.Figure
        ``len(features) x (1 + len(theta))`` axes plus the colour bar.

    Examples
    --------
    >>> import json, numpy as np, xarray as xr, matplotlib.pyplot as plt
    >>> s = {"lim": 1.5, "n_x": 2, "n_t": 2, "eps": 0.01, "T": 1.0, "n_models": 2}
    >>> r = xr.Dataset({"avg": (("features", "theta", "x", "y"), np.ones((1, 1, 4, 4))),
    ...                 "points": (("theta", "point", "coord"), [[[1.0, 0.0], [0.0, 1.0]]])},
    ...                coords={"features": ["fourier"], "theta": [0.0]},
    ...                attrs={"settings": json.dumps(s)})
    >>> fig = plot(r)
    >>> len(fig.axes), fig.axes[1].get_title()
    (3, 'data rotated by 0$^\\circ$')
    >>> plt.close(fig)
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
