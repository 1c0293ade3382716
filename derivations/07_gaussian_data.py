"""Gaussian data N(m0, S0): score, posterior, constant C.

Builds the ``gaussian-data`` derivation
(``gtv_symbolic/derivations/d07_gaussian_data.py``), verifies every step
and writes ``gaussian-data.md`` and ``gaussian-data.tex`` beside this script. Same as
``gtv derive gaussian-data --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("gaussian-data", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
