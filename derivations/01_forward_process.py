"""Forward process: Gaussian conditional, alpha_t and S_t, mixture marginal.

Builds the ``forward-process`` derivation
(``gtv_symbolic/derivations/d01_forward_process.py``), verifies every step
and writes ``forward-process.md`` and ``forward-process.tex`` beside this script. Same as
``gtv derive forward-process --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("forward-process", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
