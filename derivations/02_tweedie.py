"""Tweedie: true score s = S^-1 (alpha E[x0|x] - x).

Builds the ``tweedie`` derivation
(``gtv_symbolic/derivations/d02_tweedie.py``), verifies every step
and writes ``tweedie.md`` and ``tweedie.tex`` beside this script. Same as
``gtv derive tweedie --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("tweedie", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
