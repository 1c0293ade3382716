"""Per-stage progress lines with timings, written to stderr (quiet by default in tests)."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager


class Progress:
    """Print ``[name] stage ... 1.23 s`` lines; ``enabled=False`` makes it silent."""

    def __init__(self, name: str, enabled: bool = True, stream=None):
        self.name = name
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.t0 = time.perf_counter()

    def log(self, msg: str) -> None:
        if self.enabled:
            elapsed = time.perf_counter() - self.t0
            print(f"[{self.name} {elapsed:7.1f} s] {msg}", file=self.stream, flush=True)

    @contextmanager
    def stage(self, msg: str):
        start = time.perf_counter()
        self.log(f"{msg} ...")
        yield
        self.log(f"{msg} done in {time.perf_counter() - start:.2f} s")


def quiet() -> Progress:
    return Progress("quiet", enabled=False)
