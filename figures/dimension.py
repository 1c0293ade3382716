"""Render the dimension figure (where the proxy target's variance matters, as a function of the dimension D) into this folder.

    python figures/dimension.py [--quick] [...]

Extra arguments are passed to ``gtv figures dimension`` (see ``gtv figures dimension --help``).
"""

import sys
from pathlib import Path

from gtv_symbolic.cli import main

if __name__ == "__main__":
    sys.exit(main(["figures", "dimension", "--out", str(Path(__file__).parent), *sys.argv[1:]]))
