r"""Shared argument checks: clear errors that name the argument and the allowed range.

Every public function of the package checks its arguments with these helpers *before* any
long computation, so bad input fails fast with a ``TypeError`` (wrong kind) or a
``ValueError`` (wrong value) whose message names the argument and the allowed range.

Bounds
------
The bound constants are promises other modules (and the CLI) rely on:

* :data:`MAX_COORD` bounds every coordinate of ``x`` and of the training points; together
  with :data:`SIGMA2_MIN` it makes every proxy evaluator finite: the largest entry of
  :math:`C = \alpha^2 \Sigma_{\mathrm{post}} / \sigma^4` is at most
  :math:`(2 X)^2 / \sigma^4` (posterior spread at most the data's, :math:`\alpha \le 1`),
  which is below the float64 maximum for :math:`\sigma^2 \ge 4 X / \sqrt{\mathrm{MAX}}`;
* :data:`MAX_MODELS`, :data:`MAX_SAMPLES`, :data:`MAX_WORKERS`, :data:`MAX_STEPS`,
  :data:`MAX_TRAIN` bound the counts (ensemble size, samples per model, worker processes,
  solver steps, DSM training samples P).

Examples
--------
>>> int_arg(3, "n", 1)
3
>>> int_arg(2.5, "m", 1)
Traceback (most recent call last):
...
TypeError: m must be an integer, got float
>>> finite_array([1.0, float("nan")], "x")
Traceback (most recent call last):
...
ValueError: x must be finite (found NaN or inf)
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "FLOAT_MAX", "MAX_COORD", "SIGMA2_MIN", "MAX_MODELS", "MAX_SAMPLES", "MAX_WORKERS",
    "MAX_STEPS", "MAX_TRAIN", "MAX_DIM",
    "int_arg", "count", "real_arg", "finite_array", "coord_array", "check_schedule",
]

FLOAT_MAX = float(np.finfo(float).max)
#: Largest accepted |coordinate| of an evaluation point x or a training point mu.
MAX_COORD = 1e10
#: Smallest accepted sigma_t^2: every proxy evaluator is finite above it (see module doc);
#: a factor 2 of headroom for rounding.
SIGMA2_MIN = 2 * (4 * MAX_COORD / math.sqrt(FLOAT_MAX))
#: Models per ensemble (``--n-models``).
MAX_MODELS = 10**5
#: Samples per model (``--n-samples``); also the bound on n_models * n_samples * D of a sampler.
MAX_SAMPLES = 2**26
#: Worker processes (``GTV_WORKERS``).
MAX_WORKERS = 256
#: Time steps of a solver or a time grid.
MAX_STEPS = 10**6
#: DSM training samples P of a ridge fit.
MAX_TRAIN = 100_000
#: Data dimension D.
MAX_DIM = 4096


def int_arg(v, name: str, lo: int, hi: int | None = None) -> int:
    """``v`` as an int in ``[lo, hi]``; TypeError for non-integers, ValueError out of range."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(v).__name__}")
    if v < lo or (hi is not None and v > hi):
        allowed = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be {allowed}, got {v}")
    return int(v)


def count(v, name: str, hi: int, lo: int = 1) -> int:
    """A count (number of models, samples, workers, steps...): an int in ``[lo, hi]``."""
    return int_arg(v, name, lo, hi)


def real_arg(v, name: str, lo: float | None = None, hi: float | None = None, *,
             lo_open: bool = False, hi_open: bool = False) -> float:
    """``v`` as a finite float in the interval ``[lo, hi]`` (ends open when asked).

    TypeError for non-numbers (and booleans), ValueError for NaN, inf or out of range.
    """
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        if not (isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "iuf"):
            raise TypeError(f"{name} must be a real number, got {type(v).__name__}")
    f = float(v)
    interval = _interval(lo, hi, lo_open, hi_open)
    if not math.isfinite(f):
        raise ValueError(f"{name} must be finite{' and in ' + interval if interval else ''}, got {f}")
    bad_lo = lo is not None and (f <= lo if lo_open else f < lo)
    bad_hi = hi is not None and (f >= hi if hi_open else f > hi)
    if bad_lo or bad_hi:
        raise ValueError(f"{name} must be in {interval}, got {f:g}")
    return f


def _interval(lo, hi, lo_open, hi_open) -> str:
    if lo is None and hi is None:
        return ""
    left = "(" if lo_open or lo is None else "["
    right = ")" if hi_open or hi is None else "]"
    a = "-inf" if lo is None else f"{lo:g}"
    b = "inf" if hi is None else f"{hi:g}"
    return f"{left}{a}, {b}{right}"


def finite_array(x, name: str, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """``x`` as a float64 array with only finite entries (and ``ndim`` dimensions if given)."""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers") from exc
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimension(s), "
                             f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return arr


def coord_array(x, name: str, **kwargs) -> np.ndarray:
    """:func:`finite_array` whose entries are at most :data:`MAX_COORD` in magnitude."""
    arr = finite_array(x, name, **kwargs)
    if arr.size and np.abs(arr).max() > MAX_COORD:
        raise ValueError(f"{name} must have coordinates in [-{MAX_COORD:g}, {MAX_COORD:g}], "
                         f"got max |{name}| = {np.abs(arr).max():g}")
    return arr


def check_schedule(schedule):
    """TypeError unless ``schedule`` is a :class:`gtv_symbolic.schedules.Schedule`."""
    from .schedules import Schedule  # lazy: schedules itself uses these helpers

    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a gtv_symbolic.schedules.Schedule, "
                        f"got {type(schedule).__name__}")
    return schedule
