"""Experiments layer: paper defaults, tiny runs, determinism, saving, bad input."""

import dataclasses
import json

import numpy as np
import pytest
import xarray as xr

from gtv_symbolic import experiments as ex
from gtv_symbolic.experiments import _common, fig1, fig2, fig3, stats
from gtv_symbolic.plots import figures, render, save_data

TINY2 = fig2.Settings(eps=(1e-2,), P=(32, 64), n_models=3, n_x=4, n_t=4)


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GTV_CACHE_DIR", str(tmp_path / "cache"))


def test_registry_names_and_settings_help():
    assert set(ex.REGISTRY) == {"fig1", "fig2", "fig3", "theory-vs-ensemble", "ablation", "phase"}
    assert set(figures()) == set(ex.REGISTRY)
    for name, mod in ex.REGISTRY.items():
        assert ex.get(name) is mod
        s = mod.Settings()
        with pytest.raises(dataclasses.FrozenInstanceError):
            s.__setattr__(dataclasses.fields(s)[0].name, None)
        for f in dataclasses.fields(s):
            assert f.metadata.get("help"), (name, f.name)
        assert isinstance(mod.QUICK, mod.Settings)
    with pytest.raises(ValueError, match="experiment must be one of"):
        ex.get("fig9")


def test_defaults_are_the_papers_parameters():
    s = fig2.Settings()
    assert s.eps == (1e-2, 1e-3, 1e-4) and s.P == (1024, 512, 256, 128, 64)
    assert (s.n_x, s.n_t, s.n_models, s.ridge, s.n_steps) == (16, 16, 100, 0.1, 30)
    assert s.features == "gaussian" and s.schedule == "VP" and s.n_samples is None
    assert s.data == ((-1.0,), (0.0,), (1.0,)) and s.n_bins == 200 and s.x_range == (-1.5, 1.5)
    s3 = fig3.Settings()
    assert (s3.n_x, s3.n_t, s3.P, s3.n_models, s3.n_samples, s3.eps) == (10, 10, 500, 100,
                                                                        100_000, 1e-2)
    assert s3.features == ("gaussian", "fourier")
    np.testing.assert_allclose(s3.thetas, (0, np.pi / 8, np.pi / 4))
    np.testing.assert_array_equal(fig3.points(4, 0.3), ex.fig3.points(4, 0.3))
    from gtv_symbolic import data
    np.testing.assert_array_equal(fig3.points(4, np.pi / 8), data.square(np.pi / 8))
    s1 = fig1.Settings()
    assert s1.times == (0.05, 0.1, 0.2, 0.5, 0.75) and s1.n_grid == 100 and s1.extent == 2.0
    # the derived experiments share Fig. 2's parameters (one definition)
    st = ex.theory.Settings()
    assert all(getattr(st, k) == getattr(s, k) for k in ("eps", "P", "n_x", "ridge", "seed"))


def test_fig2_tiny_dataset_and_determinism():
    a = fig2.run(TINY2, cache=False, workers=1)
    assert a["avg"].dims == ("eps", "P", "x") and a["density"].dims == ("eps", "P", "model", "x")
    assert a["weights"].shape == (1, 2, 3, 16)
    dx = float(a["x"][1] - a["x"][0])
    np.testing.assert_allclose(a["avg"].sum("x") * dx, 1.0, rtol=1e-9)
    assert json.loads(a.attrs["settings"])["P"] == [32, 64] and a.attrs["seed"] == 0
    assert "version" in a.attrs
    b = fig2.run(TINY2, cache=False, workers=2)  # worker count does not matter
    xr.testing.assert_identical(a, b)
    c = fig2.run(TINY2, 7, cache=False, workers=1)
    assert c.attrs["seed"] == 7 and not np.array_equal(c["avg"], a["avg"])


def test_fig2_non_default_settings_render(tmp_path):
    s = fig2.Settings(eps=(1e-2, 1e-3), P=(64,), features="fourier", n_models=2, schedule="VE",
                      data=((-1.0,), (-0.2,), (1.0,)), n_x=4, n_t=4)
    r = fig2.run(s, cache=False, workers=1)
    assert r["avg"].shape == (2, 1, 200)
    paths = render("fig2", r, tmp_path)
    assert sorted(p.name for p in paths) == ["fig2.pdf", "fig2.png"]


def test_npz_keys_and_sidecar(tmp_path):
    r = fig2.run(TINY2, cache=False, workers=1)
    paths = save_data("fig2", r, tmp_path / "f2.npz")
    with np.load(paths[0]) as z:
        assert sorted(z.files) == sorted(["x", "eps", "P", "avg", "q25", "q75", "true", "pfode"])
        np.testing.assert_array_equal(z["avg"], r["avg"].values)
    side = json.loads((tmp_path / "f2.json").read_text())
    assert {"settings", "seed", "version"} <= set(side)
    assert side["settings"]["P"] == [32, 64] and side["seed"] == 0
    assert _common.read_sidecar(paths[0]) == side
    r1 = fig1.run(fig1.Settings(times=(0.1, 0.5), n_grid=8))
    save_data("fig1", r1, tmp_path / "f1.npz")
    with np.load(tmp_path / "f1.npz") as z:
        assert sorted(z.files) == sorted(["x", "y", "t", "polygon", "lshape", "line", "random"])
        assert z["polygon"].shape == (2, 8, 8)
    assert json.loads((tmp_path / "f1.json").read_text())["seed"] is None


def test_netcdf_round_trip(tmp_path):
    r = fig2.run(TINY2, cache=False, workers=1)
    p = _common.to_netcdf(r, tmp_path / "f2.nc")
    back = xr.load_dataset(p, engine="scipy")
    for k in ("avg", "density", "weights", "true"):
        np.testing.assert_array_equal(back[k].values, r[k].values)
    np.testing.assert_array_equal(back["P"].values, r["P"].values)
    assert back.attrs["settings"] == r.attrs["settings"]
    assert int(back.attrs["seed"]) == 0


def test_fig3_tiny():
    s = fig3.Settings(features=("gaussian",), thetas=(0.0, 0.4), n_x=3, n_t=3, P=30, n_models=2,
                      n_samples=200, n_bins=20)
    r = fig3.run(s, cache=False, workers=1)
    assert r["avg"].dims == ("features", "theta", "x", "y") and r["avg"].shape == (1, 2, 20, 20)
    area = float((r["x"][1] - r["x"][0]) ** 2)
    np.testing.assert_allclose(r["avg"].sum(("x", "y")) * area, 1.0, rtol=1e-9)
    xr.testing.assert_identical(r, fig3.run(s, cache=False, workers=1))


def test_fig1_matches_proxy():
    from gtv_symbolic import data, proxy, schedules
    r = fig1.run(fig1.Settings(times=(0.2,), n_grid=9, datasets=("lshape",)))
    x = r["x"].values
    ref = proxy.variance_ratio(np.array([x[2], x[7]]), 0.2, data.lshape(), schedules.Fig1())
    assert float(r["R"].values[0, 0, 2, 7]) == pytest.approx(float(ref), rel=1e-12)


@pytest.mark.parametrize("mod, change, match", [
    (fig2, dict(n_models=0), "n_models must be in"),
    (fig2, dict(P=(0,)), r"P \(training samples\) must be in"),
    (fig2, dict(eps=(0.0,)), "eps must lie in"),
    (fig2, dict(features="wavelet"), "features must be one of"),
    (fig2, dict(schedule="XX"), "schedule must be one of"),
    (fig2, dict(data=((0.0, 1.0),)), "data must be finite 1-D points"),
    (fig2, dict(ridge=-1.0), "ridge must be finite and > 0"),
    (fig2, dict(n_samples=0), "n_samples must be in"),
    (fig3, dict(n_samples=0), "n_samples must be in"),
    (fig3, dict(features=("x",)), "features must be one of"),
    (fig1, dict(n_grid=1), "n_grid must be in"),
    (fig1, dict(datasets=("moon",)), "datasets must be a non-empty subset"),
])
def test_bad_settings_name_the_argument(mod, change, match):
    with pytest.raises(ValueError, match=match):
        mod.run(dataclasses.replace(mod.Settings(), **change), cache=False, workers=1)


def test_bad_rng_and_replace_settings():
    with pytest.raises(TypeError, match="rng must be"):
        fig2.run(TINY2, rng="seed", cache=False)
    with pytest.raises(TypeError, match="has no field 'nope'"):
        _common.replace_settings(TINY2, nope=1)
    s = _common.replace_settings(TINY2, P=[8, 16], eps=1e-3, data=[[0.0], [1.0]])
    assert s.P == (8, 16) and s.eps == (1e-3,) and s.data == ((0.0,), (1.0,))


def test_stats_gap_region_and_errors():
    x = np.linspace(-1.5, 1.5, 301)
    g = stats.gap_region([[-1.0], [0.0], [1.0]], x)
    np.testing.assert_array_equal(g, (np.abs(x) >= 0.25) & (np.abs(x) <= 0.75))
    g2 = stats.gap_region([[-1.0], [-0.2], [1.0]], x)
    assert g2[np.argmin(np.abs(x - 0.4))] and not g2[np.argmin(np.abs(x - (-0.2)))]
    sq = np.array([[1.0, 0], [0, 1], [-1, 0], [0, -1]])
    c = np.linspace(-1.5, 1.5, 31)
    m = stats.gap_region(sq, c, c)
    assert m[np.argmin(np.abs(c - 0.5)), np.argmin(np.abs(c - 0.5))]  # edge midpoint
    assert not m[15, 15]  # the centre is not between neighbours (diagonals are not edges)
    with pytest.raises(ValueError, match="margin must lie in"):
        stats.gap_region(sq, c, c, margin=0.6)
    with pytest.raises(ValueError, match="grid must give 2"):
        stats.gap_region(sq, c)
    rng = np.random.default_rng(0)
    v = rng.normal(size=4000)
    m_, se = stats.mean_se(v)
    assert abs(se - 1 / np.sqrt(4000)) < 0.1 / np.sqrt(4000)
    # bootstrap se of TV between two equal-law ensembles ~ the spread over fresh ensembles
    a = rng.dirichlet(np.ones(10) * 5, size=(200, 2))
    tvs = [stats.tv(rng.dirichlet(np.ones(10) * 5, 50).mean(0),
                    rng.dirichlet(np.ones(10) * 5, 50).mean(0)) for _ in range(200)]
    _, se_b = stats.bootstrap_tv(a[:50, 0], a[:50, 1], n_boot=300, rng=rng)
    assert 0.5 * np.std(tvs) < se_b < 2 * np.std(tvs)


def test_validate_every_experiment_before_computing():
    for mod in ex.REGISTRY.values():
        mod.validate(mod.Settings())
        mod.validate(mod.QUICK)
    bad = [(ex.theory, dict(P_2d=(0,)), "P_2d must be in"),
           (ex.theory, dict(eps=(2.0,)), "eps must lie in"),
           (ex.ablation, dict(kappas=(-1.0,)), "kappas and em_kappa must be finite"),
           (ex.phase, dict(ratio=(0.0,)), r"ratio \(F/P\) values must be finite and > 0"),
           (ex.phase, dict(features="nope"), "features must be one of"),
           (fig1, dict(times=(1.5,)), "times must lie in")]
    for mod, change, match in bad:
        with pytest.raises(ValueError, match=match):
            mod.validate(dataclasses.replace(mod.Settings(), **change))
