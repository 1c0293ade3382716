"""Render Figure 3 (square data, Gaussian vs Fourier features) into this folder.

    python figures/fig3.py [--quick] [...]

Extra arguments are passed to ``gtv figures fig3`` (e.g. ``--n-models``, ``--seed``,
``--save-data PATH.npz``, ``--no-cache``).
"""

import sys
from pathlib import Path

from gtv_symbolic.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "fig3", "--out", str(Path(__file__).parent), *sys.argv[1:]]))
