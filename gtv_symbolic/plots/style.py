"""Package figure style (sizes in inches, embeddable fonts) and reproducible saving."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLE = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "figure.dpi": 150,
    "savefig.dpi": 150,
    "image.cmap": "viridis",
}

# Fixed metadata so that the same arrays give the same bytes.
_META = {
    "png": {"Software": "gtv_symbolic"},
    "pdf": {"Creator": "gtv_symbolic", "Producer": "gtv_symbolic", "CreationDate": None},
}


@contextmanager
def style():
    with plt.rc_context(STYLE):
        yield


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
