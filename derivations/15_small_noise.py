"""Small-noise (linear-noise) expansion behind typical.semiclassical_naive / _linear.

Builds the ``small-noise`` derivation
(``gtv_symbolic/derivations/d15_small_noise.py``), verifies every step
and writes ``small-noise.md`` and ``small-noise.tex`` beside this script. Same as
``gtv derive small-noise --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("small-noise", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
