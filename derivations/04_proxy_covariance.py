"""Proxy-score covariance C and its three forms (paper Sec. 2).

Builds the ``proxy-covariance`` derivation
(``gtv_symbolic/derivations/d04_proxy_covariance.py``), verifies every step
and writes ``proxy-covariance.md`` and ``proxy-covariance.tex`` beside this script. Same as
``gtv derive proxy-covariance --out derivations``.
"""

from pathlib import Path

from gtv_symbolic import derive

if __name__ == "__main__":
    d = derive.run("proxy-covariance", out=Path(__file__).resolve().parent)
    print(f"{d.name}: {len(d.steps)} steps verified")
