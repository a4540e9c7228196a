"""The tutorial notebooks (docs/tutorials/*.ipynb): stored without outputs, and each runs from top to bottom.

Execution needs nbclient and ipykernel (the ``notebooks`` extra; CI installs it) and is skipped, with that reason,
without them. Each notebook runs in its own kernel in a temporary directory, with MINIGRAD_NOTEBOOK_QUICK=1: the
GAN notebook then trains a few steps instead of a few minutes (it says so in its settings cell).
"""

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "docs" / "tutorials").glob("*.ipynb"))
CELL_TIMEOUT_S = 300


def test_the_four_tutorials_exist():
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01_backprop", "02_custom_op", "03_train_gan", "04_higher_order"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code
    stale = [i for i, c in enumerate(code) if c["outputs"] or c["execution_count"] is not None]
    assert not stale, f"{path.name}: code cells {stale} hold outputs (clear them before committing)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_runs(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="the notebooks extra (nbformat) is not installed")
    nbclient = pytest.importorskip("nbclient", reason="the notebooks extra (nbclient) is not installed")
    pytest.importorskip("ipykernel", reason="the notebooks extra (ipykernel) is not installed")
    monkeypatch.setenv("MINIGRAD_NOTEBOOK_QUICK", "1")
    # the kernel imports this checkout's minigrad and gan, installed or not
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError naming the cell and the traceback
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
