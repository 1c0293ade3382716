r"""Training linear denoisers by denoising score matching: one sampler, one trainer, one W*.

Model (denoiser form, paper Sec. 5): ``mu_hat(x, t) = W phi(x, t) + f0(x, t)`` with
``W in R^{D x F}`` and an optional fixed offset ``f0`` (the lazy network's output at
initialisation, Prop. 5.2); the score is ``s_hat = (alpha_t mu_hat - x) / sigma_t^2``.
Training uses ``P`` i.i.d. DSM triples (:func:`sample_training_set`): ``x0`` uniform over
the training points, ``t ~ U[eps, T]``, ``x ~ N(alpha_t x0, sigma_t^2 I)``, weighted by
``lambda = alpha_t^2 / sigma_t^2`` (the DSM objective of Sec. 2 in denoiser form):

.. math::  \hat G = \frac1P \sum_i \lambda_i \phi_i \phi_i^\top, \qquad
           \hat g = \frac1P \sum_i \lambda_i \phi_i (y_i - f_{0,i})^\top, \qquad
           W^\top = h(\hat G)\, \hat g,

with targets ``y_i = x0_i`` (the proxy objective J1) or ``y_i = E[x0 | x_i, t_i]`` (J0, the
true score). The spectral filter ``h`` is ridge, ``h(m) = 1/(m + rho)`` (the paper's code,
``rho = 0.1``), or gradient flow for a time ``tau`` from ``W = 0``,
``h(m) = (1 - e^{-tau m})/m`` (:class:`SpectralFilter`). Ridge is solved in closed form,

.. math::  W = \hat A (\hat\Sigma + \rho I)^{-1} \quad\text{or, for } P \le F,\quad
           W = C^\top \Lambda^{1/2}\Phi,\;
           C = (\Lambda^{1/2}\Phi\Phi^\top\Lambda^{1/2}/P + \rho I)^{-1}\Lambda^{1/2} Y/P,

(push-through identity); for crossed features the Gram matrix ``Phi Phi^T`` is the Hadamard
product of the per-axis Grams (``O(P^2 sum_d n_d)`` instead of ``O(P F^2)``).

The population optimum (:func:`population_weights`) is ``W* = h(Sigma) A^T`` with
``A = E[lambda x0 phi^T]``, ``Sigma = E[lambda phi phi^T]``, computed with exact Gaussian
expectations over ``x | x0, t`` (per axis, closed form) and Gauss-Legendre quadrature in
``log t``. The ensemble mean of :func:`train_ensemble` approaches ``W*`` up to ``O(1/P)``.

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic import data, schedules
>>> from gtv_symbolic.features import make_features
>>> from gtv_symbolic.training import train_ensemble
>>> fm = make_features("gaussian", dim=1, n_x=4, n_t=3, eps=1e-2)
>>> W = train_ensemble(fm, data.three_points(), schedules.VP(), P=50, n_models=3, eps=1e-2,
...                    rng=np.random.default_rng(0))
>>> W.shape
(3, 1, 12)
"""

from .._validate import MAX_TRAIN
from .filters import SpectralFilter, gradient_flow_filter, ridge_filter
from .fit import TARGETS, ridge_fit, ridge_objective, sample_training_set, train_ensemble
from .population import optimum_weights, population_moments, population_weights

__all__ = ["sample_training_set", "train_ensemble", "population_weights", "optimum_weights",
           "population_moments", "ridge_fit", "ridge_objective", "SpectralFilter", "ridge_filter",
           "gradient_flow_filter", "TARGETS", "MAX_TRAIN"]
