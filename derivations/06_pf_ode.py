"""The PF-ODE preserves the marginals (continuity equation).

Builds the ``pf-ode-marginals`` derivation
(``gtv_symbolic/derivations/d06_pf_ode.py``), verifies every step
and writes ``pf-ode-marginals.md`` and ``pf-ode-marginals.tex`` beside this script. Same as
``gtv derive pf-ode-marginals --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("pf-ode-marginals", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
