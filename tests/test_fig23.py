"""Figures 2 and 3: data keys and shapes, normalisation, disk cache keyed by parameters, errors."""

import dataclasses

import numpy as np
import pytest

from gtv_symbolic._runtime import cache as cache_mod
from gtv_symbolic.experiments import fig2 as f2
from gtv_symbolic.experiments import fig3 as f3
from gtv_symbolic.plots import figures, render


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache_mod.ENV_VAR, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _s2(**kw):
    return dataclasses.replace(f2.Settings(), **kw)


def test_registered():
    reg = figures()
    assert {"fig2", "fig3"} <= set(reg)
    assert reg["fig2"].options == {"seed", "n_models", "n_samples", "quick", "no_cache"}


def test_fig2_data_and_cache(tmp_cache):
    kw = dict(n_models=3, eps=(1e-2,), P=(64, 256))
    d = f2.npz_arrays(f2.run(_s2(seed=1, **kw), workers=1))
    assert set(d) == {"x", "eps", "P", "avg", "q25", "q75", "true", "pfode"}
    assert d["avg"].shape == (1, 2, 200) and d["q25"].shape == d["q75"].shape == (1, 2, 200)
    assert d["true"].shape == d["pfode"].shape == (1, 200)
    dx = d["x"][1] - d["x"][0]
    np.testing.assert_allclose(d["avg"].sum(-1) * dx, 1.0, rtol=1e-9)  # density=True semantics
    np.testing.assert_allclose(d["pfode"].sum(-1) * dx, 1.0, rtol=1e-9)
    assert np.all(d["q25"] <= d["q75"])
    assert abs(d["true"].sum() * dx - 1) < 1e-6
    files = sorted(tmp_cache.glob("*.npz"))
    assert len(files) == 3  # two panels + the exact-score curve
    again = f2.npz_arrays(f2.run(_s2(seed=1, **kw), workers=1))  # served from the cache
    for k in d:
        np.testing.assert_array_equal(d[k], again[k])
    assert sorted(tmp_cache.glob("*.npz")) == files
    other = f2.npz_arrays(f2.run(_s2(seed=2, **kw), workers=1))  # a changed parameter
    assert len(list(tmp_cache.glob("*.npz"))) == 5
    assert not np.array_equal(other["avg"], d["avg"])
    fresh = f2.npz_arrays(f2.run(_s2(seed=1, **kw), cache=False, workers=1))  # recomputed
    for k in d:
        assert d[k].tobytes() == fresh[k].tobytes()


def test_fig2_samples_mode_agrees_with_transport():
    """n_samples draws actual samples; their histograms agree with the transport."""
    kw = dict(n_models=4, eps=(1e-2,), P=(128,), seed=3)
    a = f2.run(_s2(**kw), workers=1)["avg"].values
    b = f2.run(_s2(n_samples=50_000, **kw), workers=1)["avg"].values
    x = f2.bin_grid(f2.Settings())[0]
    dx = x[1] - x[0]
    # per bin: the mean of 4 histograms of 5e4 samples has variance ~ p / (4 * 5e4 * dx)
    var = a / (4 * 50_000 * dx)
    z = (b - a) / np.sqrt(np.maximum(var, 1e-12))
    ok = a * dx * 4 * 50_000 > 20
    assert np.mean(z[ok] ** 2) < 1.5, np.mean(z[ok] ** 2)


def _s3(**kw):
    return dataclasses.replace(f3.Settings(), **kw)


def test_fig3_data(tmp_cache):
    s = _s3(n_models=2, n_samples=500, thetas=(0.0, np.pi / 4), P=60)
    d = f3.npz_arrays(f3.run(s, workers=1))
    assert set(d) == {"x", "y", "theta", "features", "avg"}
    assert d["avg"].shape == (2, 2, 200, 200)
    area = (d["x"][1] - d["x"][0]) * (d["y"][1] - d["y"][0])
    np.testing.assert_allclose(d["avg"].sum(axis=(-2, -1)) * area, 1.0, rtol=1e-9)
    assert list(d["features"]) == ["gaussian", "fourier"]
    again = f3.run(s, workers=1)
    assert again["avg"].values.tobytes() == d["avg"].tobytes()


def test_fig3_registered_writes_png_pdf_npz(tmp_path):
    out = tmp_path / "figs"
    paths = figures()["fig3"].func(out, save_data=tmp_path / "f3.npz", n_models=1,
                                   n_samples=200, no_cache=True)
    names = sorted(p.name for p in paths)
    assert names == ["f3.json", "f3.npz", "fig3.pdf", "fig3.png"]
    with np.load(tmp_path / "f3.npz") as z:
        assert z["avg"].shape == (2, 3, 200, 200)
        np.testing.assert_allclose(z["theta"], [0, np.pi / 8, np.pi / 4])


def test_plot_fig2_from_data(tmp_path):
    r = f2.run(_s2(n_models=2, eps=(1e-2, 1e-3), P=(64,)), workers=1)
    paths = render("fig2", r, tmp_path)
    assert all(p.stat().st_size > 1000 for p in paths)


def test_bad_input():
    with pytest.raises(ValueError, match=r"n_models must be in \[1, "):
        f2.run(_s2(n_models=0, eps=(1e-2,), P=(64,)))
    with pytest.raises(ValueError, match=r"P \(training samples\) must be in \[1, "):
        f2.run(_s2(n_models=1, eps=(1e-2,), P=(0,)))
    with pytest.raises(ValueError, match=r"eps must lie in \(0, T\)"):
        f2.run(_s2(n_models=1, eps=(0.0,), P=(64,)))
    with pytest.raises(ValueError, match=r"n_samples must be in \[1, "):
        f3.run(_s3(n_models=1, n_samples=0))


@pytest.mark.slow
def test_fig2_quick_end_to_end(tmp_path):
    paths = figures()["fig2"].func(tmp_path, save_data=tmp_path / "f2.npz", quick=True)
    with np.load(tmp_path / "f2.npz") as z:
        assert z["avg"].shape == (3, 5, 200)
    assert (tmp_path / "fig2.png").exists() and len(paths) == 4


def test_worker_processes_give_identical_results():
    s = _s2(seed=4, n_models=2, eps=(1e-2,), P=(64, 128))
    a = f2.run(s, cache=False, workers=1)
    b = f2.run(s, cache=False, workers=2)
    for k in a.data_vars:
        assert a[k].values.tobytes() == b[k].values.tobytes()
    s3 = _s3(seed=1, n_models=1, n_samples=300, features=("fourier",), thetas=(0.0, 0.5), P=40)
    assert f3.run(s3, cache=False, workers=1)["avg"].values.tobytes() == \
        f3.run(s3, cache=False, workers=2)["avg"].values.tobytes()
