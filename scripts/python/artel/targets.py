"""Calibration targets: historical figures, and how each is computed from a result file.

    targets = load_targets("configs/targets-1923-1927.toml")
    fig = figures(artel.open("run.h5"), targets)     # {name: per-replication values (replication,)}

A targets file is TOML with one ``[[target]]`` table per figure:

    [[target]]
    name = "literacy_1926"                   # letters, digits, _ - .
    figure = "literacy of rural adults, end of 1926"
    source = "1926 census (ages 9-49)"       # optional: where the figure comes from
    value = 0.566                            # the historical figure (a fit = false target may have none)
    sd = 0.025                               # its standard error (or tolerance = t, which counts as sd = t / 2)
    series = "literacy"                      # the variable it is computed from
    year = 1926                              # or years = [1923, 1927]
    stat = "value"                           # how (below); default "value"
    percent = true                           # optional: show as a percentage
    fit = true                               # optional: false = only reported next to the fit

The vocabulary of a figure, computed per replication (one possible history):

| key | values | meaning |
|---|---|---|
| ``group`` | ``"series"`` (default), ``"start"``, ``"regions"`` | where ``series`` is: per year, the initial state, per year and region |
| ``series`` | a variable of the group | e.g. ``literacy``, ``member_share``, ``harvest_per_ha`` |
| ``per`` | a variable of the group, or ``"regions"`` | divide by it (``persons`` per ``households``; ``failing_regions`` per the number of regions), cell by cell |
| ``year`` / ``years`` | a year / ``[first, last]`` (inclusive) | the years used (not for ``start``) |
| ``stat`` | ``value`` | the value in ``year`` (or at the start); a regional series: its mean over the regions |
| | ``mean`` | the mean over the years (and regions) |
| | ``cv`` | the year-to-year coefficient of variation over the years (sd with n - 1 / mean); a regional series: per region, then the mean over the regions |
| | ``change`` | the value in the last year minus the value in the first |
| | ``share`` | the sum over the years (and regions) that meet ``when``, over the sum over all of them |
| ``when`` | ``"failure"``, ``"normal"`` | ``mean`` and ``share`` only over years with a harvest failure (``series``: some region failed, ``failing_regions`` > 0; ``regions``: that region failed, ``failed`` = 1) or without one |

A candidate's figure is the mean of its replications' figures (``across = "median"`` takes the median).
A figure that needs a group the file lacks -- ``regions`` before the engine writes it -- raises
TargetError naming the group.
"""
from __future__ import annotations

import re
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STATS = ("value", "mean", "cv", "change", "share")
GROUPS = ("series", "start", "regions")
KEYS = {"name", "figure", "source", "value", "sd", "tolerance", "group", "series", "per", "year", "years", "stat",
        "when", "across", "percent", "fit", "note"}


class TargetError(ValueError):
    """A target that cannot be read or computed: names the target and what is wrong."""


@dataclass(frozen=True)
class Target:
    """One historical figure and how it is computed from a result file (see the module docstring)."""

    name: str
    figure: str
    value: float
    sd: float
    series: str
    group: str = "series"
    per: str | None = None
    years: tuple | None = None
    stat: str = "value"
    when: str | None = None
    across: str = "mean"
    percent: bool = False
    fit: bool = True
    source: str = ""
    note: str = ""

    def describe(self) -> str:
        """How the figure is computed, in words: ``cv of harvest_per_ha (regions), 1923-1927``."""
        what = self.series + (f"/{self.per}" if self.per else "")
        where = "" if self.group == "series" else f" ({self.group})"
        yrs = "" if self.years is None else (f", {self.years[0]}" if self.years[0] == self.years[1]
                                             else f", {self.years[0]}-{self.years[1]}")
        cond = f", years with {'a failure' if self.when == 'failure' else 'no failure'}" if self.when else ""
        return f"{self.stat} of {what}{where}{yrs}{cond}"

    def fmt(self, x: float, digits: int = 1) -> str:
        if not np.isfinite(x):
            return "n/a"
        return f"{100 * x:.{digits}f}%" if self.percent else f"{x:.{digits + 1}f}"


def _target(t: dict, where: str) -> Target:
    if "name" in t:
        where = f"{where} ({str(t['name'])!r})"
    unknown = set(t) - KEYS
    if unknown:
        raise TargetError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(KEYS))})")
    for k in ("name", "figure", "series"):
        if k not in t:
            raise TargetError(f"{where}: '{k}' is missing")
    name = str(t["name"])
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", name):
        raise TargetError(f"{where}: a name is letters, digits, '_', '.', '-'")
    fit = bool(t.get("fit", True))
    if fit or "value" in t:
        if "value" not in t:
            raise TargetError(f"{where}: 'value' is missing (only a target with fit = false may have none)")
        if ("sd" in t) == ("tolerance" in t):
            raise TargetError(f"{where}: give either sd (a standard error) or tolerance (counts as sd = "
                              "tolerance / 2)")
        sd = float(t["sd"]) if "sd" in t else float(t["tolerance"]) / 2
        if not (np.isfinite(sd) and sd > 0):
            raise TargetError(f"{where}: sd / tolerance must be > 0")
        if not np.isfinite(float(t["value"])):
            raise TargetError(f"{where}: value must be a finite number")
    elif "sd" in t or "tolerance" in t:
        raise TargetError(f"{where}: sd / tolerance without a value")
    else:
        sd = float("nan")
    group, stat = t.get("group", "series"), t.get("stat", "value")
    if group not in GROUPS:
        raise TargetError(f"{where}: group = {group!r}: one of {', '.join(GROUPS)}")
    if stat not in STATS:
        raise TargetError(f"{where}: stat = {stat!r}: one of {', '.join(STATS)}")
    if "year" in t and "years" in t:
        raise TargetError(f"{where}: give year or years, not both")
    years = None
    if "year" in t:
        years = (int(t["year"]), int(t["year"]))
    elif "years" in t:
        ys = t["years"]
        if not (isinstance(ys, list) and len(ys) == 2 and all(isinstance(y, int) for y in ys) and ys[0] <= ys[1]):
            raise TargetError(f"{where}: years = [first, last], integers, first <= last")
        years = (ys[0], ys[1])
    if group == "start":
        if years is not None or stat != "value":
            raise TargetError(f"{where}: group 'start' is the initial state: stat 'value', no year")
    elif years is None:
        raise TargetError(f"{where}: year or years is needed")
    if stat == "value" and years is not None and years[0] != years[1]:
        raise TargetError(f"{where}: stat 'value' takes one year")
    if stat in ("cv", "change") and (years is None or years[1] - years[0] < 1):
        raise TargetError(f"{where}: stat {stat!r} needs years = [first, last] with at least two years")
    when = t.get("when")
    if when is not None and (when not in ("failure", "normal") or stat not in ("mean", "share")):
        raise TargetError(f"{where}: when = 'failure' or 'normal', with stat 'mean' or 'share'")
    if stat == "share" and when is None:
        raise TargetError(f"{where}: stat 'share' needs when = 'failure' or 'normal'")
    across = t.get("across", "mean")
    if across not in ("mean", "median"):
        raise TargetError(f"{where}: across = 'mean' or 'median'")
    return Target(name=name, figure=str(t["figure"]), value=float(t.get("value", "nan")), sd=sd,
                  series=str(t["series"]), group=group, per=t.get("per"), years=years, stat=stat, when=when,
                  across=across, percent=bool(t.get("percent", False)), fit=fit,
                  source=str(t.get("source", "")), note=str(t.get("note", "")))


def load_targets(path) -> list[Target]:
    """The targets of a TOML file (``[[target]]`` tables), checked; TargetError names the file and target."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise TargetError(f"{path}: not TOML: {e}") from None
    extra = set(doc) - {"target"}
    if extra:
        raise TargetError(f"{path}: unknown table(s) {', '.join(sorted(extra))}: a targets file holds [[target]]s")
    items = doc.get("target", [])
    if not items:
        raise TargetError(f"{path}: no [[target]]")
    out = [_target(t, f"{path}: target {i + 1}") for i, t in enumerate(items)]
    names = [t.name for t in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise TargetError(f"{path}: duplicate target name(s) {', '.join(dup)}")
    if not any(t.fit for t in out):
        raise TargetError(f"{path}: every target has fit = false: nothing to fit")
    return out


def last_year(targets) -> int | None:
    """The last calendar year any target needs (a fit need not simulate further)."""
    ys = [t.years[1] for t in targets if t.years is not None]
    return max(ys) if ys else None


# ---- computing the figures --------------------------------------------------------------------------

class _Source:
    """The baseline arm's groups of a result file, read once each (only the variables needed)."""

    def __init__(self, res, arm: str | None, targets):
        self.res, self.arm = res, arm or res.baseline
        self.need = {}
        for t in targets:
            vs = {t.series} | ({t.per} if t.per and t.per != "regions" else set())
            if t.when:
                vs |= {"failed" if t.group == "regions" else "failing_regions"}
            self.need.setdefault(t.group, set()).update(vs)
        self.cache = {}

    def group(self, name: str, t: Target):
        if name not in self.cache:
            try:
                ds = self.res.dataset(name, arms=[self.arm])
            except KeyError:
                have = ", ".join(self.res.groups())
                raise TargetError(
                    f"target {t.name!r} ({t.figure}) needs the group /arms/{self.arm}/{name} of {self.res.path}, "
                    f"which this file (format {self.res.format_version}, artel {self.res.attrs.get('engine_version')}) "
                    f"does not have" + (" (artel 0.6 and later write the per-region series unless the scenario has "
                                         "[output] regions = false)" if name == "regions" else "")
                    + f"; it has {have}") from None
            missing = sorted(self.need[name] - set(ds.data_vars))
            if missing:
                raise TargetError(f"target {t.name!r}: no variable {', '.join(missing)} in group {name!r} of "
                                  f"{self.res.path} (it has {', '.join(sorted(ds.data_vars))})")
            self.cache[name] = ds[sorted(self.need[name])].isel(arm=0).load()
        return self.cache[name]


def _cells(t: Target, ds, src, res) -> tuple[np.ndarray, np.ndarray | None]:
    """The series (divided by `per`) over the target's years: (replication, year[, region]), and the
    failure mask of the same shape (or None)."""
    def years(x):
        if t.years is None:
            return x
        have = x["year"].values
        if t.years[0] < have.min() or t.years[1] > have.max():
            raise TargetError(f"target {t.name!r} needs {t.years[0]}-{t.years[1]}; {res.path} has the years "
                              f"{int(have.min())}-{int(have.max())}")
        return x.sel(year=slice(t.years[0], t.years[1]))

    x = years(ds[t.series]).values.astype(float)
    if t.per == "regions":
        x = x / float(res.config["population"]["regions"])
    elif t.per:
        with np.errstate(divide="ignore", invalid="ignore"):
            x = x / years(ds[t.per]).values
    mask = None
    if t.when:
        f = years(ds["failed" if t.group == "regions" else "failing_regions"]).values > 0
        mask = f if t.when == "failure" else ~f
    return x, mask


def _figure(t: Target, x: np.ndarray, mask) -> np.ndarray:
    """Per replication: reduce (replication, year[, region]) by the target's stat."""
    r = x.shape[0]
    flat = x.reshape(r, -1)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty mean is NaN
        if t.stat == "value":
            return np.nanmean(flat, axis=1)
        if t.stat == "mean":
            if mask is not None:
                flat = np.where(mask.reshape(r, -1), flat, np.nan)
            return np.nanmean(flat, axis=1)
        if t.stat == "share":
            total = np.nansum(flat, axis=1)
            part = np.nansum(np.where(mask.reshape(r, -1), flat, 0.0), axis=1)
            return np.where(total > 0, part / total, np.nan)
        if t.stat == "change":
            d = x[:, -1] - x[:, 0]
            return d.reshape(r, -1).mean(axis=1)
        # cv: over the years, per region (axis 1 is the year)
        cv = np.std(x, axis=1, ddof=1) / np.mean(x, axis=1)
        return cv.reshape(r, -1).mean(axis=1)


def figures(res, targets, arm: str | None = None) -> dict[str, np.ndarray]:
    """Each target's figure in every replication of a result file's baseline arm (or `arm`):
    {name: array (replication,)}; NaN where a replication's figure is undefined (e.g. a mean over no
    failure years)."""
    src = _Source(res, arm, targets)
    out = {}
    for t in targets:
        ds = src.group(t.group, t)
        x, mask = _cells(t, ds, src, res)
        if t.group == "start":
            out[t.name] = x.reshape(x.shape[0], -1).mean(axis=1)
        else:
            out[t.name] = _figure(t, x, mask)
    return out


def per_candidate(values: np.ndarray, k: int, across: str = "mean") -> np.ndarray:
    """A candidate's figure from its k consecutive replications (candidate i: replications i k ... i k + k - 1):
    their mean (or median)."""
    v = np.asarray(values, float).reshape(-1, k)
    with warnings.catch_warnings():  # a candidate whose replications are all NaN has a NaN figure
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(v, axis=1) if across == "median" else np.nanmean(v, axis=1)
