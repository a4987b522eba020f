"""Shared test settings: quiet TensorFlow, deterministic seeds, small sizes."""

import gc
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    # Under xdist the workers already fill the cores: one TensorFlow op thread each (also in the subprocesses
    # they start) instead of every worker spreading each op over every core. Measured on 2 cores beside a niced
    # job (noisy), 49 zoo tests with -n 2: 55-57 s against 60-65 s.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

import keras
import numpy as np
import pytest
from PIL import Image

#: Long checks marked ``slow``: left out of the default run (pyproject addopts ``-m 'not slow'``, the README's
#: test command, <= 8 minutes on 2 cores) and run by ``.ci/run`` with ``pytest -m slow``. Each entry is a test
#: function (every parameter) or one parametrized case ``file::test[id]``. What stays in the default run covers
#: the same code paths more cheaply (named after each group); tests/test_structure.py checks every entry exists.
SLOW_TESTS = (
    # training runs that train several times (kills, resumes, faults); resume stays in test_backends' default case
    "tests/test_training_learning.py::test_a_few_dozen_steps_learn_well_above_chance",  # toy learning: test_losses
    "tests/test_training_recipe.py::test_a_resumed_run_continues_the_schedule_over_both_phases_exactly",
    "tests/test_training_recipe.py::test_early_stopping_ends_the_run_complete_with_its_reason_and_survives_a_resume",
    "tests/test_training_resume.py::test_interrupted_run_resumes_without_losing_or_repeating_epochs",
    "tests/test_training_freeze.py::test_frozen_phase_keeps_encoder_and_bn_statistics_then_unfreezes",
    "tests/test_training_precision.py::test_mixed_precision_learns_and_saves_float32",
    "tests/test_faults.py::test_a_full_disk_stops_in_one_line_and_the_same_command_resumes",
    "tests/test_faults.py::test_a_damaged_backup_falls_back_to_the_one_before",
    "tests/test_faults.py::test_a_kill_at_the_end_loses_nothing",
    "tests/test_faults.py::test_a_second_training_into_the_same_folder_is_refused",
    "tests/test_faults.py::test_divergence_stops_and_no_checkpoint_gets_its_weights",
    "tests/test_faults.py::test_a_bad_file_met_during_training_is_one_line_and_the_process_ends",
    "tests/test_cli_train.py::test_train_command_writes_a_run_folder",  # the CLI trains in test_cli_evaluate_predict
    "tests/test_losses.py::test_compiled_model_reloads_in_safe_mode",  # combined losses reload by default
    # other backends and devices in subprocesses (.ci/run also runs these files under JAX and PyTorch)
    "tests/test_distribute.py::test_jax_data_parallel_over_two_host_devices_matches_one_device",
    "tests/test_distribute.py::test_mirrored_strategy_over_two_logical_cpus_matches_one_device",
    "tests/test_backends.py::test_a_saved_model_gives_the_same_outputs_under_each_backend",
    "tests/test_without_tensorflow.py::test_import_and_every_package_without_tensorflow",  # .ci/run's no-TF step
    "tests/test_without_tensorflow.py::test_train_predict_evaluate_without_tensorflow",
    "tests/test_bench_gpu.py::test_bench_gpu_smoke_measures_every_row_without_tensorflow",
    # exports and engines (TFLite float32 and ONNX against Keras stay in the default run)
    "tests/test_engines.py::test_every_engine_gives_the_keras_masks",
    "tests/test_engines.py::test_float16_export_reports_its_agreement",
    "tests/test_export.py::test_deployment_model_is_the_spatial_view",
    "tests/test_export.py::test_cli_export_and_bad_model_file",
    "tests/test_export.py::test_float16_halves_the_file",
    "tests/test_export.py::test_int8_agrees_with_float_argmax",
    "tests/test_export.py::test_saved_model_round_trip",
    "tests/test_export.py::test_modern_mobile_models_export_to_tflite_float32_and_int8",
    "tests/test_bench_inference.py::test_bench_inference_runs_every_section_and_writes_its_numbers",  # test_engines
    # the activation grid's TFLite exports and pretrained run (its smoke trainings and costs stay in the default run)
    "tests/test_activation_grid.py::test_tflite_costs_find_relu6_fused_and_time_int8",
    "tests/test_activation_grid.py::test_the_pretrained_swap_fine_tunes_with_mobseg_train",
    # the notebooks executed end to end
    "tests/test_notebooks.py::test_notebook_01_article_model",
    "tests/test_notebooks.py::test_notebook_02_finetune",
    "tests/test_notebooks.py::test_notebook_03_activation_study",
    # encoders against keras.applications (MobileNet v1, VGG16, MobileNetV2, EfficientNetB0 stay in the default run)
    "tests/test_pretrained.py::test_keras_applications_files_load_into_the_modern_encoders",
    "tests/test_pretrained.py::test_keras_applications_files_load_into_our_encoders[resnet50]",
    "tests/test_pretrained.py::test_efficientnet_file_without_its_normalization_is_refused",
    "tests/test_zoo_parts.py::test_application_encoder_is_the_keras_application[mobilenetv3_small]",
    "tests/test_zoo_parts.py::test_application_encoder_is_the_keras_application[mobilenetv3_large]",
    "tests/test_zoo_parts.py::test_application_encoder_is_the_keras_application[efficientnetb1]",
    "tests/test_zoo_parts.py::test_application_encoder_is_the_keras_application[efficientnetb2]",
    "tests/test_zoo_parts.py::test_application_encoder_is_the_keras_application[efficientnetb3]",
    "tests/test_zoo_parts.py::test_application_encoder_is_the_keras_application[efficientnetv2b0]",
    "tests/test_zoo_parts.py::test_application_encoder_is_the_keras_application[efficientnetv2b1]",
    "tests/test_cli_summary.py::test_summary_reports_the_cost_per_image",  # the FLOP count: test_complexity
    "tests/test_cli_summary.py::test_summary_options_change_the_model",
)


def _is_slow(nodeid: str) -> bool:
    return any(nodeid == entry or nodeid.startswith(entry + "[") for entry in SLOW_TESTS)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark :data:`SLOW_TESTS` ``slow``; under JAX or PyTorch, skip ``tensorflow_only`` tests with a reason.

    .ci/run leaves ``tensorflow_only`` out of those runs with ``-m "not tensorflow_only"``; the skip covers a
    plain ``pytest``. The ``slow`` mark is added here, before ``-m`` deselects.
    """
    for item in items:
        if _is_slow(item.nodeid):
            item.add_marker(pytest.mark.slow)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return
    skip = pytest.mark.skip(reason=f"needs the TensorFlow backend (KERAS_BACKEND={backend})")
    for item in items:
        if "tensorflow_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=["tf.data", "pydataset"])
def loader(request):
    """Each input pipeline of ``mobseg.make_dataset`` in turn; ``tf.data`` is skipped where TensorFlow is missing."""
    from mobseg.optional import has_tensorflow

    if request.param == "tf.data" and not has_tensorflow():
        pytest.skip("tf.data needs TensorFlow, which is not installed here")
    return request.param


def pytest_sessionstart(session):
    """Move everything alive after the imports (TensorFlow, Keras) out of the garbage collector's way."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)
    yield
    # Without gc.collect (free_memory=False): a full collection over the suite's heap took ~1.7 s per test (570 s
    # of a 44-minute run); Python's own collector frees the same cycles as it goes.
    keras.backend.clear_session(free_memory=False)


#: (split, sequence) -> images in the fake CamVid folder (val holds 0016E5 only, as CamVid's).
CAMVID_LAYOUT = {("train", "0001TP"): 2, ("train", "0006R0"): 2, ("train", "0016E5"): 3, ("val", "0016E5"): 2}


@pytest.fixture(scope="session")
def fake_camvid(tmp_path_factory):
    """train/, trainannot/, val/, valannot/ with CamVid's sequence prefixes; 36x48 frames, labels 0-3 and 11."""
    root = tmp_path_factory.mktemp("camvid")
    rng = np.random.default_rng(0)
    for (split, sequence), count in CAMVID_LAYOUT.items():
        (root / split).mkdir(exist_ok=True)
        (root / f"{split}annot").mkdir(exist_ok=True)
        for i in range(count):
            name = f"{sequence}_{i:05d}.png"
            Image.fromarray(rng.integers(0, 256, (36, 48, 3), dtype=np.uint8)).save(root / split / name)
            labels = rng.choice([0, 1, 2, 3, 11], size=(36, 48)).astype(np.uint8)
            Image.fromarray(labels).save(root / f"{split}annot" / name)
    return root
