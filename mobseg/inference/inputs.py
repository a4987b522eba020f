"""What to predict: a file, a folder, a list file, arrays; output names; deterministic shards across machines."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mobseg.io.images import list_images

#: A text file with one image path per line (relative paths are relative to the list's folder).
LIST_EXTENSIONS: tuple[str, ...] = (".txt", ".lst")


@dataclass(frozen=True)
class InputItem:
    """One input: ``index`` in the full input list, the ``item`` (a path or an array) and its output ``stem``."""

    index: int
    item: Any
    stem: str

    @property
    def label(self) -> str:
        """How messages name it: the path, or ``array <index>``."""
        return os.fspath(self.item) if isinstance(self.item, (str, os.PathLike)) else f"array {self.index}"


def read_list_file(path: str) -> list[str]:
    """Image paths listed in a text file, one a line (blank lines and ``#`` comments skipped).

    Example:
        >>> read_list_file("val.txt")  # doctest: +SKIP
        ['data/val/a.png', 'data/val/b.png']
    """
    folder = os.path.dirname(os.path.abspath(path))
    with open(path, encoding="utf-8") as stream:
        lines = [line.strip() for line in stream]
    files = [line if os.path.isabs(line) else os.path.join(folder, line) for line in lines if line and line[0] != "#"]
    if not files:
        raise ValueError(f"The list file {path} names no images (one path per line).")
    return files


def collect_inputs(inputs: Any) -> tuple[list[InputItem], bool]:
    """``(items, single)`` from a file, a folder, a list file (``.txt``), an array, or a list of paths and arrays.

    ``single`` is True for one file or one array (``predict`` then returns one mask).

    Example:
        >>> items, single = collect_inputs([np.zeros((4, 4), np.uint8)])
        >>> items[0].stem, single
        ('image_0000', False)
    """
    if isinstance(inputs, (str, os.PathLike)):
        path = os.fspath(inputs)
        if os.path.isdir(path):
            files = list_images(path)
        elif not os.path.isfile(path):
            raise FileNotFoundError(f"Input not found: {path}. Pass an image file, a folder of images or arrays.")
        elif os.path.splitext(path)[1].lower() in LIST_EXTENSIONS:
            files = read_list_file(path)
        else:
            return [InputItem(0, path, Path(path).stem)], True
        return [InputItem(i, f, Path(f).stem) for i, f in enumerate(files)], False
    if isinstance(inputs, np.ndarray) and inputs.ndim in (2, 3):
        return [InputItem(0, inputs, "image_0000")], True
    items = list(inputs)
    if not items:
        raise ValueError("predict got no inputs: pass an image file, a folder, an array or a non-empty list.")
    return [
        InputItem(i, item, Path(os.fspath(item)).stem if isinstance(item, (str, os.PathLike)) else f"image_{i:04d}")
        for i, item in enumerate(items)
    ], False


def check_unique_stems(items: list[InputItem]) -> None:
    """Refuse two inputs that would write the same output file name.

    Example:
        >>> check_unique_stems([InputItem(0, "a/x.png", "x"), InputItem(1, "b/x.jpg", "x")])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Two inputs would write the same output name 'x': a/x.png and b/x.jpg. Rename one of them ...
    """
    seen: dict[str, str] = {}
    for item in items:
        if item.stem in seen:
            raise ValueError(
                f"Two inputs would write the same output name {item.stem!r}: {seen[item.stem]} and {item.label}. "
                "Rename one of them or predict them into different folders."
            )
        seen[item.stem] = item.label


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` (1 <= K <= N) as ``(K, N)``.

    Example:
        >>> parse_shard("2/4")
        (2, 4)
    """
    try:
        k, n = (int(part) for part in str(text).split("/"))
    except ValueError:
        raise ValueError(f"--shard takes K/N, e.g. 1/4 for the first of 4 machines; got {text!r}.") from None
    check_shard((k, n))
    return k, n


def check_shard(shard: tuple[int, int]) -> tuple[int, int]:
    """Validate ``(K, N)``: N >= 1 machines, this one is number K in 1..N.

    Example:
        >>> check_shard((1, 1))
        (1, 1)
    """
    k, n = shard
    if n < 1 or not 1 <= k <= n:
        raise ValueError(f"shard {k}/{n}: N must be >= 1 and K in 1..N (machine K of N).")
    return int(k), int(n)


def shard_of(stem: str, n: int) -> int:
    """The shard (1..n) an output name belongs to: a hash of the name, the same on every machine.

    It depends on the name only, not on the other files, so machines that list a folder at slightly
    different moments still agree on every file that both see.

    Example:
        >>> shard_of("0001TP_006690", 4) in (1, 2, 3, 4)
        True
    """
    digest = hashlib.sha1(stem.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n + 1


def select_shard(items: list[InputItem], shard: tuple[int, int] | None) -> list[InputItem]:
    """The items of shard ``(K, N)`` (all items for ``None``); the N shards partition the items.

    Example:
        >>> items, _ = collect_inputs([np.zeros((2, 2), np.uint8)] * 10)
        >>> sum(len(select_shard(items, (k, 3))) for k in (1, 2, 3))
        10
    """
    if shard is None:
        return items
    k, n = check_shard(shard)
    return [item for item in items if shard_of(item.stem, n) == k]


__all__ = [
    "InputItem",
    "check_shard",
    "check_unique_stems",
    "collect_inputs",
    "parse_shard",
    "read_list_file",
    "select_shard",
    "shard_of",
]
