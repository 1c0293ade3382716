"""Run independent tasks (figure panels, sweep cells) in local processes or on a Dask cluster.

:func:`map_tasks` is the one entry point. Local runs use the standard library's
:class:`multiprocessing.pool.Pool` (no extra dependency; its public ``terminate()`` stops
every worker at once on an error or Ctrl-C; workers ignore SIGINT so an interrupt gives one
message, not a traceback per worker; on Linux the ``fork`` start method lets workers
inherit already-compiled Numba kernels instead of re-importing SymPy/Numba in each). Given a scheduler address
(``--scheduler`` or ``$GTV_DASK_SCHEDULER``), tasks go to that Dask cluster through
``distributed.Client.map``.

Results never depend on where a task ran: every task carries its own seed (see
:func:`spawn_seeds`) and runs with one BLAS thread (:func:`blas_threads`, via threadpoolctl),
so sums are taken in the same order in the parent, in a local worker and on a Dask worker.
:func:`blas_threads` is :func:`gtv_symbolic._blas.blas_threads`, re-exported.

Examples
--------
>>> from gtv_symbolic._runtime.parallel import map_tasks, spawn_seeds
>>> map_tasks(abs, [-3, 1, -2], workers=1)
[3, 1, 2]
>>> [s.entropy for s in spawn_seeds(7, 2)] == [s.entropy for s in spawn_seeds(7, 2)]
True
"""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
import signal
import time

import numpy as np

from .._blas import blas_threads  # the one copy (threadpoolctl); re-exported for the runtime
from .._validate import MAX_WORKERS  # bound on local worker processes (no fork bomb by typo)

__all__ = ["CONNECT_TIMEOUT", "MAX_WORKERS", "SCHEDULER_ENV", "WORKERS_ENV", "blas_threads", "check_workers",
           "default_workers", "map_tasks", "resolve_scheduler", "spawn_seeds"]

WORKERS_ENV = "GTV_WORKERS"
SCHEDULER_ENV = "GTV_DASK_SCHEDULER"
#: how long to try reaching a Dask scheduler before giving up
CONNECT_TIMEOUT = "10s"


def check_workers(n, name: str = "workers") -> int:
    """``n`` as an int in ``[1, MAX_WORKERS]``, else ValueError/TypeError naming ``name``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        if isinstance(n, str):
            try:
                n = int(n.strip())
            except ValueError:
                raise ValueError(f"{name} must be an integer in [1, {MAX_WORKERS}], got {n!r}") from None
        else:
            raise TypeError(f"{name} must be an integer in [1, {MAX_WORKERS}], got "
                            f"{type(n).__name__}")
    n = int(n)
    if not 1 <= n <= MAX_WORKERS:
        raise ValueError(f"{name} must be an integer in [1, {MAX_WORKERS}], got {n}")
    return n


def default_workers() -> int:
    """Local worker processes: ``$GTV_WORKERS`` (validated, 1..MAX_WORKERS) or min(2, CPUs)."""
    env = os.environ.get(WORKERS_ENV)
    if env:
        return check_workers(env, WORKERS_ENV)
    return max(1, min(2, os.cpu_count() or 1))


def resolve_scheduler(scheduler=None):
    """The Dask scheduler to use: ``scheduler`` (address or Client), else ``$GTV_DASK_SCHEDULER``,
    else None (local processes)."""
    if scheduler is None:
        scheduler = os.environ.get(SCHEDULER_ENV) or None
    if isinstance(scheduler, str):
        scheduler = scheduler.strip()
        if not scheduler:
            return None
    return scheduler


def spawn_seeds(seed, n: int) -> list:
    """``n`` independent :class:`numpy.random.SeedSequence` children of ``seed``.

    ``seed`` is an int, a SeedSequence or a Generator (its ``spawn``); each task gets one and
    builds ``np.random.default_rng(child)``, so a task's draws depend only on its index.
    """
    if isinstance(seed, np.random.Generator):
        return [g.bit_generator.seed_seq for g in seed.spawn(int(n))]
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return ss.spawn(int(n))


def _call(func, task):
    """Run one task with one BLAS thread; return (result, seconds)."""
    t0 = time.perf_counter()
    with blas_threads(1):
        out = func(task)
    return out, time.perf_counter() - t0


def _context():
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else "spawn")


def map_tasks(func, tasks, *, workers=None, scheduler=None, progress=None, desc: str = "",
              on_result=None) -> list:
    """``[func(t) for t in tasks]``, computed in parallel, in the order of ``tasks``.

    Parameters
    ----------
    func : a module-level (picklable) function of one argument.
    tasks : iterable of picklable arguments; each should carry its own seed.
    workers : local processes (default :func:`default_workers`); 1 runs in this process.
    scheduler : a Dask scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``;
        default ``$GTV_DASK_SCHEDULER``; when set, ``workers`` is ignored.
    progress : a :class:`~gtv_symbolic._runtime.progress.Progress` (bar of k of n tasks).
    on_result : called as ``on_result(index, result, seconds)`` as each task finishes
        (e.g. to store it in the cache before the others end).
    """
    tasks = list(tasks)
    n_workers = default_workers() if workers is None else check_workers(workers)
    scheduler = resolve_scheduler(scheduler)
    out: list = [None] * len(tasks)
    bar = progress.bar(len(tasks), desc) if progress is not None else None

    def done(k, res, dt):
        out[k] = res
        if on_result is not None:
            on_result(k, res, dt)
        if bar is not None:
            bar.update(1)

    try:
        if not tasks:
            return out
        if scheduler is not None:
            _map_dask(func, tasks, scheduler, done)
        elif n_workers == 1 or len(tasks) == 1:
            for k, t in enumerate(tasks):
                done(k, *_call(func, t))
        else:
            _map_local(func, tasks, min(n_workers, len(tasks)), done)
    finally:
        if bar is not None:
            bar.close()
    return out


def _ignore_sigint():
    # Ctrl-C goes to the parent, which terminates the pool: no traceback from every worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _indexed(func, item):
    k, task = item
    return (k, *_call(func, task))


def _map_local(func, tasks, n, done):
    pool = _context().Pool(n, initializer=_ignore_sigint)
    try:
        for k, res, dt in pool.imap_unordered(functools.partial(_indexed, func), enumerate(tasks)):
            done(k, res, dt)
        pool.close()
    except BaseException:
        pool.terminate()  # an error or Ctrl-C: stop the other tasks now
        raise
    finally:
        pool.join()


def _map_dask(func, tasks, scheduler, done):
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("a Dask scheduler was given but 'distributed' is not installed; "
                          "pip install 'gtv_symbolic[dask]'") from None
    own = not isinstance(scheduler, Client)
    if own:
        try:
            client = Client(scheduler, set_as_default=False, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler!r} "
                                  f"(--scheduler / ${SCHEDULER_ENV}): {exc}") from None
    else:
        client = scheduler
    try:
        call = functools.partial(_call, func)
        futs = client.map(call, tasks, pure=False)
        index = {f.key: k for k, f in enumerate(futs)}
        with client.as_current():  # as_completed looks up the current client
            for f in as_completed(futs):
                done(index[f.key], *f.result())
    finally:
        if own:
            client.close()
