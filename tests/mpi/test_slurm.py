"""scripts/slurm/artel.sbatch under a real Slurm: a one-node cluster on this machine
(scripts/slurm/local-cluster.sh: munge, slurmctld and slurmd started here and stopped after), the job
submitted, waited for, and its file compared with a serial run; then a job stopped by the signal that
comes before its time limit, which requeues itself and resumes to the same file. Skipped, with the reason,
only where the cluster cannot start (no slurm-wlm, not root, daemons refused)."""
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import SCENARIO, SERIAL_EXE, SOURCE, EXE, assert_identical, run

SCRIPTS = SOURCE / "scripts" / "slurm"
SHAPE = ["--replications", "6", "--set", "population.villages=24", "--set", "population.households=40"]
# long enough to be stopped while it runs (2 ranks x 1 thread)
LONG = ["--replications", "48", "--set", "population.villages=1200", "--set", "population.households=50"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    d = tmp_path_factory.mktemp("slurm")
    r = subprocess.run([str(SCRIPTS / "local-cluster.sh"), "start", str(d)], capture_output=True, text=True,
                       timeout=120)
    if r.returncode == 3:
        pytest.skip(f"no Slurm cluster on this machine: {r.stderr.strip()}")
    assert r.returncode == 0, r.stdout + r.stderr
    env = dict(os.environ)
    env["SLURM_CONF"] = str(d / "slurm.conf")
    env["ARTEL"] = EXE
    # root in CI: Open MPI asks to be told that this is meant
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    env["OMPI_MCA_rmaps_base_oversubscribe"] = "1"
    # mpirun, given SIGTERM, waits this long before it passes it on, and as long again before SIGKILL
    # (artel.sbatch: 30 s)
    env["OMPI_MCA_odls_base_sigkill_timeout"] = "2"
    yield d, env
    subprocess.run([str(SCRIPTS / "local-cluster.sh"), "stop", str(d)], timeout=60)


def sbatch(cluster, out, *extra, wait=True):
    d, env = cluster
    cmd = ["sbatch", "--parsable", "--nodes=1", "--ntasks-per-node=2", "--cpus-per-task=1",
           f"--output={d}/job-%j.log", f"--chdir={d}"]
    if wait:
        cmd.append("--wait")
    cmd += [str(SCRIPTS / "artel.sbatch"), str(SCENARIO), str(out), *extra]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    job = r.stdout.strip().split(";")[0]
    return r, job


def log_of(cluster, job):
    p = cluster[0] / f"job-{job}.log"
    return p.read_text() if p.exists() else "(no log)"


def test_the_sbatch_script_gives_the_serial_file(cluster, tmp_path):
    ref = tmp_path / "serial.h5"
    run([SERIAL_EXE, "run", str(SCENARIO), "-o", str(ref), "--threads", "2", "--quiet", *SHAPE])
    out = tmp_path / "slurm.h5"
    r, job = sbatch(cluster, out, *SHAPE)
    assert r.returncode == 0, r.stderr + log_of(cluster, job)
    log = log_of(cluster, job)
    assert "2 ranks x 1 threads" in log, log
    assert_identical(ref, out)


def state_of(cluster, job):
    _, env = cluster
    r = subprocess.run(["scontrol", "show", "job", job], capture_output=True, text=True, env=env)
    for word in r.stdout.split():
        if word.startswith("JobState="):
            return word.split("=", 1)[1], r.stdout
    return "", r.stdout


def test_the_signal_before_the_time_limit_requeues_and_resumes(cluster, tmp_path):
    ref = tmp_path / "serial.h5"
    run([SERIAL_EXE, "run", str(SCENARIO), "-o", str(ref), "--threads", "2", "--quiet", *LONG])
    out = tmp_path / "requeued.h5"
    r, job = sbatch(cluster, out, *LONG, wait=False)
    assert r.returncode == 0, r.stderr
    _, env = cluster
    ck = Path(str(out) + ".checkpoint")
    deadline = time.monotonic() + 180
    while not (ck.exists() and ck.stat().st_size > 4096) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ck.exists(), log_of(cluster, job)
    # what Slurm does at --signal=B:TERM@...: SIGTERM to the batch script only
    subprocess.run(["scancel", "--batch", "--signal=TERM", job], check=True, env=env)
    deadline = time.monotonic() + 300
    requeued = None
    while time.monotonic() < deadline:
        state, detail = state_of(cluster, job)
        if state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"):
            break
        if state == "PENDING" and "Restarts=1" in detail:
            # Slurm holds a requeued job back (BeginTime, ~2.5 min here); start it sooner, but not at once:
            # slurmd refuses to launch a job it killed moments ago ("already killed")
            requeued = requeued or time.monotonic()
            if time.monotonic() - requeued > 10:
                subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], check=True, env=env)
                requeued = float("inf")
        time.sleep(0.5)
    log = log_of(cluster, job)
    assert state == "COMPLETED", f"{state}\n{detail}\n{log}"
    assert "requeueing" in log and "resuming" in log, log
    assert_identical(ref, out)
