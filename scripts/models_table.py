"""Print the mobseg models table (Markdown) from the registry, or write it to a file atomically.

Every model is built at its default input size with ``n_classes=12`` to count its parameters, so the table
can never drift from the code. Building the FCN models allocates their 4096-wide layers (up to 452M
parameters, about 1.8 GB each, one at a time); expect a minute or two on a laptop CPU.

Usage:
    python scripts/models_table.py                          # print to stdout
    python scripts/models_table.py --write docs/MODELS.md   # write the file (atomically)
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras

import mobseg
from mobseg.zoo.registry import get_model_info

N_CLASSES = 12
COMMAND = "python scripts/models_table.py --write docs/MODELS.md"

HEADER = f"""# mobseg models

<!-- Generated from the registry by `{COMMAND}`. Do not edit by hand: edit the models, then re-run it. -->

Every keras_segmentation architecture, with the same layer sequence, output shapes and parameter counts at
the same `n_classes` and input size. Build any of them with `mobseg.build_model(name, n_classes, ...)` or
`mobseg.<name>(n_classes, ...)`; `mobseg.list_models()` lists them.

- **default size**: keras_segmentation's default `input_height x input_width`.
- **output**: height x width of the predicted class map at the default size (the `"flat"` head reshapes it
  to `(H*W, n_classes)`). FCN outputs are 8 or 32 px larger than the input, as in the original; pass
  `crop=True` to crop them to the input's size.
- **params**: total parameters (trainable + BatchNormalization statistics) at `n_classes={N_CLASSES}` and the
  default size; every model's count equals keras_segmentation's.

Regenerate with:

```
{COMMAND}
```

"""


def model_rows(n_classes: int = N_CLASSES) -> list[dict[str, str]]:
    """One dict per registered model: name, encoder, decoder, default size, size rule, output, params.

    Example:
        >>> model_rows()[0]["name"]  # doctest: +SKIP
        'fcn_32'
    """
    rows = []
    for name in mobseg.list_models():
        info = get_model_info(name)
        model = mobseg.build_model(name, n_classes)
        height, width = info.default_size
        out_h, out_w = model.output_size
        rows.append(
            {
                "name": f"`{name}`",
                "encoder": info.encoder,
                "decoder": info.decoder,
                "default size": f"{height}x{width}",
                "size rule": info.size_rule,
                "output": f"{out_h}x{out_w}",
                f"params (n_classes={n_classes})": f"{model.count_params():,}",
            }
        )
        del model
        keras.backend.clear_session()
        gc.collect()
    return rows


def markdown_table(rows: list[dict[str, str]]) -> str:
    """Render rows (dicts with the same keys) as a Markdown table.

    Example:
        >>> print(markdown_table([{"a": "1", "b": "2"}]))
        | a | b |
        |---|---|
        | 1 | 2 |
    """
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "|".join("---" for _ in keys) + "|"]
    lines += ["| " + " | ".join(row[k] for k in keys) + " |" for row in rows]
    return "\n".join(lines)


def render() -> str:
    """The whole ``docs/MODELS.md`` text.

    Example:
        >>> render().startswith("# mobseg models")  # doctest: +SKIP
        True
    """
    return HEADER + markdown_table(model_rows()) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    Example:
        >>> write_atomically(Path("/tmp/models.md"), "# table\\n")  # doctest: +SKIP
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point.

    Example:
        >>> main(["--write", "docs/MODELS.md"])  # doctest: +SKIP
        0
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, default=None, help="write the table to this file instead of stdout")
    args = parser.parse_args(argv)
    text = render()
    if args.write is None:
        sys.stdout.write(text)
    else:
        write_atomically(args.write, text)
        print(f"wrote {args.write} ({len(mobseg.list_models())} models)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
