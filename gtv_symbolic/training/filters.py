r"""Spectral filters of the Gram matrix: ridge and gradient flow (paper Sec. 5).

A trained linear model is ``W^T = h(G_hat) g_hat``; the filter ``h`` is ridge,
``h(m) = 1/(m + rho)``, or gradient flow for a time ``tau`` from ``W = 0``,
``h(m) = (1 - e^{-tau m})/m``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SpectralFilter", "ridge_filter", "gradient_flow_filter"]


@dataclass(frozen=True)
class SpectralFilter:
    r"""A spectral filter ``h`` of the Gram matrix: trained weights ``theta = h(G) g`` (paper Sec. 5).

    .. math:: h_{\mathrm{ridge}}(m) = \frac{1}{m + \rho}, \qquad
              h_{\mathrm{gf}}(m) = \frac{1 - e^{-\tau m}}{m}

    (``tau = inf``: ``1/m`` for ``m > 0``, 0 else).

    Build with :func:`ridge_filter` or :func:`gradient_flow_filter`.

    Attributes
    ----------
    name
        str: ``'ridge'`` or ``'gradient_flow'``.
    param
        float: ``rho`` or ``tau``.

    Examples
    --------
    >>> import numpy as np
    >>> round(float(ridge_filter(0.1).h(0.9)), 12)
    1.0
    >>> float(gradient_flow_filter(np.inf).h(4.0))
    0.25
    """

    name: str
    param: float

    def h(self, mu):
        """The filter ``h(m)`` (series near ``tau m = 0`` for the gradient flow).

        Parameters
        ----------
        mu : array_like; eigenvalues ``m >= 0``.

        Returns
        -------
        numpy.ndarray, shape of ``mu``

        Examples
        --------
        >>> import numpy as np
        >>> gradient_flow_filter(2.0).h(np.array([0.0, 1.0])).round(4)  # tau at m = 0
        array([2.    , 0.8647])
        """
        mu = np.asarray(mu, dtype=float)
        if self.name == "ridge":
            return 1.0 / (mu + self.param)
        tau = self.param
        if np.isinf(tau):
            return np.where(mu > 0, 1.0 / np.where(mu > 0, mu, 1.0), 0.0)
        x = tau * mu
        small = np.abs(x) < 1e-8
        safe = np.where(small, 1.0, mu)
        return np.where(small, tau * (1 - x / 2), -np.expm1(-x) / safe)

    def dh(self, mu):
        r"""The derivative ``h'(m)`` (series near ``tau m = 0`` for the gradient flow).

        .. math:: h_{\mathrm{ridge}}'(m) = -\frac{1}{(m + \rho)^2}, \qquad
                  h_{\mathrm{gf}}'(m) = \frac{\tau m\, e^{-\tau m} - (1 - e^{-\tau m})}{m^2}

        Parameters
        ----------
        mu : array_like

        Returns
        -------
        numpy.ndarray, shape of ``mu``

        Examples
        --------
        >>> import numpy as np
        >>> float(ridge_filter(1.0).dh(1.0))
        -0.25
        >>> f, m = gradient_flow_filter(2.0), 1.0  # against a central difference
        >>> bool(np.isclose(f.dh(m), (f.h(m + 1e-6) - f.h(m - 1e-6)) / 2e-6))
        True
        """
        mu = np.asarray(mu, dtype=float)
        if self.name == "ridge":
            return -1.0 / (mu + self.param) ** 2
        tau = self.param
        if np.isinf(tau):
            return np.where(mu > 0, -1.0 / np.where(mu > 0, mu, 1.0) ** 2, 0.0)
        x = tau * mu
        small = np.abs(x) < 1e-3
        safe = np.where(small, 1.0, mu)
        series = -tau**2 / 2 + tau**3 * mu / 3 - tau**4 * mu**2 / 8
        exact = (x * np.exp(-x) + np.expm1(-x)) / safe**2
        return np.where(small, series, exact)

    def divided_differences(self, mu) -> np.ndarray:
        r"""Daleckii-Krein matrix of first divided differences of ``h``.

        .. math:: H_{kl} = \frac{h(m_k) - h(m_l)}{m_k - m_l}, \qquad H_{kk} = h'(m_k)

        exactly ``-h(m_k) h(m_l)`` for ridge (no cancellation); the derivative of ``h`` at the
        midpoint where ``m_k`` and ``m_l`` are within a relative 1e-6.

        Parameters
        ----------
        mu : array_like, shape (F,)

        Returns
        -------
        numpy.ndarray, shape (F, F)

        Examples
        --------
        >>> import numpy as np
        >>> r, m = ridge_filter(0.1), np.array([1.0, 2.0])
        >>> np.allclose(r.divided_differences(m), -np.outer(r.h(m), r.h(m)))
        True
        """
        mu = np.asarray(mu, dtype=float)
        hv = self.h(mu)
        if self.name == "ridge":
            return -np.outer(hv, hv)  # exact, no cancellation
        diff = mu[:, None] - mu[None, :]
        scale = np.maximum(np.abs(mu[:, None]), np.abs(mu[None, :])) + 1e-300
        close = np.abs(diff) <= 1e-6 * scale
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (hv[:, None] - hv[None, :]) / np.where(close, 1.0, diff)
        mid = self.dh(0.5 * (mu[:, None] + mu[None, :]))
        return np.where(close, mid, out)


def ridge_filter(rho: float) -> SpectralFilter:
    r"""Ridge regression filter (paper Sec. 5; the paper's code uses ``rho = 0.1``).

    .. math:: h(m) = \frac{1}{m + \rho}, \qquad W = \hat A (\hat\Sigma + \rho I)^{-1}

    Parameters
    ----------
    rho : float; finite and >= 0.

    Returns
    -------
    SpectralFilter

    Examples
    --------
    >>> ridge_filter(0.1)
    SpectralFilter(name='ridge', param=0.1)
    """
    rho = float(rho)
    if not (np.isfinite(rho) and rho >= 0):
        raise ValueError(f"ridge must be a finite number >= 0, got {rho!r}")
    return SpectralFilter("ridge", rho)


def gradient_flow_filter(tau: float) -> SpectralFilter:
    r"""Gradient flow for a training time ``tau`` from ``W = 0`` (paper Sec. 5, Prop. 5.2).

    .. math:: h_\tau(m) = \frac{1 - e^{-\tau m}}{m}

    ``tau = inf`` is unregularised least squares (``h = 1/m`` on the range of ``G``).

    Parameters
    ----------
    tau : float; > 0, ``np.inf`` allowed.

    Returns
    -------
    SpectralFilter

    Examples
    --------
    >>> gradient_flow_filter(2.0)
    SpectralFilter(name='gradient_flow', param=2.0)
    """
    tau = float(tau)
    if not (tau > 0):
        raise ValueError(f"tau must be > 0 (np.inf allowed), got {tau!r}")
    return SpectralFilter("gradient_flow", tau)


