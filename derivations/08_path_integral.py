"""MSR path integral, cumulants M1, M2, effective SDE (Prop. 3.1).

Builds the ``path-integral`` derivation
(``gtv_symbolic/derivations/d08_path_integral.py``), verifies every step
and writes ``path-integral.md`` and ``path-integral.tex`` beside this script. Same as
``gtv derive path-integral --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("path-integral", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
