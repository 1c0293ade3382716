"""Sphinx configuration of the gtv_symbolic documentation.

Build (warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Sphinx because the API reference comes from the docstrings (their ``.. math::`` formulas and
doctests, through autodoc and napoleon); MyST because the checked derivations are Markdown
documents written by ``gtv derive all`` with ``$...$`` math, included here unchanged; MyST-NB
because the tutorials are jupytext Markdown notebooks executed at every build.
"""

import dataclasses
import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# document and run the checkout this file belongs to, also when another copy is installed
# (PYTHONPATH reaches the kernels that execute the tutorials)
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

project = "gtv_symbolic"
author = "gtv_symbolic contributors"
copyright = "2025-2026, gtv_symbolic contributors"
try:
    from importlib.metadata import version as _version

    release = _version("gtv_symbolic")
except Exception:  # a source tree that is not installed
    release = "0+unknown"
version = release

extensions = [
    "myst_nb",  # Markdown pages and executed notebooks (brings myst_parser)
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # the NumPy-style "Parameters"/"Returns" sections
    "sphinx.ext.mathjax",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**/.ipynb_checkpoints"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}

# --- MyST ------------------------------------------------------------------------------
# $...$ / $$...$$ (the derivation documents) and \begin{align} blocks
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# --- MyST-NB: the tutorials run at every build; an error or a slow cell fails it -------
nb_execution_mode = "force"
nb_execution_timeout = 120
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_in_temp = True  # notebooks write their files into a temporary folder
nb_execution_excludepatterns = ["_build/*"]

# --- autodoc ---------------------------------------------------------------------------
# every name of a module's __all__ is listed, also one without a docstring of its own
autodoc_default_options = {"members": True, "undoc-members": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_param = False  # the "type" slot often holds prose here: no cross-references from it
napoleon_use_ivar = True  # "Attributes" sections as fields: autodoc already lists the members

# --- HTML ------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"gtv_symbolic {release}"
html_static_path = []


def _public(modname: str) -> bool:
    return not any(part.startswith("_") for part in modname.split("."))


def _documented_elsewhere(modname: str, name: str, obj) -> bool:
    """True if ``modname.name`` is documented under another name of the API reference.

    Each object is documented once: a function or class a package re-exports from its
    submodules appears with the package (where users reach it), and one imported from another
    public module appears with that module.
    """
    parent = modname.rpartition(".")[0]
    pkg = sys.modules.get(parent)
    # data keep their place: their ``#:`` doc comment is where they are defined
    if (callable(obj) and pkg is not None and parent != "gtv_symbolic" and _public(parent)
            and name in getattr(pkg, "__all__", ()) and getattr(pkg, name, None) is obj):
        return True
    home = getattr(obj, "__module__", None) if callable(obj) else None
    return bool(isinstance(home, str) and home.startswith("gtv_symbolic.") and _public(home)
                and home != modname and not home.startswith(modname + "."))


def _skip_member(app, what, name, obj, skip, options):
    if skip or what != "module":
        return None
    modname = getattr(getattr(app.env, "current_document", None), "autodoc_module", "")
    if modname and _documented_elsewhere(modname, name, obj):
        return True
    return None


# Markdown link or image target: ](target) or ](target#anchor)
_LINK = re.compile(r"(\]\()([^)\s#]+)(#[^)\s]*)?(\))")


def _include_read(app, relative_path, parent_docname, content):
    """Keep the relative links of a repository file included by a page of the docs.

    A file from the repository's folder ``X`` is included by a page in ``docs/X`` (the docs
    mirror the repository's layout, e.g. ``docs/derivations/NAME.md`` includes
    ``derivations/NAME.md``). A link that has a page at the mirrored place stays as it is;
    a link to another file of the repository (an image, a ``.tex`` or ``.py`` file) is
    rewritten to point at that file, which Sphinx then copies (images, downloads).
    """
    src = (Path(app.srcdir) / relative_path).resolve()
    try:
        rel_dir = src.parent.relative_to(ROOT)
    except ValueError:
        return
    if rel_dir.parts[:1] == ("docs",):
        return
    mirror = DOCS / rel_dir

    def fix(m):
        target = m.group(2)
        if ":" in target or target.startswith("/") or (mirror / target).exists():
            return m.group(0)
        if not (src.parent / target).exists():
            return m.group(0)  # left for Sphinx to report
        new = Path(os.path.relpath(src.parent / target, mirror)).as_posix()
        return m.group(1) + new + (m.group(3) or "") + m.group(4)

    content[0] = _LINK.sub(fix, content[0])


# <!-- if-exists: PATH --> shown when the committed file ROOT/PATH exists <!-- else --> shown
# when it does not <!-- end-if-exists -->: pages about outputs that ``gtv reproduce`` writes
# (e.g. a figure not committed yet) build before and after it
_IF_EXISTS = re.compile(r"<!-- if-exists: (\S+) -->\n(.*?)(?:<!-- else -->\n(.*?))?<!-- end-if-exists -->\n",
                        flags=re.S)


def _source_read(app, docname, source):
    source[0] = _IF_EXISTS.sub(
        lambda m: m.group(2) if (ROOT / m.group(1)).exists() else (m.group(3) or ""), source[0])


def _settings_parameters(app, what, name, obj, options, lines):
    """A NumPy "Parameters" section for a settings dataclass, from its fields' help texts.

    Experiment settings declare each field with ``setting(default, help)``; the CLI shows the
    same text. Runs before napoleon (priority 400), which turns the section into fields.
    """
    if what != "class" or not dataclasses.is_dataclass(obj):
        return
    fields = [f for f in dataclasses.fields(obj) if "help" in f.metadata]
    if not fields or any(line.strip() == "Parameters" for line in lines):
        return
    lines += ["", "Parameters", "----------"]
    for f in fields:
        tp = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        lines += [f"{f.name} : {tp}, default ``{f.default!r}``", f"    {f.metadata['help'].rstrip('.')}."]
    lines.append("")


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-docstring", _settings_parameters, priority=400)
    app.connect("include-read", _include_read)
    app.connect("source-read", _source_read)
