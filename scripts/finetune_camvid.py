"""Fine-tune a zoo model on CamVid (11 classes, class 11 "Unlabelled" ignored) and report val IoU.

Usage:
    python scripts/finetune_camvid.py --data ../shared/data/camvid [--model mobilenet_segnet]
        [--weights FILE.h5] [--epochs 2] [--freeze-encoder-epochs N] [--input-size 176x240]
        [--decoder-activation relu|none] [--activation relu6] [--encoder-level 3] [--output-stride 16] [--seed 0]
        [--fine-tune-learning-rate 1e-4] [--lr-schedule constant|cosine] [--batchnorm-momentum 0.9]
        [--out runs/camvid] [--json results/camvid/run.json]
    python scripts/finetune_camvid.py --table results/camvid/*.json    # markdown tables from result files

``--model`` is any registry name (``mobseg.list_models()``), e.g. the modern decoders on the MobileNet v1
encoder: ``mobilenet_deeplabv3plus``, ``mobilenet_lraspp``, ``mobilenet_fpn``, ``mobilenet_linknet``.
``--weights`` loads a Keras applications legacy-HDF5 file (``mobilenet_1_0_224_tf_no_top.h5``,
``vgg16_..._notop.h5``, ``resnet50_..._notop.h5``) or ``imagenet`` into the encoder by layer name
(``mobseg.pretrained.load_encoder_weights``); the encoder is then frozen for ``--freeze-encoder-epochs`` epochs
(default 1 with weights, else 0). Without it the model trains from scratch.

Evaluation: the final model (last epoch, not the checkpoint chosen on val) is scored by ``mobseg.evaluate`` on
the val images at their original 240x180 resolution: class scores are resized bilinearly from the model's output
to 180x240, argmaxed there and compared with the original masks; pixels labelled 11 are not counted. Mean IoU is
the mean over the 11 classes 0..10; a class absent from both the ground truth and the prediction would be left out
of the mean (``mean_iou``) -- the result file says which (``absent_classes``; none on CamVid val) and also
carries ``mean_iou_absent_as_zero``, the mean over all 11 with absent classes counted as 0.

``--json OUT`` writes (atomically) the command line, settings, per-class IoU, mean IoU, pixel accuracy, wall
time, epochs and the machine.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import platform
import shlex
import sys
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CAMVID_CLASSES = [
    "Sky",
    "Building",
    "Pole",
    "Road",
    "Pavement",
    "Tree",
    "SignSymbol",
    "Fence",
    "Car",
    "Pedestrian",
    "Bicyclist",
]
#: Median-frequency weights of the SegNet tutorial (full resolution), for comparison.
SEGNET_TUTORIAL_WEIGHTS = [0.2595, 0.1826, 4.5640, 0.1417, 0.9051, 0.3826, 9.6446, 1.8418, 0.6823, 6.2478, 7.3614]
#: SegNet-Basic (class-weighted) on the CamVid test set, full 360x480, from scratch (SegNet paper, Table 1).
SEGNET_BASIC_MIOU = 47.7


def cosine_schedule(epochs: int, freeze_epochs: int, learning_rate: float, fine_tune_learning_rate: float) -> Any:
    """Per-epoch learning rate: constant ``learning_rate`` while frozen, then cosine decay to 0 of the fine-tune rate.

    Epoch numbers run on across the two phases of ``mobseg.train``, so one function serves both as a
    ``keras.callbacks.LearningRateScheduler``.

    Example:
        >>> f = cosine_schedule(10, 2, 1e-3, 1e-4)
        >>> f(0, None), f(2, None), round(f(6, None), 7)
        (0.001, 0.0001, 5e-05)
    """

    def schedule(epoch: int, lr: float | None = None) -> float:
        if epoch < freeze_epochs:
            return float(learning_rate)
        span = max(1, epochs - freeze_epochs)
        return float(fine_tune_learning_rate * 0.5 * (1.0 + math.cos(math.pi * (epoch - freeze_epochs) / span)))

    return schedule


def machine_info() -> dict[str, Any]:
    """The machine the run used: CPU model, cores, GPUs seen by TensorFlow, load average, versions.

    Example:
        >>> "cpu_count" in machine_info()  # doctest: +SKIP
        True
    """
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as stream:
            cpu = next((line.split(":", 1)[1].strip() for line in stream if line.startswith("model name")), cpu)
    except OSError:
        pass
    import keras
    import tensorflow as tf

    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "onednn_env": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
    }


def _activation(value: str | None) -> str | None:
    if value is None:
        return None
    return None if value.lower() in ("none", "off", "") else value


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def markdown_tables(paths: list[str]) -> str:
    """Markdown tables (settings and per-class IoU, in percent) of result files written with ``--json``.

    Example:
        >>> print(markdown_tables(["results/camvid/mobilenet_segnet_relu.json"]))  # doctest: +SKIP
    """
    results = []
    for path in paths:
        with open(path) as stream:
            results.append((os.path.splitext(os.path.basename(path))[0], json.load(stream)))
    lines = [
        "| run | model | decoder act. | input | epochs (frozen) | wall time | pixel acc. | mean IoU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results:
        s = r["settings"]
        lines.append(
            f"| {name} | {s['model']} | {s['model_kwargs'].get('decoder_activation') or 'none'} | "
            f"{s['input_size'][0]}x{s['input_size'][1]} | {r['epochs_done']} ({s['freeze_encoder_epochs']}) | "
            f"{r['wall_time_s'] / 60:.1f} min | {_pct(r['pixel_accuracy'])} | **{_pct(r['mean_iou'])}** |"
        )
    lines += ["", "| class | " + " | ".join(name for name, _ in results) + " |", "|---|" + "---|" * len(results)]
    for cls in CAMVID_CLASSES:
        lines.append(f"| {cls} | " + " | ".join(_pct(r["per_class_iou"][cls]) for _, r in results) + " |")
    lines.append("| **mean IoU** | " + " | ".join(f"**{_pct(r['mean_iou'])}**" for _, r in results) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="CamVid folder with train/, trainannot/, val/, valannot/")
    parser.add_argument("--table", nargs="+", metavar="JSON", help="print markdown tables of --json result files")
    parser.add_argument("--model", default="mobilenet_segnet", help="registry name (mobseg.list_models())")
    parser.add_argument("--weights", default=None, help="encoder weights: Keras applications .h5, or 'imagenet'")
    parser.add_argument("--decoder-activation", default=None, help="e.g. relu; 'none' for none (default: model's)")
    parser.add_argument("--activation", default=None, help="encoder activation (default: model's)")
    parser.add_argument("--encoder-level", type=int, default=None, help="pyramid level fed to the decoder")
    parser.add_argument(
        "--output-stride", type=int, default=None, help="DeepLabV3+ / LR-ASPP: 16 (their default), 8 or 32"
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--freeze-encoder-epochs", type=int, default=None, help="default: 1 with --weights, else 0")
    parser.add_argument("--input-size", default="176x240", help="HEIGHTxWIDTH, per the model's size rule")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--fine-tune-learning-rate", type=float, default=None, help="default: a tenth after frozen")
    parser.add_argument("--lr-schedule", choices=["constant", "cosine"], default="constant",
                        help="cosine: decay the unfrozen phase's rate to 0 by the last epoch")  # fmt: skip
    parser.add_argument("--batchnorm-momentum", type=float, default=None, help="e.g. 0.9 for short runs")
    parser.add_argument("--class-weights", default="balanced", help="'balanced', 'segnet' (tutorial's) or 'none'")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="run folder (default runs/camvid-<time>)")
    parser.add_argument("--json", default=None, help="write the results to this JSON file (atomically)")
    args = parser.parse_args(argv)
    if args.table:
        paths = sorted({p for pattern in args.table for p in glob.glob(pattern)})
        print(markdown_tables(paths))
        return
    if not args.data:
        parser.error("--data is required (or --table)")
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    height, width = (int(v) for v in args.input_size.split("x"))
    started = time.time()

    import keras

    import mobseg
    from mobseg.training.run_folder import write_json

    kwargs: dict[str, Any] = {"input_height": height, "input_width": width}
    if args.decoder_activation is not None:
        kwargs["decoder_activation"] = _activation(args.decoder_activation)
    if args.activation is not None:
        kwargs["activation"] = args.activation
    if args.encoder_level is not None:
        kwargs["encoder_level"] = args.encoder_level
    if args.output_stride is not None:
        kwargs["output_stride"] = args.output_stride
    model = mobseg.build_model(args.model, 11, **kwargs)
    weights_report = None
    if args.weights:
        from mobseg.pretrained import load_encoder_weights

        report = load_encoder_weights(model, args.weights)
        weights_report = report.as_dict()
        print(f"encoder weights: {report}")
    freeze = args.freeze_encoder_epochs if args.freeze_encoder_epochs is not None else (1 if args.weights else 0)
    freeze = min(freeze, args.epochs)
    fine_tune_lr = args.fine_tune_learning_rate
    if fine_tune_lr is None:
        fine_tune_lr = args.learning_rate / 10 if freeze else args.learning_rate
    callbacks = []
    if args.lr_schedule == "cosine":
        schedule = cosine_schedule(args.epochs, freeze, args.learning_rate, fine_tune_lr)
        callbacks.append(keras.callbacks.LearningRateScheduler(schedule))
    weights = {"balanced": "balanced", "segnet": SEGNET_TUTORIAL_WEIGHTS, "none": None}[args.class_weights]
    out = args.out or f"runs/camvid-{time.strftime('%Y%m%d-%H%M%S')}"
    machine_start = machine_info()
    run = mobseg.train(
        os.path.join(args.data, "train"),
        os.path.join(args.data, "trainannot"),
        val_images=os.path.join(args.data, "val"),
        val_masks=os.path.join(args.data, "valannot"),
        model=model,
        epochs=args.epochs,
        freeze_encoder_epochs=freeze,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        fine_tune_learning_rate=fine_tune_lr,
        class_weights=weights,
        ignore_index=11,
        class_names=CAMVID_CLASSES,
        cache=True,
        out=out,
        seed=args.seed,
        verbose=2,
        callbacks=callbacks,
        batchnorm_momentum=args.batchnorm_momentum,
    )
    train_seconds = time.time() - started
    used = run.config["class_weights"]["values"]
    if used:
        print("class weights used:   ", " ".join(f"{w:.3f}" for w in used))
        print("SegNet tutorial's:    ", " ".join(f"{w:.3f}" for w in SEGNET_TUTORIAL_WEIGHTS))
    print(f"\nCamVid val, final model, original 180x240 masks, class 11 ignored, input {height}x{width}:")
    report = mobseg.evaluate(
        run.model,
        os.path.join(args.data, "val"),
        os.path.join(args.data, "valannot"),
        ignore_index=11,
        class_names=CAMVID_CLASSES,
        batch_size=16,
        progress=False,
    )
    wall = time.time() - started
    ious = {c["name"]: c["iou"] for c in report["classes"]}
    mean_all = sum(v or 0.0 for v in ious.values()) / len(ious)
    print(f"\nmean IoU {100 * report['mean_iou']:.1f} (SegNet-Basic, full res, test: {SEGNET_BASIC_MIOU}); "
          f"pixel accuracy {100 * report['pixel_accuracy']:.1f}; run folder {run.run_dir}; {wall:.0f} s")  # fmt: skip
    if args.json:
        result = {
            "command": command,
            "settings": {
                "model": args.model,
                "model_kwargs": model.architecture.get("kwargs", {}),
                "input_size": [height, width],
                "encoder_weights": args.weights,
                "encoder_weights_report": weights_report,
                "epochs": args.epochs,
                "freeze_encoder_epochs": freeze,
                "batch_size": args.batch_size,
                "optimizer": "adam",
                "learning_rate": args.learning_rate,
                "fine_tune_learning_rate": fine_tune_lr,
                "lr_schedule": args.lr_schedule,
                "batchnorm_momentum": args.batchnorm_momentum,
                "class_weights": args.class_weights,
                "class_weight_values": used,
                "ignore_index": 11,
                "augment": run.config.get("augment"),
                "seed": args.seed,
                "params": int(model.count_params()),
                "data": os.path.abspath(args.data),
                "run_dir": run.run_dir,
            },
            "evaluation": "mobseg.evaluate on val (101 images), final model, scores resized to the original "
            "180x240 then argmax; label 11 not counted; mean IoU over the 11 classes, a class absent from both "
            "ground truth and prediction left out (see absent_classes)",
            "per_class_iou": ious,
            "mean_iou": report["mean_iou"],
            "mean_iou_absent_as_zero": mean_all,
            "absent_classes": report["absent_classes"],
            "pixel_accuracy": report["pixel_accuracy"],
            "mean_class_accuracy": report["mean_class_accuracy"],
            "frequency_weighted_iou": report["frequency_weighted_iou"],
            "n_pixels": report["n_pixels"],
            "n_images": report["n_images"],
            "epochs_done": len(run.history),
            "history": run.history,
            "best_epoch_by_val_mean_iou_at_output_res": run.best_epoch,
            "best_val_mean_iou_at_output_res": run.best_value,
            "train_seconds": round(train_seconds, 1),
            "wall_time_s": round(wall, 1),
            "machine": {"at_start": machine_start, "loadavg_at_end": list(os.getloadavg())},
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        write_json(result, args.json)
        print(f"results: {args.json}")


if __name__ == "__main__":
    main()
