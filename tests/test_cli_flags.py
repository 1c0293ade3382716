"""Flags generated from settings dataclasses, --config TOML round trip, output folders (toy figures)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass, field

import pytest

from gtv_symbolic import cli
from gtv_symbolic._runtime import flags as fl
from gtv_symbolic._runtime.targets import Target


def _s(default, help_, **kw):
    return field(default=default, metadata={"help": help_, **kw})


@dataclass(frozen=True)
class Toy:
    eps: tuple[float, ...] = _s((1e-2, 1e-3, 1e-4), "final times")
    P: tuple[int, ...] = _s((1024, 64), "training samples")
    features: str = _s("gaussian", "family", choices=("gaussian", "fourier"))
    n_models: int = _s(100, "models", lo=1, hi=10_000)
    schedule: str = _s("VP", "schedule", choices=("VP", "VE", "EDM"))
    data: tuple[tuple[float, ...], ...] = _s(((-1.0,), (0.0,), (1.0,)), "points")
    ridge: float = _s(0.1, "ridge")
    seed: int = _s(0, "seed")
    antithetic: bool = _s(False, "a boolean")
    n_samples: int | None = _s(None, "samples per model")
    x_range: tuple[float, float] = _s((-1.5, 1.5), "window")


@dataclass(frozen=True)
class Toy2:
    n_models: int = _s(10, "models", lo=1, hi=50)
    thetas: tuple[float, ...] = _s((0.0, 0.5), "angles")
    seed: int = _s(3, "seed")


FIG2_ARGS = ["--eps", "1e-2", "1e-3", "--P", "256", "--features", "fourier", "--n-models", "40",
             "--schedule", "VE", "--data", "-1,-0.2,1"]


def _parse(argv, cls=Toy):
    p = argparse.ArgumentParser()
    fl.add_settings_flags(p, cls)
    args = p.parse_args(fl.join_dash_values(argv, {"--data", "--seed"}))
    return fl.overrides_from_args(args)


def test_fig2_command_line_on_toy_settings():
    ov = _parse(FIG2_ARGS)
    assert ov == {"eps": (1e-2, 1e-3), "P": (256,), "features": "fourier", "n_models": 40,
                  "schedule": "VE", "data": ((-1.0,), (-0.2,), (1.0,))}
    s = dataclasses.replace(Toy(), **ov)
    assert s.ridge == 0.1 and s.x_range == (-1.5, 1.5)


def test_flag_kinds():
    assert _parse(["--data", "0,1;1,0;-1,-1"])["data"] == ((0.0, 1.0), (1.0, 0.0), (-1.0, -1.0))
    assert _parse(["--antithetic"])["antithetic"] is True
    assert _parse(["--no-antithetic"])["antithetic"] is False
    assert _parse(["--x-range", "-2", "2"])["x_range"] == (-2.0, 2.0)
    assert _parse(["--n-samples", "7"])["n_samples"] == 7
    assert _parse([]) == {}
    specs = {sp.name: sp for sp in fl.field_specs(Toy)}
    assert specs["P"].flag == "--P" and specs["n_models"].flag == "--n-models"


@pytest.mark.parametrize("argv, msg", [
    (["--seed", "-1"], "--seed must be an integer in [0, "),
    (["--n-models", "0"], "--n-models must be an integer in [1, 10000]"),
    (["--n-models", "100000"], "in [1, 10000]"),
    (["--n-models", "2.5"], "--n-models must be an integer"),
    (["--P", "0"], "--P must be an integer in [1, "),
    (["--features", "wavelets"], "--features must be one of gaussian, fourier"),
    (["--ridge", "nan"], "--ridge must be finite"),
    (["--eps", "abc"], "--eps must be a number"),
    (["--data", "1,2;3"], "same dimension"),
    (["--x-range", "1"], "expected 2 arguments"),
    (["--n-samples", "0"], "--n-samples must be an integer in [1, "),
])
def test_bad_flags_fail_at_parse_time(argv, msg, capsys):
    with pytest.raises(SystemExit) as exc:
        _parse(argv)
    assert exc.value.code == 2
    assert msg in capsys.readouterr().err


def test_toml_round_trip(tmp_path):
    s = dataclasses.replace(Toy(), **_parse(FIG2_ARGS), n_samples=None, antithetic=True)
    p = tmp_path / "s.toml"
    p.write_text(fl.dumps_toml({"toy": fl.settings_to_dict(s)}, header="test"))
    cfg = fl.load_toml(p)
    specs = {sp.name: sp for sp in fl.field_specs(Toy)}
    back = Toy(**{k: specs[k].convert(v) for k, v in cfg["toy"].items()})
    assert back == s


# --- the whole CLI on toy figures -------------------------------------------------------

CALLS = []


def _toy_run(s, out_dir, *, save_data=None, progress=None, cache=None, scheduler=None,
             workers=None, quick=False, name="toy"):
    CALLS.append((name, s, workers, scheduler))
    p = out_dir / f"{name}.txt"
    p.write_text(repr(s))
    (out_dir / f"{name}_table.md").write_text(
        f"| N | value |\n|---|---|\n| {s.n_models} | {1 / (s.n_models + 2):.3f} |\n")
    paths = [p]
    if save_data is not None:
        save_data.write_text(json.dumps({"settings": fl.settings_to_dict(s)}, default=list))
        paths.append(save_data)
    return paths


def _toy2_run(s, out_dir, **kw):
    return _toy_run(s, out_dir, name="toy2", **kw)


@pytest.fixture
def toys(monkeypatch, tmp_path):
    tg = {"toy": Target("toy", "a toy", Toy, dataclasses.replace(Toy(), n_models=2), _toy_run),
          "toy2": Target("toy2", "another", Toy2, Toy2(n_models=1), _toy2_run)}
    monkeypatch.setattr(cli, "_targets", lambda: tg)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GTV_CACHE_DIR", raising=False)
    CALLS.clear()
    return tmp_path


def test_cli_fig2_flags_and_custom_folder(toys):
    assert cli.main(["figures", "toy", *FIG2_ARGS, "--quiet"]) == 0
    (name, s, _, _), = CALLS
    assert s.P == (256,) and s.data == ((-1.0,), (-0.2,), (1.0,)) and s.schedule == "VE"
    out = toys / "figures" / "custom"  # non-default settings: not the paper's folder
    assert (out / "toy.txt").is_file() and not (toys / "figures" / "toy.txt").exists()
    # the settings used, written beside the outputs, reproduce the run through --config
    CALLS.clear()
    assert cli.main(["figures", "toy", "--config", str(out / "toy.settings.toml"), "--quiet",
                     "--out", "again"]) == 0
    assert CALLS[0][1] == s


def test_cli_default_and_quick_folders(toys):
    assert cli.main(["figures", "toy", "--quiet"]) == 0
    assert (toys / "figures" / "toy.txt").is_file()
    assert cli.main(["figures", "toy", "--quick", "--quiet"]) == 0
    assert CALLS[-1][1].n_models == 2
    assert (toys / "figures" / "quick" / "toy.txt").is_file()
    assert not list(toys.rglob(".gtv-tmp-*"))


def test_cli_all_passes_each_figure_its_options(toys):
    assert cli.main(["figures", "all", "--n-models", "5", "--P", "64", "--quiet",
                     "--save-data", "data", "--workers", "1"]) == 0
    got = {n: s for n, s, _, _ in CALLS}
    assert got["toy"].n_models == 5 and got["toy"].P == (64,)
    assert got["toy2"] == Toy2(n_models=5)
    assert {p.name for p in (toys / "data").iterdir()} == {"toy.npz", "toy2.npz"}
    assert all(w == 1 for _, _, w, _ in CALLS)


def test_cli_all_range_checked_per_figure(toys, capsys):
    assert cli.main(["figures", "all", "--n-models", "60"]) == 2  # toy2 allows <= 50
    assert "--n-models must be an integer in [1, 50]" in capsys.readouterr().err
    assert CALLS == []


def test_cli_config_tables_and_errors(toys, capsys):
    cfg = toys / "c.toml"
    cfg.write_text('seed = 7\n[toy]\neps = [0.01]\ndata = [[0.0, 1.0], [1.0, 0.0]]\n'
                   '[toy2]\nthetas = [0.25]\n')
    assert cli.main(["figures", "all", "--config", str(cfg), "--quiet", "--seed", "8"]) == 0
    got = {n: s for n, s, _, _ in CALLS}
    assert got["toy"].eps == (0.01,) and got["toy"].data == ((0.0, 1.0), (1.0, 0.0))
    assert got["toy"].seed == 8 and got["toy2"].seed == 8  # flags win over the file
    assert got["toy2"].thetas == (0.25,)
    cfg.write_text("[toy]\nn_modles = 3\n")
    assert cli.main(["figures", "toy", "--config", str(cfg)]) == 2
    assert "n_modles" in capsys.readouterr().err
    cfg.write_text("[toy\n")
    assert cli.main(["figures", "toy", "--config", str(cfg)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_cli_unknown_option_for_one_figure(toys, capsys):
    assert cli.main(["figures", "toy2", "--P", "64"]) == 2
    assert "option --P is not used by this figure (its settings: --n-models, --thetas, " \
        "--seed)" in capsys.readouterr().err


def test_version(capsys):
    from gtv_symbolic import __version__

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith(f"gtv {__version__}")


def test_reproduce_check(toys, capsys):
    ref = toys / "ref"
    assert cli.main(["reproduce", "--only", "toy", "toy2", "--out", str(ref), "--quiet"]) == 0
    table = ref / "toy_table.md"
    assert table.read_text().endswith("| 100 | 0.010 |\n")
    assert cli.main(["reproduce", "--check", "--only", "toy", "toy2", "--out", str(ref),
                     "--quiet"]) == 0
    assert "2/2 committed outputs match" in capsys.readouterr().out
    table.write_text(table.read_text().replace("0.010", "0.011"))  # one unit in the last digit
    assert cli.main(["reproduce", "--check", "--only", "toy", "--out", str(ref), "--quiet"]) == 0
    table.write_text(table.read_text().replace("0.011", "0.013"))
    assert cli.main(["reproduce", "--check", "--only", "toy", "--out", str(ref), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "0.013 -> 0.010" in out
    table.write_text(table.read_text().replace("| N |", "| models |"))
    assert cli.main(["reproduce", "--check", "--only", "toy", "--out", str(ref), "--quiet"]) == 1
    assert "differs beyond its numbers" in capsys.readouterr().out
    assert not list(toys.rglob(".gtv-tmp-*"))


def test_reproduce_check_missing_output_fails(toys, capsys, monkeypatch):
    import gtv_symbolic.derive as derive

    ref = toys / "ref"
    assert cli.main(["reproduce", "--only", "toy", "--out", str(ref), "--quiet"]) == 0
    (ref / "gone_table.md").write_text("| 1 |\n")
    # a subset (--only): committed files of other figures are not required
    assert cli.main(["reproduce", "--check", "--only", "toy", "--out", str(ref), "--quiet"]) == 0
    # the full check: every committed number-carrying file must be regenerated
    monkeypatch.setattr(derive, "cli", lambda a: (a.out.mkdir(parents=True, exist_ok=True), 0)[1])
    assert cli.main(["reproduce", "--check", "--out", str(ref), "--derivations-out",
                     str(toys / "der"), "--quiet"]) == 1
    assert "gone_table.md\n    not regenerated" in capsys.readouterr().out
    empty = toys / "empty"
    empty.mkdir()
    assert cli.main(["reproduce", "--check", "--only", "toy2", "--out", str(empty),
                     "--quiet"]) == 1  # nothing committed to compare is a failure, not a pass
    assert "no committed outputs" in capsys.readouterr().out
