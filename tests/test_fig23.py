"""Figures 2 and 3: data keys and shapes, normalisation, disk cache keyed by parameters, errors."""

import numpy as np
import pytest

from gtv_symbolic._runtime import cache as cache_mod
from gtv_symbolic.plots import fig2 as f2
from gtv_symbolic.plots import fig3 as f3
from gtv_symbolic.plots import figures


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache_mod.ENV_VAR, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_registered():
    reg = figures()
    assert {"fig2", "fig3"} <= set(reg)
    assert reg["fig2"].options == {"seed", "n_models", "n_samples", "quick", "no_cache"}


def test_fig2_data_and_cache(tmp_cache):
    kw = dict(n_models=3, eps_list=(1e-2,), P_list=(64, 256))
    d = f2.compute(seed=1, **kw)
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
    again = f2.compute(seed=1, **kw)  # served from the cache: identical
    for k in d:
        np.testing.assert_array_equal(d[k], again[k])
    assert sorted(tmp_cache.glob("*.npz")) == files
    other = f2.compute(seed=2, **kw)  # a changed parameter never reuses a stale entry
    assert len(list(tmp_cache.glob("*.npz"))) == 5
    assert not np.array_equal(other["avg"], d["avg"])
    fresh = f2.compute(seed=1, no_cache=True, **kw)  # bypass: recomputed, same bytes
    for k in d:
        assert d[k].tobytes() == fresh[k].tobytes()


def test_fig2_samples_mode_agrees_with_transport():
    """--n-samples draws actual samples; their histograms agree with the transport."""
    kw = dict(n_models=4, eps_list=(1e-2,), P_list=(128,))
    a = f2.compute(seed=3, **kw)
    b = f2.compute(seed=3, n_samples=50_000, **kw)
    dx = a["x"][1] - a["x"][0]
    # per bin: the mean of 4 histograms of 5e4 samples has sd sqrt(p/(4 * 5e4 * dx^2 ...))
    var = a["avg"] / (4 * 50_000 * dx)
    z = (b["avg"] - a["avg"]) / np.sqrt(np.maximum(var, 1e-12))
    ok = a["avg"] * dx * 4 * 50_000 > 20
    assert np.mean(z[ok] ** 2) < 1.5, np.mean(z[ok] ** 2)


def test_fig3_data(tmp_cache):
    d = f3.compute(seed=0, n_models=2, n_samples=500, features=("gaussian", "fourier"),
                   thetas=(0.0, np.pi / 4), n_train=60)
    assert set(d) == {"x", "y", "theta", "features", "avg"}
    assert d["avg"].shape == (2, 2, 200, 200)
    area = (d["x"][1] - d["x"][0]) * (d["y"][1] - d["y"][0])
    np.testing.assert_allclose(d["avg"].sum(axis=(-2, -1)) * area, 1.0, rtol=1e-9)
    assert list(d["features"]) == ["gaussian", "fourier"]
    again = f3.compute(seed=0, n_models=2, n_samples=500, features=("gaussian", "fourier"),
                       thetas=(0.0, np.pi / 4), n_train=60)
    assert again["avg"].tobytes() == d["avg"].tobytes()


def test_fig3_registered_writes_png_pdf_npz(tmp_path):
    out = tmp_path / "figs"
    paths = figures()["fig3"].func(out, save_data=tmp_path / "f3.npz", n_models=1,
                                   n_samples=200, no_cache=True)
    names = sorted(p.name for p in paths)
    assert names == ["f3.npz", "fig3.pdf", "fig3.png"]
    with np.load(tmp_path / "f3.npz") as z:
        assert z["avg"].shape == (2, 3, 200, 200)
        np.testing.assert_allclose(z["theta"], [0, np.pi / 8, np.pi / 4])


def test_plot_fig2_from_data(tmp_path):
    from gtv_symbolic.plots.style import save_figure, style

    d = f2.compute(seed=0, n_models=2, eps_list=(1e-2, 1e-3), P_list=(64,))
    with style():
        paths = save_figure(f2.plot(d), tmp_path, "fig2")
    assert all(p.stat().st_size > 1000 for p in paths)


def test_bad_input():
    with pytest.raises(ValueError, match=r"n_models \(N\) must be >= 1"):
        f2.compute(n_models=0, eps_list=(1e-2,), P_list=(64,))
    with pytest.raises(ValueError, match=r"P \(training samples\) must be >= 1"):
        f2.compute(n_models=1, eps_list=(1e-2,), P_list=(0,))
    with pytest.raises(ValueError, match=r"eps must lie in \(0, T\)"):
        f2.compute(n_models=1, eps_list=(0.0,), P_list=(64,))
    with pytest.raises(ValueError, match="n_samples must be >= 1"):
        f3.compute(n_models=1, n_samples=0)


@pytest.mark.slow
def test_fig2_quick_end_to_end(tmp_path):
    paths = figures()["fig2"].func(tmp_path, save_data=tmp_path / "f2.npz", quick=True)
    with np.load(tmp_path / "f2.npz") as z:
        assert z["avg"].shape == (3, 5, 200)
    assert (tmp_path / "fig2.png").exists() and len(paths) == 3


def test_worker_processes_give_identical_results():
    kw = dict(seed=4, n_models=2, eps_list=(1e-2,), P_list=(64, 128), no_cache=True)
    a = f2.compute(workers=1, **kw)
    b = f2.compute(workers=2, **kw)
    for k in a:
        assert a[k].tobytes() == b[k].tobytes()
    kw3 = dict(seed=1, n_models=1, n_samples=300, features=("fourier",), thetas=(0.0, 0.5),
               n_train=40, no_cache=True)
    assert f3.compute(workers=1, **kw3)["avg"].tobytes() == \
        f3.compute(workers=2, **kw3)["avg"].tobytes()
