"""Phase figure: a generalization measure over eps x F/P.

Renders into this folder: ``python figures/phase.py [--save-data PATH] [--quick]``.
"""

import sys
from pathlib import Path

from gtv_symbolic.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "phase", "--out", str(Path(__file__).parent), *sys.argv[1:]]))
