"""Figure 1: where the proxy score is noisy.

Plots ``R(x,t) = tr C / (tr C + |s|^2)`` (paper-math.md section 2.4) on a 100x100 grid over
[-2, 2]^2 for the four six-point data sets of the paper (polygon, L-shape, line, random) at
t in {0.05, 0.1, 0.2, 0.5, 0.75} with the Figure 1 schedule ``alpha = sqrt(1-t)``,
``sigma^2 = t``. Everything comes from :func:`gtv_symbolic.proxy.variance_ratio`.
"""

from __future__ import annotations

import numpy as np

from .. import data as data_mod
from .. import proxy, schedules
from . import register
from .style import save_arrays, save_figure, style

TIMES = (0.05, 0.1, 0.2, 0.5, 0.75)
GRID_N = 100
EXTENT = 2.0
# Paper layout: polygon | L-shaped on top, line | random below.
LAYOUT = (("polygon", "lshape"), ("line", "random"))
LABELS = {"polygon": "polygon", "lshape": "L-shaped", "line": "line", "random": "random"}


def compute(times=TIMES, n_grid: int = GRID_N, extent: float = EXTENT, schedule=None) -> dict:
    """Arrays behind Figure 1: ``x``, ``y`` (grids), ``t``, and ``R`` per data set (len(t), n, n).

    ``R[k, i, j]`` is the ratio at ``(x[i], y[j])`` and time ``t[k]``.
    """
    if n_grid < 2:
        raise ValueError(f"n_grid must be >= 2, got {n_grid}")
    sched = schedules.Fig1() if schedule is None else schedule
    times = np.asarray(times, dtype=float)
    sched.validate_t(times, "times")
    x = np.linspace(-extent, extent, n_grid)
    xx, yy = np.meshgrid(x, x, indexing="ij")
    pts = np.stack([xx, yy], axis=-1)[None]  # (1, n, n, 2)
    out = {"x": x, "y": x.copy(), "t": times}
    for name, make in data_mod.FIG1_DATASETS.items():
        out[name] = proxy.variance_ratio(pts, times[:, None, None], make(), sched)
    return out


@register("fig1")
def fig1(out_dir, *, save_data=None, progress=None):
    """Proxy-score variance ratio R = tr C / (tr C + |s|^2), 4 data sets x 5 times."""
    if progress is not None:
        progress.log("computing R on 4 data sets x 5 times x 100x100 grid")
    arrs = compute()
    if not all(np.all(np.isfinite(arrs[k])) for k in data_mod.FIG1_DATASETS):
        raise RuntimeError("non-finite ratio in Figure 1")  # never draw a NaN figure
    if save_data is not None:
        save_arrays(save_data, arrs)
    import matplotlib.pyplot as plt

    n_t = len(arrs["t"])
    with style():
        # a narrow spacer column keeps the right block's row labels off the left block
        fig, grid = plt.subplots(2, 2 * n_t + 1, figsize=(2 * n_t * 1.05 + 0.3, 2.35),
                                 gridspec_kw={"wspace": 0.06, "hspace": 0.08,
                                              "width_ratios": [1] * n_t + [0.2] + [1] * n_t})
        for ax in grid[:, n_t]:
            ax.axis("off")
        axes = np.concatenate([grid[:, :n_t], grid[:, n_t + 1:]], axis=1)
        ext = (arrs["x"][0], arrs["x"][-1], arrs["y"][0], arrs["y"][-1])
        for r, row in enumerate(LAYOUT):
            for b, name in enumerate(row):
                pts = data_mod.FIG1_DATASETS[name]()
                for k in range(n_t):
                    ax = axes[r, b * n_t + k]
                    # R[k, i, j] is indexed (x, y): transpose so x runs horizontally
                    ax.imshow(arrs[name][k].T, origin="lower", extent=ext, vmin=0, vmax=1,
                              cmap="viridis", interpolation="nearest")
                    ax.plot(pts[:, 0], pts[:, 1], "o", color="red", ms=3)
                    ax.set_xticks([])
                    ax.set_yticks([])
                    if r == 0:
                        ax.set_title(f"t = {arrs['t'][k]:g}")
                    if k == 0:
                        ax.set_ylabel(LABELS[name])
        fig.subplots_adjust(left=0.025, right=0.995, top=0.88, bottom=0.02)
        return save_figure(fig, out_dir, "fig1")
