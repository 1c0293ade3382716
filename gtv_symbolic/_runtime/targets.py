"""What ``gtv figures`` can run: one :class:`Target` per figure, with its settings dataclass.

Targets come from the experiments layer when it is present (``gtv_symbolic.experiments``
``REGISTRY`` / ``get`` and ``gtv_symbolic.plots.render`` / ``save_data``; see
EXPERIMENTS-API), else from the figure registry of :mod:`gtv_symbolic.plots` (each figure
function's declared options become the fields of a generated settings dataclass).

:func:`build_settings` merges, in this order: the defaults (or the ``QUICK`` settings),
the ``--config`` TOML file (its top-level keys and its ``[NAME]`` table), and the flags.
"""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path

from .flags import field_specs

__all__ = ["Target", "build_settings", "config_keys", "default_out", "is_default", "targets"]


@dataclasses.dataclass(frozen=True)
class Target:
    """One figure: ``run(settings, out_dir, *, save_data, progress, cache, scheduler, workers,
    quick)`` writes its files into ``out_dir`` (and ``save_data``) and returns their paths."""

    name: str
    doc: str
    settings_cls: type
    quick: object
    run: object
    validate: object = None


def _experiment_targets():
    try:
        exps = importlib.import_module("gtv_symbolic.experiments")
        plots = importlib.import_module("gtv_symbolic.plots")
    except ModuleNotFoundError as exc:
        if exc.name in ("gtv_symbolic.experiments",):
            return None
        raise
    if not (hasattr(exps, "REGISTRY") and hasattr(plots, "render")):
        return None
    names = getattr(plots, "FIGURES", None) or list(exps.REGISTRY)
    out = {}
    for name in names:
        mod = exps.get(name)

        def run(s, out_dir, *, save_data=None, progress=None, cache=None, scheduler=None,
                workers=None, quick=False, _mod=mod, _name=name):
            result = _mod.run(s, None, progress=progress, cache=cache, scheduler=scheduler,
                              workers=workers)
            paths = list(plots.render(_name, result, out_dir))
            if save_data is not None:
                paths += list(plots.save_data(_name, result, save_data))
            return paths

        doc = (mod.__doc__ or name).strip().splitlines()[0]
        out[name] = Target(name, doc, mod.Settings, getattr(mod, "QUICK", mod.Settings()), run,
                           getattr(mod, "validate", None))
    return out


def _legacy_targets():
    from ..plots import figures

    out = {}
    for name, spec in figures().items():
        fields = [(o, int | None, dataclasses.field(default=None, metadata={"help": _HELP[o]}))
                  for o in ("seed", "n_models", "n_samples") if o in spec.options]
        cls = dataclasses.make_dataclass("Settings", fields, frozen=True)
        cls.__module__ = f"gtv_symbolic.plots ({name})"

        def run(s, out_dir, *, save_data=None, progress=None, cache=None, scheduler=None,
                workers=None, quick=False, _spec=spec):
            opts = {k: v for k, v in dataclasses.asdict(s).items() if v is not None}
            if "quick" in _spec.options:
                opts["quick"] = quick
            if "no_cache" in _spec.options and cache is not None and not cache.enabled:
                opts["no_cache"] = True
            return _spec.func(out_dir, save_data=save_data, progress=progress, **opts)

        out[name] = Target(name, spec.doc, cls, cls(), run)
    return out


_HELP = {"seed": "seed of the numpy Generator (figure default when omitted)",
         "n_models": "models per ensemble (figure default when omitted)",
         "n_samples": "samples per model (figure default when omitted)"}


def targets() -> dict[str, Target]:
    """All figures, in registry order."""
    return _experiment_targets() or _legacy_targets()


def build_settings(target: Target, *, quick: bool = False, config: dict | None = None,
                   overrides: dict | None = None, raw: bool = False):
    """The settings of one run (see the module docstring). ``raw``: override values are text
    tokens to convert with this target's field types (``gtv figures all``)."""
    specs = {sp.name: sp for sp in field_specs(target.settings_cls)}
    base = target.quick if quick else target.settings_cls()
    changes = {}
    if config:
        table = config.get(target.name, {})
        if not isinstance(table, dict):
            raise ValueError(f"--config: [{target.name}] must be a table")
        top = {k: v for k, v in config.items() if not isinstance(v, dict)}
        unknown = sorted(set(table) - set(specs))
        if unknown:
            raise ValueError(f"--config: [{target.name}] has no setting(s) {', '.join(unknown)}; "
                             f"it takes {', '.join(specs)}")
        for k, v in {**{k: v for k, v in top.items() if k in specs}, **table}.items():
            changes[k] = specs[k].convert(v)
    for k, v in (overrides or {}).items():
        if k in specs:
            changes[k] = specs[k].convert(v) if raw else v
    s = dataclasses.replace(base, **changes)
    if target.validate is not None:
        target.validate(s)
    return s


def is_default(target: Target, settings, quick: bool) -> bool:
    """True when ``settings`` are exactly the figure's defaults (or its QUICK settings)."""
    return settings == (target.quick if quick else target.settings_cls())


def config_keys(config: dict) -> set:
    """Top-level setting names of a config (tables excluded)."""
    return {k for k, v in config.items() if not isinstance(v, dict)}


def default_out(base: Path, quick: bool, default: bool) -> Path:
    """``base`` for the paper's settings; ``base/quick`` or ``base/custom`` otherwise."""
    if quick:
        return base / "quick"
    return base if default else base / "custom"
