"""Experiments: frozen settings (defaults = the paper's parameters) and ``run`` -> xarray.Dataset.

Each experiment module has ``NAME``, a frozen ``Settings`` dataclass (every field with
``metadata['help']``), ``QUICK`` (reduced sizes) and ``run(settings, rng=None, *,
progress=None, cache=None, scheduler=None, workers=None) -> xarray.Dataset``, and imports no
matplotlib. :data:`REGISTRY` maps the experiment names to their modules.

:func:`theory_vs_ensemble` compares a trained ensemble with the Gaussian-field prediction
on any 1-D or 2-D point-mass data in one call.
"""

from __future__ import annotations

from . import ablation, fig1, fig2, fig3, phase, theory
from . import dimension, nn_vs_theory, target_variance
from .one_call import theory_vs_ensemble

__all__ = ["REGISTRY", "get", "theory_vs_ensemble", "fig1", "fig2", "fig3", "theory",
           "ablation", "phase"]

REGISTRY = {m.NAME: m for m in (fig1, fig2, fig3, theory, ablation, phase)}
REGISTRY.update({m.NAME: m for m in (nn_vs_theory, target_variance, dimension) if hasattr(m, "NAME")})


def get(name: str):
    """The experiment module registered as ``name`` (no formula: a registry look-up).

    Parameters
    ----------
    name : str
        A key of :data:`REGISTRY`, e.g. ``"fig1"``, ``"fig2"``, ``"fig3"``, ``"theory"``.

    Returns
    -------
    module
        The experiment module, with ``NAME``, ``Settings``, ``QUICK``, ``validate``, ``run``
        and ``npz_arrays``.

    Raises
    ------
    ValueError
        If ``name`` is not registered (the message lists the registered names).

    Examples
    --------
    >>> get("fig1").NAME
    'fig1'
    >>> get("nope")
    Traceback (most recent call last):
    ...
    ValueError: experiment must be one of [...], got 'nope'
    """
    if name not in REGISTRY:
        raise ValueError(f"experiment must be one of {sorted(REGISTRY)}, got {name!r}")
    return REGISTRY[name]
