"""The training package stays readable: short functions, one home per helper, train()'s arguments in one place.

No TensorFlow work here: these read the source (and one signature), so they run in a second.
"""

import ast
import dataclasses
import inspect
from pathlib import Path

from mobseg.training import train
from mobseg.training.arguments import TrainArguments

TRAINING = Path(__file__).resolve().parents[1] / "mobseg" / "training"

#: Longest function allowed in mobseg/training, in lines from ``def`` to its end, its docstring not counted
#: (train()'s public docstring alone is 42 lines).
MAX_FUNCTION_LINES = 60


def _functions(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _length_without_docstring(node):
    length = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        length -= first.end_lineno - first.lineno + 1
    return length


def test_no_function_in_mobseg_training_is_over_60_lines():
    long = [
        f"{path.name}:{node.lineno} {node.name} ({_length_without_docstring(node)} lines)"
        for path in sorted(TRAINING.glob("*.py"))
        for node in _functions(path)
        if _length_without_docstring(node) > MAX_FUNCTION_LINES
    ]
    assert not long, f"split these into named steps: {long}"


def test_train_arguments_match_the_signature_of_train():
    parameters = list(inspect.signature(train).parameters)
    fields = [f.name for f in dataclasses.fields(TrainArguments) if f.init]
    assert fields == parameters


def test_training_writes_files_through_io_atomic_and_reads_the_model_through_its_properties():
    for path in sorted(TRAINING.glob("*.py")):
        source = path.read_text()
        for handwritten in ("mkstemp", "os.replace(", 'getattr(model, "architecture"', "architecture.get("):
            assert handwritten not in source, f"{path.name} uses {handwritten}"
