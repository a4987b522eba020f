"""Engines, streaming, sharding, bad inputs and write errors of predict / evaluate / export / benchmark (issues 12, 13).

Small models at 32 px; every engine that is installed is compared with Keras; none of this needs ../shared.
"""

import errno
import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from inference_helpers import half_white, threshold_model
from PIL import Image

import mobseg
from mobseg.cli import main
from mobseg.inference.engines import Engine, EngineNotInstalledError, available_engines, open_engine
from mobseg.inference.export_info import read_export_info, sidecar_path
from mobseg.inference.inputs import InputItem, collect_inputs, parse_shard, select_shard, shard_of
from mobseg.inference.prediction import PredictionSummary, predict_iter
from mobseg.inference.scoring import ModelGeometry
from mobseg.inference.streaming import SkippedInputsError
from mobseg.io.errors import WriteError

SIZE = 32
FILE_ENGINES = [name for name in ("tflite", "onnxruntime", "openvino") if name in available_engines()]
EXTENSIONS = {"tflite": ".tflite", "onnxruntime": ".onnx", "openvino": ".xml"}
FORMATS = {"tflite": "tflite", "onnxruntime": "onnx", "openvino": "openvino"}


def write_images(folder, count=6, start=0):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        Image.fromarray(half_white(30 + i, 41 + 2 * i, 12 + i)).save(folder / f"img{i:02d}.png")
    return folder


@pytest.fixture(scope="module")
def models():
    """The threshold model (exact masks) and a random mobilenet_segnet (a real network, near-ties included)."""
    import keras

    keras.utils.set_random_seed(1)
    return {
        "threshold": threshold_model(n_classes=3, height=SIZE, width=SIZE),
        "segnet": mobseg.mobilenet_segnet(3, input_height=SIZE, input_width=SIZE, alpha=0.25),
    }


@pytest.fixture(scope="module")
def exports(models, tmp_path_factory):
    """Every installed file engine's export of both models: {(model, engine): path}."""
    pytest.importorskip("tensorflow")
    import mobseg.export

    can_export = [e for e in FILE_ENGINES if e != "onnxruntime" or importlib.util.find_spec("tf2onnx") is not None]
    folder = tmp_path_factory.mktemp("exports")
    found = {}
    for key, model in models.items():
        for engine in can_export:
            path = folder / f"{key}{EXTENSIONS[engine]}"
            found[key, engine] = mobseg.export.export_model(model, path, format=FORMATS[engine])
    return found


# ---- engines give the Keras masks ---------------------------------------------------------------------------


@pytest.mark.parametrize("engine", FILE_ENGINES)
def test_every_engine_gives_the_keras_masks(models, exports, engine, tmp_path):
    if ("threshold", engine) not in exports:
        pytest.skip(f"cannot export for {engine} here")
    images = write_images(tmp_path / "images")
    for key, model in models.items():
        expected = mobseg.predict(model, images, batch_size=4)
        got = mobseg.predict(exports[key, engine], images, batch_size=4)
        for a, b in zip(expected, got, strict=True):
            assert a.shape == b.shape
            if key == "threshold":
                np.testing.assert_array_equal(a, b)  # a clear-cut model: exactly the same masks
            else:
                assert (a == b).mean() >= 0.999  # float32 engines: the same masks up to float rounding
    # the same outputs on disk, through the CLI, from the file alone
    out = tmp_path / "out"
    assert (
        main(["predict", "--model", str(exports["threshold", engine]), "--input", str(images), "--out", str(out)]) == 0
    )
    written = [np.asarray(Image.open(out / "masks" / f"img{i:02d}.png")) for i in range(6)]
    for a, b in zip(mobseg.predict(models["threshold"], images), written, strict=True):
        np.testing.assert_array_equal(a, b)


def test_keras_model_on_another_engine_is_converted(models):
    if "onnxruntime" not in FILE_ENGINES or importlib.util.find_spec("tf2onnx") is None:
        pytest.skip("needs onnxruntime and tf2onnx")
    image = half_white(40, 50, 20)
    engine = open_engine(models["threshold"], "onnxruntime")
    folder = engine.temporary_folder
    assert os.path.isdir(folder) and engine.describe().startswith("onnxruntime float32")
    np.testing.assert_array_equal(mobseg.predict(engine, image), mobseg.predict(models["threshold"], image))
    engine.close()
    assert not os.path.exists(folder)


def test_exports_record_what_prediction_needs(models, exports):
    if not exports:
        pytest.skip("no file engine installed")
    path = next(iter(exports.values()))
    info = read_export_info(path)
    assert info["format"] == "mobseg-export" and info["preprocessing"] in ("unit", "mobilenet")
    assert info["input_size"] == [SIZE, SIZE] and info["output_size"] == [SIZE // 2, SIZE // 2]
    assert info["n_classes"] == 3 and info["class_names"] == ["class_0", "class_1", "class_2"]
    assert path.sidecar == sidecar_path(path)
    os.rename(path.sidecar, path.sidecar + ".away")
    try:
        with pytest.raises(FileNotFoundError, match="has no sidecar"):
            open_engine(str(path))
    finally:
        os.rename(path.sidecar + ".away", path.sidecar)


def test_float16_export_reports_its_agreement(models, tmp_path):
    pytest.importorskip("tensorflow")
    import mobseg.export

    path = mobseg.export.export_model(models["segnet"], tmp_path / "f16.tflite", quantize="float16")
    assert path.agreement is not None and path.agreement >= 0.99
    assert read_export_info(path)["agreement"]["on"].startswith("synthetic images")
    assert open_engine(str(path)).precision == "float16"


@pytest.mark.skipif("openvino" not in available_engines(), reason="openvino not installed")
def test_openvino_bfloat16_is_opt_in_and_reports_what_runs(models, exports):
    from mobseg.inference.engines.openvino_engine import openvino_cpu_capabilities

    path = str(exports["segnet", "openvino"])
    assert open_engine(path).precision == "float32"  # explicit, not the CPU plugin's bf16 default
    engine = open_engine(path, precision="bfloat16")
    assert engine.precision == ("bfloat16" if "BF16" in openvino_cpu_capabilities() else "float32")


def test_missing_engine_is_one_clear_line(models, tmp_path, monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real(name, *a))
    (tmp_path / "m.xml").write_text("<net/>")
    with pytest.raises(EngineNotInstalledError, match=r"pip install 'mobseg\[openvino\]'"):
        open_engine(str(tmp_path / "m.xml"))
    assert "openvino" not in available_engines()
    argv = ["predict", "--model", str(tmp_path / "m.xml"), "--input", str(tmp_path), "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mobseg predict: error: The openvino engine is not installed: pip install 'mobseg[openvino]'."]


def test_exported_engine_path_imports_no_keras_or_tensorflow(exports, tmp_path):
    """With the package __init__ bypassed (issue 14 makes it lazy), predict from an export imports neither."""
    engine = next((e for e in ("onnxruntime", "tflite", "openvino") if ("threshold", e) in exports), None)
    if engine is None or (engine == "tflite" and importlib.util.find_spec("ai_edge_litert") is None):
        pytest.skip("needs onnxruntime, openvino or LiteRT")
    images = write_images(tmp_path / "images", count=3)
    root = os.path.dirname(os.path.dirname(mobseg.__file__))
    code = textwrap.dedent(f"""
        import sys, types
        package = types.ModuleType("mobseg"); package.__path__ = [{os.path.join(root, "mobseg")!r}]
        sys.modules["mobseg"] = package
        from mobseg.cli import main
        code = main(["predict", "--model", {str(exports["threshold", engine])!r}, "--input", {str(images)!r},
                     "--out", {str(tmp_path / "out")!r}, "--quiet"])
        heavy = sorted(m for m in ("keras", "tensorflow", "jax", "torch") if m in sys.modules)
        print("HEAVY", heavy, "CODE", code)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "HEAVY [] CODE 0" in done.stdout, done.stdout + done.stderr
    assert len(os.listdir(tmp_path / "out" / "masks")) == 3


# ---- streaming --------------------------------------------------------------------------------------------------


class CountingEngine(Engine):
    """A fake engine: class 1 everywhere; counts the images it has run."""

    name = "counting"

    def __init__(self):
        super().__init__(ModelGeometry((8, 8), 3, (4, 4), "unit"), 2, {}, "counting")
        self.images_run = 0

    def _run(self, x):
        self.images_run += len(x)
        scores = np.zeros((len(x), 4, 4, 2), np.float32)
        scores[..., 1] = 1
        return scores


def test_streaming_writes_as_it_goes_and_keeps_a_bounded_window(tmp_path):
    images = [np.full((6 + i % 3, 9, 3), i, np.uint8) for i in range(60)]
    engine = CountingEngine()
    out = tmp_path / "out"
    results = predict_iter(engine, images, out, batch_size=4, workers=2)
    for k, result in enumerate(results, start=1):
        assert result.ok and result.index == k - 1 and result.mask.shape == images[k - 1].shape[:2]
        assert all(os.path.isfile(f) for f in result.files)  # written before it is handed over
        assert engine.images_run - k <= 2 * 4 + 2 + 4  # read-ahead window + one batch: does not grow with the input
    assert len(os.listdir(out / "masks")) == 60
    summary = mobseg.predict(engine, images, out, return_masks=False, batch_size=4)
    assert isinstance(summary, PredictionSummary) and (summary.count, summary.written) == (60, 60)


def test_predict_keeps_its_return_values(models):
    images = [half_white(20, 30, 10), half_white(25, 20, 5)]
    masks = mobseg.predict(models["threshold"], images)
    assert isinstance(masks, list) and [m.shape for m in masks] == [(20, 30), (25, 20)]
    assert isinstance(mobseg.predict(models["threshold"], images[0]), np.ndarray)
    from_generator = mobseg.predict(models["threshold"], (image for image in images))
    assert [m.shape for m in from_generator] == [(20, 30), (25, 20)]


# ---- bad inputs: named, skipped, summary, exit code ---------------------------------------------------------------


def make_bad_folder(tmp_path):
    folder = write_images(tmp_path / "images", count=4)
    (folder / "img01.png").write_bytes((folder / "img01.png").read_bytes()[:60])  # truncated
    (folder / "zero.png").write_bytes(b"")
    return folder


def test_bad_images_are_skipped_and_named(models, tmp_path, capsys):
    folder = make_bad_folder(tmp_path)
    with pytest.raises(SkippedInputsError, match=r"2 of 5 inputs failed") as caught:
        mobseg.predict(models["threshold"], folder, tmp_path / "api")
    masks = caught.value.result
    assert [m is None for m in masks] == [False, True, False, False, True]
    assert sorted(os.listdir(tmp_path / "api" / "masks")) == ["img00.png", "img02.png", "img03.png"]

    out = tmp_path / "cli"
    assert main(["predict", "--model", _saved(models, tmp_path), "--input", str(folder), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "skipped" in captured.err and "img01.png" in captured.err and "zero.png" in captured.err
    assert "2 of 5 inputs could not be read" in captured.err and "3 mask(s) written" in captured.out
    assert sorted(os.listdir(out / "masks")) == ["img00.png", "img02.png", "img03.png"]


def _saved(models, tmp_path):
    path = tmp_path / "threshold.keras"
    if not path.exists():
        models["threshold"].save(path)
    return str(path)


def test_on_error_stop_stops_at_the_first_bad_image(models, tmp_path, capsys):
    folder = make_bad_folder(tmp_path)
    argv = ["predict", "--model", _saved(models, tmp_path), "--input", str(folder), "--out", str(tmp_path / "o")]
    assert main([*argv, "--on-error", "stop"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mobseg predict: error: Cannot read image") and "img01.png" in err[0]


def test_evaluate_skips_bad_pairs_and_reports_them(models, tmp_path, capsys):
    images = write_images(tmp_path / "images", count=3)
    masks = tmp_path / "masks"
    masks.mkdir()
    for i in range(3):
        image = np.asarray(Image.open(images / f"img{i:02d}.png"))
        Image.fromarray((image[..., 0] > 127).astype(np.uint8)).save(masks / f"img{i:02d}.png")
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(masks / "img02.png")  # wrong size
    report_path = tmp_path / "report.json"
    argv = ["evaluate", "--model", _saved(models, tmp_path), "--images", str(images), "--masks", str(masks)]
    assert main([*argv, "--json", str(report_path)]) == 1
    report = json.loads(report_path.read_text())
    assert report["n_images"] == 2 and report["pixel_accuracy"] > 0.9
    assert (
        report["failed"][0]["image"].endswith("img02.png")
        and "a mask must have its image's size" in (report["failed"][0]["error"])
    )
    assert "1 of 3 pairs could not be used" in capsys.readouterr().err


# ---- sharding --------------------------------------------------------------------------------------------------


def test_shards_partition_the_inputs_deterministically(models, tmp_path):
    items, _ = collect_inputs([f"photos/{i:05d}.jpg" for i in range(200)])
    shards = [select_shard(items, (k, 3)) for k in (1, 2, 3)]
    names = [item.stem for shard in shards for item in shard]
    assert sorted(names) == sorted(item.stem for item in items)  # complete, no overlap
    assert all(len(shard) > 40 for shard in shards)
    assert [i.stem for i in select_shard(items, (2, 3))] == [i.stem for i in shards[1]]  # the same every time
    assert shard_of("00042", 3) == shard_of("00042", 3)
    folder = write_images(tmp_path / "images", count=8)
    written = []
    for k in (1, 2):
        out = tmp_path / f"out{k}"
        argv = ["predict", "--model", _saved(models, tmp_path), "--input", str(folder), "--out", str(out)]
        assert main([*argv, "--shard", f"{k}/2", "--quiet"]) == 0
        written += os.listdir(out / "masks") if (out / "masks").exists() else []
    assert sorted(written) == sorted(f"img{i:02d}.png" for i in range(8))
    with pytest.raises(ValueError, match="K/N"):
        parse_shard("3")
    with pytest.raises(ValueError, match=r"K in 1\.\.N"):
        parse_shard("3/2")
    assert select_shard([InputItem(0, "a.png", "a")], None)[0].stem == "a"


def test_list_file_input(models, tmp_path):
    folder = write_images(tmp_path / "images", count=3)
    (tmp_path / "list.txt").write_text("# two of them\nimages/img00.png\n\nimages/img02.png\n")
    masks = mobseg.predict(models["threshold"], tmp_path / "list.txt")
    assert [m.shape for m in masks] == [(30, 41), (32, 45)]
    assert folder.is_dir()


# ---- outputs that cannot be written --------------------------------------------------------------------------------


def test_write_errors_are_one_sentence(models, tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    with pytest.raises(WriteError, match="a file stands where a folder is needed"):
        mobseg.predict(models["threshold"], [half_white(8, 8, 4)] * 2, tmp_path / "file")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    import mobseg.inference.prediction as prediction

    monkeypatch.setattr(prediction, "atomic_write_png", full)
    with pytest.raises(WriteError) as caught:
        mobseg.predict(models["threshold"], [half_white(8, 8, 4)] * 3, tmp_path / "out")
    assert caught.value.errno == errno.ENOSPC and "is full; free some space" in str(caught.value)
    assert str(caught.value).startswith("cannot write ") and "\n" not in str(caught.value)


def test_export_write_error_is_one_sentence(models, tmp_path, monkeypatch):
    pytest.importorskip("tensorflow")
    import mobseg.export
    import mobseg.export.tflite as tflite

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tflite, "atomic_write", full)
    with pytest.raises(WriteError, match=r"cannot write .*m\.tflite: No space left on device; the disk holding"):
        mobseg.export.export_model(models["threshold"], tmp_path / "m.tflite")
    assert not any(name.endswith(".tmp") for name in os.listdir(tmp_path))


# ---- benchmark -------------------------------------------------------------------------------------------------


def test_benchmark_measures_and_recommends(models, tmp_path, capsys):
    from mobseg.inference.benchmarking import benchmark, format_benchmark

    engines = ["keras"] + (["onnxruntime"] if "onnxruntime" in FILE_ENGINES else [])
    result = benchmark(models["threshold"], engines=engines, batch_sizes=[1, 2], count=2, repeats=2, warmup=1)
    rows = {row["engine"]: row for row in result["results"]}
    assert rows["keras"]["agreement"] == 1.0 and rows["keras"]["batches"]["2"]["images_per_s"] > 0
    assert result["recommended"]["1"] in {f"{e} float32" for e in engines}
    assert "use" in format_benchmark(result)
    folder = write_images(tmp_path / "images", count=2)
    argv = ["benchmark", "--model", _saved(models, tmp_path), "--engines", "keras", "counting-engine"]
    assert main([*argv, "--batch-size", "1", "--repeats", "1", "--warmup", "0", "--images", str(folder)]) == 0
    printed = capsys.readouterr().out
    assert "| keras | float32 |" in printed and "counting-engine" in printed and "batch 1: use keras float32" in printed


def test_flip_tta_averages_an_image_with_its_mirror(tmp_path):
    import mobseg
    from mobseg.inference.engines import open_engine

    model = mobseg.mobilenet_segnet(3, input_height=32, input_width=32, head="spatial")
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype(np.float32)
    plain = open_engine(model)
    expected = 0.5 * (plain.run(x) + plain.run(x[:, :, ::-1])[:, :, ::-1])
    with open_engine(model, tta="flip") as flipped:
        np.testing.assert_allclose(flipped.run(x), expected, atol=1e-6)
        assert flipped.describe().endswith("+ flip TTA")
    # a symmetric image gives symmetric scores; the mask keeps the image's size
    image = np.zeros((20, 30, 3), np.uint8)
    image[:, 10:20] = 200
    mask = mobseg.predict(model, image, tta="flip")
    assert mask.shape == (20, 30) and np.array_equal(mask, mask[:, ::-1])
    with pytest.raises(ValueError, match="tta"):
        open_engine(model, tta="rotate")
    # a ready engine handed in is not closed by the wrapper
    wrapper = open_engine(plain, tta="flip")
    wrapper.close()
    assert plain.run(x).shape == (2, 16, 16, 3)
