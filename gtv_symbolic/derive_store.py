"""Stored verification of derivations and the ``gtv derive`` command.

A verified derivation is stored as JSON in ``$GTV_CACHE_DIR/derive/`` (default
``.gtv_cache/derive/``) under a key that hashes every ``.py`` file of the package, the SymPy,
NumPy and Python versions, the derivation's name and its seed: any change of the sources
re-verifies, an unchanged tree answers ``gtv derive NAME --latex-only`` from the store without
building anything. A corrupt or unreadable entry is ignored (and re-verified).

``gtv derive all --report PATH.json`` writes one record per step with the keys ``derivation``,
``step`` (1-based), ``label``, ``status``, ``is_result``, ``seconds`` (plus ``verified``).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path

from .derive import STATUSES, VERIFIED, VerificationError

__all__ = ["STORE_VERSION", "source_hash", "store_dir", "summary", "load", "save", "verified_summary",
           "add_arguments", "cli"]

STORE_VERSION = 1
REPORT_KEYS = ("derivation", "step", "label", "status", "is_result", "seconds")


@lru_cache(maxsize=None)
def source_hash() -> str:
    """SHA-256 of the package's ``.py`` sources (bytes: the documents show docstrings) plus the
    SymPy / NumPy / Python versions.

    No formula: the part of every store key that changes with the sources (computed once per
    process).

    Returns
    -------
    digest : str
        64 hexadecimal characters.

    Examples
    --------
    >>> len(source_hash())
    64
    """
    import numpy
    import sympy

    from ._runtime.cache import source_digest

    return hashlib.sha256(f"{STORE_VERSION} {sympy.__version__} {numpy.__version__} "
                          f"{platform.python_version()} {source_digest(code_only=False)}".encode()).hexdigest()


def store_dir() -> Path:
    """Folder of the stored verifications: ``derive/`` in the cache folder (``$GTV_CACHE_DIR`` or
    ``.gtv_cache``).

    No formula: a path (read from the environment at each call; not created here).

    Parameters
    ----------
    None

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> store_dir().name
    'derive'
    """
    from ._runtime.cache import default_dir

    return default_dir() / "derive"


def _key(name: str) -> str:
    return hashlib.sha256(f"{source_hash()} {name}".encode()).hexdigest()[:20]


def _path(name: str) -> Path:
    return store_dir() / f"{name}-{_key(name)}.json"


def summary(d) -> dict:
    """JSON-able record of a verified derivation: counts, per-step records, documents.

    No formula: the stored form of a derivation, from which ``gtv derive`` writes documents and
    reports without building it again.

    Parameters
    ----------
    d : Derivation
        Normally verified (an unverified one records ``verified: False`` steps).

    Returns
    -------
    record : dict
        Keys ``version``, ``key``, ``name``, ``title``, ``counts`` (steps per status),
        ``steps`` (one dict per step with ``derivation``, ``step`` (1-based), ``label``,
        ``status``, ``is_result``, ``seconds``, ``verified``), ``result_tex`` and ``texts``
        (``{"md": ..., "tex": ...}``).

    Examples
    --------
    >>> from gtv_symbolic.derive import get
    >>> rec = summary(get("target-variance"))
    >>> sorted(rec), rec["steps"][0]["step"], rec["counts"]["definition"]
    (['counts', 'key', 'name', 'result_tex', 'steps', 'texts', 'title', 'version'], 1, 1)
    """
    steps = [{"derivation": d.name, "step": i, "label": s.label, "status": s.status,
              "is_result": (i - 1) in d.result, "seconds": round(s.seconds, 4),
              "verified": bool(s.verified)} for i, s in enumerate(d.steps, 1)]
    return {"version": STORE_VERSION, "key": _key(d.name), "name": d.name, "title": d.title,
            "counts": d.counts(), "steps": steps, "result_tex": d.result_tex(),
            "texts": {"md": d.to_markdown(), "tex": d.to_latex()}}


def load(name: str) -> dict | None:
    """The stored summary of ``name`` for the current sources, or None (missing or unreadable).

    No formula: a cache look-up. An entry counts only if its key (sources, library versions,
    name) matches and it has every field of :func:`summary`; anything else means "verify again".

    Parameters
    ----------
    name : str
        A derivation name.

    Returns
    -------
    record : dict or None

    Examples
    --------
    >>> import os, tempfile
    >>> from unittest import mock
    >>> from gtv_symbolic.derive import get
    >>> tmp = tempfile.TemporaryDirectory()  # a private store, removed below
    >>> env = mock.patch.dict(os.environ, {"GTV_CACHE_DIR": tmp.name}); _ = env.start()
    >>> load("target-variance") is None
    True
    >>> _ = save(summary(get("target-variance")))
    >>> load("target-variance")["name"]
    'target-variance'
    >>> _ = env.stop(); tmp.cleanup()
    """
    try:
        rec = json.loads(_path(name).read_text(encoding="utf-8"))
        ok = (rec["version"] == STORE_VERSION and rec["key"] == _key(name) and rec["name"] == name
              and isinstance(rec["result_tex"], str) and set(rec["texts"]) == {"md", "tex"}
              and all(set(REPORT_KEYS) <= set(s) for s in rec["steps"])
              and set(rec["counts"]) == set(STATUSES))
        return rec if ok else None
    except Exception:  # noqa: BLE001 -- any unreadable entry means: verify again
        return None


def save(rec: dict) -> Path | None:
    """Store ``rec`` atomically; a read-only cache folder only costs the speed-up.

    No formula: writes ``store_dir() / "NAME-KEY.json"`` through a temporary file and
    :func:`os.replace`, so a reader never sees half a file.

    Parameters
    ----------
    rec : dict
        A :func:`summary` record.

    Returns
    -------
    path : pathlib.Path or None
        The file written, or None if the folder is not writable.

    Examples
    --------
    >>> import os, tempfile
    >>> from unittest import mock
    >>> from gtv_symbolic.derive import get
    >>> tmp = tempfile.TemporaryDirectory()  # a private store, removed below
    >>> env = mock.patch.dict(os.environ, {"GTV_CACHE_DIR": tmp.name}); _ = env.start()
    >>> path = save(summary(get("target-variance")))
    >>> path.parent == store_dir(), path.name.startswith("target-variance-"), path.suffix
    (True, True, '.json')
    >>> _ = env.stop(); tmp.cleanup()
    """
    path = _path(rec["name"])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(rec, f)
        os.replace(tmp, path)
        return path
    except OSError:
        return None


def verified_summary(name: str, *, use_store: bool = True) -> tuple[dict, bool]:
    """``(summary, from_store)``: the stored verification if valid, else verify now and store it.

    No formula: the cached form of ``summary(get(name).verify())``.

    Parameters
    ----------
    name : str
        A registered derivation name.
    use_store : bool, default True
        False verifies again (and stores the new record).

    Returns
    -------
    record : dict
        As :func:`summary`.
    from_store : bool
        Whether the record was read from the store.

    Raises
    ------
    ValueError
        ``name`` is not registered. :class:`~gtv_symbolic.derive.VerificationError` if a
        step fails (then nothing is stored).

    Examples
    --------
    >>> import os, tempfile
    >>> from unittest import mock
    >>> from gtv_symbolic.derive import get
    >>> tmp = tempfile.TemporaryDirectory()  # a private store, removed below
    >>> env = mock.patch.dict(os.environ, {"GTV_CACHE_DIR": tmp.name}); _ = env.start()
    >>> [verified_summary("benign-cases")[1] for _ in range(2)]  # verified, then read back
    [False, True]
    >>> _ = env.stop(); tmp.cleanup()
    """
    from .derive import get

    if use_store:
        rec = load(name)
        if rec is not None:
            return rec, True
    rec = summary(get(name).verify())
    save(rec)
    return rec, False


def _one(name: str, use_store: bool):
    """``(summary, from_store, error message or None, seconds)`` for one derivation."""
    t0 = time.perf_counter()
    try:
        rec, stored = verified_summary(name, use_store=use_store)
        return rec, stored, None, time.perf_counter() - t0
    except VerificationError as exc:
        return None, False, str(exc), time.perf_counter() - t0


def _verify_all(todo, use_store: bool, jobs: int):
    """Results of :func:`_one` in order; stored entries are read here, the rest in ``jobs`` processes."""
    stored = {n: load(n) if use_store else None for n in todo}
    todo_new = [n for n in todo if stored[n] is None]
    if jobs > 1 and len(todo_new) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("fork") if hasattr(os, "fork") else None
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures = {n: pool.submit(_one, n, False) for n in todo_new}
            for n in todo:
                yield (stored[n], True, None, 0.0) if stored[n] is not None else futures[n].result()
        return
    for n in todo:
        yield (stored[n], True, None, 0.0) if stored[n] is not None else _one(n, False)


def _counts_line(counts: dict) -> str:
    from .derive_render import counts_text

    return counts_text(counts)


def add_arguments(parser) -> None:
    """Arguments of ``gtv derive`` (called once by :mod:`gtv_symbolic.cli`).

    No formula: CLI. Adds ``name`` (a derivation or ``all``), ``--list``, ``--format {md,tex}``,
    ``--out`` (default ``derivations``), ``--latex-only``, ``--report PATH``, ``--reverify`` and
    ``--jobs``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Modified in place.

    Returns
    -------
    None

    Examples
    --------
    >>> import argparse
    >>> p = argparse.ArgumentParser()
    >>> add_arguments(p)
    >>> a = p.parse_args(["all", "--format", "md", "--jobs", "2"])
    >>> a.name, a.format, a.jobs, str(a.out), a.reverify
    ('all', 'md', 2, 'derivations', False)
    """
    parser.add_argument("name", nargs="?", help="derivation name, or 'all'")
    parser.add_argument("--list", action="store_true", help="list the derivations")
    parser.add_argument("--format", choices=("md", "tex"), default=None,
                        help="write only this format (default: both)")
    parser.add_argument("--out", type=Path, default=Path("derivations"), help="output folder")
    parser.add_argument("--latex-only", action="store_true",
                        help="print the verified result as LaTeX (from the stored verification "
                             "when the sources are unchanged) and exit")
    parser.add_argument("--report", type=Path, default=None,
                        help="write one JSON record per step (derivation, step, label, status, "
                             "is_result, seconds) to this file")
    parser.add_argument("--reverify", action="store_true",
                        help="verify again even if a stored verification matches the sources")
    parser.add_argument("--jobs", type=int, default=None,
                        help="derivations verified in parallel processes (default: min(2, CPUs))")


def cli(args) -> int:
    """``gtv derive``: list, verify (or reuse the stored verification), write, report.

    No formula: CLI. Without a name (or with ``--list``) it lists the derivations. Otherwise it
    verifies ``name`` (or ``all``, in ``--jobs`` processes) unless a stored verification matches
    the sources, then prints the result as LaTeX (``--latex-only``) or writes ``NAME.md`` /
    ``NAME.tex`` into ``--out`` (and, for ``all``, the index ``README.md``); ``--report``
    writes one JSON record per step.

    Parameters
    ----------
    args : argparse.Namespace
        As parsed with :func:`add_arguments`; missing attributes take their defaults.

    Returns
    -------
    code : int
        0, or 1 if a derivation failed (its error is printed to stderr).

    Raises
    ------
    ValueError
        An unknown ``name`` or ``--jobs < 1``, before any verification.

    Examples
    --------
    >>> import os, tempfile
    >>> from unittest import mock
    >>> from gtv_symbolic.derive import get
    >>> tmp = tempfile.TemporaryDirectory()  # a private store, removed below
    >>> env = mock.patch.dict(os.environ, {"GTV_CACHE_DIR": tmp.name}); _ = env.start()
    >>> import argparse
    >>> cli(argparse.Namespace(name="benign-cases", latex_only=True))  # doctest: +ELLIPSIS
    C(x,t) = ... \\qquad \\left(M = 1\\right)
    ...
    % benign-cases: result verified; 6 steps: 4 symbolic, 2 numeric, ...
    0
    >>> _ = env.stop(); tmp.cleanup()
    """
    from .derivations import REGISTRY
    from .derive_render import write_index, write_texts

    if getattr(args, "list", False) or not getattr(args, "name", None):
        for name, (_, title) in REGISTRY.items():
            print(f"{name:22s} {title}")
        return 0
    todo = list(REGISTRY) if args.name == "all" else [args.name]
    for name in todo:
        if name not in REGISTRY:
            raise ValueError(f"name must be one of {', '.join(REGISTRY)} or 'all', got {name!r}")
    fmt = getattr(args, "format", None)
    formats = ("md", "tex") if fmt is None else (fmt,)
    latex_only = getattr(args, "latex_only", False)
    use_store = not getattr(args, "reverify", False)
    out = getattr(args, "out", None) or Path("derivations")
    report = getattr(args, "report", None)
    jobs = getattr(args, "jobs", None) or min(2, os.cpu_count() or 1)
    if jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {jobs}")
    failed, done, records = 0, [], []
    t_all = time.perf_counter()
    for name, (rec, stored, err, secs) in zip(todo, _verify_all(todo, use_store, jobs), strict=True):
        if err is not None:
            print(f"FAILED {err}", file=sys.stderr)
            failed += 1
            continue
        done.append(rec)
        records += rec["steps"]
        res_ok = all(s["verified"] for s in rec["steps"] if s["is_result"])
        if latex_only:
            if len(todo) > 1:
                print(f"% {name}")
            print(rec["result_tex"])
            print(f"% {name}: result {'verified' if res_ok else 'NOT verified'}; "
                  f"{_counts_line(rec['counts'])}")
            continue
        paths = write_texts(name, rec["texts"], out, formats)
        how = "stored verification" if stored else "verified"
        print(f"ok  {name:20s} {_counts_line(rec['counts'])} ({how}, {secs:.1f} s) -> "
              f"{', '.join(str(p) for p in paths)}")
    if args.name == "all" and not latex_only and not failed:
        print(f"ok  index -> {write_index(done, out)}")
    if report is not None:
        Path(report).write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    if len(todo) > 1 and not latex_only:
        total = dict.fromkeys(STATUSES, 0)
        for rec in done:
            for k in STATUSES:
                total[k] += rec["counts"][k]
        n_res = sum(s["is_result"] for s in records)
        n_res_ok = sum(s["is_result"] and s["verified"] and s["status"] in VERIFIED for s in records)
        n = sum(total.values())
        unv = total["definition"] + total["assumption"]
        print(f"{len(todo) - failed}/{len(todo)} derivations verified in "
              f"{time.perf_counter() - t_all:.1f} s; {_counts_line(total)} "
              f"({100 * unv / max(n, 1):.1f}%); results verified {n_res_ok}/{n_res}")
    return 1 if failed else 0
