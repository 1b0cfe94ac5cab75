"""The artel Python package as a user installs it (conftest.py: pip install --no-build-isolation into a venv
made with --system-site-packages): imported from the install, its console scripts, python -m artel, the
notebook as package data, and an install for the user."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import artel
from conftest import EXE, PACKAGE_SOURCE, SOURCE


def run(cmd, cwd, env=None, timeout=120):
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_imported_from_the_install(installed):
    where = Path(artel.__file__).resolve()
    assert where.is_relative_to(installed.site.resolve()), where
    assert not where.is_relative_to(PACKAGE_SOURCE.resolve())
    version = re.search(r"project\(artel VERSION (\S+)", (SOURCE / "CMakeLists.txt").read_text()).group(1)
    assert artel.__version__ == version  # the package ships with the engine of the same version
    # the notebook is package data, the same as in the source tree
    nb = Path(artel.__file__).parent / "notebooks" / "nep-1923.ipynb"
    assert nb.read_bytes() == (PACKAGE_SOURCE / "artel" / "notebooks" / "nep-1923.ipynb").read_bytes()
    assert (SOURCE / "scripts" / "notebooks" / "nep-1923.ipynb").resolve() == \
        (PACKAGE_SOURCE / "artel" / "notebooks" / "nep-1923.ipynb").resolve()
    for script in ("artel-plot", "artel-notebook", "artel-calibrate"):
        assert os.access(installed.bin / script, os.X_OK), script


def test_python_m_artel_prints_what_artel_info_prints(installed, small_run, tmp_path, capsys):
    """Outside the repository, from the venv's python: the same text as the engine's `artel info`."""
    mine = run([installed.python, "-m", "artel", small_run], cwd=tmp_path)
    engine = run([EXE, "info", small_run], cwd=tmp_path)
    assert mine.returncode == engine.returncode == 0, mine.stderr
    assert mine.stdout == engine.stdout
    assert "Headline results" in mine.stdout and "sufficiency" in mine.stdout
    # an incomplete file: described, no headline, exit code 1, as the engine does (in this process: the same
    # code as python -m artel, without starting another interpreter)
    from artel import info
    partial = tmp_path / "partial.h5"
    shutil.copyfile(small_run, partial)
    with h5py.File(partial, "r+") as f:
        f.attrs["complete"], f.attrs["replications_written"] = np.int64(0), np.int64(2)
    capsys.readouterr()
    assert info.main([str(partial)]) == 1
    engine = run([EXE, "info", partial], cwd=tmp_path)
    assert engine.returncode == 1
    assert capsys.readouterr().out == engine.stdout and "INCOMPLETE (2 replications written)" in engine.stdout
    bad = tmp_path / "bad.h5"
    bad.write_text("no\n")
    assert info.main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("artel: error:") and "Traceback" not in err


def test_console_scripts(installed, small_run, tmp_path):
    r = run([installed.bin / "artel-plot", small_run, "--list"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == ["overview", "forest"]
    # (artel-notebook runs the notebook in test_notebook.py; --copy, in this process, writes it out)
    from artel import notebook
    assert notebook.main(["--copy", str(tmp_path / "nb")]) == 0
    copied = tmp_path / "nb" / "nep-1923.ipynb"
    assert copied.read_bytes() == (PACKAGE_SOURCE / "artel" / "notebooks" / "nep-1923.ipynb").read_bytes()
    # the repository's own wrapper (scripts/artel-plot, used by scripts/run-default.sh) reads the source tree
    r = run([sys.executable, SOURCE / "scripts" / "artel-plot", small_run, "--list"], cwd=tmp_path)
    assert r.returncode == 0 and "forest" in r.stdout.split(), r.stderr


def test_user_install(tmp_path):
    """pip install --user (Debian marks its Python externally managed, hence --break-system-packages, which
    writes to the user's folder only); offline, with Debian's setuptools."""
    src = tmp_path / "src"
    shutil.copytree(PACKAGE_SOURCE, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONUSERBASE"] = str(tmp_path / "user")
    r = run([sys.executable, "-m", "pip", "install", "--user", "--break-system-packages", "--no-build-isolation",
             "--no-index", "--disable-pip-version-check", "-q", src], cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert os.access(tmp_path / "user" / "bin" / "artel-plot", os.X_OK)
    r = run([sys.executable, "-c", "import artel; print(artel.__file__)"], cwd=tmp_path, env=env)
    assert r.returncode == 0 and r.stdout.strip().startswith(str(tmp_path / "user")), r.stdout + r.stderr
