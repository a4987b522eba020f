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
import re
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

FINETUNE = [
    md(
        """
# 02 — Fine-tune on your own images and masks

From a folder of images and a folder of masks (paired by file name) to a trained model: **verify** the data,
**train** with the encoder frozen first and then unfrozen, **evaluate** on the validation pairs and **look** at the
predictions as overlays. Everything goes through mobseg's public API (`verify_dataset`, `train`, `load_model`,
`evaluate`, `predict`).

Settings come from environment variables, so the same notebook runs on your data and in the test suite:

- `MOBSEG_DATA`: a CamVid folder (`train/`, `trainannot/`, `val/`, `valannot/`; 11 classes, class 11 ignored).
  Default: the built-in synthetic sample data (`mobseg.datasets.make_shapes`) in a temporary folder.
- `MOBSEG_WEIGHTS`: a MobileNet v1 `.h5` file (`mobilenet_1_0_224_tf_no_top.h5`) loaded into the encoder.
  Default: `../../shared/weights/mobilenet_1_0_224_tf_no_top.h5` if present, else from scratch.
- `MOBSEG_SMOKE`: tiny sizes and 2 epochs (the notebook test).
"""
    ),
    code(
        """
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tempfile
from pathlib import Path

import numpy as np
from IPython.display import Image as ShowImage, display
from PIL import Image

import mobseg

SMOKE = bool(os.environ.get("MOBSEG_SMOKE"))
DATA = os.environ.get("MOBSEG_DATA")
WORK = Path(tempfile.mkdtemp(prefix="mobseg_nb02_"))

if DATA:  # CamVid, SegNet tutorial layout
    images, masks = os.path.join(DATA, "train"), os.path.join(DATA, "trainannot")
    val_images, val_masks = os.path.join(DATA, "val"), os.path.join(DATA, "valannot")
    class_names = ["Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car",
                   "Pedestrian", "Bicyclist"]
    ignore_index = 11                                   # "Unlabelled": counted in neither loss nor metrics
    input_size = (32, 32) if SMOKE else (96, 128)
    model_kwargs = {}                                   # the article's model: output at half the input size
    epochs, freeze = (2, 1) if SMOKE else (10, 2)
else:             # built-in sample data: circles, rectangles, triangles with exact masks
    shapes = mobseg.datasets.make_shapes(WORK / "shapes", n_train=16 if SMOKE else 200, n_val=8 if SMOKE else 40,
                                         size=(64, 64))
    images, masks, val_images, val_masks = shapes.train_images, shapes.train_masks, shapes.val_images, shapes.val_masks
    class_names, ignore_index = list(shapes.class_names), None
    input_size = (32, 32) if SMOKE else (64, 64)
    model_kwargs = {"encoder_level": 2}                 # decoder reads f3: output at full input size
    epochs, freeze = (2, 1) if SMOKE else (8, 2)
n_classes = len(class_names)

candidates = [os.environ.get("MOBSEG_WEIGHTS"), "../../shared/weights/mobilenet_1_0_224_tf_no_top.h5"]
WEIGHTS = next((p for p in candidates if p and os.path.isfile(p)), None)
print(f"data: {DATA or 'built-in sample data (make_shapes)'}; {n_classes} classes; input {input_size}; "
      f"{epochs} epochs ({freeze} frozen); encoder weights: {WEIGHTS or 'none (from scratch)'}")
"""
    ),
    md(
        """
## 1. Verify the data

`verify_dataset` reads every pair once and reports **all** problems by file name (unpaired files, unreadable
images, size mismatches, label values that are not classes), then the sizes and the class pixel histogram.
Fix what it finds before training; training refuses unpaired folders anyway.
"""
    ),
    code(
        """
report = mobseg.verify_dataset(images, masks, n_classes=n_classes, ignore_index=ignore_index)
print("TRAIN:", report)
val_report = mobseg.verify_dataset(val_images, val_masks, n_classes=n_classes, ignore_index=ignore_index)
print("\\nVAL:", val_report.summary().splitlines()[0])
assert report.ok and val_report.ok
"""
    ),
    md("A few training pairs, the mask in the class colours (palette index = class):"),
    code(
        """
from mobseg.inference import add_legend, colorize_mask, default_palette, overlay_mask

palette = default_palette(n_classes)
if ignore_index is not None:                            # show ignored pixels in black
    palette_shown = np.concatenate([palette, np.zeros((max(ignore_index - n_classes + 1, 1), 3), palette.dtype)])
else:
    palette_shown = palette

def as_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))

def as_labels(path):
    return np.asarray(Image.open(path))                 # 8-bit or palette PNG: the value / index is the class

def enlarge(array, factor):
    picture = Image.fromarray(array)
    return picture.resize((picture.width * factor, picture.height * factor), Image.NEAREST)

factor = 3 if not DATA else 1
rows = []
for pair in report.pairs[:3]:
    image, labels = as_rgb(pair.image), as_labels(pair.mask)
    rows.append(np.hstack([image, np.asarray(colorize_mask(labels, palette_shown).convert("RGB"))]))
display(enlarge(add_legend(np.vstack(rows), class_names, palette), factor))
"""
    ),
    md(
        """
## 2. Train: frozen encoder, then everything

`freeze_encoder_epochs` epochs train only the decoder (the encoder's layers frozen, its BatchNorm in inference
mode) at `learning_rate`; the remaining epochs train everything at `fine_tune_learning_rate`. Freezing protects
pretrained features from the large early gradients of a random decoder; without pretrained weights the frozen
phase only trains the decoder on random features, so the notebook says which case it ran.
`class_weights="balanced"` (median-frequency) keeps rare classes from being ignored; `batchnorm_momentum=0.9`
suits short runs. The run folder holds the model, `training.json`, `history.csv` and `curves.png`.
"""
    ),
    code(
        """
model = mobseg.mobilenet_segnet(n_classes, input_height=input_size[0], input_width=input_size[1], **model_kwargs)
if WEIGHTS:
    from mobseg.pretrained import load_encoder_weights
    print(f"encoder: {len(load_encoder_weights(model, WEIGHTS).loaded)} layers loaded from {WEIGHTS}")

run = mobseg.train(
    images, masks, val_images=val_images, val_masks=val_masks,
    model=model, class_names=class_names, ignore_index=ignore_index,
    epochs=epochs, freeze_encoder_epochs=freeze, batch_size=8,
    learning_rate=1e-3, fine_tune_learning_rate=5e-4,
    class_weights="balanced", batchnorm_momentum=0.9, cache=True,
    out=WORK / "run", verbose=2,
)
print(f"\\n{'epoch':>5} {'phase':>9} {'lr':>8} {'loss':>7} {'val mIoU':>9}")
for row in run.history:
    print(f"{row['epoch']:>5} {row['phase']:>9} {row['learning_rate']:>8.0e} {row['loss']:>7.3f} "
          f"{row['val_mean_iou']:>9.3f}")
print(f"best val mean IoU during training: {run.best_value:.3f} (epoch {run.best_epoch})")
display(ShowImage(filename=str(Path(run.run_dir) / "curves.png")))
"""
    ),
    md(
        """
## 3. Evaluate

`load_model` reads the run folder back (model + class names); `evaluate` scores the validation pairs at each
image's **original** size (the predicted scores are resized, not the masks) and prints per-class IoU and Dice.
"""
    ),
    code(
        """
trained = mobseg.load_model(run.run_dir)
result = mobseg.evaluate(trained, val_images, val_masks, ignore_index=ignore_index, progress=False)
print(f"\\nval mean IoU: {result['mean_iou']:.3f} over {result['n_images']} images")
"""
    ),
    md(
        """
## 4. Predict and look

`predict` returns masks at each image's original size; with `out_dir` it also writes index masks, colour masks
and overlays (`legend=True` adds the class names). Below: image | ground truth | prediction.
"""
    ),
    code(
        """
val_pairs = val_report.pairs[:4]
predicted = mobseg.predict(trained, [p.image for p in val_pairs], out_dir=WORK / "predictions", legend=True,
                           progress=False)
rows = []
for pair, mask in zip(val_pairs, predicted):
    image, truth = as_rgb(pair.image), as_labels(pair.mask)
    rows.append(np.hstack([image, overlay_mask(image, truth, palette_shown), overlay_mask(image, mask, palette)]))
display(enlarge(add_legend(np.vstack(rows), class_names, palette), factor))
print("written:", sorted(p.name for p in (WORK / "predictions").iterdir()))
"""
    ),
]

STUDY = [
    md(
        """
# 03 — Which activation? A fair, small study

`mobilenet_segnet` trained with each encoder activation (relu6, relu, leaky_relu, elu, selu, gelu, swish,
hard_swish, mish), with the decoder's activation **off** (the article's decoder has none) or **on** (the same
activation after every decoder BatchNormalization), on CamVid at a reduced size. The numbers come from
`scripts/activation_study.py`; this notebook only reads and discusses them.

**What makes the comparison fair.** For each seed, every configuration starts from the **same initial weights**
(`keras.utils.set_random_seed(seed)` before the model is built; none of these activations has weights), sees the
**same batches in the same order with the same augmentation draws** (seeded `tf.data`), and uses the same
optimizer and cosine learning-rate schedule, epochs, batch size, BatchNorm momentum and median-frequency class
weights. All train **from scratch**: ImageNet weights were learned with ReLU6 and would favour it. The score is
the validation mean IoU **after the last epoch** (no picking of the best epoch on the validation set), class 11
(Unlabelled) ignored, scored at the model's output size (half the input) against nearest-resized masks. Time is
measured twice: the median training step during each run, and afterwards all models timed **interleaved**
(round after round, each configuration in turn, on one fixed batch), which spreads the load of the shared
machine over all configurations alike; "step vs relu6" uses the interleaved numbers. Steps run without XLA
(`jit_compile=False`): per-op kernels, closer to how a phone runtime executes each activation (on this CPU
XLA made the training step about 3x slower: median 562 vs 189 ms at 64x96 in one 1-epoch run each of
`--epochs 1 --seeds 0 --activations relu6 --decoder-on` with and without `--jit-compile`).

Regenerate (resumable: rerun to continue; finished configurations are skipped). The committed results were
made by these two commands (the second adds gelu with the decoder's activation on, seed 0 only, and then times
every configuration interleaved), then the notebook:

```bash
python scripts/activation_study.py --data ../shared/data/camvid --size 64x96 --epochs 8 --seeds 0 1 \\
    --decoder-on relu6 --timing-rounds 0 --out results/activation_study
python scripts/activation_study.py --data ../shared/data/camvid --size 64x96 --epochs 8 --seeds 0 \\
    --activations relu6 --decoder-on relu6 gelu --timing-rounds 2 --timing-steps 3 --out results/activation_study
python scripts/build_notebooks.py --only 03
```

`MOBSEG_SMOKE=1` runs the script at a tiny synthetic scale into a temporary folder instead (the notebook test).
"""
    ),
    code(
        """
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from IPython.display import Image, Markdown, display

SMOKE = bool(os.environ.get("MOBSEG_SMOKE"))
ROOT = Path(os.environ.get("MOBSEG_ROOT", "..")).resolve()     # the repository (notebooks/..)
SCRIPT = ROOT / "scripts" / "activation_study.py"
spec = importlib.util.spec_from_file_location("activation_study", SCRIPT)
study = importlib.util.module_from_spec(spec)
spec.loader.exec_module(study)

if SMOKE:
    RESULTS = Path(tempfile.mkdtemp(prefix="mobseg_nb03_"))
    done = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--out", str(RESULTS),
                           "--shapes-dir", str(RESULTS / "shapes")], capture_output=True, text=True)
    print(done.stdout[-2000:])
    assert done.returncode == 0, done.stderr[-3000:]
else:
    RESULTS = ROOT / "results" / "activation_study"
results = json.loads((RESULTS / "results.json").read_text())
settings = results["settings"]
for key in ("data_name", "train_pairs", "val_pairs", "input_size", "epochs", "batch_size", "learning_rate",
            "schedule", "seeds", "weights", "metric", "timing", "jit_compile"):
    print(f"{key:14} {settings[key]}")
print(f"{'runs':14} {len(results['runs'])}")
print(f"{'timing 2':14} {results.get('timing', {}).get('method', 'none')}")
"""
    ),
    md("## The table (mean ± sample standard deviation over seeds, and the range)"),
    code(
        """
timing = results.get("timing", {})
rows = study.summarize(results["runs"], timing.get("configs"))
table = study.markdown_table(rows)
print(table)
display(Markdown(table))
missing = [(a, d, s) for s in settings["seeds"] for a, d in
           [(a, "off") for a in settings["activations"]] + [(a, "on") for a in settings["decoder_on"]]
           if not any(r["activation"] == a and r["decoder"] == d and r["seed"] == s for r in results["runs"])]
print("missing runs:", missing or "none")
"""
    ),
    code(
        """
display(Image(filename=str(RESULTS / "activation_study.png")))
"""
    ),
    md("## Differences against the noise"),
    code(
        """
by = {(r["activation"], r["decoder"]): r for r in rows}
def ms(r):  # interleaved timing when measured, else the median step during training
    return r["bench_train_ms"] or r["step_ms"]
base = by.get(("relu6", "off"))
spreads = [r["miou_max"] - r["miou_min"] for r in rows if r["n_seeds"] > 1 and r["miou_mean"] is not None]
noise = max(spreads) if spreads else float("nan")
print(f"largest seed-to-seed range of one configuration: {noise:.3f} mIoU "
      f"(median {sorted(spreads)[len(spreads) // 2] if spreads else float('nan'):.3f})")
if base and base["miou_mean"] is not None:
    print(f"\\nagainst relu6 (the article's), decoder off: {base['miou_mean']:.3f} mIoU, {ms(base):.0f} ms/step")
    for r in rows:
        if r is base or r["miou_mean"] is None:
            continue
        diff = r["miou_mean"] - base["miou_mean"]
        verdict = "larger than the largest seed range" if abs(diff) > noise else "within seed noise"
        if r["n_seeds"] < 2:
            verdict += ", ONE seed"
        print(f"  {r['activation']:>10} decoder {r['decoder']:>3}: {diff:+.3f} mIoU ({verdict}); "
              f"{ms(r) / ms(base):.2f}x the step time")
print("\\ndecoder activation on minus off, same encoder activation:")
for (activation, decoder), r in by.items():
    off = by.get((activation, "off"))
    if decoder == "on" and off and r["miou_mean"] is not None and off["miou_mean"] is not None:
        print(f"  {activation:>10}: {r['miou_mean'] - off['miou_mean']:+.3f} mIoU, "
              f"step time {ms(r) / ms(off):.2f}x ({r['n_seeds']} seed(s) on)")
"""
    ),
    md(
        """
## What this can and cannot conclude

Written from the committed run (`results/activation_study/`: CamVid, 64x96 input, 8 epochs, from scratch,
seeds 0 and 1; gelu with the decoder's activation on has seed 0 only, cut to fit the compute budget).

**What it can say (in this setting: small input, short from-scratch training).**

- The article's relu6 is at the bottom: 0.193 val mean IoU (0.191 and 0.196). ELU and SELU reach 0.237 and
  0.236, LeakyReLU and Mish 0.225 and 0.226: +0.03 to +0.04, more than the largest seed-to-seed range of any
  configuration (0.024, hard_swish) and clear of relu6's two seeds. Activations that pass negative inputs
  (leaky_relu, elu, selu, mish, and swish/hard_swish at about 0.22) beat the ones that zero them (relu6 0.193,
  relu 0.200) when training this network from scratch for a few epochs. GELU (0.207) is the exception.
- Adding the decoder's missing activation did not help relu6: 0.187 on vs 0.193 off, a difference inside the
  seed noise. For gelu it is 0.221 on vs 0.207 off, but on one seed only: suggestive, not shown.
- Cost: in the interleaved timing gelu and mish cost about 1.4x relu6's training step, gelu with the decoder's
  activation 1.65x; these are the only differences clearly above the timing noise.

**What it cannot say.**

- Whether the ranking holds after full training, at full resolution, or on other data: at 0.19-0.24 mean IoU
  these models are far from converged (the SegNet paper reports 47.7 on CamVid at 360x480 after long
  training). Early-training speed and final accuracy are different questions, and a short budget favours
  activations that optimise fast.
- Anything about fine-tuning: the practical recipe loads ImageNet weights that were learned with relu6, and
  swapping the activation throws part of that pretraining away. This study trains from scratch on purpose, to
  compare the activations on equal terms; it does not say that switching a pretrained model's activation pays.
- Differences of about 0.02 or less (relu vs relu6, swish vs hard_swish vs leaky_relu vs mish): with two seeds the
  spread is itself a rough estimate (one seed-to-seed range per configuration), so only the large gaps above mean
  anything. More seeds would be needed to rank the middle of the table.
- Small speed differences: the machine was shared with other training jobs. The timing noise is visible in the
  table itself: relu measures 1.17x relu6 and relu6 with the extra decoder activations 0.89x, although neither
  can really be slower or faster. Differences under about 20% are not resolved here; hard_swish's 1.28x is
  within that noise and is no evidence against its reputation as cheap.
- Phone latency: this is x86 TensorFlow without XLA. On a phone, relu6 and relu are fused into the preceding
  convolution by TFLite and cost nothing, while gelu, mish, swish, elu and selu run as separate element-wise
  ops (hard_swish was designed to be the cheap approximation of swish there). Measure the exported model on the
  target device before choosing.
- Scores are at the model's output size (32x48) against nearest-resized masks, on the val split (there is no
  held-out test split here), and they are the last-epoch values, not the best epoch.
"""
    ),
]

BOOKS = {
    "01": ("01_article_model.ipynb", ARTICLE),
    "02": ("02_finetune_custom_masks.ipynb", FINETUNE),
    "03": ("03_activation_study.ipynb", STUDY),
}


def write(name: str, cells: list) -> Path:
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = NOTEBOOKS / name
    NOTEBOOKS.mkdir(exist_ok=True)
    nbformat.write(notebook, path)
    return path


#: TensorFlow's start-up log lines (absl, before any setting can silence them): noise in a saved notebook.
TF_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWE]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] .*)$"
)


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop TensorFlow's start-up log lines from stderr outputs (and outputs left empty).

    Example:
        >>> cell = nbformat.v4.new_code_cell("x")
        >>> noise = "I0000 00:00:1.2 7 port.cc:153] on\\n"
        >>> cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=noise)]
        >>> clean(nbformat.v4.new_notebook(cells=[cell])).cells[0].outputs
        []
    """
    for cell in notebook.cells:
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                lines = [line for line in output["text"].splitlines(keepends=True) if not TF_NOISE.match(line.strip())]
                if not "".join(lines).strip():
                    continue
                output["text"] = "".join(lines)
            kept.append(output)
        if cell.cell_type == "code":
            cell.outputs = kept
    return notebook


def execute(path: Path, cwd: Path, timeout: int = 3600) -> None:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    clean(notebook)
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
