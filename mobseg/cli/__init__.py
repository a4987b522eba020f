"""The ``mobseg`` command line: one sub-command per module in this package."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mobseg.cli import benchmark, demo, evaluate, export, predict, summary, train, verify

#: Sub-command modules; each has ``add_parser(subparsers)`` and ``run(args) -> int``.
COMMANDS = (summary, export, evaluate, predict, benchmark, train, verify, demo)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``mobseg`` command.

    Example:
        >>> build_parser().parse_args(["summary", "--n-classes", "2"]).n_classes
        2
    """
    parser = argparse.ArgumentParser(prog="mobseg", description="Keras 3 semantic segmentation model zoo.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mobseg`` command; returns the exit code.

    Bad input (``ValueError``, ``FileNotFoundError``, ``RuntimeError`` from the library) is reported in
    one line, exit code 2.

    Example:
        >>> main(["summary", "--n-classes", "2", "--height", "64", "--width", "64"])  # doctest: +SKIP
    """
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"mobseg {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
