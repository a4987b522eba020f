"""Print the mobseg models table (Markdown) from the registry, or write it to a file atomically.

Every model is built at its default input size with ``n_classes=12`` to count its parameters, and at 224x224 and
512x512 to count its FLOPs (``mobseg.flops``), so the table can never drift from the code. Building the FCN
models allocates their 4096-wide layers (up to 452M parameters, about 1.8 GB each, one at a time) and the 60
models are built up to three times each; expect 10 to 20 minutes on a 2-core CPU.

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
from mobseg.encoders import get_encoder
from mobseg.encoders.applications import APPLICATION_ENCODERS
from mobseg.zoo.modern import MODERN_ENCODERS, MODERN_MODELS
from mobseg.zoo.registry import get_model_info

N_CLASSES = 12
COMMAND = "python scripts/models_table.py --write docs/MODELS.md"
#: Square input sizes at which FLOPs are counted.
FLOP_SIZES = (224, 512)

HEADER = f"""# mobseg models

<!-- Generated from the registry by `{COMMAND}`. Do not edit by hand: edit the models, then re-run it. -->

Build any model with `mobseg.build_model(name, n_classes, ...)` or `mobseg.<name>(n_classes, ...)`;
`mobseg.list_models()` lists them. Names are `<encoder>_<decoder>` (keras_segmentation's FCN names aside), and
`mobseg.build_model(decoder, n_classes, encoder=...)` builds the same model: `build_model("deeplabv3plus", 12,
encoder="mobilenetv2")` is `mobilenetv2_deeplabv3plus`.

- **default size**: the default `input_height x input_width` (keras_segmentation's for its models).
- **output**: height x width of the predicted class map at the default size (the `"flat"` head reshapes it
  to `(H*W, n_classes)`). FCN outputs are 8 or 32 px larger than the input, as in the original; pass
  `crop=True` to crop them to the input's size.
- **params**: total parameters (trainable + BatchNormalization statistics) at `n_classes={N_CLASSES}` and the
  default size; keras_segmentation's models have its counts, the modern ones Keras applications' encoder
  count plus their decoder's (both tested).
- **GFLOPs**: FLOPs per image (2 x multiply-adds of the convolutions and dense layers, `mobseg.flops`) at
  224x224 and 512x512, `n_classes={N_CLASSES}`; "-" where the size rule excludes that size (PSPNet: multiples of
  192).

Regenerate with:

```
{COMMAND}
```

"""

ORIGINALS_INTRO = """## keras_segmentation's 20 models

The same layer sequence, output shapes and parameter counts as keras_segmentation at the same `n_classes` and
input size; their faithful flaws are kept by default and documented in each factory's docstring.

"""

MODERN_INTRO = """## Modern mobile models

DeepLabV3+, LR-ASPP, FPN and LinkNet (`mobseg/decoders/`) on every mobile encoder: all 40 combinations are
registered. Their logits have the input's size; inputs are multiples of 16. DeepLabV3+ and LR-ASPP take
`output_stride` (16 by default, as in their papers; 8 dilates one more stage, 32 none): the FLOPs below are
at 16. The four on MobileNet v1 (`mobilenet_*`) use the one ImageNet file available offline; they are the ones
to compare with `mobilenet_unet` and `mobilenet_segnet`. See `mobseg.zoo.modern` and
`mobseg.encoders.applications` for what each part is and why this set.

### Encoders

| encoder | built from | params | f1..f5 channels | preprocessing (inputs) | activation (default) | ImageNet file |
|---|---|---|---|---|---|---|
"""


def _gflops(name: str, size: int, n_classes: int) -> str:
    """GFLOPs of ``name`` at size x size, or "-" when its size rule excludes that size."""
    try:
        model = mobseg.build_model(name, n_classes, input_height=size, input_width=size)
    except ValueError:
        return "-"
    gflops = mobseg.flops(model).gflops
    del model
    _release()
    return f"{gflops:.2f}"


def _release() -> None:
    keras.backend.clear_session()
    gc.collect()


def model_rows(names: list[str], n_classes: int = N_CLASSES) -> list[dict[str, str]]:
    """One dict per model: name, encoder, decoder, default size, size rule, output, params, GFLOPs at 224 and 512.

    Example:
        >>> model_rows(["mobilenet_segnet"])[0]["params (n_classes=12)"]  # doctest: +SKIP
        '5,547,148'
    """
    rows = []
    for name in names:
        info = get_model_info(name)
        model = mobseg.build_model(name, n_classes)
        height, width = info.default_size
        out_h, out_w = model.output_size
        params = model.count_params()
        at_default = f"{mobseg.flops(model).gflops:.2f}"
        del model
        _release()
        gflops = {s: at_default if (s, s) == (height, width) else _gflops(name, s, n_classes) for s in FLOP_SIZES}
        rows.append(
            {
                "name": f"`{name}`",
                "encoder": info.encoder,
                "decoder": info.decoder,
                "default size": f"{height}x{width}",
                "size rule": info.size_rule,
                "output": f"{out_h}x{out_w}",
                f"params (n_classes={n_classes})": f"{params:,}",
                **{f"GFLOPs {s}x{s}": gflops[s] for s in FLOP_SIZES},
            }
        )
    return rows


def encoder_rows() -> list[str]:
    """One Markdown row per modern encoder: its source, parameters, pyramid channels, preprocessing, file.

    Example:
        >>> encoder_rows()[0].startswith("| `mobilenet` |")  # doctest: +SKIP
        True
    """
    from mobseg.pretrained import imagenet_file_name
    from mobseg.zoo.family import ZOO_ENCODERS

    rows = []
    for name in MODERN_ENCODERS:
        features = get_encoder(name)(224, 224)
        params = keras.Model(features.inputs, features.pyramid).count_params()
        spec = APPLICATION_ENCODERS.get(name)
        source = f"`keras.applications.{spec.application}`" if spec else "mobseg (Keras applications' layer names)"
        activation = ZOO_ENCODERS[name].activation or "as built: ReLU, then hard-swish"
        channels = ", ".join(str(c) for c in features.channels)
        inputs = {"mobilenet": "[-1, 1]", "none": "[0, 255], rescaled inside"}[features.preprocessing]
        rows.append(
            f"| `{name}` | {source} | {params:,} | {channels} | `{features.preprocessing}` ({inputs}) "
            f"| {activation} | `{imagenet_file_name(name)}` |"
        )
        del features
        _release()
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
    originals = [name for name in mobseg.list_models() if name not in MODERN_MODELS]
    modern = list(MODERN_MODELS)
    return (
        HEADER
        + ORIGINALS_INTRO
        + markdown_table(model_rows(originals))
        + "\n\n"
        + MODERN_INTRO
        + "\n".join(encoder_rows())
        + "\n\n### Models\n\n"
        + markdown_table(model_rows(modern))
        + "\n"
    )


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
