"""Render Figure 1 (proxy-score variance ratio) into this folder: ``python figures/fig1.py``."""

import sys
from pathlib import Path

from gtv_symbolic.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "fig1", "--out", str(Path(__file__).parent), *sys.argv[1:]]))
