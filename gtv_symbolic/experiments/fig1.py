r"""Figure 1: where the proxy score is noisy (paper Fig. 1).

The ratio ``R(x, t) = tr C / (tr C + |s|^2)`` (:func:`gtv_symbolic.proxy.variance_ratio`) on
an ``n_grid x n_grid`` grid over ``[-extent, extent]^2`` for the six-point data sets of the
paper (polygon, L-shape, line, random) at the times ``times``, with the Figure 1 schedule
``alpha = sqrt(1 - t)``, ``sigma^2 = t``. Deterministic: no seed.

Examples
--------
>>> r = run(Settings(times=(0.1,), n_grid=5, datasets=("line",)))
>>> r["R"].dims, r["R"].shape
(('dataset', 't', 'x', 'y'), (1, 1, 5, 5))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from .. import data as data_mod
from .. import proxy
from ._common import attrs, check_int, make_schedule, setting

__all__ = ["NAME", "Settings", "QUICK", "validate", "run", "npz_arrays"]

#: Registry name of the experiment (``gtv figures NAME``).
NAME = "fig1"


@dataclass(frozen=True)
class Settings:
    """Settings of Figure 1 (the proxy-score variance ratio on a grid; paper Fig. 1).

    The defaults are the paper's parameters (its Figure 1 schedule ``alpha = sqrt(1 - t)``,
    ``sigma^2 = t``, a 100 x 100 grid on ``[-2, 2]^2``, four six-point data sets).
    No formula: settings.

    Examples
    --------
    >>> import dataclasses
    >>> Settings().times
    (0.05, 0.1, 0.2, 0.5, 0.75)
    >>> dataclasses.replace(Settings(), n_grid=10).n_grid
    10
    """

    times: tuple[float, ...] = setting((0.05, 0.1, 0.2, 0.5, 0.75), "diffusion times t (columns)")
    n_grid: int = setting(100, "grid points per axis", lo=2, hi=2000)
    extent: float = setting(2.0, "grid half-width: the grid covers [-extent, extent]^2")
    datasets: tuple[str, ...] = setting(("polygon", "lshape", "line", "random"),
                                        "data sets (polygon, lshape, line, random)")
    schedule: str = setting("Fig1", "forward process", choices=("Fig1", "VP", "VE", "EDM"))


#: Small settings for ``--quick`` runs (and the tests).
QUICK = Settings()


def validate(settings: Settings) -> None:
    """Raise ValueError/TypeError naming the field for settings :func:`run` cannot use.

    No formula: checks ``n_grid`` in [2, 2000], a finite ``extent > 0``, known non-empty
    ``datasets`` and ``times`` inside the schedule's time interval.

    Parameters
    ----------
    settings : Settings

    Returns
    -------
    None

    Raises
    ------
    TypeError, ValueError
        Naming the offending field and its allowed range.

    Examples
    --------
    >>> import dataclasses
    >>> validate(Settings())
    >>> validate(dataclasses.replace(Settings(), extent=-1.0))
    Traceback (most recent call last):
    ...
    ValueError: extent must be finite and > 0, got -1.0
    """
    s = settings
    check_int(s.n_grid, "n_grid", 2, 2000)
    if not (np.isfinite(s.extent) and s.extent > 0):
        raise ValueError(f"extent must be finite and > 0, got {s.extent}")
    bad = [d for d in s.datasets if d not in data_mod.FIG1_DATASETS]
    if bad or not s.datasets:
        raise ValueError(f"datasets must be a non-empty subset of {list(data_mod.FIG1_DATASETS)}, "
                         f"got {list(s.datasets)}")
    make_schedule(s.schedule).validate_t(np.asarray(s.times, dtype=float), "times")


def run(settings: Settings = Settings(), rng=None, *, progress=None, cache=None, scheduler=None,
        workers=None) -> xr.Dataset:
    r"""The Figure 1 ratio ``R[dataset, t, x, y]`` on the grid (deterministic, ``rng`` unused).

    For each data set :math:`\{\mu_m\}` and time :math:`t`, at the grid points :math:`x`
    (:func:`gtv_symbolic.proxy.variance_ratio`, the proxy score of paper Sec. 2):

    .. math:: R(x, t) = \frac{\operatorname{tr} C(x, t)}{\operatorname{tr} C(x, t) + |s(x, t)|^2}
              \in [0, 1],

    with :math:`C` the posterior covariance of the proxy score and :math:`s` the true score.
    No sampling, so no standard error.

    Parameters
    ----------
    settings : Settings, default ``Settings()``
    rng : ignored
        Accepted for the common ``run`` signature.
    progress, cache, scheduler, workers : optional
        Accepted for the common signature; only ``progress`` is used (one log line).

    Returns
    -------
    xarray.Dataset
        Variable ``R`` with dims ``(dataset, t, x, y)``, coordinates ``dataset, t, x, y``;
        attributes: the settings (JSON), version, git and ``points_<dataset>`` (the data).

    Raises
    ------
    TypeError, ValueError
        From :func:`validate`, before any computation.
    FloatingPointError
        If a ratio is not finite.

    Examples
    --------
    >>> run(Settings(n_grid=1))  # checked first; the module example runs a 5 x 5 grid
    Traceback (most recent call last):
    ...
    ValueError: n_grid must be in [2, 2000], got 1
    """
    s = settings
    validate(s)
    n = s.n_grid
    sched = make_schedule(s.schedule)
    times = np.asarray(s.times, dtype=float)
    if progress is not None:
        progress.log(f"computing R on {len(s.datasets)} data sets x {times.size} times x "
                     f"{n}x{n} grid")
    x = np.linspace(-s.extent, s.extent, n)
    xx, yy = np.meshgrid(x, x, indexing="ij")
    pts = np.stack([xx, yy], axis=-1)[None]
    R = np.stack([proxy.variance_ratio(pts, times[:, None, None], data_mod.FIG1_DATASETS[d](),
                                       sched) for d in s.datasets])
    if not np.all(np.isfinite(R)):
        raise FloatingPointError("fig1: non-finite ratio")  # never draw a NaN figure
    ds = xr.Dataset({"R": (("dataset", "t", "x", "y"), R)},
                    coords={"dataset": list(s.datasets), "t": times, "x": x, "y": x.copy()},
                    attrs=attrs(NAME, s, None))
    ds["R"].attrs["long_name"] = "tr C / (tr C + |s|^2)"
    for d in s.datasets:
        ds.attrs[f"points_{d}"] = data_mod.FIG1_DATASETS[d]().ravel().tolist()
    return ds


def npz_arrays(result: xr.Dataset) -> dict:
    """The ``--save-data`` arrays of a :func:`run` result (no formula: a re-packing).

    Parameters
    ----------
    result : xarray.Dataset
        A :func:`run` result.

    Returns
    -------
    dict of str to numpy.ndarray
        ``x, y`` (grid, shape ``(n_grid,)``), ``t`` and, per data set, its ``(t, x, y)``
        array of ``R``.

    Examples
    --------
    >>> r = run(Settings(times=(0.1, 0.5), n_grid=3, datasets=("line", "lshape")))
    >>> {k: v.shape for k, v in npz_arrays(r).items()}
    {'x': (3,), 'y': (3,), 't': (2,), 'line': (2, 3, 3), 'lshape': (2, 3, 3)}
    """
    out = {k: result[k].values for k in ("x", "y", "t")}
    for d in result["dataset"].values:
        out[str(d)] = result["R"].sel(dataset=d).values
    return out
