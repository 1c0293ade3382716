"""Shared argument checks: clear errors that name the argument and the allowed range."""

from __future__ import annotations

import numpy as np

from .schedules import Schedule


def int_arg(v, name: str, lo: int, hi: int | None = None) -> int:
    """``v`` as an int in ``[lo, hi]``; TypeError for non-integers, ValueError out of range."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(v).__name__}")
    if v < lo or (hi is not None and v > hi):
        allowed = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be {allowed}, got {v}")
    return int(v)


def check_schedule(schedule) -> Schedule:
    """TypeError unless ``schedule`` is a :class:`gtv_symbolic.schedules.Schedule`."""
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a gtv_symbolic.schedules.Schedule, "
                        f"got {type(schedule).__name__}")
    return schedule
