"""Derivation script for `ratio-identities`.

Builds the ``ratio-identities`` derivation
(``gtv_symbolic/derivations/d14_ratio_identities.py``), verifies every step
and writes ``ratio-identities.md`` and ``ratio-identities.tex`` beside this script. Same as
``gtv derive ratio-identities --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("ratio-identities", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
