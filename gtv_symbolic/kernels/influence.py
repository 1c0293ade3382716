r"""The per-sample influence of a trained linear denoiser and its moments (paper Sec. 5, Prop. 5.1).

Derivation of the linear-model covariance (new; checked against trained ensembles in
the tests). Write ``G_hat = (1/P) sum_i lam_i phi_i phi_i^T`` and
``g_hat = (1/P) sum_i lam_i phi_i (y_i - f0_i)^T`` (targets ``y_i = x0_i`` for the proxy
objective J1, ``y_i = m(x_i, t_i)`` for J0), and the trained weights
``theta_hat = h(G_hat) g_hat`` (``W = theta^T``). The population values ``G, g`` give
``theta* = h(G) g``. The first-order (Daleckii-Krein) expansion is

    delta theta = h(G) delta g + Dh(G)[delta G] g,
    Dh(G)[E] = U (H o U^T E U) U^T,   H_kl = (h(mu_k) - h(mu_l)) / (mu_k - mu_l)

(``G = U diag(mu) U^T``, ``H_kk = h'(mu_k)``), a sum of ``P`` i.i.d. terms, so
``Cov[theta] = (1/P) Cov[xi] + O(P^-2)`` with the per-sample influence (eigenbasis)

    xi = lam [ (h o v)(y - f0)^T + v o (H (v o c)) ],   v = U^T phi,  c = U^T g.

For ridge, ``H = -h h^T`` and ``xi = lam (G + rho)^{-1} phi (y - f0 - W* phi)^T`` - the
ridge-regression formula. Averaging ``y = x0`` over the posterior splits the covariance
into the misspecification part and the proxy-variance part
``(1/P) E[lam^2 (h o v)(h o v)^T (x) Sigma_post]``, i.e. in function space the C-term
``(1/P) E_{u,y}[lam_u^2 k(x,t;y,u) Sigma_post(y,u) k(y,u;x',t')]`` with the filtered feature
kernel ``k = phi^T h(G) phi'``. The trace identity ``E[lam k(y,u;y,u)] = tr(G h(G)) = F_eff``
gives the ``F_eff / P`` scaling of the learned-denoiser variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..training import SpectralFilter
from ._eval import eval_features, eval_offset
from .nodes import TrainingNodes

__all__ = ["InfluenceMoments", "influence_moments"]

_CHUNK = 4096


@dataclass(frozen=True)
class InfluenceMoments:
    r"""Population moments of the training law and the two parts of ``Cov_W`` (Prop. 5.1).

    .. math:: \mathrm{Cov}_W = \mathrm{Cov}_W^{\mathrm{mis}} + \mathrm{Cov}_W^{C}, \qquad
              G = U \operatorname{diag}(\mu) U^\top

    Attributes
    ----------
    G
        numpy.ndarray, shape (F, F): population Gram matrix ``E[lam phi phi^T]``.
    g
        numpy.ndarray, shape (F, D): cross moment ``E[lam phi (m - f0)^T]``.
    eig
        numpy.ndarray, shape (F,): eigenvalues of ``G`` (clipped at 0).
    U
        numpy.ndarray, shape (F, F): eigenvectors of ``G``.
    cov_mis_W
        numpy.ndarray, shape (D, F, D, F): misspecification part of ``Cov_W``.
    cov_C_W
        numpy.ndarray, shape (D, F, D, F): proxy-variance (C-term) part (0 for target ``'true'``).

    Examples
    --------
    Built by :func:`influence_moments` (its example compares it with ``linear_kernel``):

    >>> import numpy as np
    >>> z2, z4 = np.zeros((1, 1)), np.zeros((1, 1, 1, 1))
    >>> InfluenceMoments(G=z2, g=z2, eig=np.zeros(1), U=z2, cov_mis_W=z4, cov_C_W=z4).G.shape
    (1, 1)
    """

    G: np.ndarray
    g: np.ndarray
    eig: np.ndarray
    U: np.ndarray
    cov_mis_W: np.ndarray
    cov_C_W: np.ndarray


def influence_moments(features, nodes: TrainingNodes, filt: SpectralFilter, *, dim: int, P: int,
                      target: str = "proxy", offset=None) -> InfluenceMoments:
    r"""Moments of the per-sample influence ``xi`` over the training law (module docstring).

    Two passes over the quadrature nodes: first ``G`` and ``g``, then, in the eigenbasis of
    ``G``, the moments of ``xi`` and of the proxy-variance term:

    .. math:: \mathrm{Cov}_W^{\mathrm{mis}} = \tfrac1P\bigl(\mathbb E[\xi\xi^\top]
              - \mathbb E\xi\, \mathbb E\xi^\top\bigr), \qquad
              \mathrm{Cov}_W^{C} = \tfrac1P\, \mathbb E\bigl[\lambda^2 (h\circ v)(h\circ v)^\top
              \otimes \Sigma_{\mathrm{post}}\bigr]

    rotated back to the layout ``(D, F, D, F)`` of ``W``.

    Parameters
    ----------
    features : callable ``(x (n, D), t (n,)) -> (n, F)``
        The feature map ``phi``.
    nodes : :class:`~gtv_symbolic.kernels.TrainingNodes`
        Quadrature of the training law (:func:`~gtv_symbolic.kernels.training_nodes`).
    filt : :class:`~gtv_symbolic.training.SpectralFilter`
        The training filter ``h``.
    dim : int
        Data dimension D.
    P : int
        Number of training samples (the covariance scales as ``1/P``).
    target : {'proxy', 'true'}
        ``'true'`` (J0) drops the C-term.
    offset : callable ``-> (n, D)``, optional
        ``f0`` (the lazy network's output at initialisation).

    Returns
    -------
    InfluenceMoments

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import features, kernels, schedules
    >>> from gtv_symbolic.training import ridge_filter
    >>> two, vp = [[-1.0], [1.0]], schedules.VP()
    >>> fm = features.make_features("gaussian", 1, 4, 3, eps=1e-2)
    >>> nodes = kernels.training_nodes(two, vp, 0.1, dy=0.1)
    >>> m = influence_moments(fm, nodes, ridge_filter(0.1), dim=1, P=100)
    >>> K = kernels.linear_kernel(fm, two, vp, P=100, eps=0.1, nodes=nodes)
    >>> bool(np.allclose(m.cov_mis_W + m.cov_C_W, K.cov_W)), m.G.shape
    (True, (12, 12))
    """
    n = nodes.u.shape[0]
    # pass 1: population Gram matrix G and cross moment g
    F = None
    G = g = None
    for s in range(0, n, _CHUNK):
        sl = slice(s, min(n, s + _CHUNK))
        y, u = nodes.y[sl], nodes.u[sl]
        phi = eval_features(features, y, u)
        if F is None:
            F = phi.shape[1]
            G = np.zeros((F, F))
            g = np.zeros((F, dim))
        f0 = eval_offset(offset, y, u, dim)
        wl = nodes.w[sl] * nodes.lam[sl]
        G += (phi * wl[:, None]).T @ phi
        g += (phi * wl[:, None]).T @ (nodes.m[sl] - f0)
    G = 0.5 * (G + G.T)
    mu_eig, U = np.linalg.eigh(G)
    mu_eig = np.clip(mu_eig, 0, None)
    hv = filt.h(mu_eig)
    H = filt.divided_differences(mu_eig)
    c = U.T @ g  # (F, D)
    # pass 2: second moments of the influence xi (eigenbasis)
    Ea = np.zeros((F, dim))
    Eaa = np.zeros((F * dim, F * dim))
    Ebb = np.zeros((F, dim, F, dim))
    for s in range(0, n, _CHUNK):
        sl = slice(s, min(n, s + _CHUNK))
        y, u = nodes.y[sl], nodes.u[sl]
        phi = eval_features(features, y, u)
        f0 = eval_offset(offset, y, u, dim)
        lam = nodes.lam[sl]
        w = nodes.w[sl]
        v = phi @ U  # (n, F)
        hvv = v * hv[None, :]
        # a = lam [ (h o v)(m - f0)^T + v o (H (v o c)) ]
        vc = v[:, :, None] * c[None, :, :]  # (n, F, D)
        Hvc = np.einsum("kl,nld->nkd", H, vc, optimize=True)
        a = lam[:, None, None] * (hvv[:, :, None] * (nodes.m[sl] - f0)[:, None, :]
                                  + v[:, :, None] * Hvc)
        af = a.reshape(a.shape[0], -1)
        Ea += np.einsum("n,nfd->fd", w, a)
        Eaa += (af * w[:, None]).T @ af
        if target == "proxy":
            b = hvv * (lam * np.sqrt(w))[:, None]  # (n, F)
            for d1 in range(dim):
                for d2 in range(dim):
                    Ebb[:, d1, :, d2] += (b * nodes.cov[sl, d1, d2][:, None]).T @ b
    Eaa = Eaa.reshape(F, dim, F, dim)
    cov_mis = (Eaa - np.einsum("fd,ge->fdge", Ea, Ea)) / P
    cov_C = Ebb / P

    def rot(ct):  # eigenbasis (F,D,F,D) -> W layout (D,F,D,F)
        r = np.einsum("af,fdge,bg->adbe", U, ct, U, optimize=True)
        return np.ascontiguousarray(r.transpose(1, 0, 3, 2))

    return InfluenceMoments(G=G, g=g, eig=mu_eig, U=U, cov_mis_W=rot(cov_mis), cov_C_W=rot(cov_C))
