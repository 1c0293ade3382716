"""Dimension sweep (issue 13): data, the naive-V identity, save-data keys, bad input."""

import numpy as np
import pytest

from gtv_symbolic import kernels, proxy, schedules
from gtv_symbolic.experiments import dimension as dm


def test_point_data():
    rng = np.random.default_rng(0)
    for kind in dm.DATASETS:
        for D in (1, 3, 40):
            mu = dm.point_data(kind, D, 16, rng)
            assert mu.shape == (min(16, 2**D) if kind == "cube" else 16, D)
            np.testing.assert_allclose(np.linalg.norm(mu, axis=1), 1.0)
    assert len({tuple(r) for r in dm.point_data("cube", 40, 16, rng)}) == 16


def test_trace_identities_match_production():
    """tr C and tr V_naive as computed in the sweep equal proxy.covariance / kernels.naive_V."""
    sched = schedules.VP()
    rng = np.random.default_rng(1)
    mu = dm.point_data("sphere", 3, 5, rng)
    x = rng.normal(size=(7, 3))
    t = np.full(7, 0.3)
    w = proxy.posterior_weights(x, t, mu, sched)
    m = w @ mu
    a, v2 = float(sched.alpha(0.3)), float(sched.sigma2(0.3))
    trC = a**2 / v2**2 * (w @ np.sum(mu**2, 1) - np.sum(m**2, 1))
    np.testing.assert_allclose(trC, np.trace(proxy.covariance(x, t, mu, sched), axis1=1, axis2=2),
                               rtol=1e-9)
    nv = np.trace(kernels.naive_V(x, t, mu, sched, 1.0), axis1=1, axis2=2)
    np.testing.assert_allclose(float(sched.D(0.3)) ** 2 * trC, nv, rtol=1e-9)


def test_save_data_keys_and_bad_input(tmp_path):
    from gtv_symbolic import plots

    r = dm.run(dm.Settings(D=(1, 2, 8), n_t=6, n_mc=200), cache=False, workers=1)
    z = np.load(plots.save_data("dimension", r, tmp_path / "d.npz")[0])
    assert z["data"].tolist() == ["sphere", "cube"]
    assert z["frac_R"].shape == (2, 3, 6) and z["t_half"].shape == (2, 3)
    assert np.all((z["frac_R"] >= 0) & (z["frac_R"] <= 1))
    # a cell with no draw where R > 1/2 is reported by its 95 % upper bound, never 0 +- 0
    from gtv_symbolic.plots.dimension import table

    r["frac_R"][:, -1] = 0.0
    r["frac_R_se"][:, -1] = 0.0
    rows = [ln for ln in table(r).splitlines() if ln.startswith("| sphere | 8 ")]
    assert len(rows) == 1 and "< 0.015 (none of 200 draws at any t)" in rows[0]
    assert "0.000 ± 0.000" not in table(r)
    with pytest.raises(ValueError, match="D"):
        dm.run(dm.Settings(D=(0,)), cache=False)
    with pytest.raises(ValueError, match="data"):
        dm.run(dm.Settings(data=("torus",)), cache=False)
