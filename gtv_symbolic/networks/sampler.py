r"""Network ensembles as denoisers for the package's samplers (:mod:`gtv_symbolic.solvers`).

:class:`EnsembleDenoiser` follows the ensemble calling convention of
:class:`gtv_symbolic.denoisers.LinearDenoiser`: ``x (N, ..., D)`` -> ``(N, ..., D)`` with a
scalar ``t``, plus ``value_and_jacobian`` (``d mu / dx``, by forward-mode differentiation),
so trained networks and their lazy Gaussian fields go through the same sample-free
transport (:func:`gtv_symbolic.solvers.pushforward_1d`) as the linear models. With
``theta0`` given, model ``n`` is the linearised network
``mu_theta0 + J_theta0 (theta_n - theta_0)``.
"""

from __future__ import annotations

import functools

import numpy as np

from ._forward import embed, forward, linearised
from ._jax import jax, jnp, x64
from .mlp import MLP

__all__ = ["EnsembleDenoiser", "CHUNK"]

#: points per model per compiled call (padding unit)
CHUNK = 128


def _unpack(net: MLP, theta, e):
    r"""Per-model slope and offset of the pre-activations for ``D = 1`` at one time:
    ``pre = alpha x + beta`` (``theta (N, p)``, ``e (1 + 2K,)``), and ``a (N, H)``."""
    H, d = net.width, net.d_in
    c = net.weight_std / np.sqrt(d)
    W = theta[:, :H * d].reshape(-1, H, d)
    b = theta[:, H * d:H * (d + 1)]
    return c * W[..., 0], c * (W[..., 1:] @ e) + net.bias_std * b, theta[:, H * (d + 1):]


@functools.partial(jax.jit, static_argnums=(0, 1))
def _value_jac_1d(net, linear, thetas, theta0, x, t):
    r"""Closed form for ``D = 1`` (one ``tanh`` per model, point and unit; ``x (N, n)``).

    With ``pre = alpha x + beta``, ``u = tanh(pre)``, ``g = 1 - u^2``:
    ``mu = s a^T u``, ``mu' = s (a alpha)^T g``; linearised around ``theta0`` (displacement
    ``da, dalpha, dbeta``): ``mu = s [(a0 + da)^T u0 + a0^T (g0 dpre)]`` and
    ``mu' = s [((a0 + da) alpha0)^T g0 + a0^T (g0 (dalpha - 2 u0 alpha0 dpre))]``.
    """
    e = embed(net, t)
    s = net.out_scale
    al, be, a = _unpack(net, thetas, e)
    if not linear:
        u = jnp.tanh(al[:, None, :] * x[..., None] + be[:, None, :])
        val = jnp.einsum("nph,nh->np", u, a)
        der = jnp.einsum("nph,nh->np", 1 - u * u, a * al)
        return s * val, s * der
    al0, be0, a0 = _unpack(net, theta0[None], e)
    dal, dbe = al - al0, be - be0
    u0 = jnp.tanh(al0[:, None, :] * x[..., None] + be0[:, None, :])
    g0 = 1 - u0 * u0
    dpre = dal[:, None, :] * x[..., None] + dbe[:, None, :]
    val = jnp.einsum("nph,nh->np", u0, a) + jnp.einsum("nph,h->np", g0 * dpre, a0[0])
    der = (jnp.einsum("nph,nh->np", g0, a * al0)
           + jnp.einsum("nph,h->np", g0 * (dal[:, None, :] - 2 * u0 * al0 * dpre), a0[0]))
    return s * val, s * der


@functools.partial(jax.jit, static_argnums=(0, 1))
def _value_jac(net, linear, thetas, theta0, x, t):
    e = embed(net, t)

    def one_model(th, xm):
        def f(xi):
            if linear:
                return linearised(net, theta0, th - theta0, xi[None], e[None])[0]
            return forward(net, th, xi[None], e[None])[0]

        if net.dim == 1:
            val, d = jax.vmap(lambda xi: jax.jvp(f, (xi,), (jnp.ones_like(xi),)))(xm)
            return val, d[..., None]
        return jax.vmap(f)(xm), jax.vmap(jax.jacfwd(f))(xm)

    return jax.vmap(one_model)(thetas, x)


class EnsembleDenoiser:
    r"""``N`` MLP denoisers as one ensemble denoiser for the samplers (optionally linearised).

    Model :math:`n` is :math:`\mu_{\theta_n}(x, t)` or, with ``theta0``, the lazy network

    .. math:: \mu_n(x, t) = \mu_{\theta_0}(x, t) + J_{\theta_0}(x, t)\,(\theta_n - \theta_0);

    ``value_and_jacobian(x, t)`` returns :math:`\mu` and :math:`\partial\mu/\partial x` (closed
    form for ``D = 1``, forward mode otherwise) for ``x`` of shape ``(N, ..., D)`` and a scalar
    ``t``; ``__call__``, ``jacobian`` and ``divergence`` follow from it.

    Parameters
    ----------
    net : MLP
    theta : array_like, shape (N, p)
    theta0 : array_like, shape (p,), optional

    Raises
    ------
    ValueError
        If ``theta`` is not of shape ``(N, net.n_params)``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic.networks import mlp
    >>> net = mlp.MLP(width=8, eps=1e-2)
    >>> theta0 = mlp.init_params(net, np.random.default_rng(0))
    >>> den = EnsembleDenoiser(net, np.stack([theta0, theta0]))
    >>> mu, dmu = den.value_and_jacobian(np.zeros((2, 3, 1)), 0.5)
    >>> den.n_models, mu.shape, dmu.shape
    (2, (2, 3, 1), (2, 3, 1, 1))
    """

    def __init__(self, net: MLP, theta, theta0=None):
        theta = np.asarray(theta, dtype=float)
        if theta.ndim != 2 or theta.shape[1] != net.n_params:
            raise ValueError(f"theta must have shape (N, {net.n_params}), got {theta.shape}")
        self.net = net
        self.theta = theta
        self.theta0 = None if theta0 is None else np.asarray(theta0, dtype=float)
        self.dim = net.dim
        self.n_models = theta.shape[0]

    @x64
    def value_and_jacobian(self, x, t):
        r"""Values :math:`\mu_n(x, t)` and x-Jacobians :math:`\partial\mu_n/\partial x` of every model.

        Parameters
        ----------
        x : array_like, shape (N, ..., D)
        t : float

        Returns
        -------
        tuple of numpy.ndarray
            Shapes ``(N, ..., D)`` and ``(N, ..., D, D)``.

        Raises
        ------
        ValueError
            If ``x`` is not of shape ``(N, ..., D)``.
        """
        x = np.asarray(x, dtype=float)
        if x.shape[0] != self.n_models or x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape ({self.n_models}, ..., {self.dim}), got {x.shape}")
        xf = x.reshape(self.n_models, -1, self.dim)
        n = xf.shape[1]
        n_pad = -(-n // CHUNK) * CHUNK  # fixed chunks: one compiled shape
        xp = np.zeros((self.n_models, n_pad, self.dim))
        xp[:, :n] = xf
        lin = self.theta0 is not None
        th = jnp.asarray(self.theta)
        th0 = jnp.asarray(self.theta0 if lin else self.theta[0])
        tt = jnp.asarray(float(t))
        v, j = np.empty_like(xp), np.empty(xp.shape + (self.dim,))
        for c in range(0, n_pad, CHUNK):
            xc = jnp.asarray(xp[:, c:c + CHUNK])
            if self.dim == 1:
                vc, jc = _value_jac_1d(self.net, lin, th, th0, xc[..., 0], tt)
                vc, jc = vc[..., None], jc[..., None, None]
            else:
                vc, jc = _value_jac(self.net, lin, th, th0, xc, tt)
            v[:, c:c + CHUNK], j[:, c:c + CHUNK] = np.asarray(vc), np.asarray(jc)
        return v[:, :n].reshape(x.shape), j[:, :n].reshape(x.shape + (self.dim,))

    def __call__(self, x, t):
        return self.value_and_jacobian(x, t)[0]

    def jacobian(self, x, t):
        r"""The x-Jacobians :math:`\partial\mu_n/\partial x`, shape ``(N, ..., D, D)``."""
        return self.value_and_jacobian(x, t)[1]

    def divergence(self, x, t):
        r"""Divergences :math:`\nabla\cdot\mu_n = \mathrm{tr}\,\partial\mu_n/\partial x`: ``(N, ...)``."""
        return np.trace(self.jacobian(x, t), axis1=-2, axis2=-1)
