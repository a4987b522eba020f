"""Label shift on CamVid's held-out sequences: does re-estimating the class priors of a new scene fix the ratios?

Issue 15 asks that every class be painted within [0.5, 2] of its true pixels on a sequence the model has not
seen. The classes that miss it follow how much more (or less) of them the training sequences hold than the
held-out one (``--shift`` prints that table from the masks alone). This script measures one remedy that needs no
labels of the new scene: the EM re-estimation of class priors of Saerens, Latinne and Decaestecker (Neural
Computation 14, 2002). The model's softmax was learned under the training prior; on the unlabelled held-out
images EM finds the prior under which the model's adjusted posteriors are consistent with themselves, and every
pixel's scores are re-weighted by ``target prior / training prior`` before the argmax.

Per fold it scores the trained model of ``scripts/finetune_camvid.py`` (``--runs RUNS/<fold>/model.keras``) on
the held-out sequence three ways, at the original 180x240 masks with class 11 ignored (as finetune_camvid):

* ``model``: the plain argmax (the number in finetune_camvid's result file);
* ``em``: scores re-weighted by the EM prior, estimated from the held-out images alone, no labels;
* ``oracle``: re-weighted by the held-out sequence's true class frequencies (from its masks): what a perfect
  prior estimate would give, a diagnostic, not a recipe.

The training prior is the model's mean softmax over its training images (so that it matches the model's own
calibration, class weights included). Writes ``--out`` (JSON) and prints Markdown tables.

    python scripts/prior_shift_camvid.py --data ../shared/data/camvid \\
        --runs /work/runs-camvid/session19/unet-ce-balanced_sqrt-e16 --folds 0001TP 0006R0 0016E5 \\
        --out results/camvid/session19/unet-ce-balanced_sqrt-e16/prior_shift.json
    python scripts/prior_shift_camvid.py --data ../shared/data/camvid --shift    # the label shift, masks only
    python scripts/prior_shift_camvid.py --data ../shared/data/camvid --shift --fit results/camvid/session19/unet-*
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from finetune_camvid import (
    CAMVID_CLASSES,
    IGNORE_INDEX,
    RATIO_RANGE,
    SEQUENCES,
    fold_pairs,
    machine_info,
    pixel_ratios,
    sequence_of,
)

VARIANTS = ("model", "em", "oracle")


def label_counts(labels: list[np.ndarray], n_classes: int = len(CAMVID_CLASSES)) -> np.ndarray:
    """Pixels of each class in ``labels`` (``IGNORE_INDEX`` left out).

    Example:
        >>> label_counts([np.array([[0, 1], [1, 11]])], 3).tolist()
        [1.0, 2.0, 0.0]
    """
    counts = np.zeros(n_classes, np.float64)
    for array in labels:
        counts += np.bincount(array[array != IGNORE_INDEX].ravel(), minlength=n_classes)[:n_classes]
    return counts


def read_labels(pairs: list[tuple[str, str]]) -> list[np.ndarray]:
    """The masks of (image, mask) ``pairs`` as label arrays."""
    from mobseg.data.masks import read_mask

    return [read_mask(mask) for _, mask in pairs]


def shares(counts: np.ndarray) -> np.ndarray:
    """Counts as fractions of their sum (zeros stay zeros)."""
    return counts / max(counts.sum(), 1.0)


def em_priors(
    probabilities: np.ndarray, source: np.ndarray, iterations: int = 200, tolerance: float = 1e-7
) -> tuple[np.ndarray, int]:
    """EM estimate of the class priors of unlabelled pixels (Saerens et al. 2002); returns (priors, iterations).

    ``probabilities`` are softmax outputs ``(N, C)`` of a model trained under prior ``source`` ``(C,)``.

    Example:
        >>> p = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7]])
        >>> priors, _ = em_priors(p, np.array([0.5, 0.5]))
        >>> bool(priors[0] > p.mean(axis=0)[0] > 0.5)
        True
    """
    target = source.copy()
    for step in range(1, iterations + 1):
        adjusted = probabilities * (target / source)
        adjusted /= adjusted.sum(axis=1, keepdims=True)
        new = adjusted.mean(axis=0)
        if np.abs(new - target).max() < tolerance:
            return new, step
        target = new
    return target, iterations


def _scores(model: Any, pairs: list[tuple[str, str]]) -> Iterator[np.ndarray]:
    from mobseg.inference.scoring import load_input, score_images

    images = (load_input(image) for image, _ in pairs)
    for _, scores in score_images(model, images, count=len(pairs), batch_size=16):
        yield scores.astype(np.float32)


def _report(scores: list[np.ndarray], masks: list[np.ndarray], factor: np.ndarray) -> dict[str, Any]:
    """mean IoU, per-class IoU and predicted/true pixel ratios of the scores re-weighted by ``factor``."""
    from mobseg.inference.scoring import scores_to_mask
    from mobseg.metrics import confusion_matrix, segmentation_report

    n = len(CAMVID_CLASSES)
    matrix = np.zeros((n, n), np.int64)
    for s, labels in zip(scores, masks, strict=True):
        predicted = scores_to_mask(s * factor, labels.shape[0], labels.shape[1])
        matrix += confusion_matrix(labels, predicted, n, IGNORE_INDEX)
    report = segmentation_report(matrix, class_names=list(CAMVID_CLASSES))
    ratios = {name: r for name, r in pixel_ratios(report).items() if r is not None}
    return {
        "mean_iou": report["mean_iou"],
        "pixel_accuracy": report["pixel_accuracy"],
        "per_class_iou": {c["name"]: c["iou"] for c in report["classes"]},
        "pixel_ratio": ratios,
        "pixel_ratio_extremes": [min(ratios.values()), max(ratios.values())],
        "pixel_ratio_within_range": all(RATIO_RANGE[0] <= r <= RATIO_RANGE[1] for r in ratios.values()),
    }


def run_fold(data: str, runs: Path, fold: str) -> dict[str, Any]:
    """The three variants of one fold (see the module docstring)."""
    import mobseg

    started = time.time()
    train_pairs, held_pairs = fold_pairs(data, fold)
    model = mobseg.load_model(str(runs / fold / "model.keras"))
    n = len(CAMVID_CLASSES)
    source = np.mean([s.reshape(-1, n).mean(axis=0) for s in _scores(model, train_pairs)], axis=0)
    held, masks = list(_scores(model, held_pairs)), read_labels(held_pairs)
    estimated, steps = em_priors(np.concatenate([s.reshape(-1, n) for s in held]), source)
    truth = shares(label_counts(masks))
    factors = {"model": np.ones(n), "em": estimated / source, "oracle": truth / source}
    result = {name: _report(held, masks, factor) for name, factor in factors.items()}
    return {
        "fold": fold,
        "model": str(runs / fold / "model.keras"),
        "train_images": len(train_pairs),
        "scored_images": len(held_pairs),
        "source_prior": dict(zip(CAMVID_CLASSES, source.round(5).tolist(), strict=True)),
        "em_prior": dict(zip(CAMVID_CLASSES, estimated.round(5).tolist(), strict=True)),
        "em_iterations": steps,
        "true_frequencies": dict(zip(CAMVID_CLASSES, truth.round(5).tolist(), strict=True)),
        **result,
        "wall_time_s": round(time.time() - started, 1),
    }


def shift_table(data: str, recipes: list[Path] | None = None) -> str:
    """Markdown: the label shift of every held-out sequence (:func:`shifts`); then the fit of ``recipes``' ratios."""
    shift = shifts(data)
    lines = ["| held out | " + " | ".join(CAMVID_CLASSES) + " |", "|---" * (len(CAMVID_CLASSES) + 1) + "|"]
    for fold, values in shift.items():
        lines.append(f"| {fold} | " + " | ".join("-" if np.isnan(v) else f"{v:.2f}" for v in values) + " |")
    fits = [(path, shift_fit(shift, path)) for path in recipes or []]
    if fits:
        lines += ["", "| recipe | (class, fold) pairs | r of the logs | slope |", "|---|---|---|---|"]
        for path, fit in fits:
            cells = (
                "not all three folds | - | -"
                if fit is None
                else f"{fit['pairs']} | {fit['r']:.2f} | {fit['slope']:.2f}"
            )
            lines.append(f"| {path.name} | {cells} |")
    return "\n".join(lines)


def shifts(data: str) -> dict[str, np.ndarray]:
    """Per held-out sequence: each class's frequency in the training sequences / in the held-out one (nan if 0)."""
    train_pairs, val_pairs = fold_pairs(data, "val")  # together every labelled image; each mask read once
    pairs = train_pairs + val_pairs
    counts = {seq: label_counts(read_labels([p for p in pairs if sequence_of(p[0]) == seq])) for seq in SEQUENCES}
    out = {}
    for fold in SEQUENCES:
        train = shares(sum(c for seq, c in counts.items() if seq != fold))
        held = shares(counts[fold])
        out[fold] = np.divide(train, held, out=np.full_like(train, np.nan), where=held > 0)
    return out


def shift_fit(shift: dict[str, np.ndarray], recipe_dir: Path) -> dict[str, float] | None:
    """Correlation and slope of log(painted ratio) on log(label shift) over a recipe's (class, fold) pairs.

    ``recipe_dir`` holds finetune_camvid's fold files ``<fold>.json``; ``None`` unless all three are there.
    Pairs with a class never predicted (ratio 0) or never present are left out.

    Example:
        >>> shift_fit(shifts("../shared/data/camvid"), Path("results/camvid/session19/unet-ce-none"))  # doctest: +SKIP
        {'pairs': 33, 'r': 0.56, 'slope': 1.04}
    """
    files = [recipe_dir / f"{fold}.json" for fold in SEQUENCES]
    if not all(f.is_file() for f in files):
        return None
    x, y = [], []
    for fold, file in zip(SEQUENCES, files, strict=True):
        ratios = json.loads(file.read_text())["pixel_ratio"]
        for i, name in enumerate(CAMVID_CLASSES):
            if ratios.get(name) and np.isfinite(shift[fold][i]):
                x.append(np.log(shift[fold][i]))
                y.append(np.log(ratios[name]))
    slope = float(np.polyfit(x, y, 1)[0])
    return {"pairs": len(x), "r": round(float(np.corrcoef(x, y)[0, 1]), 3), "slope": round(slope, 3)}


def tables(results: list[dict[str, Any]]) -> str:
    """Markdown: mean IoU and ratio range per fold and variant, then the ratios per class."""
    lines = ["| fold | variant | mean IoU | pixel acc. | ratio min-max | all in [0.5, 2] |", "|---" * 6 + "|"]
    for r in results:
        for v in VARIANTS:
            low, high = r[v]["pixel_ratio_extremes"]
            lines.append(
                f"| {r['fold']} | {v} | {100 * r[v]['mean_iou']:.1f} | {100 * r[v]['pixel_accuracy']:.1f} "
                f"| {low:.2f}-{high:.2f} | {'yes' if r[v]['pixel_ratio_within_range'] else 'no'} |"
            )
    lines += ["", "| fold | variant | " + " | ".join(CAMVID_CLASSES) + " |", "|---" * (len(CAMVID_CLASSES) + 2) + "|"]
    for r in results:
        for v in VARIANTS:
            cells = [f"{r[v]['pixel_ratio'].get(c, float('nan')):.2f}" for c in CAMVID_CLASSES]
            lines.append(f"| {r['fold']} | {v} ratio | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Score the folds (or print the label-shift table with ``--shift``)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="CamVid folder (train/, trainannot/, val/, valannot/)")
    p.add_argument("--runs", type=Path, help="a recipe's run folder of finetune_camvid.py: <runs>/<fold>/model.keras")
    p.add_argument("--folds", nargs="+", default=list(SEQUENCES), choices=SEQUENCES)
    p.add_argument("--out", type=Path, help="JSON file for the results")
    p.add_argument("--shift", action="store_true", help="print the label shift between the sequences and stop")
    p.add_argument(
        "--fit",
        nargs="*",
        type=Path,
        default=[],
        metavar="RECIPE_DIR",
        help="with --shift: how the painted ratios of these finetune_camvid result folders follow it",
    )
    args = p.parse_args(argv)
    if args.shift:
        print(shift_table(args.data, args.fit))
        return 0
    if args.runs is None or args.out is None:
        p.error("--runs and --out are needed (or --shift)")
    missing = [f for f in args.folds if not (args.runs / f / "model.keras").is_file()]
    if missing:
        p.error(f"no model.keras for fold(s) {', '.join(missing)} under {args.runs}; train them with finetune_camvid")
    results = [run_fold(args.data, args.runs, fold) for fold in args.folds]
    from mobseg.io.atomic import atomic_write_text

    record = {"command": " ".join(sys.argv), "machine": machine_info(), "folds": results}
    atomic_write_text(json.dumps(record, indent=1), args.out)
    print(tables(results))
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
