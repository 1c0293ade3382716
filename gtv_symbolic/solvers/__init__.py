r"""Samplers of the learned distributions: one PF-ODE vector field and its integrators.

.. math::  \frac{dx}{dt} = v(x, t) = -\beta_t x - D_t\,\frac{\alpha_t \mu(x, t) - x}{\sigma_t^2}

(paper Sec. 2; :mod:`.pf_ode`), integrated from ``T`` down to ``eps`` on a validated
:class:`~gtv_symbolic.grids.TimeGrid`:

* :mod:`.pf_ode` -- the vector field, Euler/Heun (:func:`integrate_pf_ode`,
  :func:`sample_pf_ode`), the reverse SDE, and the ODE log-density;
* :mod:`.transport` -- the sample-free law of the 1-D sampler (:func:`pushforward_1d`);
* :mod:`.euler2d` -- the compiled (Numba) Euler sampler for 2-D tensor-product linear
  denoisers (Fig. 3), the same arithmetic fused over steps.

Examples
--------
>>> import numpy as np
>>> from gtv_symbolic import schedules
>>> from gtv_symbolic.grids import TimeGrid
>>> g = TimeGrid.linear(schedules.VP(), eps=0.5, n_steps=2)
>>> v = velocity(np.zeros(1), np.ones(1), *g.coefficients(0))  # mu = 0: v = -beta x + D x/sigma^2
>>> bool(np.isclose(v[0], -g.beta[0] + g.D[0] / g.sigma2[0]))
True
"""

from .pf_ode import (
    METHODS,
    affine_coefficients,
    initial_samples,
    integrate_pf_ode,
    ode_log_density,
    pf_ode_drift,
    sample_pf_ode,
    sample_reverse_sde,
    velocity,
    velocity_divergence,
    velocity_jacobian,
)
from .transport import pushforward_1d

__all__ = ["velocity", "velocity_jacobian", "velocity_divergence", "affine_coefficients",
           "pf_ode_drift", "integrate_pf_ode", "initial_samples", "sample_pf_ode",
           "sample_reverse_sde", "ode_log_density", "pushforward_1d", "METHODS"]
