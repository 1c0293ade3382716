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

#: matplotlib ``rcParams`` of every package figure (TrueType fonts in PDFs, 8-10 pt text)
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
    """Context in which the package's figures are drawn (:data:`STYLE`).

    No formula: infrastructure. Inside the ``with`` block matplotlib uses :data:`STYLE`; the
    previous ``rcParams`` come back on exit.

    Returns
    -------
    contextlib.AbstractContextManager
        A context manager (from :func:`matplotlib.pyplot.rc_context`) yielding ``None``.

    Examples
    --------
    >>> import matplotlib
    >>> with style():
    ...     matplotlib.rcParams["font.size"], matplotlib.rcParams["pdf.fonttype"]
    (9.0, 42)
    """
    with plt.rc_context(STYLE):
        yield


def curve(ax, x, y, role: str, label: str | None = None, **kw):
    """Plot ``y(x)`` in the colour, line style and legend label of a shared role.

    No formula: infrastructure. The curves several figures share (ensemble, prediction,
    PF-ODE, ``p(x | eps)``, ...) are drawn through this function so that each role has one
    colour (:data:`COLORS`), line style (:data:`LINES`) and label (:data:`LABELS`) everywhere.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes to draw into.
    x, y : array_like, shape (n,)
        Abscissae and values, passed to :meth:`~matplotlib.axes.Axes.plot`.
    role : str
        A key of :data:`LINES`: ``"ensemble"``, ``"prediction"``, ``"pf_ode"``, ``"p_eps"``,
        ``"mean_model"`` or ``"moment_matched"``.
    label : str or None, default None
        Legend label; None uses ``LABELS[role]``.
    **kw
        Further :meth:`~matplotlib.axes.Axes.plot` options; they override the role's style.

    Returns
    -------
    list of matplotlib.lines.Line2D
        The drawn line (what ``ax.plot`` returns).

    Raises
    ------
    ValueError
        If ``role`` is not a key of :data:`LINES`.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> (line,) = curve(ax, [0, 1], [1, 2], "prediction")
    >>> line.get_label(), line.get_color(), line.get_linestyle()
    ('Gaussian-field prediction (V-kernel)', '#1f5fa8', '--')
    >>> curve(ax, [0, 1], [1, 2], "model")
    Traceback (most recent call last):
    ...
    ValueError: role must be one of [...], got 'model'
    """
    if role not in LINES:
        raise ValueError(f"role must be one of {list(LINES)}, got {role!r}")
    opts = dict(LINES[role], color=COLORS[role], label=LABELS[role] if label is None else label)
    opts.update(kw)
    return ax.plot(x, y, **opts)


def data_points(ax, pts, ms: float = 5.0):
    """Training points ``pts[:, :2]`` as markers in the data colour.

    No formula: infrastructure. Draws round markers in ``COLORS["data"]`` with a white edge,
    labelled ``"training points"``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axes to draw into.
    pts : array_like, shape (n, d), d >= 2
        Points; columns 0 and 1 are the horizontal and vertical coordinates.
    ms : float, default 5.0
        Marker size in points.

    Returns
    -------
    list of matplotlib.lines.Line2D
        The marker line.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().add_subplot()
    >>> (pts,) = data_points(ax, [[0.0, 1.0], [1.0, 0.0]])
    >>> pts.get_xdata().tolist(), pts.get_label()
    ([0.0, 1.0], 'training points')
    """
    import numpy as np

    pts = np.asarray(pts)
    return ax.plot(pts[:, 0], pts[:, 1], "o", color=COLORS["data"], ms=ms, mec="white", mew=0.6,
                   ls="none", label="training points")


def colorbar(fig, mappable, label: str, **kw):
    """A colour bar that always says what its colours mean (``label`` must not be empty).

    No formula: infrastructure. Every colour map of a package figure gets its colour bar from
    here, so none is unlabelled.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Figure that holds the colour bar.
    mappable : matplotlib.cm.ScalarMappable
        The image (or other mappable) whose colour scale is shown.
    label : str
        Non-empty label naming the quantity and its scale.
    **kw
        Further :meth:`~matplotlib.figure.Figure.colorbar` options (``ax``, ``cax``, ``shrink``).

    Returns
    -------
    matplotlib.colorbar.Colorbar

    Raises
    ------
    ValueError
        If ``label`` is empty or only white space.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> fig = Figure()
    >>> ax = fig.add_subplot()
    >>> im = ax.imshow([[0.0, 1.0], [0.5, 0.2]])
    >>> colorbar(fig, im, "density (linear scale)").ax.get_ylabel()
    'density (linear scale)'
    >>> colorbar(fig, im, " ")
    Traceback (most recent call last):
    ...
    ValueError: a colour bar needs a label naming the quantity and its scale
    """
    if not str(label).strip():
        raise ValueError("a colour bar needs a label naming the quantity and its scale")
    return fig.colorbar(mappable, label=label, **kw)


def sweep_colour(i: int, n: int):
    r"""Colour ``i`` of ``n`` values of a swept parameter (viridis, light end avoided).

    The ``n`` values are spread evenly over the first 85 % of the viridis map (its light
    yellow end is hard to see on white):

    .. math:: c_i = \mathrm{viridis}\!\left(\frac{0.85\, i}{\max(1,\, n - 1)}\right),
              \qquad i = 0, \dots, n - 1.

    Parameters
    ----------
    i : int
        Index of the value, ``0 <= i < n``.
    n : int
        Number of swept values, ``n >= 1``.

    Returns
    -------
    tuple of float
        RGBA colour, each entry in [0, 1].

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> sweep_colour(0, 3) == plt.cm.viridis(0.0), sweep_colour(2, 3) == plt.cm.viridis(0.85)
    (True, True)
    """
    return plt.cm.viridis(0.85 * i / max(1, n - 1))


def save_figure(fig, out_dir, name: str) -> list[Path]:
    """Write ``name.png`` and ``name.pdf`` into ``out_dir`` and close ``fig``.

    No formula: infrastructure. ``out_dir`` is created when missing; fixed file metadata (no
    creation date) make the same figure give the same bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Figure to save; it is closed afterwards.
    out_dir : str or os.PathLike
        Output folder.
    name : str
        File stem, without extension.

    Returns
    -------
    list of pathlib.Path
        ``[out_dir/name.png, out_dir/name.pdf]``.

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib.pyplot as plt
    >>> fig = plt.figure(figsize=(1, 1))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [p.name for p in save_figure(fig, tmp, "demo")]
    ['demo.png', 'demo.pdf']
    """
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
    """Write ``arrays`` to the ``.npz`` file ``path`` (parent folders created); return the path.

    No formula: infrastructure (:func:`numpy.savez`, uncompressed).

    Parameters
    ----------
    path : str or os.PathLike
        Target file; NumPy appends ``.npz`` when the name lacks it.
    arrays : dict of str to array_like
        The arrays, stored under their keys.

    Returns
    -------
    pathlib.Path
        ``path`` as given.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = save_arrays(Path(tmp) / "sub" / "a.npz", {"x": np.arange(3)})
    ...     sorted(np.load(p)), p.name
    (['x'], 'a.npz')
    """
    import numpy as np

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    np.savez(p, **arrays)
    return p
