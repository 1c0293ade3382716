"""On-disk cache of figure data (``.npz``), keyed by every parameter that produced it.

The key is the SHA-256 of a canonical JSON of the parameters plus :data:`CACHE_VERSION`
(bump it when an algorithm changes), so a changed parameter never reuses stale data.
The folder is ``$GTV_CACHE_DIR`` if set, else ``.gtv_cache/`` in the current directory.

Examples
--------
>>> import tempfile, numpy as np
>>> from gtv_symbolic.cache import Cache
>>> c = Cache(tempfile.mkdtemp())
>>> out = c.get_or_compute("demo", {"n": 3}, lambda: {"a": np.arange(3)})
>>> c.get_or_compute("demo", {"n": 3}, lambda: 1 / 0)["a"].tolist()  # served from disk
[0, 1, 2]
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

CACHE_VERSION = 1
ENV_VAR = "GTV_CACHE_DIR"
DEFAULT_DIR = ".gtv_cache"


def default_dir() -> Path:
    """``$GTV_CACHE_DIR`` or ``./.gtv_cache``."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


def _canonical(obj):
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"__array__": hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest(),
                "shape": list(obj.shape), "dtype": str(obj.dtype)}
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return repr(float(obj))  # exact round-trip text, no float formatting loss
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    return repr(obj)


def cache_key(name: str, params: dict) -> str:
    """Hex digest identifying ``name`` computed with ``params`` (any JSON-able nesting)."""
    blob = json.dumps({"name": name, "version": CACHE_VERSION, "params": _canonical(params)},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


class Cache:
    """A folder of ``NAME-KEY.npz`` files; ``enabled=False`` always recomputes (``--no-cache``)."""

    def __init__(self, folder=None, enabled: bool = True):
        self.folder = Path(folder) if folder is not None else default_dir()
        self.enabled = enabled

    def path(self, name: str, params: dict) -> Path:
        return self.folder / f"{name}-{cache_key(name, params)[:32]}.npz"

    def load(self, name: str, params: dict):
        """The stored arrays for ``(name, params)``, or None (missing, unreadable, disabled)."""
        p = self.path(name, params)
        if not (self.enabled and p.exists()):
            return None
        try:
            with np.load(p, allow_pickle=False) as f:
                return {k: f[k] for k in f.files}
        except (OSError, ValueError):
            return None  # unreadable entry: recompute and overwrite

    def store(self, name: str, params: dict, arrays: dict) -> None:
        """Write atomically (temp file + rename): an interrupted run leaves no partial entry."""
        if not self.enabled:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp.npz")
        os.close(fd)
        np.savez(tmp, **arrays)
        os.replace(tmp, self.path(name, params))

    def get_or_compute(self, name: str, params: dict, compute, progress=None) -> dict:
        """Return the arrays stored for ``(name, params)`` or compute, store and return them.

        ``compute()`` must return a dict of arrays.
        """
        out = self.load(name, params)
        if out is not None:
            if progress is not None:
                progress.log(f"{name}: cached ({self.path(name, params)})")
            return out
        out = compute()
        self.store(name, params, out)
        return out


WORKERS_ENV = "GTV_WORKERS"


def default_workers() -> int:
    """Worker processes for independent figure panels: ``$GTV_WORKERS`` or min(2, CPUs)."""
    env = os.environ.get(WORKERS_ENV)
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"{WORKERS_ENV} must be an integer >= 1, got {env!r}") from None
        if n < 1:
            raise ValueError(f"{WORKERS_ENV} must be an integer >= 1, got {n}")
        return n
    return max(1, min(2, os.cpu_count() or 1))


def compute_panels(cache: Cache, name: str, tasks, func, *, workers: int = 1,
                   progress=None, labels=None) -> list[dict]:
    """Cached values of ``func(*args)`` for ``tasks = [(params, args), ...]``, in order.

    Entries already on disk are loaded; the others are computed, in ``workers`` forked
    processes when ``workers > 1`` (``func`` must be a module-level function; each task
    seeds its own Generator, so the results do not depend on ``workers``), then stored.
    """

    out: list = [None] * len(tasks)
    todo = []
    for k, (params, _args) in enumerate(tasks):
        out[k] = cache.load(name, params)
        if out[k] is None:
            todo.append(k)
        elif progress is not None:
            progress.log(f"{labels[k] if labels else k}: cached")

    def done(k, res, dt):
        cache.store(name, tasks[k][0], res)
        out[k] = res
        if progress is not None:
            progress.log(f"{labels[k] if labels else k}: computed in {dt:.2f} s")

    if workers <= 1 or len(todo) <= 1:
        for k in todo:
            done(k, *_timed_call(func, tasks[k][1]))
        return out
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as ex:
        futs = {ex.submit(_timed_call, func, tasks[k][1]): k for k in todo}
        for f in as_completed(futs):
            done(futs[f], *f.result())
    return out


def _timed_call(func, args):
    t0 = time.perf_counter()
    return func(*args), time.perf_counter() - t0
