"""``mobseg demo``: the main job with no data at hand -- synthetic shapes, a short training, the mean IoU."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from mobseg.cli.args import add_training_arguments, next_run_dir, parse_model_args, parse_size, training_options

#: The demo's defaults: small enough for a few minutes on 2 CPU cores.
DEMO_INPUT_SIZE = (64, 64)
DEMO_EPOCHS = 8
DEMO_MODEL_ARGS = {"encoder_level": 2}
DEMO_DATA_DIR = "runs/shapes-data"  # MobileNet-SegNet at full output resolution: learns shapes fast
#: No class weights: on the demo's shapes, balanced_sqrt (mobseg.train's default) scored 0.820 mean IoU against
#: 0.831 without (one run each, within the demo's run-to-run spread; README "Fine-tune on your own masks").
DEMO_CLASS_WEIGHTS = None
#: A constant learning rate: on the demo's shapes the cosine schedule (mobseg.train's default) scored 0.824 mean IoU
#: against 0.837 (one run each, `mobseg demo` and `mobseg demo --lr-schedule constant`), no help there.
DEMO_LR_SCHEDULE = "constant"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mobseg demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="generate sample data, fine-tune mobilenet_segnet on it and print the mean IoU (a few minutes)",
        description="Write synthetic scenes (circles, rectangles, triangles on textured backgrounds) with exact "
        "masks, train mobilenet_segnet on them with the full pipeline, and print per-class and mean IoU on the "
        "validation scenes. Same run folder layout as `mobseg train`.",
    )
    parser.add_argument("--data-dir", default=DEMO_DATA_DIR, help="where the sample data is written")
    parser.add_argument("--n-train", type=int, default=240, help="training scenes")
    parser.add_argument("--n-val", type=int, default=48, help="validation scenes")
    parser.add_argument("--image-size", type=parse_size, default=(96, 96), help="scene size (resized to input)")
    add_training_arguments(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo with the command-line options."""
    return run_demo(
        data_dir=args.data_dir,
        n_train=args.n_train,
        n_val=args.n_val,
        image_size=args.image_size,
        model=args.model,
        model_args=parse_model_args(args.model_arg),
        input_size=args.input_size,
        out=args.out,
        **training_options(args),
    )


def run_demo(
    *,
    data_dir: str | Path = DEMO_DATA_DIR,
    n_train: int = 240,
    n_val: int = 48,
    image_size: tuple[int, int] = (96, 96),
    model: str = "mobilenet_segnet",
    model_args: dict[str, Any] | None = None,
    input_size: tuple[int, int] | None = None,
    out: str | Path | None = None,
    epochs: int | None = None,
    batchnorm_momentum: float | None = None,
    **train_options: Any,
) -> int:
    """Generate the shapes data, train, evaluate and print the mean IoU (also ``mobseg train`` without data).

    ``train_options`` go to :func:`mobseg.train` (batch_size, learning_rate, class_weights, seed, ...); unlike
    ``mobseg.train``, the demo uses no class weights and a constant rate unless ``class_weights`` or ``lr_schedule``
    is given (:data:`DEMO_CLASS_WEIGHTS`, :data:`DEMO_LR_SCHEDULE`).

    Example:
        >>> run_demo(epochs=1, out="runs/demo-quick")  # doctest: +SKIP
        0
    """
    from mobseg.data import list_pairs, model_dataset
    from mobseg.datasets import make_shapes
    from mobseg.metrics import format_report
    from mobseg.training import evaluate_dataset, train
    from mobseg.zoo import build_model

    started = time.time()
    data = make_shapes(data_dir, n_train=n_train, n_val=n_val, size=image_size)
    print(f"sample data: {data.root} ({data.n_classes} classes: {', '.join(data.class_names)})")
    kwargs = dict(DEMO_MODEL_ARGS) if model == "mobilenet_segnet" else {}
    kwargs.update(model_args or {})
    kwargs["input_height"], kwargs["input_width"] = input_size or DEMO_INPUT_SIZE
    network = build_model(model, data.n_classes, **kwargs)
    run_result = train(
        data.train_images,
        data.train_masks,
        val_images=data.val_images,
        val_masks=data.val_masks,
        model=network,
        class_names=data.class_names,
        epochs=epochs or DEMO_EPOCHS,
        out=Path(out) if out else next_run_dir("runs/demo"),
        batchnorm_momentum=0.9 if batchnorm_momentum is None else batchnorm_momentum,
        **{"cache": True, "class_weights": DEMO_CLASS_WEIGHTS, "lr_schedule": DEMO_LR_SCHEDULE, **train_options},
    )
    val_pairs = list_pairs(data.val_images, data.val_masks)
    val = model_dataset(run_result.model, val_pairs, batch_size=16)
    report = evaluate_dataset(run_result.model, val, class_names=list(data.class_names))
    print()
    print(format_report(report))
    background = report["classes"][0]["gt_pixels"] / max(report["n_pixels"], 1)
    print()
    print(f"run folder: {run_result.run_dir}  (model.keras, training.json, history.csv, curves.png)")
    print(f"time: {time.time() - started:.0f} s")
    print(
        f"mean IoU on the {len(val_pairs)} validation scenes: "
        f"{report['mean_iou']:.3f} (guessing 'background' everywhere scores {background / data.n_classes:.3f})"
    )
    return 0
