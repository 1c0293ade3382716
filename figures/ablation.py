"""Causal ablation: J0 vs J1 targets and the naive estimator vs kappa.

Renders into this folder: ``python figures/ablation.py [--save-data PATH] [--quick]``.
"""

import sys
from pathlib import Path

from gtv_symbolic.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "ablation", "--out", str(Path(__file__).parent), *sys.argv[1:]]))
