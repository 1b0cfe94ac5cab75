"""Shared fixtures: small result files made by the real artel executable.

Run under Debian's /usr/bin/python3 (numpy, h5py, xarray, h5netcdf); CTest
sets ARTEL_EXE and ARTEL_SOURCE_DIR.
"""
import os
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

SOURCE = Path(os.environ.get("ARTEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
EXE = os.environ.get("ARTEL_EXE", str(SOURCE / "build" / "release" / "artel"))
SCENARIO = SOURCE / "configs" / "nep-1923.toml"

# The default scenario at a small size: 3 replications of 24 villages x 40 households.
SMALL = ["--replications", "3", "--set", "population.villages=24", "--set", "population.households=40",
         "--set", "output.trajectory_households=12", "--set", "output.trajectory_replications=2", "--quiet"]


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
