"""``python -m gtv_symbolic``: the ``gtv`` command line (:func:`gtv_symbolic.cli.main`)."""

import sys

from .cli import main

__all__: list[str] = []

if __name__ == "__main__":  # importing the module (pydoc, Sphinx) must not run the CLI
    sys.exit(main())
