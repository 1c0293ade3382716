"""What ``gtv figures`` can run: one :class:`Target` per figure, with its settings dataclass.

Targets come from the figure registry :func:`gtv_symbolic.plots.figures`: each figure's
experiment module gives ``Settings`` (the flags), ``QUICK`` and ``run``; the figure is drawn
by ``gtv_symbolic.plots.render`` and its arrays saved by ``gtv_symbolic.plots.save_data``.

:func:`build_settings` merges, in this order: the defaults (or the ``QUICK`` settings),
the ``--config`` TOML file (its top-level keys and its ``[NAME]`` table), and the flags.
"""

from __future__ import annotations

import dataclasses
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


def targets() -> dict[str, Target]:
    """All figures of :func:`gtv_symbolic.plots.figures`, in registry order."""
    from .. import plots

    out = {}
    for name, spec in plots.figures().items():
        mod = spec.experiment_module()

        def run(s, out_dir, *, save_data=None, progress=None, cache=None, scheduler=None,
                workers=None, quick=False, _mod=mod, _name=name):
            result = _mod.run(s, None, progress=progress, cache=cache, scheduler=scheduler,
                              workers=workers)
            paths = list(plots.render(_name, result, out_dir))
            if save_data is not None:
                paths += list(plots.save_data(_name, result, save_data))
            return paths

        out[name] = Target(name, spec.doc, mod.Settings, mod.QUICK, run,
                           getattr(mod, "validate", None))
    return out


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
