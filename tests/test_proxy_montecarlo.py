"""Monte Carlo: simulate the forward process, bin x_t, compare the proxy-score target.

Conditional on x_t, the target s~ = (alpha x0 - x_t)/sigma^2 has mean s(x_t) and covariance
C(x_t) (paper Sec. 2). So within each bin the residuals r = s~ - s(x_t) must have mean 0
and r_k r_l - C_kl(x_t) must have mean 0. The standard error is the exact null one,
sqrt(sum_i Var(stat | x_i)) / n with Var(r_k | x) = C_kk and
Var(r_k r_l | x) = sum_m w_m r_mk^2 r_ml^2 - C_kl^2 (r_m = alpha (mu_m - m) / sigma^2):
the sample SE is unreliable here, because where the posterior is nearly certain the residual
mean is carried by rare minority-origin samples with |r| ~ alpha/sigma^2.
"""

import numpy as np
import pytest

from gtv_symbolic import data, proxy, schedules

K = 5.0  # standard errors
MIN_MINORITY = 50.0  # expected minority-origin samples per bin (keeps bins in the CLT regime)


def _simulate(mu, t, sched, n, rng):
    x0 = mu[rng.integers(len(mu), size=n)]
    a, s2 = sched.alpha(t), sched.sigma2(t)
    x = a * x0 + np.sqrt(s2) * rng.standard_normal(x0.shape)
    return x, proxy.proxy_score(x, t, x0, sched)


def _binned_z_scores(x, target, t, mu, sched, n_bins, cov_scale=1.0):
    """Largest |z| of the per-bin mean and covariance checks.

    Bins are intervals of x[:, 0] holding equal shares of the expected number of
    minority-origin samples sum_i (1 - max_m w_m(x_i)); the check is exact for any binning
    because E[r | x] = 0 and E[r r^T - C | x] = 0 pointwise.
    """
    s = proxy.true_score(x, t, mu, sched)
    c = proxy.covariance(x, t, mu, sched)
    w = proxy.posterior_weights(x, t, mu, sched)
    a, s2 = sched.alpha(t), sched.sigma2(t)
    rm = a * (mu[None] - proxy.posterior_mean(x, t, mu, sched)[:, None]) / s2  # (n, M, D)
    r = target - s
    iu = np.triu_indices(mu.shape[1])
    q = np.einsum("ni,nj->nij", r, r) - cov_scale * c
    fourth = np.einsum("nm,nmi,nmj->nij", w, rm**2, rm**2) - c**2
    stats = np.concatenate([r, q[:, iu[0], iu[1]]], axis=1)
    var = np.concatenate([np.diagonal(c, axis1=1, axis2=2), fourth[:, iu[0], iu[1]]], axis=1)
    order = np.argsort(x[:, 0])
    cum = np.cumsum(1.0 - w.max(axis=1)[order])
    assert cum[-1] / n_bins >= MIN_MINORITY, "too few samples near the boundaries"
    idx = np.minimum((cum / cum[-1] * n_bins).astype(int), n_bins - 1)
    zmax = 0.0
    for b in range(n_bins):
        sel = order[idx == b]
        z = stats[sel].sum(axis=0) / np.sqrt(var[sel].sum(axis=0))
        zmax = max(zmax, float(np.max(np.abs(z))))
    return zmax


CASES = [
    ("1d-three VP", data.three_points(), schedules.VP(), 0.05),
    ("1d-three VP late", data.three_points(), schedules.VP(), 0.3),
    ("2d-polygon Fig1", data.polygon(6), schedules.Fig1(), 0.1),
    ("2d-lshape VE", data.lshape(), schedules.VE(), 0.4),
]


@pytest.mark.parametrize("name, mu, sched, t", CASES, ids=[c[0] for c in CASES])
def test_binned_mean_and_covariance_match_formulas(name, mu, sched, t, rng):
    x, target = _simulate(mu, t, sched, 200_000, rng)
    assert _binned_z_scores(x, target, t, mu, sched, n_bins=20) < K


def test_check_has_power_against_a_wrong_covariance(rng):
    """The same check rejects C scaled by 1.1: the MC test can fail."""
    mu, sched, t = data.three_points(), schedules.VP(), 0.05
    x, target = _simulate(mu, t, sched, 200_000, rng)
    assert _binned_z_scores(x, target, t, mu, sched, n_bins=20, cov_scale=1.1) > K


def test_forward_marginal_matches_density(rng):
    """Samples of x_t follow p(x|t): binned chi-square against the mixture density."""
    from scipy import stats

    mu, sched, t = data.three_points(), schedules.VP(), 0.1
    x, _ = _simulate(mu, t, sched, 100_000, rng)
    edges = np.linspace(-2.5, 2.5, 41)
    counts, _ = np.histogram(x[:, 0], edges)
    fine = np.linspace(-2.5, 2.5, 40 * 200 + 1)
    dens = proxy.density(fine[:, None], t, mu, sched)
    cdf = np.concatenate([[0], np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(fine))])
    expected = len(x) * np.diff(cdf[::200])
    keep = expected > 5
    chi2 = np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep])
    assert stats.chi2.sf(chi2, keep.sum() - 1) > 1e-4
