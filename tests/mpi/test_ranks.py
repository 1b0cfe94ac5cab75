"""Identical files for any rank count, a replication split across ranks, priors, failures and resumes with
another rank count."""
import os
import signal
import subprocess
import time
from pathlib import Path

import h5py
import pytest

from conftest import (SCENARIO, SERIAL_EXE, SMALL, UNCERTAIN, assert_identical, mpi_env, mpirun, run)


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_any_rank_count_gives_the_serial_file(serial_small, tmp_path, ranks):
    out = tmp_path / f"np{ranks}.h5"
    run(mpirun(ranks, "run", str(SCENARIO), "-o", str(out), *SMALL))
    assert_identical(serial_small, out)
    assert not Path(str(out) + ".checkpoint").exists() and not Path(str(out) + ".partial").exists()


# One replication of 300 villages x 40 households: 6 work units of 51 villages, spread over the ranks (3 ranks:
# 2 units each, merged by rank 0).
ONE_HUGE = ["--replications", "1", "--set", "population.villages=300", "--set", "population.households=40",
            "--set", "output.trajectory_households=30", "--set", "output.trajectory_replications=1", "--quiet"]


def test_one_replication_split_across_ranks(tmp_path):
    ref = tmp_path / "serial.h5"
    run([SERIAL_EXE, "run", str(SCENARIO), "-o", str(ref), "--threads", "2", *ONE_HUGE])
    for ranks in (2, 3):
        out = tmp_path / f"np{ranks}.h5"
        run(mpirun(ranks, "run", str(SCENARIO), "-o", str(out), *ONE_HUGE))
        assert_identical(ref, out)


PRIORS = ["--replications", "12", "--set", "population.villages=16", "--set", "population.households=40", "--quiet"]


def test_priors_give_the_serial_file(tmp_path):
    ref = tmp_path / "serial.h5"
    run([SERIAL_EXE, "run", str(UNCERTAIN), "-o", str(ref), "--threads", "2", *PRIORS])
    with h5py.File(ref, "r") as f:
        assert "uncertainty" in f and "sensitivity" in f["arms"][list(f["arms"])[0]]
    for ranks in (2, 3):
        out = tmp_path / f"np{ranks}.h5"
        run(mpirun(ranks, "run", str(UNCERTAIN), "-o", str(out), *PRIORS))
        assert_identical(ref, out)


# Long enough to be stopped in the middle (a few seconds): 48 replications x 5 arms x 300 villages x 50 households x 20 years,
# one thread per rank.
LONG = ["--replications", "48", "--set", "population.villages=300", "--set", "population.households=50"]


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("long") / "ref.h5"
    run([SERIAL_EXE, "run", str(SCENARIO), "-o", str(out), "--threads", "2", "--quiet", *LONG])
    return out


def records_in(checkpoint):
    """Whether the journal holds some finished replication (it is more than its header)."""
    return checkpoint.exists() and checkpoint.stat().st_size > 4096


def ranks_of(proc):
    """The artel processes mpirun started."""
    out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def start_and_wait_for_records(cmd, out, timeout=120):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=mpi_env())
    ck = Path(str(out) + ".checkpoint")
    deadline = time.monotonic() + timeout
    while not records_in(ck) and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert p.poll() is None, "the run ended before it could be stopped: make LONG longer"
    return p


def test_a_killed_rank_then_resume_with_another_rank_count(long_reference, tmp_path):
    out = tmp_path / "killed.h5"
    p = start_and_wait_for_records(mpirun(3, "run", str(SCENARIO), "-o", str(out), "--quiet", *LONG), out)
    victims = ranks_of(p)
    assert len(victims) == 3
    os.kill(victims[1], signal.SIGKILL)  # one rank, no chance to clean up: mpirun ends the others
    p.communicate(timeout=120)
    assert p.returncode != 0
    assert not out.exists()
    # resume with 2 ranks, then (if anything is left) nothing more is needed
    r = run(mpirun(2, "run", str(SCENARIO), "-o", str(out), "--quiet", "--resume", *LONG), timeout=600)
    assert out.exists() and not Path(str(out) + ".checkpoint").exists(), r.stderr
    assert_identical(long_reference, out)


def test_sigterm_to_one_rank_stops_every_rank_cleanly_then_resumes_serially(long_reference, tmp_path):
    out = tmp_path / "term.h5"
    p = start_and_wait_for_records(mpirun(2, "run", str(SCENARIO), "-o", str(out), "--progress", "log", *LONG), out)
    os.kill(ranks_of(p)[1], signal.SIGTERM)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 143, err
    assert "--resume" in err and "replications are finished" in err
    assert err.count("replications are finished") == 1  # said once, by rank 0
    assert not out.exists()
    run([SERIAL_EXE, "run", str(SCENARIO), "-o", str(out), "--quiet", "--resume", "--threads", "2", *LONG])
    assert_identical(long_reference, out)


def test_a_failing_rank_ends_the_job_naming_it(tmp_path):
    out = tmp_path / "fail.h5"
    env = mpi_env()
    env["ARTEL_FAIL_REPLICATION"] = "4"  # replication 4 of 5 runs on rank 2 of 3
    r = subprocess.run(mpirun(3, "run", str(SCENARIO), "-o", str(out), *SMALL), capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 1, r.stderr
    assert "rank 2 of 3" in r.stderr and "replication 4" in r.stderr and "--resume" in r.stderr, r.stderr
    assert r.stderr.count("artel: error:") == 1, r.stderr
    assert not out.exists() and Path(str(out) + ".checkpoint").exists()


def test_refusals_are_said_once(serial_small, tmp_path):
    out = tmp_path / "exists.h5"
    out.write_bytes(b"something")
    r = run(mpirun(3, "run", str(SCENARIO), "-o", str(out), *SMALL), check=False)
    assert r.returncode == 2 and r.stderr.count("artel: error:") == 1 and "exists" in r.stderr, r.stderr
    r = run(mpirun(2, "run", str(SCENARIO), "-o", str(tmp_path / "x.h5"), "--set", "population.villages=-1",
                   *SMALL), check=False)
    assert r.returncode == 2 and r.stderr.count("artel: error:") == 1, r.stderr


def test_dry_run_gives_memory_per_rank(tmp_path):
    out = tmp_path / "dry.h5"
    r = run(mpirun(3, "run", str(SCENARIO), "-o", str(out), "--dry-run", *SMALL))
    assert "per rank" in r.stdout and r.stdout.count("plan for") == 1, r.stdout
    assert not out.exists() and not Path(str(out) + ".checkpoint").exists()
