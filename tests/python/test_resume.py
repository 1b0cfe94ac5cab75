"""Batch jobs that survive: killed runs resume bit-identically, signals leave
a resumable run, a full disk fails cleanly and resumes, resumes of another
scenario are refused."""
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest

from conftest import EXE, SCENARIO, assert_identical

# Big enough to take a second or two at 2 threads (40 replications x 5 arms x
# 400 villages x 50 households x 20 years = 80 M household-years) and many
# checkpoints (40 batches of 1), so that signals land in the middle of a run.
SHAPE = ["--replications", "40", "--set", "population.villages=400", "--set", "population.households=50"]


def cmd(out, *extra, threads=2):
    return [EXE, "run", str(SCENARIO), "-o", str(out), *SHAPE, "--threads", str(threads), *extra]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "ref.h5"
    subprocess.run(cmd(out, "--quiet"), check=True)
    return out


def checkpoint(out):
    return Path(str(out) + ".checkpoint")


def test_sigkill_at_random_moments_then_resume(reference, tmp_path):
    out = tmp_path / "killed.h5"
    rng = random.Random(20261128)
    started = False
    for attempt in range(3):
        args = cmd(out, "--quiet") + (["--resume"] if started else [])
        p = subprocess.Popen(args)
        time.sleep(rng.uniform(0.3, 1.5))
        p.kill()  # SIGKILL: no chance to clean up
        p.wait()
        started = started or checkpoint(out).exists()
        if out.exists():  # only ever a complete file under the final name
            with h5py.File(out, "r") as f:
                assert f.attrs["complete"] == 1
    if checkpoint(out).exists():
        subprocess.run(cmd(out, "--quiet", "--resume"), check=True)  # also when out is already complete
    elif not out.exists():
        subprocess.run(cmd(out, "--quiet"), check=True)
    assert out.exists() and not checkpoint(out).exists()
    assert not Path(str(out) + ".partial").exists()
    assert_identical(reference, out)


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_cleanly_and_resumes(reference, tmp_path, sig, code):
    out = tmp_path / "sig.h5"
    p = subprocess.Popen(cmd(out, "--progress", "log"), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not checkpoint(out).exists() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # signal once the run has begun writing, well before it ends
    time.sleep(0.2)
    p.send_signal(sig)
    _, err = p.communicate(timeout=120)
    assert p.returncode == code, f"the run must still be going when the signal arrives\n{err}"
    assert "--resume" in err and "replications are finished" in err
    assert not out.exists()
    assert checkpoint(out).exists()
    # a plain rerun refuses to clobber the unfinished run
    r = subprocess.run(cmd(out, "--quiet"), capture_output=True, text=True)
    assert r.returncode == 2 and "--resume" in r.stderr
    # a resume with another scenario is refused
    r = subprocess.run(cmd(out, "--quiet", "--resume", "--set", "policy.bonus=1"), capture_output=True, text=True)
    assert r.returncode == 2 and "different scenario" in r.stderr, r.stderr
    subprocess.run(cmd(out, "--quiet", "--resume", threads=1), check=True)
    assert_identical(reference, out)


def test_write_error_fails_cleanly_and_resumes(reference, tmp_path):
    out = tmp_path / "full.h5"

    def small_files():  # a "disk" that holds 1 MiB per file
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    r = subprocess.run(cmd(out, "--quiet"), capture_output=True, text=True, preexec_fn=small_files)
    assert r.returncode == 1, r.stderr
    assert str(out) in r.stderr and "--resume" in r.stderr
    assert not out.exists()  # never a truncated file under the final name
    subprocess.run(cmd(out, "--quiet", "--resume"), check=True)
    assert_identical(reference, out)


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path):
    out = tmp_path / "plan.h5"
    r = subprocess.run(cmd(out, "--dry-run"), capture_output=True, text=True, check=True)
    for s in ("household-years", "estimated peak memory", "estimated output size", "estimated run time"):
        assert s in r.stdout
    assert not out.exists() and not checkpoint(out).exists()


def test_memory_beyond_the_machine_is_refused(tmp_path):
    out = tmp_path / "huge.h5"
    r = subprocess.run([EXE, "run", str(SCENARIO), "-o", str(out), "--replications", "2000000000",
                        "--set", "run.years=1000", "--set", "output.histogram_years=[1923]"],
                       capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert "memory" in r.stderr and "available" in r.stderr
    assert not out.exists()
