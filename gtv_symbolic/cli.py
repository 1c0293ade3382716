"""``gtv`` command line: figures, derivations, and the one-command reproduction.

    gtv figures NAME|all [--out DIR] [--save-data PATH] [--seed N] [--n-models N]
                         [--n-samples N] [--quick] [--no-cache] [--quiet]
    gtv derive --list | NAME | all [--format md|tex] [--out DIR] [--latex-only]
    gtv reproduce [--out DIR] [--derivations-out DIR] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .plots import COMMON_OPTIONS, figures
from .progress import Progress


def _positive_int(name):
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if v < 1:
            raise argparse.ArgumentTypeError(f"{name} must be >= 1, got {v}")
        return v

    return parse


def _add_figure_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("figures"), help="output folder (default: figures)")
    p.add_argument("--seed", type=int, default=None, help="seed of the numpy Generator")
    p.add_argument("--n-models", type=_positive_int("--n-models"), default=None,
                   help="models per ensemble")
    p.add_argument("--n-samples", type=_positive_int("--n-samples"), default=None,
                   help="samples per model")
    p.add_argument("--quick", action="store_true", default=None, help="reduced sizes for a fast look")
    p.add_argument("--no-cache", action="store_true", default=None, help="recompute, ignore the disk cache")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gtv", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    pf = sub.add_parser("figures", help="render figures (PNG + PDF) from the derived formulas")
    pf.add_argument("name", help="figure name, or 'all' (see 'gtv figures --list')", nargs="?")
    pf.add_argument("--list", action="store_true", help="list the figures")
    pf.add_argument("--save-data", type=Path, default=None,
                    help="write the arrays behind the figure to this .npz (a folder with 'all')")
    _add_figure_options(pf)

    pd = sub.add_parser("derive", help="verify and render the step-by-step derivations")
    from . import derive

    derive.add_arguments(pd)

    pr = sub.add_parser("reproduce", help="all derivations, then all figures")
    pr.add_argument("--derivations-out", type=Path, default=Path("derivations"))
    _add_figure_options(pr)
    return parser


def _figure_opts(args, spec) -> dict:
    opts = {}
    for key in COMMON_OPTIONS:
        val = getattr(args, key, None)
        if val is None:
            continue
        if key not in spec.options:
            flag = "--" + key.replace("_", "-")
            takes = ", ".join("--" + o.replace("_", "-") for o in sorted(spec.options)) or "none"
            raise SystemExit(f"gtv figures {spec.name}: option {flag} is not used by this figure "
                             f"(it takes: {takes})")
        opts[key] = val
    return opts


def run_figures(names, args, save_data=None) -> int:
    registry = figures()
    for name in names:
        spec = registry[name]
        opts = _figure_opts(args, spec)
        prog = Progress(name, enabled=not args.quiet)
        t0 = time.perf_counter()
        paths = spec.func(args.out, save_data=save_data(name) if callable(save_data) else save_data,
                          progress=prog, **opts)
        prog.log(f"wrote {', '.join(str(p) for p in paths)} in {time.perf_counter() - t0:.1f} s")
    return 0


def _cmd_figures(args) -> int:
    registry = figures()
    if args.list or not args.name:
        for spec in registry.values():
            print(f"{spec.name:22s} {spec.doc}")
        return 0
    if args.name == "all":
        # --save-data names a folder for 'all': one NAME.npz per figure
        folder = args.save_data
        save = (lambda n: folder / f"{n}.npz") if folder is not None else None
        return run_figures(list(registry), args, save)
    if args.name not in registry:
        raise SystemExit(f"gtv figures: unknown figure {args.name!r}; choose from "
                         f"{', '.join(registry)} or 'all'")
    return run_figures([args.name], args, args.save_data)


def _cmd_derive(args) -> int:
    from . import derive

    return derive.cli(args)


def _cmd_reproduce(args) -> int:
    from . import derive

    dargs = argparse.Namespace(name="all", list=False, format=None, out=args.derivations_out,
                               latex_only=False)
    code = derive.cli(dargs)
    if code != 0:
        return code
    registry = figures()
    # reproduce passes only the options each figure understands
    for name, spec in registry.items():
        sub = argparse.Namespace(**{k: (getattr(args, k) if k in spec.options else None)
                                    for k in COMMON_OPTIONS}, out=args.out, quiet=args.quiet)
        run_figures([name], sub)
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    handler = {"figures": _cmd_figures, "derive": _cmd_derive, "reproduce": _cmd_reproduce}
    try:
        return handler[args.command](args)
    except ValueError as exc:  # bad input: a clear message, no traceback
        print(f"gtv: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
