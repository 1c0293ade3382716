"""Progress reporting on stderr: stage lines with timings and tqdm bars (k of n, elapsed, ETA).

Silent when ``enabled=False`` (``--quiet``), and by default while pytest runs a test
(``$PYTEST_CURRENT_TEST`` set) or when ``$GTV_QUIET`` is set.

Examples
--------
>>> import io
>>> p = Progress("demo", stream=io.StringIO(), enabled=True)
>>> with p.stage("fit"):
...     bar = p.bar(3, "panels")
...     for _ in range(3):
...         bar.update(1)
...     bar.close()
>>> "fit done in" in p.stream.getvalue()
True
>>> quiet().enabled
False
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager

__all__ = ["Progress", "quiet"]


def _default_enabled() -> bool:
    return not (os.environ.get("PYTEST_CURRENT_TEST") or os.environ.get("GTV_QUIET"))


class Progress:
    """``[name  12.3 s] message`` lines and tqdm bars for one command; ``enabled=None`` means
    on unless running under pytest or ``$GTV_QUIET`` is set."""

    def __init__(self, name: str, enabled: bool | None = None, stream=None):
        self.name = name
        self.enabled = _default_enabled() if enabled is None else bool(enabled)
        self.stream = stream if stream is not None else sys.stderr
        self.t0 = time.perf_counter()

    def log(self, msg: str) -> None:
        """One line with the time since this Progress was made (does not break a running bar)."""
        if self.enabled:
            from tqdm import tqdm

            elapsed = time.perf_counter() - self.t0
            tqdm.write(f"[{self.name} {elapsed:7.1f} s] {msg}", file=self.stream)
            self.stream.flush()

    @contextmanager
    def stage(self, msg: str):
        """Log ``msg ...`` on entry and ``msg done in T s`` on a normal exit."""
        start = time.perf_counter()
        self.log(f"{msg} ...")
        yield self
        self.log(f"{msg} done in {time.perf_counter() - start:.2f} s")

    def bar(self, total: int, desc: str = ""):
        """A tqdm bar over ``total`` items (``update(k)``, ``close()``); a no-op when silent.

        On a terminal it is a live bar; on a file or pipe (logs, CI) each update is one line
        ``desc: k/n [elapsed<remaining, rate]`` in tqdm's format instead of redrawn bars.
        """
        from tqdm import tqdm

        tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        if self.enabled and not tty:
            return _LineBar(self, int(total), desc)
        return tqdm(total=int(total), desc=f"[{self.name}] {desc}".rstrip(), file=self.stream,
                    disable=not self.enabled, leave=False, unit="task", dynamic_ncols=True,
                    mininterval=0.5)


class _LineBar:
    """k of n, elapsed and ETA as log lines (tqdm's meter format), for non-terminal streams."""

    _FORMAT = "{desc}{n_fmt}/{total_fmt} tasks [{elapsed}<{remaining}, {rate_fmt}]"

    def __init__(self, progress: Progress, total: int, desc: str):
        self.progress, self.total, self.desc, self.n = progress, total, desc, 0
        self.t0 = time.perf_counter()

    def update(self, k: int = 1) -> None:
        from tqdm import tqdm

        self.n += k
        line = tqdm.format_meter(self.n, self.total, time.perf_counter() - self.t0, unit="task",
                                 prefix=f"{self.desc}: " if self.desc else "",
                                 bar_format=self._FORMAT)
        self.progress.log(line)

    def close(self) -> None:
        pass


def quiet() -> Progress:
    """A silent Progress."""
    return Progress("quiet", enabled=False)
