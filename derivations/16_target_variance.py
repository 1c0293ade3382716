"""Targets averaged over M posterior draws: Cov = Sigma_post / M, V = V_mis + V_C / M.

Builds the ``target-variance`` derivation
(``gtv_symbolic/derivations/d16_target_variance.py``), verifies every step
and writes ``target-variance.md`` and ``target-variance.tex`` beside this script. Same as
``gtv derive target-variance --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("target-variance", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
