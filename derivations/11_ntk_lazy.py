"""Lazy/NTK regime: kernel gradient flow and its 1/P covariance (Prop. 5.2, corrected).

Builds the ``ntk-lazy`` derivation
(``gtv_symbolic/derivations/d11_ntk_lazy.py``), verifies every step
and writes ``ntk-lazy.md`` and ``ntk-lazy.tex`` beside this script. Same as
``gtv derive ntk-lazy --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("ntk-lazy", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
