"""JAX, imported only when a network is used, with 64-bit floats inside every call.

``x64`` wraps a function in ``jax.enable_x64(True)`` so the package's float64 precision holds
without changing JAX's global default for other code in the process.
"""

from __future__ import annotations

import functools

try:
    import jax
    import jax.numpy as jnp
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installation
    raise ModuleNotFoundError(
        "the network experiments need JAX: pip install 'gtv_symbolic[nn]' "
        "(jax, jaxlib, optax)") from exc

__all__ = ["jax", "jnp", "x64"]


def x64(func):
    """Run ``func`` with ``jax_enable_x64`` on (scoped to the call)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with jax.enable_x64(True):
            return func(*args, **kwargs)

    return wrapper
