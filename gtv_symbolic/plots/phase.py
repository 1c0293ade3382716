"""Plot and table of the phase diagram (:func:`gtv_symbolic.experiments.phase.run`)."""

from __future__ import annotations

import json

import numpy as np

from .fig2 import fmt_ratio
from .numbers import pm
from .style import colorbar
from .theory import run_header

__all__ = ["plot", "table"]

PANELS = (("tv_ens_pfode", "TV(ensemble, PF-ODE)"), ("tv_gf_pfode", "TV(Gaussian field, PF-ODE)"),
          ("gap_ens", "gap mass, ensemble"), ("gap_gf", "gap mass, Gaussian field"))


def plot(result):
    r"""The phase diagram: generalization measures over the final time eps and F/P.

    Four maps with their values printed in the cells: TV to the exact-score PF-ODE of the
    trained ensemble and of the Gaussian-field prediction, and their gap masses (magma, ``F/P``
    on a log2 axis). The ensemble and field maps of one measure share a linear colour scale
    from 0, so their colours compare directly:

    .. math:: c(v) = \frac{v}{\max\big(\max v_{\rm ens},\ \max v_{\rm field}\big)} .

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.phase.run`: ``tv_ens_pfode``,
        ``tv_gf_pfode``, ``gap_ens``, ``gap_gf`` (eps, ratio).

    Returns
    -------
    matplotlib.figure.Figure
        Four map axes in one row, each with a labelled colour bar.

    Examples
    --------
    >>> import numpy as np, xarray as xr, matplotlib.pyplot as plt
    >>> keys = ("tv_ens_pfode", "tv_gf_pfode", "gap_ens", "gap_gf")
    >>> r = xr.Dataset({k: (("eps", "ratio"), [[0.1, 0.2]]) for k in keys},
    ...                coords={"eps": [0.01], "ratio": [0.5, 2.0]})
    >>> fig = plot(r)
    >>> len(fig.axes), fig.axes[0].get_title(), [t.get_text() for t in fig.axes[0].texts]
    (8, 'TV(ensemble, PF-ODE)', ['0.10', '0.20'])
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    d = result
    eps, ratio = d["eps"].values, d["ratio"].values
    fig, axes = plt.subplots(1, 4, figsize=(3.7 * 4, 3.4))
    lr = np.log2(ratio)
    for ax, (k, title) in zip(axes, PANELS, strict=True):
        pair = ("tv_ens_pfode", "tv_gf_pfode") if k.startswith("tv") else ("gap_ens", "gap_gf")
        vmax = max(float(d[p].max()) for p in pair)
        half = 0.5 * (lr[1] - lr[0]) if len(lr) > 1 else 0.5
        im = ax.imshow(d[k].values, origin="lower", aspect="auto", cmap="magma", vmin=0,
                       vmax=vmax, extent=(lr[0] - half, lr[-1] + half, -0.5, len(eps) - 0.5))
        ax.set_yticks(range(len(eps)))
        ax.set_yticklabels([f"{e:g}" for e in eps])
        ax.set_xticks(lr)
        ax.set_xticklabels([fmt_ratio(r) for r in ratio])
        ax.set_xlabel("F/P")
        ax.set_title(title)
        for (i, j), v in np.ndenumerate(d[k].values):
            ax.text(lr[j], i, f"{v:.2f}", ha="center", va="center", fontsize=8,
                    color="w" if v < 0.6 * vmax else "k")
        colorbar(fig, im, "total-variation distance" if k.startswith("tv") else
                 "probability mass in the gaps", ax=ax, shrink=0.85)
    axes[0].set_ylabel(r"final time $\epsilon$")
    fig.tight_layout()
    return fig


def table(result) -> str:
    """Markdown table of the phase diagram: every number with its standard error.

    No formula: infrastructure (formatting). One row per ``eps`` and measure (TV and gap mass
    of ensemble and field, their gap-mass difference) over the ``F/P`` columns, and the exact
    PF-ODE gap mass per ``eps``; the header gives the run's N, seed, version and field count.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.phase.run`.

    Returns
    -------
    str
        Markdown, ending with a newline.

    Examples
    --------
    >>> import json, numpy as np, xarray as xr
    >>> keys = [k + e for k in ("tv_ens_pfode", "tv_gf_pfode", "gap_ens", "gap_gf", "gap_diff")
    ...         for e in ("", "_se")]
    >>> r = xr.Dataset({k: (("eps", "ratio"), [[0.25]]) for k in keys + ["mc_ratio"]}
    ...                | {"gap_pfode": ("eps", [0.1])}, coords={"eps": [0.01], "ratio": [2.0]},
    ...                attrs={"n_features": 256, "seed": 0, "version": "1.0",
    ...                       "settings": json.dumps({"n_models": 8, "field_factor": 2})})
    >>> lines = table(r).splitlines()
    >>> lines[6], lines[8]
    ('| eps | measure | F/P=2 |', '| 0.01 | tv_ens_pfode | 0.250 ± 0.250 |')
    """
    d = result
    s = json.loads(d.attrs["settings"])
    L = ["# phase: numbers", "",
         run_header(d, "sample-free transport of each model's sampler map (n_samples -> "
                    "infinity)") + f"; Gaussian fields: {s['field_factor']} per model or more "
         f"(MC error / ensemble error <= {float(d['mc_ratio'].max()):.2f}).", "",
         f"F = {int(d.attrs['n_features'])}; TV errors by the bootstrap over models, gap-mass "
         "errors across models; ens - GF is the difference with sqrt(se1^2 + se2^2).", "",
         "| eps | measure | " + " | ".join(f"F/P={fmt_ratio(r)}" for r in d["ratio"].values)
         + " |", "|---|---|" + "---|" * d["ratio"].size]
    for i, e in enumerate(d["eps"].values):
        for k in ("tv_ens_pfode", "tv_gf_pfode", "gap_ens", "gap_gf", "gap_diff"):
            L.append(f"| {e:g} | {k} | " + " | ".join(
                pm(a, b) for a, b in zip(d[k].values[i], d[k + "_se"].values[i], strict=True))
                + " |")
        L.append(f"| {e:g} | gap PF-ODE (exact) = {float(d['gap_pfode'].values[i]):.3f} |"
                 + " |" * d["ratio"].size)
    return "\n".join(L) + "\n"
