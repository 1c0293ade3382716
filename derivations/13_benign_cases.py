"""Derivation script for `benign-cases`.

Builds the ``benign-cases`` derivation
(``gtv_symbolic/derivations/d13_benign_cases.py``), verifies every step
and writes ``benign-cases.md`` and ``benign-cases.tex`` beside this script. Same as
``gtv derive benign-cases --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("benign-cases", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
