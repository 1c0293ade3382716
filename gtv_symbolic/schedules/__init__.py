r"""Forward processes ``dx = -beta_t x dt + sqrt(2 D_t) dW`` as SymPy expressions of ``t``.

A schedule holds ``alpha(t)``, ``sigma2(t)`` (= S_t, isotropic), ``beta(t)`` and
``D(t) = g_t^2 / 2`` (paper Sec. 2). Consistency is checked symbolically:

* ``alpha_t = exp(-int_0^t beta)``, i.e. ``alpha' = -beta alpha``;
* ``dS/dt = -2 beta S + 2 D`` with ``S(0) = 0``.

Numeric evaluation (``sched.alpha(t)`` etc.) goes through :mod:`gtv_symbolic.numeric`, so
``sigma^2 = 1 - exp(-a)`` is evaluated as ``-expm1(-a)``: accurate at ``t = 1e-6``.

Accepted times
--------------
Each schedule accepts ``t`` in ``[t_min, T]`` (``[t_min, T)`` for Fig1), where ``t_min`` is
the time at which :math:`\sigma_t^2` reaches :data:`gtv_symbolic._validate.SIGMA2_MIN`:
above it every evaluator of :mod:`gtv_symbolic.proxy` is finite for coordinates up to
:data:`gtv_symbolic._validate.MAX_COORD` (below it :math:`\sigma^4` and
:math:`\alpha^2 \Sigma_{\mathrm{post}} / \sigma^4` leave the float64 range). Solving
:math:`\sigma^2(t_{\min}) = S_{\min}`:

* VE, EDM (:math:`\sigma^2 = t^2`): :math:`t_{\min} = \sqrt{S_{\min}}`;
* Fig1 (:math:`\sigma^2 = t`): :math:`t_{\min} = S_{\min}`;
* VP (:math:`\sigma^2 = 1 - e^{-2 I(t)}`, :math:`I = \beta_{\min} t + \beta_d t^2 / 2`):
  :math:`I(t_{\min}) = a := -\tfrac12 \log(1 - S_{\min})`, i.e.
  :math:`t_{\min} = 2 a / (\beta_{\min} + \sqrt{\beta_{\min}^2 + 2 \beta_d a})`.

``t_min`` is rounded up to two significant digits (there is a factor 2 of headroom in
``SIGMA2_MIN``). The message of a rejected ``t`` states the interval.

Examples
--------
>>> from gtv_symbolic import schedules
>>> vp = schedules.VP()
>>> float(vp.sigma2(1e-6))  # doctest: +ELLIPSIS
2.0001987...e-07
>>> vp.check()
True
>>> vp.t_min  # doctest: +ELLIPSIS
3...e-143
"""

from .base import Schedule
from .families import EDM, SCHEDULES, VE, VP, Fig1, edm_time_grid, get

__all__ = ["Schedule", "VP", "VE", "EDM", "Fig1", "SCHEDULES", "get", "edm_time_grid"]
