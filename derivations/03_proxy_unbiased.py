"""The proxy score is unbiased: E_post[s~] = s.

Builds the ``proxy-unbiased`` derivation
(``gtv_symbolic/derivations/d03_proxy_unbiased.py``), verifies every step
and writes ``proxy-unbiased.md`` and ``proxy-unbiased.tex`` beside this script. Same as
``gtv derive proxy-unbiased --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("proxy-unbiased", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
