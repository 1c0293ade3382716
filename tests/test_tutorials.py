"""The tutorials in ``docs/tutorials`` execute without error (issue 12, item 2).

Each tutorial is a jupytext MyST-markdown notebook. It is read with ``jupytext.read`` and run
cell by cell in a fresh ``python3`` kernel by ``nbclient``, with a per-cell time limit; a cell
that raises fails the test with that cell's traceback. The kernel runs in a temporary folder
(nothing is written into the repository), with the interpreter running the tests (a ``python3``
kernelspec for ``sys.executable`` is written to a temporary ``JUPYTER_PATH``, so kernels
registered elsewhere cannot take its place) and this checkout of ``gtv_symbolic``
(``PYTHONPATH``), whatever is installed.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import jupytext
import nbclient
import nbformat
import pytest
from ipykernel.kernelspec import install as install_kernelspec

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "docs" / "tutorials"
NOTEBOOKS = sorted(p for p in TUTORIALS.glob("*.md") if p.name != "index.md")
CELL_TIMEOUT = 180  # seconds per cell; each tutorial takes ~5-15 s in total on one idle core


def test_four_tutorials_listed_in_the_index():
    assert len(NOTEBOOKS) >= 4, f"expected the four tutorials in {TUTORIALS}, found {NOTEBOOKS}"
    index = (TUTORIALS / "index.md").read_text()
    block = re.search(r"```\{toctree\}(.*?)```", index, re.S)
    assert block, "docs/tutorials/index.md has no {toctree}"
    entries = {ln.strip() for ln in block.group(1).splitlines()
               if ln.strip() and not ln.strip().startswith(":")}
    assert entries == {p.stem for p in NOTEBOOKS}, entries


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_tutorial_has_jupytext_header(path):
    text = path.read_text()
    assert text.startswith("---\njupytext:\n"), f"{path.name}: no jupytext front matter"
    nb = jupytext.read(path)
    rep = nb.metadata["jupytext"]["text_representation"]
    assert (rep["extension"], rep["format_name"]) == (".md", "myst"), rep
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert sum(c.cell_type == "code" for c in nb.cells) >= 3, f"{path.name}: too few code cells"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_tutorial_executes(path, tmp_path, monkeypatch):
    before = sorted(p.name for p in TUTORIALS.iterdir())
    pp = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + (os.pathsep + pp if pp else ""))
    monkeypatch.setenv("GTV_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter" / "share" / "jupyter"))
    install_kernelspec(kernel_name="python3", prefix=str(tmp_path / "jupyter"))
    nb = jupytext.read(path)
    # a first cell, added here only, records the kernel's interpreter and gtv_symbolic
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        "import sys, gtv_symbolic\nprint(sys.executable)\nprint(gtv_symbolic.__file__)"))
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    failure = None
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        failure = f"{path.name}: a cell failed:\n{exc}"
    except nbclient.exceptions.CellTimeoutError as exc:
        failure = f"{path.name}: a cell ran longer than {CELL_TIMEOUT} s:\n{exc}"
    if failure:
        pytest.fail(failure, pytrace=False)
    exe, imported = nb.cells[0].outputs[0]["text"].splitlines()
    assert exe == sys.executable, (exe, sys.executable)
    assert Path(imported) == ROOT / "gtv_symbolic" / "__init__.py", imported
    # a page of the docs shows no warnings or progress bars (stderr), and nothing was written
    stderr = [o["text"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.get("name") == "stderr"]
    assert not stderr, f"{path.name} wrote to stderr:\n" + "".join(stderr)
    assert sorted(p.name for p in TUTORIALS.iterdir()) == before
