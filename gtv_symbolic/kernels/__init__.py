r"""V-kernels: the covariance of the learned score across training draws (paper Secs. 3-5).

The path-integral result (Prop. 3.1): the ensemble-average learned distribution is
the output of the PF-ODE driven by a Gaussian random score field with covariance

.. math::  V(x, t; x', t') = D_t\, \mathrm{Cov}_\theta[\hat s(x, t), \hat s(x', t')]\, D_{t'}.

Every estimator is a :class:`VKernel` (:mod:`.base`: mean and covariance of the learned
denoiser, ``score_cov``, ``V``, Gaussian-field draws):

* :mod:`.naive` -- the naive estimator, ``V = kappa D_t C D_t' delta(t - t')``
  (Prop. 4.1), :class:`NaiveKernel`;
* :mod:`.linear` -- linear models trained by a spectral filter, ``W ~ N(W*, Cov_W)`` to
  order ``1/P`` (Prop. 5.1, reconstructed and derived), :class:`LinearKernel`;
* :mod:`.ntk` -- the lazy / NTK regime of a two-layer network (Prop. 5.2);
* :mod:`.nodes` -- quadrature over the training law; :mod:`.symbolic` -- SymPy forms.

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic import data, schedules
>>> from gtv_symbolic.features import make_features
>>> fm = make_features("gaussian", 1, 4, 3, eps=1e-2)
>>> K = linear_kernel(fm, data.three_points(), schedules.VP(), P=100, eps=1e-2)
>>> isinstance(K, VKernel), K.sample_field(5, np.random.default_rng(0)).n_models
(True, 5)
>>> K.V(np.zeros((2, 1)), 0.5).shape  # V(x, t; x, t) at two points
(2, 1, 1)
"""

from ..training import SpectralFilter, gradient_flow_filter, ridge_filter
from .base import JITTER, VKernel, gaussian_draws, gaussian_weights
from .linear import LinearKernel, linear_kernel
from .naive import (
    NaiveKernel,
    check_kappa,
    naive_step_covariance,
    naive_V,
    sym_naive_step_covariance,
    sym_naive_V,
)
from .nodes import TrainingNodes, training_nodes
from .ntk import TwoLayerNet, ntk_kernel, ntk_small_tau_cov
from .symbolic import (
    latex_forms,
    sym_filter_limits,
    sym_gradient_flow_filter,
    sym_linear_cov_W,
    sym_linear_V,
    sym_ntk_V,
)

__all__ = [
    "VKernel", "gaussian_weights", "gaussian_draws", "JITTER",
    "naive_V", "naive_step_covariance", "sym_naive_V", "sym_naive_step_covariance",
    "check_kappa", "NaiveKernel",
    "TrainingNodes", "training_nodes", "SpectralFilter", "ridge_filter", "gradient_flow_filter",
    "LinearKernel", "linear_kernel",
    "TwoLayerNet", "ntk_kernel", "ntk_small_tau_cov",
    "sym_linear_cov_W", "sym_linear_V", "sym_gradient_flow_filter", "sym_filter_limits",
    "sym_ntk_V", "latex_forms",
]
