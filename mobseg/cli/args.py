"""Command-line options shared by several sub-commands."""

from __future__ import annotations

import argparse


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that choose and configure a model from the zoo.

    Example:
        >>> p = argparse.ArgumentParser(); add_model_arguments(p)
        >>> p.parse_args(["--activation", "gelu"]).activation
        'gelu'
    """
    parser.add_argument("--model", default="mobilenet_segnet", help="registry name (see mobseg.list_models())")
    parser.add_argument("--n-classes", type=int, default=2, help="number of classes (default 2)")
    parser.add_argument("--height", type=int, default=None, help="input height (default: the model's)")
    parser.add_argument("--width", type=int, default=None, help="input width (default: the model's)")
    parser.add_argument("--activation", default=None, help="encoder activation name, e.g. relu6, gelu, mish")
    parser.add_argument("--decoder-activation", default=None, help="activation between decoder convolutions")
    parser.add_argument("--encoder-level", type=int, default=None, help="pyramid level fed to the decoder (0..4)")
    parser.add_argument("--channels", type=int, default=None, help="input channels (1 grayscale, 3 RGB, ...)")
    parser.add_argument("--alpha", type=float, default=None, help="MobileNet width multiplier")
    parser.add_argument("--head", choices=("flat", "spatial"), default=None, help="output layout")


def model_kwargs(args: argparse.Namespace) -> dict:
    """The factory keyword arguments given on the command line (unset options are left out).

    Example:
        >>> model_kwargs(argparse.Namespace(height=416, width=None, activation=None))
        {'input_height': 416}
    """
    names = {
        "height": "input_height",
        "width": "input_width",
        "activation": "activation",
        "decoder_activation": "decoder_activation",
        "encoder_level": "encoder_level",
        "channels": "channels",
        "alpha": "alpha",
        "head": "head",
    }
    return {key: getattr(args, attr) for attr, key in names.items() if getattr(args, attr, None) is not None}
