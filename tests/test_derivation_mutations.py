"""A plausible wrong production function makes the derivation of that result fail.

Each derivation of Prop. 3.1, 4.1, 5.1, 5.2 and of the small-noise expansion checks the
production code the figures run. Here one production function at a time is replaced by a
plausible wrong version (``monkeypatch``), and building + verifying the derivation must raise
:class:`~gtv_symbolic.derive.VerificationError` at the step that checks it. That the
unmutated derivations verify is ``tests/test_derivations.py::test_derivation_verifies``
(same seeds); ``test_unmutated_target_steps_pass`` below re-runs the targeted steps.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gtv_symbolic import kernels, training, typical
from gtv_symbolic.derivations import build
from gtv_symbolic.derivations import _lazy_checks as d11_checks
from gtv_symbolic.derivations import _linear_checks as d10_checks
from gtv_symbolic.derive import VerificationError
from gtv_symbolic.schedules import Schedule
from gtv_symbolic.typical import semiclassical

_naive_V = kernels.naive_V
_linear_kernel = kernels.linear_kernel
_ntk_kernel = kernels.ntk_kernel
_mean_flow = typical.mean_flow


def _naive_V_one_D(x, t, data, schedule, kappa):
    """Drops one factor D_t: kappa D_t C instead of kappa D_t^2 C."""
    return _naive_V(x, t, data, schedule, kappa) / np.asarray(schedule.D(np.asarray(t, float)))


def _linear_kernel_double_C(*args, **kwargs):
    """Doubles the C-term (proxy-variance part) of Cov_W."""
    k = _linear_kernel(*args, **kwargs)
    c_term = k.parts["C_term"]
    return dataclasses.replace(k, cov_W=k.cov_W + c_term,
                               parts={**k.parts, "C_term": 2 * c_term})


def _snr_weight_alpha(self, t):
    """Weights the denoiser by alpha/sigma^2 instead of alpha^2/sigma^2."""
    return self.alpha(t) / self.sigma2(t)


def _gradient_flow_filter_2tau(tau):
    """2 tau in the gradient-flow filter."""
    return training.SpectralFilter("gradient_flow", 2 * float(tau))


def _ntk_kernel_no_misspecification(*args, **kwargs):
    """Drops the sample-location / misspecification term of the lazy-network covariance."""
    k = _ntk_kernel(*args, **kwargs)
    return dataclasses.replace(k, cov_W=k.parts["C_term"])


def _moment_matched_no_sqrt(W, n_models, rng):
    """Scales the centred ensemble by 1/(N - 1) instead of 1/sqrt(N - 1)."""
    W = np.asarray(W, dtype=float)
    n, d, f = W.shape
    flat = W.reshape(n, d * f)
    mean = flat.mean(0)
    z = rng.standard_normal((n_models, n))
    return (mean + z @ ((flat - mean) / (n - 1))).reshape(n_models, d, f)


def _mean_flow_no_score_gain(denoiser, x_T, grid):
    """The step gain without the score term: a_k = 1 + dt_k beta_k."""
    path, _ = _mean_flow(denoiser, x_T, grid)
    h = np.diff(grid.ts)[:, None]  # negative steps
    gains = np.broadcast_to(1 - h * grid.beta[:-1, None], (len(h), path.shape[1]))
    return path, np.array(gains)


#: (derivation, target object, attribute, wrong version, label of the step that must fail)
MUTATIONS = [
    ("path-integral", typical, "moment_matched_weights", _moment_matched_no_sqrt,
     "Prop. 3.1: Gaussian truncation"),
    ("naive-estimator", kernels, "naive_V", _naive_V_one_D, "sampler step"),
    ("linear-model", kernels, "linear_kernel", _linear_kernel_double_C, "Prop. 5.1: formula"),
    ("linear-model", Schedule, "snr_weight", _snr_weight_alpha, "Prop. 5.1: formula"),
    ("ntk-lazy", training, "gradient_flow_filter", _gradient_flow_filter_2tau,
     "trainer = gradient flow"),
    ("ntk-lazy", kernels, "ntk_kernel", _ntk_kernel_no_misspecification, "Prop. 5.2: formula"),
    ("small-noise", semiclassical, "mean_flow", _mean_flow_no_score_gain, "naive: small $\\kappa$"),
]


@pytest.fixture(autouse=True)
def _fresh_caches():
    """The derivations cache the training-law nodes; a mutated schedule must not reuse them."""
    for mod in (d10_checks, d11_checks):
        mod._nodes.cache_clear()
    yield
    for mod in (d10_checks, d11_checks):
        mod._nodes.cache_clear()


@pytest.mark.parametrize("name, target, attr, wrong, label", MUTATIONS,
                         ids=[f"{m[0]}-{m[2]}" for m in MUTATIONS])
def test_wrong_production_function_fails_the_derivation(monkeypatch, name, target, attr,
                                                        wrong, label):
    monkeypatch.setattr(target, attr, wrong)
    d = build(name)
    step = next(i for i, s in enumerate(d.steps, 1) if s.label == label)
    with pytest.raises(VerificationError, match=rf"step {step} "):
        d.verify()


@pytest.mark.parametrize("name, label", sorted({(m[0], m[4]) for m in MUTATIONS}))
def test_unmutated_target_steps_pass(name, label):
    """The same steps pass on the production code (same seed stream as ``verify``)."""
    d = build(name)
    rng = np.random.default_rng(d.seed)
    for s in d.steps:
        ok = s.verify(rng) if s.status in ("symbolic", "numeric", "monte-carlo") else True
        assert ok, (s.label, s.detail)
        if s.label == label:
            break
