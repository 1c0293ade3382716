r"""Linear-model V-kernel: the 1/P law of a trained linear denoiser (paper Sec. 5, Prop. 5.1).

A model ``mu_hat = W phi(x,t) (+ f0)`` in denoiser form, trained on ``P`` DSM samples by a
spectral filter of the empirical Gram matrix (:mod:`gtv_symbolic.training`; ridge
``h(m) = 1/(m + rho)``, gradient flow ``h(m) = (1 - e^{-tau m})/m``). To leading order in
``1/P`` (delta method), ``W ~ N(W*, Cov_W)`` with ``Cov_W = O(1/P)``:

.. math::  W_* = h(G)\,g, \qquad \mathrm{Cov}[W] = \tfrac1P\big(\mathbb E[\xi\xi^\top]
           - \mathbb E\xi\,\mathbb E\xi^\top\big).

The derivation (the Daleckii-Krein expansion and the per-sample influence ``xi``) is in
:mod:`.influence`, which computes the moments.

Expectations over the training law ``u ~ U[eps, T], x0 ~ p_data, y ~ N(alpha_u x0,
sigma_u^2)`` are computed by deterministic quadrature in one dimension and by Monte Carlo
(with Rao-Blackwellised posterior moments) otherwise (:func:`training_nodes`).

Examples
--------
>>> from gtv_symbolic import data, schedules
>>> from gtv_symbolic.features import make_features
>>> fm = make_features("gaussian", 1, 4, 3, eps=1e-2)
>>> K = linear_kernel(fm, data.three_points(), schedules.VP(), P=100, eps=1e-2)
>>> K.W_star.shape, K.cov_W.shape, K.F_eff < K.n_features
((1, 12), (1, 12, 1, 12), True)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._blas import blas_threads
from .._validate import check_schedule, int_arg
from ..data import as_data
from ..denoisers import LinearDenoiser
from ..schedules import Schedule
from ..training import SpectralFilter, optimum_weights, ridge_filter
from ._eval import eval_features, eval_offset
from .base import VKernel, gaussian_weights
from .influence import influence_moments
from .nodes import TrainingNodes, training_nodes

__all__ = ["LinearKernel", "linear_kernel"]



@dataclass
class LinearKernel(VKernel):
    r"""Leading-order ``1/P`` law of a linear denoiser (paper Sec. 5, Prop. 5.1, reconstructed).

    .. math:: \hat\mu(x,t) = W \phi(x,t) + f_0(x,t), \qquad
              W \sim \mathcal{N}(W_*, \mathrm{Cov}_W), \qquad \mathrm{Cov}_W = O(1/P)

    Built by :func:`linear_kernel` (or :func:`~gtv_symbolic.kernels.ntk_kernel`). Use
    :meth:`denoiser_cov`, :meth:`score_cov`, :meth:`V` for the V-kernel (Prop. 3.1:
    ``V = D_t Cov[s_hat, s_hat'] D_t'``) and :meth:`sample_weights` for Gaussian fields.

    Attributes
    ----------
    features
        callable ``(x (n, D), t (n,)) -> (n, F)``: the feature map ``phi``.
    schedule
        :class:`~gtv_symbolic.schedules.Schedule`.
    P
        int: number of training samples.
    W_star
        numpy.ndarray, shape (D, F): population solution ``h(G) g`` (the ensemble mean to O(1/P)).
    cov_W
        numpy.ndarray, shape (D, F, D, F): covariance of W to O(1/P) (module docstring).
    eig
        numpy.ndarray, shape (F,): eigenvalues of the population Gram matrix ``G``.
    filt
        :class:`~gtv_symbolic.training.SpectralFilter`: the training filter ``h``.
    target
        str: ``'proxy'`` (J1, DSM) or ``'true'`` (J0).
    G
        numpy.ndarray, shape (F, F): population Gram matrix ``E[lam phi phi^T]``.
    offset
        callable or None: ``f0``.
    parts
        dict: ``cov_W`` split into ``'C_term'`` (proxy variance) and ``'misspecification'``.

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import features, kernels, schedules
    >>> two, vp = [[-1.0], [1.0]], schedules.VP()  # F = 12 features, coarse nodes
    >>> K = kernels.linear_kernel(features.make_features("gaussian", 1, 4, 3, eps=1e-2),
    ...     two, vp, P=100, eps=0.1, nodes=kernels.training_nodes(two, vp, 0.1, dy=0.1))
    >>> K.W_star.shape, K.cov_W.shape, round(K.F_eff, 3)
    ((1, 12), (1, 12, 1, 12), 1.721)
    >>> np.allclose(K.cov_W, K.parts["C_term"] + K.parts["misspecification"])
    True
    """

    features: object
    schedule: Schedule
    P: int
    W_star: np.ndarray
    cov_W: np.ndarray
    eig: np.ndarray
    filt: SpectralFilter
    target: str
    G: np.ndarray = None
    offset: object = None
    parts: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        """Data dimension D."""
        return self.W_star.shape[0]

    @property
    def n_features(self) -> int:
        """Number of features F."""
        return self.W_star.shape[1]

    @property
    def F_eff(self) -> float:
        r"""Effective number of features, ``<= F``.

        .. math:: F_{\mathrm{eff}} = \operatorname{tr}\bigl(G\, h(G)\bigr)
                  \quad \bigl(\text{ridge: } \operatorname{tr} G (G + \rho)^{-1}\bigr)

        The learned-denoiser variance scales as ``F_eff / P`` (module docstring).

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import features, kernels, schedules
        >>> two, vp = [[-1.0], [1.0]], schedules.VP()  # F = 12 features, coarse nodes
        >>> K = kernels.linear_kernel(features.make_features("gaussian", 1, 4, 3, eps=1e-2),
        ...     two, vp, P=100, eps=0.1, nodes=kernels.training_nodes(two, vp, 0.1, dy=0.1))
        >>> round(K.F_eff, 3), K.n_features
        (1.721, 12)
        """
        return float(np.sum(self.eig * self.filt.h(self.eig)))

    def with_P(self, P: int) -> LinearKernel:
        r"""The same kernel for another ``P``: ``Cov_W`` scales exactly as ``1/P``.

        .. math:: \mathrm{Cov}_W(P') = \frac{P}{P'}\, \mathrm{Cov}_W(P)

        Parameters
        ----------
        P : int; new number of training samples, 1 to 10**8.

        Returns
        -------
        LinearKernel

        Examples
        --------
        >>> from gtv_symbolic import features, kernels, schedules
        >>> two, vp = [[-1.0], [1.0]], schedules.VP()  # F = 12 features, coarse nodes
        >>> K = kernels.linear_kernel(features.make_features("gaussian", 1, 4, 3, eps=1e-2),
        ...     two, vp, P=100, eps=0.1, nodes=kernels.training_nodes(two, vp, 0.1, dy=0.1))
        >>> round(K.with_P(200).training_variance() / K.training_variance(), 12)
        0.5
        """
        P = int_arg(P, "P", 1, 10**8)
        return LinearKernel(self.features, self.schedule, P, self.W_star,
                            self.cov_W * (self.P / P), self.eig, self.filt, self.target,
                            self.G, self.offset,
                            {k: v * (self.P / P) for k, v in self.parts.items()})

    def _phi(self, x, t):
        x = np.asarray(x, dtype=float)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have shape (..., {self.dim}), got {x.shape}")
        t = self.schedule.validate_t(t)
        batch = np.broadcast_shapes(x.shape[:-1], t.shape)
        xb = np.broadcast_to(x, batch + (self.dim,)).reshape(-1, self.dim)
        tb = np.broadcast_to(t, batch).reshape(-1)
        return eval_features(self.features, xb, tb), xb, tb, batch

    def denoiser_mean(self, x, t) -> np.ndarray:
        r"""Ensemble-mean denoiser to O(1/P).

        .. math:: \mathbb{E}[\hat\mu(x,t)] = W_* \phi(x,t) + f_0(x,t)

        Parameters
        ----------
        x : array_like, shape (..., D); points.
        t : float or array_like; times, broadcasting against ``x[..., 0]``.

        Returns
        -------
        numpy.ndarray, shape (..., D)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import features, kernels, schedules
        >>> two, vp = [[-1.0], [1.0]], schedules.VP()  # F = 12 features, coarse nodes
        >>> K = kernels.linear_kernel(features.make_features("gaussian", 1, 4, 3, eps=1e-2),
        ...     two, vp, P=100, eps=0.1, nodes=kernels.training_nodes(two, vp, 0.1, dy=0.1))
        >>> x = np.array([[0.2]])
        >>> K.denoiser_mean(x, 0.3).round(4)
        array([[0.1452]])
        """
        phi, xb, tb, batch = self._phi(x, t)
        out = phi @ self.W_star.T + eval_offset(self.offset, xb, tb, self.dim)
        return out.reshape(batch + (self.dim,))

    def denoiser_cov(self, x, t, x2=None, t2=None) -> np.ndarray:
        r"""Pointwise covariance of the learned denoiser.

        .. math:: \mathrm{Cov}[\hat\mu_d(x,t), \hat\mu_e(x',t')]
                  = \sum_{f, g} \phi_f(x,t)\, \mathrm{Cov}_W[d,f,e,g]\, \phi_g(x',t')

        Parameters
        ----------
        x : array_like, shape (..., D); points.
        t : float or array_like; times, broadcasting against ``x[..., 0]``.
        x2, t2 : optional; second point and time (default ``x2 = x``; ``t2 = t``), broadcasting
            to the same batch shape as ``(x, t)``.

        Returns
        -------
        numpy.ndarray, shape (..., D, D)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import features, kernels, schedules
        >>> two, vp = [[-1.0], [1.0]], schedules.VP()  # F = 12 features, coarse nodes
        >>> K = kernels.linear_kernel(features.make_features("gaussian", 1, 4, 3, eps=1e-2),
        ...     two, vp, P=100, eps=0.1, nodes=kernels.training_nodes(two, vp, 0.1, dy=0.1))
        >>> x = np.array([[0.2]])
        >>> K.denoiser_cov(x, 0.3).round(4)
        array([[[0.017]]])
        """
        phi, _, _, batch = self._phi(x, t)
        if x2 is None:
            phi2 = phi
        else:
            phi2, _, _, batch2 = self._phi(x2, t2 if t2 is not None else t)
            if batch2 != batch:
                raise ValueError("(x2, t2) must broadcast to the same batch shape as (x, t)")
        out = np.einsum("nf,dfeg,ng->nde", phi, self.cov_W, phi2, optimize=True)
        return out.reshape(batch + (self.dim, self.dim))

    def denoiser_cov_matrix(self, x, t) -> np.ndarray:
        r"""Full covariance of the learned denoiser between all pairs of points.

        .. math:: \mathrm{Cov}[\hat\mu_d(x_n,t_n), \hat\mu_e(x_m,t_m)]
              = \phi(x_n,t_n)^\top \mathrm{Cov}_W[d,:,e,:]\, \phi(x_m,t_m)

        Parameters
        ----------
        x : array_like, shape (n, D)
        t : array_like, shape (n,)

        Returns
        -------
        numpy.ndarray, shape (n, D, n, D)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import features, kernels, schedules
        >>> two, vp = [[-1.0], [1.0]], schedules.VP()  # F = 12 features, coarse nodes
        >>> K = kernels.linear_kernel(features.make_features("gaussian", 1, 4, 3, eps=1e-2),
        ...     two, vp, P=100, eps=0.1, nodes=kernels.training_nodes(two, vp, 0.1, dy=0.1))
        >>> x = np.array([[0.2]])
        >>> C = K.denoiser_cov_matrix(np.array([[0.2], [0.5]]), np.array([0.3, 0.3]))
        >>> C.shape, bool(np.isclose(C[0, 0, 0, 0], K.denoiser_cov(x, 0.3)[0, 0, 0]))
        ((2, 1, 2, 1), True)
        """
        phi, _, _, _ = self._phi(x, t)
        return np.einsum("nf,dfeg,mg->ndme", phi, self.cov_W, phi, optimize=True)

    def training_variance(self) -> float:
        r"""Variance of the learned denoiser averaged over the training law: the size of V.

        .. math:: \mathbb{E}_{\mathrm{train}}\bigl[\lambda \operatorname{tr} \mathrm{Var}\,\hat\mu(y,u)\bigr]
                  = \sum_d \operatorname{tr}\bigl(G\, \mathrm{Cov}_W[d,:,d,:]\bigr)

        Scales as ``F_eff / P`` times a feature-weighted average of ``lam Sigma_post``.

        Returns
        -------
        float

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import features, kernels, schedules
        >>> two, vp = [[-1.0], [1.0]], schedules.VP()  # F = 12 features, coarse nodes
        >>> K = kernels.linear_kernel(features.make_features("gaussian", 1, 4, 3, eps=1e-2),
        ...     two, vp, P=100, eps=0.1, nodes=kernels.training_nodes(two, vp, 0.1, dy=0.1))
        >>> round(K.training_variance(), 5)
        0.00635
        """
        return float(sum(np.trace(self.G @ self.cov_W[d, :, d, :]) for d in range(self.dim)))

    def sample_weights(self, n: int, rng) -> np.ndarray:
        """``n`` draws of ``W ~ N(W*, Cov_W)`` (the Gaussian-field prediction).

        Parameters
        ----------
        n : int; number of draws.
        rng : numpy.random.Generator

        Returns
        -------
        numpy.ndarray, shape (n, D, F)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import features, kernels, schedules
        >>> two, vp = [[-1.0], [1.0]], schedules.VP()  # F = 12 features, coarse nodes
        >>> K = kernels.linear_kernel(features.make_features("gaussian", 1, 4, 3, eps=1e-2),
        ...     two, vp, P=100, eps=0.1, nodes=kernels.training_nodes(two, vp, 0.1, dy=0.1))
        >>> K.sample_weights(4, np.random.default_rng(0)).shape
        (4, 1, 12)
        """
        return gaussian_weights(self.W_star, self.cov_W, n, rng)

    def _feature_map(self):
        if self.offset is not None or not hasattr(self.features, "apply"):
            raise TypeError("a denoiser needs a FeatureMap kernel without offset")
        return self.features

    def sample_field(self, n: int, rng) -> LinearDenoiser:
        """``n`` Gaussian fields ``W_n phi`` as one ensemble :class:`~gtv_symbolic.denoisers.LinearDenoiser`.

        Parameters
        ----------
        n : int; number of fields.
        rng : numpy.random.Generator

        Returns
        -------
        gtv_symbolic.denoisers.LinearDenoiser
            With ``n_models = n``; needs a FeatureMap without offset (else TypeError).

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import features, kernels, schedules
        >>> two, vp = [[-1.0], [1.0]], schedules.VP()  # F = 12 features, coarse nodes
        >>> K = kernels.linear_kernel(features.make_features("gaussian", 1, 4, 3, eps=1e-2),
        ...     two, vp, P=100, eps=0.1, nodes=kernels.training_nodes(two, vp, 0.1, dy=0.1))
        >>> K.sample_field(4, np.random.default_rng(0)).n_models
        4
        """
        return LinearDenoiser(self._feature_map(), self.sample_weights(n, rng))

    def mean_denoiser(self) -> LinearDenoiser:
        """The mean model ``W* phi`` as a :class:`~gtv_symbolic.denoisers.LinearDenoiser`.

        Exact x-derivatives through the features; needs a FeatureMap without offset (else TypeError).

        Returns
        -------
        gtv_symbolic.denoisers.LinearDenoiser

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import features, kernels, schedules
        >>> two, vp = [[-1.0], [1.0]], schedules.VP()  # F = 12 features, coarse nodes
        >>> K = kernels.linear_kernel(features.make_features("gaussian", 1, 4, 3, eps=1e-2),
        ...     two, vp, P=100, eps=0.1, nodes=kernels.training_nodes(two, vp, 0.1, dy=0.1))
        >>> x = np.array([[0.2]])
        >>> np.allclose(K.mean_denoiser()(x, 0.3), K.denoiser_mean(x, 0.3))
        True
        """
        return LinearDenoiser(self._feature_map(), self.W_star)

    def functional_variance(self, x, t, c) -> np.ndarray:
        r"""Variance of a linear functional of the learned denoiser (see :class:`VKernel`).

        .. math:: \mathrm{Var}\Bigl[\sum_k c_k \cdot \hat\mu(x_k, t_k)\Bigr] = g^\top \mathrm{Cov}_W\, g,
                  \qquad g = \sum_k c_k \otimes \phi(x_k, t_k)

        Parameters
        ----------
        x : array_like, shape (n, K, D)
        t : array_like, shape (K,)
        c : array_like, shape (n, K, D)

        Returns
        -------
        numpy.ndarray, shape (n,)

        Examples
        --------
        >>> import numpy as np
        >>> from gtv_symbolic import features, kernels, schedules
        >>> two, vp = [[-1.0], [1.0]], schedules.VP()  # F = 12 features, coarse nodes
        >>> K = kernels.linear_kernel(features.make_features("gaussian", 1, 4, 3, eps=1e-2),
        ...     two, vp, P=100, eps=0.1, nodes=kernels.training_nodes(two, vp, 0.1, dy=0.1))
        >>> x = np.array([[0.2]])
        >>> v = K.functional_variance(x[:, None], np.array([0.3]), np.ones((1, 1, 1)))
        >>> np.allclose(v, K.denoiser_cov(x, 0.3)[:, 0, 0])
        True
        """
        x, c = np.asarray(x, dtype=float), np.asarray(c, dtype=float)
        n, K, D = x.shape
        g = np.zeros((n, D, self.n_features))
        for k in range(K):
            phi, _, _, _ = self._phi(x[:, k], np.full(n, float(t[k])))
            g += c[:, k, :, None] * phi[:, None, :]
        return np.einsum("ndf,dfeg,neg->n", g, self.cov_W, g, optimize=True)


def linear_kernel(features, data, schedule, *, P: int, eps: float, T: float = 1.0,
                  ridge: float = 0.1, target: str = "proxy", filt: SpectralFilter | None = None,
                  offset=None, nodes: TrainingNodes | None = None, rng=None) -> LinearKernel:
    r"""Mean ``W*`` and covariance ``Cov_W`` of a linear denoiser trained on ``P`` DSM samples.

    Model (denoiser form, paper Sec. 5): ``mu_hat(x,t) = W phi(x,t) + f0(x,t)``,
    ``s_hat = (alpha_t mu_hat - x)/sigma_t^2``; weights ``lam = alpha^2/sigma^2``; training
    ``theta = h(G_hat) g_hat`` (default: ridge ``rho = ridge``, the paper's code). Returns the
    leading-order law ``W ~ N(W*, Cov_W)``:

    .. math::
        W_* = h(G)\,g,\qquad
        \mathrm{Cov}[W] = \tfrac1P\big(\mathbb E[\xi\xi^\top] - \mathbb E\xi\,\mathbb E\xi^\top\big),

    with the influence ``xi`` of the module docstring; for ridge and the proxy target this is
    ``(1/P)(Sigma+rho)^{-1} E[lam^2 phi phi^T ((m - W*phi)^2 + Sigma_post)] (Sigma+rho)^{-1}``
    minus the mean term: Prop. 5.1 as reconstructed and derived here (module
    docstring; the derivation *linear-model* checks it). Runs with single-threaded BLAS
    (many small products; much faster on a shared 2-core machine).

    Parameters
    ----------
    features : callable ``(x (n, D), t (n,)) -> (n, F)``
        The feature map ``phi`` (e.g. :func:`gtv_symbolic.features.make_features`).
    data : array_like, shape (M, D); training points.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`
    P : int; number of training samples, 1 to 10**8.
    eps, T : float; training-time window ``u ~ U[eps, T]``.
    ridge : float; ridge ``rho`` of the default filter (ignored when ``filt`` is given).
    target : {'proxy', 'true'}
        ``'proxy'`` is the DSM objective J1 (targets ``x0``); ``'true'`` is J0 (targets
        ``m(x,t)``, i.e. the true score): the ``Sigma_post`` (proxy-variance) term drops.
    filt : :class:`~gtv_symbolic.training.SpectralFilter`, optional
        Training filter ``h`` (default :func:`~gtv_symbolic.training.ridge_filter`).
    offset : callable ``-> (n, D)``, optional
        ``f0`` (the lazy network's output at initialisation).
    nodes : :class:`TrainingNodes`, optional
        Quadrature of the training law (default :func:`training_nodes`).
    rng : numpy.random.Generator, optional; seeds Monte Carlo nodes (D > 1).

    Returns
    -------
    LinearKernel

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import kernels, schedules
    >>> from gtv_symbolic.features import make_features
    >>> fm, two, vp = make_features("gaussian", 1, 4, 3, eps=1e-2), [[-1.0], [1.0]], schedules.VP()
    >>> nodes = kernels.training_nodes(two, vp, 0.1, dy=0.1)
    >>> Kp = kernels.linear_kernel(fm, two, vp, P=100, eps=0.1, nodes=nodes)
    >>> Kt = kernels.linear_kernel(fm, two, vp, P=100, eps=0.1, nodes=nodes, target="true")
    >>> float(np.abs(Kt.parts["C_term"]).max())  # J0: no proxy-variance term
    0.0
    >>> round(Kp.training_variance(), 5), round(Kt.training_variance(), 5)
    (0.00635, 0.00349)
    """
    with blas_threads(1):
        return _linear_kernel(features, data, schedule, P=P, eps=eps, T=T, ridge=ridge,
                              target=target, filt=filt, offset=offset, nodes=nodes, rng=rng)


def _linear_kernel(features, data, schedule, *, P, eps, T=1.0, ridge=0.1, target="proxy",
                   filt=None, offset=None, nodes=None, rng=None) -> LinearKernel:
    """Implementation of :func:`linear_kernel` (BLAS threads already limited)."""
    check_schedule(schedule)
    P = int_arg(P, "P", 1, 10**8)
    mu = as_data(data)
    if target not in ("proxy", "true"):
        raise ValueError(f"target must be 'proxy' (J1) or 'true' (J0), got {target!r}")
    if filt is None:
        filt = ridge_filter(ridge)
    if nodes is None:
        nodes = training_nodes(mu, schedule, eps, T, rng=rng)
    m = influence_moments(features, nodes, filt, dim=mu.shape[1], P=P, target=target,
                          offset=offset)
    return LinearKernel(features=features, schedule=schedule, P=P,
                        W_star=optimum_weights(m.g.T, m.G, filt, eig=(m.eig, m.U)).copy(),
                        cov_W=m.cov_mis_W + m.cov_C_W, eig=m.eig, filt=filt, target=target,
                        G=m.G, offset=offset,
                        parts={"C_term": m.cov_C_W, "misspecification": m.cov_mis_W})
