"""Peak memory does not grow with the replication count.

The runner keeps a bounded window of replication accumulators, the writer
streams every replication's rows to the file, and the statistics at the end
read the file back one series at a time; so a run of many replications needs
about what a run of a few needs. Measured on a tiny population (so that many
replications take seconds): the resident set of 5000 replications stays
within a few MiB of that of 1000, and far under the 256 MiB budget of
docs/performance.md. (Before the writer bounded HDF5's chunk caches and read
the statistics back one variable at a time, 20 000 replications took 580 MiB.)
"""
import subprocess
import sys

from conftest import EXE, SCENARIO

TINY = ["--set", "population.villages=1", "--set", "population.households=10",
        "--set", "output.trajectory_households=5", "--quiet", "--threads", "2"]

# Runs a command in a child and prints the child's peak resident set (KiB).
PEAK = ("import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def peak_kib(out, replications):
    cmd = [EXE, "run", str(SCENARIO), "-o", str(out), "--replications", str(replications), *TINY]
    res = subprocess.run([sys.executable, "-c", PEAK, *cmd], check=True, capture_output=True, text=True)
    return int(res.stdout.split()[-1])


def test_peak_memory_does_not_grow_with_replications(tmp_path):
    # Both runs have the runner's full window of accumulators (64 MiB at most).
    few = peak_kib(tmp_path / "few.h5", 1000)
    many = peak_kib(tmp_path / "many.h5", 5000)
    assert many < 256 * 1024, f"{many} KiB"
    # 5x the replications: at most 24 MiB more (partly filled chunks in HDF5's
    # caches, ~100 KiB per dataset at most, and the statistics' read-back of
    # two variables, 5000 x 20 doubles each, are all that may grow).
    assert many - few < 24 * 1024, f"1000 replications: {few} KiB, 5000: {many} KiB"
