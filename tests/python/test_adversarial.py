"""artel as a hostile or careless user meets it.

One test (or a parametrised family) per case found by trying to break it,
grouped by class; a new class of defect gets its cases here. The promises
checked everywhere: nothing finished is lost, no file outside the run's own
is touched, every refusal says what is wrong and exits 2, and every failure
exits non-zero.

Classes: finished work (resume paths), planted links and special files,
outputs (names, files that appear, concurrent runs, standard output),
signals at each phase, messages.
"""
import os
import resource
import shlex
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

import h5py
import pytest

from conftest import EXE, SCENARIO, assert_identical

# Tiny: a run takes a fraction of a second.
SMALL = ["--replications", "2", "--set", "population.villages=8", "--set", "population.households=20"]
SIX = ["--replications", "6", "--set", "population.villages=8", "--set", "population.households=20"]
# Long enough (about 2-4 s on 2 threads) for a signal or a second process to
# land in the middle, with a checkpoint batch per replication.
LONG = ["--replications", "60", "--set", "population.villages=400", "--set", "population.households=50"]
# Units of about 0.7 s each (one village of 200 000 households): a stop
# request waits for them, so a second signal lands while they run.
SLOW_UNITS = ["--replications", "2", "--set", "population.villages=4", "--set", "population.households=200000"]


def command(out, *extra, shape=SMALL, threads=2):
    return [EXE, "run", str(SCENARIO), "-o", str(out), *shape, "--threads", str(threads), *extra]


def run(out, *extra, shape=SMALL, **kw):
    return subprocess.run(command(out, *extra, shape=shape), capture_output=True, text=True, **kw)


def start(out, *extra, shape=LONG):
    return subprocess.Popen(command(out, *extra, shape=shape), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def checkpoint(out):
    return Path(str(out) + ".checkpoint")


def partial(out):
    return Path(str(out) + ".partial")


def wait_for_records(out, p, timeout=60):
    """Waits until the run has journaled a finished replication (the journal
    grew past its header)."""
    deadline = time.monotonic() + timeout
    while p.poll() is None and time.monotonic() < deadline:
        cp = checkpoint(out)
        if cp.exists() and cp.stat().st_size > 64 * 1024:
            return
        time.sleep(0.01)
    raise AssertionError(f"the run ended (code {p.returncode}) before journaling a replication")


def snapshot(directory):
    """What every name in a directory is: kind, and content or link target."""
    out = {}
    for p in sorted(Path(directory).iterdir()):
        st = p.lstat()
        if stat.S_ISLNK(st.st_mode):
            out[p.name] = ("link", os.readlink(p))
        elif stat.S_ISREG(st.st_mode):
            out[p.name] = ("file", p.read_bytes())
        else:
            out[p.name] = ("other", stat.S_IFMT(st.st_mode))
    return out


def complete(path):
    with h5py.File(path, "r") as f:
        return int(f.attrs["complete"]) == 1 and int(f.attrs["replications_written"]) == int(f.attrs["replications"])


def replications(path):
    with h5py.File(path, "r") as f:
        return int(f.attrs["replications"])


def printed_resume_command(stderr):
    lines = stderr.splitlines()
    i = max(k for k, line in enumerate(lines) if line.startswith("Resume with:") or "resume with:" in line)
    return shlex.split(lines[i + 1].strip())


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "long.h5"
    subprocess.run(command(out, "--quiet", shape=LONG), check=True)
    return out


# ---- finished work ---------------------------------------------------------

def test_printed_resume_command_never_deletes_finished_work(tmp_path, long_reference):
    # A complete file from an earlier small run; a --force run of another size
    # is interrupted; the command it prints must finish that run.
    out = tmp_path / "out.h5"
    assert run(out, "--quiet").returncode == 0
    p = start(out, "--force")
    wait_for_records(out, p)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert replications(out) == 2, "the old result stays until the new one is complete"
    resume = printed_resume_command(err)
    assert "--resume" in resume and "--force" not in resume
    r = subprocess.run(resume, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "nothing to resume" not in r.stderr
    assert not checkpoint(out).exists() and not partial(out).exists()
    assert_identical(long_reference, out)


def test_resume_of_another_seed_on_a_complete_file_is_refused(tmp_path):
    out = tmp_path / "out.h5"
    assert run(out, "--quiet").returncode == 0
    before = snapshot(tmp_path)
    r = run(out, "--resume", "--seed", "99")
    assert r.returncode == 2, r.stderr
    assert "nothing to resume" in r.stderr and "different scenario" in r.stderr
    assert snapshot(tmp_path) == before
    # the same scenario: complete already, nothing to do
    r = run(out, "--resume")
    assert r.returncode == 0 and "already complete" in r.stderr
    assert snapshot(tmp_path) == before


def test_resume_refuses_an_output_that_is_not_its_own(tmp_path, long_reference):
    out = tmp_path / "out.h5"
    p = start(out)
    wait_for_records(out, p)
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=120)
    assert p.returncode == 143
    # someone puts another result under the name
    other = tmp_path / "other.h5"
    assert run(other, "--quiet").returncode == 0
    os.link(other, out)
    before = snapshot(tmp_path)
    r = run(out, "--resume", "--quiet", shape=LONG)
    assert r.returncode == 2, r.stderr
    assert "not the file this run was started to replace" in r.stderr
    assert snapshot(tmp_path) == before, "a refused resume changes nothing"
    out.unlink()
    r = run(out, "--resume", "--quiet", shape=LONG)
    assert r.returncode == 0, r.stderr
    assert_identical(long_reference, out)


def test_killed_after_the_rename_the_checkpoint_goes_only_when_the_file_matches(tmp_path):
    # Keep a second name of the journal while the run completes: afterwards it
    # is the journal of a run killed between its final rename and the removal
    # of its checkpoint.
    out = tmp_path / "out.h5"
    saved = tmp_path / "saved-journal"
    p = start(out, "--quiet", shape=SIX)
    deadline = time.monotonic() + 30

    def has_header():  # created, checked (one link) and started: linking it now is safe
        try:
            return checkpoint(out).stat().st_size > 0
        except FileNotFoundError:
            return False

    while not has_header() and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    try:
        os.link(checkpoint(out), saved)
    except FileNotFoundError:
        pytest.skip("the run finished before its journal could be linked")
    p.communicate(timeout=60)
    assert p.returncode == 0
    good = out.read_bytes()

    # A damaged result under the final name: refused, everything kept.
    with h5py.File(out, "r+") as f:
        d = f["arms/nep-1923/events"]
        name = next(k for k in d if isinstance(d[k], h5py.Dataset) and d[k].ndim == 1 and d[k].dtype.kind == "f")
        d[name][0] = d[name][0] + 1.0
    shutil.copyfile(saved, checkpoint(out))  # one name, as a journal has
    before = snapshot(tmp_path)
    r = run(out, "--resume", "--quiet", shape=SIX)
    assert r.returncode == 2, r.stderr
    assert "does not match the checkpoint" in r.stderr
    assert snapshot(tmp_path) == before

    # The true result: verified, then the checkpoint is removed.
    out.unlink()
    out.write_bytes(good)
    r = run(out, "--resume", shape=SIX)
    assert r.returncode == 0, r.stderr
    assert "matches the checkpoint" in r.stderr
    assert not checkpoint(out).exists()
    assert out.read_bytes() == good


# ---- planted links and special files ----------------------------------------

@pytest.mark.parametrize("suffix", [".checkpoint", ".partial"])
@pytest.mark.parametrize("flags", [[], ["--force"], ["--resume"]])
@pytest.mark.parametrize("target", ["victim", "elsewhere/new-file"])
def test_a_link_planted_at_a_derived_name_is_never_followed(tmp_path, suffix, flags, target):
    victim = tmp_path / "victim"
    victim.write_text("someone else's data")
    (tmp_path / "elsewhere").mkdir()
    out = tmp_path / "out.h5"
    os.symlink(tmp_path / target, str(out) + suffix)
    before = snapshot(tmp_path)
    r = run(out, "--quiet", *flags)
    assert r.returncode == 2, r.stderr
    assert "symbolic link" in r.stderr or "no checkpoint" in r.stderr
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "elsewhere" / "new-file").exists()


def test_a_hard_link_at_the_checkpoint_is_refused(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("mine, under another name")
    out = tmp_path / "out.h5"
    os.link(victim, checkpoint(out))
    r = run(out, "--quiet", "--force")
    assert r.returncode == 2 and "hard links" in r.stderr, r.stderr
    assert victim.read_text() == "mine, under another name"


@pytest.mark.parametrize("flags", [[], ["--force"]])
def test_output_that_is_a_link_fifo_or_device_is_refused_even_with_force(tmp_path, flags):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    os.symlink(victim, tmp_path / "link.h5")
    os.mkfifo(tmp_path / "fifo.h5")
    for name in ("link.h5", "fifo.h5"):
        r = run(tmp_path / name, "--quiet", *flags, timeout=30)
        assert r.returncode == 2, r.stderr
        assert ("symbolic link" if name == "link.h5" else "FIFO") in r.stderr
    assert victim.read_text() == "keep"
    assert stat.S_ISFIFO((tmp_path / "fifo.h5").lstat().st_mode)
    r = run("/dev/null", "--quiet", *flags)
    assert r.returncode == 2 and "character device" in r.stderr, r.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_stale_partial_that_is_not_artels_is_not_removed(tmp_path):
    out = tmp_path / "out.h5"
    partial(out).write_text("not an HDF5 file")
    r = run(out, "--quiet")
    assert r.returncode == 2 and "without a checkpoint" in r.stderr, r.stderr
    r = run(out, "--quiet", "--force")
    assert r.returncode == 2 and "not a file artel wrote" in r.stderr, r.stderr
    assert partial(out).read_text() == "not an HDF5 file"


# ---- outputs -----------------------------------------------------------------

def test_empty_output_name_is_refused_before_any_work(tmp_path):
    r = subprocess.run([EXE, "run", str(SCENARIO), "-o", "", *SMALL], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "output file name is empty" in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_appears_at_the_output_is_not_replaced(tmp_path, long_reference):
    out = tmp_path / "out.h5"
    p = start(out, "--quiet")
    wait_for_records(out, p)
    out.write_text("precious, written during the run")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1, err
    assert "appeared during the run" in err and str(partial(out)) in err
    assert out.read_text() == "precious, written during the run"
    assert complete(partial(out)), "the verified result waits in OUT.partial"
    # moved away, the resume puts the result in place
    out.rename(tmp_path / "precious")
    r = run(out, "--resume", "--quiet", shape=LONG)
    assert r.returncode == 0, r.stderr
    assert_identical(long_reference, out)
    assert (tmp_path / "precious").read_text() == "precious, written during the run"


def test_force_replaces_only_the_file_it_agreed_to_replace(tmp_path):
    out = tmp_path / "out.h5"
    assert run(out, "--quiet").returncode == 0
    p = start(out, "--quiet", "--force")
    wait_for_records(out, p)
    newcomer = tmp_path / "newcomer"
    newcomer.write_text("put there during the run")
    os.replace(newcomer, out)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 1, err
    assert "was replaced by another file" in err
    assert out.read_text() == "put there during the run"
    assert complete(partial(out))


@pytest.mark.parametrize("resume", [True, False])
def test_two_runs_on_the_same_output_one_refuses_at_once(tmp_path, long_reference, resume):
    out = tmp_path / "out.h5"
    if resume:  # an interrupted run, then two resumes of it at once
        p = start(out, "--quiet")
        wait_for_records(out, p)
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=120)
    flags = ["--quiet"] + (["--resume"] if resume else [])
    runs = [start(out, *flags), start(out, *flags)]
    results = [(p.communicate(timeout=120)[1], p.returncode) for p in runs]
    assert sorted(code for _, code in results) == [0, 2], results
    loser = next(err for err, code in results if code == 2)
    assert "another artel run" in loser and "HDF5" not in loser, loser
    assert_identical(long_reference, out)


@pytest.mark.parametrize("args", [["validate", str(SCENARIO)], ["info", "RESULT"],
                                  ["run", str(SCENARIO), "-o", "OUT", "--dry-run", *SMALL],
                                  ["run", str(SCENARIO), "-o", "OUT", *SMALL]])
def test_output_lost_to_a_full_standard_output_fails(tmp_path, args):
    result = tmp_path / "result.h5"
    assert run(result, "--quiet").returncode == 0
    args = [str(result) if a == "RESULT" else str(tmp_path / "new.h5") if a == "OUT" else a for a in args]
    with open("/dev/full", "w") as full:
        r = subprocess.run([EXE, *args], stdout=full, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 1, r.stderr
    assert "standard output" in r.stderr


# ---- signals at each phase -----------------------------------------------------

@pytest.mark.parametrize("sig,code", [(signal.SIGHUP, 129), (signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_every_stop_signal_prints_the_resume_command(tmp_path, sig, code):
    out = tmp_path / "out.h5"
    p = start(out)
    wait_for_records(out, p)
    p.send_signal(sig)
    _, err = p.communicate(timeout=120)
    assert p.returncode == code, err
    assert "--resume" in printed_resume_command(err)


def test_a_second_ctrl_c_quits_at_once_and_still_says_how_to_resume(tmp_path):
    out = tmp_path / "out.h5"
    p = start(out, shape=SLOW_UNITS)
    deadline = time.monotonic() + 60
    while not checkpoint(out).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # units in flight
    p.send_signal(signal.SIGINT)
    line = ""
    while "stopping after the work in flight" not in line:
        line = p.stderr.readline()
        assert line, "the run ended before it acknowledged the first Ctrl-C"
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "stopped at once" in err and "--resume" in printed_resume_command(err)
    r = run(out, "--resume", "--quiet", shape=SLOW_UNITS)
    assert r.returncode == 0, r.stderr


def test_signals_at_every_phase_leave_a_run_that_completes_identically(tmp_path, long_reference):
    # A signal 0.05 s .. 3 s after the start: during the plan, the layout, the
    # replications or the statistics and verification. Whatever the phase, the
    # exit code says so, only a complete file ever has the final name, and the
    # resume (or a new run when nothing was written) ends identical.
    for i, delay in enumerate([0.05, 0.9, 2.0, 3.0]):
        out = tmp_path / f"out{i}.h5"
        p = start(out)
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        assert p.returncode in (0, 130), err
        if out.exists():
            assert complete(out)
        if p.returncode == 130:
            assert "nothing was written" in err or "--resume" in printed_resume_command(err), err
        if p.returncode == 130 and checkpoint(out).exists():
            r = run(out, "--resume", "--quiet", shape=LONG)
        elif not out.exists():
            r = run(out, "--quiet", shape=LONG)
        else:
            continue
        assert r.returncode == 0, r.stderr
        assert_identical(long_reference, out)
        assert not checkpoint(out).exists() and not partial(out).exists()


# ---- messages ------------------------------------------------------------------

def test_a_full_disk_says_so_in_one_line_with_the_resume_command(tmp_path):
    out = tmp_path / "full.h5"

    def small_files():  # a "disk" that holds 256 KiB per file
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 18, 1 << 18))

    r = subprocess.run(command(out, "--quiet", shape=LONG), capture_output=True, text=True, preexec_fn=small_files)
    assert r.returncode == 1, r.stderr
    for raw in ("time =", "buf =", "bytes this sub-write", "errno ="):
        assert raw not in r.stderr, r.stderr
    assert "File too large" in r.stderr
    assert "--resume" in printed_resume_command(r.stderr)


def test_a_damaged_checkpoint_says_how_much_was_cut(tmp_path, long_reference):
    out = tmp_path / "out.h5"
    p = start(out, "--quiet")
    wait_for_records(out, p)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    p.communicate(timeout=120)
    size = checkpoint(out).stat().st_size
    with open(checkpoint(out), "r+b") as f:  # damage the first record's payload
        f.seek(size // 20)
        f.write(b"\xde\xad\xbe\xef")
    r = run(out, "--resume", "--quiet", shape=LONG)
    assert r.returncode == 0, r.stderr
    assert "damaged" in r.stderr and "finished replications" in r.stderr and "cut away" in r.stderr
    assert_identical(long_reference, out)


def test_the_same_scenario_by_another_path_resumes(tmp_path, long_reference):
    out = tmp_path / "out.h5"
    p = start(out, "--quiet")
    wait_for_records(out, p)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=120)
    copy = tmp_path / "copy.toml"
    copy.write_text(SCENARIO.read_text())
    r = subprocess.run([EXE, "run", str(copy), "-o", str(out), *LONG, "--resume", "--quiet"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert_identical(long_reference, out)


@pytest.mark.parametrize("args,fragments", [
    (["--seed", ""], ["--seed", "whole number"]),
    (["--threads", "abc"], ["--threads", "'abc'", "whole number"]),
    (["--threads", "1", "--threads=2"], ["--threads is given 2 times"]),
    (["--replications", "0"], ["--replications", "whole number in [1"]),
    (["--set", "policy.bonus=1\nfoo"], ["line break", "one key=value per --set"]),
    (["--set", "policy.bonus=1\n# comment"], ["line break"]),
])
def test_unclear_command_lines_get_clear_refusals(tmp_path, args, fragments):
    out = tmp_path / "out.h5"
    r = subprocess.run([EXE, "run", str(SCENARIO), "-o", str(out), "--quiet", *args], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("artel: error: ")
    for f in fragments:
        assert f in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_command_is_named_with_a_suggestion():
    r = subprocess.run([EXE, "runn", str(SCENARIO)], capture_output=True, text=True)
    assert r.returncode == 2
    assert "unknown command 'runn'" in r.stderr and "did you mean 'run'" in r.stderr


def test_a_newer_format_major_is_named_as_such(tmp_path):
    out = tmp_path / "out.h5"
    assert run(out, "--quiet").returncode == 0
    with h5py.File(out, "r+") as f:
        f.attrs["format_major"] = 2
        f.attrs["format_minor"] = 3
    r = subprocess.run([EXE, "info", str(out)], capture_output=True, text=True)
    assert r.returncode == 2
    assert "format version 2.3" in r.stderr and "newer artel" in r.stderr, r.stderr


def test_the_printed_resume_command_survives_quotes_and_spaces_in_names(tmp_path):
    out = tmp_path / "it's a $HOME (test).h5"
    p = start(out)
    wait_for_records(out, p)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    resume = printed_resume_command(err)
    assert resume[resume.index("-o") + 1] == str(out)
    r = subprocess.run(resume, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert complete(out)


def test_info_refuses_a_fifo_or_device_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "fifo.h5")
    for path in (tmp_path / "fifo.h5", "/dev/zero"):
        r = subprocess.run([EXE, "info", str(path)], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and "not a result file" in r.stderr, r.stderr


def test_the_scenario_file_is_never_the_output(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text(SCENARIO.read_text())
    r = subprocess.run([EXE, "run", str(scenario), "-o", str(scenario), "--force", *SMALL], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "scenario file itself" in r.stderr, r.stderr
    assert scenario.read_text() == SCENARIO.read_text()
