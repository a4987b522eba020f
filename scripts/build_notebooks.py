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
Everything else is `mobseg.train`'s default recipe, the one that won on CamVid sequences it had not seen
(BENCHMARKS.md): `class_weights="balanced_sqrt"` (median-frequency weights, square-rooted: rare classes are not
ignored, nor painted several times too large), one cosine curve of the rate over both phases
(`fine_tune_learning_rate` defaults to 0.3x `learning_rate`), BatchNorm momentum 0.9.
The run folder holds the model, `training.json`, `history.csv` and `curves.png`.
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
    epochs=epochs, freeze_encoder_epochs=freeze, batch_size=8, cache=True,
    out=WORK / "run", verbose=2,
)
print(f"\\n{'epoch':>5} {'phase':>9} {'lr':>8} {'loss':>7} {'val mIoU':>9}")
for row in run.history:
    print(f"{row['epoch']:>5} {row['phase']:>9} {row['learning_rate']:>8.1e} {row['loss']:>7.3f} "
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
# 03 — Which activation? The activation grid, compared fairly

`mobilenet_segnet` and `mobilenet_unet` trained with each encoder activation of the articles (sigmoid, tanh,
relu, leaky_relu, prelu, elu, swish, relu6) and the modern ones (gelu, mish, hard_swish, selu), with the
decoder's activation **off** (the article's SegNet decoder has none) or **on** (the same activation after every
decoder BatchNormalization), **from scratch** and as a **pretrained swap** (the ImageNet MobileNet v1 encoder, its
ReLU6 replaced by each activation, fine-tuned). The numbers come from `scripts/activation_study.py` (issue 17);
this notebook only reads them, tests the differences against the seed-to-seed noise and checks the articles'
claims against them.

**What makes the comparison fair.** For each seed, every configuration starts from the **same initial weights**
(`keras.utils.set_random_seed(seed)` before the model is built; PReLU's slopes start at zero and draw no random
numbers, so every other tensor is identical, which each run's `init_fingerprint` records and the table below
checks), sees the **same batches in the same order with the same augmentation draws** (the input pipeline seeded
with the seed), and uses the same recipe. From scratch: Adam with one cosine decay from 1e-3 to 0, median-frequency
class weights, BatchNorm momentum 0.9. Pretrained: mobseg 0.2's `mobseg.train` defaults, one epoch with the encoder
frozen at 1e-3, then everything at 1e-4, constant rate, cross-entropy, no class weights. The score is the validation
mean IoU
**after the last epoch** (no picking of the best epoch on the validation set), class 11 (Unlabelled) ignored, at the
model's output size. Runs go seed by seed (all configurations of seed 0 first), so a partial grid still has a
complete table of its first seeds.

**Paired comparison.** Seeds move every configuration together (same initial weights, same data order), so a
configuration is compared with relu6 **on the same seed**: the per-seed differences of val mean IoU, their mean
and standard deviation, the paired t statistic `mean / (sd / sqrt(n))` and a verdict, "exceeds seed noise" when
|t| is above Student's two-sided 95% critical value for n - 1 degrees of freedom (12.7 for two seeds, 4.30 for
three, 3.18 for four), else "within seed noise".

Regenerate (each command is resumable: run it again to continue; `--plan` lists what is left and estimates the
wall time; `--max-runs N` stops after N runs), then the notebook:

```bash
python scripts/activation_study.py --data ../shared/data/camvid --size 64x96 --epochs 8 --seeds 0 1 2 \\
    --save-models 0 --out results/activation_grid                                       # from scratch
python scripts/activation_study.py --data ../shared/data/camvid --size 64x96 --epochs 8 --seeds 0 1 2 \\
    --init imagenet --weights ../shared/weights/mobilenet_1_0_224_tf_no_top.h5 --out results/activation_grid
python scripts/activation_study.py --data ../shared/data/camvid --size 64x96 --costs --out results/activation_grid
python scripts/build_notebooks.py --only 03
```

`MOBSEG_ACTIVATION_RESULTS` points the notebook at another results folder (default `results/activation_grid`;
`results/activation_study` holds issue 7's smaller study: mobilenet_segnet only, two seeds, nine activations).
`MOBSEG_SMOKE=1` runs the script's smoke setting (tiny synthetic data, one epoch, no TFLite export) into a
temporary folder instead: the notebook test.
"""
    ),
    code(
        """
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import contextlib
import importlib.util
import io
import json
import tempfile
from pathlib import Path

from IPython.display import Image, Markdown, display

SMOKE = bool(os.environ.get("MOBSEG_SMOKE"))
ROOT = Path(os.environ.get("MOBSEG_ROOT", "..")).resolve()     # the repository (notebooks/..)
spec = importlib.util.spec_from_file_location("activation_study", ROOT / "scripts" / "activation_study.py")
study = importlib.util.module_from_spec(spec)
spec.loader.exec_module(study)
stats = study.stats                                            # scripts/activation_grid_stats.py

if SMOKE:  # the script's smoke setting, run in this process: 12 tiny runs, then the costs without TFLite
    RESULTS = Path(tempfile.mkdtemp(prefix="mobseg_nb03_"))
    smoke = ["--smoke", "--out", str(RESULTS), "--shapes-dir", str(RESULTS / "shapes")]
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        assert study.main(smoke) == 0
        assert study.main([*smoke, "--costs", "--no-tflite", "--timing-rounds", "0"]) == 0
    print("\\n".join(line for line in log.getvalue().splitlines() if line.startswith("[")))
else:
    RESULTS = Path(os.environ.get("MOBSEG_ACTIVATION_RESULTS", ROOT / "results" / "activation_grid"))
results = json.loads((RESULTS / "results.json").read_text())
costs = json.loads((RESULTS / "costs.json").read_text()) if (RESULTS / "costs.json").is_file() else {}
settings, runs = results["settings"], stats.normalize_runs(results["runs"])
print(f"results: {RESULTS.name}/ ({len(runs)} runs{', costs.json' if costs else ', no costs.json'})")
for key in ("data_name", "train_pairs", "val_pairs", "input_size", "batch_size", "seeds", "inits", "models",
            "metric", "timing", "order"):
    print(f"{key:12} {settings.get(key, '-')}")
for init, recipe in settings.get("recipes", {}).items():
    print(f"{'recipe':12} {init}: {recipe}")
where = sorted({(r.get("backend", "?"), r.get("device", "?"), r.get("cpu_count", "?")) for r in runs})
print(f"{'ran on':12} " + "; ".join(f"{b}, {d}, {c} CPUs" for b, d, c in where))
"""
    ),
    md("## Val mean IoU per (init, model): mean ± sample standard deviation over seeds, and the range"),
    code(
        """
rows = stats.summarize(runs, costs.get("configs"), study.ACTIVATIONS)
for init, model in sorted({(r["init"], r["model"]) for r in rows}):
    display(Markdown(f"**{init}, {model}**\\n\\n" + stats.markdown_summary(
        [r for r in rows if (r["init"], r["model"]) == (init, model)])))
planned = study.plan_runs(settings["seeds"], settings.get("inits", ["scratch"]),
                          settings.get("models", ["mobilenet_segnet"]), settings["activations"], settings["decoder_on"])
have = {(r["init"], r["model"], r["activation"], r["decoder"] == "on", r["seed"]) for r in runs}
missing = [run.key for run in planned if (run.init, run.model, run.activation, run.decoder, run.seed) not in have]
print("missing runs:", missing or "none")
print("diverged runs:", [r["key"] for r in runs if r.get("diverged")] or "none")
groups = stats.initial_weight_groups(runs)
unequal = {key: value for key, value in groups.items() if len(value) > 1}
if groups:
    print(f"initial weights identical across activations in every (init, model, seed): "
          f"{'yes' if not unequal else unequal} ({len(groups)} groups)")
else:
    print("initial weights: no fingerprints recorded (runs made before issue 17)")
"""
    ),
    code(
        """
plot = RESULTS / "activation_grid.png"
display(Image(filename=str(plot if plot.is_file() else RESULTS / "activation_study.png")))
"""
    ),
    md(
        """
## Paired with relu6: same seed, same init, model and decoder setting

A row is "exceeds seed noise" when the per-seed differences are consistent enough that their mean is unlikely to
be zero (|t| above the 95% critical value); the 95% interval of the mean difference says how large it may be.
The second table pairs the decoder activation on with off, for the same encoder activation.
"""
    ),
    code(
        """
paired = stats.paired_table(runs, order=study.ACTIVATIONS)
display(Markdown(stats.markdown_paired(paired)))
exceeds = [f"{r['activation']} ({r['init']}, {r['model']}, decoder {r['decoder']}): {r['mean_diff']:+.3f}"
           for r in paired if r["verdict"] == stats.EXCEEDS]
print(f"{len(exceeds)} of {len(paired)} comparisons exceed seed noise:", "; ".join(exceeds) or "none")
decoder = stats.decoder_table(runs, order=study.ACTIVATIONS)
if decoder:
    display(Markdown("**decoder activation on minus off**\\n\\n" + stats.markdown_paired(decoder, against="off")))
"""
    ),
    md(
        """
## Cost per activation

From `costs.json` (`--costs`): parameters (PReLU adds one slope per channel), the interleaved training step and
forward pass (every model in turn, round after round, on one fixed batch: the load of a shared machine falls on
all alike), and for the decoder-off models the TFLite files made by `mobseg.export.export_model`: float32 and int8
(calibrated on training images) latency at batch 1 through mobseg's TFLite engine (LiteRT), the int8 file's
argmax agreement with the float32 Keras model, and the file's ops (in brackets: ops that are an activation of their
own, not fused into the convolution before them). The last column names the machine of each row: compare
milliseconds only between rows of one machine (int8 in particular is far faster on a CPU with AVX-512 VNNI).
"""
    ),
    code(
        """
if costs.get("configs"):
    s = costs["settings"]
    print(f"input {s['input_size']}, batch {s['batch_size']} (training step), TFLite batch 1 with "
          f"{s['tflite_threads']} thread(s); {s['backend']}, {s['device']}, load {s.get('load_avg')}")
    weights = sorted({c.get("weights", "?") for c in costs["configs"].values()})
    print(f"weights: {'; '.join(weights)}")
    if costs.get("tflite_note"):
        print(costs["tflite_note"])
    display(Markdown(stats.markdown_costs(costs["configs"])))
else:
    print("no costs.json in", RESULTS, "(run scripts/activation_study.py ... --costs)")
"""
    ),
    md(
        """
## What the articles claim vs what we measured

Each verdict is computed from the records above, not written by hand. (a)-(c): the paired comparisons with
ReLU (relu6 where relu was not run), decoder activation off, in every (init, model): **supported** when every
comparison exceeds seed noise in the claimed direction, **partly supported** when some do, **not supported** when
none does, **not measurable here** when nothing comparable ran or there is one seed only. (d): from the TFLite
costs: relu6 has no activation op of its own (fused into the convolution), its int8 latency is at most the median
of the other activations and its int8 agreement at least theirs. (e): the output layer is the same softmax in every
model, so the grid has nothing to compare it with.
"""
    ),
    code(
        """
claims = stats.claims(runs, costs)
display(Markdown(stats.markdown_claims(claims)))
for row in claims:
    print(f"({row['claim']}) {row['verdict']}")
"""
    ),
    md(
        """
## What this can and cannot conclude

- **Short, small trainings.** The grid trains at a reduced input size for a few epochs on a CPU. It measures how
  fast each activation lets the network learn under one budget, not where it ends after full training at full
  resolution; a short budget favours activations that optimise fast. Rankings may change with longer training.
- **Seeds resolve only large differences.** With three seeds the paired test has two degrees of freedom (critical
  |t| 4.30); a difference "within seed noise" is not shown to be zero, only not shown. More seeds narrow the
  intervals; the first seeds' table is complete at any point of the run.
- **The pretrained swap favours relu6.** The ImageNet encoder was trained with ReLU6; every other activation changes
  what its features mean, and fine-tuning has to repair that. A gap against relu6 there says what the swap costs,
  not which activation is better from scratch.
- **Timing.** The training steps are measured on a shared machine: interleaving spreads its load over all
  configurations, yet differences of a few percent are noise. TFLite latency is x86 with XNNPACK, not a phone; the
  op counts (what is fused, what runs separately) carry over, the milliseconds do not. The int8 agreement is on
  trained weights only where the grid kept its models (`--save-models`); `weights` in the cost table says which.
- **The val split.** Scores are on CamVid's val split at the model's output size, after the last epoch; there is
  no held-out test split here.
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
