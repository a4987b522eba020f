"""The notebooks never rot: each one is executed (nbclient) in its small "smoke" setting (MOBSEG_SMOKE=1).

Every cell must run without error, and each notebook's outputs must show what the notebook is for.
The committed notebooks must also hold exactly the cell sources of ``scripts/build_notebooks.py``.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "scripts" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _text(notebook: nbformat.NotebookNode) -> str:
    """All text a notebook's code cells printed or displayed (stdout, results, Markdown)."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                parts.append(output["text"])
            for kind in ("text/plain", "text/markdown"):
                if kind in output.get("data", {}):
                    parts.append(output["data"][kind])
    return "\n".join(parts)


def _images(notebook: nbformat.NotebookNode) -> int:
    return sum("image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))


def _execute(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("MOBSEG_SMOKE", "1")
    monkeypatch.setenv("MOBSEG_ROOT", str(ROOT))
    monkeypatch.delenv("MOBSEG_DATA", raising=False)
    monkeypatch.delenv("MOBSEG_WEIGHTS", raising=False)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    # kernel_name "python3" resolves to the interpreter running the tests (jupyter_client swaps "python")
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    return notebook


@pytest.mark.tensorflow_only  # the notebooks are written and executed with the TensorFlow backend
def test_notebook_01_article_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _text(_execute("01_article_model.ipynb", tmp_path, monkeypatch))
    for key in ("Total params", "Trainable params", "Non-trainable params"):
        assert re.search(rf"{key}\s+[\d,]+\s+[\d,]+\s+same", text), key
    assert "DIFFERENT" not in text


@pytest.mark.tensorflow_only  # the notebooks are written and executed with the TensorFlow backend
def test_notebook_02_finetune(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = _execute("02_finetune_custom_masks.ipynb", tmp_path, monkeypatch)
    text = _text(notebook)
    assert "0 problems" in text
    assert re.search(r"\bfrozen\b", text) and re.search(r"\bunfrozen\b", text)  # both phases ran
    match = re.search(r"val mean IoU: (\d\.\d{3}) over (\d+) images", text)
    assert match and 0.0 <= float(match.group(1)) <= 1.0 and int(match.group(2)) > 0
    assert _images(notebook) >= 3  # samples, curves, overlays


@pytest.mark.tensorflow_only  # the notebooks are written and executed with the TensorFlow backend
def test_notebook_03_activation_study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = _execute("03_activation_study.ipynb", tmp_path, monkeypatch)
    text = _text(notebook)
    # the smoke setting of scripts/activation_study.py: both models; relu6 and swish, decoder off; relu6 decoder on;
    # seeds 0 and 1
    table = [line for line in text.splitlines() if line.startswith("| ")]
    for activation, decoder in (("relu6", "none (article)"), ("swish", "none (article)"), ("relu6", "same")):
        rows = [line for line in table if line.startswith(f"| {activation} | {decoder} | 2 | 0.")]
        assert len(rows) == 2, (activation, decoder)  # one per model
    assert "missing runs: none" in text
    assert "initial weights identical across activations in every (init, model, seed): yes (4 groups)" in text
    for model in ("mobilenet_segnet", "mobilenet_unet"):  # paired with relu6 on the same seeds
        assert any(line.startswith(f"| scratch | {model} | off | swish | relu6 | 2 | ") for line in table), model
        assert any(line.startswith(f"| {model} | relu6 | off | ") for line in table), model  # the cost table
    verdicts = ("supported", "partly supported", "not supported", "not measurable here")
    for claim in "abcde":
        assert re.search(rf"^\({claim}\) ({'|'.join(verdicts)})$", text, re.MULTILINE), claim
    assert "(e) not measurable here" in text and "(d) not measurable here" in text  # no TFLite in the smoke setting
    assert _images(notebook) >= 1


def test_notebooks_match_their_sources() -> None:
    """The committed .ipynb files hold the cells of scripts/build_notebooks.py (rebuild them if this fails)."""
    builder = _load_builder()
    for name, cells in builder.BOOKS.values():
        committed = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert [c.source for c in committed.cells] == [c.source for c in cells], (
            f"{name} differs from scripts/build_notebooks.py; run: python scripts/build_notebooks.py --only ..."
        )
