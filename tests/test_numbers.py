"""The error printed with a Monte Carlo error ratio (``plots.numbers.ratio_pm``), checked by Monte Carlo.

The ratio is ``se_fields / se_ensemble`` with ``se = sd / sqrt(n)``; ``ratio_pm`` prints
``r ± r sqrt(1/(2(n_f - 1)) + 1/(2(n_e - 1)))``. Here the ratio is computed for ``R``
independent pairs of normal samples and the spread of those ratios is compared with the
formula, within 5 standard errors of the estimated spread (relative s.e. ``1/sqrt(2(R - 1))``).
"""

import numpy as np
import pytest

from gtv_symbolic.plots.numbers import pm, ratio_pm

R = 4000


def _relative_spread(n_f, n_e, rng):
    g = rng.standard_normal((R, n_f))
    e = rng.standard_normal((R, n_e))
    r = (g.std(1, ddof=1) / np.sqrt(n_f)) / (e.std(1, ddof=1) / np.sqrt(n_e))
    return r.std(ddof=1) / r.mean()


def _printed_relative_error(n_f, n_e):
    v, se = (float(x) for x in ratio_pm(1.0, n_f, n_e, digits=6).split(" ± "))
    return se / v


@pytest.mark.parametrize("n_f, n_e", [(100, 100), (900, 100), (30, 300)])
def test_ratio_error_matches_monte_carlo(n_f, n_e):
    rel = _relative_spread(n_f, n_e, np.random.default_rng(n_f * 1000 + n_e))
    tol = 5 * rel / np.sqrt(2 * (R - 1))
    assert abs(_printed_relative_error(n_f, n_e) - rel) < tol


def test_check_rejects_a_wrong_formula():
    """Dropping the ensemble's term (n_f = n_e: a factor sqrt(2)) is outside the tolerance."""
    rel = _relative_spread(100, 100, np.random.default_rng(1))
    tol = 5 * rel / np.sqrt(2 * (R - 1))
    assert abs(np.sqrt(1 / (2 * 99)) - rel) > tol


def test_undefined_error_and_format():
    assert ratio_pm(0.5, 1, 100) == "0.50 ± n/a"
    assert pm(0.12345, 0.0061) == "0.123 ± 0.006"
