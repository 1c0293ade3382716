"""Package figure style (sizes in inches, embeddable fonts), the shared palette, and
reproducible saving.

Talk-ready rules every figure follows: no text below :data:`MIN_FONT` points at the saved size
(matplotlib sizes are points at the figure's size, so figures are sized for their text), every
colour map has a labelled colour bar (:func:`colorbar`), legends are words, and the curves shared
by several figures are drawn by :func:`curve` with one colour and one label per role
(:data:`COLORS`, :data:`LABELS`).
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import matplotlib.pyplot as plt

__all__ = ["STYLE", "MIN_FONT", "COLORS", "LABELS", "LINES", "style", "curve", "colorbar",
           "sweep_colour", "data_points", "save_figure", "save_arrays"]

#: smallest font size (points at the saved size) any figure may use
MIN_FONT = 8

STYLE = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.titlesize": 10,
    "figure.dpi": 150,
    "savefig.dpi": 150,
    "image.cmap": "viridis",
}

#: one colour per role, the same in every figure
COLORS = {
    "ensemble": "#c8102e",        # trained models (mean over the ensemble), red
    "prediction": "#1f5fa8",      # the theory's Gaussian-field (V-kernel / lazy) prediction, blue
    "pf_ode": "#8c8c8c",          # exact-score PF-ODE on the same time grid, gray
    "p_eps": "#000000",           # p(x | eps), the noised data distribution, black
    "mean_model": "#e08a00",      # the mean model W* without variance, orange
    "moment_matched": "#2e8b3a",  # moment-matched Gaussian field, green
    "data": "#ff1a1a",            # training points, bright red with a white edge
    "ensemble_j0": "#6a3d9a",     # ensemble trained on the true-score target J0 (ablation), purple
}

#: the legend words of each role
LABELS = {
    "ensemble": "trained ensemble",
    "prediction": "Gaussian-field prediction (V-kernel)",
    "pf_ode": "exact-score PF-ODE",
    "p_eps": r"noised data $p(x\,|\,\epsilon)$",
    "mean_model": "mean model $W^*$ (no variance)",
    "moment_matched": "moment-matched Gaussian",
}

#: line style of each role (the ensemble on top, thickest)
LINES = {
    "ensemble": {"lw": 1.4, "ls": "-", "zorder": 4},
    "prediction": {"lw": 1.3, "ls": "--", "zorder": 5},
    "pf_ode": {"lw": 1.1, "ls": "-", "zorder": 2},
    "p_eps": {"lw": 0.8, "ls": "-", "zorder": 3},
    "mean_model": {"lw": 1.0, "ls": "-.", "zorder": 3},
    "moment_matched": {"lw": 1.0, "ls": ":", "zorder": 3},
}

# Fixed metadata so that the same arrays give the same bytes.
_META = {
    "png": {"Software": "gtv_symbolic"},
    "pdf": {"Creator": "gtv_symbolic", "Producer": "gtv_symbolic", "CreationDate": None},
}


@contextmanager
def style():
    """Context in which the package's figures are drawn (:data:`STYLE`)."""
    with plt.rc_context(STYLE):
        yield


def curve(ax, x, y, role: str, label: str | None = None, **kw):
    """Plot ``y(x)`` in the colour and line style of ``role`` (a key of :data:`COLORS`), labelled
    ``label`` or the role's :data:`LABELS` entry; ``kw`` overrides the style."""
    if role not in LINES:
        raise ValueError(f"role must be one of {list(LINES)}, got {role!r}")
    opts = dict(LINES[role], color=COLORS[role], label=LABELS[role] if label is None else label)
    opts.update(kw)
    return ax.plot(x, y, **opts)


def data_points(ax, pts, ms: float = 5.0):
    """Training points ``pts[:, :2]`` as markers in the data colour."""
    import numpy as np

    pts = np.asarray(pts)
    return ax.plot(pts[:, 0], pts[:, 1], "o", color=COLORS["data"], ms=ms, mec="white", mew=0.6,
                   ls="none", label="training points")


def colorbar(fig, mappable, label: str, **kw):
    """A colour bar that always says what its colours mean (``label`` must not be empty)."""
    if not str(label).strip():
        raise ValueError("a colour bar needs a label naming the quantity and its scale")
    return fig.colorbar(mappable, label=label, **kw)


def sweep_colour(i: int, n: int):
    """Colour ``i`` of ``n`` values of a swept parameter (viridis, light end avoided)."""
    return plt.cm.viridis(0.85 * i / max(1, n - 1))


def save_figure(fig, out_dir, name: str) -> list[Path]:
    """Write ``name.png`` and ``name.pdf`` into ``out_dir`` and close ``fig``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        p = out / f"{name}.{ext}"
        fig.savefig(p, metadata=_META[ext])
        paths.append(p)
    plt.close(fig)
    return paths


def save_arrays(path, arrays: dict) -> Path:
    """Write ``arrays`` to the ``.npz`` file ``path`` (parent folders created); return the path."""
    import numpy as np

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    np.savez(p, **arrays)
    return p
