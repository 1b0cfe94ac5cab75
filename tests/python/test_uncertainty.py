"""Results under uncertainty (MODEL.md §6) as a user meets them: priors in the
scenario and on the command line, every refusal, designs written to
/uncertainty, runs identical whatever the threads and after a resume, arms
that follow a base parameter, sweeps, tables of parameter vectors, and the
sensitivity groups. The draws' distributions and the estimators are tested
in C++ (tests/test_uncertainty*.cpp) through the same code."""
import csv
import os
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy import stats

from conftest import EXE, SCENARIO, SOURCE, assert_identical, all_datasets

UNCERTAIN = SOURCE / "configs" / "nep-1923-uncertain.toml"
TINY = ["--set", "population.villages=4", "--set", "population.households=25",
        "--set", "output.trajectory_households=4", "--quiet"]


def artel(*args, **kw):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, **kw)


def run(scenario, out, *extra, threads=2):
    """Runs and returns the output's path."""
    r = artel("run", scenario, "-o", out, "--threads", threads, *TINY, *extra)
    assert r.returncode == 0, r.stderr
    return out


def prior(key, text):
    return ["--set", f"{key}={text}"]


# ---- refusals ----------------------------------------------------------------------

REFUSALS = [
    (prior("weather.failure_prob", '{ dist = "gamma", a = 2 }'), ["weather.failure_prob", "unknown distribution",
                                                                  "uniform"]),
    (prior("weather.failure_prob", '{ dist = "beta", a = 2 }'), ["weather.failure_prob", "missing", "'b'"]),
    (prior("weather.failure_prob", '{ dist = "beta", a = 2, b = 3, sd = 1 }'), ["unexpected field 'sd'"]),
    (prior("weather.failure_prob", '{ a = 2, b = 3 }'), ["needs dist"]),
    (prior("weather.failure_prob", '{ dist = "normal", mean = 0.15, sd = 0.05 }'),
     ["weather.failure_prob", "takes values in [-0.26", "must be a number in [0, 1]", "truncate it with lo and hi"]),
    (prior("weather.failure_prob", '{ dist = "uniform", lo = 0.5, hi = 1.5 }'), ["outside the valid range"]),
    (prior("weather.failure_prob", '{ dist = "discrete", values = [0.1, 2] }'), ["outside the valid range"]),
    (prior("weather.failure_prob", '{ dist = "beta", a = 2, b = "x" }'), ["must be a number or a list"]),
    (prior("policy.bonus", '{ dist = "uniform", lo = 0, hi = 5 }'), ["policy.bonus", "a policy key takes no prior"]),
    (prior("population.villages", '{ dist = "uniform", lo = 1, hi = 5 }'), ["an integer parameter takes no prior"]),
    (prior("mechanisms.famine", '{ dist = "discrete", values = [0, 1] }'), ["a switch parameter takes no prior"]),
    (prior("population.passive0", '{ dist = "uniform", lo = 0.5, hi = 0.99 }'),
     ["passive0 + population.active0", "the largest value of its prior", "at most 1"]),
    (["--set", 'uncertainty.design="latin"'], ["uncertainty.design", "not a design"]),
    (["--set", "uncertainty.desing=\"lhs\""], ["unknown key 'uncertainty.desing'", "did you mean 'design'"]),
    (["--set", 'uncertainty.design="saltelli"', "--set", "run.replications=50"],
     ["saltelli", "10 uncertain parameters", "not a multiple of 12"]),
    (["--set", 'uncertainty.design="table"'], ["needs uncertainty.table"]),
    (["--set", 'uncertainty.design="table"', "--set", 'uncertainty.table="nowhere.csv"'], ["nowhere.csv"]),
    (["--set", 'arm.free-market.rate_coop="economy.rate_privat"'], ["no parameter 'economy.rate_privat'",
                                                                    "did you mean 'economy.rate_private'"]),
    (["--set", 'arm.free-market.rate_coop="policy.bonus"'], ["is a policy key"]),
    (["--set", 'arm.free-market.audit_prob="economy.credit_limit_private"'],
     ["audit_prob = \"economy.credit_limit_private\"", "the value 20", "outside audit_prob's range"]),
]


@pytest.mark.parametrize("extra,fragments", REFUSALS)
def test_every_refusal_says_what_and_writes_nothing(tmp_path, extra, fragments):
    out = tmp_path / "out.h5"
    r = artel("run", UNCERTAIN, "-o", out, *TINY, *extra)
    assert r.returncode == 2, r.stderr
    for f in fragments:
        assert f in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_refusal_in_a_file_names_its_line(tmp_path):
    text = UNCERTAIN.read_text().replace('lambda0 = { dist = "lognormal", median = 0.02, sigma = 0.3 }',
                                         'lambda0 = { dist = "lognormal", median = 0.02 }')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    line = next(i + 1 for i, l in enumerate(text.splitlines()) if l.startswith("lambda0"))
    r = artel("validate", bad)
    assert r.returncode == 2
    assert f"bad.toml:{line}:" in r.stderr and "behaviour.lambda0" in r.stderr and "'sigma'" in r.stderr, r.stderr


def test_validate_prints_every_prior_with_its_quantiles():
    r = artel("validate", UNCERTAIN)
    assert r.returncode == 0, r.stderr
    assert "10 uncertain parameters, design lhs" in r.stderr
    line = next(l for l in r.stderr.splitlines() if "weather.failure_prob" in l)
    q05, q50, q95 = (float(x) for x in line.split()[-5::2])
    for got, level in ((q05, 0.05), (q50, 0.5), (q95, 0.95)):
        assert got == pytest.approx(stats.beta.ppf(level, 8, 42), rel=1e-3)
    # The resolved scenario reads back to the same priors.
    resolved = Path(os.environ.get("TMPDIR", "/tmp")) / f"resolved-{os.getpid()}.toml"
    resolved.write_text(r.stdout)
    try:
        again = artel("validate", resolved)
        assert again.returncode == 0 and again.stdout.split("\n", 3)[3] == r.stdout.split("\n", 3)[3]
    finally:
        resolved.unlink()


def test_a_value_replaces_a_prior_and_a_prior_replaces_a_value(tmp_path):
    r = artel("validate", UNCERTAIN, "--set", "weather.failure_prob=0.2")
    assert "9 uncertain parameters" in r.stderr and "failure_prob = 0.2" in r.stdout
    r = artel("validate", SCENARIO, "--set", 'weather.failure_prob={ dist = "uniform", lo = 0.1, hi = 0.2 }')
    assert "1 uncertain parameters, design random" in r.stderr
    assert 'failure_prob = { dist = "uniform", lo = 0.1, hi = 0.2 }' in r.stdout


# ---- the file, and reproducibility -------------------------------------------------------

@pytest.fixture(scope="module")
def uncertain_run(tmp_path_factory):
    return run(UNCERTAIN, tmp_path_factory.mktemp("u") / "u.h5", "--replications", "40")


def test_uncertainty_group_holds_the_values_and_the_priors(uncertain_run):
    with h5py.File(uncertain_run, "r") as f:
        g = f["uncertainty"]
        assert g.attrs["design"] == "lhs"
        fp = g["weather.failure_prob"]
        assert fp.shape == (40,)
        assert fp.attrs["prior_dist"] == "beta" and fp.attrs["prior_a"] == 8 and fp.attrs["prior_b"] == 42
        assert fp.attrs["prior"] == '{ dist = "beta", a = 8, b = 42 }'
        # a Latin hypercube: one value in each of the 40 strata of every prior
        strata = np.floor(stats.beta.cdf(fp[()], 8, 42) * 40).astype(int)
        assert sorted(strata) == list(range(40))
        lit = g["population.literacy0"][()]
        assert sorted(np.floor((lit - 0.35) / 0.1 * 40).astype(int)) == list(range(40))
        for arm in f["arm_names"][()]:
            assert "sensitivity" in f["arms"][arm.decode()]


def test_the_same_file_for_1_and_2_threads_with_priors(tmp_path, uncertain_run):
    one = run(UNCERTAIN, tmp_path / "one.h5", "--replications", "40", threads=1)
    assert_identical(uncertain_run, one)


def test_killed_and_resumed_with_priors_gives_the_same_file(tmp_path):
    shape = ["--replications", "30", "--set", "population.villages=300", "--set", "population.households=50"]
    ref = tmp_path / "ref.h5"
    assert artel("run", UNCERTAIN, "-o", ref, *shape, "--quiet").returncode == 0
    out = tmp_path / "out.h5"
    p = subprocess.Popen([EXE, "run", str(UNCERTAIN), "-o", str(out), *shape, "--quiet"])
    cp = Path(str(out) + ".checkpoint")
    deadline = time.monotonic() + 60
    while p.poll() is None and time.monotonic() < deadline and not (cp.exists() and cp.stat().st_size > 100_000):
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    r = artel("run", UNCERTAIN, "-o", out, *shape, "--quiet", "--resume" if cp.exists() else "--force")
    assert r.returncode == 0, r.stderr
    assert_identical(ref, out)


def test_draws_follow_their_priors(tmp_path):
    # Independent draws (design random) of 400 replications, 1 village: the
    # values in the file against the priors' CDFs (scipy's, an independent
    # implementation), Kolmogorov-Smirnov at alpha = 0.001.
    out = run(SCENARIO, tmp_path / "r.h5", "--replications", "400", "--set", "population.villages=1",
              *prior("weather.failure_prob", '{ dist = "beta", a = 3, b = 17 }'),
              *prior("behaviour.lambda0", '{ dist = "lognormal", median = 0.02, sigma = 0.3 }'),
              *prior("behaviour.q_imit", '{ dist = "normal", mean = 0.38, sd = 0.05, lo = 0.2, hi = 0.6 }'),
              *prior("behaviour.a0", '{ dist = "triangular", lo = 0.02, mode = 0.05, hi = 0.1 }'))
    cdfs = {
        "weather.failure_prob": stats.beta(3, 17).cdf,
        "behaviour.lambda0": stats.lognorm(0.3, scale=0.02).cdf,
        "behaviour.q_imit": stats.truncnorm((0.2 - 0.38) / 0.05, (0.6 - 0.38) / 0.05, loc=0.38, scale=0.05).cdf,
        "behaviour.a0": stats.triang((0.05 - 0.02) / 0.08, loc=0.02, scale=0.08).cdf,
    }
    with h5py.File(out, "r") as f:
        for key, cdf in cdfs.items():
            assert stats.kstest(f["uncertainty"][key][()], cdf).pvalue > 0.001, key


# ---- arms that follow the base, sweeps -----------------------------------------------

def test_the_free_market_arm_follows_rate_private(tmp_path):
    # rate_coop follows economy.rate_private: with rate_private set to 0.5,
    # the arm is the arm with rate_coop = 0.5 written as a number.
    common = ["--replications", "3", "--set", "economy.rate_private=0.5", "--set", "economy.credit_limit_private=25"]
    linked = run(SCENARIO, tmp_path / "linked.h5", *common)
    explicit = run(SCENARIO, tmp_path / "explicit.h5", *common, "--set", "arm.free-market.rate_coop=0.5",
                   "--set", "arm.free-market.credit_limit_coop=25")
    a, b = all_datasets(linked), all_datasets(explicit)
    free = [k for k in a if k.startswith("arms/free-market/")]
    assert free and all(a[k].tobytes() == b[k].tobytes() for k in free if a[k].dtype.kind != "O")
    with h5py.File(linked, "r") as f:
        assert 'rate_coop = "economy.rate_private"' in f["arms/free-market"].attrs["overrides"]


def test_with_a_prior_the_linked_arm_takes_each_draw(tmp_path):
    # A prior on rate_private: free-market has no interest privilege in any
    # replication, so its paired difference to an arm with rate_coop at each
    # draw... is zero: compare with a one-value discrete prior run.
    common = ["--replications", "2"]
    drawn = run(SCENARIO, tmp_path / "d.h5", *common,
                *prior("economy.rate_private", '{ dist = "discrete", values = [0.31] }'))
    fixed = run(SCENARIO, tmp_path / "f.h5", *common, "--set", "economy.rate_private=0.31")
    a, b = all_datasets(drawn), all_datasets(fixed)
    for k in a:
        if k.startswith("arms/free-market/series/"):
            assert a[k].tobytes() == b[k].tobytes(), k


def test_a_sweep_makes_named_arms_on_common_random_numbers(tmp_path):
    text = SCENARIO.read_text() + """
[[sweep]]
name = "bonus-audit"
arm = "bonus-verified"
bonus = [0, 2.5, 5, 10]
audit_prob = [0.2, 0.5, 0.8]
"""
    scenario = tmp_path / "sweep.toml"
    scenario.write_text(text)
    out = run(scenario, tmp_path / "s.h5", "--replications", "2")
    with h5py.File(out, "r") as f:
        names = [n.decode() for n in f["arm_names"][()]]
        swept = [n for n in names if n.startswith("bonus-audit.")]
        assert len(swept) == 12 and swept[0] == "bonus-audit.bonus-0.audit_prob-0.2"
        g = f["arms/bonus-audit.bonus-5.audit_prob-0.5"]
        assert g.attrs["sweep"] == "bonus-audit" and g.attrs["sweep_policy.bonus"] == 5.0
        assert g.attrs["sweep_policy.audit_prob"] == 0.5
        # the grid point (5, 0.5) is bonus-verified itself: the same numbers
        for name in g["series"]:
            if name not in ("replication", "year"):
                assert np.array_equal(g["series"][name][()], f["arms/bonus-verified/series"][name][()],
                                      equal_nan=True), name


# ---- tables and Sobol indices -----------------------------------------------------------------

def test_a_table_of_vectors_reproduces_the_run_it_came_from(tmp_path, uncertain_run):
    # The values one run used, as a CSV table: a run of that table has the same
    # parameters and the same results.
    with h5py.File(uncertain_run, "r") as f:
        keys = [k for k in f["uncertainty"] if k != "replication"]
        columns = {k: f["uncertainty"][k][()] for k in keys}
    table = tmp_path / "vectors.csv"
    with open(table, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["weight"] + keys)
        for r in range(40):
            w.writerow([1.0] + [repr(float(columns[k][r])) for k in keys])
    out = run(UNCERTAIN, tmp_path / "t.h5", "--replications", "40", "--set", 'uncertainty.design="table"',
              "--set", f'uncertainty.table="{table}"')
    a, b = all_datasets(uncertain_run), all_datasets(out)
    for k in a:
        if (k.startswith("arms/") and "/sensitivity/" not in k) or k.startswith("uncertainty/"):
            if a[k].dtype.kind == "O":
                assert list(a[k]) == list(b[k]), k
            else:
                assert a[k].tobytes() == b[k].tobytes(), k
    # too few rows
    r = artel("run", UNCERTAIN, "-o", tmp_path / "x.h5", *TINY, "--replications", "41",
              "--set", 'uncertainty.design="table"', "--set", f'uncertainty.table="{table}"')
    assert r.returncode == 2 and "has 40 rows" in r.stderr


def test_a_saltelli_run_writes_sobol_indices_with_intervals(tmp_path):
    # Two parameters, one of which decides the famine toll: failure_prob over
    # a wide range against a narrow prior on literacy0.
    out = run(SCENARIO, tmp_path / "s.h5", "--replications", "64", "--set", 'uncertainty.design="saltelli"',
              *prior("weather.failure_prob", '{ dist = "uniform", lo = 0.02, hi = 0.6 }'),
              *prior("population.literacy0", '{ dist = "uniform", lo = 0.39, hi = 0.41 }'))
    import xarray as xr
    s = xr.open_dataset(out, group="arms/nep-1923/sensitivity", engine="h5netcdf")
    assert set(s.data_vars) >= {"first_order", "total_order", "used"}
    st = s["total_order"].sel(output="famine_deaths_total")
    assert int(s["used"].sel(output="famine_deaths_total")) == 16
    fp, lit = st.sel(parameter="weather.failure_prob"), st.sel(parameter="population.literacy0")
    assert float(fp.sel(estimate="lo")) > float(lit.sel(estimate="hi")), st.values


def test_info_lists_the_priors_and_the_top_drivers(uncertain_run):
    r = artel("info", uncertain_run)
    assert r.returncode == 0, r.stderr
    assert "uncertain parameters (design lhs)" in r.stdout
    assert "weather.failure_prob" in r.stdout and '{ dist = "beta", a = 8, b = 42 }' in r.stdout
    assert "top drivers" in r.stdout
