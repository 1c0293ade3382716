"""The library of checked derivations, one module per derivation (``gtv derive --list``).

Each module defines ``NAME``, ``TITLE`` and ``build() -> gtv_symbolic.derive.Derivation``.
Modules are imported lazily, so listing the derivations costs nothing.
"""

from __future__ import annotations

from importlib import import_module

#: name -> (module, one-line title), in reading order.
REGISTRY: dict[str, tuple[str, str]] = {
    "forward-process": ("d01_forward_process", "Forward process: Gaussian conditional, alpha_t and "
                                               "S_t, mixture marginal"),
    "tweedie": ("d02_tweedie", "Tweedie: true score s = S^-1 (alpha E[x0|x] - x)"),
    "proxy-unbiased": ("d03_proxy_unbiased", "The proxy score is unbiased: E_post[s~] = s"),
    "proxy-covariance": ("d04_proxy_covariance", "Proxy-score covariance C, the three forms of Eq. (5)"),
    "dsm-vs-sm": ("d05_dsm_vs_sm", "DSM vs score matching: J1 = J0 + E[lambda tr C]/2; denoiser weight"),
    "pf-ode-marginals": ("d06_pf_ode", "The PF-ODE preserves the marginals (continuity equation)"),
    "gaussian-data": ("d07_gaussian_data", "Gaussian data N(m0, S0): score, posterior, constant C"),
    "path-integral": ("d08_path_integral", "MSR path integral, cumulants M1, M2, effective SDE (Prop. 3.1)"),
    "naive-estimator": ("d09_naive_estimator", "Naive estimator: mean s, V = kappa D C D delta (Prop. 4.1)"),
    "linear-model": ("d10_linear_model", "Linear models: ridge solution, mean, 1/P V-kernel (Prop. 5.1)"),
    "ntk-lazy": ("d11_ntk_lazy", "Lazy/NTK regime: kernel gradient flow and its V-kernel (Prop. 5.2)"),
    "small-noise": ("d15_small_noise", "Small-noise (linear-noise) expansion behind typical.semiclassical_*"),
    "target-variance": ("d16_target_variance", "M-draw targets: Cov = Sigma_post / M, V = V_mis + V_C / M"),
}


def build(name: str):
    """Build the derivation ``name`` (a :class:`gtv_symbolic.derive.Derivation`, not verified)."""
    if name not in REGISTRY:
        raise ValueError(f"name must be one of {', '.join(REGISTRY)}, got {name!r}")
    module = import_module(f"{__name__}.{REGISTRY[name][0]}")
    return module.build()
