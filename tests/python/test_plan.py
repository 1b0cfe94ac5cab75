"""The estimates of `artel run --dry-run` against measured runs.

Scenarios of 1, 5 and 300 arms of a tiny population (so each run takes
seconds; 300 arms take ~30 s, nearly all of it HDF5's bookkeeping of ~130 000
datasets): the estimated peak memory must be within 25% of the peak resident
set of the run (ru_maxrss of the child), and the estimated output size an
upper bound of the file within 25% of it (the estimate counts the compressed
rows uncompressed: with few replications they are a small part of the file).
Planning itself stays small at the cap of 1024 arms; more arms are refused
when the scenario is read; a dry run whose estimate exceeds the memory
available says so and exits 2, as the run would. The model behind the
estimates: docs/performance.md, "Estimates before a run".
"""
import re
import subprocess
import sys

import pytest

from conftest import EXE, SCENARIO

TINY = ["--replications", "10", "--set", "population.villages=1", "--set", "population.households=10",
        "--set", "output.trajectory_households=5"]

# Runs a command in a child and prints the child's peak resident set (KiB).
PEAK = ("import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)\n"
        "sys.stdout.write(r.stdout)\n"
        "print('exit', r.returncode, 'peak', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")

UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def scenario(path, arms):
    """The default scenario with `arms` arms of different bonuses."""
    text = SCENARIO.read_text()
    text = text[:text.index("[[arm]]")]
    for a in range(arms):
        text += f'\n[[arm]]\nname = "arm{a}"\nbonus = {float(a % 50)}\n'
    path.write_text(text)
    return path


def measured(*cmd):
    """(exit code, output, peak resident KiB) of a child."""
    res = subprocess.run([sys.executable, "-c", PEAK, *map(str, cmd)], capture_output=True, text=True, check=True)
    m = re.search(r"exit (-?\d+) peak (\d+)\s*$", res.stdout)
    return int(m.group(1)), res.stdout[:m.start()], int(m.group(2))


def size(text, label):
    m = re.search(label + r":\s+(?:at most )?([\d.]+) (B|KiB|MiB|GiB|TiB)", text)
    assert m, text
    return float(m.group(1)) * UNITS[m.group(2)]


@pytest.mark.parametrize("arms", [1, 5, 300])
def test_estimates_match_the_run(tmp_path, arms):
    file = scenario(tmp_path / f"arms{arms}.toml", arms)
    out = tmp_path / "out.h5"
    plan = subprocess.run([EXE, "run", file, "-o", out, *TINY, "--threads", "2", "--dry-run"], capture_output=True, text=True,
                          check=True).stdout
    memory, output = size(plan, "estimated peak memory"), size(plan, "estimated output size")
    code, text, peak_kib = measured(EXE, "run", file, "-o", out, *TINY, "--threads", "2", "--quiet")
    assert code == 0, text
    peak = peak_kib * 1024
    real = out.stat().st_size
    report = (f"{arms} arms: peak {peak / 2**20:.1f} MiB, estimated {memory / 2**20:.1f} MiB; "
              f"file {real / 2**20:.2f} MiB, estimated at most {output / 2**20:.2f} MiB\n{plan}")
    print(report.splitlines()[0])
    assert 0.75 * peak <= memory <= 1.25 * peak, report
    # The size is an upper bound before compression: the per-region series
    # (many zero famine deaths, whole persons) deflate to about a third, so
    # a small run's file can be a quarter below it.
    assert real <= output <= 1.4 * real, report


def test_planning_is_small_at_the_arm_cap(tmp_path):
    # 1024 arms: the run would need GiBs (the writer's ~7 MiB per arm, 0.33
    # MiB per arm in each worker and accumulator); the plan must not allocate
    # any of it. (It used to build a worker and an accumulator of every arm:
    # a dry run of 20 000 arms was killed for memory.)
    file = scenario(tmp_path / "cap.toml", 1024)
    code, text, peak_kib = measured(EXE, "run", file, "-o", tmp_path / "out.h5", *TINY, "--threads", "2",
                                    "--dry-run")
    assert code == 0, text
    assert size(text, "estimated peak memory") > 4 * 2**30, text
    assert peak_kib < 128 * 1024, f"a dry run of 1024 arms took {peak_kib} KiB"
    assert not (tmp_path / "out.h5").exists()


def test_too_many_arms_are_refused_when_read(tmp_path):
    file = scenario(tmp_path / "many.toml", 20000)
    code, text, peak_kib = measured(EXE, "validate", file)
    assert code == 2, text
    # The 1025th [[arm]] header: the default scenario's lines, then 4 per arm.
    line = len(file.read_text()[:file.read_text().index('name = "arm1024"')].splitlines())
    assert f"many.toml:{line}:1: too many arms: 20000 [[arm]] entries, and a scenario may have at most 1024" in text
    assert peak_kib < 256 * 1024, f"{peak_kib} KiB"


def test_a_dry_run_that_would_not_fit_says_so(tmp_path):
    # 300 arms on 4096 threads: each thread's worker alone holds ~100 MiB.
    file = scenario(tmp_path / "big.toml", 300)
    out = tmp_path / "out.h5"
    res = subprocess.run([EXE, "run", file, "-o", out, *TINY, "--threads", "4096", "--dry-run"],
                         capture_output=True, text=True)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "estimated peak memory:" in res.stdout  # the plan is printed first
    assert re.search(r"artel: error: the run needs an estimated [\d.]+ [GT]iB of memory but only [\d.]+ [KMGT]iB is "
                     r"available", res.stderr), res.stderr
    assert not out.exists()
