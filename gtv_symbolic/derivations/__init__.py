# ruff: noqa: E501  (one registry entry per line)
r"""The library of checked derivations, one module per derivation (``gtv derive --list``).

Each module ``dNN_name.py`` defines ``NAME``, ``TITLE`` and ``build() -> Derivation`` and is
registered in :data:`REGISTRY` (name -> (module, title)); modules are imported lazily, so listing
the derivations costs nothing. ``derivations/NN_name.py`` at the top of the repository is a script
that writes the documents of one derivation.

Writing a derivation
--------------------

A derivation is a list of :class:`gtv_symbolic.derive.Step` objects, each displaying one relation
``lhs REL rhs`` (``=``, ``<=``, ``>=`` or ``~``) with a one-line reason and a ``status``:
``symbolic`` (a numeric check at random admissible points, then SymPy reduces lhs - rhs to zero
under a time limit), ``numeric`` (random points, or ``check=callable(rng) -> CheckResult``),
``monte-carlo`` (``check`` comparing an estimate with the formula in standard errors, see
``compare_mc``), ``definition`` (introduces a new name; nothing to verify) or ``assumption``.
Display-only symbols get their meaning through ``defs`` and are substituted before the check,
so what is checked is the equation as displayed; a special case goes in ``where`` and is
rendered next to the equation. ``result=`` names the verified step(s) that state the result.

>>> import sympy as sp
>>> from gtv_symbolic.derive import Derivation, Step
>>> x, a = sp.Symbol("x", real=True), sp.Symbol("a", positive=True)
>>> g, dg = sp.Symbol("g"), sp.Symbol("dg")
>>> kernel = sp.exp(-x**2 / (2 * a))
>>> d = Derivation("toy", "A Gaussian kernel and its derivative", "Two checked steps.", [
...     Step(g, kernel, "A Gaussian kernel.", status="definition", label="$g$"),
...     Step(dg, -x / a * g, "Its derivative.", status="symbolic", label="$g'$",
...          defs={dg: sp.diff(kernel, x), g: kernel}),
...     Step(g, 1, "At the origin.", status="numeric", defs={g: kernel}, where={x: 0},
...          label="$g(0)$")], result=1)
>>> d.verify().steps[1].verified, d.counts()["definition"]
(True, 1)
>>> print(d.result_tex())
dg = - \frac{g x}{a}
>>> "special case" in d.to_markdown() and "(x = 0)" in d.to_markdown().replace(r"\left", "").replace(r"\right", "")
True

A wrong step fails fast, naming the derivation, the step, its label and the residual:

>>> bad = Derivation("toy", "t", "i", [Step(dg, -2 * x / a * g, "Wrong.", status="symbolic",
...                  label="$g'$", defs={dg: sp.diff(kernel, x), g: kernel})])
>>> try:
...     bad.verify()
... except AssertionError as exc:
...     print(str(exc)[:60])
derivation 'toy', step 1 ($g'$) failed: numeric pre-check: l

Register the module in :data:`REGISTRY`, then ``gtv derive NAME`` verifies it and writes
``NAME.md`` and ``NAME.tex``; ``gtv derive NAME --latex-only`` prints the result (from the stored
verification while the sources are unchanged); ``gtv derive all --report r.json`` writes one
record per step. Numeric and Monte Carlo checks should call the package's production functions
(``proxy.covariance``, ``kernels.naive_V``, ...) through their modules, so that a wrong
production formula makes the derivation fail.
"""

from __future__ import annotations

from importlib import import_module

__all__ = ["REGISTRY", "build"]

#: name -> (module, one-line title), in reading order.
REGISTRY: dict[str, tuple[str, str]] = {
    "forward-process": ("d01_forward_process", 'Forward process: Gaussian conditional $N(\\alpha_t x_0, S_t)$ and the mixture marginal'),
    "tweedie": ("d02_tweedie", 'Tweedie: the true score $s = (\\alpha_t m(x,t) - x)/\\sigma_t^2$'),
    "proxy-unbiased": ("d03_proxy_unbiased", 'The proxy score is unbiased: $\\mathbb{E}_{x_0 \\mid x,t}[\\tilde{s}] = s$'),
    "proxy-covariance": ("d04_proxy_covariance", 'Proxy-score covariance $C(x,t)$: its three forms (paper Sec. 2)'),
    "dsm-vs-sm": ("d05_dsm_vs_sm", 'DSM vs score matching: $J_1 = J_0 + \\frac{1}{2}\\mathbb{E}[\\lambda_t \\mathrm{tr}\\, C]$; denoiser weight'),
    "pf-ode-marginals": ("d06_pf_ode", 'The PF-ODE preserves the marginals (continuity equation)'),
    "gaussian-data": ("d07_gaussian_data", 'Gaussian data $N(m_0, \\Sigma_0)$: score, posterior, constant $C$'),
    "path-integral": ("d08_path_integral", 'MSR path integral, cumulants $M_1$, $M_2$, effective process (Prop. 3.1)'),
    "naive-estimator": ("d09_naive_estimator", "Naive estimator: mean $s$, $V = \\kappa D_t C D_{t'} \\delta(t - t')$ (Prop. 4.1)"),
    "linear-model": ("d10_linear_model", 'Linear models: ridge solution, mean, $1/P$ covariance (Prop. 5.1)'),
    "ntk-lazy": ("d11_ntk_lazy", 'Lazy/NTK regime: kernel gradient flow and its $1/P$ covariance (Prop. 5.2)'),
    "boundary-regions": ("d12_boundary_regions", 'Boundary regions: $C$ and $R$ as $t \\to 0$ near, at and between training points'),
    "benign-cases": ("d13_benign_cases", 'Benign cases: $M = 1$ gives $C = 0$ and $V = 0$; Gaussian data give a constant $C$'),
    "ratio-identities": ("d14_ratio_identities", 'Figure 1 ratio $R = \\mathrm{tr}\\, C / (\\mathrm{tr}\\, C + \\|s\\|^2)$: forms and bounds'),
    "small-noise": ("d15_small_noise", 'Small-noise (linear-noise) expansion of the typical learned distribution'),
    "target-variance": ("d16_target_variance", 'Targets averaged over $M$ posterior draws: $\\mathrm{Cov} = \\Sigma_{post}/M$, $V = V_{mis} + V_C/M$'),
}


def build(name: str):
    """Build the derivation ``name`` (a :class:`gtv_symbolic.derive.Derivation`, not verified).

    No formula: a registry look-up that imports ``gtv_symbolic.derivations.MODULE`` (lazily) and
    calls its ``build()``; each module's ``build`` states the result it establishes.

    Parameters
    ----------
    name : str
        A key of :data:`REGISTRY`, e.g. ``"tweedie"``.

    Returns
    -------
    derivation : Derivation
        Unverified; ``.verify()`` checks every step (``gtv derive NAME``).

    Raises
    ------
    ValueError
        ``name`` is not in :data:`REGISTRY`.

    Examples
    --------
    >>> d = build("target-variance")
    >>> d.name, d.title == REGISTRY["target-variance"][1], d.steps[0].status
    ('target-variance', True, 'definition')
    """
    if name not in REGISTRY:
        raise ValueError(f"name must be one of {', '.join(REGISTRY)}, got {name!r}")
    module = import_module(f"{__name__}.{REGISTRY[name][0]}")
    return module.build()
