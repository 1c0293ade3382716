"""Render Figure 2 (linear-model ensembles on {-1, 0, 1}) into this folder.

    python figures/fig2.py [--quick] [...]

Extra arguments are passed to ``gtv figures fig2`` (e.g. ``--n-models``, ``--seed``,
``--save-data PATH.npz``, ``--no-cache``).
"""

import sys
from pathlib import Path

from gtv_symbolic.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "fig2", "--out", str(Path(__file__).parent), *sys.argv[1:]]))
