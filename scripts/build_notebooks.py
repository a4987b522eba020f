"""Write the notebooks in notebooks/ from the cell sources below, and execute them with outputs saved.

    python scripts/build_notebooks.py              # write + execute all (full settings)
    python scripts/build_notebooks.py --only 01    # one notebook
    MOBSEG_SMOKE=1 python scripts/build_notebooks.py --no-execute   # write only

The notebooks are the documentation a user opens; keeping their source here makes them reviewable
as code. tests/test_notebooks.py executes every notebook in the small "smoke" setting
(MOBSEG_SMOKE=1) so they never rot.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip())


def code(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(text.strip())


ARTICLE = [
    md(
        """
# 01 — The article's MobileNet-SegNet, rebuilt exactly in Keras 3

The MobileNet-SegNet article publishes the `summary()` of `mobilenet_segnet(2, input_height=416, input_width=416)`:
5,541,378 parameters. This notebook builds mobseg's model, compares it with the published totals, shows the
encoder's feature pyramid, and what swapping the activation changes (and what it does not).
"""
    ),
    code(
        """
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras
import mobseg

model = mobseg.mobilenet_segnet(2, input_height=416, input_width=416)
model.summary(line_length=100)
"""
    ),
    md("## The published totals, side by side"),
    code(
        """
import math

published = {"Total params": 5_541_378, "Trainable params": 5_524_738, "Non-trainable params": 16_640}
trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
non_trainable = sum(math.prod(w.shape) for w in model.non_trainable_weights)
ours = {"Total params": trainable + non_trainable, "Trainable params": trainable, "Non-trainable params": non_trainable}
print(f"{'':22} {'article':>12} {'mobseg':>12}")
for key in published:
    print(f"{key:22} {published[key]:>12,} {ours[key]:>12,}  {'same' if published[key] == ours[key] else 'DIFFERENT'}")
assert ours == published
cost = mobseg.flops(model)
print(f"\\n{cost.gflops:.2f} GFLOP per 416x416 image; the SegNet decoder does "
      f"{sum(v for k, v in cost.per_layer.items() if k.startswith('segnet')) / cost.macs:.0%} of it")
"""
    ),
    md(
        """
## The encoder's pyramid

`mobilenet_encoder` returns the image input and five feature maps f1..f5 at strides 2, 4, 8, 16, 32.
The article's decoder reads f4 (`encoder_level=3`) and upsamples it 8x, so the output is half the input size.
"""
    ),
    code(
        """
features = mobseg.mobilenet_encoder(224, 224)
for level, (f, stride) in enumerate(zip(features.pyramid, features.strides)):
    print(f"f{level + 1}  stride {stride:2d}  {tuple(f.shape[1:])}")
half = mobseg.mobilenet_encoder(224, 224, alpha=0.5)
print("alpha=0.5 channels:", half.channels)
"""
    ),
    md(
        """
## Swapping the activation

Every activation goes through one resolver: a name, a Keras function, a layer class or instance, or a layer factory.
Only the activation layers change; the parameter count stays the same, except for activations with weights
(PReLU learns one slope per channel).
"""
    ),
    code(
        """
def describe(m):
    acts = [layer for layer in m.layers if layer.name.endswith("_relu")]
    kinds = sorted({layer.get_config().get("activation", layer.__class__.__name__) for layer in acts})
    return len(acts), kinds, m.count_params()

small = dict(input_height=224, input_width=224)
for spec in ["relu6", "gelu", "mish", "prelu", keras.layers.LeakyReLU(negative_slope=0.1)]:
    n, kinds, params = describe(mobseg.mobilenet_segnet(2, activation=spec, **small))
    label = spec if isinstance(spec, str) else type(spec).__name__
    print(f"{label:12} {n} activation layers -> {kinds}; params {params:,}")
"""
    ),
    md(
        """
The article's decoder has no nonlinearity between its convolutions (a faithful flaw that mobseg keeps by default).
`decoder_activation=` adds one after every decoder BatchNormalization, without adding parameters:
"""
    ),
    code(
        """
plain = mobseg.mobilenet_segnet(2, **small)
fixed = mobseg.mobilenet_segnet(2, decoder_activation="relu", **small)
print(len(plain.layers), "->", len(fixed.layers), "layers;", plain.count_params() == fixed.count_params())
print([layer.name for layer in fixed.layers if layer.name.startswith("segnet_act")])
"""
    ),
]

BOOKS = {"01": ("01_article_model.ipynb", ARTICLE)}


def write(name: str, cells: list) -> Path:
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = NOTEBOOKS / name
    NOTEBOOKS.mkdir(exist_ok=True)
    nbformat.write(notebook, path)
    return path


def execute(path: Path, cwd: Path, timeout: int = 3600) -> None:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    tmp = path.with_suffix(".tmp")
    nbformat.write(notebook, tmp)
    os.replace(tmp, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=sorted(BOOKS))
    parser.add_argument("--no-execute", action="store_true")
    args = parser.parse_args()
    for key in args.only:
        name, cells = BOOKS[key]
        path = write(name, cells)
        if not args.no_execute:
            execute(path, NOTEBOOKS)
        print("wrote", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
