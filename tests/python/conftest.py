"""Shared fixtures: the artel Python package installed in a venv, and small result files made by the real
artel executable.

The tests run against the INSTALLED package, as a user has it: at the start of the session
scripts/python is installed offline (pip --no-build-isolation --no-index) into a venv made with
--system-site-packages in a temporary folder, and that venv's site-packages comes first on sys.path, so
`import artel` in the tests imports the installed copy (a check says so). The console scripts and
`python -m artel` are run from the venv's bin/. Run under Debian's /usr/bin/python3 (numpy, h5py, xarray,
h5netcdf); CTest sets ARTEL_EXE and ARTEL_SOURCE_DIR.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest

SOURCE = Path(os.environ.get("ARTEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
EXE = os.environ.get("ARTEL_EXE", str(SOURCE / "build" / "release" / "artel"))
SCENARIO = SOURCE / "configs" / "nep-1923.toml"
PACKAGE_SOURCE = SOURCE / "scripts" / "python"

# The default scenario at a small size: 3 replications of 24 villages x 40 households.
SMALL = ["--replications", "3", "--set", "population.villages=24", "--set", "population.households=40",
         "--set", "output.trajectory_households=12", "--set", "output.trajectory_replications=2", "--quiet"]

_VENV: SimpleNamespace | None = None


def install_package() -> SimpleNamespace:
    """Install scripts/python into a fresh venv (once per session): python, bin, site, root, pip's output."""
    global _VENV
    if _VENV is not None:
        return _VENV
    root = Path(tempfile.mkdtemp(prefix="artel-venv-"))
    venv = root / "venv"
    # pip comes from the system's site-packages: a venv without its own pip is made in 0.05 s, not 3 s
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    src = root / "src"  # a copy: pip builds in the source folder, and the checkout stays clean
    shutil.copytree(PACKAGE_SOURCE, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    python = venv / "bin" / "python"
    r = subprocess.run([str(python), "-m", "pip", "install", "--no-build-isolation", "--no-index",
                        "--disable-pip-version-check", str(src)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"pip install of {PACKAGE_SOURCE} into a venv failed:\n{r.stdout}\n{r.stderr}")
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    _VENV = SimpleNamespace(root=root, venv=venv, python=python, bin=venv / "bin", site=site, pip_output=r.stdout)
    return _VENV


def pytest_configure(config):
    """Make `import artel` import the installed package: the venv's site-packages first on sys.path, and no
    source tree (PYTHONPATH=scripts/python, the current folder) before it."""
    v = install_package()
    src = str(PACKAGE_SOURCE.resolve())
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(src)]
    sys.path.insert(0, str(v.site))
    os.environ.pop("PYTHONPATH", None)  # subprocesses too
    assert "artel" not in sys.modules, "artel was imported before the installed package could be put first"


def pytest_unconfigure(config):
    if _VENV is not None:
        shutil.rmtree(_VENV.root, ignore_errors=True)


@pytest.fixture(scope="session")
def installed():
    """The venv the package is installed in: .python, .bin (artel-plot, artel-notebook), .site."""
    return install_package()


def run_artel(out, *extra, threads=2):
    cmd = [EXE, "run", str(SCENARIO), "-o", str(out), "--threads", str(threads), *SMALL, *extra]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    return run_artel(tmp_path_factory.mktemp("run") / "small.h5")


@pytest.fixture(scope="session")
def small_run_1thread(tmp_path_factory):
    return run_artel(tmp_path_factory.mktemp("run1") / "small1.h5", threads=1)


def all_datasets(path):
    """Every dataset of a result file, by path."""
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, np.atleast_1d(o[()])) if isinstance(o, h5py.Dataset) else None)
    return out


def assert_identical(a, b):
    """The two files hold the same datasets, bit for bit."""
    da, db = all_datasets(a), all_datasets(b)
    assert da.keys() == db.keys()
    for k in da:
        if da[k].dtype.kind == "O":
            assert list(da[k]) == list(db[k]), k
        else:
            assert da[k].tobytes() == db[k].tobytes(), k
