"""Render the nn-vs-theory figure (trained MLP ensembles (NTK and standard parameterisation) against the lazy-regime prediction) into this folder.

    python figures/nn_vs_theory.py [--quick] [...]

Extra arguments are passed to ``gtv figures nn-vs-theory`` (see ``gtv figures nn-vs-theory --help``).
"""

import sys
from pathlib import Path

from gtv_symbolic.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "nn-vs-theory", "--out", str(Path(__file__).parent), *sys.argv[1:]]))
