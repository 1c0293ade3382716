r"""The two-layer network's forward pass, shared by its modules (see :mod:`.mlp`).

``embed`` is the time embedding ``e(t)``, ``forward`` the network ``mu_theta(x, e)``,
``linearised`` its first-order expansion about ``theta0`` and ``hidden`` the pieces of the
pre-activations that the lazy kernel needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._jax import jax, jnp

if TYPE_CHECKING:  # annotations only: mlp imports this module
    from .mlp import MLP

__all__ = ["embed", "forward", "linearised", "hidden"]


def embed(net: MLP, t, xp=jnp):
    """``e(t)`` (module docstring); ``xp`` is ``jax.numpy`` (traced) or ``numpy``."""
    c = 2 * (xp.log(t) - np.log(net.eps)) / (np.log(net.T) - np.log(net.eps)) - 1
    k = np.arange(1, net.n_freq + 1, dtype=np.float64)
    pk = np.pi * c[..., None] * k
    return xp.concatenate([c[..., None], xp.sin(pk), xp.cos(pk)], axis=-1)


def forward(net: MLP, theta, x, e):
    """``mu_theta`` for points ``x (..., D)`` with embeddings ``e (..., 1 + 2K)``."""
    H, d = net.width, net.d_in
    W = theta[:H * d].reshape(H, d)
    b = theta[H * d:H * (d + 1)]
    a = theta[H * (d + 1):].reshape(H, net.dim)
    z = jnp.concatenate([x, e], axis=-1)
    pre = (net.weight_std / np.sqrt(d)) * (z @ W.T) + net.bias_std * b
    return net.out_scale * (jnp.tanh(pre) @ a)


def linearised(net, theta0, delta, x, e):
    """``mu_theta0 + J(theta0) delta`` (the lazy network) by one forward-mode product."""
    f0, df = jax.jvp(lambda th: forward(net, th, x, e), (theta0,), (delta,))
    return f0 + df


def hidden(net: MLP, theta, x, t):
    """Pre-activations' pieces: ``z_tilde (n, d+1)``, ``tanh (n, H)``, ``a (H, D)``."""
    e = embed(net, np.asarray(t, dtype=float), xp=np)
    H, d = net.width, net.d_in
    W = theta[:H * d].reshape(H, d)
    b = theta[H * d:H * (d + 1)]
    a = theta[H * (d + 1):].reshape(H, net.dim)
    z = np.concatenate([x, e], axis=-1)
    zt = np.concatenate([(net.weight_std / np.sqrt(d)) * z,
                         np.full((z.shape[0], 1), net.bias_std)], axis=1)
    pre = (net.weight_std / np.sqrt(d)) * (z @ W.T) + net.bias_std * b
    return zt, np.tanh(pre), a
