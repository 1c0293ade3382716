"""The documentation site covers what the repository holds (the build itself runs in ``.ci/run``).

Sphinx fails on a page that points at a missing file, but not on a file that no page shows:
these checks catch a new module, derivation document or figure that the docs leave out.
"""

import pkgutil
import re
from pathlib import Path

import gtv_symbolic

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _public_modules():
    return sorted(info.name for info in pkgutil.walk_packages(gtv_symbolic.__path__, "gtv_symbolic.")
                  if not any(p.startswith("_") for p in info.name.split(".")))


def test_api_reference_has_every_public_module():
    text = "\n".join(p.read_text() for p in (DOCS / "api").glob("*.md"))
    documented = set(re.findall(r"^\.\. automodule:: (\S+)$", text, flags=re.M))
    missing = sorted(set(_public_modules()) - documented)
    assert not missing, f"public modules missing from docs/api/*.md: {missing}"
    gone = sorted(m for m in documented if m != "gtv_symbolic" and m not in _public_modules())
    assert not gone, f"docs/api/*.md documents modules that do not exist: {gone}"


def test_every_derivation_document_has_a_page():
    docs = {p.stem for p in (ROOT / "derivations").glob("*.md")} - {"README"}
    assert docs, "no derivation documents found"
    for name in sorted(docs):
        page = DOCS / "derivations" / f"{name}.md"
        assert page.exists(), f"derivations/{name}.md has no page docs/derivations/{name}.md"
        assert f"../../derivations/{name}.md" in page.read_text()


_IMAGE = r"!\[[^\]]*\]\(\.\./figures/([^)]+\.png)\)"
#: a block the docs show only once its file is committed (docs/conf.py, ``_source_read``)
_IF_EXISTS = r"<!-- if-exists: figures/(\S+) -->\n(.*?)<!-- (?:else|end-if-exists) -->"


def test_gallery_shows_every_committed_figure():
    gallery = (DOCS / "gallery.md").read_text()
    shown = set(re.findall(_IMAGE, gallery))
    conditional = {name for path, block in re.findall(_IF_EXISTS, gallery, flags=re.S)
                   for name in re.findall(_IMAGE, block) if name == path}
    committed = {p.name for p in (ROOT / "figures").glob("*.png")}
    assert committed, "no committed figures found"
    assert committed <= shown, f"figures missing from docs/gallery.md: {sorted(committed - shown)}"
    absent = shown - committed - conditional
    assert not absent, f"docs/gallery.md shows missing figures: {sorted(absent)}"
    for table in (ROOT / "figures").glob("*_table.md"):
        assert (DOCS / "figures" / table.name).exists(), f"no page for figures/{table.name}"
