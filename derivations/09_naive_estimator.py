"""Naive estimator: mean s, V = kappa D C D delta (Prop. 4.1).

Builds the ``naive-estimator`` derivation
(``gtv_symbolic/derivations/d09_naive_estimator.py``), verifies every step
and writes ``naive-estimator.md`` and ``naive-estimator.tex`` beside this script. Same as
``gtv derive naive-estimator --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("naive-estimator", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
