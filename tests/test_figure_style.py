"""Talk-ready figures: every registered figure, drawn at its saved size from a tiny run of its
experiment, has no text below 8 pt, a labelled colour bar for every colour map, legends in words
(no symbol codes), and the shared palette for the shared curves."""

import re

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.text  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from gtv_symbolic.experiments import (  # noqa: E402
    ablation,
    dimension,
    fig1,
    fig2,
    fig3,
    nn_vs_theory,
    phase,
    target_variance,
    theory,
)
from gtv_symbolic.plots import figures  # noqa: E402
from gtv_symbolic.plots.style import COLORS, MIN_FONT, style  # noqa: E402

# The smallest settings each experiment accepts that still draw every panel of its figure.
_1D = dict(n_x=4, n_t=4, n_bins=40)
TINY = {
    "fig1": (fig1, fig1.Settings(times=(0.1, 0.5), n_grid=12, datasets=("polygon", "line"))),
    "fig2": (fig2, fig2.Settings(eps=(1e-2, 1e-3), P=(32, 8), n_models=4, **_1D)),
    "fig3": (fig3, fig3.Settings(thetas=(0.0, 0.4), n_x=3, n_t=3, P=20, n_models=2,
                                 n_samples=200, n_bins=16)),
    "theory-vs-ensemble": (theory, theory.Settings(eps=(1e-2,), P=(32, 8), n_models=4, n_boot=10,
                                                   n_2d=2, P_2d=(16,), n_samples_2d=50, **_1D)),
    "ablation": (ablation, ablation.Settings(P=(32, 8), n_models=4, n_reps=2, kappas=(0.0, 0.5),
                                             em_samples=50, fp_steps=20, **_1D)),
    "phase": (phase, phase.Settings(eps=(1e-2, 1e-3), ratio=(0.5, 2), n_models=4, n_boot=10,
                                    **_1D)),
    "nn-vs-theory": (nn_vs_theory, nn_vs_theory.Settings(width=(4,), P=8, steps=1, lr=1e-3,
                                                         n_models=4, n_fields=2, n_bins=20,
                                                         n_boot=10, n_steps=3)),
    "target-variance": (target_variance, target_variance.Settings(
        n_draws=(1, 2), P=16, n_models=4, n_fields=3, n_boot=10, **_1D)),
    "dimension": (dimension, dimension.Settings(D=(1, 4), n_points=3, n_t=4, n_mc=20)),
}

#: legend/title codes the figures used to carry instead of words
OLD_CODES = re.compile(r"\((?:o|\^|s|:|x)\)|\bTVmm\b|\bGF\b|\bens\b")
WORD = re.compile(r"[^\W\d_]{3,}")


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GTV_CACHE_DIR", str(tmp_path / "cache"))


def test_every_registered_figure_is_covered():
    assert set(TINY) == set(figures())


@pytest.fixture(scope="module")
def drawn():
    """{figure name: {stem: Figure}}, drawn under the package style (as :func:`render` does)."""
    out = {}
    with style():
        for name, (mod, s) in TINY.items():
            result = mod.run(s, cache=False, workers=1)
            out[name] = figures()[name].draw(result)
            for fig in out[name].values():
                fig.canvas.draw()
    yield out
    import matplotlib.pyplot as plt

    plt.close("all")


def _hidden_axis_text(fig) -> set:
    """Tick and axis labels of axes that are switched off (they are never drawn)."""
    ids = set()
    for ax in fig.axes:
        if not ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                ids.update(id(t) for t in axis.get_ticklabels(which="both"))
                ids.add(id(axis.label))
    return ids


def visible_texts(fig) -> list:
    hidden = _hidden_axis_text(fig)
    return [t for t in fig.findobj(matplotlib.text.Text)
            if t.get_visible() and t.get_text().strip() and id(t) not in hidden]


def colorbars(fig) -> list:
    return [ax._colorbar for ax in fig.axes if getattr(ax, "_colorbar", None) is not None]


def legend_texts(fig) -> list:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return [t.get_text() for lg in legends for t in lg.get_texts()]


def _each(drawn):
    return [(f"{name}/{stem}", fig) for name, figs in drawn.items() for stem, fig in figs.items()]


def test_no_text_below_min_font(drawn):
    small = [(where, t.get_text()[:40], round(t.get_fontsize(), 1))
             for where, fig in _each(drawn) for t in visible_texts(fig)
             if t.get_fontsize() < MIN_FONT]
    assert not small, f"text below {MIN_FONT} pt: {small}"


def test_colour_maps_have_labelled_colour_bars(drawn):
    for where, fig in _each(drawn):
        images = [im for ax in fig.axes for im in ax.get_images()]
        bars = colorbars(fig)
        if images:
            assert bars, f"{where}: colour map without a colour bar"
        for cb in bars:
            assert cb.long_axis.get_label_text().strip(), f"{where}: colour bar without a label"


def test_legends_in_words(drawn):
    for where, fig in _each(drawn):
        for text in legend_texts(fig):
            assert WORD.search(text), f"{where}: legend entry without a word: {text!r}"
        for t in visible_texts(fig):
            assert not OLD_CODES.search(t.get_text()), f"{where}: code in {t.get_text()!r}"


def _line_colours(fig, label) -> set:
    return {to_rgba(ln.get_color()) for ax in fig.axes for ln in ax.get_lines()
            if ln.get_label() == label}


def test_shared_curves_share_colours(drawn):
    """Each shared curve has one legend label and one colour in every figure that draws it."""
    from gtv_symbolic.plots.style import LABELS

    seen = {}
    for where, fig in _each(drawn):
        for role, label in LABELS.items():
            for c in _line_colours(fig, label):
                seen.setdefault(role, set()).add(c)
                assert c == to_rgba(COLORS[role]), f"{where}: {label!r} drawn in {c}"
    # the key curves appear in several figures, so the check above is not empty
    for role in ("ensemble", "prediction", "pf_ode", "p_eps"):
        assert role in seen, f"no figure draws {LABELS[role]!r}"


def test_fig3_paper_normalisation_is_stated(drawn):
    """The colour-bar label says which normalisation and which colour scale the map uses."""
    with style():
        s = fig3.Settings(thetas=(0.0,), n_x=3, n_t=3, P=20, n_models=2, n_samples=200,
                          n_bins=16, features=("fourier",), normalisation="paper")
        fig = figures()["fig3"].draw(fig3.run(s, cache=False, workers=1))["fig3"]
    label = colorbars(fig)[0].long_axis.get_label_text()
    assert "column" in label and "linear" in label
    default = colorbars(drawn["fig3"]["fig3"])[0].long_axis.get_label_text()
    assert "joint" in default and "square-root" in default
    assert np.isfinite(fig.axes[1].get_images()[0].get_array()).all()
