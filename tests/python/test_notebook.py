"""scripts/notebooks/nep-1923.ipynb: stored without outputs, and runs headless (nbclient) on a small run."""
import json
import os
import sys
import time
from pathlib import Path

import nbformat
import pytest

SOURCE = Path(os.environ.get("ARTEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
NOTEBOOK = SOURCE / "scripts" / "notebooks" / "nep-1923.ipynb"


def test_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for c in code:
        assert c.outputs == [] and c.execution_count is None, c.source[:60]
    assert "ARTEL_RESULTS" in nb.cells[1].source


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """A kernel spec running this interpreter (Debian's /usr/bin/python3 under CTest), whatever
    'python3' kernels the machine has."""
    spec = tmp_path / "jupyter" / "kernels" / "artel-python"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "artel (Debian python3)", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    monkeypatch.setenv("MPLCONFIGDIR", str(tmp_path / "mpl"))
    return "artel-python"


def test_runs_headless(small_run, kernel, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("ARTEL_RESULTS", str(small_run))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, kernel_name=kernel, timeout=60, startup_timeout=60,
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    elapsed = time.perf_counter() - t0
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if o.output_type in ("display_data", "execute_result") and "image/png" in o.data]
    assert len(images) >= 11  # overview, 6 fans, differences, year to majority, 2 histograms
    text = "\n".join(o.data["text/markdown"] for o in outputs
                     if o.output_type in ("display_data", "execute_result") and "text/markdown" in o.data)
    assert "first brings the majority into active co-operation" in text
    assert "95% CI" in text and "roubles" in text and "famine" in text
    assert "only 3 replications" in text
    assert any(f"`{arm}`" in text for arm in ("sufficiency", "cultural-revolution"))
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert str(small_run) in printed
    assert elapsed < 90, f"the notebook took {elapsed:.0f} s"
