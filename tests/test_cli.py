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
    (["figures", "fig1", "--n-models", "3"], "option --n-models is not used by this figure"),
    (["figures", "nope"], "unknown figure 'nope'; choose from fig1, fig2"),
    (["cache", "info", "--bogus"], "unrecognized arguments: --bogus"),
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


def _default_sigint():
    # a test run started in the background inherits SIGINT ignored, and Python keeps an ignored
    # SIGINT ignored; the child must see Ctrl-C as a terminal user's gtv does
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("workers", ["2"])
def test_ctrl_c_exits_130_one_line_outputs_intact(tmp_path, workers):
    """SIGINT while panels are being computed (after the first one finished): exit 130, the
    one line 'gtv: interrupted', no traceback, previous outputs intact, no temporary files."""
    out = tmp_path / "figs"
    out.mkdir()
    (out / "fig2.png").write_bytes(b"previous figure")
    (out / "fig2_table.md").write_text("previous table\n")
    before = sorted(p.name for p in out.iterdir())
    proc = subprocess.Popen(
        [sys.executable, "-m", "gtv_symbolic", "figures", "fig2", "--n-models", "50", "--out",
         str(out), "--save-data", str(tmp_path / "d" / "fig2.npz"), "--workers", workers],
        cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, preexec_fn=_default_sigint)
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # progress lines go to stderr
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if "computed in" in line:
            break
    assert proc.poll() is None and any("computed in" in ln for ln in lines), "".join(lines)
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130, rest
    assert "Traceback" not in rest
    assert [ln for ln in rest.splitlines() if ln.strip()][-1] == "gtv: interrupted"
    assert rest.count("gtv: interrupted") == 1
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


FIG2_CMD = ["figures", "fig2", "--eps", "1e-2", "1e-3", "--P", "256", "--features", "fourier",
            "--n-models", "40", "--schedule", "VE", "--data", "-1,-0.2,1"]


def test_fig2_command_builds_the_settings(monkeypatch, tmp_path):
    """The issue's command line, flag names as written, parsed into experiments.fig2.Settings."""
    from gtv_symbolic.experiments import fig2

    seen = []
    monkeypatch.setattr(cli, "_run_plan", lambda plan, *a, **k: seen.extend(plan))
    monkeypatch.chdir(tmp_path)
    assert cli.main(FIG2_CMD + ["--quiet"]) == 0
    (target, s), = seen
    assert target.name == "fig2"
    assert s == fig2.Settings(eps=(1e-2, 1e-3), P=(256,), features="fourier", n_models=40,
                              schedule="VE", data=((-1.0,), (-0.2,), (1.0,)))


def test_fig2_small_run_settings_round_trip(tmp_path, monkeypatch):
    """A tiny real run of the same flags: figure, npz + JSON sidecar, settings file; rerun
    through --config gives the same arrays (served from the cache)."""
    import json

    monkeypatch.setenv("GTV_CACHE_DIR", str(tmp_path / "cache"))
    small = ["--n-models", "3", "--n-x", "6", "--n-t", "6", "--n-bins", "40", "--P", "64"]
    argv = FIG2_CMD + small + ["--out", str(tmp_path / "a"), "--save-data",
                               str(tmp_path / "a" / "fig2.npz"), "--quiet"]
    assert cli.main(argv) == 0
    names = {p.name for p in (tmp_path / "a").iterdir()}
    assert {"fig2.png", "fig2.pdf", "fig2.settings.toml", "fig2.npz", "fig2.json"} <= names
    side = json.loads((tmp_path / "a" / "fig2.json").read_text())
    assert side["settings"]["schedule"] == "VE" and side["settings"]["n_models"] == 3
    cfg = tmp_path / "a" / "fig2.settings.toml"
    assert cli.main(["figures", "fig2", "--config", str(cfg), "--out", str(tmp_path / "b"),
                     "--save-data", str(tmp_path / "b" / "fig2.npz"), "--quiet"]) == 0
    with np.load(tmp_path / "a" / "fig2.npz") as a, np.load(tmp_path / "b" / "fig2.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for k in a.files:
            assert np.array_equal(a[k], b[k]), k
    assert (tmp_path / "b" / "fig2.settings.toml").read_text() == cfg.read_text()
