"""Shared pieces of the experiments: settings fields, seeds, result metadata, saving.

A ``Settings`` dataclass is frozen; every field is declared with :func:`setting` (default +
one-line help, read by the CLI to generate flags). :func:`attrs` turns settings into the
attributes every result carries (settings as JSON, seed, package version, git revision).

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class S:
...     n: int = setting(3, "a count")
>>> settings_json(S())
'{"n": 3}'
>>> replace_settings(S(), n="5").n
5
"""

from __future__ import annotations

import dataclasses
import functools
import json
import subprocess
import typing
from pathlib import Path

import numpy as np

__all__ = ["setting", "settings_json", "settings_dict", "replace_settings", "resolve_seed",
           "seed_sequence", "child", "same_field", "attrs", "git_revision", "package_version",
           "make_schedule", "check_int", "check_choice", "save_npz", "read_sidecar", "to_netcdf",
           "MAX_MODELS", "MAX_SAMPLES", "SCHEDULES"]

MAX_MODELS = 10_000
MAX_SAMPLES = 10**7
#: schedules an experiment can be run with (the Fig. 1 schedule has no finite-time PF-ODE use)
SCHEDULES = ("VP", "VE", "EDM")


def setting(default, help: str, **kw):
    """A dataclass field with a default and ``metadata['help']`` (one line, shown by the CLI).

    Optional metadata read by the CLI: ``lo``/``hi`` (integer bounds, per element for tuples)
    and ``choices`` (allowed strings).
    """
    return dataclasses.field(default=default, metadata={"help": help, **kw})


def settings_dict(s) -> dict:
    """Plain JSON-able dict of a settings dataclass (tuples become lists)."""
    return json.loads(settings_json(s))


def settings_json(s) -> str:
    """Settings as JSON (exact float reprs, field order kept)."""
    def conv(v):
        if isinstance(v, (tuple, list)):
            return [conv(u) for u in v]
        if isinstance(v, np.generic):
            return v.item()
        return v

    return json.dumps({f.name: conv(getattr(s, f.name)) for f in dataclasses.fields(s)})


def _coerce(value, tp):
    """``value`` converted to the annotated type ``tp`` (str annotations resolved by caller)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if value is None:
        return None
    if origin is typing.Union or str(origin) == "types.UnionType":
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0]) if inner else value
    if origin is tuple:
        seq = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0]) for v in seq)
        return tuple(_coerce(v, a) for v, a in zip(seq, args, strict=True))
    if tp is bool:
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return bool(value)
    if tp is int:
        if isinstance(value, float) and not value.is_integer():
            raise TypeError(f"expected an integer, got {value}")
        return int(value)
    if tp is float:
        return float(value)
    if tp is str:
        return str(value)
    return value


def replace_settings(s, **changes):
    """A copy of ``s`` with ``changes`` coerced to the field types (lists -> tuples, ...)."""
    hints = typing.get_type_hints(type(s))
    names = {f.name for f in dataclasses.fields(s)}
    out = {}
    for k, v in changes.items():
        if k not in names:
            raise TypeError(f"{type(s).__module__}.Settings has no field {k!r}; "
                            f"fields: {sorted(names)}")
        try:
            out[k] = _coerce(v, hints[k])
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{k}: {exc}") from None
    return dataclasses.replace(s, **out)


def resolve_seed(settings, rng=None) -> int:
    """The integer seed of a run: ``settings.seed``, or entropy drawn from ``rng``.

    ``rng`` may be None (use ``settings.seed``), an int, a ``SeedSequence`` or a
    ``Generator`` (one 63-bit integer is drawn from it, so the run is reproducible).
    """
    if rng is None:
        seed = settings.seed
    elif isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        seed = int(rng)
    elif isinstance(rng, np.random.SeedSequence):
        seed = int(rng.generate_state(2, np.uint64)[0] >> np.uint64(1))
    elif isinstance(rng, np.random.Generator):
        seed = int(rng.integers(0, 2**63 - 1))
    else:
        raise TypeError(f"rng must be None, an int, a SeedSequence or a Generator, "
                        f"got {type(rng).__name__}")
    return check_int(seed, "seed", 0, 2**63 - 1)


def seed_sequence(seed: int, *tags) -> np.random.SeedSequence:
    """``SeedSequence([seed, *tags])``: one independent stream per task tag."""
    return np.random.SeedSequence([int(seed), *[int(t) for t in tags]])


def child(ss: np.random.SeedSequence, k: int) -> np.random.SeedSequence:
    """Child ``k`` of ``ss`` (what ``ss.spawn(k + 1)[k]`` gives on a fresh sequence), without
    mutating ``ss``: the same stream however often and in whatever order it is asked for."""
    return np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + (int(k),),
                                  pool_size=ss.pool_size)


def same_field(settings_cls, name: str):
    """A fresh field with the default and help of ``settings_cls.name`` (one definition)."""
    f = settings_cls.__dataclass_fields__[name]
    return dataclasses.field(default=f.default, metadata=dict(f.metadata))


@functools.lru_cache(maxsize=1)
def git_revision() -> str | None:
    """``git rev-parse HEAD`` of the source tree, or None outside a git checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    rev = out.stdout.strip()
    return rev if out.returncode == 0 and rev else None


_GIT_AT_IMPORT = None  # filled below: the revision of the code this process imported


def package_version() -> str:
    from .. import __version__

    return __version__


def attrs(name: str, settings, seed: int | None) -> dict:
    """Attributes of a result: experiment name, settings (JSON), seed, version, git."""
    a = {"experiment": name, "settings": settings_json(settings),
         "version": package_version()}
    if seed is not None:
        a["seed"] = int(seed)
    rev = _GIT_AT_IMPORT if _GIT_AT_IMPORT is not None else git_revision()
    if rev:
        a["git"] = rev
    return a


@functools.lru_cache(maxsize=None)
def make_schedule(name: str, T: float = 1.0):
    """Schedule by name (``VP``, ``VE``, ``EDM``, ``Fig1``), compiled once per process."""
    from .. import schedules

    if name == "Fig1":
        if T != 1.0:
            raise ValueError(f"T must be 1 for the Fig1 schedule, got {T}")
        sched = schedules.get(name)
    else:
        sched = schedules.get(name, T=T)
    sched.alpha(0.5 * T)  # compile now (forked workers inherit it)
    return sched


def check_int(v, name: str, lo: int, hi: int | None = None) -> int:
    """``v`` as an int in ``[lo, hi]``: TypeError for non-integers, ValueError out of range."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(v).__name__}")
    if v < lo or (hi is not None and v > hi):
        allowed = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be {allowed}, got {v}")
    return int(v)


def check_choice(v, name: str, choices) -> str:
    if v not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {v!r}")
    return v


def save_npz(path, arrays: dict, result) -> list[Path]:
    """Write ``arrays`` to ``PATH.npz`` and the JSON sidecar ``PATH.json``.

    The sidecar has keys ``settings`` (a dict), ``seed``, ``version`` and ``git`` (when known),
    taken from ``result.attrs``.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    np.savez(p, **{k: np.asarray(v) for k, v in arrays.items()})
    a = result.attrs
    side = {"settings": json.loads(a["settings"]), "seed": a.get("seed"),
            "version": a["version"]}
    if "git" in a:
        side["git"] = a["git"]
    js = p.with_suffix(".json")
    js.write_text(json.dumps(side, indent=1) + "\n")
    return [p, js]


def read_sidecar(path) -> dict:
    """The JSON sidecar written beside ``PATH.npz`` by :func:`save_npz`."""
    return json.loads(Path(path).with_suffix(".json").read_text())


def to_netcdf(result, path) -> Path:
    """Write a result with SciPy's netCDF-3 engine (no extra dependency).

    Attributes netCDF-3 cannot hold are converted: bools to 0/1, integers beyond 32 bits and
    other objects to text, None dropped.
    """
    ds = result.copy()
    clean = {}
    for k, v in ds.attrs.items():
        if v is None:
            continue
        if isinstance(v, (bool, np.bool_)):
            v = int(v)
        elif isinstance(v, (int, np.integer)) and not -2**31 <= int(v) < 2**31:
            v = str(int(v))
        elif not isinstance(v, (int, float, str, np.integer, np.floating, list, tuple)):
            v = str(v)
        clean[k] = v
    ds.attrs = clean
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(p, engine="scipy")
    return p


# The revision is read once, when the code is imported: a commit made while a long run is in
# progress must not be attributed to that run.
_GIT_AT_IMPORT = git_revision() or ""
