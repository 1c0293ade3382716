"""Derivation script for `boundary-regions`.

Builds the ``boundary-regions`` derivation
(``gtv_symbolic/derivations/d12_boundary_regions.py``), verifies every step
and writes ``boundary-regions.md`` and ``boundary-regions.tex`` beside this script. Same as
``gtv derive boundary-regions --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("boundary-regions", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
