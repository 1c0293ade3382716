"""Cache integrity (issue 11 item 2): exact keys, verified entries, fault injection, degradation."""

import multiprocessing as mp
import os
import stat
import tempfile
import warnings
import zipfile

import numpy as np
import pytest

from gtv_symbolic._runtime import cache as cache_mod
from gtv_symbolic._runtime.cache import Cache, CacheWarning, cache_key, compute_panels

PARAMS = {"eps": 1e-2, "P": 64, "data": np.array([[-1.0], [0.0], [1.0]]), "name": "x"}


def _arrays():
    return {"a": np.arange(12.0).reshape(3, 4), "b": np.array([1, 2, 3])}


@pytest.fixture
def cache(tmp_path):
    return Cache(tmp_path / "c")


def _fill(cache):
    cache.store("demo", PARAMS, _arrays())
    return cache.path("demo", PARAMS)


def _recompute(cache):
    calls = []

    def compute():
        calls.append(1)
        return _arrays()

    out = cache.get_or_compute("demo", PARAMS, compute)
    np.testing.assert_array_equal(out["a"], _arrays()["a"])
    return len(calls)


def test_round_trip_and_hit(cache):
    p = _fill(cache)
    assert p.is_file()
    assert _recompute(cache) == 0
    out = cache.load("demo", PARAMS)
    assert set(out) == {"a", "b"} and out["b"].dtype == np.int64


def test_key_is_exact_and_includes_code_and_version(monkeypatch):
    k = cache_key("demo", PARAMS)
    assert cache_key("demo", dict(PARAMS, eps=1e-2 * (1 + 2e-16))) != k  # no :g rounding
    assert cache_key("demo", dict(PARAMS, eps=float(np.float32(1e-2)))) != k
    assert cache_key("demo", dict(PARAMS, P=64.0)) != k  # int vs float
    assert cache_key("demo", dict(PARAMS, data=PARAMS["data"] + 1e-15)) != k
    assert cache_key("demo", dict(PARAMS)) == k
    assert cache_key("demo2", PARAMS) != k
    monkeypatch.setattr(cache_mod, "code_fingerprint", lambda: "changed source")
    assert cache_key("demo", PARAMS) != k
    monkeypatch.undo()
    monkeypatch.setattr(cache_mod, "_version", lambda: "9.9.9")
    assert cache_key("demo", PARAMS) != k


def test_code_change_invalidates(cache, monkeypatch):
    _fill(cache)
    monkeypatch.setattr(cache_mod, "code_fingerprint", lambda: "edited transport default")
    assert cache.load("demo", PARAMS) is None
    assert cache.info()["stale"] == 1


def test_unknown_param_type_rejected():
    with pytest.raises(TypeError, match="no exact key"):
        cache_key("demo", {"f": object()})


def test_bad_name_rejected(cache):
    with pytest.raises(ValueError, match="name"):
        cache.path("../evil", PARAMS)


def _damage_truncate(p):
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def _damage_zero(p):
    p.write_bytes(b"")


def _damage_garbage(p):
    p.write_bytes(os.urandom(3000))


def _damage_crc(p):
    # flip one byte inside the first member's data: zipfile's CRC-32 check fails on read
    data = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as z:
        info = z.infolist()[0]
    off = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.file_size - 3
    data[off] ^= 0xFF
    p.write_bytes(bytes(data))


def _damage_wrong_content(p):
    # a valid npz, valid meta from this entry, but other array values
    with np.load(p) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["a"] = arrays["a"] + 1
    with open(p, "wb") as f:
        np.savez(f, **arrays)


def _damage_other_key(p):
    # a complete, self-consistent entry for other parameters, renamed onto this one
    other = Cache(p.parent)
    other.store("demo", dict(PARAMS, P=128), _arrays())
    os.replace(other.path("demo", dict(PARAMS, P=128)), p)


def _damage_no_meta(p):
    with open(p, "wb") as f:
        np.savez(f, **_arrays())


@pytest.mark.parametrize("damage", [_damage_truncate, _damage_zero, _damage_garbage, _damage_crc,
                                    _damage_wrong_content, _damage_other_key, _damage_no_meta],
                         ids=lambda f: f.__name__[8:])
def test_bad_entry_warned_removed_recomputed(cache, damage):
    p = _fill(cache)
    damage(p)
    with pytest.warns(CacheWarning) as rec:
        assert _recompute(cache) == 1
    msgs = [str(w.message) for w in rec if issubclass(w.category, CacheWarning)]
    assert len(msgs) == 1 and str(p) in msgs[0]
    assert cache.load("demo", PARAMS) is not None  # re-stored, verified again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _recompute(cache) == 0


def test_entries_group_readable(cache):
    p = _fill(cache)
    mode = stat.S_IMODE(p.stat().st_mode)
    assert mode & stat.S_IRGRP and mode & stat.S_IRUSR and mode & stat.S_IWUSR
    assert not list(p.parent.glob(".*.part"))


def test_store_fsyncs_before_rename(cache, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    _fill(cache)
    assert events.index("fsync") < events.index("replace")


def test_missing_uncreatable_folder_degrades(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    c = Cache(blocker / "cache")
    with pytest.warns(CacheWarning, match="not usable") as rec:
        assert _recompute(c) == 1
        assert _recompute(c) == 1  # second miss: no second warning
    assert sum(issubclass(w.category, CacheWarning) for w in rec) == 1


def test_unwritable_folder_degrades(cache, monkeypatch):
    # simulated (tests may run as root, where chmod does not block writes)
    def deny(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", deny)
    with pytest.warns(CacheWarning, match="not usable"):
        assert _recompute(cache) == 1


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores chmod")
def test_read_only_folder_serves_hits_and_computes_misses(cache):
    _fill(cache)
    os.chmod(cache.folder, 0o555)
    try:
        assert _recompute(cache) == 0
        with pytest.warns(CacheWarning, match="not usable"):
            out = cache.get_or_compute("demo", dict(PARAMS, P=1), _arrays)
        assert "a" in out
    finally:
        os.chmod(cache.folder, 0o755)


def _writer(folder, n):
    c = Cache(folder)
    rng = np.random.default_rng(0)
    big = {"a": rng.standard_normal((200, 200)), "b": np.arange(5)}
    for _ in range(n):
        c.store("race", {"k": 1}, big)
        got = c.load("race", {"k": 1})
        assert got is not None and np.array_equal(got["a"], big["a"])


def test_concurrent_writers(cache):
    ctx = mp.get_context("fork")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        procs = [ctx.Process(target=_writer, args=(cache.folder, 15)) for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert cache.load("race", {"k": 1}) is not None
    assert not list(cache.folder.glob(".*.part"))


def test_info_and_clear(cache):
    _fill(cache)
    cache.store("other", {"n": 1}, {"x": np.zeros(3)})
    (cache.folder / ".demo-leftover.part").write_bytes(b"x")
    info = cache.info()
    assert info["entries"] == 2 and info["current"] == 2 and info["partial"] == 1
    assert info["by_name"] == {"demo": 1, "other": 1} and info["bytes"] > 0
    assert cache.clear(stale_only=True) == 1  # only the leftover temp file
    assert cache.clear() == 2
    assert cache.info()["entries"] == 0


def test_disabled_cache_always_recomputes(tmp_path):
    c = Cache(tmp_path, enabled=False)
    assert _recompute(c) == 1 and _recompute(c) == 1
    assert not list(tmp_path.iterdir())


def test_store_rejects_object_arrays(cache):
    with pytest.raises(TypeError, match="object"):
        cache.store("demo", PARAMS, {"a": np.array([None, 1], dtype=object)})


def _square(x):
    return {"y": np.array([x * x])}


def test_compute_panels_loads_hits_and_stores_misses(cache):
    tasks = [({"x": x}, (x,)) for x in range(4)]
    first = compute_panels(cache, "sq", tasks, _square, workers=2)
    assert [r["y"][0] for r in first] == [0, 1, 4, 9]
    assert cache.info()["entries"] == 4
    again = compute_panels(cache, "sq", tasks, lambda x: 1 / 0)  # all hits: func never runs
    assert [r["y"][0] for r in again] == [0, 1, 4, 9]


def _digest_of(tmp_path, monkeypatch, text):
    """:func:`source_digest` of a one-module fake package holding ``text``."""
    pkg = tmp_path / "pkg"
    (pkg / "_runtime").mkdir(parents=True, exist_ok=True)
    (pkg / "mod.py").write_text(text)
    monkeypatch.setattr(cache_mod, "__file__", str(pkg / "_runtime" / "cache.py"))
    return cache_mod.source_digest(), cache_mod.source_digest(code_only=False)


def test_fingerprint_ignores_docstrings_and_comments_not_code(tmp_path, monkeypatch):
    base = _digest_of(tmp_path, monkeypatch, 'def f(x):\n    """Doc."""\n    return x + 1\n')
    doc = _digest_of(tmp_path, monkeypatch, 'def f(x):\n    """Other doc."""\n    # why\n    return x + 1\n')
    code = _digest_of(tmp_path, monkeypatch, 'def f(x):\n    """Doc."""\n    return x + 2\n')
    names = _digest_of(tmp_path, monkeypatch,
                       '__all__ = ["f"]\ndef f(x):\n    """Doc."""\n    return x + 1\n')
    assert names[0] == base[0]
    assert doc[0] == base[0] and doc[1] != base[1]  # documents hash bytes, results hash code
    assert code[0] != base[0] and code[1] != base[1]


def test_experiments_import_no_excluded_module():
    """The fingerprint may skip :data:`NOT_COMPUTING` only because no computation imports them."""
    import subprocess
    import sys

    prog = ("import importlib, pkgutil, sys\n"
            "import gtv_symbolic.experiments as E\n"
            "for m in pkgutil.walk_packages(E.__path__, E.__name__ + '.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(' '.join(m for m in sys.modules if m.startswith('gtv_symbolic')))\n")
    mods = subprocess.run([sys.executable, "-c", prog], check=True, capture_output=True,
                          text=True).stdout.split()
    assert "gtv_symbolic.experiments.fig2" in mods
    paths = [m.removeprefix("gtv_symbolic.").replace(".", "/") for m in mods]
    hit = [m for m, p in zip(mods, paths)
           if any(p == x.rstrip("/").removesuffix(".py") or p.startswith(x) for x in cache_mod.NOT_COMPUTING)]
    assert hit == []


def test_package_never_star_imports():
    """The fingerprint may ignore ``__all__`` only because no module does ``import *``."""
    import re
    from pathlib import Path

    root = Path(cache_mod.__file__).resolve().parents[1]
    hits = [p.name for p in root.rglob("*.py") if re.search(r"^\s*from\s+\S+\s+import\s+\*",
                                                              p.read_text(), re.M)]
    assert hits == []
