"""Every docstring example of every public module runs (doctest), so the examples stay true."""

import doctest
import importlib
import pkgutil

import pytest

import gtv_symbolic


def _modules(public_only: bool):
    names = []
    for info in pkgutil.walk_packages(gtv_symbolic.__path__, "gtv_symbolic."):
        parts = info.name.split(".")
        if parts[-1] == "__main__" or (public_only and any(p.startswith("_") for p in parts[1:])):
            continue
        names.append(info.name)
    return sorted(names)


MODULES = _modules(public_only=True)
#: private modules too: a public name may be defined in one (and re-exported), its examples run
ALL_MODULES = _modules(public_only=False)
#: Modules of other branches (robust, d-engine, runtime) that had no __all__ when this test was
#: written; their owners add it (then the xfail turns into a pass).
_PENDING_ALL: set[str] = set()  # public modules still without __all__ (none)


@pytest.mark.parametrize("name", ALL_MODULES)
def test_module_doctests(name):
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                          verbose=False)
    assert res.failed == 0, f"{name}: {res.failed} of {res.attempted} doctest examples failed"


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.xfail(reason="owned by another branch")) if n in _PENDING_ALL
    else n for n in MODULES])
def test_public_module_has_all(name):
    mod = importlib.import_module(name)
    assert hasattr(mod, "__all__"), f"{name} has no __all__"
    for n in mod.__all__:
        assert hasattr(mod, n), f"{name}.__all__ lists missing {n!r}"
