r"""Lazy-regime (NTK) prediction for a finite MLP at its initialisation (Prop. 5.2, Sec. 5).

Linearised around ``theta_0``, the network is the linear model
``mu = f0 + J(x, t) (theta - theta_0)`` with features ``J = d mu / d theta`` and offset
``f0 = mu_theta0``. Gradient flow for a time ``tau`` on the DSM loss gives
``theta_tau - theta_0 = h_tau(G_hat) g_hat``, ``h_tau(m) = (1 - e^{-tau m})/m``, so mean and
``1/P`` covariance of the trained network over training sets follow from
:func:`gtv_symbolic.kernels.linear_kernel` with those features, offset and the
gradient-flow filter (:func:`gtv_symbolic.training.gradient_flow_filter`).

The parameter space (``p = O(10^4)``) is reduced to the span ``B`` (``p x r``, orthonormal)
of the top right-singular vectors of ``J`` on ``n_basis`` nodes of the training
law (systematic sampling by weight): the features are ``phi = J B`` and a Gaussian-field
draw ``w ~ N(W*, Cov_W)`` is the parameter displacement ``delta = B w``. Directions with
``G``-eigenvalue ``m`` contribute ``O(tau m)`` to the function.
:func:`~gtv_symbolic.networks.lazy_kernel` reports the relative residual
``||J (I - B B^T)||_F / ||J||_F`` on the other nodes (drawn from the same ``w lam`` measure):
the share of the Jacobian's Frobenius norm in the discarded directions.
At the antisymmetric initialisation the paired units give equal (``a``) or opposite
(``W, b``) Jacobian columns, so ``rank J <= p / 2 = H (d_in + 2) / 2`` (192 at ``H = 64``,
checked). At ``H <= 128`` the ``rank = 384`` cap is not reached and the residual (0 to a few
per cent, depending on ``theta_0``) comes from directions the basis nodes barely excite
(singular values below ``rel_tol`` on them) but the held-out nodes do; at ``H = 256`` and
``1024`` (rank up to 768 and 3072) it is mostly the spectral tail beyond 384 directions. Both
are limits of the finite projection, not errors. What matters for the prediction is the part of a
*trained* displacement outside the basis; the experiments report it as ``outside_basis``
(:func:`gtv_symbolic.experiments.nn_vs_theory.train_and_predict`).

``J B`` is computed in closed form for the one-hidden-layer network (no ``(n, p)`` array):

.. math:: J B = s_H\Big[\sum_j \tilde z_j\,\big((a \circ \tanh'(\mathrm{pre}))\,B^{W}_{\cdot j}\big)
          + \tanh(\mathrm{pre})\,B^{a}\Big],\qquad
          \tilde z = \big(\tfrac{\sigma_w}{\sqrt{d_{in}}} z,\ \sigma_b\big).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import kernels
from .._validate import int_arg
from ._forward import hidden
from .mlp import MLP, apply, jacobian, positive

__all__ = ["LazyPrediction", "lazy_kernel", "jacobian_times", "basis", "EXACT_BASIS"]

#: largest min(n_basis, p) with an exact eigendecomposition in :func:`~gtv_symbolic.networks.basis`
EXACT_BASIS = 1024




def jacobian_times(net: MLP, theta, x, t, B) -> np.ndarray:
    r"""Closed-form product :math:`J(x, t)\, B` of the parameter Jacobian with a basis (``D = 1``).

    .. math:: J B = s_H\Bigl[\sum_j \tilde z_j\,\bigl((a \circ \tanh'(\mathrm{pre}))\, B^{W}_{\cdot j}\bigr)
              + \tanh(\mathrm{pre})\, B^{a}\Bigr]

    (module docstring), without forming the ``(n, p)`` Jacobian.

    Parameters
    ----------
    net : MLP
        With ``dim == 1``.
    theta : array_like, shape (p,)
    x : array_like, shape (n,) or (n, 1)
    t : float or array_like, shape (n,)
    B : numpy.ndarray, shape (p, r)

    Returns
    -------
    numpy.ndarray, shape (n, r)

    Raises
    ------
    ValueError
        If ``net.dim != 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic.networks import lazy, mlp
    >>> net = mlp.MLP(width=8, eps=1e-2)
    >>> theta0 = mlp.init_params(net, np.random.default_rng(0))
    >>> x, t = np.array([0.5, -0.5]), np.array([0.1, 0.5])
    >>> B = np.linalg.qr(np.random.default_rng(1).standard_normal((net.n_params, 3)))[0]
    >>> J = mlp.jacobian(net, theta0, x[:, None], t)[:, 0, :]
    >>> bool(np.allclose(lazy.jacobian_times(net, theta0, x, t, B), J @ B))
    True
    """
    if net.dim != 1:
        raise ValueError("jacobian_times supports D = 1 only")
    x = np.asarray(x, float).reshape(-1, 1)
    t = np.broadcast_to(np.asarray(t, float), x.shape[:1])
    H, d = net.width, net.d_in
    zt, th, a = hidden(net, np.asarray(theta, float), x, t)
    g = (1 - th**2) * a[:, 0]  # (n, H)
    BW = B[:H * (d + 1)]  # W block (H*d) then b block (H)
    BWm = BW[:H * d].reshape(H, d, -1)
    Bb = BW[H * d:]
    out = th @ B[H * (d + 1):]
    for j in range(d):
        out += zt[:, j:j + 1] * (g @ BWm[:, j, :])
    out += zt[:, d:d + 1] * (g @ Bb)
    return net.out_scale * out


def _systematic(w, n, offset=0.5):
    """``n`` node indices by systematic sampling proportional to ``w`` (deterministic)."""
    c = np.cumsum(w) / np.sum(w)
    return np.minimum(np.searchsorted(c, (np.arange(n) + offset) / n), w.size - 1)


def basis(net: MLP, theta0, nodes, *, n_basis: int = 4096, rank: int = 384,
          rel_tol: float = 1e-7, rng=None):
    r"""Orthonormal basis of the top of the training Gram matrix, and its held-out residual.

    .. math:: G = \mathbb E\bigl[\lambda\, J^\top J\bigr], \qquad
              \mathrm{res} = \frac{\|J_h (I - B B^\top)\|_F}{\|J_h\|_F}

    :math:`B` (``p x r``) holds the right-singular vectors of :math:`J` on ``n_basis`` nodes
    chosen by systematic sampling proportional to ``w * lam``, with singular values above
    ``rel_tol`` times the largest (at most ``rank``; exact up to ``EXACT_BASIS`` columns, else a
    randomised range finder seeded by ``rng``); :math:`J_h` is :math:`J` on interleaved nodes.

    Parameters
    ----------
    net : MLP
    theta0 : array_like, shape (p,)
    nodes : object with ``y, u, w, lam``
        Training-law nodes (:func:`gtv_symbolic.kernels.training_nodes`).
    n_basis : int, default 4096
    rank : int, default 384
    rel_tol : float, default 1e-7
    rng : numpy.random.Generator, optional
        Needed for the randomised range finder.

    Returns
    -------
    tuple
        ``(B, residual)``: ``numpy.ndarray`` of shape ``(p, r)`` and a float in ``[0, 1]``.

    Raises
    ------
    TypeError
        If the randomised finder is needed and ``rng`` is missing.

    Examples
    --------
    See :func:`lazy_kernel` (``LazyPrediction.B`` and ``basis_residual``).

    >>> EXACT_BASIS
    1024
    """
    wl = nodes.w * nodes.lam
    idx = np.unique(_systematic(wl, n_basis))
    J = jacobian(net, theta0, nodes.y[idx], nodes.u[idx])[:, 0, :]
    if min(J.shape) <= EXACT_BASIS:  # eigenvectors of the smaller Gram matrix
        if J.shape[1] <= J.shape[0]:
            ev, V = np.linalg.eigh(J.T @ J)
            V = V[:, ::-1]
        else:
            ev, U = np.linalg.eigh(J @ J.T)
            V = J.T @ (U[:, ::-1] / np.sqrt(np.clip(ev[::-1], 1e-300, None)))
        ev = ev[::-1]
    else:  # randomised range finder, two power iterations (Halko et al. 2011, Alg. 4.4)
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng (a numpy.random.Generator) is needed for the randomised basis")
        Q = np.linalg.qr(J.T @ rng.standard_normal((J.shape[0], rank + 64)))[0]
        for _ in range(2):
            Q = np.linalg.qr(J.T @ (J @ Q))[0]
        _, sv, Wt = np.linalg.svd(J @ Q, full_matrices=False)
        ev, V = sv**2, Q @ Wt.T
    keep = min(rank, int(np.sum(ev > rel_tol**2 * ev[0])))
    B = np.ascontiguousarray(V[:, :keep])
    hold = np.setdiff1d(np.unique(_systematic(wl, n_basis, offset=0.0)), idx)
    Jh = jacobian(net, theta0, nodes.y[hold], nodes.u[hold])[:, 0, :]
    resid = np.linalg.norm(Jh - (Jh @ B) @ B.T) / np.linalg.norm(Jh)
    return B, float(resid)


@dataclass
class LazyPrediction:
    r"""The lazy (NTK) law of the trained network: a Gaussian field over parameter displacements.

    With ``kernel`` the :class:`~gtv_symbolic.kernels.LinearKernel` on the features
    :math:`\phi = J B`, the displacement is :math:`\delta = B w`,

    .. math:: w \sim \mathcal N\bigl(W^*, \mathrm{Cov}_W\bigr), \qquad
              \mathrm{Cov}_W = \mathrm{Cov}_{\mathrm{mis}} + \mathrm{Cov}_C / M

    for targets averaged over :math:`M` posterior draws (:meth:`cov_W`; :math:`M = 1` is the
    proxy target J1, :math:`M = \infty` the exact mean J0); ``mean_delta`` is :math:`B W^*`.

    Attributes
    ----------
    net : MLP
    theta0 : numpy.ndarray, shape (p,)
    B : numpy.ndarray, shape (p, r)
        Orthonormal basis (:func:`basis`).
    kernel : LinearKernel
    basis_residual : float
        Held-out residual of :func:`basis`.

    Examples
    --------
    >>> [f for f in LazyPrediction.__dataclass_fields__]
    ['net', 'theta0', 'B', 'kernel', 'basis_residual']
    """

    net: MLP
    theta0: np.ndarray
    B: np.ndarray
    kernel: kernels.LinearKernel
    basis_residual: float

    @property
    def mean_delta(self) -> np.ndarray:
        """Mean parameter displacement ``B W*^T`` (``(p,)``)."""
        return self.B @ self.kernel.W_star[0]

    def cov_W(self, n_draws: int | None = 1) -> np.ndarray:
        r"""``Cov_W`` for targets averaged over ``M = n_draws`` posterior draws (derivation
        ``target-variance``): ``Cov_mis + Cov_C / M``; ``None`` (``M = inf``, the exact
        posterior mean J0): ``Cov_mis``; ``1``: the proxy law (J1)."""
        parts = self.kernel.parts
        if n_draws is None:
            return parts["misspecification"]
        return parts["misspecification"] + parts["C_term"] / int_arg(n_draws, "n_draws", 1,
                                                                        10**6)

    def sample_deltas(self, n: int, rng, n_draws: int | None = 1) -> np.ndarray:
        r"""Draw :math:`\delta = B w`, :math:`w \sim \mathcal N(W^*, \mathrm{Cov}_W)`.

        Parameters
        ----------
        n : int
        rng : numpy.random.Generator
        n_draws : int or None, default 1
            As :meth:`cov_W`.

        Returns
        -------
        numpy.ndarray, shape (n, p)
        """
        w = kernels.gaussian_weights(self.kernel.W_star, self.cov_W(n_draws),
                                     int_arg(n, "n", 1, 10**6), rng)
        return w[:, 0, :] @ self.B.T


def lazy_kernel(net: MLP, theta0, data, schedule, *, P: int, tau: float,
                target: str = "proxy", nodes=None, rng=None, n_nodes: int = 24576,
                n_basis: int = 4096, rank: int = 384) -> LazyPrediction:
    r"""Lazy-regime mean and :math:`1/P` covariance of the network after gradient flow for ``tau``.

    Paper Sec. 5.2 (Prop. 5.2): linearised at :math:`\theta_0`, the network is the linear model
    :math:`\mu = f_0 + J B w` and gradient flow gives

    .. math:: \theta_\tau - \theta_0 = h_\tau(\hat G)\, \hat g, \qquad
              h_\tau(m) = \frac{1 - e^{-\tau m}}{m},

    so the law over training sets is :func:`gtv_symbolic.kernels.linear_kernel` with features
    :func:`jacobian_times`, offset :math:`f_0 = \mu_{\theta_0}` and the gradient-flow filter.

    Parameters
    ----------
    net : MLP
        With ``dim == 1``.
    theta0 : array_like, shape (p,)
    data : array_like, shape (M, 1)
    schedule : Schedule
    P : int
        Training samples per model.
    tau : float
        Training time ``> 0``.
    target : {'proxy', 'true'}, default 'proxy'
        J1 or J0.
    nodes : optional
        Training-law nodes; default :func:`gtv_symbolic.kernels.training_nodes` (QMC, ``n_nodes``
        points, 100 to 10**7, seeded by ``rng``).
    rng : numpy.random.Generator, optional
        Needed when ``nodes`` is not given.
    n_nodes, n_basis, rank : int, default 24576, 4096, 384
        See :func:`basis`.

    Returns
    -------
    LazyPrediction

    Raises
    ------
    ValueError, TypeError
        For ``net.dim != 1``, ``tau <= 0`` or a missing ``rng``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic.networks import lazy, mlp
    >>> net = mlp.MLP(width=8, eps=1e-2)
    >>> theta0 = mlp.init_params(net, np.random.default_rng(0))
    >>> from gtv_symbolic import schedules
    >>> pred = lazy.lazy_kernel(net, theta0, [[-1.0], [1.0]], schedules.VP(), P=100, tau=1.0,
    ...                         rng=np.random.default_rng(0), n_nodes=100, n_basis=16, rank=8)
    >>> pred.B.shape, pred.sample_deltas(3, np.random.default_rng(1)).shape
    ((48, 8), (3, 48))
    """
    if net.dim != 1:
        raise ValueError("the lazy prediction supports 1-D data only (D = 1)")
    tau = positive(tau, "tau")
    theta0 = np.asarray(theta0, float)
    r_nodes, r_basis = (rng.spawn(2) if isinstance(rng, np.random.Generator) else (None, None))
    if nodes is None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng (a numpy.random.Generator) is needed to draw the QMC nodes")
        nodes = kernels.training_nodes(data, schedule, net.eps, net.T, method="qmc",
                                       n_mc=int_arg(n_nodes, "n_nodes", 100, 10**7),
                                       rng=r_nodes)
    B, resid = basis(net, theta0, nodes, n_basis=n_basis, rank=rank, rng=r_basis)

    def features(y, u):
        return jacobian_times(net, theta0, y, u, B)

    def offset(y, u):
        return apply(net, theta0, y, u)

    k = kernels.linear_kernel(features, data, schedule, P=P, eps=net.eps, T=net.T,
                              filt=kernels.gradient_flow_filter(tau), offset=offset,
                              target=target, nodes=nodes)
    return LazyPrediction(net, theta0, B, k, resid)
