r"""The typical (ensemble-average) learned distribution ``[q(x0)]``, predicted from V-kernels.

Prop. 3.1: under the Gaussian (second-cumulant) truncation, ``[q(x0 | x_T)]`` is the
output law of the PF-ODE driven by a Gaussian random score field with the mean and covariance
of a :class:`~gtv_symbolic.kernels.VKernel`. This module turns kernels into distributions
(predictors only; distances and summaries are in :mod:`gtv_symbolic.metrics`, samplers in
:mod:`gtv_symbolic.solvers`):

* **Gaussian fields** (linear models): ``W ~ N(W*, Cov_W)`` pushed through the same sampler
  as the trained ensembles (:func:`gaussian_field_weights`, :func:`moment_matched_weights`).
* **Naive estimator** (Prop. 4.1): Euler-Maruyama of
  ``x_{k+1} = x_k + h_k v(x_k) + sqrt(kappa |h_k|) D (s~(x0) - s)`` with fresh posterior draws
  (:func:`naive_em`), and the 1-D Fokker-Planck equation of its diffusion limit

  .. math::  \partial_\tau q = \partial_x[v\, q] + \tfrac12 \partial_x^2[\kappa D^2 C\, q],
             \qquad \tau = T - t

  (:func:`naive_fokker_planck`; implicit Euler, Scharfetter-Gummel fluxes, mass-conserving).
* **Small-noise (semiclassical) approximation** (a linear-noise approximation, checked in the
  derivation `small-noise`; not claimed to be the paper's own formula): linearise the sampler around the
  mean path, so each seed ``x_T`` lands at ``N(X(x_T), v(x_T))``
  (:func:`semiclassical_linear`, :func:`semiclassical_naive`). Valid while ``sqrt(v)`` is small
  against the mode separation and away from the separatrices of the mean flow, i.e.
  ``kappa = F/P << 1``; it fails for paths that start near a separatrix and at ``F/P >~ 1``.

All predictors take a validated :class:`~gtv_symbolic.grids.TimeGrid` (``T`` down to ``eps``)
and use the one PF-ODE vector field :func:`gtv_symbolic.solvers.velocity`.

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic import schedules
>>> from gtv_symbolic.grids import TimeGrid
>>> from gtv_symbolic.kernels import NaiveKernel
>>> grid = TimeGrid.geometric(schedules.VP(), 2e-2, n_steps=200)
>>> x, q = naive_fokker_planck(NaiveKernel([[-1.0], [1.0]], grid.schedule, 0.5), grid)
>>> round(float(q.sum() * (x[1] - x[0])), 9)
1.0
"""

from .fields import gaussian_field_weights, moment_matched_weights
from .naive import naive_em, naive_fokker_planck, naive_step
from .semiclassical import mean_flow, semiclassical_linear, semiclassical_naive

__all__ = [
    "gaussian_field_weights", "moment_matched_weights",
    "naive_step", "naive_em", "naive_fokker_planck",
    "mean_flow", "semiclassical_linear", "semiclassical_naive",
]
