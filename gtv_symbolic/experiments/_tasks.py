"""The one bridge from the experiments to the runtime (cache, worker pool, progress).

Every experiment computes its independent panels through :func:`cached_map`, so the cache
and the parallel engine can change in one place. Each task carries its own seed, so the
results do not depend on the worker count or on where a task ran.
"""

from __future__ import annotations

from .._runtime.cache import Cache, compute_panels
from .._runtime.parallel import default_workers

__all__ = ["get_cache", "cached_map", "quiet_progress", "begin"]


def get_cache(cache=None, *, enabled: bool = True) -> Cache:
    """``cache`` itself, or the default on-disk cache (``enabled=False``: always recompute)."""
    if cache is None:
        return Cache(enabled=enabled)
    if cache is False:
        return Cache(enabled=False)
    return cache


def quiet_progress(progress, name):
    from .._runtime.progress import Progress

    return progress if progress is not None else Progress(name, enabled=False)


def begin(name: str, settings, rng, progress, cache):
    """The start of a ``run``: ``(seed, progress, cache)`` from its arguments (after validate)."""
    from ._common import resolve_seed

    return resolve_seed(settings, rng), quiet_progress(progress, name), get_cache(cache)


def _dispatch(func, args):
    return func(*args)


def cached_map(cache, name: str, tasks, *, workers=None, scheduler=None, progress=None,
               labels=None) -> list[dict]:
    """``[func(*args) for params, (func, args) in tasks]``, cached under ``(name, params)``.

    ``func`` must be a module-level function returning a dict of arrays.
    """
    workers = default_workers() if workers is None else int(workers)
    return compute_panels(get_cache(cache), name, tasks, _dispatch, workers=workers,
                          progress=progress, labels=labels, scheduler=scheduler)
