r"""Lazy (NTK) regime: a two-layer network linearised around its initialisation (paper Sec. 5, Prop. 5.2).

In the lazy regime the network ``f(x, t; theta)`` is the linear model with features
``J = df/dtheta`` at ``theta_0`` and offset ``f0 = f(.; theta_0)``; gradient flow for a time
``tau`` is the spectral filter ``h_tau(m) = (1 - e^{-tau m})/m`` of the tangent Gram matrix:

.. math::  f_\tau = f_0 + \Theta(\cdot, X)\,\Theta_{XX}^{-1}
           \big(I - e^{-\tau \Theta_{XX}\Lambda/P}\big)(y - f_0(X)),
           \qquad \Theta(z, z') = J(z) J(z')^\top.

``tau -> 0`` gives ``Cov = (tau^2/P) Cov[lam J (x0 - f0)]`` (kernel-filtered, smooth);
``tau -> inf`` the unregularised least-squares (memorisation-limit) covariance (paper Sec. 5.2).

Examples
--------
>>> import numpy as np
>>> net = TwoLayerNet(4, eps=1e-2, rng=np.random.default_rng(0))
>>> net.jacobian(np.zeros(3), np.full(3, 0.5)).shape
(3, 16)
"""

from __future__ import annotations

import numpy as np

from .._validate import finite_array, int_arg, real_arg
from ..data import as_data
from ..grids import check_window
from ..training import gradient_flow_filter
from .linear import LinearKernel, linear_kernel
from .nodes import training_nodes

__all__ = ["TwoLayerNet", "ntk_kernel", "ntk_small_tau_cov"]


class TwoLayerNet:
    r"""Two-layer ``tanh`` network for the 1-D denoiser, with an analytic Jacobian.

    ``f(x,t) = H^{-1/2} sum_h a_h tanh(w_h . z + b_h)``, input ``z = (x, c(t))`` with
    ``c(t) = 2 (log t - log eps)/(log T - log eps) - 1 in [-1, 1]``. Parameters
    ``theta = (a, w_x, w_t, b)`` (``4H``), NTK parametrisation, initialised with ``rng``:
    ``a, w ~ N(0, 1)``, ``b ~ N(0, bias_std^2)``. In the lazy regime the network is the linear
    model with features ``J(x,t) = df/dtheta`` and offset ``f0 = f(.; theta_0)``; the NTK is
    ``Theta(z, z') = J(z) . J(z')``.
    """

    def __init__(self, width: int, *, eps: float, T: float = 1.0, rng, bias_std: float = 1.0,
                 input_scale: float = 2.0):
        self.width = int_arg(width, "width", 1, 10**5)
        self.eps, self.T = check_window(None, eps, T)
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng must be a numpy.random.Generator")
        bias_std = real_arg(bias_std, "bias_std", 0.0, 1e6)
        input_scale = real_arg(input_scale, "input_scale", 0.0, 1e6)
        self.a = rng.standard_normal(self.width)
        self.wx = input_scale * rng.standard_normal(self.width)
        self.wt = input_scale * rng.standard_normal(self.width)
        self.b = bias_std * rng.standard_normal(self.width)
        self.dim = 1

    @property
    def n_params(self) -> int:
        return 4 * self.width

    @property
    def n_features(self) -> int:
        return self.n_params

    def _pre(self, x, t):
        x = np.asarray(x, dtype=float).reshape(-1)
        t = np.asarray(t, dtype=float).reshape(-1)
        c = 2 * (np.log(t) - np.log(self.eps)) / (np.log(self.T) - np.log(self.eps)) - 1
        pre = x[:, None] * self.wx + c[:, None] * self.wt + self.b
        return x, c, pre

    def __call__(self, x, t) -> np.ndarray:
        """Network output ``f(x,t; theta_0)``, shape ``(n, 1)``."""
        _, _, pre = self._pre(x, t)
        return (np.tanh(pre) @ self.a / np.sqrt(self.width))[:, None]

    def jacobian(self, x, t) -> np.ndarray:
        """``df/dtheta`` at theta_0, shape ``(n, 4H)``, order ``(a, w_x, w_t, b)``."""
        x, c, pre = self._pre(finite_array(x, "x"), finite_array(t, "t"))
        th = np.tanh(pre)
        dth = (1 - th**2) * self.a
        s = 1 / np.sqrt(self.width)
        return s * np.concatenate([th, dth * x[:, None], dth * c[:, None], dth], axis=1)

    def ntk(self, x, t, x2, t2) -> np.ndarray:
        """``Theta((x,t),(x2,t2)) = J(x,t) J(x2,t2)^T`` (matrix over the two point sets)."""
        return self.jacobian(x, t) @ self.jacobian(x2, t2).T


def ntk_kernel(net: TwoLayerNet, data, schedule, *, P: int, tau: float, eps: float,
               T: float = 1.0, target: str = "proxy", nodes=None) -> LinearKernel:
    r"""Lazy-regime law of the network after gradient flow for time ``tau`` (Prop. 5.2, reconstructed).

    Gradient flow on ``(1/2P) sum_i lam_i (f(z_i) - x0_i)^2`` for the linearised network gives
    ``theta_tau - theta_0 = h_tau(G_hat) g_hat`` with ``h_tau(mu) = (1 - e^{-tau mu})/mu``, i.e.
    in function space ``f_tau = f0 + Theta(., X) Theta_XX^{-1} (I - e^{-tau Theta_XX Lam/P})
    (y - f0(X))``. Mean and ``1/P`` covariance follow from :func:`linear_kernel` with features
    ``J`` and offset ``f0``. Limits: ``tau -> 0``: ``Cov -> (tau^2/P) Cov[lam J (x0 - f0)]``
    (:func:`ntk_small_tau_cov`); ``tau -> inf``: unregularised least squares in the tangent
    space (pass ``tau=np.inf``), the finite-width counterpart of the paper's infinite-time limit (Sec. 5.2).
    """
    if getattr(net, "dim", 1) != 1 or as_data(data).shape[1] != 1:
        raise ValueError("ntk_kernel supports 1-D data only (D = 1)")
    return linear_kernel(net.jacobian, data, schedule, P=P, eps=eps, T=T,
                         filt=gradient_flow_filter(tau), offset=net, target=target, nodes=nodes)


def ntk_small_tau_cov(net: TwoLayerNet, data, schedule, *, P: int, eps: float, T: float = 1.0,
                      nodes=None) -> np.ndarray:
    r"""``lim_{tau->0} Cov[theta_tau]/tau^2 = (1/P) Cov[lam J (x0 - f0)]`` (shape ``(p, p)``).

    In function space: ``V ~ (tau^2/P) D_t E[lam^2 Theta C Theta] D_t'`` minus the mean term
    (the ``tau -> 0`` limit of Prop. 5.2).
    """
    mu = as_data(data)
    if nodes is None:
        nodes = training_nodes(mu, schedule, eps, T)
    J = net.jacobian(nodes.y, nodes.u)
    f0 = net(nodes.y, nodes.u)[:, 0]
    lam, w = nodes.lam, nodes.w
    resid = nodes.m[:, 0] - f0
    a = J * (lam * resid)[:, None]
    Ea = w @ a
    E2 = (a * w[:, None]).T @ a + (J * (lam**2 * w * nodes.cov[:, 0, 0])[:, None]).T @ J
    return (E2 - np.outer(Ea, Ea)) / int_arg(P, "P", 1, 10**8)
