r"""MLP denoiser ensembles in JAX and their lazy-regime (NTK) prediction (issue 13).

Importing this subpackage imports JAX (the optional extra ``gtv_symbolic[nn]``); nothing else
in the package does, so ``import gtv_symbolic`` stays fast without JAX.

* :mod:`.mlp` -- :class:`MLP` (one hidden ``tanh`` layer, fixed time embedding, NTK or
  mean-field parameterisation), :func:`init_params`, :func:`apply`, :func:`jacobian`,
  :func:`empirical_ntk`;
* :mod:`.train` -- :func:`train_networks` (``N`` models by ``jax.vmap`` in one ``jit``, the
  package's DSM sampler and weighting), :func:`kernel_change`;
* :mod:`.lazy` -- :func:`lazy_kernel` (empirical NTK at initialisation through
  :func:`gtv_symbolic.kernels.linear_kernel` with the gradient-flow filter);
* :mod:`.sampler` -- :class:`EnsembleDenoiser` for the samplers of :mod:`gtv_symbolic.solvers`.
"""

from __future__ import annotations

from .lazy import LazyPrediction, basis, jacobian_times, lazy_kernel
from .mlp import (MAX_WIDTH, MLP, PARAMETERISATIONS, apply, apply_linearised, empirical_ntk,
                  init_params, jacobian, prng_key)
from .sampler import EnsembleDenoiser
from .train import MAX_STEPS, fit, gram_top_eigenvalue, kernel_change, train_networks

__all__ = ["MLP", "PARAMETERISATIONS", "MAX_WIDTH", "MAX_STEPS", "init_params", "apply",
           "apply_linearised", "jacobian", "empirical_ntk", "prng_key", "fit",
           "train_networks", "gram_top_eigenvalue", "kernel_change", "lazy_kernel",
           "LazyPrediction", "basis", "jacobian_times", "EnsembleDenoiser"]
