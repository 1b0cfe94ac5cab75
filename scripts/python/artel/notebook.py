"""The analysis notebook (package data: artel/notebooks/nep-1923.ipynb), run headless or copied out.

    artel-notebook nep-1923.h5                      # run it (nbclient), print the notebook's written text
    artel-notebook nep-1923.h5 -o /tmp/nep.ipynb    # and keep a copy with every output
    artel-notebook --copy .                         # write nep-1923.ipynb here, to open in Jupyter
    artel-notebook uncertain.h5 --notebook uncertain  # the notebook of a run with priors
    python3 -m artel.notebook ...                   # the same without the console script

The kernel is this interpreter (a kernel spec in a temporary directory), so the
notebook runs with the same packages (and the same artel) whatever 'python3'
kernels the machine has; the packaged notebook is never modified. In Jupyter
the notebook reads the file named by $ARTEL_RESULTS, else nep-1923.h5 in the
current folder or the nearest folder above it that has one.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
NOTEBOOK = PACKAGE_DIR / "notebooks" / "nep-1923.ipynb"
#: the packaged notebooks by name: the default scenario's, and the uncertain scenario's (priors, sensitivity)
NOTEBOOKS = {"nep-1923": NOTEBOOK, "uncertain": PACKAGE_DIR / "notebooks" / "nep-1923-uncertain.ipynb"}
KERNEL_NAME = "artel-python"


@contextlib.contextmanager
def _environ(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(results, notebook=NOTEBOOK, *, timeout: int = 120, python: str = sys.executable, cwd=None):
    """Execute `notebook` with ARTEL_RESULTS=`results` in folder `cwd` (default: the current one); return the
    executed nbformat notebook."""
    import nbformat
    from nbclient import NotebookClient

    notebook = Path(notebook)
    nb = nbformat.read(notebook, as_version=4)
    with tempfile.TemporaryDirectory(prefix="artel-nb-") as tmp:
        spec = Path(tmp) / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": f"artel ({python})", "language": "python"}))
        pythonpath = os.pathsep.join(p for p in (str(PACKAGE_DIR.parent), os.environ.get("PYTHONPATH", "")) if p)
        jupyter_path = os.pathsep.join(p for p in (tmp, os.environ.get("JUPYTER_PATH", "")) if p)
        with _environ(ARTEL_RESULTS=Path(results).resolve(), JUPYTER_PATH=jupyter_path,
                      JUPYTER_RUNTIME_DIR=Path(tmp) / "runtime", PYTHONPATH=pythonpath,
                      PYDEVD_DISABLE_FILE_VALIDATION=1, MPLCONFIGDIR=Path(tmp) / "mpl"):
            NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=timeout, startup_timeout=60,
                           resources={"metadata": {"path": str(cwd or Path.cwd())}}).execute()
    return nb


def outputs(nb, kind: str):
    """Every output of the given MIME type ('text/markdown', 'image/png', ...) or 'stream'/'error'."""
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if kind in ("stream", "error"):
                if o.output_type == kind:
                    out.append(o)
            elif o.output_type in ("display_data", "execute_result") and kind in o.data:
                out.append(o.data[kind])
    return out


def copy(folder, notebook=NOTEBOOK) -> Path:
    """Write a packaged notebook into `folder` (created if need be); return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / Path(notebook).name
    out.write_bytes(Path(notebook).read_bytes())
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="artel-notebook", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="?", help="artel result file")
    p.add_argument("-o", "--output", help="write the executed notebook (with outputs) here")
    p.add_argument("--notebook", default="nep-1923",
                   help="notebook to run: a packaged one by name (nep-1923, the default; uncertain, for a run "
                        "with priors) or a path")
    p.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    p.add_argument("--copy", metavar="DIR", help="write the packaged notebook into DIR and stop")
    args = p.parse_args(argv)
    notebook = NOTEBOOKS.get(args.notebook, Path(args.notebook))
    if args.copy:
        print(copy(args.copy, notebook))
        return 0
    if not args.results:
        p.error("give a result file (or --copy DIR)")
    if not Path(args.results).exists():
        print(f"artel-notebook: error: {args.results}: no such file", file=sys.stderr)
        return 2
    try:
        nb = execute(args.results, notebook, timeout=args.timeout)
    except Exception as e:  # a cell failed: nbclient's message names the cell and the error
        print(f"artel-notebook: error: {type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e) else ''}",
              file=sys.stderr)
        return 1
    if args.output:
        import nbformat
        nbformat.write(nb, args.output)
        print(f"artel-notebook: executed notebook written to {args.output}", file=sys.stderr)
    print("\n\n".join(outputs(nb, "text/markdown")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
