"""``help()`` works on every module of the package and documents only the package's own names.

``help(module)`` is ``pydoc`` rendering the module as text: it must not raise, and the classes
and functions it documents must be the package's, not NumPy's, SciPy's or SymPy's (a module
that lists a re-exported third-party function in ``__all__``, or has no ``__all__`` while
importing one under a public name that pydoc counts as its own, shows screens of their
docstrings).
"""

import importlib
import pkgutil
import pydoc

import pytest

import gtv_symbolic

MODULES = ["gtv_symbolic"] + sorted(
    info.name for info in pkgutil.walk_packages(gtv_symbolic.__path__, "gtv_symbolic."))
FOREIGN = ("numpy", "scipy", "sympy")


class _RecordingDoc(pydoc.TextDoc):
    """The plain-text renderer of ``help()``, recording every class and routine it documents."""

    def __init__(self):
        super().__init__()
        self.documented = []

    def docclass(self, object, *args, **kwargs):
        self.documented.append(object)
        return super().docclass(object, *args, **kwargs)

    def docroutine(self, object, *args, **kwargs):
        self.documented.append(object)
        return super().docroutine(object, *args, **kwargs)


def _home(obj) -> str:
    return getattr(obj, "__module__", None) or type(obj).__module__ or ""


@pytest.mark.parametrize("name", MODULES)
def test_help_renders_own_names_only(name):
    mod = importlib.import_module(name)
    renderer = _RecordingDoc()
    text = pydoc.render_doc(mod, renderer=renderer)
    assert name in text
    foreign = sorted({f"{getattr(o, '__qualname__', o)!s} ({_home(o)})" for o in renderer.documented
                      if _home(o).split(".")[0] in FOREIGN})
    assert not foreign, f"help({name}) documents third-party objects: {foreign}"


def test_recorder_sees_foreign_names():
    # the check can fail: a module that re-exports a SciPy function in __all__ is caught
    import types

    from scipy.special import logsumexp

    fake = types.ModuleType("gtv_symbolic_fake", "A module re-exporting SciPy.")
    fake.logsumexp = logsumexp
    fake.__all__ = ["logsumexp"]
    renderer = _RecordingDoc()
    pydoc.render_doc(fake, renderer=renderer)
    assert any(_home(o).startswith("scipy") for o in renderer.documented)
