r"""Quadrature over the training law of the DSM objective (used by the V-kernels).

Expectations ``E_{u ~ U[eps, T]} E_{x0 ~ p_data} E_{y ~ N(alpha_u x0, sigma_u^2)}[f]`` are
computed on weighted nodes ``(y, u)``, with the ``x0`` draw Rao-Blackwellised into the
posterior moments at each node (paper Sec. 5):

.. math::  \mathbb E[\lambda\, f(y, u)\, x_0] = \mathbb E[\lambda\, f(y, u)\, m(y, u)], \qquad
           m = \mathbb E[x_0 \mid y, u], \quad \lambda = \alpha_u^2 / \sigma_u^2.

Examples
--------
>>> from gtv_symbolic import schedules
>>> nd = training_nodes([[-1.0], [1.0]], schedules.VP(), 1e-2)
>>> nd.method, round(float(nd.w.sum()), 12)
('quadrature', 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from .. import proxy
from .._validate import int_arg
from ..data import as_data
from ..grids import check_window

__all__ = ["TrainingNodes", "training_nodes"]


@dataclass(frozen=True)
class TrainingNodes:
    r"""Weighted nodes ``(y, u)`` of the training law with posterior moments at each node (paper Sec. 5).

    .. math:: \mathbb{E}_{u, x_0, y}[f(y, u)] \approx \sum_i w_i f(y_i, u_i), \qquad
              \lambda_i = \frac{\alpha_{u_i}^2}{\sigma_{u_i}^2}

    Attributes
    ----------
    y
        numpy.ndarray, shape (n, D): noisy points.
    u
        numpy.ndarray, shape (n,): times.
    w
        numpy.ndarray, shape (n,): weights summing to one.
    lam
        numpy.ndarray, shape (n,): denoiser-form DSM weight ``alpha_u^2 / sigma_u^2``.
    m
        numpy.ndarray, shape (n, D): ``E[x0 | y, u]``.
    cov
        numpy.ndarray, shape (n, D, D): ``Cov[x0 | y, u]``.
    method
        str: ``'quadrature'``, ``'qmc'`` or ``'mc'``.

    Examples
    --------
    >>> from gtv_symbolic import kernels, schedules
    >>> nd = kernels.training_nodes([[-1.0], [1.0]], schedules.VP(), 0.1, dy=0.1)
    >>> nd.y.shape[1], nd.cov.shape[1:], round(float(nd.w @ nd.u), 6)  # E[u] = (0.1 + 1)/2
    (1, (1, 1), 0.55)
    """

    y: np.ndarray
    u: np.ndarray
    w: np.ndarray
    lam: np.ndarray
    m: np.ndarray
    cov: np.ndarray
    method: str


def _u_nodes(eps, T, n_per_panel=6):
    """Composite Gauss-Legendre nodes in u: geometric panels near eps, linear above."""
    knee = min(0.05 * T, max(eps * 10, 0.05 * T))
    edges = []
    if eps < knee:
        n_geo = max(2, int(np.ceil(4 * np.log10(knee / eps))))
        edges.append(np.geomspace(eps, knee, n_geo + 1))
    else:
        knee = eps
    edges.append(np.linspace(knee, T, 25))
    e = np.unique(np.concatenate(edges))
    z, wz = np.polynomial.legendre.leggauss(n_per_panel)
    a, b = e[:-1, None], e[1:, None]
    u = (0.5 * (b - a) * z + 0.5 * (a + b)).ravel()
    w = (0.5 * (b - a) * wz).ravel() / (T - eps)
    return u, w


def training_nodes(data, schedule, eps: float, T: float = 1.0, *, method: str = "auto",
                   dy: float = 0.02, n_mc: int = 200_000, rng=None) -> TrainingNodes:
    r"""Nodes for expectations over the training law of the DSM objective (paper Sec. 5).

    .. math:: \mathbb{E}_{u \sim U[\epsilon, T]}\, \mathbb{E}_{x_0 \sim p_{\mathrm{data}}}\,
              \mathbb{E}_{y \sim \mathcal{N}(\alpha_u x_0, \sigma_u^2)}\bigl[\lambda\, f(y, u)\, x_0\bigr]
              = \sum_i w_i \lambda_i f(y_i, u_i)\, m(y_i, u_i)

    (the ``x0`` draw Rao-Blackwellised into the posterior moments at each node).
    ``method='quadrature'`` (1-D data only; default for D = 1): composite Gauss-Legendre in
    ``u`` (geometric panels near ``eps``), trapezoid nodes in ``y`` with spacing
    ``min(dy, sigma_u/4)``. ``method='qmc'`` (default for D > 1): scrambled Sobol points
    (``rng`` seeds the scrambling) in ``(u, z)``, about ``n_mc`` in total, with ``x0``
    stratified exactly over the training points; ``method='mc'``: plain Monte Carlo.

    Parameters
    ----------
    data : array_like, shape (M, D); training points.
    schedule : :class:`~gtv_symbolic.schedules.Schedule`
    eps, T : float; training-time window.
    method : {'auto', 'quadrature', 'qmc', 'mc'}
    dy : float; largest y spacing of the quadrature, in ``(0, 0.5]``.
    n_mc : int; number of (quasi-)Monte Carlo nodes, 100 to 10**8.
    rng : numpy.random.Generator; required for ``'qmc'`` and ``'mc'``.

    Returns
    -------
    TrainingNodes

    Examples
    --------
    >>> import numpy as np
    >>> from gtv_symbolic import kernels, schedules
    >>> nd = kernels.training_nodes([[-1.0, 0.0], [1.0, 0.0]], schedules.VP(), 0.1, method="mc", n_mc=1000,
    ...                             rng=np.random.default_rng(0))
    >>> nd.method, nd.y.shape, round(float(nd.w.sum()), 12)
    ('mc', (1000, 2), 1.0)
    """
    mu = as_data(data)
    eps, T = check_window(schedule, eps, T)
    dim = mu.shape[1]
    if method == "auto":
        method = "quadrature" if dim == 1 else "qmc"
    if method == "quadrature":
        if dim != 1:
            raise ValueError(f"method='quadrature' needs 1-D data, got D = {dim}; use method='mc'")
        if not (np.isfinite(dy) and 0 < dy <= 0.5):
            raise ValueError(f"dy must lie in (0, 0.5], got {dy!r}")
        u_n, w_n = _u_nodes(eps, T)
        al, s2 = schedule.alpha(u_n), schedule.sigma2(u_n)
        ys, us, ws = [], [], []
        lo, hi = mu.min(), mu.max()
        for ui, wi, a, v in zip(u_n, w_n, al, s2, strict=True):
            sd = np.sqrt(v)
            h = min(dy, sd / 4)
            if sd < 0.1:  # per-component nodes
                nz = max(29, int(np.ceil(14 * sd / h)) | 1)
                z = np.linspace(-7, 7, nz)
                gz = np.exp(-z**2 / 2)
                gz /= gz.sum()
                y = (a * mu[:, 0][:, None] + sd * z[None, :]).ravel()
                wy = np.tile(gz, mu.shape[0]) / mu.shape[0]
            else:  # common grid under the mixture
                y = np.arange(a * lo - 7 * sd, a * hi + 7 * sd + h, h)
                d2 = (y[:, None] - a * mu[None, :, 0]) ** 2
                wy = np.exp(-d2 / (2 * v)).sum(axis=1)
                wy /= wy.sum()
            ys.append(y)
            us.append(np.full(y.shape, ui))
            ws.append(wi * wy)
        y = np.concatenate(ys)[:, None]
        u = np.concatenate(us)
        w = np.concatenate(ws)
        w /= w.sum()
    elif method in ("mc", "qmc"):
        n_mc = int_arg(n_mc, "n_mc", 100, 10**8)
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"method={method!r} needs rng (a numpy.random.Generator)")
        if method == "mc":
            u = rng.uniform(eps, T, n_mc)
            x0 = mu[rng.integers(0, mu.shape[0], n_mc)]
            z = rng.standard_normal((n_mc, dim))
        else:  # scrambled Sobol points in (u, z), the same set for every training point
            from scipy.stats import qmc  # scipy.stats costs ~1-2 s to import: only when used

            n_per = max(1, n_mc // mu.shape[0])
            m_pow = int(np.ceil(np.log2(n_per)))
            pts = qmc.Sobol(d=1 + dim, scramble=True, seed=rng).random_base2(m_pow)
            pts = np.clip(pts, 1e-12, 1 - 1e-12)
            # u log-uniform (importance weights prop. to u): flattens lam ~ 1/u near eps
            u1 = eps * (T / eps) ** pts[:, 0]
            w1 = u1 / u1.sum()
            z1 = ndtri(pts[:, 1:])
            u = np.tile(u1, mu.shape[0])
            z = np.tile(z1, (mu.shape[0], 1))
            x0 = np.repeat(mu, u1.shape[0], axis=0)
            n_mc = u.shape[0]
        y = schedule.alpha(u)[:, None] * x0 + np.sqrt(schedule.sigma2(u))[:, None] * z
        w = np.full(n_mc, 1.0 / n_mc) if method == "mc" else np.tile(w1, mu.shape[0]) / mu.shape[0]
    else:
        raise ValueError(f"method must be 'auto', 'quadrature', 'mc' or 'qmc', got {method!r}")
    lam = schedule.snr_weight(u)
    m = proxy.posterior_mean(y, u, mu, schedule)
    cov = proxy.posterior_covariance(y, u, mu, schedule)
    return TrainingNodes(y=y, u=u, w=w, lam=lam, m=m, cov=cov, method=method)
