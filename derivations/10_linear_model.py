"""Linear models: ridge solution, mean, 1/P V-kernel (Prop. 5.1).

Builds the ``linear-model`` derivation
(``gtv_symbolic/derivations/d10_linear_model.py``), verifies every step
and writes ``linear-model.md`` and ``linear-model.tex`` beside this script. Same as
``gtv derive linear-model --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("linear-model", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
