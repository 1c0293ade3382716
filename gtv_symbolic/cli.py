"""``gtv`` command line: figures, derivations, the one-command reproduction, the cache.

Usage::

    gtv --version
    gtv figures --list
    gtv figures NAME|all [--out DIR] [--save-data PATH] [--config FILE.toml] [--quick]
                         [--no-cache] [--quiet] [--scheduler ADDRESS] [--workers N]
                         [one flag per setting of the figure: --eps 1e-2 1e-3 --P 256 ...]
    gtv derive --list | NAME | all [--format md|tex] [--out DIR] [--latex-only]
    gtv reproduce [--check] [--only NAME ...] [--out DIR] [--derivations-out DIR] [...]
    gtv cache info | clear [--stale]

Exit codes: 0 done, 1 a check or derivation failed, 2 bad input or an unwritable output
(reported before any computation), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

from ._runtime import flags as fl
from ._runtime.outputs import Staging, check_writable

__all__ = ["build_parser", "main"]

FIGURES_DIR = Path("figures")
DERIVATIONS_DIR = Path("derivations")


def _version() -> str:
    from . import __version__

    return f"gtv {__version__} ({Path(__file__).resolve().parent})"


def _workers(text):
    from ._runtime.parallel import check_workers

    try:
        return check_workers(text, "--workers")
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_common(p: argparse.ArgumentParser, *, many: bool) -> None:
    g = p.add_argument_group("run options")
    g.add_argument("--out", type=Path, default=None,
                   help="output folder (default: figures/, or figures/quick/ with --quick, "
                        "figures/custom/ with non-default settings)")
    if many is not None:
        g.add_argument("--save-data", type=Path, default=None,
                       help="write the arrays behind the figure to this .npz (+ .json sidecar); "
                            "a folder (one NAME.npz per figure) with 'all'" if many else
                            "write the arrays behind the figure to this .npz (+ .json sidecar)")
    g.add_argument("--config", type=Path, default=None,
                   help="TOML file of settings: top-level keys and [NAME] tables")
    g.add_argument("--quick", action="store_true", help="reduced sizes for a fast look")
    g.add_argument("--no-cache", action="store_true", help="recompute, ignore the disk cache")
    g.add_argument("--quiet", action="store_true", help="no progress output")
    g.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run tasks on this Dask scheduler (default: $GTV_DASK_SCHEDULER, "
                        "else local processes)")
    g.add_argument("--workers", type=_workers, default=None,
                   help="local worker processes, 1..256 (default: $GTV_WORKERS or min(2, CPUs))")


def _add_derive(sub) -> argparse.ArgumentParser:
    from . import derive

    pd = sub.add_parser("derive", help="verify and render the step-by-step derivations")
    derive.add_arguments(pd)  # the derive options belong to gtv_symbolic.derive
    return pd


def build_parser(with_figures: bool = True) -> argparse.ArgumentParser:
    """The ``gtv`` parser; ``with_figures=False`` skips importing the figure registry.

    No formula: CLI. Subcommands ``figures`` (one subparser per figure, with one flag per
    setting of its ``Settings``), ``derive``, ``reproduce`` and ``cache``.

    Parameters
    ----------
    with_figures : bool, default True
        Add the figure subcommands (importing every figure module); False is faster and
        enough for ``derive`` and ``cache``.

    Returns
    -------
    parser : argparse.ArgumentParser

    Examples
    --------
    >>> p = build_parser(with_figures=False)
    >>> a = p.parse_args(["derive", "tweedie", "--latex-only"])
    >>> a.command, a.name, a.latex_only
    ('derive', 'tweedie', True)
    >>> p.parse_args(["cache", "clear", "--stale"]).stale
    True
    """
    parser = argparse.ArgumentParser(prog="gtv", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)
    tg = _targets() if with_figures else {}

    pf = sub.add_parser("figures", help="compute and render figures (PNG + PDF, tables)")
    pf.add_argument("--list", action="store_true", help="list the figures")
    fsub = pf.add_subparsers(dest="name", metavar="NAME", required=False)
    for name, t in tg.items():
        p = fsub.add_parser(name, help=t.doc, description=t.doc)
        _add_common(p, many=False)
        fl.add_settings_flags(p, t.settings_cls)
    if tg:
        p = fsub.add_parser("all", help="every figure (each takes the options it has)")
        _add_common(p, many=True)
        _add_union_flags(p, tg)

    _add_derive(sub)

    pr = sub.add_parser("reproduce", help="all derivations, then all figures (written when "
                                          "everything is done)")
    pr.add_argument("--derivations-out", type=Path, default=DERIVATIONS_DIR)
    pr.add_argument("--check", action="store_true",
                    help="regenerate into a temporary folder and compare every committed number "
                         "with its stated tolerance; exit 1 on a mismatch")
    pr.add_argument("--only", nargs="+", default=None, metavar="NAME",
                    help="only these figures (and 'derivations')")
    _add_common(pr, many=None)
    if tg:
        _add_union_flags(pr, tg)

    pc = sub.add_parser("cache", help="inspect or empty the disk cache ($GTV_CACHE_DIR)")
    pc.add_argument("action", choices=("info", "clear"))
    pc.add_argument("--stale", action="store_true",
                    help="clear: only entries written by another code version")
    return parser


def _add_union_flags(p, tg):
    by: dict[str, list] = {}
    for t in tg.values():
        for sp in fl.field_specs(t.settings_cls):
            by.setdefault(sp.name, []).append((t.name, sp))
    g = p.add_argument_group("settings (each figure takes those it has)")
    for name, items in by.items():
        sps = [sp for _, sp in items]
        kw = dict(dest=fl._DEST + name, default=argparse.SUPPRESS,
                  help=f"{sps[0].help} [{', '.join(n for n, _ in items)}]".replace("%", "%%"))
        if all(sp.kind == "bool" for sp in sps):
            kw["action"] = argparse.BooleanOptionalAction
        elif any(sp.kind == "tuple" for sp in sps):
            kw["nargs"] = "+"
        g.add_argument(fl.flag_name(name), **kw)


def _targets():
    from ._runtime.targets import targets

    return targets()


# ------------------------------------------------------------------------------------------
# figures
# ------------------------------------------------------------------------------------------


def _plan(names, args, tg, *, raw):
    """[(target, settings)] for a run, all built and validated before any work."""
    from ._runtime.targets import build_settings, config_keys

    config = fl.load_toml(args.config) if args.config is not None else None
    overrides = fl.overrides_from_args(args)
    if config:
        known = {sp.name for n in names for sp in fl.field_specs(tg[n].settings_cls)}
        stray = sorted(config_keys(config) - known)
        if stray:
            raise ValueError(f"--config: no figure here takes {', '.join(stray)}")
        bad = sorted(k for k, v in config.items() if isinstance(v, dict) and k not in tg)
        if bad:
            raise ValueError(f"--config: unknown figure table(s) {', '.join(bad)}; figures: "
                             f"{', '.join(tg)}")
    plan = []
    for n in names:
        try:
            plan.append((tg[n], build_settings(tg[n], quick=args.quick, config=config,
                                               overrides=overrides, raw=raw)))
        except (ValueError, TypeError) as exc:  # name the figure whose setting is bad
            raise ValueError(f"gtv figures {n}: {exc}") from None
    return plan


def _check_outputs(folders=(), files=(), cache=True):
    from ._runtime.parallel import default_workers

    default_workers()  # a bad $GTV_WORKERS fails here, before any work
    for what, p in folders:
        check_writable(p, what)
    for what, p in files:
        check_writable(p, what, is_file=True)
    if cache and os.environ.get("GTV_CACHE_DIR"):
        check_writable(os.environ["GTV_CACHE_DIR"], "cache folder $GTV_CACHE_DIR")


def _check_scheduler(addr):
    """Fail early (exit 2) when a Dask scheduler was asked for but cannot be reached."""
    from ._runtime import parallel

    addr = parallel.resolve_scheduler(addr)
    if addr is None:
        return None
    try:
        from distributed import Client
    except ImportError:
        raise ValueError("--scheduler needs 'distributed': pip install 'gtv_symbolic[dask]'") from None
    try:
        Client(addr, timeout=parallel.CONNECT_TIMEOUT, set_as_default=False).close()
    except (OSError, TimeoutError) as exc:
        raise ValueError(f"cannot reach the Dask scheduler {addr!r}: {exc}") from None
    return addr


def _run_plan(plan, args, stage_out, save_for):
    """Run every (target, settings) into the staged folder."""
    for t, s in plan:
        _run_one(t, s, args, stage_out, save_for)


def _run_one(t, s, args, stage_out, save_for):
    from . import __version__
    from ._runtime.cache import Cache
    from ._runtime.progress import Progress

    prog = Progress(t.name, enabled=False if args.quiet else None)
    t0 = time.perf_counter()
    cache = Cache(enabled=not args.no_cache)
    save = save_for(t.name)
    t.run(s, stage_out, save_data=save, progress=prog, cache=cache,
          scheduler=args.scheduler, workers=args.workers, quick=args.quick)
    header = (f"settings of `gtv figures {t.name}` (gtv_symbolic {__version__}"
              f"{', --quick' if args.quick else ''}); rerun with --config THIS_FILE")
    text = fl.dumps_toml({t.name: fl.settings_to_dict(s)}, header=header)
    (stage_out / f"{t.name}.settings.toml").write_text(text)
    prog.log(f"done in {time.perf_counter() - t0:.1f} s")


def _cmd_figures(args, tg) -> int:
    from ._runtime.targets import default_out, is_default

    if args.list or not args.name:
        for t in tg.values():
            print(f"{t.name:22s} {t.doc}")
        return 0
    names = list(tg) if args.name == "all" else [args.name]
    plan = _plan(names, args, tg, raw=args.name == "all")
    default = all(is_default(t, s, args.quick) for t, s in plan)
    out = args.out if args.out is not None else default_out(FIGURES_DIR, args.quick, default)
    if args.name == "all":
        folder = args.save_data
        files = [] if folder is None else [("--save-data", folder / f"{n}.npz") for n in names]
    else:
        files = [] if args.save_data is None else [("--save-data", args.save_data)]
    _check_outputs([("--out", out)], files, cache=not args.no_cache)
    _check_scheduler(args.scheduler)
    with Staging() as st:
        stage = st.folder(out)
        staged = {n: st.file(p) for n, (_, p) in zip(names, files, strict=False)}
        _run_plan(plan, args, stage, staged.get)
    if not args.quiet:
        print(f"gtv: wrote {', '.join(names)} into {out}", file=sys.stderr)
    return 0


# ------------------------------------------------------------------------------------------
# derive, reproduce, cache
# ------------------------------------------------------------------------------------------


def _cmd_derive(args) -> int:
    from . import derive

    if args.list or not args.name or args.latex_only:
        return derive.cli(args)
    report = getattr(args, "report", None)
    _check_outputs([("--out", args.out)], [("--report", report)] if report else [])
    with Staging() as st:
        final = args.out
        args.out = st.folder(final)
        code = derive.cli(args)
        if code != 0:
            raise _Failed(code)
    return 0


class _Failed(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def _cmd_reproduce(args, tg) -> int:
    from . import derive
    from ._runtime.targets import default_out, is_default

    only = args.only or ["derivations", *tg]
    unknown = sorted(set(only) - {"derivations", *tg})
    if unknown:
        raise ValueError(f"--only: unknown name(s) {', '.join(unknown)}; choose from "
                         f"derivations, {', '.join(tg)}")
    names = [n for n in tg if n in only]
    plan = _plan(names, args, tg, raw=True)
    default = all(is_default(t, s, args.quick) for t, s in plan)
    fig_out = args.out if args.out is not None else default_out(FIGURES_DIR, args.quick, default)
    der_out = args.derivations_out
    if args.check:
        return _reproduce_check(args, plan, fig_out, der_out, "derivations" in only,
                                require_all=args.only is None)
    _check_outputs([("--out", fig_out), ("--derivations-out", der_out)], cache=not args.no_cache)
    _check_scheduler(args.scheduler)
    with Staging() as st:
        if "derivations" in only:
            dargs = argparse.Namespace(name="all", list=False, format=None,
                                       out=st.folder(der_out), latex_only=False)
            code = derive.cli(dargs)
            if code != 0:
                raise _Failed(code)
        if plan:
            _run_plan(plan, args, st.folder(fig_out), lambda n: None)
    return 0


def _reproduce_check(args, plan, fig_ref, der_ref, with_derivations, *, require_all) -> int:
    from . import derive
    from ._runtime.check import compare_trees

    tmp = Path(tempfile.mkdtemp(prefix="gtv-check-"))
    try:
        pairs = []
        if with_derivations:
            dargs = argparse.Namespace(name="all", list=False, format=None, out=tmp / "derivations",
                                       latex_only=False)
            if derive.cli(dargs) != 0:
                return 1
            pairs.append((der_ref, tmp / "derivations"))
        if plan:
            (tmp / "figures").mkdir()
            _run_plan(plan, args, tmp / "figures", lambda n: None)
            pairs.append((fig_ref, tmp / "figures"))
        report = compare_trees(pairs, require_all=require_all)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    bad = {f: d for f, d in report.items() if d}
    for f, diffs in report.items():
        print(f"{'MISMATCH' if diffs else 'ok      '} {f}")
        for d in diffs:
            print(f"    {d}")
    if not report:
        print("no committed outputs to compare (tables *_table.md, documents, *.npz)")
    else:
        print(f"{len(report) - len(bad)}/{len(report)} committed outputs match within tolerance")
    return 1 if bad or not report else 0


def _cmd_cache(args) -> int:
    from ._runtime.cache import Cache

    c = Cache()
    if args.action == "clear":
        n = c.clear(stale_only=args.stale)
        print(f"removed {n} file(s) from {c.folder}")
        return 0
    i = c.info()
    print(f"folder   {i['folder']} ({'exists' if i['exists'] else 'missing'}, "
          f"{'writable' if i['writable'] else 'not writable'})")
    print(f"entries  {i['entries']} ({i['bytes'] / 1e6:.1f} MB): {i['current']} current, "
          f"{i['stale']} from other code versions, {i['partial']} leftover temporary files")
    for name, n in sorted(i["by_name"].items()):
        print(f"  {name:24s} {n}")
    print(f"code     gtv_symbolic {i['version']}, source hash {i['code']}")
    return 0


def _unknown_options(parser, args, extra, tg):
    """A flag the chosen figure does not have: say which flags it takes (exit 2)."""
    flag = next((a.split("=")[0] for a in extra if a.startswith("-")), extra[0])
    if args.command == "figures" and getattr(args, "name", None) in tg:
        t = tg[args.name]
        takes = ", ".join(sp.flag for sp in fl.field_specs(t.settings_cls)) or "none"
        raise ValueError(f"gtv figures {t.name}: option {flag} is not used by this figure "
                         f"(its settings: {takes})")
    parser.error(f"unrecognized arguments: {' '.join(extra)}")


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"gtv: warning: {message}", file=sys.stderr if file is None else file)


def main(argv=None) -> int:
    """Run ``gtv`` with ``argv`` (default ``sys.argv[1:]``); return the exit code.

    No formula: the ``gtv`` entry point. Bad input is reported on stderr as one line
    (``gtv: error: ...``), without a traceback and before any computation.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``gtv``.

    Returns
    -------
    code : int
        0 done, 1 a check or derivation failed, 2 bad input or an unwritable output,
        130 interrupted.

    Examples
    --------
    >>> main(["derive", "--list"])  # doctest: +ELLIPSIS
    forward-process        Forward process: Gaussian conditional ...
    target-variance        Targets averaged over $M$ posterior draws: ...
    0
    >>> main(["derive", "no-such-derivation"])  # the message goes to stderr
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning  # one line per warning, no source excerpt
        return _main(argv)


def _main(argv) -> int:
    try:
        cmd = next((a for a in argv if not a.startswith("-")), None)
        needs_figures = cmd in ("figures", "reproduce")
        if needs_figures:  # the CLI only writes files; the library leaves a notebook's backend alone
            import matplotlib

            matplotlib.use("Agg")
        argv = fl.join_dash_values(argv, {"--data", "--seed"})
        parser = build_parser(with_figures=needs_figures)
        tg = _targets() if needs_figures else None
        if cmd == "figures":
            rest = argv[argv.index("figures") + 1:]
            name = next((a for a in rest if not a.startswith("-")), None)
            if name is not None and name not in tg and name != "all":
                raise ValueError(f"gtv figures: unknown figure {name!r}; choose from "
                                 f"{', '.join(tg)} or 'all'")
        args, extra = parser.parse_known_args(argv)
        if extra:
            _unknown_options(parser, args, extra, tg)
        if args.command == "figures":
            return _cmd_figures(args, tg)
        if args.command == "derive":
            return _cmd_derive(args)
        if args.command == "reproduce":
            return _cmd_reproduce(args, tg)
        return _cmd_cache(args)
    except KeyboardInterrupt:
        print("gtv: interrupted", file=sys.stderr)
        return 130
    except _Failed as exc:
        return exc.code
    except SystemExit as exc:  # argparse: --help, --version, a bad flag (exit 2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except (ValueError, ConnectionError) as exc:  # bad input: a message, no traceback
        print(f"gtv: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
