"""MPI runs of the artel executable built with ARTEL_MPI (CTest sets ARTEL_EXE, MPIEXEC and ARTEL_SOURCE_DIR;
tests/CMakeLists.txt registers these tests only in that build). Ranks run on this machine with
`mpirun --oversubscribe --allow-run-as-root` (2 cores here), one OpenMP thread each."""
import os
import shutil
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

SOURCE = Path(os.environ.get("ARTEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
EXE = os.environ.get("ARTEL_EXE", str(SOURCE / "build" / "mpi" / "artel"))
# The one-process reference: the serial build's executable when given, else this build's run without mpirun
# (a process not started by a launcher runs alone, with the serial build's code path).
SERIAL_EXE = os.environ.get("ARTEL_SERIAL_EXE") or EXE
MPIEXEC = os.environ.get("MPIEXEC", shutil.which("mpirun") or "mpirun")
SCENARIO = SOURCE / "configs" / "nep-1923.toml"
UNCERTAIN = SOURCE / "configs" / "nep-1923-uncertain.toml"

# The default scenario at a small size (tests/python/conftest.py's SMALL, with a few more replications).
SMALL = ["--replications", "5", "--set", "population.villages=24", "--set", "population.households=40",
         "--set", "output.trajectory_households=12", "--set", "output.trajectory_replications=2", "--quiet"]


def mpi_env():
    env = dict(os.environ)
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
    # When a rank exits non-zero, mpirun sends SIGTERM to the others and sleeps this long before SIGKILL,
    # whether they are gone or not: Open MPI's default of 1 s (the tests signal ranks, not mpirun).
    env.setdefault("OMPI_MCA_odls_base_sigkill_timeout", "1")
    env["OMP_NUM_THREADS"] = "1"
    return env


def mpirun(np_, *args):
    return [MPIEXEC, "--oversubscribe", "--allow-run-as-root", "-np", str(np_), EXE, *args]


def run(cmd, timeout=300, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=mpi_env(), **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def all_datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, np.atleast_1d(o[()])) if isinstance(o, h5py.Dataset) else None)
    return out


def assert_identical(a, b):
    """The two files hold the same datasets (values and shapes), bit for bit."""
    da, db = all_datasets(a), all_datasets(b)
    assert da.keys() == db.keys()
    for k in da:
        assert da[k].shape == db[k].shape, k
        if da[k].dtype.kind == "O":
            assert list(da[k]) == list(db[k]), k
        else:
            assert da[k].tobytes() == db[k].tobytes(), k
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        assert fa.attrs["complete"] == fb.attrs["complete"] == 1
        assert fa.attrs["replications_written"] == fb.attrs["replications_written"]


@pytest.fixture(scope="session")
def serial_small(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "serial.h5"
    run([SERIAL_EXE, "run", str(SCENARIO), "-o", str(out), "--threads", "2", *SMALL])
    return out
