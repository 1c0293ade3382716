"""Theory vs trained ensembles (V-kernel Gaussian-field prediction).

Renders into this folder: ``python figures/theory_vs_ensemble.py [--save-data PATH] [--quick]``.
"""

import sys
from pathlib import Path

from gtv_symbolic.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "theory-vs-ensemble", "--out", str(Path(__file__).parent), *sys.argv[1:]]))
