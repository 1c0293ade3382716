"""gtv_symbolic: checked symbolic mathematics and fast numerics for
"Generalization through variance: how noise shapes inductive biases in diffusion models"
(J. Vastola, ICLR 2025, arXiv:2504.12532).

Nothing symbolic runs at import time; compiled numeric functions are built lazily.
"""

from . import data, numeric, proxy, schedules, symbols

__all__ = ["data", "numeric", "proxy", "schedules", "symbols"]
__version__ = "0.1.0"
