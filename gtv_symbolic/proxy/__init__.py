r"""Point-mass data model: posterior, true score, proxy score and its covariance.

For ``p_data = (1/M) sum_m delta(x0 - mu_m)`` and the isotropic forward process
``p(x | x0, t) = N(x; alpha_t x0, sigma_t^2 I)`` (paper Sec. 2, Background):

* posterior weights  ``w_m = softmax_m(-|x - alpha mu_m|^2 / (2 sigma^2))``
* posterior mean     ``m(x,t) = sum_m w_m mu_m``
* posterior cov      ``Sigma_post = sum_m w_m (mu_m - m)(mu_m - m)^T``
* true score         ``s = (alpha m - x) / sigma^2``                  (Tweedie)
* proxy score        ``s~(x,t;x0) = (alpha x0 - x) / sigma^2``         (paper Sec. 2)
* its covariance     ``C = alpha^2 Sigma_post / sigma^4``              (paper Sec. 2)
* Figure 1 ratio     ``R = tr C / (tr C + |s|^2)``                      (paper Fig. 1)

Each quantity has a SymPy form (``sym_*``: explicit small data sets, numeric or symbolic
points; ``generic_*``: any M with an indexed sum) and a vectorized NumPy evaluator. The
evaluators are built from lambdified SymPy kernels (:mod:`gtv_symbolic.numeric`) plus a
log-sum-exp softmax over the training points whose logits are centred on the nearest
noised training point: backward stable (the exact value at an input within a few ulps)
for ``|x|``, ``|mu|`` up to 1e4 and more, t down to 1e-8, M up to 1e4 and D up to 64.

>>> import numpy as np
>>> from gtv_symbolic import proxy, schedules, data
>>> vp = schedules.VP()
>>> s = proxy.true_score(np.zeros((1, 2)), 0.5, data.polygon(6), vp)
>>> np.allclose(s, 0)
True
"""

from .evaluators import (
    COV_FACTOR_EXPR,
    LOGIT_EXPR,
    SCORE_EXPR,
    covariance,
    density,
    log_density,
    posterior_covariance,
    posterior_mean,
    posterior_weights,
    proxy_score,
    true_score,
    variance_ratio,
)
from .gaussian import sym_gaussian_covariance
from .symbolic import (
    MAX_SYMBOLIC_DIM,
    generic_forms,
    latex_formulas,
    sym_covariance,
    sym_marginal,
    sym_posterior_covariance,
    sym_posterior_mean,
    sym_posterior_weights,
    sym_proxy_score,
    sym_true_score,
    sym_variance_ratio,
)

__all__ = [
    "LOGIT_EXPR", "SCORE_EXPR", "COV_FACTOR_EXPR",
    "posterior_weights", "posterior_mean", "posterior_covariance", "true_score", "proxy_score",
    "covariance", "variance_ratio", "log_density", "density",
    "MAX_SYMBOLIC_DIM",
    "sym_marginal", "sym_posterior_weights", "sym_posterior_mean", "sym_posterior_covariance",
    "sym_proxy_score", "sym_true_score", "sym_covariance", "sym_variance_ratio",
    "generic_forms", "latex_formulas", "sym_gaussian_covariance",
]
