"""Fine-tune a zoo model on CamVid (11 classes, class 11 "Unlabelled" ignored): val split and leave-one-sequence-out.

Usage:
    python scripts/finetune_camvid.py --data ../shared/data/camvid [recipe options] [--json results/camvid/run.json]
    python scripts/finetune_camvid.py --data ../shared/data/camvid --protocol loso|both [recipe options]
        [--grid KEY=V1,V2 ...] [--recipes FILE.json] [--folds 0001TP 0006R0 0016E5 val]
        [--results results/camvid/protocol] [--runs runs/camvid-protocol] [--limit N]
    python scripts/finetune_camvid.py --table results/camvid/*.json                     # single runs
    python scripts/finetune_camvid.py --table results/camvid/protocol/*/summary.json    # recipes side by side

Recipe options (every one also a key of ``--grid`` and of a ``--recipes`` entry): ``--model`` (any registry name),
``--weights`` (Keras applications legacy-HDF5 encoder file, or ``imagenet``; the encoder is then frozen for
``--freeze-encoder-epochs``, default 1 with weights, else 0), ``--decoder-activation``, ``--activation``,
``--encoder-level``, ``--output-stride``, ``--epochs``, ``--input-size``, ``--batch-size``, ``--learning-rate``,
``--fine-tune-learning-rate``, ``--lr-schedule cosine|polynomial|constant``, ``--warmup-epochs``, ``--optimizer
adam|adamw``, ``--weight-decay``, ``--clipnorm``, ``--loss`` (``ce``, ``ce+lovasz``, ``ce+0.5*dice``, ...),
``--class-weights none|balanced|balanced_sqrt|balanced_log|segnet`` (segnet: the SegNet tutorial's fixed list),
``--batchnorm-momentum``, ``--seed``, ``--augment-scale LOW-HIGH`` and ``--augment-color`` (the zoom range and the
brightness/contrast/saturation jitter of the training images; default ``mobseg.train``'s 0.75-1.5 and 0.2, with
flips), ``--tta flip`` (scoring with test-time flips) and ``--train-runs RECIPE`` (score that recipe's finished
runs instead of training: with ``--tta`` it measures test-time flips on models already trained; every training
setting must match). Defaults as ``mobseg.train``'s (cosine, ``balanced_sqrt``, momentum 0.9,
0.3x the rate after a frozen phase) except ``--epochs`` (2). The schedule is :mod:`mobseg.schedules`' per-step
curve over all epochs (before this script had its own per-epoch cosine over the unfrozen epochs only; ``cosine``
now also decays during the frozen epochs).

Protocols. ``val`` (the default): train on CamVid's train split, score its val split (the result file of
``--json``). CamVid's train and val splits hold three video sequences (file prefixes 0001TP, 0006R0, 0016E5; every
val image is from 0016E5, like 204 of the 367 training images), so val rewards memorising a sequence.
``loso`` (leave one sequence out): for each sequence, train on train+val images of the other two and score that
one; the recipe's score is the mean over the three folds. ``both``: the three folds and ``val``. No fold sees its
scored images during training (no validation data is passed to LOSO trainings, so nothing is chosen on them;
early stopping is therefore refused with ``loso``). Epochs are passes over the fold's training images (163 to 406).

Every recipe is one entry of ``--recipes FILE.json`` (a list of objects: ``name`` plus recipe keys, applied over the
command-line options) or one combination of ``--grid`` values (named ``key=value,key=value``); without either, the
command line is the one recipe (named by ``--name``, default ``recipe``). Each (recipe, fold) trains into
``RUNS/<recipe>/<fold>`` and writes ``RESULTS/<recipe>/<fold>.json``; a fold whose JSON exists is skipped and an
interrupted training resumes, so the same command continues a queue. ``RESULTS/<recipe>/summary.json`` gathers the
folds. ``--limit N`` keeps N images per sequence and split (a quick end-to-end check).

Evaluation: the final model (last epoch, not a checkpoint) is scored by ``mobseg.evaluate`` at the original
240x180 resolution: class scores are resized bilinearly from the model's output, argmaxed there, and compared with
the original masks; pixels labelled 11 are not counted. Mean IoU is over the 11 classes (a class absent from both
ground truth and prediction would be left out: ``absent_classes``). Each result also has, per class, the
predicted/true pixel ratio (``pixel_ratio``; the issue asks for every class within [0.5, 2]).
"""

from __future__ import annotations

import argparse
import glob
import itertools
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path
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
IGNORE_INDEX = 11
#: The three video sequences of CamVid's train and val splits (file-name prefixes).
SEQUENCES = ("0001TP", "0006R0", "0016E5")
#: Folds: one per held-out sequence, and "val" (train on the train split, score the val split).
FOLDS = (*SEQUENCES, "val")
#: Median-frequency weights of the SegNet tutorial (full resolution), for comparison.
SEGNET_TUTORIAL_WEIGHTS = [0.2595, 0.1826, 4.5640, 0.1417, 0.9051, 0.3826, 9.6446, 1.8418, 0.6823, 6.2478, 7.3614]
#: SegNet-Basic (class-weighted) on the CamVid test set, full 360x480, from scratch (SegNet paper, Table 1).
SEGNET_BASIC_MIOU = 47.7
#: The predicted/true pixel ratio every class should keep on a held-out sequence.
RATIO_RANGE = (0.5, 2.0)

#: Recipe keys: (argparse type, default, help). Each is a command-line option, a --grid key and a --recipes key.
RECIPE_OPTIONS: dict[str, tuple[Any, Any, str]] = {
    "model": (str, "mobilenet_segnet", "registry name (mobseg.list_models())"),
    "weights": (str, None, "encoder weights: Keras applications .h5, or 'imagenet'"),
    "decoder_activation": (str, None, "e.g. relu; 'none' for none (default: model's)"),
    "activation": (str, None, "encoder activation (default: model's)"),
    "encoder_level": (int, None, "pyramid level fed to the decoder"),
    "output_stride": (int, None, "DeepLabV3+ / LR-ASPP encoders: 16 (their default), 8 or 32"),
    "epochs": (int, 2, "epochs (frozen ones included)"),
    "freeze_encoder_epochs": (int, None, "default: 1 with --weights, else 0"),
    "input_size": (str, "176x240", "HEIGHTxWIDTH, per the model's size rule"),
    "batch_size": (int, 8, "batch size"),
    "learning_rate": (float, 1e-3, "base rate of the first phase"),
    "fine_tune_learning_rate": (float, None, "base rate after a frozen phase (default: 0.3x, as mobseg.train)"),
    "lr_schedule": (str, "cosine", "cosine (default), polynomial or constant: one curve over all epochs"),
    "warmup_epochs": (float, 0.0, "linear warm-up at the start"),
    "optimizer": (str, "adam", "adam or adamw"),
    "weight_decay": (float, None, "AdamW's decay (default 0.01)"),
    "clipnorm": (float, None, "clip the global gradient norm"),
    "loss": (str, "ce", "ce, dice, focal, lovasz, or a sum such as ce+lovasz"),
    "class_weights": (str, "balanced_sqrt", "balanced_sqrt (default), none, balanced, balanced_log, segnet"),
    "batchnorm_momentum": (float, 0.9, "set on every BatchNorm layer (default 0.9); null in a recipe: the model's"),
    "early_stopping_patience": (int, None, "val protocol only: stop after N epochs without a better val mean IoU"),
    "seed": (int, 0, "random seed"),
    "augment_scale": (str, None, "zoom range LOW-HIGH of the training crops, e.g. 0.5-2 (default: mobseg.train's)"),
    "augment_color": (float, None, "brightness, contrast and saturation jitter, 0-1 (default: mobseg.train's)"),
    "tta": (str, None, "test-time augmentation when scoring: flip (the training is the same without it)"),
    "train_runs": (str, None, "score the finished training runs of this recipe (its settings but tta must match)"),
}
#: Recipe keys that change how a model is scored, not how it is trained.
SCORING_KEYS = ("tta",)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ratio_range(ratios: list[float]) -> str:
    return f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"


def _activation(value: str | None) -> str | None:
    if value is None:
        return None
    return None if value.lower() in ("none", "off", "") else value


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


# --- data: splits, sequences, folds -------------------------------------------------------------------------------


def split_pairs(data: str, split: str) -> list[tuple[str, str]]:
    """(image, mask) paths of a CamVid split (``train`` / ``val``: folders ``split`` and ``splitannot``), sorted.

    Example:
        >>> len(split_pairs("../shared/data/camvid", "val"))  # doctest: +SKIP
        101
    """
    images = sorted(glob.glob(os.path.join(data, split, "*.png")))
    if not images:
        raise ValueError(
            f"no images in {os.path.join(data, split)}; --data must hold train/, trainannot/, val/, valannot/."
        )
    return [(path, os.path.join(data, f"{split}annot", os.path.basename(path))) for path in images]


def sequence_of(path: str) -> str:
    """The video sequence of a CamVid file (its name's prefix before the first underscore).

    Example:
        >>> sequence_of("train/0016E5_07959.png")
        '0016E5'
    """
    return os.path.basename(path).split("_", 1)[0]


def _thin(pairs: list[tuple[str, str]], limit: int | None) -> list[tuple[str, str]]:
    """At most ``limit`` pairs, spread evenly over the (sorted, so time-ordered) list."""
    if limit is None or len(pairs) <= limit:
        return pairs
    step = len(pairs) / limit
    return [pairs[int(i * step)] for i in range(limit)]


def fold_pairs(data: str, fold: str, limit: int | None = None) -> tuple[list, list]:
    """(training pairs, scored pairs) of a fold: a held-out sequence, or ``"val"`` (the official split).

    ``limit`` keeps at most that many pairs per sequence and split.

    Example:
        >>> train_pairs, scored = fold_pairs("../shared/data/camvid", "0001TP")  # doctest: +SKIP
        >>> len(train_pairs), len(scored)  # doctest: +SKIP
        (406, 62)
    """
    if fold not in FOLDS:
        raise ValueError(f"unknown fold {fold!r}; use {', '.join(FOLDS)}.")
    groups: dict[tuple[str, str], list] = {}
    for split in ("train", "val"):
        for pair in split_pairs(data, split):
            groups.setdefault((split, sequence_of(pair[0])), []).append(pair)
    groups = {key: _thin(pairs, limit) for key, pairs in sorted(groups.items())}
    unknown = {seq for _, seq in groups} - set(SEQUENCES)
    if unknown:
        raise ValueError(f"files of unknown sequences {sorted(unknown)} in {data}; expected {', '.join(SEQUENCES)}.")
    if fold == "val":
        train = [p for (split, _), pairs in groups.items() if split == "train" for p in pairs]
        scored = [p for (split, _), pairs in groups.items() if split == "val" for p in pairs]
    else:
        train = [p for (_, seq), pairs in groups.items() if seq != fold for p in pairs]
        scored = [p for (_, seq), pairs in groups.items() if seq == fold for p in pairs]
    return train, scored


# --- recipes --------------------------------------------------------------------------------------------------


def _parse_value(key: str, text: Any) -> Any:
    kind = RECIPE_OPTIONS[key][0]
    if text is None or (isinstance(text, str) and text.lower() == "null"):
        return None
    return kind(text)


def recipe_name(changes: dict[str, Any]) -> str:
    """A recipe's default name from the settings it changes: ``loss=ce+lovasz,epochs=30``.

    Example:
        >>> recipe_name({"loss": "ce+lovasz", "epochs": 30})
        'loss=ce+lovasz,epochs=30'
    """
    return ",".join(f"{key}={value}" for key, value in changes.items()) or "recipe"


def expand_recipes(base: dict[str, Any], recipes_file: str | None, grid: list[str] | None) -> list[dict[str, Any]]:
    """The recipes to run: ``base`` overridden by each ``--recipes`` entry, or by each ``--grid`` combination.

    Example:
        >>> [r["name"] for r in expand_recipes({"loss": "ce", "epochs": 2}, None, ["loss=ce,ce+dice"])]
        ['loss=ce', 'loss=ce+dice']
    """
    variants: list[dict[str, Any]] = []
    if recipes_file:
        for entry in json.loads(Path(recipes_file).read_text()):
            unknown = set(entry) - set(RECIPE_OPTIONS) - {"name"}
            if unknown:
                raise ValueError(
                    f"{recipes_file}: unknown recipe keys {sorted(unknown)}; use {', '.join(RECIPE_OPTIONS)}."
                )
            variants.append(dict(entry))
    axes = []
    for item in grid or []:
        key, sep, values = item.partition("=")
        key = key.replace("-", "_")
        if not sep or key not in RECIPE_OPTIONS:
            raise ValueError(f"--grid {item!r}: use KEY=V1,V2 with KEY one of {', '.join(RECIPE_OPTIONS)}.")
        axes.append([(key, _parse_value(key, v)) for v in values.split(",")])
    for combination in itertools.product(*axes) if axes else []:
        variants.append(dict(combination))
    if not variants:
        variants = [{"name": base.get("name") or "recipe"}]
    recipes = []
    for changes in variants:
        name = changes.pop("name", None) or recipe_name(changes)
        recipes.append({**base, **changes, "name": name})
        if recipes[-1].get("tta") not in (None, "flip"):  # refused before any training, not after
            raise ValueError(f"recipe {name!r}: tta={recipes[-1]['tta']!r} is unknown; use flip, or leave it out.")
    names = [r["name"] for r in recipes]
    if len(set(names)) != len(names):
        raise ValueError(f"recipe names must differ; got {names}.")
    return recipes


def build_recipe_model(recipe: dict[str, Any]) -> tuple[Any, dict | None]:
    """The recipe's model (11 classes) with its encoder weights loaded; and the weights report.

    Example:
        >>> model, report = build_recipe_model({"model": "mobilenet_segnet", "input_size": "64x80"})  # doctest: +SKIP
    """
    import mobseg

    height, width = (int(v) for v in str(recipe["input_size"]).split("x"))
    kwargs: dict[str, Any] = {"input_height": height, "input_width": width}
    if recipe.get("decoder_activation") is not None:
        kwargs["decoder_activation"] = _activation(recipe["decoder_activation"])
    if recipe.get("activation") is not None:
        kwargs["activation"] = recipe["activation"]
    if recipe.get("encoder_level") is not None:
        kwargs["encoder_level"] = recipe["encoder_level"]
    if recipe.get("output_stride") is not None:
        kwargs["output_stride"] = recipe["output_stride"]
    model = mobseg.build_model(recipe["model"], len(CAMVID_CLASSES), **kwargs)
    if not recipe.get("weights"):
        return model, None
    from mobseg.pretrained import load_encoder_weights

    report = load_encoder_weights(model, recipe["weights"])
    print(f"encoder weights: {report}")
    return model, report.as_dict()


def train_options(recipe: dict[str, Any]) -> dict[str, Any]:
    """``mobseg.train`` keywords of a recipe (phases, learning rates, schedule, optimizer, loss, class weights).

    Example:
        >>> train_options({**{k: v[1] for k, v in RECIPE_OPTIONS.items()}, "epochs": 10})["freeze_encoder_epochs"]
        0
    """
    freeze = recipe.get("freeze_encoder_epochs")
    freeze = min(freeze if freeze is not None else (1 if recipe.get("weights") else 0), recipe["epochs"])
    fine_tune = recipe.get("fine_tune_learning_rate")
    if fine_tune is None:
        fine_tune = recipe["learning_rate"] * (0.3 if freeze else 1.0)  # mobseg.train's default
    weights = recipe["class_weights"]
    return {
        "augment": augment_option(recipe),
        "epochs": recipe["epochs"],
        "freeze_encoder_epochs": freeze,
        "batch_size": recipe["batch_size"],
        "learning_rate": recipe["learning_rate"],
        "fine_tune_learning_rate": fine_tune,
        "lr_schedule": recipe["lr_schedule"],
        "warmup_epochs": recipe["warmup_epochs"],
        "optimizer": recipe["optimizer"],
        "weight_decay": recipe.get("weight_decay"),
        "clipnorm": recipe.get("clipnorm"),
        "loss": recipe["loss"],
        "class_weights": SEGNET_TUTORIAL_WEIGHTS if weights == "segnet" else weights,
        "batchnorm_momentum": recipe.get("batchnorm_momentum"),
        "early_stopping_patience": recipe.get("early_stopping_patience"),
        "seed": recipe["seed"],
    }


def augment_option(recipe: dict[str, Any]) -> bool | dict[str, Any]:
    """``augment=`` of ``mobseg.train``: ``True`` (its defaults) unless the recipe sets a zoom range or colour jitter.

    Example:
        >>> augment_option({"augment_scale": "0.5-2", "augment_color": 0.4})
        {'scale': [0.5, 2.0], 'brightness': 0.4, 'contrast': 0.4, 'saturation': 0.4}
        >>> augment_option({})
        True
    """
    settings: dict[str, Any] = {}
    if recipe.get("augment_scale") is not None:
        low, _, high = str(recipe["augment_scale"]).partition("-")
        try:
            settings["scale"] = [float(low), float(high)]
        except ValueError:
            raise ValueError(
                f"augment_scale={recipe['augment_scale']!r} is not a zoom range; write LOW-HIGH, e.g. 0.5-2."
            ) from None
    if recipe.get("augment_color") is not None:
        settings.update(dict.fromkeys(("brightness", "contrast", "saturation"), float(recipe["augment_color"])))
    return settings or True


def changed_keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The keys whose values differ between two recipes (a missing key counts as ``None``).

    Example:
        >>> changed_keys({"epochs": 8, "tta": None}, {"epochs": 16})
        ['epochs']
    """
    return sorted(k for k in {*old, *new} if old.get(k) != new.get(k))


def training_recipe(recipe: dict[str, Any]) -> dict[str, Any]:
    """The settings that decide a training: the recipe without its name and scoring keys.

    Example:
        >>> training_recipe({"name": "r", "epochs": 8, "tta": "flip", "train_runs": "base"})
        {'epochs': 8}
    """
    return {k: v for k, v in recipe.items() if k not in ("name", "train_runs", *SCORING_KEYS)}


def fold_run_dir(recipe: dict[str, Any], fold: str, args: argparse.Namespace) -> Path:
    """``RUNS/<recipe>/<fold>``, or with ``train_runs`` that recipe's finished run after checking it trained alike.

    Example:
        >>> fold_run_dir({"name": "r"}, "val", argparse.Namespace(runs="runs"))
        PosixPath('runs/r/val')
    """
    source = recipe.get("train_runs")
    if not source:
        return Path(args.runs) / recipe["name"] / fold
    result_file = Path(args.results) / source / f"{fold}.json"
    if not result_file.is_file():
        raise ValueError(f"train_runs={source!r}: {result_file} does not exist; run that recipe on fold {fold} first.")
    trained, wanted = training_recipe(json.loads(result_file.read_text())["recipe"]), training_recipe(recipe)
    changed = changed_keys(trained, wanted)
    if changed:
        raise ValueError(
            f"train_runs={source!r} trained with other settings ({', '.join(changed)}); "
            "only the scoring keys (tta) may differ."
        )
    run_dir = Path(args.runs) / source / fold
    info = run_dir / "training.json"
    if not info.is_file() or json.loads(info.read_text()).get("status") != "complete":
        raise ValueError(
            f"train_runs={source!r}: {run_dir} holds no finished training (its result file came from elsewhere); "
            "pass the --runs folder that recipe trained into."
        )
    return run_dir


# --- one fold: train, score -----------------------------------------------------------------------------------


def pixel_ratios(report: dict[str, Any]) -> dict[str, float | None]:
    """Per class, predicted pixels / true pixels (``None`` for a class with no true pixel).

    Example:
        >>> pixel_ratios({"classes": [{"name": "a", "gt_pixels": 10, "pred_pixels": 25}]})
        {'a': 2.5}
    """
    return {
        c["name"]: (round(c["pred_pixels"] / c["gt_pixels"], 4) if c["gt_pixels"] else None) for c in report["classes"]
    }


def score(model: Any, pairs: list[tuple[str, str]], tta: str | None = None) -> dict[str, Any]:
    """``mobseg.evaluate`` of ``model`` on ``pairs`` at the original resolution, as the result file records it.

    ``tta="flip"`` averages each image's class scores with its mirror image's.

    Example:
        >>> score(model, pairs)["mean_iou"]  # doctest: +SKIP
        0.52
    """
    import mobseg

    report = mobseg.evaluate(
        model,
        [p[0] for p in pairs],
        [p[1] for p in pairs],
        ignore_index=IGNORE_INDEX,
        class_names=CAMVID_CLASSES,
        batch_size=16,
        tta=tta,
        verbose=False,
        progress=False,
    )
    ious = {c["name"]: c["iou"] for c in report["classes"]}
    ratios = pixel_ratios(report)
    inside = [r for r in ratios.values() if r is not None]
    return {
        "per_class_iou": ious,
        "mean_iou": report["mean_iou"],
        "mean_iou_absent_as_zero": sum(v or 0.0 for v in ious.values()) / len(ious),
        "absent_classes": report["absent_classes"],
        "pixel_ratio": ratios,
        "pixel_ratio_within_range": all(RATIO_RANGE[0] <= r <= RATIO_RANGE[1] for r in inside),
        "pixel_accuracy": report["pixel_accuracy"],
        "mean_class_accuracy": report["mean_class_accuracy"],
        "frequency_weighted_iou": report["frequency_weighted_iou"],
        "n_pixels": report["n_pixels"],
        "n_images": report["n_images"],
    }


def train_fold(recipe: dict[str, Any], fold: str, data: str, run_dir: Path, limit: int | None) -> tuple[Any, dict]:
    """Train (or resume, or reload a finished run of) the recipe on a fold's training images.

    Returns the final model and what the result file records about the training.
    """
    import keras

    import mobseg
    from mobseg.training import read_history_csv

    train_pairs, scored = fold_pairs(data, fold, limit)
    options = train_options(recipe)
    if fold != "val" and options["early_stopping_patience"] is not None:
        raise ValueError("early stopping needs validation data, which a LOSO fold does not have; use --protocol val.")
    info_file = run_dir / "training.json"
    started = time.time()
    reloaded = info_file.is_file() and json.loads(info_file.read_text()).get("status") == "complete"
    if reloaded:
        model = keras.saving.load_model(run_dir / "model.keras", compile=False)  # killed before its result file
        history = read_history_csv(run_dir / "history.csv")
        config = json.loads(info_file.read_text())
    else:
        model, _ = build_recipe_model(recipe)
        run = mobseg.train(
            pairs=train_pairs,
            val_pairs=scored if fold == "val" else None,
            model=model,
            ignore_index=IGNORE_INDEX,
            class_names=CAMVID_CLASSES,
            cache=True,
            out=run_dir,
            verbose=2,
            **options,
        )
        model, history, config = run.model, run.history, run.config
    seconds = config.get("last_session_seconds") if reloaded else time.time() - started
    images_seen = len(history) * len(train_pairs)
    return model, {
        "train_images": len(train_pairs),
        "scored_images": len(scored),
        "epochs_done": len(history),
        "stopped_early": (config.get("result") or {}).get("stopped_early"),
        "class_weight_values": config["class_weights"]["values"],
        "training": {key: config.get(key) for key in ("loss", "optimizer", "weight_decay", "clipnorm", "lr_schedule")},
        "history": history,
        "train_seconds": round(seconds, 1) if seconds else None,
        "train_images_per_second": round(images_seen / seconds, 2) if seconds and not config.get("resumed") else None,
        "resumed": config.get("resumed"),
        "reloaded_finished_run": reloaded,
        "run_dir": str(run_dir),
    }


def run_fold(recipe: dict[str, Any], fold: str, args: argparse.Namespace, command: str) -> dict[str, Any]:
    """One (recipe, fold): skipped when its result file exists, else trained, scored and written.

    Example:
        >>> run_fold(recipe, "0006R0", args, command)["mean_iou"]  # doctest: +SKIP
        0.48
    """
    from mobseg.training.run_folder import write_json

    result_file = Path(args.results) / recipe["name"] / f"{fold}.json"
    if result_file.is_file():
        existing = json.loads(result_file.read_text())
        changed = changed_keys(existing["recipe"], recipe)
        if changed:
            raise ValueError(
                f"{result_file} holds recipe {recipe['name']!r} with other settings ({', '.join(changed)}); "
                "give this recipe another name (--name, or 'name' in --recipes) or use another --results folder."
            )
        print(f"[skip] {result_file} exists")
        return existing
    print(f"\n=== recipe {recipe['name']!r}, fold {fold} ===", flush=True)
    started, machine = time.time(), machine_info()
    model, training = train_fold(recipe, fold, args.data, fold_run_dir(recipe, fold, args), args.limit)
    scored = score(model, fold_pairs(args.data, fold, args.limit)[1], recipe.get("tta"))
    result = {
        "command": command,
        "recipe": recipe,
        "fold": fold,
        "scored_on": "CamVid val split" if fold == "val" else f"sequence {fold} (train and val images)",
        **scored,
        **training,
        "wall_time_s": round(time.time() - started, 1),
        "machine": {"at_start": machine, "loadavg_at_end": list(os.getloadavg())},
        "limit": args.limit,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    write_json(result, result_file)
    print(f"{recipe['name']} / {fold}: mean IoU {_pct(result['mean_iou'])}, ratios within {RATIO_RANGE}: "
          f"{result['pixel_ratio_within_range']}; {result_file}")  # fmt: skip
    return result


def summarize(recipe: dict[str, Any], results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The recipe's protocol summary: LOSO mean IoU (mean over the folds run), val, per-class means, ratios.

    Example:
        >>> summarize({"name": "r"}, {"val": {"mean_iou": 0.5, "per_class_iou": {}, "pixel_ratio": {},
        ...     "pixel_ratio_within_range": True, "wall_time_s": 1.0}})["val_mean_iou"]
        0.5
    """
    loso = {fold: results[fold] for fold in SEQUENCES if fold in results}
    summary: dict[str, Any] = {"recipe": recipe, "folds": sorted(results)}
    if loso:
        summary["loso_mean_iou"] = statistics.fmean(r["mean_iou"] for r in loso.values())
        summary["loso_fold_mean_iou"] = {fold: r["mean_iou"] for fold, r in loso.items()}
        summary["loso_complete"] = len(loso) == len(SEQUENCES)
        summary["loso_per_class_iou"] = {
            c: statistics.fmean(r["per_class_iou"][c] or 0.0 for r in loso.values()) for c in CAMVID_CLASSES
        }
        summary["loso_pixel_ratio"] = {fold: r["pixel_ratio"] for fold, r in loso.items()}
        summary["loso_pixel_ratio_within_range"] = all(r["pixel_ratio_within_range"] for r in loso.values())
        ratios = [v for r in loso.values() for v in r["pixel_ratio"].values() if v is not None]
        summary["loso_pixel_ratio_extremes"] = [min(ratios), max(ratios)] if ratios else None
    if "val" in results:
        summary["val_mean_iou"] = results["val"]["mean_iou"]
        summary["val_per_class_iou"] = results["val"]["per_class_iou"]
        summary["val_pixel_ratio"] = results["val"]["pixel_ratio"]
    summary["wall_time_s"] = round(sum(r["wall_time_s"] for r in results.values()), 1)
    return summary


# --- tables ---------------------------------------------------------------------------------------------------


def markdown_tables(paths: list[str]) -> str:
    """Markdown tables of ``--json`` result files (settings, per-class IoU) or of protocol ``summary.json`` files.

    Example:
        >>> print(markdown_tables(["results/camvid/protocol/old/summary.json"]))  # doctest: +SKIP
    """
    loaded = [(path, json.loads(Path(path).read_text())) for path in paths]
    summaries = [(p, r) for p, r in loaded if "folds" in r]
    folds = [r for _, r in loaded if "fold" in r and "folds" not in r]
    singles = [(os.path.splitext(os.path.basename(p))[0], r) for p, r in loaded if "folds" not in r and "fold" not in r]
    parts = []
    if summaries:
        parts.append(summary_table(summaries))
    if folds:
        parts.append(fold_tables(folds))
    if singles:
        parts.append(single_run_tables(singles))
    return "\n\n".join(parts)


def fold_tables(results: list[dict[str, Any]]) -> str:
    """One row per fold result file (``--results``/RECIPE/FOLD.json), then per-class IoU and pixel-ratio rows."""
    lines = [
        "| recipe | model | loss, class weights | fold | mean IoU | pixel acc. | pixel ratio min-max | train images | "
        "train s | load at start, end |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        recipe, machine = r["recipe"], r.get("machine", {})
        ratios = [v for v in r["pixel_ratio"].values() if v is not None]  # None: no true pixel of the class
        load = (machine.get("at_start", {}).get("loadavg") or [None])[0], (machine.get("loadavg_at_end") or [None])[0]
        lines.append(
            f"| {recipe['name']} | `{recipe['model']}` | {recipe['loss']}, {recipe['class_weights']} | {r['fold']} | "
            f"**{_pct(r['mean_iou'])}** | {_pct(r['pixel_accuracy'])} | {_ratio_range(ratios)} | "
            f"{r['train_images']} | {r['train_seconds']:.0f} | "
            + ", ".join("-" if v is None else f"{v:.1f}" for v in load)
            + " |"
        )
    lines += ["", "| run | " + " | ".join(CAMVID_CLASSES) + " |", "|---|" + "---|" * len(CAMVID_CLASSES)]
    for r in results:
        name = f"{r['recipe']['name']} {r['fold']}"
        lines.append(f"| {name} IoU | " + " | ".join(_pct(r["per_class_iou"][c]) for c in CAMVID_CLASSES) + " |")
        lines.append(f"| {name} ratio | " + " | ".join(_ratio(r["pixel_ratio"][c]) for c in CAMVID_CLASSES) + " |")
    return "\n".join(lines)


def summary_table(summaries: list[tuple[str, dict[str, Any]]]) -> str:
    """Recipes side by side: LOSO mean and per fold, val, pixel-ratio range, wall time; then per-class LOSO IoU."""
    lines = [
        "| recipe | model | LOSO mean IoU | " + " | ".join(SEQUENCES) + " | val mean IoU | pred/true px ratio "
        "(min-max) | all in [0.5, 2] | wall time |",
        "|---|---|---|" + "---|" * len(SEQUENCES) + "---|---|---|---|",
    ]
    for _, s in summaries:
        folds = s.get("loso_fold_mean_iou", {})
        extremes = s.get("loso_pixel_ratio_extremes")
        span = f"{extremes[0]:.2f}-{extremes[1]:.2f}" if extremes else "-"
        loso = _pct(s.get("loso_mean_iou")) + ("" if s.get("loso_complete", True) else " (partial)")
        lines.append(
            f"| {s['recipe']['name']} | {s['recipe']['model']} | **{loso}** | "
            + " | ".join(_pct(folds.get(f)) for f in SEQUENCES)
            + f" | {_pct(s.get('val_mean_iou'))} | {span} | {s.get('loso_pixel_ratio_within_range', '-')} | "
            f"{s['wall_time_s'] / 60:.0f} min |"
        )
    names = [s["recipe"]["name"] for _, s in summaries]
    lines += ["", "LOSO per-class IoU (mean over the folds):", "", "| class | " + " | ".join(names) + " |"]
    lines.append("|---|" + "---|" * len(names))
    for cls in CAMVID_CLASSES:
        lines.append(
            f"| {cls} | " + " | ".join(_pct(s.get("loso_per_class_iou", {}).get(cls)) for _, s in summaries) + " |"
        )
    return "\n".join(lines)


def single_run_tables(results: list[tuple[str, dict[str, Any]]]) -> str:
    """Settings and per-class IoU (percent) of single-run result files written with ``--json``."""
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


# --- the two entry points -------------------------------------------------------------------------------------


def run_single(recipe: dict[str, Any], args: argparse.Namespace, command: str) -> None:
    """The ``val`` protocol as one run into ``--out``, its result file at ``--json`` (the original behaviour)."""
    from mobseg.training.run_folder import write_json

    started, machine = time.time(), machine_info()
    out = Path(args.out or f"runs/camvid-{time.strftime('%Y%m%d-%H%M%S')}")
    model, training = train_fold(recipe, "val", args.data, out, args.limit)
    scored = score(model, fold_pairs(args.data, "val", args.limit)[1], recipe.get("tta"))
    height, width = (int(v) for v in str(recipe["input_size"]).split("x"))
    print(f"\nCamVid val, final model, original 180x240 masks, class 11 ignored, input {height}x{width}:")
    seconds = time.time() - started
    print(f"mean IoU {_pct(scored['mean_iou'])} (SegNet-Basic, full res, test: {SEGNET_BASIC_MIOU}); "
          f"pixel accuracy {_pct(scored['pixel_accuracy'])}; run folder {out}; {seconds:.0f} s")  # fmt: skip
    print("predicted/true pixels:", ", ".join(f"{c} {r}" for c, r in scored["pixel_ratio"].items()))
    if not args.json:
        return
    settings = {**recipe, "model_kwargs": model.architecture.get("kwargs", {}), "input_size": [height, width]}
    settings.update(train_options(recipe), class_weights=recipe["class_weights"], ignore_index=IGNORE_INDEX)
    result = {
        "command": command,
        "settings": {**settings, "params": int(model.count_params()), "data": os.path.abspath(args.data)},
        "evaluation": "mobseg.evaluate on val, final model, scores resized to the original 180x240 then argmax; "
        "label 11 not counted; mean IoU over the 11 classes, a class absent from both ground truth and prediction "
        "left out (see absent_classes)",
        **scored,
        **training,
        "wall_time_s": round(time.time() - started, 1),
        "machine": {"at_start": machine, "loadavg_at_end": list(os.getloadavg())},
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    write_json(result, args.json)
    print(f"results: {args.json}")


def run_protocol(recipes: list[dict[str, Any]], args: argparse.Namespace, command: str) -> None:
    """Every (recipe, fold) in turn (skipping those with a result file), then each recipe's ``summary.json``.

    The summary covers every fold of the recipe with a result file, also those run by earlier commands.
    """
    from mobseg.training.run_folder import write_json

    folds = args.folds or (SEQUENCES if args.protocol == "loso" else FOLDS)
    for recipe in recipes:
        results = {fold: run_fold(recipe, fold, args, command) for fold in folds}
        for fold in set(FOLDS) - set(folds):  # folds of this recipe that earlier commands ran
            if (Path(args.results) / recipe["name"] / f"{fold}.json").is_file():
                results[fold] = run_fold(recipe, fold, args, command)
        summary = summarize(recipe, results)
        write_json(summary, Path(args.results) / recipe["name"] / "summary.json")
        print(f"{recipe['name']}: LOSO mean IoU {_pct(summary.get('loso_mean_iou'))}, "
              f"val {_pct(summary.get('val_mean_iou'))}")  # fmt: skip
    paths = [str(Path(args.results) / r["name"] / "summary.json") for r in recipes]
    print("\n" + markdown_tables(paths))


def parser() -> argparse.ArgumentParser:
    """The command line (see the module doc)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="CamVid folder with train/, trainannot/, val/, valannot/")
    p.add_argument("--table", nargs="+", metavar="JSON", help="print markdown tables of result or summary files")
    for key, (kind, default, text) in RECIPE_OPTIONS.items():
        p.add_argument("--" + key.replace("_", "-"), type=kind, default=default, help=text)
    p.add_argument("--protocol", choices=("val", "loso", "both"), default="val", help="see the module doc")
    p.add_argument("--folds", nargs="+", choices=FOLDS, default=None, help="run only these folds")
    p.add_argument("--grid", nargs="+", metavar="KEY=V1,V2", help="one recipe per combination of values")
    p.add_argument("--recipes", default=None, help="JSON file: a list of recipes ({name, key: value, ...})")
    p.add_argument("--name", default=None, help="name of the command line's recipe (no --grid / --recipes)")
    p.add_argument("--results", default="results/camvid/protocol", help="result files: RESULTS/<recipe>/<fold>.json")
    p.add_argument("--runs", default="runs/camvid-protocol", help="run folders: RUNS/<recipe>/<fold>")
    p.add_argument("--limit", type=int, default=None, help="at most N images per sequence and split (quick checks)")
    p.add_argument("--out", default=None, help="val protocol: the run folder (default runs/camvid-<time>)")
    p.add_argument("--json", default=None, help="val protocol: write the results to this JSON file (atomically)")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.table:
        print(markdown_tables(sorted({p for pattern in args.table for p in glob.glob(pattern)})))
        return
    if not args.data:
        parser().error("--data is required (or --table)")
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    base = {key: getattr(args, key) for key in RECIPE_OPTIONS}
    base["name"] = args.name
    recipes = expand_recipes(base, args.recipes, args.grid)
    if args.protocol == "val" and not args.folds:
        if len(recipes) != 1:
            parser().error("--grid / --recipes need --protocol loso or both (or --folds val)")
        if recipes[0].get("train_runs"):
            parser().error("--train-runs needs --protocol loso or both (or --folds val)")
        run_single(recipes[0], args, command)
        return
    run_protocol(recipes, args, command)


if __name__ == "__main__":
    try:
        main()
    except ValueError as err:  # mobseg's and this script's errors are one sentence naming the fix
        parser().exit(2, f"finetune_camvid.py: error: {err}\n")
