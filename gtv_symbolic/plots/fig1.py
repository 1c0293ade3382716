"""Plot of Figure 1 (proxy-score variance ratio R): :func:`plot` only draws the result of
:func:`gtv_symbolic.experiments.fig1.run`."""

from __future__ import annotations

import numpy as np

from .style import colorbar, data_points

__all__ = ["plot", "LABELS"]

#: row label of each Figure 1 data set
LABELS = {"polygon": "polygon", "lshape": "L-shaped", "line": "line", "random": "random"}


def plot(result):
    """Figure 1 (paper Fig. 1): where the proxy score is noisy, as maps of the variance ratio R.

    No formula: infrastructure (``R = tr C / (tr C + |s|^2)`` is computed by
    :func:`gtv_symbolic.experiments.fig1.run`). Data sets in blocks of ``len(t)`` panels, two
    blocks per row (the paper's layout), the training points on top; one colour bar for all
    panels on the fixed linear scale [0, 1] (R is dimensionless).

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.fig1.run`: ``R`` (dataset, t, x, y) and
        ``attrs["points_NAME"]`` (flattened 2-D points) for every data set ``NAME``.

    Returns
    -------
    matplotlib.figure.Figure
        ``ceil(n_datasets / 2)`` rows of panels (a spacer column between the two blocks) and the
        colour bar.

    Examples
    --------
    >>> import numpy as np, xarray as xr, matplotlib.pyplot as plt
    >>> g = np.linspace(-1, 1, 3)
    >>> r = xr.Dataset({"R": (("dataset", "t", "x", "y"), np.full((1, 1, 3, 3), 0.5))},
    ...                coords={"dataset": ["line"], "t": [0.1], "x": g, "y": g},
    ...                attrs={"points_line": [0.0, 0.0, 0.5, 0.0]})
    >>> fig = plot(r)
    >>> fig.axes[0].get_title(), fig.axes[0].get_ylabel(), fig.axes[-1].get_ylabel()
    ('t = 0.1', 'line', 'variance ratio R (dimensionless)')
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    names = [str(d) for d in result["dataset"].values]
    t, x, y = result["t"].values, result["x"].values, result["y"].values
    n_t, n_rows = len(t), (len(names) + 1) // 2
    n_blocks = 2 if len(names) > 1 else 1
    ncol = n_blocks * n_t + (n_blocks - 1)
    ratios = [1] * n_t + ([0.2] + [1] * n_t if n_blocks == 2 else [])
    fig, grid = plt.subplots(n_rows, ncol, figsize=(2 * n_t * 1.05 + 1.3, 0.35 + 2.35 * n_rows / 2),
                             gridspec_kw={"wspace": 0.06, "hspace": 0.08, "width_ratios": ratios},
                             squeeze=False)
    if n_blocks == 2:
        # a narrow spacer column keeps the right block's row labels off the left block
        for ax in grid[:, n_t]:
            ax.axis("off")
        axes = np.concatenate([grid[:, :n_t], grid[:, n_t + 1:]], axis=1)
    else:
        axes = grid
    ext = (x[0], x[-1], y[0], y[-1])
    for k_name, name in enumerate(names):
        r, b = divmod(k_name, 2)
        pts = np.asarray(result.attrs[f"points_{name}"]).reshape(-1, 2)
        for k in range(n_t):
            ax = axes[r, b * n_t + k]
            # R[k, i, j] is indexed (x, y): transpose so x runs horizontally
            im = ax.imshow(result["R"].values[k_name, k].T, origin="lower", extent=ext, vmin=0,
                           vmax=1, cmap="viridis", interpolation="nearest")
            data_points(ax, pts, ms=3.5)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"t = {t[k]:g}")
            if k == 0:
                ax.set_ylabel(LABELS.get(name, name))
    for k_name in range(len(names), n_rows * 2 if n_blocks == 2 else n_rows):
        r, b = divmod(k_name, 2)
        for k in range(n_t):
            axes[r, b * n_t + k].axis("off")
    h = fig.get_figheight()
    right = 1 - 0.9 / fig.get_figwidth()
    fig.subplots_adjust(left=0.035, right=right, top=1 - 0.55 / h, bottom=0.02)
    cax = fig.add_axes([right + 0.012, 0.06, 0.011, 1 - 0.55 / h - 0.1])
    colorbar(fig, im, "variance ratio R (dimensionless)", cax=cax)
    fig.suptitle("Proxy-score variance ratio $R = \\mathrm{tr}\\,C\\,/\\,(\\mathrm{tr}\\,C + |s|^2)$: "
                 "0 where the proxy score is exact, near 1 where its variance dominates",
                 y=1 - 0.05 / h, va="top")
    return fig
