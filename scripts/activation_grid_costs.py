"""Cost per activation for the activation grid (``scripts/activation_study.py --costs``): ``costs.json``.

For every model configuration (model x encoder activation x decoder activation off/on):

* ``params``: the parameter count (PReLU adds one slope per channel of every activation it replaces);
* ``train_ms`` / ``predict_ms``: interleaved timing (:func:`time_configs`): every model is built first, then
  ``rounds`` times each in turn runs ``steps`` training steps and ``steps`` forward passes on one fixed batch of
  the grid's batch size; the median per batch. Interleaving spreads the load of a shared machine over all
  configurations alike;
* ``output_activation`` and ``output_sum_error``: the model's output layer and how far its per-pixel class
  probabilities are from summing to 1 (claim (e));
* ``tflite`` (decoder activation off, the models of ``--tflite-models``, TensorFlow backend only): the model
  exported with :func:`mobseg.export.export_model` to TFLite float32 and int8 (int8 calibrated on ``calibration_images``
  training images spread over the folder; its argmax agreement with the float32 Keras model measured by the
  export on those images), each run through mobseg's :class:`~mobseg.inference.engines.TFLiteEngine` (LiteRT
  where installed) at batch 1 with ``tflite_threads`` threads: the median ms per image of ``latency_runs`` calls
  after two warm-up calls, the file size, and the ops of the file (``ops``: all, ``activation_ops``: ops that are
  an activation on their own, i.e. not fused into the convolution before them).

The weights: the trained model of the grid when ``--save-models`` kept one (``models/<run key>.keras``, the
lowest seed of the first init), else the model as the grid would start it (seed 0; ImageNet encoder with
``--init imagenet``): latency does not depend on the weights, the int8 agreement does, and is then measured on
an untrained model. ``weights`` in each entry says which.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from activation_grid_stats import ACTIVATION_OPS, config_key

#: (model name, encoder activation, decoder activation on) -> a freshly built (seeded) model.
Builder = Callable[[str, str, bool], Any]


def time_configs(
    models: dict[str, Any], batch_size: int, rounds: int, steps: int, *, jit_compile: bool, run_eagerly: bool
) -> dict[str, dict[str, float]]:
    """Interleaved timing of ``models`` (key -> built model): median ms per training step and per forward pass.

    Example:
        >>> time_configs({"m|relu6|off": model}, 8, rounds=1, steps=1, jit_compile=False,
        ...              run_eagerly=False)  # doctest: +SKIP
        {'m|relu6|off': {'train_ms': 31.2, 'predict_ms': 9.8}}
    """
    import mobseg

    rng = np.random.default_rng(0)
    batches = {}
    for key, model in models.items():
        model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=mobseg.SegmentationCrossentropy(),
                      jit_compile=jit_compile, run_eagerly=run_eagerly)  # fmt: skip
        x = rng.uniform(-1, 1, (batch_size, *model.inputs[0].shape[1:])).astype("float32")
        y = rng.integers(0, model.n_classes, (batch_size, *model.outputs[0].shape[1:-1])).astype("int32")
        batches[key] = (x, y)
        model.train_on_batch(x, y)  # warm-up: graph tracing
        model.predict_on_batch(x)
    times: dict[str, dict[str, list[float]]] = {key: {"train_ms": [], "predict_ms": []} for key in models}
    for _ in range(rounds):
        for key, model in models.items():
            x, y = batches[key]
            for _ in range(steps):
                start = time.perf_counter()
                model.train_on_batch(x, y)
                times[key]["train_ms"].append(1000 * (time.perf_counter() - start))
            for _ in range(steps):
                start = time.perf_counter()
                model.predict_on_batch(x)
                times[key]["predict_ms"].append(1000 * (time.perf_counter() - start))
    return {key: {kind: statistics.median(v) for kind, v in value.items()} for key, value in times.items()}


def output_check(model: Any) -> dict[str, Any]:
    """The output layer's activation and the largest deviation of a pixel's class probabilities from summing to 1.

    Example:
        >>> import mobseg
        >>> output_check(mobseg.mobilenet_segnet(3, input_height=32, input_width=32))["output_activation"]
        'softmax'
    """
    if getattr(model, "outputs_logits", False):
        return {"output_activation": "none (logits)"}
    last = model.layers[-1]
    name = last.get_config().get("activation") or type(last).__name__.lower()
    x = np.random.default_rng(1).uniform(-1, 1, (2, *model.inputs[0].shape[1:])).astype("float32")
    scores = keras.ops.convert_to_numpy(model(x, training=False))  # a plain call: no predict graph to trace
    return {"output_activation": str(name), "output_sum_error": float(np.abs(scores.sum(-1) - 1).max())}


def op_counts(engine: Any) -> dict[str, int] | None:
    """``{op name: count}`` of a TFLite engine's interpreter (a private LiteRT call; ``None`` where it is missing)."""
    try:
        details = engine.interpreter._get_ops_details()
    except AttributeError:
        return None
    counts: dict[str, int] = {}
    for op in details:
        counts[op["op_name"]] = counts.get(op["op_name"], 0) + 1
    return dict(sorted(counts.items()))


def tflite_costs(model: Any, folder: str, calibration_dir: str, args: Any) -> dict[str, Any]:
    """Export ``model`` to TFLite float32 and int8 with mobseg's export and time each file at batch 1."""
    from mobseg.export import calibration_images, export_model
    from mobseg.inference.engines.tflite_engine import TFLiteEngine

    x = next(calibration_images(calibration_dir, model, limit=1))[None].astype(np.float32)
    found: dict[str, Any] = {}
    for precision in ("float32", "int8"):
        path = os.path.join(folder, f"{precision}.tflite")
        quantize = None if precision == "float32" else precision
        started = time.perf_counter()
        written = export_model(model, path, "tflite", quantize, calibration_dir if quantize else None,
                               calibration_limit=args.calibration_images)  # fmt: skip
        export_seconds = time.perf_counter() - started
        engine = TFLiteEngine(written, threads=args.tflite_threads)
        try:
            for _ in range(2):
                engine.run(x)
            times = []
            for _ in range(args.latency_runs):
                start = time.perf_counter()
                engine.run(x)
                times.append(1000 * (time.perf_counter() - start))
            counts = op_counts(engine)
        finally:
            engine.close()
        entry = {"ms": statistics.median(times), "file_kb": round(os.path.getsize(written) / 1024, 1),
                 "export_seconds": round(export_seconds, 1)}  # fmt: skip
        if counts is not None:
            entry.update(ops=sum(counts.values()), activation_ops=sum(counts.get(op, 0) for op in ACTIVATION_OPS))
            entry["op_counts"] = counts
        if written.agreement is not None:
            entry["agreement"] = written.agreement
        found[precision] = entry
    return found


def tflite_note() -> str | None:
    """Why TFLite costs cannot be measured in this process, or ``None`` when they can.

    Example:
        >>> tflite_note() is None or "TFLite" in tflite_note()
        True
    """
    from mobseg.optional import has_tensorflow

    if not has_tensorflow():
        return "TFLite costs skipped: TensorFlow is not installed here (the export needs it); run --costs where it is"
    if keras.backend.backend() != "tensorflow":
        return (
            f"TFLite costs skipped: the export needs the TensorFlow backend and this process runs "
            f"{keras.backend.backend()}; run --costs with --backend tensorflow"
        )
    return None


def measure_costs(
    configs: list[tuple[str, str, bool]],
    costs: dict[str, Any],
    build: Builder,
    calibration_dir: str,
    args: Any,
    save: Callable[[dict[str, Any]], None],
    machine: str = "",
) -> dict[str, Any]:
    """Fill ``costs["configs"]`` for ``configs`` not yet measured (``save`` after each step); returns ``costs``.

    Parameters, the output check and the interleaved timing of all new configurations first (one pass), then the
    TFLite files of each configuration with the decoder activation off, one after the other. ``machine`` names
    where they ran, in each new entry and its ``tflite`` part: a costs.json can hold entries of several machines,
    whose timings must not be compared with each other.
    """
    entries = costs.setdefault("configs", {})
    todo = [c for c in configs if config_key(c[0], c[1], "on" if c[2] else "off") not in entries]
    if todo:
        keras.backend.clear_session()
        models = {config_key(m, a, "on" if d else "off"): build(m, a, d) for m, a, d in todo}
        for key, model in models.items():
            entries[key] = {"params": int(model.count_params()), "weights": getattr(model, "_grid_weights", ""),
                            "machine": machine}  # fmt: skip
            entries[key].update(output_check(model))
        if args.timing_rounds:
            print(f"interleaved timing of {len(models)} configurations ({args.timing_rounds} rounds)...", flush=True)
            timed = time_configs(models, args.batch_size, args.timing_rounds, args.timing_steps,
                                 jit_compile=args.jit_compile, run_eagerly=args.run_eagerly)  # fmt: skip
            for key, value in timed.items():
                entries[key].update(value)
        del models
        save(costs)
    costs["tflite_note"] = None if args.no_tflite else tflite_note()
    if args.no_tflite:
        costs["tflite_note"] = "TFLite costs not measured (--no-tflite)"
    if costs["tflite_note"]:
        print(costs["tflite_note"])
        save(costs)
        return costs
    for model_name, activation, decoder in configs:
        key = config_key(model_name, activation, "on" if decoder else "off")
        if decoder or "tflite" in entries[key] or model_name not in args.tflite_models:
            continue
        keras.backend.clear_session()
        with tempfile.TemporaryDirectory(prefix="mobseg_grid_tflite_") as folder:
            tflite = tflite_costs(build(model_name, activation, decoder), folder, calibration_dir, args)
        entries[key]["tflite"] = {**tflite, "machine": machine}
        tf32, int8 = entries[key]["tflite"]["float32"], entries[key]["tflite"]["int8"]
        print(f"{key:36} TFLite float32 {tf32['ms']:.2f} ms, int8 {int8['ms']:.2f} ms/image", flush=True)
        save(costs)
    return costs


__all__ = ["measure_costs", "op_counts", "output_check", "tflite_costs", "tflite_note", "time_configs"]
