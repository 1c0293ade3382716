"""theory-vs-ensemble / ablation / phase figures: data keys, shapes, determinism, registry."""

import numpy as np
import pytest

from gtv_symbolic.plots import figures
from gtv_symbolic.plots import theory_figs as tf


def _synthetic():
    """A small data dict with the structure of compute_theory_vs_ensemble (no training)."""
    rng = np.random.default_rng(0)
    x = np.linspace(-1.5, 1.5, 200)
    base = np.exp(-((x[:, None] - [-1, 0, 1]) ** 2) / 0.02).sum(1)
    d = {"x": x, "eps": np.array([1e-2]), "P": np.array([512, 64]), "F_eff": np.array([100.0]),
         "true": base[None], "pfode": base[None] + 0.1}
    for k in ("ensemble", "gaussian_field", "moment_matched", "semiclassical", "gf_half_a",
              "gf_half_b"):
        d[k] = base[None, None] + rng.uniform(0, 0.3, (1, 2, x.size))
    for k in ("skew", "kurt", "var_emp", "var_pred"):
        d[k] = rng.uniform(0.1, 1, (1, 2, 61, 5))
    d["trainvar_emp"] = d["trainvar_pred"] = np.ones((1, 2))
    d["x_ng"], d["t_ng"] = tf.X_NG, np.array([tf._t_ng(1e-2)])
    d.update(tf._summaries_1d(d, x))
    return d


def test_save_data_keys_exact(tmp_path):
    d = _synthetic()
    nx = d["x"].size
    paths = tf._save_details(tmp_path / "tve.npz", d, tf.MAIN_KEYS)
    with np.load(paths[0]) as f:
        assert sorted(f.files) == sorted(tf.MAIN_KEYS)
        assert f["ensemble"].shape == f["gaussian_field"].shape == (1, 2, nx)
        assert f["tv"].shape == (1, 2)
    with np.load(paths[1]) as f:
        assert "gap_ensemble" in f.files and "skew" in f.files
    assert np.all((d["tv"] >= 0) & (d["tv"] <= 1))
    assert "TV ensemble vs Gaussian field" in tf._table_tvs(d)


def test_plots_render_synthetic():
    import matplotlib.pyplot as plt

    figs = tf.plot_theory_vs_ensemble(_synthetic())
    assert set(figs) == {"theory_vs_ensemble", "theory_vs_ensemble_summary"}
    for f in figs.values():
        plt.close(f)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    d = tf.compute_theory_vs_ensemble(seed=3, n_models=6, cache_dir=cache, eps_list=(1e-2,),
                                      P_list=(512, 64), with_2d=False)
    return d, cache


def test_registered():
    reg = figures()
    for name in ("theory-vs-ensemble", "ablation", "phase"):
        assert name in reg
        assert reg[name].options == frozenset({"seed", "n_models", "quick", "no_cache"})


@pytest.mark.slow
def test_theory_vs_ensemble_keys_and_shapes(small, tmp_path):
    d, _ = small
    nE, nP, nx = 1, 2, d["x"].size
    for k in ("ensemble", "gaussian_field", "moment_matched", "semiclassical"):
        assert d[k].shape == (nE, nP, nx)
        mass = d[k].sum(-1) * (d["x"][1] - d["x"][0])
        np.testing.assert_allclose(mass, 1.0, rtol=1e-9)
    assert d["tv"].shape == (nE, nP)
    assert np.all((d["tv"] >= 0) & (d["tv"] <= 1))
    paths = tf._save_details(tmp_path / "tve.npz", d, tf.MAIN_KEYS)
    with np.load(paths[0]) as f:
        assert sorted(f.files) == sorted(tf.MAIN_KEYS)
        assert f["ensemble"].shape == f["gaussian_field"].shape == (nE, nP, nx)
        assert f["tv"].shape == (nE, nP)
    with np.load(paths[1]) as f:
        assert "gap_ensemble" in f.files and "skew" in f.files
    # the table renders
    assert "TV ensemble vs Gaussian field" in tf._table_tvs(d)


@pytest.mark.slow
def test_theory_vs_ensemble_deterministic(small):
    d, cache = small
    again = tf.compute_theory_vs_ensemble(seed=3, n_models=6, cache_dir=cache, eps_list=(1e-2,),
                                          P_list=(512, 64), with_2d=False, no_cache=True)
    for k in ("ensemble", "gaussian_field", "tv", "skew"):
        np.testing.assert_array_equal(again[k], d[k])


@pytest.mark.slow
def test_theory_vs_ensemble_plots(small, tmp_path):
    import matplotlib.pyplot as plt

    d, _ = small
    figs = tf.plot_theory_vs_ensemble(d)
    assert set(figs) == {"theory_vs_ensemble", "theory_vs_ensemble_summary"}
    for f in figs.values():
        plt.close(f)


def test_bad_n_models():
    with pytest.raises(ValueError, match="n_models must be"):
        tf.compute_theory_vs_ensemble(n_models=2, eps_list=(1e-2,), P_list=(64,), with_2d=False)


@pytest.mark.slow
def test_ablation_and_phase_quick(tmp_path):
    p = tf.ablation(tmp_path, save_data=tmp_path / "abl.npz", quick=True)
    assert any(str(x).endswith("ablation.png") for x in p)
    with np.load(tmp_path / "abl.npz") as f:
        # V collapses under J0
        assert np.all(f["trainvar_emp_true"] < 0.5 * f["trainvar_emp_proxy"])
    p = tf.phase(tmp_path, save_data=tmp_path / "phase.npz", quick=True)
    with np.load(tmp_path / "phase.npz") as f:
        assert f["tv_ens_pfode"].shape == (len(f["eps"]), len(f["ratio"]))
