"""The package's layout rules (issue 10, item 1): small modules, no reaching into private names.

* every module has at most :data:`MAX_LINES` lines;
* no module imports a private name (``_x``) of another public module, neither by
  ``from M import _x`` nor by an attribute ``M._x`` of an imported module ``M``; private
  modules (``_runtime``, ``training/_checks.py``, ...) exist to share helpers under public names.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "gtv_symbolic"
MAX_LINES = 500
FILES = sorted(ROOT.rglob("*.py"))


def _modname(path: Path) -> str:
    parts = ("gtv_symbolic",) + path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _public(modname: str) -> bool:
    return not any(p.startswith("_") for p in modname.split(".")[1:])


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    """Absolute name of the module a ``from ... import`` reads from."""
    if node.level == 0:
        return node.module or ""
    pkg = _modname(path).split(".")
    if path.name != "__init__.py":
        pkg = pkg[:-1]
    base = pkg[: len(pkg) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(path: Path) -> list[str]:
    """``module._name`` references of ``path`` into other public modules."""
    me = _modname(path)
    tree = ast.parse(path.read_text(), filename=str(path))
    out, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            src = _resolve(path, node)
            for a in node.names:
                full = f"{src}.{a.name}"
                if _private(a.name) and src != me and _public(src) and src.startswith("gtv_symbolic"):
                    # ``from . import _kernels`` names a private module: allowed
                    if not (ROOT.parent / (full.replace(".", "/") + ".py")).exists():
                        out.append(f"from {src} import {a.name}")
                if not _private(a.name) and _public(full) and (
                        (ROOT.parent / (full.replace(".", "/") + ".py")).exists()
                        or (ROOT.parent / full.replace(".", "/") / "__init__.py").exists()):
                    aliases[a.asname or a.name] = full
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("gtv_symbolic") and _public(a.name):
                    aliases[a.asname or a.name.split(".")[0]] = a.asname and a.name or "gtv_symbolic"
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and _private(node.attr)
                and aliases[node.value.id] != me):
            out.append(f"{aliases[node.value.id]}.{node.attr}")
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_module_is_small(path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(ROOT)} has {n} lines (at most {MAX_LINES})"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_private_imports(path):
    assert private_uses(path) == []


def test_private_use_detected(tmp_path, monkeypatch):
    """The check finds both forms (it would pass vacuously if it could not)."""
    bad = ROOT / "kernels" / "linear.py"
    src = "from ..training.fit import _CHUNK_ELEMS\nfrom .. import proxy\nproxy._chunks\n"
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: src if self == bad else
                        Path.read_bytes(self).decode())
    assert private_uses(bad) == ["from gtv_symbolic.training.fit import _CHUNK_ELEMS",
                                 "gtv_symbolic.proxy._chunks"]
