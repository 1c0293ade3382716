"""Render the target-variance figure (linear models trained on targets averaged over M posterior draws) into this folder.

    python figures/target_variance.py [--quick] [...]

Extra arguments are passed to ``gtv figures target-variance`` (see ``gtv figures target-variance --help``).
"""

import sys
from pathlib import Path

from gtv_symbolic.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "target-variance", "--out", str(Path(__file__).parent), *sys.argv[1:]]))
