"""Figure 3's ``--normalisation``: ``paper`` normalises every x-column separately (as the paper's
``get_prob_from_samples``), ``density`` (the default) is the joint density, unchanged."""

import numpy as np
import pytest

from gtv_symbolic.experiments import fig3

EDGES = np.array([-1.0, 0.0, 1.0])  # two bins of width 1 per axis
# six samples (x, y): three at (-, -), one at (-, +), two at (+, +)
SAMPLES = np.array([[-0.5, -0.5]] * 3 + [[-0.5, 0.5]] + [[0.5, 0.5]] * 2)


def masses_of(samples):
    counts, _, _ = np.histogram2d(samples[:, 0], samples[:, 1], bins=(EDGES, EDGES))
    return (counts / len(samples))[None]  # one model; axis 1 is x, axis 2 is y


def test_paper_normalises_each_x_column_by_hand():
    got = fig3.average_density(masses_of(SAMPLES), EDGES, EDGES, "paper")
    # x < 0: 3 of 4 samples at y < 0; x > 0: both samples at y > 0
    np.testing.assert_allclose(got, [[3 / 4, 1 / 4], [0.0, 1.0]], atol=1e-15)
    # per-row normalisation (the other axis) would give a different answer
    assert not np.allclose(got, [[1.0, 1 / 3], [0.0, 2 / 3]])


def test_density_is_the_joint_density_by_hand():
    got = fig3.average_density(masses_of(SAMPLES), EDGES, EDGES)
    np.testing.assert_allclose(got, [[3 / 6, 1 / 6], [0.0, 2 / 6]], atol=1e-15)


def test_paper_empty_column_is_zero_and_models_are_averaged():
    a = masses_of(SAMPLES)
    b = masses_of(SAMPLES[:4])  # no sample at x > 0: that column stays 0
    got = fig3.average_density(np.concatenate([a, b]), EDGES, EDGES, "paper")
    np.testing.assert_allclose(got, [[3 / 4, 1 / 4], [0.0, 0.5]], atol=1e-15)


def test_bad_normalisation_is_named():
    with pytest.raises(ValueError, match="normalisation must be one of"):
        fig3.validate(fig3.Settings(normalisation="columns"))


def test_default_unchanged_and_paper_from_the_same_samples(tmp_path, monkeypatch):
    monkeypatch.setenv("GTV_CACHE_DIR", str(tmp_path / "cache"))
    assert fig3.Settings().normalisation == "density"
    kw = dict(features=("fourier",), thetas=(0.3,), n_x=3, n_t=3, P=20, n_models=1,
              n_samples=400, n_bins=12)
    dens = fig3.run(fig3.Settings(**kw), cache=False, workers=1)
    paper = fig3.run(fig3.Settings(**kw, normalisation="paper"), cache=False, workers=1)
    e = fig3.bin_edges(fig3.Settings(**kw))
    dx = dy = e[1] - e[0]
    p = dens["avg"].values[0, 0]
    assert p.sum() * dx * dy == pytest.approx(1.0, abs=1e-12)  # the joint density, as before
    col = p.sum(axis=1, keepdims=True) * dy  # with one model: paper = density / its column mass
    want = np.divide(p, col, out=np.zeros_like(p), where=col > 0)
    np.testing.assert_allclose(paper["avg"].values[0, 0], want, rtol=1e-12, atol=1e-12)
    assert paper.attrs["normalisation"] == "paper" and dens.attrs["normalisation"] == "density"
    assert '"normalisation": "paper"' in paper.attrs["settings"]


def test_xy_asymmetry_flips_sign_under_the_x_y_swap(rng):
    e = np.linspace(-1.5, 1.5, 7)
    m = rng.random((3, 6, 6))
    a = fig3.xy_asymmetry(m, e, e)
    np.testing.assert_allclose(fig3.xy_asymmetry(m.transpose(0, 2, 1), e, e), -a, atol=1e-15)
    assert np.all(np.abs(a) > 0) and np.all(np.abs(a) < 1)
