"""Helpers shared by the benchmark scripts: this tree on sys.path, git worktrees of a baseline."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["ROOT", "drop_worktree", "spread", "use_this_tree", "worktree"]

ROOT = Path(__file__).resolve().parents[1]


def use_this_tree() -> None:
    """Import this tree's gtv_symbolic (also in child processes), not an installed copy."""
    sys.path.insert(0, str(ROOT))
    os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")


def worktree(rev: str) -> Path:
    """A detached temporary ``git worktree`` of ``rev`` (remove with :func:`drop_worktree`)."""
    d = Path(tempfile.mkdtemp(prefix="gtv-bench-wt-")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(d), rev],
                   check=True, capture_output=True)
    return d


def drop_worktree(d: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(d)],
                   check=False, capture_output=True)


def spread(xs):
    """(median, 10 % quantile, 90 % quantile) of a list of numbers."""
    xs = sorted(xs)
    if len(xs) < 2:
        return xs[0], xs[0], xs[0]
    q = statistics.quantiles(xs, n=10, method="inclusive")
    return statistics.median(xs), q[0], q[-1]
