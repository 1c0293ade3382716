"""DSM vs score matching: J1 = J0 + E[lambda tr C]/2; denoiser weight.

Builds the ``dsm-vs-sm`` derivation
(``gtv_symbolic/derivations/d05_dsm_vs_sm.py``), verifies every step
and writes ``dsm-vs-sm.md`` and ``dsm-vs-sm.tex`` beside this script. Same as
``gtv derive dsm-vs-sm --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("dsm-vs-sm", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
