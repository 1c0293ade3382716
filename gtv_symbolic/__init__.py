"""gtv_symbolic: checked symbolic mathematics and fast numerics for
"Generalization through variance: how noise shapes inductive biases in diffusion models"
(J. Vastola, ICLR 2025, arXiv:2504.12532).

Nothing heavy runs at import time: submodules (which pull in SymPy, SciPy, Numba) load on
first attribute access, and compiled numeric functions are built lazily.

>>> import gtv_symbolic
>>> isinstance(gtv_symbolic.__version__, str)
True
"""

import importlib

__all__ = ["data", "numeric", "proxy", "schedules", "symbols"]


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return "0+unknown"
    try:
        return version("gtv_symbolic")
    except PackageNotFoundError:  # a source tree that is not installed
        return "0+unknown"


def __getattr__(name):
    # PEP 562: submodules and __version__ (importlib.metadata costs ~0.1 s) load on first use,
    # so ``import gtv_symbolic`` stays far under a second
    if name == "__version__":
        globals()["__version__"] = v = _version()
        return v
    if name in __all__:
        mod = importlib.import_module(f".{name}", __name__)
        globals()[name] = mod
        return mod
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
