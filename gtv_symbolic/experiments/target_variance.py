r"""Target-variance sweep (issue 13 item 3): placeholder header."""

from __future__ import annotations

import numpy as np

from ._common import check_int

__all__ = ["averaged_targets", "MAX_DRAWS"]

MAX_DRAWS = 10**4


def averaged_targets(x0, x, t, data, schedule, n_draws, rng) -> np.ndarray:
    r"""Targets averaged over ``M = n_draws`` posterior draws of ``x0`` given ``(x, t)``.

    .. math:: y^{(M)} = \frac1M\Big(x_0 + \sum_{k=2}^{M} x_0^{(k)}\Big),\qquad
              x_0^{(k)} \sim p(x_0 \mid x, t)\ \text{i.i.d.},

    so ``E[y | x, t] = m(x, t)`` and ``Cov[y | x, t] = Sigma_post(x, t) / M`` (the sampled
    ``x0`` is itself a posterior draw). ``M = 1`` returns ``x0`` (the proxy target, J1);
    ``n_draws=None`` the posterior mean ``m(x, t)`` (J0, the ``M -> infinity`` limit).
    ``x0, x`` have shape ``(..., D)``, ``t`` ``(...)``; ``rng`` draws the extra samples.
    """
    from ..proxy import posterior_mean, posterior_weights

    x0 = np.asarray(x0, dtype=float)
    if n_draws is None:
        return posterior_mean(x, t, data, schedule)
    M = check_int(n_draws, "n_draws", 1, MAX_DRAWS)
    if M == 1:
        return x0
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    mu = np.asarray(data, dtype=float)
    w = posterior_weights(x, t, mu, schedule)  # (..., M_data)
    c = np.cumsum(w, axis=-1)
    u = rng.random(w.shape[:-1] + (M - 1,)) * c[..., -1:]
    idx = (u[..., :, None] > c[..., None, :]).sum(axis=-1)  # inverse CDF, (..., M - 1)
    idx = np.minimum(idx, mu.shape[0] - 1)
    return (x0 + mu[idx].sum(axis=-2)) / M
