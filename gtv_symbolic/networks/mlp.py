r"""A one-hidden-layer ``tanh`` MLP denoiser ``mu_theta(x, t)`` in JAX (issue 13).

The input is ``z = (x, e(t))`` with the fixed time embedding

.. math:: c(t) = 2\,\frac{\log t - \log\varepsilon}{\log T - \log\varepsilon} - 1,\qquad
          e(t) = \big(c,\ \sin\pi k c,\ \cos\pi k c\big)_{k = 1..K},

and the output, in denoiser form (paper Sec. 5), is

.. math:: \mu_\theta(x, t) = s_H\, a^\top \tanh\!\Big(\frac{\sigma_w}{\sqrt{d_{in}}} W z
          + \sigma_b b\Big),\qquad
          s_H = \begin{cases} H^{-1/2} & \text{NTK (lazy)}\\ H^{-1} & \text{mean-field (rich)}
          \end{cases}

with all parameters ``N(0, 1)`` at initialisation. Gradient descent uses the step
``lr`` (NTK) or ``lr * H`` (mean-field), so that the function-space kernel
``lr_eff * J J^T`` is the same at initialisation in both parameterisations and only the
mean-field hidden layer moves by ``O(1)`` (the rich regime; "standard" below). Hidden units
come in pairs with equal incoming and opposite outgoing weights (antisymmetric
initialisation), so ``mu_theta0 = 0`` (up to rounding) and the lazy offset ``f0`` vanishes.

Parameters are one flat vector ``theta`` of length ``p = H (d_in + 1) + H D`` in the order
``(W (H, d_in), b (H,), a (H, D))``: the Jacobian ``J = d mu / d theta`` is then a plain
``(n, D, p)`` array and the empirical NTK is ``Theta = J J^T`` (Prop. 5.2 / Sec. 5).

JAX is imported only by this subpackage, with 64-bit floats enabled inside each call
(``jax.enable_x64``), CPU by default and unchanged on a GPU.

Examples
--------
>>> import numpy as np
>>> net = MLP(width=8, eps=1e-2)
>>> theta = init_params(net, np.random.default_rng(0))
>>> theta.shape, net.n_params
((48,), 48)
>>> bool(np.abs(apply(net, theta, np.zeros((3, 1)), np.full(3, 0.5))).max() < 1e-14)
True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .._validate import int_arg
from ._forward import embed, forward, linearised
from ._jax import jax, jnp, x64

__all__ = ["MLP", "PARAMETERISATIONS", "init_params", "apply", "apply_linearised",
           "jacobian", "empirical_ntk", "prng_key", "positive", "MAX_WIDTH"]

PARAMETERISATIONS = ("ntk", "standard")
MAX_WIDTH = 65536


@dataclass(frozen=True)
class MLP:
    """Architecture and parameterisation (hashable: a static argument of the jitted maps)."""

    width: int
    eps: float
    T: float = 1.0
    parameterisation: str = "ntk"
    dim: int = 1
    n_freq: int = 1
    weight_std: float = 3.0
    bias_std: float = 1.0

    def __post_init__(self):
        int_arg(self.width, "width", 2, MAX_WIDTH)
        if self.width % 2:
            raise ValueError(f"width must be even (antisymmetric pairs), got {self.width}")
        if self.parameterisation not in PARAMETERISATIONS:
            raise ValueError(f"parameterisation must be one of {PARAMETERISATIONS}, got "
                             f"{self.parameterisation!r}")
        int_arg(self.dim, "dim", 1, 4096)
        int_arg(self.n_freq, "n_freq", 0, 64)
        T = positive(self.T, "T")
        if not float(self.eps) < T:
            raise ValueError(f"eps must lie in (0, T) = (0, {T}), got {self.eps!r}")
        positive(self.eps, "eps")
        positive(self.weight_std, "weight_std")
        positive(self.bias_std, "bias_std", zero_ok=True)

    @property
    def d_in(self) -> int:
        return self.dim + 1 + 2 * self.n_freq

    @property
    def n_params(self) -> int:
        return self.width * (self.d_in + 1) + self.width * self.dim

    @property
    def out_scale(self) -> float:
        return self.width ** -0.5 if self.parameterisation == "ntk" else 1.0 / self.width

    def effective_lr(self, lr: float) -> float:
        """The gradient step used for a nominal ``lr`` (``lr * H`` in the mean-field case)."""
        lr = positive(lr, "lr")
        return lr if self.parameterisation == "ntk" else lr * self.width


def positive(v, name: str, *, zero_ok: bool = False) -> float:
    """``v`` as a finite float ``> 0`` (``>= 0`` with ``zero_ok``), else ValueError naming it."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(v).__name__}")
    v = float(v)
    if not (np.isfinite(v) and (v >= 0 if zero_ok else v > 0)):
        raise ValueError(f"{name} must be finite and {'>= 0' if zero_ok else '> 0'}, got {v!r}")
    return v


def prng_key(rng: np.random.Generator):
    """A JAX PRNG key drawn deterministically from a numpy Generator (one 63-bit integer)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return jax.random.key(int(rng.integers(0, 2**63 - 1)))


@x64
def init_params(net: MLP, rng: np.random.Generator) -> np.ndarray:
    """``theta_0``: ``N(0, 1)`` entries, hidden units in antisymmetric pairs (``mu_theta0 = 0``)."""
    H2 = net.width // 2
    kw, kb, ka = jax.random.split(prng_key(rng), 3)
    W = jax.random.normal(kw, (H2, net.d_in), dtype=jnp.float64)
    b = jax.random.normal(kb, (H2,), dtype=jnp.float64)
    a = jax.random.normal(ka, (H2, net.dim), dtype=jnp.float64)
    theta = jnp.concatenate([jnp.concatenate([W, W]).ravel(), jnp.concatenate([b, b]),
                             jnp.concatenate([a, -a]).ravel()])
    return np.asarray(theta)




def _chunked(func, n: int, *arrays, chunk: int = 256):
    """``func`` over row-chunks of ``arrays`` padded to a multiple of ``chunk`` (one compiled
    shape for any ``n``); results concatenated and cut to ``n`` rows."""
    n_pad = max(chunk, -(-n // chunk) * chunk)
    padded = [np.concatenate([a, np.repeat(a[-1:], n_pad - n, axis=0)]) for a in arrays]
    outs = [np.asarray(func(*(jnp.asarray(a[c:c + chunk]) for a in padded)))
            for c in range(0, n_pad, chunk)]
    return np.concatenate(outs)[:n]




def _points(x, t):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (n, D), got {x.shape}")
    return x, np.broadcast_to(np.asarray(t, dtype=np.float64), x.shape[:1])


@functools.partial(jax.jit, static_argnums=0)
def _apply(net, theta, x, t):
    return forward(net, theta, x, embed(net, t))


@x64
def apply(net: MLP, theta, x, t) -> np.ndarray:
    """``mu_theta(x, t)``: ``x (n, D)``, ``t (n,)`` (or scalar) -> ``(n, D)``."""
    x, t = _points(x, t)
    th = jnp.asarray(theta, jnp.float64)
    return _chunked(lambda xc, tc: _apply(net, th, xc, tc), x.shape[0], x, t)




@functools.partial(jax.jit, static_argnums=0)
def _apply_lin(net, theta0, delta, x, t):
    return linearised(net, theta0, delta, x, embed(net, t))


@x64
def apply_linearised(net: MLP, theta0, delta, x, t) -> np.ndarray:
    """The linearised network ``mu_theta0(x,t) + J_theta0(x,t) delta``: ``(n, D)``."""
    x, t = _points(x, t)
    th0, dl = jnp.asarray(theta0, jnp.float64), jnp.asarray(delta, jnp.float64)
    return _chunked(lambda xc, tc: _apply_lin(net, th0, dl, xc, tc), x.shape[0], x, t)


@functools.partial(jax.jit, static_argnums=0)
def _jac(net, theta, x, t):
    e = embed(net, t)

    def one(xi, ei):
        return jax.jacrev(lambda th: forward(net, th, xi[None], ei[None])[0])(theta)

    return jax.vmap(one)(x, e)


@x64
def jacobian(net: MLP, theta, x, t) -> np.ndarray:
    """``J = d mu_theta(x, t) / d theta``: shape ``(n, D, p)``."""
    x, t = _points(x, t)
    th = jnp.asarray(theta, jnp.float64)
    return _chunked(lambda xc, tc: _jac(net, th, xc, tc), x.shape[0], x, t)


def empirical_ntk(net: MLP, theta, x, t, x2=None, t2=None) -> np.ndarray:
    r"""Empirical NTK ``Theta(z_i, z'_j) = J(z_i) J(z'_j)^T``: shape ``(n, D, m, D)``."""
    J = jacobian(net, theta, x, t)
    J2 = J if x2 is None else jacobian(net, theta, x2, t if t2 is None else t2)
    return np.einsum("ndp,mep->ndme", J, J2)
