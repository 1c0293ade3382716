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
    r"""Two-layer ``tanh`` network for the 1-D denoiser, with an analytic Jacobian (paper Sec. 5).

    .. math:: f(x,t) = H^{-1/2} \sum_{h=1}^{H} a_h \tanh(w_{x,h} x + w_{t,h} c(t) + b_h), \qquad
              c(t) = 2\,\frac{\log t - \log\epsilon}{\log T - \log\epsilon} - 1 \in [-1, 1]

    Parameters ``theta = (a, w_x, w_t, b)`` (``4H``), NTK parametrisation, initialised with
    ``rng``: ``a ~ N(0, 1)``, ``w ~ N(0, input_scale^2)``, ``b ~ N(0, bias_std^2)``. In the
    lazy regime the network is the linear model with features ``J(x,t) = df/dtheta`` and
    offset ``f0 = f(.; theta_0)``; the NTK is ``Theta(z, z') = J(z) . J(z')``.

    Parameters
    ----------
    width : int; hidden width H, 1 to 10**5.
    eps, T : float; time window mapped onto ``c(t) in [-1, 1]``.
    rng : numpy.random.Generator
    bias_std : float; standard deviation of the biases.
    input_scale : float; standard deviation of the input weights.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import kernels
    >>> net = kernels.TwoLayerNet(4, eps=0.1, rng=np.random.default_rng(0))
    >>> x, t = np.array([0.3, -0.2]), np.array([0.5, 0.5])
    >>> net.n_params, net(x, t).shape, net.jacobian(x, t).shape
    (16, (2, 1), (2, 16))
    >>> np.allclose(net.jacobian(x, t)[:, :4] @ net.a, net(x, t)[:, 0])  # f is linear in a
    True
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
        """Number of parameters ``4 H``."""
        return 4 * self.width

    @property
    def n_features(self) -> int:
        """Number of lazy-regime features (= :attr:`n_params`)."""
        return self.n_params

    def _pre(self, x, t):
        x = np.asarray(x, dtype=float).reshape(-1)
        t = np.asarray(t, dtype=float).reshape(-1)
        c = 2 * (np.log(t) - np.log(self.eps)) / (np.log(self.T) - np.log(self.eps)) - 1
        pre = x[:, None] * self.wx + c[:, None] * self.wt + self.b
        return x, c, pre

    def __call__(self, x, t) -> np.ndarray:
        """Network output at initialisation, ``f(x, t; theta_0)``.

        Parameters
        ----------
        x, t : array_like, shape (n,); points and times.

        Returns
        -------
        numpy.ndarray, shape (n, 1)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import kernels
        >>> net = kernels.TwoLayerNet(4, eps=0.1, rng=np.random.default_rng(0))
        >>> x, t = np.array([0.3, -0.2]), np.array([0.5, 0.5])
        >>> net(x, t).shape
        (2, 1)
        """
        _, _, pre = self._pre(x, t)
        return (np.tanh(pre) @ self.a / np.sqrt(self.width))[:, None]

    def jacobian(self, x, t) -> np.ndarray:
        r"""Parameter Jacobian ``J = df/dtheta`` at ``theta_0``, in the order ``(a, w_x, w_t, b)``.

        .. math:: J = H^{-1/2} \bigl(\tanh z_h,\ a_h (1 - \tanh^2 z_h)\, (x,\ c(t),\ 1)\bigr)_h,
                  \qquad z_h = w_{x,h} x + w_{t,h} c(t) + b_h

        Parameters
        ----------
        x, t : array_like, shape (n,); points and times (finite).

        Returns
        -------
        numpy.ndarray, shape (n, 4H)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import kernels
        >>> net = kernels.TwoLayerNet(4, eps=0.1, rng=np.random.default_rng(0))
        >>> x, t = np.array([0.3, -0.2]), np.array([0.5, 0.5])
        >>> net.jacobian(x, t).shape
        (2, 16)
        """
        x, c, pre = self._pre(finite_array(x, "x"), finite_array(t, "t"))
        th = np.tanh(pre)
        dth = (1 - th**2) * self.a
        s = 1 / np.sqrt(self.width)
        return s * np.concatenate([th, dth * x[:, None], dth * c[:, None], dth], axis=1)

    def ntk(self, x, t, x2, t2) -> np.ndarray:
        r"""Neural tangent kernel between two point sets.

        .. math:: \Theta((x,t), (x',t')) = J(x,t)\, J(x',t')^\top

        Parameters
        ----------
        x, t : array_like, shape (n,)
        x2, t2 : array_like, shape (n2,)

        Returns
        -------
        numpy.ndarray, shape (n, n2)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import kernels
        >>> net = kernels.TwoLayerNet(4, eps=0.1, rng=np.random.default_rng(0))
        >>> x, t = np.array([0.3, -0.2]), np.array([0.5, 0.5])
        >>> Th = net.ntk(x, t, x, t)
        >>> Th.shape, np.allclose(Th, Th.T)
        ((2, 2), True)
        """
        return self.jacobian(x, t) @ self.jacobian(x2, t2).T


def ntk_kernel(net: TwoLayerNet, data, schedule, *, P: int, tau: float, eps: float,
               T: float = 1.0, target: str = "proxy", nodes=None) -> LinearKernel:
    r"""Lazy-regime law of the network after gradient flow for time ``tau`` (Prop. 5.2, reconstructed).

    Gradient flow on ``(1/2P) sum_i lam_i (f(z_i) - x0_i)^2`` for the linearised network gives
    ``theta_tau - theta_0 = h_tau(G_hat) g_hat``, i.e. in function space

    .. math:: f_\tau = f_0 + \Theta(\cdot, X)\, \Theta_{XX}^{-1}
              \bigl(I - e^{-\tau \Theta_{XX} \Lambda / P}\bigr)\bigl(y - f_0(X)\bigr),
              \qquad h_\tau(\mu) = \frac{1 - e^{-\tau\mu}}{\mu}

    Mean and ``1/P`` covariance follow from :func:`linear_kernel` with features ``J`` and
    offset ``f0``. Limits: ``tau -> 0``: ``Cov -> (tau^2/P) Cov[lam J (x0 - f0)]``
    (:func:`ntk_small_tau_cov`); ``tau -> inf``: unregularised least squares in the tangent
    space (pass ``tau=np.inf``), the finite-width counterpart of the paper's infinite-time
    limit (Sec. 5.2).

    Parameters
    ----------
    net : TwoLayerNet
    data : array_like, shape (M, 1); 1-D training points only.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`
    P : int; number of training samples.
    tau : float; training time (``np.inf`` allowed).
    eps, T : float; training-time window.
    target : {'proxy', 'true'}; DSM objective J1 or J0 (see :func:`linear_kernel`).
    nodes : :class:`TrainingNodes`, optional

    Returns
    -------
    LinearKernel
        With ``F = 4H`` features (the Jacobian) and offset ``net``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import kernels, schedules
    >>> net = kernels.TwoLayerNet(4, eps=0.1, rng=np.random.default_rng(0))
    >>> two, vp = [[-1.0], [1.0]], schedules.VP()
    >>> nodes = kernels.training_nodes(two, vp, 0.1, dy=0.1)  # coarse quadrature: fast
    >>> K = kernels.ntk_kernel(net, two, vp, P=100, tau=1e-4, eps=0.1, nodes=nodes)
    >>> C0 = kernels.ntk_small_tau_cov(net, two, vp, P=100, eps=0.1, nodes=nodes)
    >>> K.cov_W.shape, round(float(np.abs(K.cov_W[0, :, 0, :] / 1e-8).max() / np.abs(C0).max()), 3)
    ((1, 16, 1, 16), 1.0)
    """
    if getattr(net, "dim", 1) != 1 or as_data(data).shape[1] != 1:
        raise ValueError("ntk_kernel supports 1-D data only (D = 1)")
    return linear_kernel(net.jacobian, data, schedule, P=P, eps=eps, T=T,
                         filt=gradient_flow_filter(tau), offset=net, target=target, nodes=nodes)


def ntk_small_tau_cov(net: TwoLayerNet, data, schedule, *, P: int, eps: float, T: float = 1.0,
                      nodes=None) -> np.ndarray:
    r"""Small-``tau`` limit of the lazy-regime parameter covariance (paper Sec. 5, Prop. 5.2).

    .. math:: \lim_{\tau \to 0} \frac{\mathrm{Cov}[\theta_\tau]}{\tau^2}
              = \frac{1}{P} \mathrm{Cov}\bigl[\lambda J (x_0 - f_0)\bigr]

    In function space: ``V ~ (tau^2/P) D_t E[lam^2 Theta C Theta] D_t'`` minus the mean term.

    Parameters
    ----------
    net : TwoLayerNet
    data : array_like, shape (M, 1)
    schedule : :class:`~gtv_symbolic.schedules.Schedule`
    P : int
    eps, T : float; training-time window.
    nodes : :class:`TrainingNodes`, optional

    Returns
    -------
    numpy.ndarray, shape (4H, 4H)

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import kernels, schedules
    >>> net = kernels.TwoLayerNet(4, eps=0.1, rng=np.random.default_rng(0))
    >>> two, vp = [[-1.0], [1.0]], schedules.VP()
    >>> nodes = kernels.training_nodes(two, vp, 0.1, dy=0.1)  # coarse quadrature: fast
    >>> C0 = kernels.ntk_small_tau_cov(net, two, vp, P=100, eps=0.1, nodes=nodes)
    >>> C0.shape, np.allclose(C0, C0.T), bool(np.linalg.eigvalsh(C0).min() > -1e-12)
    ((16, 16), True, True)
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
