"""``mobseg models``: the registered models with their encoder, decoder, parameters and default size."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mobseg models``."""
    parser = subparsers.add_parser(
        "models",
        help="list the registered models (parameters, default input size)",
        description="List every registered model: encoder, decoder, default input size and its parameter count "
        "at that size (built without weights). A shell-style pattern filters the names.",
    )
    parser.add_argument("pattern", nargs="?", default=None, help="e.g. '*unet' or 'mobilenet_*'")
    parser.add_argument("--n-classes", type=int, default=2, help="classes for the parameter count (default 2)")
    parser.add_argument("--names-only", action="store_true", help="print the names only (no model is built)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the table of models."""
    from mobseg.zoo import build_model, get_model_info, list_models

    names = list_models(args.pattern)
    if not names:
        raise ValueError(f"no registered model matches {args.pattern!r}; run `mobseg models` for the list.")
    if args.names_only:
        print("\n".join(names))
        return 0
    infos = [get_model_info(name) for name in names]
    wide = [max(len(text) for text in [title, *column]) for title, column in (
        ("model", names), ("encoder", [i.encoder for i in infos]), ("decoder", [i.decoder for i in infos])
    )]  # fmt: skip
    print(f"{'model':<{wide[0]}} {'encoder':<{wide[1]}} {'decoder':<{wide[2]}} {'default size':>12} {'parameters':>13}")
    for info in infos:
        height, width = info.default_size
        model = build_model(info.name, args.n_classes)
        size = f"{height}x{width}"
        print(
            f"{info.name:<{wide[0]}} {info.encoder:<{wide[1]}} {info.decoder:<{wide[2]}} {size:>12} "
            f"{model.count_params():>13,}"
        )
        del model
    return 0
