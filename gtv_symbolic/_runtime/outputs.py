"""Output locations: checked for writability before any work, written only when a run completes.

:func:`check_writable` probes a folder (or a file's folder) by creating and removing a
temporary file in it, or in its nearest existing ancestor when it does not exist yet, so an
unwritable ``--out``, ``--save-data``, ``$GTV_CACHE_DIR`` or derivations folder is reported
before any computation (:class:`OutputError`; the CLI exits with code 2).

:class:`Staging` collects a run's outputs in hidden temporary folders created inside each
final folder and, when the run completes, moves every file into place with
:func:`os.replace` (atomic per file, same file system). An interrupted or failed run removes
the temporary folders: the previous outputs stay intact and no temporary files are left.

Examples
--------
>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> with Staging() as st:
...     _ = (st.folder(root / "figs") / "a.txt").write_text("new")
...     (root / "figs" / "a.txt").exists()   # not yet in place
False
>>> (root / "figs" / "a.txt").read_text(), sorted(p.name for p in (root / "figs").iterdir())
('new', ['a.txt'])
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["OutputError", "Staging", "check_writable"]

_PREFIX = ".gtv-tmp-"


class OutputError(ValueError):
    """An output location cannot be written."""


def _nearest_existing(p: Path) -> Path:
    q = p
    while not q.exists():
        if q.parent == q:
            break
        q = q.parent
    return q


def check_writable(path, what: str, *, is_file: bool = False) -> Path:
    """Raise :class:`OutputError` naming ``what`` unless ``path`` (a folder, or with
    ``is_file`` a file) can be created and written. Creates nothing that stays."""
    p = Path(path)
    if is_file:
        if p.is_dir():
            raise OutputError(f"{what} {p} is a folder; give a file path")
        folder = p.parent
    else:
        folder = p
        if p.exists() and not p.is_dir():
            raise OutputError(f"{what} {p} exists and is not a folder")
    base = _nearest_existing(folder.absolute())
    if not base.is_dir():
        raise OutputError(f"{what} {p} cannot be created: {base} is not a folder")
    try:
        fd, tmp = tempfile.mkstemp(dir=base, prefix=_PREFIX, suffix=".probe")
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise OutputError(f"{what} {p} is not writable ({base}: {exc.strerror})") from None
    return p


class Staging:
    """Temporary output folders moved into place on success (see the module docstring)."""

    def __init__(self):
        self._moves: list[tuple[Path, Path]] = []  # (temporary folder, final folder)
        self._created: list[Path] = []  # final folders this run created (removed if empty)

    def folder(self, final) -> Path:
        """A temporary folder whose files will be moved into ``final`` on commit."""
        final = Path(final)
        for (tmp, fin) in self._moves:
            if fin == final:
                return tmp
        missing = []
        q = final
        while not q.exists():
            missing.append(q)
            q = q.parent
        final.mkdir(parents=True, exist_ok=True)
        self._created.extend(reversed(missing))
        tmp = Path(tempfile.mkdtemp(dir=final, prefix=_PREFIX))
        self._moves.append((tmp, final))
        return tmp

    def file(self, final) -> Path:
        """Temporary path of a file to be moved to ``final`` on commit."""
        final = Path(final)
        return self.folder(final.parent) / final.name

    def commit(self) -> list[Path]:
        """Move every staged file into place; return the final paths."""
        done = []
        for tmp, final in self._moves:
            for src in sorted(tmp.rglob("*")):
                if src.is_dir():
                    continue
                dst = final / src.relative_to(tmp)
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
                done.append(dst)
            shutil.rmtree(tmp, ignore_errors=True)
        self._moves = []
        self._created = []
        return done

    def abort(self) -> None:
        """Remove the temporary folders (and final folders this run created, if left empty)."""
        for tmp, _ in self._moves:
            shutil.rmtree(tmp, ignore_errors=True)
        for d in reversed(self._created):
            try:
                d.rmdir()
            except OSError:
                pass
        self._moves = []
        self._created = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.abort()
        return False
