"""Plot and table of the dimension sweep (:func:`gtv_symbolic.experiments.dimension.run`)."""

from __future__ import annotations

import numpy as np

from .numbers import pm
from .style import sweep_colour

__all__ = ["plot", "table", "zero_count_bound"]

#: the critique's time scale (Bertrand et al. 2025, CIFAR-10)
T_CRITIQUE = 0.2


def plot(result):
    """The dimension sweep's figure: the proxy target's variance against time, per dimension D.

    No formula: infrastructure (the numbers come from
    :func:`gtv_symbolic.experiments.dimension.run`). Rows: data families; columns: the
    ``p(x | t)``-mass fraction with Figure 1's ratio R > 1/2, the posterior variance over the
    data's variance, and the naive V-kernel per dimension (Prop. 4.1, symlog scale); one curve
    per ``D`` with a ±2 standard-error band, log time axis, a dotted line at t = 0.2.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.dimension.run`: ``frac_R``,
        ``post_var``, ``naive_V`` and their ``_se`` (data, D, t).

    Returns
    -------
    matplotlib.figure.Figure
        ``n_data x 3`` axes and one legend of the dimensions.

    Examples
    --------
    >>> import numpy as np, xarray as xr, matplotlib.pyplot as plt
    >>> keys = [k + e for k in ("frac_R", "post_var", "naive_V") for e in ("", "_se")]
    >>> r = xr.Dataset({k: (("data", "D", "t"), np.full((1, 1, 2), 0.1)) for k in keys},
    ...                coords={"data": ["sphere"], "D": [4], "t": [0.01, 1.0]})
    >>> fig = plot(r)
    >>> len(fig.axes), fig.axes[0].get_title(), fig.legends[0].get_texts()[0].get_text()
    (3, 'sphere: mass fraction with R > 1/2', 'dimension 4')
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    d = result
    t, Ds = d["t"].values, d["D"].values
    cols = (("frac_R", "mass fraction with R > 1/2"),
            ("post_var", r"$E\,\mathrm{tr}\,\Sigma_{\rm post}\,/\,\mathrm{tr\,Cov}$"),
            ("naive_V", r"$E\,\mathrm{tr}\,V_{\rm naive}\,/\,D$ ($\kappa$ = 1)"))
    fig, axes = plt.subplots(len(d["data"]), 3, figsize=(13.0, 3.0 * len(d["data"])),
                             squeeze=False)
    for i, name in enumerate(d["data"].values):
        for j, (k, lab) in enumerate(cols):
            ax = axes[i, j]
            for n, D in enumerate(Ds):
                c = sweep_colour(n, len(Ds))
                v, se = d[k].values[i, n], d[k + "_se"].values[i, n]
                ax.plot(t, v, color=c, lw=1.0, label=f"dimension {D}")
                ax.fill_between(t, v - 2 * se, v + 2 * se, color=c, alpha=0.2, lw=0)
            ax.axvline(T_CRITIQUE, color="k", ls=":", lw=0.7)
            ax.set_xscale("log")
            if k == "naive_V":
                ax.set_yscale("symlog", linthresh=1e-3)
            ax.set_title(f"{name}: {lab}")
    for ax in axes[-1]:
        ax.set_xlabel("t (dotted: t = 0.2)")
    fig.tight_layout(rect=(0, 0, 1 - 1.3 / fig.get_figwidth(), 1))
    h, lab = axes[0, 0].get_legend_handles_labels()
    fig.legend(h, lab, loc="center right")
    return fig


def table(result) -> str:
    """Markdown table of the dimension sweep: every number with its standard error.

    No formula: infrastructure (formatting). One row per data family and ``D``: ``t_half``,
    ``t_star`` ("no crossing" when the two sides do not cross on the t grid) and the largest mass fraction with R > 1/2
    over t (with no hit in ``n_mc`` draws: the bound of :func:`zero_count_bound`); the header
    line gives the run's points, draws, schedule, seed and version.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`gtv_symbolic.experiments.dimension.run`.

    Returns
    -------
    str
        Markdown, ending with a newline.

    Examples
    --------
    >>> import json, numpy as np, xarray as xr
    >>> dd = ("data", "D")
    >>> r = xr.Dataset({"t_half": (dd, [[0.3]]), "t_half_se": (dd, [[0.01]]),
    ...                 "t_star": (dd, [[np.nan]]), "t_star_se": (dd, [[np.nan]]),
    ...                 "frac_R": (dd + ("t",), [[[0.0, 0.0]]]), "frac_R_se": (dd + ("t",), [[[0.0, 0.0]]])},
    ...                coords={"data": ["cube"], "D": [2], "t": [0.1, 1.0]},
    ...                attrs={"seed": 0, "version": "1.0", "settings": json.dumps(
    ...                    {"n_points": 4, "n_mc": 400, "schedule": "vp"})})
    >>> table(r).splitlines()[-1]
    '| cube | 2 | 0.3000 ± 0.0100 | no crossing | < 0.0075 (none of 400 draws at any t) |'
    """
    import json

    d = result
    s = json.loads(d.attrs["settings"])
    lines = [f"M = {s['n_points']} unit-norm points; {s['n_mc']} draws x ~ p(x|t) per cell; "
             f"{s['schedule']}; seed = {d.attrs.get('seed')}; gtv_symbolic {d.attrs['version']}",
             "", "t_half: time where E tr Sigma_post / tr Cov(data) = 1/2 (below it the proxy and "
             "exact targets nearly coincide); t_star: E tr C = E|s|^2 (no crossing: the two sides do not cross on the t grid); "
             "max frac: largest mass fraction with R > 1/2 over t.", "",
             "| data | D | t_half | t_star | max frac R > 1/2 (at t) |", "|---|---|---|---|---|"]
    t = d["t"].values
    for i, name in enumerate(d["data"].values):
        for j, D in enumerate(d["D"].values):
            f, fse = d["frac_R"].values[i, j], d["frac_R_se"].values[i, j]
            k = int(np.argmax(f))

            def fmt(key, i=i, j=j):
                v, e = d[key].values[i, j], d[key + "_se"].values[i, j]
                return "no crossing" if not np.isfinite(v) else pm(v, e, 4)

            frac = (f"{pm(f[k], fse[k])} (t = {t[k]:.3g})" if f[k] > 0 else
                    f"{zero_count_bound(s['n_mc'])} (none of {s['n_mc']} draws at any t)")
            lines.append(f"| {name} | {D} | {fmt('t_half')} | {fmt('t_star')} | {frac} |")
    return "\n".join(lines) + "\n"


def zero_count_bound(n: int) -> str:
    r"""A fraction with no hit in ``n`` draws as its 95 % upper bound, ``'< 3/n'``, not ``0 ± 0``.

    The rule of three: the largest fraction :math:`p` still consistent (at 95 %) with zero hits
    in :math:`n` independent draws solves

    .. math:: (1 - p)^n = 0.05 \quad\Longrightarrow\quad
              p = 1 - 0.05^{1/n} \approx \frac{-\ln 0.05}{n} \approx \frac{3}{n}.

    Parameters
    ----------
    n : int
        Number of draws, ``n >= 1``.

    Returns
    -------
    str
        ``"< 3/n"`` with two significant digits.

    Examples
    --------
    >>> zero_count_bound(4000)
    '< 0.00075'
    """
    return f"< {3 / n:.2g}"
