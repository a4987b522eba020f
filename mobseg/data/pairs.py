"""Pairing images with masks: two folders matched by file stem, or explicit lists of pairs."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mobseg.data.masks import LOSSY_MASK_EXTENSIONS, LOSSY_MASK_REASON, MASK_EXTENSIONS
from mobseg.io.images import IMAGE_EXTENSIONS


@dataclass(frozen=True)
class Pair:
    """One training example: an image file and its mask file.

    Example:
        >>> Pair("images/a.jpg", "masks/a.png").stem
        'a'
    """

    image: str
    mask: str

    @property
    def stem(self) -> str:
        """The image's file name without extension."""
        return Path(self.image).stem


@dataclass
class Pairing:
    """The result of matching two folders: the pairs and every file that could not be paired.

    Example:
        >>> Pairing().ok
        True
    """

    pairs: list[Pair] = field(default_factory=list)
    images_without_mask: list[str] = field(default_factory=list)
    masks_without_image: list[str] = field(default_factory=list)
    duplicate_stems: list[list[str]] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    #: image file -> its mask in a lossy format (JPEG, WebP), which mobseg refuses to read.
    lossy_masks: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every image has exactly one mask and vice versa."""
        return not (self.images_without_mask or self.masks_without_image or self.duplicate_stems)


def _list_folder(folder: Path, extensions: tuple[str, ...]) -> tuple[dict[str, list[str]], list[str]]:
    by_stem: dict[str, list[str]] = {}
    skipped = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        if entry.suffix.lower() in extensions:
            by_stem.setdefault(entry.stem, []).append(str(entry))
        else:
            skipped.append(str(entry))
    return by_stem, skipped


def check_folder(folder: str | os.PathLike, what: str) -> Path:
    """Return ``folder`` as a Path, or raise ``FileNotFoundError`` naming what it should hold.

    Example:
        >>> check_folder(".", "images").is_dir()
        True
    """
    path = Path(folder)
    if not path.is_dir():
        raise FileNotFoundError(f"The {what} folder {str(path)!r} does not exist (or is not a folder); check the path.")
    return path


def match_folders(images_dir: str | os.PathLike, masks_dir: str | os.PathLike) -> Pairing:
    """Match image and mask files by stem (``img/a.jpg`` <-> ``masks/a.png``), reporting every mismatch.

    Images: png, jpg, jpeg, bmp, tif(f); masks: png, bmp, tif(f) (lossless only). Hidden files are
    skipped; other files are listed in ``skipped_files``.

    Example:
        >>> pairing = match_folders("data/images", "data/masks")  # doctest: +SKIP
        >>> len(pairing.pairs), pairing.images_without_mask  # doctest: +SKIP
        (120, [])
    """
    images, skipped_images = _list_folder(check_folder(images_dir, "images"), IMAGE_EXTENSIONS)
    masks, skipped_masks = _list_folder(check_folder(masks_dir, "masks"), MASK_EXTENSIONS)
    result = Pairing(skipped_files=skipped_images + skipped_masks)
    lossy = {Path(f).stem: f for f in skipped_masks if Path(f).suffix.lower() in LOSSY_MASK_EXTENSIONS}
    for stem in sorted(set(images) | set(masks)):
        image_files, mask_files = images.get(stem, []), masks.get(stem, [])
        if len(image_files) > 1:
            result.duplicate_stems.append(image_files)
        if len(mask_files) > 1:
            result.duplicate_stems.append(mask_files)
        if not mask_files:
            result.images_without_mask.extend(image_files)
            if stem in lossy:
                result.lossy_masks.update({image: lossy[stem] for image in image_files})
        elif not image_files:
            result.masks_without_image.extend(mask_files)
        elif len(image_files) == 1 and len(mask_files) == 1:
            result.pairs.append(Pair(image_files[0], mask_files[0]))
    return result


def _short_list(files: Sequence[str], limit: int = 5) -> str:
    names = [os.path.basename(f) for f in files[:limit]]
    more = f" and {len(files) - limit} more" if len(files) > limit else ""
    return ", ".join(names) + more


def list_pairs(
    images: str | os.PathLike | None = None,
    masks: str | os.PathLike | None = None,
    *,
    pairs: Iterable[tuple[str, str] | Pair] | None = None,
) -> list[Pair]:
    """The training pairs from two folders (strict: every file must be paired) or from explicit pairs.

    Raises ``FileNotFoundError`` for missing folders or files and ``ValueError`` for unpaired files
    or an empty dataset (run ``mobseg verify`` to see every problem at once).

    Example:
        >>> list_pairs(pairs=[("a.png", "a_mask.png")])  # doctest: +SKIP
        [Pair(image='a.png', mask='a_mask.png')]
    """
    if pairs is not None:
        if images is not None or masks is not None:
            raise ValueError("Give either images and masks folders, or pairs, not both.")
        result = []
        for item in pairs:
            pair = item if isinstance(item, Pair) else Pair(*(os.fspath(p) for p in item))
            for path in (pair.image, pair.mask):
                if not os.path.isfile(path):
                    raise FileNotFoundError(f"File not found: {path} (from the list of pairs).")
            result.append(pair)
        if not result:
            raise ValueError("The list of pairs is empty: give at least one (image, mask) pair.")
        return result
    if images is None or masks is None:
        raise ValueError("Give both an images folder and a masks folder (or pairs=[(image, mask), ...]).")
    pairing = match_folders(images, masks)
    problems = []
    if pairing.lossy_masks:
        problems.append(
            f"JPEG/WebP masks, which cannot be read: {_short_list(list(pairing.lossy_masks.values()))} "
            f"({LOSSY_MASK_REASON})"
        )
    unmatched = [path for path in pairing.images_without_mask if path not in pairing.lossy_masks]
    if unmatched:
        problems.append(f"images without a mask: {_short_list(unmatched)}")
    if pairing.masks_without_image:
        problems.append(f"masks without an image: {_short_list(pairing.masks_without_image)}")
    for group in pairing.duplicate_stems:
        problems.append(f"several files share one name: {_short_list(group)}")
    if problems:
        raise ValueError(
            f"Cannot pair {images} with {masks}: " + "; ".join(problems) + ". Images and masks are paired by file "
            "name without extension; fix or remove these files (`mobseg verify` lists every problem)."
        )
    if not pairing.pairs:
        raise ValueError(
            f"No image/mask pairs found in {images} and {masks}: images must be "
            f"{'/'.join(e[1:] for e in IMAGE_EXTENSIONS)} and masks {'/'.join(e[1:] for e in MASK_EXTENSIONS)}."
        )
    return pairing.pairs


__all__ = ["Pair", "Pairing", "check_folder", "list_pairs", "match_folders"]
