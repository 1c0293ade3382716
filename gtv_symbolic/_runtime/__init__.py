"""Runtime services shared by the experiments and the CLI: disk cache, task pool, progress.

* :mod:`.cache` -- integrity-checked on-disk cache of arrays (issue 11 item 2);
* :mod:`.parallel` -- :func:`~.parallel.map_tasks` over local processes or a Dask cluster,
  :func:`~.parallel.blas_threads` (threadpoolctl), worker-count checks;
* :mod:`.progress` -- tqdm-based :class:`~.progress.Progress` (silent in tests).
"""

from .cache import Cache, CacheWarning, compute_panels, default_dir
from .parallel import blas_threads, default_workers, map_tasks, spawn_seeds
from .progress import Progress, quiet

__all__ = ["Cache", "CacheWarning", "Progress", "blas_threads", "compute_panels", "default_dir",
           "default_workers", "map_tasks", "quiet", "spawn_seeds"]
