"""Figure registry: one function per figure, registered by name.

A figure function has the signature ``func(out_dir, *, save_data=None, progress=None, **opts)``
where ``opts`` are only the options it declared at registration (a subset of
``COMMON_OPTIONS``). It writes PNG + PDF into ``out_dir``, the arrays behind the figure to
``save_data`` (an ``.npz`` path) when given, and returns the list of written paths.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

COMMON_OPTIONS = ("seed", "n_models", "n_samples", "quick", "no_cache")

# Modules that register figures; imported lazily by :func:`figures`.
_FIGURE_MODULES = ("fig1", "fig2", "fig3", "theory_figs")


@dataclass(frozen=True)
class FigureSpec:
    name: str
    func: object
    options: frozenset = field(default_factory=frozenset)
    doc: str = ""


_REGISTRY: dict[str, FigureSpec] = {}


def register(name: str, options=()):
    """Decorator registering a figure function under ``name``."""
    unknown = set(options) - set(COMMON_OPTIONS)
    if unknown:
        raise ValueError(f"unknown figure options {sorted(unknown)}; allowed {COMMON_OPTIONS}")

    def deco(func):
        doc = (func.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = FigureSpec(name, func, frozenset(options), doc[0] if doc else "")
        return func

    return deco


def figures() -> dict[str, FigureSpec]:
    """All registered figures, in registration order."""
    for mod in _FIGURE_MODULES:
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{mod}":
                raise
    return dict(_REGISTRY)
