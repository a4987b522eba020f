"""The ``mobseg`` command line: one sub-command per module in this package.

Every command prints only its own output (TensorFlow's start-up notices are filtered, see
:mod:`mobseg.cli.quiet`) and ends an error a user can cause with one line,
``mobseg <command>: error: <sentence>``, and exit code 2 (see :mod:`mobseg.cli.errors`). ``--debug``
(or ``MOBSEG_DEBUG=1``) shows the traceback as well; ``--verbose`` keeps TensorFlow's start-up lines.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from mobseg._version import __version__
from mobseg.cli import benchmark, demo, evaluate, export, models, predict, summary, train, verify
from mobseg.cli.errors import describe_error
from mobseg.cli.quiet import load_tensorflow_quietly

#: Sub-command modules; each has ``add_parser(subparsers)`` and ``run(args) -> int``.
COMMANDS = (summary, models, export, evaluate, predict, benchmark, train, verify, demo)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mobseg`` command.

    Example:
        >>> build_parser().parse_args(["summary", "--n-classes", "2"]).n_classes
        2
    """
    parser = argparse.ArgumentParser(prog="mobseg", description="Keras 3 semantic segmentation model zoo.")
    parser.add_argument("--version", action="version", version=f"mobseg {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    parser.add_argument("--verbose", action="store_true", help="keep TensorFlow's start-up messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mobseg`` command; returns the exit code (0 ok, 2 a user error, 1 a bug, 130 interrupted).

    Example:
        >>> main(["summary", "--n-classes", "2", "--height", "64", "--width", "64"])  # doctest: +SKIP
        0
    """
    args = build_parser().parse_args(argv)
    debug = args.debug or _flag("MOBSEG_DEBUG")
    if getattr(args, "needs_framework", lambda _: True)(args):
        load_tensorflow_quietly(verbose=args.verbose or debug)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print(f"\nmobseg {args.command}: interrupted (run the same command again to resume a training run).")
        return 130
    except Exception as err:  # every error ends in one line; --debug adds the traceback
        if debug:
            traceback.print_exc()
        message, code = describe_error(err)
        sys.stdout.flush()
        print(f"mobseg {args.command}: error: {message}", file=sys.stderr)
        return code


def entry_point() -> None:
    """The ``mobseg`` console script: run :func:`main` and leave with its exit code.

    After an error the process ends at once (``os._exit`` after flushing output): worker threads of a
    half-consumed input pipeline must not keep it alive at interpreter shutdown.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    if code != 0:
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry_point()
