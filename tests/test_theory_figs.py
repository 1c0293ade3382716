"""theory-vs-ensemble / ablation / phase figures: registry, CLI-level runs, saved keys."""

import numpy as np
import pytest

from gtv_symbolic.experiments import theory
from gtv_symbolic.plots import figures, save_data


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GTV_CACHE_DIR", str(tmp_path / "cache"))


def test_registered():
    reg = figures()
    for name in ("theory-vs-ensemble", "ablation", "phase"):
        assert name in reg
        assert reg[name].options == frozenset({"seed", "n_models", "quick", "no_cache"})


@pytest.fixture(scope="module")
def small():
    s = theory.Settings(eps=(1e-2,), P=(512, 64), n_models=6, with_2d=False, n_boot=30)
    return theory.run(s, cache=False)


@pytest.mark.slow
def test_theory_vs_ensemble_keys_and_shapes(small, tmp_path):
    d = small
    nx = d["x"].size
    for k in ("ensemble", "gaussian_field", "moment_matched", "semiclassical"):
        assert d[k].shape == (1, 2, nx)
        np.testing.assert_allclose(d[k].sum("x") * float(d["x"][1] - d["x"][0]), 1.0, rtol=1e-9)
    assert d["tv"].shape == (1, 2) and np.all((d["tv"] >= 0) & (d["tv"] <= 1))
    paths = save_data("theory-vs-ensemble", d, tmp_path / "tve.npz")
    with np.load(paths[0]) as f:
        assert sorted(f.files) == sorted(["x", "eps", "P", "ensemble", "gaussian_field", "tv",
                                          "tv_se"])
        assert f["tv"].shape == (1, 2)
    with np.load(paths[-1]) as f:
        assert "gap_mass_ensemble" in f.files and "skew" in f.files
    # Gaussian fields carry at most a third of the ensemble's Monte Carlo error
    assert np.all(d["mc_ratio"] <= 1 / 3 + 1e-12)


@pytest.mark.slow
def test_theory_vs_ensemble_deterministic(small):
    again = theory.run(theory.Settings(eps=(1e-2,), P=(512, 64), n_models=6, with_2d=False,
                                       n_boot=30), cache=False, workers=1)
    for k in ("ensemble", "gaussian_field", "tv", "tv_se", "skew"):
        np.testing.assert_array_equal(again[k].values, small[k].values)


def test_bad_n_models():
    with pytest.raises(ValueError, match="n_models must be"):
        theory.run(theory.Settings(n_models=2, eps=(1e-2,), P=(64,), with_2d=False))


@pytest.mark.slow
def test_ablation_and_phase_quick(tmp_path):
    reg = figures()
    p = reg["ablation"].func(tmp_path, save_data=tmp_path / "abl.npz", quick=True)
    assert any(str(x).endswith("ablation.png") for x in p)
    with np.load(tmp_path / "abl.npz") as f:
        # V collapses under J0 (target axis: proxy, true)
        assert np.all(f["trainvar_emp"][1] < 0.5 * f["trainvar_emp"][0])
    assert "N = 20 models" in (tmp_path / "ablation_table.md").read_text()
    reg["phase"].func(tmp_path, save_data=tmp_path / "phase.npz", quick=True)
    with np.load(tmp_path / "phase.npz") as f:
        assert f["tv_ens_pfode"].shape == (len(f["eps"]), len(f["ratio"]))
        assert f["gap_ens_se"].shape == f["gap_ens"].shape
