"""On-disk cache of computed arrays (``.npz``) that never serves stale or corrupt data.

Key. The SHA-256 of a canonical JSON of: the entry name, :data:`CACHE_FORMAT`, the package
version, a hash of the code of every module that computes (:func:`code_fingerprint`: any
code change invalidates every entry; docstrings, comments, plotting and the CLI do not count) and the exact parameter values (floats by
``float.hex``, arrays by the SHA-256 of their bytes with shape and dtype; no ``:g`` text).

Entries. ``NAME-KEY32.npz`` holds the arrays plus ``__gtv_meta__`` (JSON: the full key, a
SHA-256 checksum of the arrays' names, dtypes, shapes and bytes, version, code hash,
parameters). On load both are verified; a bad entry (truncated, zero-length, garbage, CRC
damage, another key, wrong content) is reported in one :class:`CacheWarning` naming the
file, removed and recomputed. Stores write a temporary file in the same folder, fsync it,
make it group-readable and rename it into place (atomic: concurrent writers of the same
entry each rename a complete file; readers never see a partial one). A folder that cannot
be created or written degrades to computing without storing, with one warning.

The folder is ``$GTV_CACHE_DIR`` if set, else ``.gtv_cache/`` in the current directory.

Examples
--------
>>> import tempfile, numpy as np
>>> c = Cache(tempfile.mkdtemp())
>>> out = c.get_or_compute("demo", {"n": 3}, lambda: {"a": np.arange(3)})
>>> c.get_or_compute("demo", {"n": 3}, lambda: 1 / 0)["a"].tolist()  # served from disk
[0, 1, 2]
>>> c.info()["entries"]
1
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import json
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np

__all__ = ["CACHE_FORMAT", "DEFAULT_DIR", "ENV_VAR", "Cache", "CacheWarning", "cache_key",
           "NOT_COMPUTING", "code_fingerprint", "compute_panels", "default_dir",
           "source_digest"]

#: bump when the entry layout changes
CACHE_FORMAT = 2
ENV_VAR = "GTV_CACHE_DIR"
DEFAULT_DIR = ".gtv_cache"
_META = "__gtv_meta__"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ENTRY_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*)-(?P<key>[0-9a-f]{32})\.npz$")
_PART_SUFFIX = ".part"


class CacheWarning(UserWarning):
    """A cache entry was bad (removed and recomputed) or the cache folder is unusable."""


def default_dir() -> Path:
    """``$GTV_CACHE_DIR`` or ``./.gtv_cache``."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


#: package paths that never feed a cached array (plotting, the CLI, the derivation engine and
#: documents); ``tests/test_cache.py`` checks that no experiment imports them
NOT_COMPUTING = ("plots/", "derivations/", "cli.py", "__main__.py", "derive.py", "derive_checks.py",
                 "derive_render.py", "derive_store.py")


def _is_all(node) -> bool:
    """``__all__ = [...]``: it lists public names and computes nothing (no ``import *`` here)."""
    return (isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "__all__")


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """The syntax tree without docstrings and without the module's ``__all__``."""
    if isinstance(tree, ast.Module):
        tree.body = [n for n in tree.body if not _is_all(n)]
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return tree


def source_digest(exclude: tuple[str, ...] = (), *, code_only: bool = True) -> str:
    """SHA-256 over the relative paths and sources of the package's ``.py`` files.

    With ``code_only`` a source counts by its syntax tree without docstrings, comments and
    ``__all__``, so editing documentation does not invalidate results; otherwise by its bytes. Paths starting
    with an entry of ``exclude`` are skipped.
    """
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        rel = p.relative_to(root).as_posix()
        if rel.startswith(exclude):
            continue
        src = p.read_bytes()
        if code_only:
            src = ast.dump(_strip_docstrings(ast.parse(src, filename=rel))).encode()
        h.update(rel.encode() + b"\0" + src + b"\0")
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def code_fingerprint() -> str:
    """:func:`source_digest` of every computing module (all but :data:`NOT_COMPUTING`)."""
    return source_digest(NOT_COMPUTING)


def _version() -> str:
    from .. import __version__

    return __version__


def _canonical(obj):
    """JSON-able, exact, type-tagged form of a parameter value."""
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise TypeError("cache parameters cannot hold object arrays")
        a = np.ascontiguousarray(obj)
        return {"__array__": hashlib.sha256(a.tobytes()).hexdigest(), "shape": list(a.shape),
                "dtype": a.dtype.str}
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return {"__float__": float(obj).hex()}  # exact; 0.1 and 0.1000000000000001 differ
    if isinstance(obj, complex):
        return {"__complex__": [obj.real.hex(), obj.imag.hex()]}
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, Path):
        return {"__path__": str(obj)}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"__dataclass__": type(obj).__qualname__,
                "fields": _canonical({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})}
    if hasattr(obj, "cache_key"):
        return {"__keyed__": type(obj).__qualname__, "key": _canonical(obj.cache_key())}
    raise TypeError(f"cache parameter of type {type(obj).__name__} has no exact key; pass "
                    "numbers, strings, arrays, tuples, dicts or dataclasses")


def cache_key(name: str, params: dict) -> str:
    """Hex SHA-256 identifying ``name`` computed with ``params`` by this version of the code."""
    blob = json.dumps({"name": name, "format": CACHE_FORMAT, "version": _version(),
                       "code": code_fingerprint(), "params": _canonical(params)},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _checksum(arrays: dict) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _read(path: Path):
    """(arrays, meta) of an entry; raises on any damage."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(arrays.pop(_META).tobytes().decode())
    return arrays, meta


@functools.lru_cache(maxsize=None)
def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return (0o666 & ~mask) | 0o640  # at least owner rw, group r (never 0600)


class Cache:
    """A folder of verified ``NAME-KEY.npz`` entries; ``enabled=False`` always recomputes."""

    def __init__(self, folder=None, enabled: bool = True):
        self.folder = Path(folder) if folder is not None else default_dir()
        self.enabled = enabled
        self._writable = True  # set False (with one warning) when a store fails

    # -- keys and paths ---------------------------------------------------------------
    def path(self, name: str, params: dict) -> Path:
        """Where the entry for ``(name, params)`` lives."""
        return self._path(name, cache_key(self._check_name(name), params))

    def _path(self, name, key):
        return self.folder / f"{name}-{key[:32]}.npz"

    @staticmethod
    def _check_name(name):
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ValueError(f"cache entry name must match {_NAME_RE.pattern}, got {name!r}")
        return name

    # -- load / store -----------------------------------------------------------------
    def load(self, name: str, params: dict):
        """The verified arrays for ``(name, params)``, or None (missing, bad, disabled)."""
        if not self.enabled:
            return None
        key = cache_key(self._check_name(name), params)
        p = self._path(name, key)
        try:
            if not p.is_file():
                return None
        except OSError:
            return None
        try:
            arrays, meta = _read(p)
            if meta.get("key") != key:
                raise ValueError("the entry was stored under another key")
            if meta.get("checksum") != _checksum(arrays):
                raise ValueError("checksum mismatch (content differs from what was stored)")
        except Exception as exc:  # any damage: BadZipFile, EOFError, zlib/JSON/CRC errors...
            self._bad_entry(p, exc)
            return None
        return arrays

    def _bad_entry(self, p, exc):
        try:
            p.unlink()
            what = "removed; recomputing"
        except OSError as e:
            what = f"could not remove it ({e.strerror}); recomputing"
        warnings.warn(f"bad cache entry {p}: {type(exc).__name__}: {exc}; {what}", CacheWarning,
                      stacklevel=3)

    def _degrade(self, exc):
        if self._writable:
            warnings.warn(f"cache folder {self.folder} is not usable ({exc}); computing without "
                          "storing results", CacheWarning, stacklevel=3)
        self._writable = False

    def store(self, name: str, params: dict, arrays: dict) -> None:
        """Verify-able, fsynced, atomic write of ``arrays`` (a dict of non-object arrays)."""
        if not (self.enabled and self._writable):
            return
        key = cache_key(self._check_name(name), params)
        if not isinstance(arrays, dict):
            raise TypeError(f"cache entries are dicts of arrays, got {type(arrays).__name__}")
        arrays = {str(k): np.asarray(v) for k, v in arrays.items()}
        for k, v in arrays.items():
            if k == _META or v.dtype == object:
                raise TypeError(f"cannot cache array {k!r} (reserved name or object dtype)")
        meta = {"key": key, "name": name, "checksum": _checksum(arrays), "version": _version(),
                "code": code_fingerprint(), "format": CACHE_FORMAT,
                "params": _canonical(params)}
        blob = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
        tmp = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{name}-", suffix=_PART_SUFFIX)
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays, **{_META: blob})
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, _file_mode())
            os.replace(tmp, self._path(name, key))
            tmp = None
            _fsync_dir(self.folder)
        except OSError as exc:
            self._degrade(exc)
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass

    def get_or_compute(self, name: str, params: dict, compute, progress=None) -> dict:
        """The arrays stored for ``(name, params)``, or ``compute()`` (a dict of arrays), stored."""
        out = self.load(name, params)
        if out is not None:
            if progress is not None:
                progress.log(f"{name}: cached ({self.path(name, params)})")
            return out
        out = compute()
        self.store(name, params, out)
        return out

    # -- maintenance (gtv cache info | clear) -----------------------------------------
    def _listing(self):
        try:
            names = sorted(os.listdir(self.folder))
        except OSError:
            return [], []
        entries = [self.folder / n for n in names if _ENTRY_RE.match(n)]
        parts = [self.folder / n for n in names if n.startswith(".") and n.endswith(_PART_SUFFIX)]
        return entries, parts

    def _is_current(self, p) -> bool:
        try:
            with np.load(p, allow_pickle=False) as f:
                meta = json.loads(f[_META].tobytes().decode())
        except Exception:
            return False
        return meta.get("code") == code_fingerprint() and meta.get("version") == _version()

    def info(self) -> dict:
        """Folder, entry count and bytes, entries per name, current vs stale, leftover temp files."""
        entries, parts = self._listing()
        by_name: dict[str, int] = {}
        size = current = 0
        for p in entries:
            by_name[_ENTRY_RE.match(p.name)["name"]] = by_name.get(_ENTRY_RE.match(p.name)["name"], 0) + 1
            try:
                size += p.stat().st_size
            except OSError:
                pass
            current += self._is_current(p)
        return {"folder": str(self.folder), "exists": self.folder.is_dir(),
                "writable": self.folder.is_dir() and os.access(self.folder, os.W_OK | os.X_OK),
                "entries": len(entries), "bytes": size, "current": current,
                "stale": len(entries) - current, "partial": len(parts), "by_name": by_name,
                "version": _version(), "code": code_fingerprint()[:16]}

    def clear(self, stale_only: bool = False) -> int:
        """Remove entries (only those of other code versions with ``stale_only``) and temp files."""
        entries, parts = self._listing()
        n = 0
        for p in entries + parts:
            if stale_only and p in entries and self._is_current(p):
                continue
            try:
                p.unlink()
                n += 1
            except FileNotFoundError:
                pass
        return n


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _star(func, args):
    return func(*args)


def compute_panels(cache: Cache, name: str, tasks, func, *, workers: int = 1, progress=None,
                   labels=None, scheduler=None) -> list[dict]:
    """Cached values of ``func(*args)`` for ``tasks = [(params, args), ...]``, in order.

    Entries already on disk are loaded; the others run through
    :func:`~gtv_symbolic._runtime.parallel.map_tasks` (``workers`` local processes, or the
    Dask ``scheduler``; ``func`` must be module-level and each task seeds its own Generator,
    so results do not depend on where they ran) and are stored as each finishes.
    """
    from .parallel import map_tasks

    tasks = list(tasks)
    out: list = [None] * len(tasks)
    todo = []
    for k, (params, _args) in enumerate(tasks):
        out[k] = cache.load(name, params)
        if out[k] is None:
            todo.append(k)
        elif progress is not None:
            progress.log(f"{labels[k] if labels else k}: cached")

    def done(j, res, dt):
        k = todo[j]
        cache.store(name, tasks[k][0], res)
        out[k] = res
        if progress is not None:
            progress.log(f"{labels[k] if labels else k}: computed in {dt:.2f} s")

    if todo:
        map_tasks(functools.partial(_star, func), [tasks[k][1] for k in todo], workers=workers,
                  scheduler=scheduler, progress=progress, desc=name, on_result=done)
    return out
