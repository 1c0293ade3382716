import json
import subprocess
import sys

import numpy as np
import pytest

from gtv_symbolic import cli, data, proxy, schedules
from gtv_symbolic.experiments import fig1 as fig1_mod


def test_fig1_command_writes_figure_and_data(tmp_path):
    npz = tmp_path / "fig1.npz"
    assert cli.main(["figures", "fig1", "--out", str(tmp_path), "--save-data", str(npz), "--quiet"]) == 0
    assert (tmp_path / "fig1.png").stat().st_size > 10_000
    assert (tmp_path / "fig1.pdf").exists()
    d = np.load(npz)
    assert json.loads(npz.with_suffix(".json").read_text())["settings"]["n_grid"] == 100
    assert set(d.files) == {"x", "y", "t", "polygon", "lshape", "line", "random"}
    np.testing.assert_allclose(d["t"], [0.05, 0.1, 0.2, 0.5, 0.75])
    np.testing.assert_allclose(d["x"], np.linspace(-2, 2, 100))
    for name in ("polygon", "lshape", "line", "random"):
        assert d[name].shape == (5, 100, 100)
        assert np.all((d[name] >= 0) & (d[name] <= 1))
    # the saved arrays are the package's formula at those points
    i, j, k = 13, 71, 2
    pt = np.array([d["x"][i], d["y"][j]])
    ref = proxy.variance_ratio(pt, d["t"][k], data.lshape(), schedules.Fig1())
    assert d["lshape"][k, i, j] == pytest.approx(float(ref), rel=1e-12)


def test_fig1_png_bytes_are_reproducible(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for out in (a, b):
        cli.main(["figures", "fig1", "--out", str(out), "--quiet"])
    assert (a / "fig1.png").read_bytes() == (b / "fig1.png").read_bytes()
    assert (a / "fig1.pdf").read_bytes() == (b / "fig1.pdf").read_bytes()


def test_fig1_structure_boundaries_vs_points():
    """Small t: R is large on the Voronoi edge between neighbours, small near the points."""
    arr = fig1_mod.run(fig1_mod.Settings(times=(0.05,), n_grid=41))
    x = arr["x"].values
    poly = arr["R"].sel(dataset="polygon").values[0]
    i0 = np.argmin(np.abs(x - 0.0))
    j_mid = np.argmin(np.abs(x - 0.0))  # centre of the hexagon: all six posteriors equal
    assert poly[i0, j_mid] > 0.9
    i1 = np.argmin(np.abs(x - 1.1))  # just outside the point (1, 0), away from any edge
    assert poly[i1, j_mid] < 0.05


def test_unsupported_option_and_unknown_figure(tmp_path, capsys):
    assert cli.main(["figures", "fig1", "--n-models", "5", "--out", str(tmp_path)]) == 2
    assert "--n-models is not used by this figure" in capsys.readouterr().err
    assert cli.main(["figures", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown figure 'nope'" in capsys.readouterr().err
    try:  # rejected at parse time (argparse exits) or before any computation (exit 2)
        rc = cli.main(["figures", "fig2", "--n-models", "0", "--out", str(tmp_path)])
    except SystemExit as exc:
        rc = exc.code
    assert rc == 2 and "n-models" in capsys.readouterr().err.replace("_", "-")


def test_list_and_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "gtv_symbolic", "figures", "--list"],
                         capture_output=True, text=True, check=True).stdout
    assert "fig1" in out


def test_compute_rejects_bad_times():
    with pytest.raises(ValueError, match=r"times must lie in"):
        fig1_mod.run(fig1_mod.Settings(times=(0.5, 1.0)))
