"""Command-line flags and TOML config generated from an experiment's frozen ``Settings`` dataclass.

Field name -> flag: ``n_models`` -> ``--n-models``, ``P`` -> ``--P``. The field's type gives the
parser: ``int`` / ``float`` / ``str`` one value (ints within the field's ``lo``/``hi`` metadata,
``seed`` >= 0, other ``n_*`` counts >= 1; floats finite; strs within ``choices`` metadata);
``bool`` ``--flag`` / ``--no-flag``; ``tuple[X, ...]`` one or more values; ``tuple[X, X]``
exactly two; ``tuple[tuple[float, ...], ...]`` (point data) one string, ``"-1,-0.2,1"`` for
1-D points or ``"x,y;x,y"`` for 2-D points; ``X | None`` as ``X``. Help is the field's
``metadata["help"]`` plus its default.

Examples
--------
>>> parse_data("-1,-0.2,1")
((-1.0,), (-0.2,), (1.0,))
>>> parse_data("0,1; 1,0")
((0.0, 1.0), (1.0, 0.0))
>>> flag_name("n_models"), flag_name("P")
('--n-models', '--P')
>>> print(dumps_toml({"fig2": {"eps": (0.01, 0.001), "features": "fourier", "n_samples": None}}))
[fig2]
eps = [0.01, 0.001]
features = "fourier"
n_samples = "none"
<BLANKLINE>
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import types
import typing
from pathlib import Path

__all__ = ["SEED_MAX", "FieldSpec", "add_settings_flags", "dumps_toml", "field_specs",
           "flag_name", "join_dash_values", "load_toml", "overrides_from_args", "parse_data",
           "settings_to_dict"]

SEED_MAX = 2**63 - 1
_DEST = "setting__"  # argparse dest prefix of generated flags (kept apart from common options)


def flag_name(field: str) -> str:
    """``n_models`` -> ``--n-models`` (case kept: ``P`` -> ``--P``)."""
    return "--" + field.replace("_", "-")


def parse_data(text: str) -> tuple:
    """Point data from text: ``"a,b,c"`` 1-D points, ``"x,y;x,y"`` 2-D (any dimension) points."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("data must be a non-empty string such as '-1,0,1' or '0,1;1,0'")
    if ";" in text:
        rows = [r for r in text.split(";") if r.strip()]
        pts = tuple(tuple(_finite(v, "data") for v in r.split(",")) for r in rows)
        if len({len(p) for p in pts}) != 1:
            raise ValueError(f"data points must all have the same dimension, got {text!r}")
    else:
        pts = tuple((_finite(v, "data"),) for v in text.split(","))
    return pts


def _finite(text, name) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {text!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {text!r}")
    return v


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """How one settings field is parsed: ``convert(values)`` -> field value."""

    name: str
    kind: str  # "scalar", "bool", "tuple", "data"
    base: type | None
    nargs: object
    optional: bool
    help: str
    lo: int | None = None
    hi: int | None = None
    choices: tuple | None = None

    @property
    def flag(self) -> str:
        return flag_name(self.name)

    def one(self, text):
        """Convert one token (raises ValueError naming the flag)."""
        if self.base is bool:
            if isinstance(text, bool):
                return text
            t = str(text).strip().lower()
            if t in ("1", "true", "yes", "on"):
                return True
            if t in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{self.flag} must be true or false, got {text!r}")
        if self.base is int:
            if isinstance(text, bool) or (isinstance(text, float) and not text.is_integer()):
                raise ValueError(f"{self.flag} must be an integer, got {text!r}")
            try:
                v = int(text) if not isinstance(text, str) else int(text.strip())
            except (TypeError, ValueError):
                raise ValueError(f"{self.flag} must be an integer, got {text!r}") from None
            if (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
                raise ValueError(f"{self.flag} must be an integer in {self._range()}, got {v}")
            return v
        if self.base is float:
            if isinstance(text, bool):
                raise ValueError(f"{self.flag} must be a number, got {text!r}")
            return _finite(text, self.flag)
        v = str(text)
        if self.choices is not None and v not in self.choices:
            raise ValueError(f"{self.flag} must be one of {', '.join(map(str, self.choices))}, "
                             f"got {v!r}")
        return v

    def _range(self):
        return f"[{'-inf' if self.lo is None else self.lo}, {'inf' if self.hi is None else self.hi}]"

    def convert(self, value):
        """The field value from a token, a list of tokens (flags) or a TOML value."""
        if self.optional and (value is None or (isinstance(value, str)
                                                and value.strip().lower() == "none")):
            return None
        if self.kind == "data":
            if isinstance(value, (list, tuple)) and len(value) == 1 and isinstance(value[0], str):
                value = value[0]
            if isinstance(value, str):
                return parse_data(value)
            pts = tuple(tuple(_finite(c, self.flag) for c in (p if isinstance(p, (list, tuple))
                                                              else [p])) for p in value)
            if not pts or len({len(p) for p in pts}) != 1:
                raise ValueError(f"{self.flag}: points must be non-empty and of one dimension")
            return pts
        if self.kind == "tuple":
            seq = value if isinstance(value, (list, tuple)) else [value]
            if isinstance(self.nargs, int) and len(seq) != self.nargs:
                raise ValueError(f"{self.flag} takes exactly {self.nargs} values, got {len(seq)}")
            if not seq:
                raise ValueError(f"{self.flag} needs at least one value")
            return tuple(self.one(v) for v in seq)
        if isinstance(value, (list, tuple)):
            if len(value) != 1:
                raise ValueError(f"{self.flag} takes one value, got {len(value)}")
            value = value[0]
        return self.one(value)


def _strip_optional(tp):
    origin = typing.get_origin(tp)
    if origin is typing.Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def field_specs(settings_cls) -> list[FieldSpec]:
    """One :class:`FieldSpec` per field of a frozen settings dataclass, in field order."""
    if not (dataclasses.is_dataclass(settings_cls) and isinstance(settings_cls, type)):
        raise TypeError(f"settings_cls must be a dataclass type, got {settings_cls!r}")
    hints = typing.get_type_hints(settings_cls)
    out = []
    for f in dataclasses.fields(settings_cls):
        tp, optional = _strip_optional(hints[f.name])
        md = f.metadata
        help_ = md.get("help", "")
        lo, hi = md.get("lo"), md.get("hi")
        if f.name == "seed":
            lo = 0 if lo is None else lo
            hi = SEED_MAX if hi is None else hi
        elif f.name.startswith("n_") and lo is None:
            lo = 1
        choices = tuple(md["choices"]) if md.get("choices") is not None else None
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is tuple:
            inner = args[0] if args else str
            if typing.get_origin(inner) is tuple:
                out.append(FieldSpec(f.name, "data", float, None, optional, help_))
                continue
            nargs = "+" if (len(args) == 2 and args[1] is Ellipsis) or not args else len(args)
            if f.name == "P" and lo is None:
                lo = 1
            out.append(FieldSpec(f.name, "tuple", inner, nargs, optional, help_, lo, hi, choices))
        elif tp is bool:
            out.append(FieldSpec(f.name, "bool", bool, None, optional, help_))
        elif tp in (int, float, str):
            out.append(FieldSpec(f.name, "scalar", tp, None, optional, help_, lo, hi, choices))
        else:
            raise TypeError(f"{settings_cls.__qualname__}.{f.name}: unsupported field type {tp!r}")
    return out


def _shown(v):
    if isinstance(v, tuple) and v and all(isinstance(p, tuple) for p in v):
        if all(len(p) == 1 for p in v):
            return ",".join(f"{p[0]:g}" for p in v)
        return ";".join(",".join(f"{c:g}" for c in p) for p in v)
    if isinstance(v, tuple):
        return " ".join(map(str, v))
    return str(v)


def add_settings_flags(parser: argparse.ArgumentParser, settings_cls, *, raw: bool = False,
                       defaults=None) -> list[FieldSpec]:
    """Add one flag per settings field; parsed values land in ``overrides_from_args``.

    ``raw=True`` keeps the tokens as text (``gtv figures all``: converted per figure later).
    Flags default to "not given" (argparse.SUPPRESS), so only what the user typed overrides.
    """
    specs = field_specs(settings_cls)
    base = defaults if defaults is not None else settings_cls()
    group = parser.add_argument_group(f"settings ({settings_cls.__module__})")
    for sp in specs:
        kw = dict(dest=_DEST + sp.name, default=argparse.SUPPRESS)
        shown = _shown(getattr(base, sp.name))
        extra = f"; one of {', '.join(map(str, sp.choices))}" if sp.choices else ""
        if sp.base is int and (sp.lo is not None or sp.hi is not None) and sp.name != "seed":
            extra += f"; integer in {sp._range()}"
        kw["help"] = f"{sp.help} (default: {shown}{extra})".replace("%", "%%")
        if sp.kind == "bool" and not raw:
            kw["action"] = argparse.BooleanOptionalAction
        else:
            kw["metavar"] = sp.name.upper() if sp.kind != "data" else "POINTS"
            if sp.kind == "tuple":
                kw["nargs"] = sp.nargs
            if not raw:
                if sp.kind == "tuple":
                    kw["type"] = _argtype(sp.one)
                elif sp.kind == "scalar":
                    kw["type"] = _argtype(sp.convert)
                else:
                    kw["type"] = _argtype(sp.convert)
        group.add_argument(sp.flag, **kw)
    return specs


def _argtype(conv):
    def parse(text):
        try:
            return conv(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def overrides_from_args(args: argparse.Namespace) -> dict:
    """``{field: value}`` of the generated flags that were given on the command line."""
    return {k[len(_DEST):]: (tuple(v) if isinstance(v, list) else v)
            for k, v in vars(args).items() if k.startswith(_DEST)}


def join_dash_values(argv: list[str], value_flags) -> list[str]:
    """``["--data", "-1,0,1"]`` -> ``["--data=-1,0,1"]`` for single-value flags whose value
    starts with ``-`` (argparse would take it for an option)."""
    out, i = [], 0
    argv = list(argv)
    while i < len(argv):
        a = argv[i]
        if a in value_flags and i + 1 < len(argv) and argv[i + 1].startswith("-") \
                and not argv[i + 1].startswith("--"):
            out.append(f"{a}={argv[i + 1]}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def settings_to_dict(settings) -> dict:
    """``{field: value}`` of a settings instance (tuples kept)."""
    return {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}


def load_toml(path) -> dict:
    """Parse a TOML file (``tomllib`` on 3.11+, ``tomli`` on 3.10)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    p = Path(path)
    try:
        with open(p, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ValueError(f"--config: cannot read {p}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"--config: {p} is not valid TOML: {exc}") from None


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ("nan" if v != v else ("inf" if v > 0 else "-inf"))
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(u) for u in v) + "]"
    if hasattr(v, "item"):  # numpy scalar
        return _toml_value(v.item())
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dumps_toml(tables: dict, header: str = "") -> str:
    """TOML text of ``{table: {key: value}}`` (values: numbers, str, bool, nested lists;
    None is written as the string ``"none"``, which optional fields read back as None)."""
    lines = [f"# {h}" for h in header.splitlines()] if header else []
    for name, fields in tables.items():
        if lines:
            lines.append("")
        bare = name.replace("_", "").replace("-", "").isalnum() and name.isascii()
        lines.append(f"[{name if bare else json.dumps(name)}]")
        for k, v in fields.items():
            lines.append(f'{k} = "none"' if v is None else f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"
