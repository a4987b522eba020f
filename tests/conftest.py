"""Shared test settings: quiet TensorFlow, deterministic seeds, small sizes."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import pytest


def pytest_collection_modifyitems(config, items):
    """Under JAX or PyTorch, tests marked ``tensorflow_only`` are skipped with a reason (never a silent pass).

    .ci/run leaves them out of those runs with ``-m "not tensorflow_only"``; this covers a plain ``pytest``.
    """
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


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()
