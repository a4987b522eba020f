"""``verify_dataset``: check a segmentation dataset and report every problem in one run."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from mobseg.data.masks import LOSSY_MASK_REASON, binary_mask_hint, check_mask_format, decode_mask, parse_colors
from mobseg.data.pairs import Pair, check_folder, match_folders
from mobseg.io.images import TRANSPOSING_ORIENTATIONS, open_image

#: Problem kinds reported by :func:`verify_dataset`.
PROBLEM_KINDS: tuple[str, ...] = (
    "missing_folder",
    "empty_folder",
    "missing_mask",
    "missing_image",
    "duplicate_name",
    "unreadable_image",
    "unreadable_mask",
    "bad_mask",
    "lossy_mask",
    "size_mismatch",
    "label_out_of_range",
)


@dataclass(frozen=True)
class Problem:
    """One problem found in a dataset: its kind, the file concerned and what to do."""

    kind: str
    file: str
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.file}: {self.message}"


@dataclass
class DatasetReport:
    """What :func:`verify_dataset` found.

    Attributes:
        pairs: the image/mask pairs that were found.
        problems: every problem, in file order.
        image_sizes: how many images have each (width, height).
        class_pixels: pixels per class 0..n_classes-1 over the masks that could be read.
        ignored_pixels: pixels equal to ``ignore_index``.
        labels_found: every label value seen in the masks.
        skipped_files: files with other extensions, not used.

    Example:
        >>> report = verify_dataset("data/images", "data/masks", n_classes=3)  # doctest: +SKIP
        >>> report.ok, len(report.pairs)  # doctest: +SKIP
        (True, 120)
    """

    pairs: list[Pair] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    image_sizes: Counter = field(default_factory=Counter)
    class_pixels: list[int] = field(default_factory=list)
    ignored_pixels: int = 0
    labels_found: list[int] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    n_classes: int | None = None
    ignore_index: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def summary(self) -> str:
        """A human-readable report: problems first, then the dataset summary.

        Example:
            >>> print(DatasetReport().summary().splitlines()[0])
            0 pairs, 0 problems
        """
        lines = [f"{len(self.pairs)} pairs, {len(self.problems)} problem{'s' * (len(self.problems) != 1)}"]
        lines += [f"  {p}" for p in self.problems]
        lines += [f"warning: {w}" for w in self.warnings]
        if self.image_sizes:
            sizes = ", ".join(f"{w}x{h} ({n})" for (w, h), n in self.image_sizes.most_common(5))
            more = f" and {len(self.image_sizes) - 5} more" if len(self.image_sizes) > 5 else ""
            lines.append(f"image sizes (width x height): {sizes}{more}")
        if self.class_pixels:
            total = max(sum(self.class_pixels), 1)
            lines.append("class pixels:")
            for c, n in enumerate(self.class_pixels):
                lines.append(f"  {c:>3}: {n:>12,d}  {100.0 * n / total:6.2f}%")
        if self.ignore_index is not None:
            lines.append(f"ignored pixels (label {self.ignore_index}): {self.ignored_pixels:,d}")
        if self.labels_found:
            lines.append(f"label values found: {self.labels_found}")
        if self.skipped_files:
            lines.append(f"skipped {len(self.skipped_files)} file(s) with other extensions")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form of the report."""
        return {
            "pairs": len(self.pairs),
            "problems": [vars(p) for p in self.problems],
            "image_sizes": {f"{w}x{h}": n for (w, h), n in self.image_sizes.items()},
            "class_pixels": self.class_pixels,
            "ignored_pixels": self.ignored_pixels,
            "labels_found": self.labels_found,
            "warnings": list(self.warnings),
        }


def _open(path: str) -> tuple[Image.Image | None, int, str | None]:
    """(upright image or None, EXIF orientation, error text or None)."""
    try:
        image, orientation = open_image(path)
        return image, orientation, None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        return None, 1, str(err) or type(err).__name__


def _size_problem(pair: Pair, image: Image.Image, image_turn: int, mask: Image.Image, mask_turn: int) -> Problem:
    """The size-mismatch problem, explaining when the sizes match only before EXIF rotation."""
    (iw, ih), (mw, mh) = image.size, mask.size
    message = (
        f"mask is {mw}x{mh} but image {os.path.basename(pair.image)} is {iw}x{ih} (width x height); "
        "masks must match their image pixel for pixel."
    )
    turned = (image_turn in TRANSPOSING_ORIENTATIONS) != (mask_turn in TRANSPOSING_ORIENTATIONS)
    if turned and (iw, ih) == (mh, mw):
        which = "image" if image_turn in TRANSPOSING_ORIENTATIONS else "mask"
        turn = image_turn if which == "image" else mask_turn
        message = (
            f"the {which} carries EXIF orientation {turn} (rotated by 90 degrees), so it is {iw}x{ih} as photo "
            f"viewers and mobseg show it, while the mask is {mw}x{mh}: the sizes match only before the rotation. "
            f"Rotate the mask the same way (or save the {which} upright without the orientation tag)."
        )
    return Problem("size_mismatch", pair.mask, message)


def _check_pair(
    pair: Pair, n_classes: int | None, ignore_index: int | None, mask_format: str, colors: Any
) -> tuple[list[Problem], tuple[int, int] | None, np.ndarray | None]:
    problems = []
    image, image_turn, image_error = _open(pair.image)
    if image_error:
        problems.append(Problem("unreadable_image", pair.image, f"cannot be decoded ({image_error}); re-export it."))
    mask, mask_turn, mask_error = _open(pair.mask)
    labels = None
    if mask_error:
        problems.append(Problem("unreadable_mask", pair.mask, f"cannot be decoded ({mask_error}); re-export it."))
    else:
        try:
            labels = decode_mask(mask, mask_format, colors, name=os.path.basename(pair.mask))
        except ValueError as err:
            problems.append(Problem("bad_mask", pair.mask, str(err)))
    if image is not None and mask is not None and image.size != mask.size:
        problems.append(_size_problem(pair, image, image_turn, mask, mask_turn))
    if labels is not None and n_classes is not None:
        bad = (labels >= n_classes) & (labels != (-1 if ignore_index is None else ignore_index))
        if bad.any():
            values = np.unique(labels[bad])
            shown = ", ".join(str(v) for v in values[:10]) + (" ..." if len(values) > 10 else "")
            hint = "" if ignore_index is not None else " or set ignore_index"
            problems.append(
                Problem(
                    "label_out_of_range",
                    pair.mask,
                    f"{int(bad.sum())} pixels have label values {shown}, not below n_classes={n_classes} "
                    f"(allowed: 0..{n_classes - 1}"
                    f"{'' if ignore_index is None else f' and ignore_index={ignore_index}'}); "
                    f"fix the mask, raise n_classes{hint}.{binary_mask_hint(labels)}",
                )
            )
    size = image.size if image is not None else None
    return problems, size, labels


def _collect_given_pairs(report: DatasetReport, pairs: Iterable[tuple[str, str] | Pair]) -> None:
    """Add the given pairs to ``report``, and a problem for each file that does not exist."""
    for item in pairs:
        pair = item if isinstance(item, Pair) else Pair(*(os.fspath(p) for p in item))
        missing = [p for p in (pair.image, pair.mask) if not os.path.isfile(p)]
        for path in missing:
            kind = "missing_image" if path == pair.image else "missing_mask"
            report.problems.append(Problem(kind, path, "file not found."))
        if not missing:
            report.pairs.append(pair)


def _collect_folder_pairs(report: DatasetReport, images: str | os.PathLike, masks: str | os.PathLike) -> bool:
    """Pair two folders by file stem into ``report``; False when a folder is missing (nothing to check)."""
    folders_ok = True
    for folder, what in ((images, "images"), (masks, "masks")):
        try:
            path = check_folder(folder, what)
        except FileNotFoundError as err:
            report.problems.append(Problem("missing_folder", str(folder), str(err)))
            folders_ok = False
            continue
        if not any(not p.name.startswith(".") for p in Path(path).iterdir()):
            report.problems.append(Problem("empty_folder", str(folder), f"the {what} folder is empty."))
    if not folders_ok:
        return False
    pairing = match_folders(images, masks)
    report.pairs = pairing.pairs
    report.skipped_files = pairing.skipped_files
    for path in pairing.images_without_mask:
        if path in pairing.lossy_masks:
            lossy = pairing.lossy_masks[path]
            report.problems.append(Problem("lossy_mask", lossy, f"a JPEG/WebP mask: {LOSSY_MASK_REASON}."))
            continue
        stem = Path(path).stem
        report.problems.append(Problem("missing_mask", path, f"no mask named {stem}.png/.bmp/.tif in {masks}."))
    for path in pairing.masks_without_image:
        report.problems.append(Problem("missing_image", path, f"no image with the same name in {images}."))
    for group in pairing.duplicate_stems:
        others = ", ".join(os.path.basename(p) for p in group[1:])
        report.problems.append(
            Problem("duplicate_name", group[0], f"shares its name with {others}; keep one file per name.")
        )
    if not pairing.pairs and not any(p.kind == "empty_folder" for p in report.problems):
        report.problems.append(
            Problem("empty_folder", str(images), "no image/mask pairs found (check extensions and names).")
        )
    return True


def _check_all_pairs(
    report: DatasetReport,
    n_classes: int | None,
    ignore_index: int | None,
    mask_format: str,
    colors: Any,
    workers: int,
) -> None:
    """Read every pair (in threads): add its problems, image size and label counts to ``report``."""
    value_counts: Counter = Counter()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = pool.map(lambda p: _check_pair(p, n_classes, ignore_index, mask_format, colors), report.pairs)
        for problems, size, labels in results:
            report.problems.extend(problems)
            if size is not None:
                report.image_sizes[size] += 1
            if labels is not None:
                values, counts = np.unique(labels, return_counts=True)
                value_counts.update(dict(zip(values.tolist(), counts.tolist(), strict=True)))
    report.ignored_pixels = int(value_counts.pop(ignore_index, 0)) if ignore_index is not None else 0
    report.labels_found = sorted(set(value_counts) | ({ignore_index} if report.ignored_pixels else set()))
    size = n_classes if n_classes is not None else (max(value_counts) + 1 if value_counts else 0)
    class_pixels = np.zeros(max(size, 0), np.int64)
    for value, count in value_counts.items():
        if 0 <= value < size:
            class_pixels[value] += count
    report.class_pixels = class_pixels.tolist()
    if ignore_index == 255 and mask_format == "index" and set(report.labels_found) == {0, 255}:
        report.warnings.append(
            "every mask holds only 0 and 255 and ignore_index=255: all object pixels would be ignored and only "
            "background learned. If 255 marks the object, use mask_format='binary' (--mask-format binary) "
            "without ignore_index."
        )


def verify_dataset(
    images: str | os.PathLike | None = None,
    masks: str | os.PathLike | None = None,
    *,
    pairs: Iterable[tuple[str, str] | Pair] | None = None,
    n_classes: int | None = None,
    ignore_index: int | None = None,
    mask_format: str = "index",
    colors: Any = None,
    workers: int = 4,
) -> DatasetReport:
    """Check a dataset and return a :class:`DatasetReport` with EVERY problem found, by file name.

    Checks: missing or empty folders, images without a mask and masks without an image, two files
    with one name, unreadable/corrupt images and masks, masks that do not fit ``mask_format``
    (e.g. unknown colours), image/mask size mismatches, and label values >= ``n_classes`` that are
    not ``ignore_index``. The summary gives the pairs, the image sizes and the class pixel histogram.
    It does not raise for problems in the data: look at ``report.ok`` / ``report.problems``.

    Example:
        >>> report = mobseg.verify_dataset("data/images", "data/masks", n_classes=3)  # doctest: +SKIP
        >>> print(report)  # doctest: +SKIP
    """
    mask_format = check_mask_format(mask_format, colors)
    if colors is not None:
        colors = parse_colors(colors)
    report = DatasetReport(n_classes=n_classes, ignore_index=ignore_index)
    if pairs is not None:
        _collect_given_pairs(report, pairs)
    else:
        if images is None or masks is None:
            raise ValueError("Give both an images folder and a masks folder, or pairs=[(image, mask), ...].")
        if not _collect_folder_pairs(report, images, masks):
            return report
    _check_all_pairs(report, n_classes, ignore_index, mask_format, colors, workers)
    return report


__all__ = ["PROBLEM_KINDS", "DatasetReport", "Problem", "verify_dataset"]
