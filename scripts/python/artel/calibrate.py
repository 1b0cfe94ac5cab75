"""artel-calibrate: fit a scenario's uncertain parameters to historical figures with artel as the simulator.

    artel-calibrate fit configs/nep-1923-priors.toml configs/targets-1923-1927.toml -o fit-1923
    artel-calibrate report fit-1923                       # the summary again (after an interruption too)
    artel-calibrate plot fit-1923 -o docs/img             # posterior against prior, fit against targets
    artel-calibrate check RESULT.h5 configs/targets-1923-1927.toml    # a result file against the targets

``fit`` runs approximate Bayesian computation by sequential Monte Carlo (artel.abc_smc): the parameters
with a prior in the scenario are fitted to the ``fit = true`` targets of the targets file (artel.targets).
Each generation is ONE ``artel run`` of the scenario's baseline arm over a ``design = "table"`` CSV of the
candidate parameter vectors: candidate i is replications i k ... i k + k - 1 (its row repeated k times, so
k histories of weather and households), and its figure is the mean over them. The run simulates the years
up to the last target year only. k is chosen by a pilot run at the priors' medians so that the Monte Carlo
noise of every fitted figure's mean, sd_between_histories / sqrt(k), is at most --noise-ratio times the
target's standard error (capped at --max-replications-per-candidate, and said when the cap binds).

Everything the fit needs to go on is in the output folder, each piece written atomically and never
overwritten once finished: ``state/settings.json``, ``state/pilot.json``, ``state/gen-NNN.json`` (one per
finished generation). ``fit`` on an existing folder resumes (an artel run cut short resumes from its
checkpoint too); a folder of another fit is refused. When the fit stops it writes

    posterior.csv         the posterior population: the parameters' keys, ``weight`` (sum 1),
                          ``distance`` and ``generation``; ``design = "table"`` reads it
    posterior-draws.csv   --draws equally weighted draws from it (systematic resampling): the table for a
                          calibrated scenario, one row per replication
    summary.md            settings, generations, the parameters (prior and posterior), the targets
                          (value, prior and posterior predictive), the Monte Carlo noise
    summary.json          the same, for programs
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

from . import abc_smc
from .abc_smc import ABCSMC, Settings, effective_size, normalise, write_new, write_replace
from .priors import PriorError, Priors, priors_of
from .reader import FormatError
from .targets import Target, TargetError, figures, last_year, load_targets, per_candidate

PILOT_REPLICATIONS = 64


class CalibrationError(RuntimeError):
    """A fit that cannot go on: one line saying why."""


# ---- artel as the simulator -------------------------------------------------------------------------

def find_artel(explicit: str | None = None) -> str:
    """The artel executable: --artel, else $ARTEL_EXE, else `artel` on PATH, else build/release/artel here."""
    for cand in (explicit, os.environ.get("ARTEL_EXE"), shutil.which("artel"), "build/release/artel"):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return str(Path(cand).resolve())
    raise CalibrationError("no artel executable: give --artel PATH or set ARTEL_EXE (build it with "
                           "scripts/build.sh release: build/release/artel)")


def resolve(artel: str, scenario, sets=()) -> str:
    """The resolved scenario text (`artel validate`: every parameter, priors as inline tables)."""
    cmd = [artel, "validate", str(scenario)] + [a for s in sets for a in ("--set", s)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise CalibrationError(f"artel validate refused the scenario: {r.stderr.strip() or r.stdout.strip()}")
    return r.stdout


def baseline_only(text: str) -> str:
    """A resolved scenario cut after its first [[arm]] (the baseline): later arms and sweeps removed."""
    lines = text.splitlines(keepends=True)
    first = next((i for i, s in enumerate(lines) if s.strip() == "[[arm]]"), None)
    if first is None:
        return text
    end = next((i for i in range(first + 1, len(lines)) if lines[i].lstrip().startswith("[[")), len(lines))
    return "".join(lines[:end]).rstrip() + "\n"


def _num(x: float) -> str:
    return repr(float(x))


def write_table(path: Path, keys, theta, extra: dict | None = None, repeat: int = 1):
    """A CSV that design = "table" reads: a header of the keys (and extra columns), one row per vector
    (each repeated `repeat` times in a row)."""
    extra = extra or {}
    head = list(keys) + list(extra)
    rows = [",".join(head)]
    for i, row in enumerate(np.atleast_2d(theta)):
        line = ",".join([_num(v) for v in row] + [_num(extra[c][i]) if isinstance(extra[c][i], float)
                                                    else str(extra[c][i]) for c in extra])
        rows.extend([line] * repeat)
    write_replace(path, "\n".join(rows) + "\n")


def read_table(path) -> tuple[list[str], np.ndarray]:
    """(header, values) of a CSV written by write_table."""
    lines = [s for s in Path(path).read_text().splitlines() if s.strip() and not s.lstrip().startswith("#")]
    head = lines[0].split(",")
    return head, np.array([[float(c) for c in s.split(",")] for s in lines[1:]])


class ArtelSimulator:
    """simulate(t, theta) for ABCSMC: one artel run of the derived scenario per generation."""

    def __init__(self, artel, scenario: Path, keys, targets, k: int, years: int, start_year: int, threads: int,
                 folder: Path, keep_runs: bool = False, log=print):
        self.artel, self.scenario, self.keys, self.targets = artel, scenario, list(keys), list(targets)
        self.k, self.years, self.start_year, self.threads = k, years, start_year, threads
        self.folder, self.keep_runs, self.log = folder, keep_runs, log
        self.simulations = 0

    def run_table(self, name: str, theta, k: int) -> tuple[dict, int]:
        """Run the scenario over the vectors theta, k replications each; per-replication figures of every
        target ({name: (len(theta) k,)}) and the number of replications. Resumes or reuses an earlier run of
        the same table."""
        import artel  # the package's reader
        d = self.folder / "runs" / name
        d.mkdir(parents=True, exist_ok=True)
        table, out = d / "candidates.csv", d / "run.h5"
        theta = np.atleast_2d(theta)
        write_table(table, self.keys, theta, {"candidate": list(range(len(theta)))}, repeat=k)
        reps = len(theta) * k
        cmd = [self.artel, "run", str(self.scenario), "-o", str(out), "--threads", str(self.threads), "--quiet",
               "--replications", str(reps), "--set", f"run.years={self.years}",
               "--set", 'uncertainty.design="table"', "--set", f"uncertainty.table={json.dumps(str(table))}",
               "--set", "output.trajectory_households=0", "--set", f"output.histogram_years=[{self.start_year}]"]
        res = None
        if out.exists() and not Path(f"{out}.checkpoint").exists():
            try:
                res = artel.open(out)
                if not self._matches(res, theta, k):
                    res = None
            except Exception:  # noqa: BLE001 (an unusable old file is simply run again)
                res = None
        if res is None:
            t0 = time.monotonic()
            r = None
            if Path(f"{out}.checkpoint").exists():
                r = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
                if r.returncode != 0:
                    self.log(f"  (could not resume the run of {name}: {r.stderr.strip()}; starting it again)")
            if r is None or r.returncode != 0:
                r = subprocess.run(cmd + ["--force"], capture_output=True, text=True)
            if r.returncode != 0:
                raise CalibrationError(f"artel run failed (exit {r.returncode}) for {name}: {r.stderr.strip()}\n"
                                       f"command: {' '.join(cmd)}")
            self.log(f"  artel run: {reps} replications ({len(theta)} x {k}) in {time.monotonic() - t0:.1f} s")
            res = artel.open(out)
            if not self._matches(res, theta, k):
                raise CalibrationError(f"{out}: its /uncertainty does not hold the candidates of {table}")
        self.simulations += reps
        figs = figures(res, self.targets)
        if not self.keep_runs:  # the generation's state keeps what the fit needs; a rerun makes both again
            out.unlink()
            table.unlink()
        return figs, reps

    def _matches(self, res, theta, k) -> bool:
        if res.replications != len(theta) * k or "uncertainty" not in res.groups():
            return False
        u = res.dataset("uncertainty")
        got = np.column_stack([u[key].values for key in self.keys])
        return np.array_equal(got, np.repeat(theta, k, axis=0))

    def __call__(self, t: int, theta):
        figs, _ = self.run_table(f"gen-{t:03d}", theta, self.k)
        per = {tg.name: per_candidate(figs[tg.name], self.k, tg.across) for tg in self.targets}
        within = {tg.name: float(np.nanmean(np.nanstd(figs[tg.name].reshape(-1, self.k), axis=1, ddof=1)))
                  if self.k > 1 else float("nan") for tg in self.targets}
        fitted = np.column_stack([per[tg.name] for tg in self.targets if tg.fit])
        extra = {"checks": {tg.name: per[tg.name].tolist() for tg in self.targets if not tg.fit},
                 "within_sd": within, "replications": len(theta) * self.k}
        return fitted, extra


# ---- the fit ----------------------------------------------------------------------------------------

def _target_identity(t: Target) -> dict:
    """What a target's figure and fit depend on (not its description), JSON-comparable (NaN as None)."""
    out = {}
    for k, v in t.__dict__.items():
        if k in ("figure", "source", "note"):
            continue
        out[k] = None if isinstance(v, float) and not math.isfinite(v) else (list(v) if isinstance(v, tuple) else v)
    return out


def choose_k(sd_between: dict, targets, noise_ratio: float, k_max: int) -> tuple[int, dict]:
    """Replications per candidate so that sd_between / sqrt(k) <= noise_ratio x sd for every fitted target
    (at most k_max); and each target's noise ratio at that k."""
    need = {t.name: (sd_between[t.name] / (noise_ratio * t.sd)) ** 2 for t in targets if t.fit}
    finite = [v for v in need.values() if np.isfinite(v)]
    k = int(min(k_max, max(1, math.ceil(max(finite) if finite else 1))))
    return k, {t.name: sd_between[t.name] / math.sqrt(k) / t.sd for t in targets if t.fit}


def fit(scenario, targets_file, out, *, sets=(), artel=None, population=1000, k="auto", noise_ratio=1 / 3,
        k_max=64, threads=2, draws=200, seed=1, max_generations=30, min_ess=None, keep_runs=False,
        settings: dict | None = None, log=print) -> dict:
    """Fit the scenario's priors to the targets (the module docstring says how); returns the summary."""
    t_start = time.monotonic()
    artel_exe = find_artel(artel)
    out = Path(out).resolve()  # artel reads the table relative to the scenario: every path absolute
    (out / "state").mkdir(parents=True, exist_ok=True)
    logfile = open(out / "log.txt", "a")

    def say(text):
        log(text)
        logfile.write(text + "\n")
        logfile.flush()

    targets = load_targets(targets_file)
    text = baseline_only(resolve(artel_exe, scenario, sets))
    config = tomllib.loads(text)
    priors = Priors(priors_of(config, continuous=True))
    start_year = int(config["run"]["start_year"])
    end = last_year(targets)
    years = max(1, (end if end is not None else start_year) - start_year + 1)
    write_replace(out / "targets.toml", Path(targets_file).read_text())
    derived = out / "scenario.toml"
    header = (f"# The baseline arm of {scenario} (resolved by artel validate"
              + (f", with --set {' '.join(sets)}" if sets else "") + "): the scenario every generation runs.\n")
    write_replace(derived, header + text)
    sha = hashlib.sha256(text.encode()).hexdigest()
    say(f"artel-calibrate: {len(priors)} parameters ({', '.join(priors.keys)}), "
        f"{sum(t.fit for t in targets)} fitted targets, {years} years from {start_year}")

    # the pilot: between-history spread of every figure at the priors' medians
    pilot_path = out / "state" / "pilot.json"
    sim = ArtelSimulator(artel_exe, derived, priors.keys, targets, 1, years, start_year, threads, out,
                         keep_runs, say)
    if pilot_path.exists():
        pilot = json.loads(pilot_path.read_text())
        if pilot.get("scenario_sha256") != sha:
            raise CalibrationError(f"{out} holds a fit of another scenario; use a new folder")
    else:
        say(f"pilot: {PILOT_REPLICATIONS} replications at the priors' medians")
        figs, _ = sim.run_table("pilot", priors.median()[None, :], PILOT_REPLICATIONS)
        pilot = {"scenario_sha256": sha, "theta": priors.median().tolist(), "replications": PILOT_REPLICATIONS,
                 "mean": {n: float(np.nanmean(v)) for n, v in figs.items()},
                 "sd_between": {n: float(np.nanstd(v, ddof=1)) for n, v in figs.items()}}
        write_new(pilot_path, json.dumps(pilot, indent=1) + "\n")
    if k == "auto":
        k, ratios = choose_k(pilot["sd_between"], targets, noise_ratio, k_max)
    else:
        k = int(k)
        ratios = {t.name: pilot["sd_between"][t.name] / math.sqrt(k) / t.sd for t in targets if t.fit}
    for t in targets:
        if t.fit:
            flag = "  (above --noise-ratio)" if ratios[t.name] > noise_ratio * 1.0001 else ""
            say(f"  {t.name:28s} between histories sd {pilot['sd_between'][t.name]:.4g}, target sd {t.sd:.4g}: "
                f"noise / sd = {ratios[t.name]:.2f} at k = {k}{flag}")
    sim.k = k
    fitted = [t for t in targets if t.fit]
    s = Settings(population=population, seed=seed, max_generations=max_generations,
                 min_ess=min_ess if min_ess is not None else max(2, population // 2), **(settings or {}))
    meta = {"scenario_sha256": sha, "targets": [_target_identity(t) for t in targets], "k": k, "years": years}
    smc = ABCSMC(priors, [t.value for t in fitted], [t.sd for t in fitted], s, out / "state", meta)
    try:
        result = smc.run(sim, log=say)
    except abc_smc.StateError as e:
        raise CalibrationError(str(e)) from None
    summary = write_outputs(out, result, priors, targets, k, pilot, draws=draws, seed=seed)
    summary["wall_seconds_this_call"] = time.monotonic() - t_start
    say(f"stopped: {result.stop}; eps {result.eps:.3g}; posterior ESS {result.ess:.0f}; "
        f"{summary['simulations']} replications simulated; outputs in {out}")
    logfile.close()
    return summary


# ---- outputs ----------------------------------------------------------------------------------------

def _wq(x, w, qs):
    """Weighted quantiles of x (NaN-free)."""
    ok = np.isfinite(x) & (w > 0)
    x, w = x[ok], w[ok]
    if x.size == 0:
        return np.full(len(qs), np.nan)
    o = np.argsort(x)
    c = np.cumsum(w[o]) / w.sum()
    return np.interp(qs, c - w[o] / (2 * w.sum()), x[o])


def _wmean_sd(x, w):
    ok = np.isfinite(x) & (w > 0)
    x, w = x[ok], w[ok] / w[ok].sum()
    m = float(w @ x)
    return m, float(np.sqrt(max(0.0, w @ (x - m) ** 2)))


def load_fit(out) -> tuple:
    """(result, priors, targets, settings.json, pilot) of a fit folder, from its state."""
    out = Path(out)
    ident = json.loads((out / "state" / "settings.json").read_text())
    pilot = json.loads((out / "state" / "pilot.json").read_text())
    config = tomllib.loads((out / "scenario.toml").read_text())
    priors = Priors(priors_of(config, continuous=True))
    targets = load_targets(out / "targets.toml")
    if [_target_identity(t) for t in targets] != ident["meta"]["targets"]:
        raise CalibrationError(f"{out / 'targets.toml'} is not the targets file the fit ran with")
    settings = Settings(**ident["settings"])
    gens = []
    while (out / "state" / f"gen-{len(gens):03d}.json").exists():
        gens.append(abc_smc.Generation.from_json(json.loads((out / "state" / f"gen-{len(gens):03d}.json").read_text())))
    if not gens:
        raise CalibrationError(f"{out}: no finished generation yet")
    stop = abc_smc.stop_reason(gens, settings) or "unfinished"
    return abc_smc.Result(priors.keys, gens, stop, settings), priors, targets, ident, pilot


def summarise(result, priors: Priors, targets, k: int, pilot: dict) -> dict:
    """Everything the report says, as plain data."""
    w = result.weights
    theta = result.theta
    g0 = result.generations[0]
    params = []
    for j, p in enumerate(priors):
        q_prior = [float(v) for v in p.ppf([0.05, 0.5, 0.95])]
        prior_sd = float(np.std(p.ppf((np.arange(4096) + 0.5) / 4096)))
        m, sd = _wmean_sd(theta[:, j], w)
        params.append({"key": p.key, "prior": p.text(), "prior_q05_q50_q95": q_prior, "prior_sd": prior_sd,
                       "posterior_mean": m, "posterior_sd": sd,
                       "posterior_q05_q50_q95": _wq(theta[:, j], w, [0.05, 0.5, 0.95]).tolist(),
                       "sd_ratio": sd / prior_sd})
    fitted = [t for t in targets if t.fit]
    final = result.final
    checks = {n: np.concatenate([np.asarray(g.extra.get("checks", {}).get(n, [np.nan] * len(g.theta)), float)
                                 for g in final]) for n in (t.name for t in targets if not t.fit)}
    checks0 = {n: np.asarray(g0.extra.get("checks", {}).get(n, [np.nan] * len(g0.theta)), float) for n in checks}
    within = {}
    for g in final:
        for n, v in g.extra.get("within_sd", {}).items():
            within.setdefault(n, []).append(v)
    rows = []
    figs = result.figures
    w0 = np.ones(len(g0.theta))
    for t in targets:
        if t.fit:
            j = fitted.index(t)
            post, prior = figs[:, j], g0.figures[:, j]
        else:
            post, prior = checks[t.name], checks0[t.name]
        pm, psd = _wmean_sd(post, w) if np.any(np.isfinite(post)) else (np.nan, np.nan)
        rows.append({"name": t.name, "figure": t.figure, "fit": t.fit, "value": t.value, "sd": t.sd,
                     "percent": t.percent, "how": t.describe(),
                     "prior_q05_q50_q95": _wq(prior, w0, [0.05, 0.5, 0.95]).tolist(),
                     "posterior_q05_q50_q95": _wq(post, w, [0.05, 0.5, 0.95]).tolist(),
                     "posterior_mean": pm, "posterior_sd": psd,
                     "z": (pm - t.value) / t.sd if np.isfinite(pm) else np.nan,
                     "sd_between_histories_pilot": pilot["sd_between"].get(t.name, np.nan),
                     "sd_between_histories_posterior": float(np.nanmean(within[t.name])) if t.name in within
                     else np.nan,
                     "noise_ratio": (float(np.nanmean(within[t.name])) / math.sqrt(k) / t.sd) if t.name in within
                     else np.nan})
    # posterior correlations (of the unbounded coordinates: ridges between parameters the data trade off)
    z = priors.to_z(theta)
    m = w @ z
    c = (z - m).T @ ((z - m) * w[:, None])
    corr = c / np.sqrt(np.outer(np.diag(c), np.diag(c)))
    pairs = sorted(((float(corr[i, j]), priors.keys[i], priors.keys[j]) for i in range(len(priors))
                    for j in range(i + 1, len(priors))), key=lambda x: -abs(x[0]))
    correlations = [{"a": a, "b": b, "r": r} for r, a, b in pairs if abs(r) >= 0.2]
    gens = [{"t": g.t, "eps": g.eps, "ess": g.ess, "candidates": len(g.theta), "seconds": g.seconds,
             "replications": g.extra.get("replications"),
             "best_distance": float(np.sqrt(np.min(g.distance2)))} for g in result.generations]
    return {"stop": result.stop, "eps": result.eps, "posterior_ess": result.ess,
            "posterior_generations": [g.t for g in final], "k": k,
            "simulations": int(sum(g.extra.get("replications", 0) for g in result.generations))
            + int(pilot["replications"]), "seconds": float(sum(g.seconds for g in result.generations)),
            "settings": result.settings.__dict__, "parameters": params, "correlations": correlations,
            "targets": rows, "generations": gens}


def _f(row, x):
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{100 * x:.1f}%" if row.get("percent") else f"{x:.3g}"


def report_text(summary: dict, title: str = "") -> str:
    """summary.md: the fit in a few tables."""
    s = summary
    out = [f"# Calibration{': ' + title if title else ''}", "",
           f"Stopped: **{s['stop']}** at eps = {s['eps']:.3g} (1 = the targets' standard errors); posterior: "
           f"{len(s['posterior_generations'])} generation(s) at the final eps, effective sample size "
           f"{s['posterior_ess']:.0f}. {len(s['generations'])} generations, {s['simulations']} replications "
           f"simulated ({s['k']} per candidate), {s['seconds'] / 60:.1f} min.", "",
           "## Parameters", "", "| parameter | prior | prior 5% / 50% / 95% | posterior 5% / 50% / 95% | "
           "posterior sd / prior sd |", "|---|---|---|---|---|"]
    for p in s["parameters"]:
        q, r = p["prior_q05_q50_q95"], p["posterior_q05_q50_q95"]
        out.append(f"| `{p['key']}` | {p['prior']} | {q[0]:.3g} / {q[1]:.3g} / {q[2]:.3g} | "
                   f"{r[0]:.3g} / {r[1]:.3g} / {r[2]:.3g} | {p['sd_ratio']:.2f} |")
    if s.get("correlations"):
        out += ["", "Posterior correlations (of the logit coordinates) of at least 0.2: "
                + "; ".join(f"`{c['a'].split('.', 1)[1]}` and `{c['b'].split('.', 1)[1]}` {c['r']:+.2f}"
                            for c in s["correlations"]) + "."]
    out += ["", "## Targets", "", "Model figures: a candidate's mean over its replications; prior: generation 0 "
            "(draws from the prior); posterior: the weighted posterior population. z = (posterior mean - value) "
            "/ sd. Noise: Monte Carlo sd of a candidate's figure / target sd.", "",
            "| target | fitted | value ± sd | prior 5% / 50% / 95% | posterior 5% / 50% / 95% | z | noise |",
            "|---|---|---|---|---|---|---|"]
    for t in s["targets"]:
        q, r = t["prior_q05_q50_q95"], t["posterior_q05_q50_q95"]
        out.append(f"| {t['name']}: {t['how']} | {'yes' if t['fit'] else 'no'} | {_f(t, t['value'])} ± "
                   f"{_f(t, t['sd'])} | {_f(t, q[0])} / {_f(t, q[1])} / {_f(t, q[2])} | "
                   f"{_f(t, r[0])} / {_f(t, r[1])} / {_f(t, r[2])} | "
                   + (f"{t['z']:+.2f}" if np.isfinite(t["z"]) else "n/a") + " | "
                   + (f"{t['noise_ratio']:.2f}" if np.isfinite(t["noise_ratio"]) else "n/a") + " |")
    out += ["", "## Generations", "", "| t | eps | ESS | candidates | best distance | seconds |",
            "|---|---|---|---|---|---|"]
    for g in s["generations"]:
        out.append(f"| {g['t']} | {g['eps']:.4g} | {g['ess']:.0f} | {g['candidates']} | {g['best_distance']:.3g} | "
                   f"{g['seconds']:.0f} |")
    return "\n".join(out) + "\n"


def write_outputs(out, result, priors: Priors, targets, k: int, pilot: dict, *, draws: int = 200,
                  seed: int = 1) -> dict:
    """posterior.csv, posterior-draws.csv, summary.md and summary.json of a fit."""
    out = Path(out)
    w = result.weights
    keep = w > 0
    gen_of = np.concatenate([np.full(len(g.theta), g.t) for g in result.final])
    d = np.sqrt(np.concatenate([g.distance2 for g in result.final]))
    write_table(out / "posterior.csv", priors.keys, result.theta[keep],
                {"weight": [float(x) for x in w[keep]], "distance": [float(x) for x in d[keep]],
                 "generation": [int(x) for x in gen_of[keep]]})
    if draws > 0:
        x = result.resample(draws, seed)
        write_table(out / "posterior-draws.csv", priors.keys, x, {"weight": [1.0 / draws] * draws})
    summary = summarise(result, priors, targets, k, pilot)
    write_replace(out / "summary.json", json.dumps(summary, indent=1, default=float) + "\n")
    write_replace(out / "summary.md", report_text(summary))
    return summary


# ---- check: a result file against the targets ---------------------------------------------------------

def check(path, targets_file, arm: str | None = None) -> str:
    """A table: each target's value and sd against the file's figure across replications (median and 5-95%),
    with the parameters' quantiles when the file has /uncertainty."""
    import artel
    res = artel.open(path)
    targets = load_targets(targets_file)
    rows = [f"targets of {targets_file} against arm '{arm or res.baseline}' of {path} "
            f"({res.replications} replications): median [5%, 95%] across replications",
            f"{'target':<28} {'fit':>3} {'value ± sd':>18}   {'model':>28}  {'z':>6}"]
    for t in targets:
        try:
            x = figures(res, [t], arm)[t.name]
        except TargetError as e:
            if t.fit:
                raise
            rows.append(f"{t.name:<28} {'no':>3}   n/a: {e}")
            continue
        x = x[np.isfinite(x)]
        med, lo, hi = (np.quantile(x, [0.5, 0.05, 0.95]) if x.size else (np.nan,) * 3)
        z = (np.mean(x) - t.value) / t.sd if x.size else np.nan
        rows.append(f"{t.name:<28} {'yes' if t.fit else 'no':>3} {t.fmt(t.value) + ' ± ' + t.fmt(t.sd):>18}   "
                    f"{t.fmt(med) + ' [' + t.fmt(lo) + ', ' + t.fmt(hi) + ']':>28}  "
                    + (f"{z:+6.2f}" if np.isfinite(z) else f"{'n/a':>6}"))
    return "\n".join(rows)


# ---- the command line ---------------------------------------------------------------------------------

def _parser():
    ap = argparse.ArgumentParser(prog="artel-calibrate", description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="fit a scenario's priors to targets (ABC-SMC); resumes in an existing folder")
    f.add_argument("scenario", help="scenario file with priors on the parameters to fit")
    f.add_argument("targets", help="targets file (TOML, [[target]] tables)")
    f.add_argument("-o", "--output", required=True, help="output folder (state, posterior, summary)")
    f.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="passed to artel for every run (e.g. population.villages=40)")
    f.add_argument("--population", type=int, default=1000, help="candidates per generation (default 1000)")
    f.add_argument("--replications-per-candidate", default="auto",
                   help="k, or auto (default): from the pilot, so that every fitted figure's noise is at most "
                        "--noise-ratio x its sd")
    f.add_argument("--noise-ratio", type=float, default=1 / 3, help="default 1/3")
    f.add_argument("--max-replications-per-candidate", type=int, default=64, help="cap of auto k (default 64)")
    f.add_argument("--max-generations", type=int, default=30)
    f.add_argument("--min-ess", type=int, default=None, help="posterior ESS to stop (default population / 2)")
    f.add_argument("--proposal", default="t+mixture", choices=["t", "mixture", "t+mixture"])
    f.add_argument("--draws", type=int, default=200, help="rows of posterior-draws.csv (default 200)")
    f.add_argument("--seed", type=int, default=1, help="seed of the sampler (artel's seed is the scenario's)")
    f.add_argument("--threads", type=int, default=2)
    f.add_argument("--artel", default=None, help="the artel executable (default $ARTEL_EXE, PATH, build/release)")
    f.add_argument("--keep-runs", action="store_true",
                   help="keep every generation's result file and candidate table (runs/gen-NNN/)")
    f.add_argument("--quiet", action="store_true")
    r = sub.add_parser("report", help="write the outputs of a fit folder again and print its summary")
    r.add_argument("folder")
    r.add_argument("--draws", type=int, default=200)
    p = sub.add_parser("plot", help="figures of a fit: posterior against prior, fit against targets")
    p.add_argument("folder")
    p.add_argument("-o", "--output", required=True, help="folder for the PNGs")
    p.add_argument("--check", default=None, help="a result file of the calibrated scenario (its spread is drawn)")
    p.add_argument("--prefix", default="calibration_")
    c = sub.add_parser("check", help="a result file's figures against a targets file")
    c.add_argument("file")
    c.add_argument("targets")
    c.add_argument("--arm", default=None)
    return ap


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "fit":
            k = args.replications_per_candidate
            if k != "auto":
                try:
                    k = int(k)
                except ValueError:
                    raise CalibrationError(f"--replications-per-candidate {k!r}: an integer or auto") from None
            summary = fit(args.scenario, args.targets, args.output, sets=args.set, artel=args.artel,
                          population=args.population, k=k, noise_ratio=args.noise_ratio,
                          k_max=args.max_replications_per_candidate, threads=args.threads, draws=args.draws,
                          seed=args.seed, max_generations=args.max_generations, min_ess=args.min_ess,
                          keep_runs=args.keep_runs, settings={"proposal": args.proposal},
                          log=(lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True)))
            print(report_text(summary))
        elif args.command == "report":
            result, priors, targets, ident, pilot = load_fit(args.folder)
            summary = write_outputs(args.folder, result, priors, targets, ident["meta"]["k"], pilot,
                                    draws=args.draws, seed=ident["settings"]["seed"])
            print(report_text(summary))
        elif args.command == "plot":
            from . import calibrate_plots
            for path in calibrate_plots.write_all(args.folder, args.output, check=args.check, prefix=args.prefix):
                print(path)
        else:
            print(check(args.file, args.targets, args.arm))
    except (CalibrationError, TargetError, PriorError, abc_smc.StateError, FileNotFoundError, FormatError) as e:
        sys.exit(f"artel-calibrate: {e}")
    except KeyboardInterrupt:
        sys.exit("artel-calibrate: interrupted; run the same command again to resume")


if __name__ == "__main__":
    main()
