"""artel-calibrate end to end on synthetic data: targets computed from a run of artel at known parameter
values, and the fit (the installed console script, with artel as the simulator) recovers those values within
its posterior's stated intervals. On the way: the fit stops at a generation cap and resumes on the same
folder without redoing a finished generation, its posterior tables are read by design = "table", and the
report and figures are made from the folder.

The population is small (16 villages x 50 households, 1923-1926) and so is the fit (300 candidates, up to
8 replications each): about half a minute on 2 cores.
"""
import csv
import json
import subprocess

import numpy as np

from artel.calibrate import read_table
from artel.targets import figures, load_targets
from conftest import EXE, SCENARIO

import artel

SMALL = ["--set", "population.villages=16", "--set", "population.households=50"]
TRUTH = {"population.literacy0": 0.45, "behaviour.lambda0": 0.05, "behaviour.q_imit": 0.55,
         "weather.failure_prob": 0.25}
PRIORS = {"population.literacy0": (0.25, 0.6), "behaviour.lambda0": (0.0, 0.15), "behaviour.q_imit": (0.1, 1.0),
          "weather.failure_prob": (0.05, 0.45)}
TARGETS = [  # name, sd, how
    ("literacy_start", 0.01, 'group = "start"\nseries = "literacy"'),
    ("literacy_1926", 0.015, 'series = "literacy"\nyear = 1926'),
    ("members_1926", 0.02, 'series = "member_share"\nyear = 1926'),
    ("drought", 0.04, 'group = "regions"\nseries = "failed"\nyears = [1923, 1926]\nstat = "mean"'),
]


def _targets_file(path, values):
    path.write_text("".join(f'[[target]]\nname = "{n}"\nfigure = "{n}"\nvalue = {values.get(n, 0.0)!r}\nsd = {sd}\n'
                            f"{how}\n\n" for n, sd, how in TARGETS))
    return path


def _truth_targets(tmp_path):
    """The targets: each figure's mean over 64 replications of a run at TRUTH (another seed than the fit's)."""
    out = tmp_path / "truth.h5"
    subprocess.run([EXE, "run", str(SCENARIO), "-o", str(out), "--quiet", "--threads", "2", "--replications", "64",
                    "--seed", "7", "--set", "run.years=4", "--set", "output.histogram_years=[1923]", *SMALL]
                   + [a for k, v in TRUTH.items() for a in ("--set", f"{k}={v}")], check=True)
    shape = load_targets(_targets_file(tmp_path / "shape.toml", {}))
    got = figures(artel.open(out), shape)
    return _targets_file(tmp_path / "targets.toml", {n: float(np.mean(v)) for n, v in got.items()})


def _weighted_quantiles(x, w, qs):
    o = np.argsort(x)
    c = np.cumsum(w[o]) / w.sum()
    return np.interp(qs, c - w[o] / (2 * w.sum()), x[o])


def test_recovers_known_parameters(tmp_path, installed):
    targets = _truth_targets(tmp_path)
    fit = tmp_path / "fit"
    cmd = [str(installed.bin / "artel-calibrate"), "fit", str(SCENARIO), str(targets), "-o", str(fit),
           "--artel", EXE, "--population", "300", "--max-replications-per-candidate", "8", "--min-ess", "150",
           "--seed", "3", "--draws", "40", *SMALL]
    cmd += [a for k, (lo, hi) in PRIORS.items() for a in ("--set", f'{k}={{ dist = "uniform", lo = {lo}, hi = {hi} }}')]
    # stopped after two generations (as an interruption would leave it), then resumed to the end
    first = subprocess.run(cmd + ["--max-generations", "2"], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "stopped: max-generations" in first.stderr
    gen1 = (fit / "state" / "gen-001.json").read_bytes()
    second = subprocess.run(cmd, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert "resuming after generation 1" in second.stderr and "stopped: converged" in second.stderr
    assert (fit / "state" / "gen-001.json").read_bytes() == gen1
    summary = json.loads((fit / "summary.json").read_text())
    assert summary["stop"] == "converged" and summary["eps"] == 1.0 and summary["posterior_ess"] >= 150

    # the posterior population: every true value inside its 99% interval, and the data have taught something
    head, rows = read_table(fit / "posterior.csv")
    assert head[:len(TRUTH)] == [p["key"] for p in summary["parameters"]] and head[-3:] == ["weight", "distance",
                                                                                                "generation"]
    w = rows[:, head.index("weight")]
    assert abs(w.sum() - 1) < 1e-9
    for p in summary["parameters"]:
        x = rows[:, head.index(p["key"])]
        lo, hi = _weighted_quantiles(x, w, [0.005, 0.995])
        assert lo <= TRUTH[p["key"]] <= hi, (p["key"], lo, hi)
        assert p["sd_ratio"] < 0.6, p  # posterior sd against prior sd
    assert all(abs(t["z"]) < 3 for t in summary["targets"])

    # the equally weighted draws run as a table design: one row per replication
    draws = fit / "posterior-draws.csv"
    with open(draws) as f:
        assert len(list(csv.DictReader(f))) == 40
    out = tmp_path / "propagated.h5"
    subprocess.run([EXE, "run", str(fit / "scenario.toml"), "-o", str(out), "--quiet", "--replications", "40",
                    "--set", "run.years=4", "--set", "output.histogram_years=[1923]", "--set",
                    'uncertainty.design="table"', "--set", f'uncertainty.table="{draws}"'], check=True)
    u = artel.open(out).dataset("uncertainty")
    head, d = read_table(draws)
    for key in TRUTH:
        assert np.array_equal(u[key].values, d[:, head.index(key)])

    # the report again from the folder, and the figures
    r = subprocess.run([str(installed.bin / "artel-calibrate"), "report", str(fit)], capture_output=True, text=True)
    assert r.returncode == 0 and "Stopped: **converged**" in r.stdout, r.stderr
    r = subprocess.run([str(installed.python), "-m", "artel.calibrate", "plot", str(fit), "-o", str(tmp_path / "img"),
                        "--check", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for name in ("marginals", "pairs", "targets", "generations"):
        assert (tmp_path / "img" / f"calibration_{name}.png").stat().st_size > 5_000


def test_refuses_another_fit_in_the_folder_and_bad_input(tmp_path, installed):
    base = [str(installed.bin / "artel-calibrate"), "fit", str(SCENARIO)]
    targets = _targets_file(tmp_path / "t.toml", {"literacy_start": 0.4, "literacy_1926": 0.5,
                                                 "members_1926": 0.2, "drought": 0.15})
    # no prior in the scenario: nothing to fit
    r = subprocess.run(base + [str(targets), "-o", str(tmp_path / "a"), "--artel", EXE], capture_output=True,
                       text=True)
    assert r.returncode == 1 and "no parameter has a prior" in r.stderr
    # a fit folder of another scenario
    prior = ["--set", 'population.literacy0={ dist = "uniform", lo = 0.3, hi = 0.5 }', *SMALL]
    short = ["--population", "20", "--replications-per-candidate", "1", "--max-generations", "1", "--artel", EXE]
    r = subprocess.run(base + [str(targets), "-o", "b", *short, *prior], capture_output=True, text=True,
                       cwd=tmp_path)  # a relative output folder
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "b" / "posterior.csv").exists()
    other = ["--set", 'population.literacy0={ dist = "uniform", lo = 0.3, hi = 0.6 }', *SMALL]
    r = subprocess.run(base + [str(targets), "-o", str(tmp_path / "b"), *short, *other], capture_output=True,
                       text=True)
    assert r.returncode == 1 and "another scenario" in r.stderr


def test_the_calibrated_scenario_runs_over_the_posterior(tmp_path):
    """configs/nep-1923-calibrated.toml has the priors of nep-1923-priors.toml (they name the table's
    columns), its table has a row per replication, and it runs: every arm of replication r uses row r."""
    import tomllib

    from artel.priors import priors_of
    configs = SCENARIO.parent
    cal = tomllib.loads((configs / "nep-1923-calibrated.toml").read_text())
    pri = tomllib.loads((configs / "nep-1923-priors.toml").read_text())
    assert [(p.key, p.dist, p.fields) for p in priors_of(cal)] == [(p.key, p.dist, p.fields) for p in priors_of(pri)]
    assert [a["name"] for a in cal["arm"]] == [a["name"] for a in pri["arm"]]
    head, rows = read_table(configs / cal["uncertainty"]["table"])
    assert rows.shape[0] == cal["run"]["replications"] and set(p.key for p in priors_of(cal)) <= set(head)
    for p in priors_of(cal):
        x = rows[:, head.index(p.key)]
        assert np.all((x >= p.support[0]) & (x <= p.support[1])), p.key
    out = tmp_path / "cal.h5"
    subprocess.run([EXE, "run", str(configs / "nep-1923-calibrated.toml"), "-o", str(out), "--quiet", "--threads", "2",
                    "--replications", "3", *SMALL, "--set", "run.years=3", "--set", "output.histogram_years=[1923]"],
                   check=True)
    res = artel.open(out)
    u = res.dataset("uncertainty")
    for p in priors_of(cal):
        assert np.array_equal(u[p.key].values, rows[:3, head.index(p.key)]), p.key
    assert len(res.arms) == 5
