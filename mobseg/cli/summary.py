"""``mobseg summary``: print a model's layer table, its cost per image and its parameter totals."""

from __future__ import annotations

import argparse
import math

from mobseg.cli.args import add_model_arguments, model_kwargs


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mobseg summary``."""
    parser = subparsers.add_parser(
        "summary",
        help="print a model's summary and parameter totals",
        description="Build a model and print its Keras summary, ending with the three parameter totals.",
    )
    add_model_arguments(parser)
    parser.set_defaults(run=run)


def parameter_totals(model) -> dict[str, int]:
    """Total, trainable and non-trainable parameter counts.

    Example:
        >>> import mobseg
        >>> parameter_totals(mobseg.mobilenet_segnet(2, input_height=416, input_width=416))["total"]
        5541378
    """
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    non_trainable = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    return {"total": trainable + non_trainable, "trainable": trainable, "non_trainable": non_trainable}


def run(args: argparse.Namespace) -> int:
    """Build the model described by ``args`` and print its summary."""
    from mobseg.complexity import flops
    from mobseg.zoo import build_model

    model = build_model(args.model, args.n_classes, **model_kwargs(args))
    model.summary(line_length=100)
    cost = flops(model)
    print(f"Multiply-adds per image: {cost.macs / 1e9:.2f} G ({cost.gflops:.2f} GFLOP)")
    totals = parameter_totals(model)
    print(f"Total params: {totals['total']:,}")
    print(f"Trainable params: {totals['trainable']:,}")
    print(f"Non-trainable params: {totals['non_trainable']:,}")
    return 0
