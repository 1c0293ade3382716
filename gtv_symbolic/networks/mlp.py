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
    r"""Architecture and parameterisation of the one-hidden-layer ``tanh`` denoiser (paper Sec. 5.2).

    .. math:: \mu_\theta(x, t) = s_H\, a^\top \tanh\Bigl(\frac{\sigma_w}{\sqrt{d_{in}}} W z
              + \sigma_b b\Bigr), \quad z = (x, e(t)), \quad d_{in} = D + 1 + 2K,

    with :math:`s_H = H^{-1/2}` (``'ntk'``) or :math:`H^{-1}` (``'standard'``, mean-field) and
    :math:`p = H(d_{in} + 1) + H D` parameters (module docstring). Hashable: a static argument of
    the jitted maps.

    Attributes
    ----------
    width : int
        Hidden width :math:`H`, even, 2 to ``MAX_WIDTH``.
    eps : float
        Smallest time of the embedding window, ``0 < eps < T``.
    T : float, default 1.0
        Largest time of the window.
    parameterisation : {'ntk', 'standard'}, default 'ntk'
    dim : int, default 1
        Data dimension :math:`D`, 1 to 4096.
    n_freq : int, default 1
        Embedding frequencies :math:`K`, 0 to 64.
    weight_std : float, default 3.0
        :math:`\sigma_w > 0`.
    bias_std : float, default 1.0
        :math:`\sigma_b \ge 0`.

    Examples
    --------
    >>> net = MLP(width=4, eps=1e-2)
    >>> net.d_in, net.n_params, net.out_scale
    (4, 24, 0.5)
    >>> MLP(width=4, eps=1e-2, parameterisation="standard").effective_lr(0.1)  # lr * H
    0.4
    """

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
        r"""Input size :math:`d_{in} = D + 1 + 2K` of ``z = (x, e(t))``."""
        return self.dim + 1 + 2 * self.n_freq

    @property
    def n_params(self) -> int:
        r"""Number of parameters :math:`p = H (d_{in} + 1) + H D`."""
        return self.width * (self.d_in + 1) + self.width * self.dim

    @property
    def out_scale(self) -> float:
        r"""Output scale :math:`s_H`: :math:`H^{-1/2}` (NTK) or :math:`H^{-1}` (mean-field)."""
        return self.width ** -0.5 if self.parameterisation == "ntk" else 1.0 / self.width

    def effective_lr(self, lr: float) -> float:
        r"""The gradient step used for a nominal ``lr``: :math:`\eta` (NTK) or :math:`\eta H` (mean-field).

        Parameters
        ----------
        lr : float
            Nominal learning rate, ``> 0``.

        Returns
        -------
        float
        """
        lr = positive(lr, "lr")
        return lr if self.parameterisation == "ntk" else lr * self.width


def positive(v, name: str, *, zero_ok: bool = False) -> float:
    r"""``v`` as a finite float ``> 0`` (``>= 0`` with ``zero_ok``); no formula: validation.

    Parameters
    ----------
    v : int or float
    name : str
        Argument name used in the error message.
    zero_ok : bool, default False

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``v`` is not a real number (bools rejected).
    ValueError
        If ``v`` is not finite or out of range.

    Examples
    --------
    >>> positive(2, "lr")
    2.0
    >>> positive(0, "lr")
    Traceback (most recent call last):
    ...
    ValueError: lr must be finite and > 0, got 0.0
    """
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(v).__name__}")
    v = float(v)
    if not (np.isfinite(v) and (v >= 0 if zero_ok else v > 0)):
        raise ValueError(f"{name} must be finite and {'>= 0' if zero_ok else '> 0'}, got {v!r}")
    return v


def prng_key(rng: np.random.Generator):
    r"""A JAX PRNG key drawn deterministically from a numpy Generator; no formula: seeding.

    The key is ``jax.random.key(k)`` with one integer :math:`k \in [0, 2^{63} - 1)` from ``rng``.

    Parameters
    ----------
    rng : numpy.random.Generator

    Returns
    -------
    jax.Array
        A scalar typed key.

    Raises
    ------
    TypeError
        If ``rng`` is not a ``numpy.random.Generator``.

    Examples
    --------
    >>> import numpy as np
    >>> prng_key(np.random.default_rng(0)).shape
    ()
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return jax.random.key(int(rng.integers(0, 2**63 - 1)))


@x64
def init_params(net: MLP, rng: np.random.Generator) -> np.ndarray:
    r"""Initial parameters :math:`\theta_0` in antisymmetric pairs, so that :math:`\mu_{\theta_0} = 0`.

    Entries are :math:`\mathcal N(0, 1)`; with :math:`H/2` draws :math:`(W', b', a')`,

    .. math:: W = \begin{pmatrix} W' \\ W' \end{pmatrix},\quad
              b = \begin{pmatrix} b' \\ b' \end{pmatrix},\quad
              a = \begin{pmatrix} a' \\ -a' \end{pmatrix},

    flattened in the order ``(W, b, a)``.

    Parameters
    ----------
    net : MLP
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray, shape (net.n_params,)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic.networks import mlp
    >>> net = mlp.MLP(width=8, eps=1e-2)
    >>> theta = mlp.init_params(net, np.random.default_rng(0))
    >>> x, t = np.array([[0.5], [-0.5]]), np.array([0.1, 0.5])
    >>> theta.shape, bool(np.all(theta[-4:] == -theta[-8:-4]))
    ((48,), True)
    """
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
    r"""The network denoiser :math:`\mu_\theta(x, t)` (formula in :class:`MLP`).

    Parameters
    ----------
    net : MLP
    theta : array_like, shape (net.n_params,)
    x : array_like, shape (n, D)
    t : float or array_like, shape (n,)
        Times in :math:`[\epsilon, T]`.

    Returns
    -------
    numpy.ndarray, shape (n, D)

    Raises
    ------
    ValueError
        If ``x`` is not 2-D.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic.networks import mlp
    >>> net = mlp.MLP(width=8, eps=1e-2)
    >>> theta = mlp.init_params(net, np.random.default_rng(0))
    >>> x, t = np.array([[0.5], [-0.5]]), np.array([0.1, 0.5])
    >>> mu = mlp.apply(net, theta, x, t)
    >>> mu.shape, bool(np.abs(mu).max() < 1e-14)  # antisymmetric initialisation: mu = 0
    ((2, 1), True)
    """
    x, t = _points(x, t)
    th = jnp.asarray(theta, jnp.float64)
    return _chunked(lambda xc, tc: _apply(net, th, xc, tc), x.shape[0], x, t)




@functools.partial(jax.jit, static_argnums=0)
def _apply_lin(net, theta0, delta, x, t):
    return linearised(net, theta0, delta, x, embed(net, t))


@x64
def apply_linearised(net: MLP, theta0, delta, x, t) -> np.ndarray:
    r"""The linearised (lazy) network around :math:`\theta_0` (paper Sec. 5.2):

    .. math:: \mu^{\mathrm{lin}}(x, t) = \mu_{\theta_0}(x, t) + J_{\theta_0}(x, t)\, \delta,
              \qquad J = \partial\mu_\theta/\partial\theta,

    by one forward-mode product.

    Parameters
    ----------
    net : MLP
    theta0, delta : array_like, shape (net.n_params,)
    x : array_like, shape (n, D)
    t : float or array_like, shape (n,)

    Returns
    -------
    numpy.ndarray, shape (n, D)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic.networks import mlp
    >>> net = mlp.MLP(width=8, eps=1e-2)
    >>> theta = mlp.init_params(net, np.random.default_rng(0))
    >>> x, t = np.array([[0.5], [-0.5]]), np.array([0.1, 0.5])
    >>> d = np.zeros_like(theta); d[-1] = 1.0  # move one output weight: exactly linear
    >>> bool(np.allclose(mlp.apply_linearised(net, theta, d, x, t), mlp.apply(net, theta + d, x, t)))
    True
    """
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
    r"""Parameter Jacobian, :math:`J_{idj} = \partial\mu_{\theta,d}(x_i, t_i)/\partial\theta_j`.

    Parameters
    ----------
    net : MLP
    theta : array_like, shape (net.n_params,)
    x : array_like, shape (n, D)
    t : float or array_like, shape (n,)

    Returns
    -------
    numpy.ndarray, shape (n, D, p)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic.networks import mlp
    >>> net = mlp.MLP(width=8, eps=1e-2)
    >>> theta = mlp.init_params(net, np.random.default_rng(0))
    >>> x, t = np.array([[0.5], [-0.5]]), np.array([0.1, 0.5])
    >>> mlp.jacobian(net, theta, x, t).shape
    (2, 1, 48)
    """
    x, t = _points(x, t)
    th = jnp.asarray(theta, jnp.float64)
    return _chunked(lambda xc, tc: _jac(net, th, xc, tc), x.shape[0], x, t)


def empirical_ntk(net: MLP, theta, x, t, x2=None, t2=None) -> np.ndarray:
    r"""Empirical neural tangent kernel (paper Sec. 5.2, Prop. 5.2):

    .. math:: \Theta_{i d, j e} = \sum_p J_{i d p}(\theta)\, J'_{j e p}(\theta)

    with :math:`J` at ``(x, t)`` and :math:`J'` at ``(x2, t2)`` (default the same points).

    Parameters
    ----------
    net : MLP
    theta : array_like, shape (net.n_params,)
    x : array_like, shape (n, D)
    t : float or array_like, shape (n,)
    x2 : array_like, shape (m, D), optional
    t2 : float or array_like, shape (m,), optional
        Default ``t``.

    Returns
    -------
    numpy.ndarray, shape (n, D, m, D)
        Symmetric positive semi-definite when ``x2`` is omitted.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic.networks import mlp
    >>> net = mlp.MLP(width=8, eps=1e-2)
    >>> theta = mlp.init_params(net, np.random.default_rng(0))
    >>> x, t = np.array([[0.5], [-0.5]]), np.array([0.1, 0.5])
    >>> K = mlp.empirical_ntk(net, theta, x, t)
    >>> K.shape, bool(np.isclose(K[0, 0, 1, 0], K[1, 0, 0, 0]))
    ((2, 1, 2, 1), True)
    """
    J = jacobian(net, theta, x, t)
    J2 = J if x2 is None else jacobian(net, theta, x2, t if t2 is None else t2)
    return np.einsum("ndp,mep->ndme", J, J2)
