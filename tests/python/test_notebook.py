"""The analysis notebook (package data artel/notebooks/nep-1923.ipynb): stored without outputs, starts with
`import artel`, and runs headless from the installed package (artel-notebook: nbclient, a kernel on the
venv's interpreter) on a small run."""
import subprocess
import time

import nbformat

from artel import notebook
from conftest import EXE, PACKAGE_SOURCE, SOURCE

NOTEBOOK = PACKAGE_SOURCE / "artel" / "notebooks" / "nep-1923.ipynb"


def test_stored_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for c in code:
        assert c.outputs == [] and c.execution_count is None, c.source[:60]
    first = nb.cells[1].source
    assert "ARTEL_RESULTS" in first and "import artel" in first and "sys.path" not in first
    assert nb.metadata.kernelspec.name == "python3"
    # the question is answered in a few lines of xarray, right after opening the file
    assert 'res.dataset("events")' in nb.cells[3].source and len(nb.cells[3].source.splitlines()) <= 10


def test_runs_headless_from_the_installed_package(installed, small_run, tmp_path):
    """artel-notebook FILE -o COPY: executes the packaged notebook, keeps an executed copy, prints its text."""
    copy = tmp_path / "executed.ipynb"
    t0 = time.perf_counter()
    r = subprocess.run([str(installed.bin / "artel-notebook"), str(small_run), "-o", str(copy), "--timeout", "60"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr
    nb = nbformat.read(copy, as_version=4)
    assert not notebook.outputs(nb, "error")
    from artel import plots
    n_figures = 1 + 1 + 1 + 1 + len(plots.FAN_SERIES) + 2  # forest, overview, ECDF, differences, fans, histograms
    assert len(notebook.outputs(nb, "image/png")) == n_figures
    text = "\n".join(notebook.outputs(nb, "text/markdown"))
    assert "first brings the majority into active co-operation" in text and "### In short" in r.stdout
    assert "95% CI" in text and "roubles" in text and "famine" in text
    assert "only 3 replications" in text
    assert any(f"`{arm}`" in text for arm in ("sufficiency", "cultural-revolution"))
    printed = "".join(o.text for o in notebook.outputs(nb, "stream"))
    assert str(small_run) in printed and "sufficiency" in printed
    tables = "".join(notebook.outputs(nb, "text/plain"))
    assert "median year" in tables and "state cost (roubles)" in tables
    # the packaged notebook is left as it was
    installed_nb = installed.site / "artel" / "notebooks" / "nep-1923.ipynb"
    assert all(c.outputs == [] for c in nbformat.read(installed_nb, as_version=4).cells if c.cell_type == "code")
    assert elapsed < 90, f"the notebook took {elapsed:.0f} s"


def test_the_uncertainty_notebook_runs_on_a_run_with_priors(installed, tmp_path):
    """artel-notebook FILE --notebook uncertain: the ranking's certainty and the drivers, from the file."""
    nb_file = PACKAGE_SOURCE / "artel" / "notebooks" / "nep-1923-uncertain.ipynb"
    stored = nbformat.read(nb_file, as_version=4)
    assert all(c.outputs == [] for c in stored.cells if c.cell_type == "code")
    run = tmp_path / "uncertain.h5"
    subprocess.run([EXE, "run", str(SOURCE / "configs" / "nep-1923-uncertain.toml"), "-o", str(run), "--quiet",
                    "--replications", "40", "--set", "population.villages=4", "--set", "population.households=25"],
                   check=True)
    copy = tmp_path / "executed.ipynb"
    r = subprocess.run([str(installed.bin / "artel-notebook"), str(run), "--notebook", "uncertain", "-o", str(copy),
                        "--timeout", "60"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    nb = nbformat.read(copy, as_version=4)
    assert not notebook.outputs(nb, "error")
    assert len(notebook.outputs(nb, "image/png")) == 3
    text = "\n".join(notebook.outputs(nb, "text/markdown"))
    assert "Design `lhs`, 10 uncertain parameters" in text
    assert "the median order is" in text and "keeps one sign in at least" in text
    assert "turns most on" in text
