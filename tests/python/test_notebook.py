"""scripts/notebooks/nep-1923.ipynb: stored without outputs, and runs headless (nbclient, a kernel on this
interpreter: Debian's /usr/bin/python3 under CTest) on a small run."""
import os
import time
from pathlib import Path

import nbformat

from artel import notebook

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
    assert nb.metadata.kernelspec.name == "python3"


def test_runs_headless(small_run, tmp_path, capsys):
    """python3 -m artel.notebook FILE -o COPY: executes the notebook, keeps an executed copy, prints its text."""
    copy = tmp_path / "executed.ipynb"
    t0 = time.perf_counter()
    assert notebook.main([str(small_run), "-o", str(copy), "--timeout", "60"]) == 0
    elapsed = time.perf_counter() - t0
    printed_text = capsys.readouterr().out
    nb = nbformat.read(copy, as_version=4)
    assert not notebook.outputs(nb, "error")
    assert len(notebook.outputs(nb, "image/png")) >= 11  # overview, 6 fans, differences, ECDF, 2 histograms
    text = "\n".join(notebook.outputs(nb, "text/markdown"))
    assert "first brings the majority into active co-operation" in text and "### In short" in printed_text
    assert "95% CI" in text and "roubles" in text and "famine" in text
    assert "only 3 replications" in text
    assert any(f"`{arm}`" in text for arm in ("sufficiency", "cultural-revolution"))
    printed = "".join(o.text for o in notebook.outputs(nb, "stream"))
    assert str(small_run) in printed and "sufficiency" in printed
    # the repository's notebook is left as it was
    assert all(c.outputs == [] for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code")
    assert elapsed < 90, f"the notebook took {elapsed:.0f} s"
