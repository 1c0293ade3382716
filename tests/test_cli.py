"""CLI on the real figures: unwritable outputs fail first (exit 2), Ctrl-C (exit 130), cache commands."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gtv_symbolic import cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_compute(monkeypatch, tmp_path):
    """Fail the test if any figure computation starts; run in a clean folder."""
    def boom(*a, **k):
        raise AssertionError("computation started before the output check")

    monkeypatch.setattr(cli, "_run_plan", boom)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GTV_CACHE_DIR", raising=False)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    return blocker


@pytest.mark.parametrize("argv, what", [
    (["figures", "fig1", "--out", "{b}/sub"], "--out"),
    (["figures", "fig2", "--save-data", "{b}/x/fig2.npz"], "--save-data"),
    (["figures", "all", "--save-data", "{b}/data"], "--save-data"),
    (["reproduce", "--derivations-out", "{b}/der"], "--derivations-out"),
    (["reproduce", "--out", "{b}/figs"], "--out"),
    (["derive", "all", "--out", "{b}/der"], "--out"),
    (["figures", "fig1", "--out", "{b}"], "--out"),
])
def test_unwritable_output_exits_2_before_computing(no_compute, argv, what, capsys):
    code = cli.main([a.format(b=no_compute) for a in argv])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("gtv: error: ") and what in err and "Traceback" not in err


def test_unwritable_cache_dir_exits_2(no_compute, monkeypatch, capsys):
    monkeypatch.setenv("GTV_CACHE_DIR", str(no_compute / "cache"))
    assert cli.main(["figures", "fig2", "--n-models", "2"]) == 2
    assert "$GTV_CACHE_DIR" in capsys.readouterr().err
    # --no-cache does not need the cache folder
    monkeypatch.setattr(cli, "_run_plan", lambda *a, **k: None)
    assert cli.main(["figures", "fig2", "--n-models", "2", "--no-cache", "--quiet"]) == 0


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores chmod")
def test_read_only_out_exits_2(no_compute, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    try:
        assert cli.main(["figures", "fig1", "--out", str(ro)]) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        os.chmod(ro, 0o755)


@pytest.mark.parametrize("argv, msg", [
    (["figures", "fig2", "--seed", "-1"], "--seed must be an integer in [0,"),
    (["figures", "fig2", "--n-models", "0"], "--n-models must be an integer"),
    (["figures", "fig2", "--workers", "1000"], "--workers must be an integer in [1, 256]"),
    (["figures", "fig1", "--n-models", "3"], "unrecognized arguments"),
    (["figures", "nope"], "invalid choice"),
])
def test_bad_arguments_exit_2_at_parse_time(no_compute, argv, msg, capsys):
    assert cli.main(argv) == 2
    assert msg in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "100000", "two"])
def test_bad_gtv_workers_env_exits_2(no_compute, monkeypatch, capsys, value):
    monkeypatch.setenv("GTV_WORKERS", value)
    assert cli.main(["figures", "fig2"]) == 2
    assert "GTV_WORKERS must be an integer in [1, 256]" in capsys.readouterr().err


def test_unreachable_scheduler_exits_2(no_compute, capsys, monkeypatch):
    pytest.importorskip("distributed")
    from gtv_symbolic._runtime import parallel

    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", "0.5s")
    assert cli.main(["figures", "fig2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err


def test_fig1_writes_into_place_and_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GTV_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "figs"
    out.mkdir()
    (out / "keep.txt").write_text("other file")
    assert cli.main(["figures", "fig1", "--out", str(out), "--save-data",
                     str(tmp_path / "d" / "fig1.npz"), "--quiet"]) == 0
    assert {p.name for p in out.iterdir()} == {"keep.txt", "fig1.png", "fig1.pdf",
                                               "fig1.settings.toml"}
    assert (tmp_path / "d" / "fig1.npz").is_file()
    assert not list(tmp_path.rglob(".gtv-tmp-*"))


def test_cache_info_and_clear(tmp_path, monkeypatch, capsys):
    from gtv_symbolic._runtime.cache import Cache

    monkeypatch.setenv("GTV_CACHE_DIR", str(tmp_path / "c"))
    Cache().store("demo", {"n": 1}, {"a": np.arange(3)})
    assert cli.main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert "entries  1" in out and "1 current" in out and "demo" in out
    assert cli.main(["cache", "clear"]) == 0
    assert "removed 1 file(s)" in capsys.readouterr().out
    assert Cache().info()["entries"] == 0


def _env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["GTV_CACHE_DIR"] = str(tmp_path / "cache")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_exits_130_one_line_outputs_intact(tmp_path, workers):
    out = tmp_path / "figs"
    out.mkdir()
    (out / "fig2.png").write_bytes(b"previous figure")
    (out / "fig2_table.md").write_text("previous table\n")
    before = sorted(p.name for p in out.iterdir())
    proc = subprocess.Popen(
        [sys.executable, "-m", "gtv_symbolic", "figures", "fig2", "--n-models", "2", "--out",
         str(out), "--save-data", str(tmp_path / "d" / "fig2.npz"), "--quiet", "--workers",
         workers], cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    time.sleep(5.0)  # well inside the panels (the run takes ~10 s at N = 2)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip() == "gtv: interrupted"
    assert sorted(p.name for p in out.iterdir()) == before
    assert (out / "fig2.png").read_bytes() == b"previous figure"
    assert not (tmp_path / "d").exists()
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".gtv-tmp-")
                 or p.name.endswith(".part")]
    assert leftovers == []


def test_cache_warning_is_one_line(tmp_path, monkeypatch, capsys):
    """A bad cache entry met by the CLI: one 'gtv: warning:' line naming the file, then recomputed."""
    from gtv_symbolic._runtime.cache import Cache

    monkeypatch.setenv("GTV_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setattr(cli, "_run_plan", lambda *a, **k: Cache().get_or_compute(
        "demo", {"n": 1}, lambda: {"a": np.arange(2)}))
    Cache().store("demo", {"n": 1}, {"a": np.arange(2)})
    bad = Cache().path("demo", {"n": 1})
    bad.write_bytes(b"garbage")
    assert cli.main(["figures", "fig1", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith("gtv: warning: bad cache entry " + str(bad))
