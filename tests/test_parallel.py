"""map_tasks: local processes vs one process vs a Dask LocalCluster give identical results."""

import io

import numpy as np
import pytest

from gtv_symbolic._runtime import cache, check, flags, outputs, parallel, progress, targets
from gtv_symbolic._runtime.parallel import (
    MAX_WORKERS,
    blas_threads,
    check_workers,
    default_workers,
    map_tasks,
    spawn_seeds,
)


def _cell(task):
    """A sweep cell: a small ridge fit on data drawn from the task's own seed."""
    seed, n = task
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 20))
    y = X @ rng.standard_normal(20) + 0.1 * rng.standard_normal(n)
    w = np.linalg.solve(X.T @ X + 0.1 * np.eye(20), X.T @ y)
    return w


def _tasks(n=6):
    return [(s, 50 + 10 * k) for k, s in enumerate(spawn_seeds(123, n))]


@pytest.mark.parametrize("mod", [cache, check, flags, outputs, parallel, progress, targets],
                         ids=lambda m: m.__name__)
def test_all_names_exist(mod):
    assert mod.__all__ and all(hasattr(mod, n) for n in mod.__all__)


def test_local_processes_match_serial():
    serial = map_tasks(_cell, _tasks(), workers=1)
    pooled = map_tasks(_cell, _tasks(), workers=2)
    assert len(serial) == 6
    for a, b in zip(serial, pooled, strict=True):
        assert np.array_equal(a, b)  # bit-identical, order kept


def test_dask_local_cluster_matches_local():
    distributed = pytest.importorskip("distributed")
    serial = map_tasks(_cell, _tasks(), workers=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        by_address = map_tasks(_cell, _tasks(), scheduler=cluster.scheduler_address)
        with distributed.Client(cluster) as client:
            by_client = map_tasks(_cell, _tasks(), scheduler=client)
    for a, b, c in zip(serial, by_address, by_client, strict=True):
        assert np.array_equal(a, b) and np.array_equal(a, c)


def test_env_scheduler_is_used(monkeypatch):
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", "0.5s")
    monkeypatch.setenv(parallel.SCHEDULER_ENV, "tcp://127.0.0.1:1")  # nothing listens there
    with pytest.raises(ConnectionError, match="GTV_DASK_SCHEDULER"):
        map_tasks(_cell, _tasks(1))
    monkeypatch.setenv(parallel.SCHEDULER_ENV, "  ")
    assert len(map_tasks(_cell, _tasks(1))) == 1


def test_on_result_and_progress_bar():
    seen = []
    stream = io.StringIO()
    prog = progress.Progress("t", enabled=True, stream=stream)
    out = map_tasks(abs, [-1, -2, -3], workers=1, progress=prog, desc="cells",
                    on_result=lambda k, r, dt: seen.append((k, r)))
    assert out == [1, 2, 3] and sorted(seen) == [(0, 1), (1, 2), (2, 3)]
    assert "3/3" in stream.getvalue()


def test_progress_silent_under_pytest():
    stream = io.StringIO()
    p = progress.Progress("t", stream=stream)
    p.log("hello")
    b = p.bar(2)
    b.update(2)
    b.close()
    assert stream.getvalue() == ""


def test_worker_bounds(monkeypatch):
    assert check_workers(3) == 3 and check_workers("4") == 4
    for bad in (0, -1, MAX_WORKERS + 1, "many", "1.5"):
        with pytest.raises(ValueError, match=r"workers must be an integer in \[1, 256\]"):
            check_workers(bad)
    for bad in (1.0, True, None):
        with pytest.raises(TypeError, match="workers"):
            check_workers(bad)
    monkeypatch.setenv(parallel.WORKERS_ENV, "100000")
    with pytest.raises(ValueError, match="GTV_WORKERS"):
        default_workers()
    monkeypatch.setenv(parallel.WORKERS_ENV, "3")
    assert default_workers() == 3
    with pytest.raises(ValueError, match="workers"):
        map_tasks(abs, [1], workers=0)


def test_blas_threads_limits_and_restores():
    from threadpoolctl import threadpool_info

    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    with blas_threads(1):
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
    assert [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"] == before


def test_spawn_seeds_from_generator_and_int():
    a = [np.random.default_rng(s).random() for s in spawn_seeds(5, 3)]
    b = [np.random.default_rng(s).random() for s in spawn_seeds(np.random.SeedSequence(5), 3)]
    assert a == b and len(set(a)) == 3
    g = [np.random.default_rng(s).random() for s in spawn_seeds(np.random.default_rng(5), 3)]
    assert len(set(g)) == 3


def test_fig2_panels_same_on_dask_and_local():
    """A real experiment's panels: local processes and a LocalCluster give identical arrays."""
    distributed = pytest.importorskip("distributed")
    from gtv_symbolic.experiments import fig2

    s = fig2.Settings(eps=(1e-2,), P=(64, 128), n_models=2, n_x=6, n_t=6, n_bins=50, seed=5)
    local = fig2.run(s, cache=False, workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        remote = fig2.run(s, cache=False, scheduler=cluster.scheduler_address)
    assert set(local.data_vars) == set(remote.data_vars)
    for k in local.data_vars:
        assert np.array_equal(local[k].values, remote[k].values), k


def test_compiled_schedule_pickles_by_its_expressions():
    """A compiled schedule pickles (the lambdified functions are dropped and rebuilt lazily,
    once per process and expression) and evaluates bit-identically after unpickling."""
    import pickle

    from gtv_symbolic import schedules

    s = schedules.VP(beta_min=0.3, beta_d=15.0, T=0.9)
    t = np.linspace(0.01, 0.9, 7)
    ref = [f(t) for f in (s.alpha, s.sigma2, s.beta, s.D)]  # compiled now
    b = pickle.loads(pickle.dumps(s))
    assert "_compiled" not in b.__dict__ and b.cache_key() == s.cache_key() and b.t_min == s.t_min
    for k in ("alpha", "sigma2", "beta", "D"):
        assert b.expr(k) == s.expr(k)
    for r, f in zip(ref, (b.alpha, b.sigma2, b.beta, b.D), strict=True):
        assert np.array_equal(r, f(t))


def test_custom_schedule_through_dask_matches_local():
    """A custom (non-named) schedule in the one-call experiment: a LocalCluster with worker
    *processes* (tasks are pickled to another interpreter) gives the same arrays as local
    forked workers and as one process."""
    distributed = pytest.importorskip("distributed")
    from gtv_symbolic import schedules
    from gtv_symbolic.experiments import theory_vs_ensemble

    sched = schedules.VP(beta_min=0.3, beta_d=15.0)
    kw = dict(n_x=6, n_t=6, P=64, n_models=4, n_fields=8, n_bins=40, n_boot=10, rng=11,
              schedule=sched, cache=False)
    data = [-1.0, 0.5, 1.0]
    serial = theory_vs_ensemble(data, workers=1, **kw)
    local = theory_vs_ensemble(data, workers=2, **kw)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        remote = theory_vs_ensemble(data, scheduler=cluster.scheduler_address, **kw)
    for other in (local, remote):
        assert set(other.data_vars) == set(serial.data_vars)
        for k in serial.data_vars:
            assert np.array_equal(serial[k].values, other[k].values), k
