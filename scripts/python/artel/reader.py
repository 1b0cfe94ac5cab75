"""Read artel result files (format 1.x) into xarray and pandas.

    import artel
    res = artel.open("nep-1923.h5")          # checks the file, one-line FormatError if unusable
    res.arms, res.baseline                   # arm names, baseline first
    res.dataset("series")                    # every arm in one xarray.Dataset (arm, replication, year), lazy
    res.dataset("diff")                      # paired differences arm - baseline (arm, year / quantile)
    res.headline(), res.compare()            # the numbers that answer the question, as pandas tables

Two views of the file:

* ``res.dataset(group)``, the analysis view: one Dataset over all arms with
  an ``arm`` dimension (baseline first), one name for the time axis
  (``year``, the calendar year at whose end), events that never happen as
  NaN with calendar-year companions, histogram bins with CF bounds.
  ``series`` and ``trajectories`` (whose size grows with the replications)
  are read lazily: only what is indexed or computed on is read.
* ``res.group(arm, group)`` and the per-arm helpers (series, stats, diff,
  ...), the file's view: one HDF5 group as xarray's h5netcdf engine would
  open it (the same dimensions, values and attributes; several times faster).

Nothing is kept open between calls.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import xarray as xr

from . import _h5

FORMAT_NAME = "artel-results"
SUPPORTED_MAJOR = 1

#: the groups of /arms/<arm>/ in format 1.0 and 1.1; dataset() and group() read any other group a newer
#: file has (e.g. /arms/<arm>/sensitivity), and dataset() root groups such as /uncertainty
GROUPS = ("series", "start", "events", "stats", "diff", "histograms", "trajectories")

#: groups read lazily by dataset(): their size grows with the replications
LAZY_GROUPS = ("series", "trajectories")

#: dimensions that dataset() renames to `year`, so that every group has one name for its time axis (the
#: calendar year at whose end the state is taken; the trajectories' start_year - 1 is the initial state)
TIME_DIMS = {"time": "year", "histogram_year": "year"}

#: year-index events and the names of their calendar-year companions in dataset("events") and events()
EVENT_YEARS = {
    "first_active_50": "year_active_50",
    "first_active_90": "year_active_90",
    "first_literacy_90": "year_literacy_90",
}

#: meaning of the trajectories' ``coop`` value (MODEL.md section 2)
COOP_STATES = {0: "outside", 1: "passive member", 2: "active member"}

# Root attributes copied onto every Dataset the reader returns (the run's identity).
_RUN_ATTRS = ("title", "Conventions", "format_version", "engine_version", "git_revision", "seed", "scenario_file",
              "command_line", "created", "replications", "years", "start_year", "baseline", "complete")


class FormatError(ValueError):
    """The file cannot be read as an artel result file. ``str(error)`` is a one-line reason."""


def _check_file(path: Path, allow_incomplete: bool) -> tuple[dict, list[str], dict, set]:
    """Validate the file; return (root attributes, arm names, {arm: arm attributes}, root groups)."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise FormatError(f"{path}: is a directory, not an artel result file")
    try:
        is_hdf5 = h5py.is_hdf5(str(path))
    except OSError:
        is_hdf5 = False
    if not is_hdf5:
        raise FormatError(f"{path}: not an HDF5 file, so not an artel result file")
    try:
        with h5py.File(path, "r") as f:
            attrs = _h5.attrs_of(f)
            fmt = attrs.get("format")
            if fmt != FORMAT_NAME:
                what = "has no root attribute 'format'" if fmt is None else f"has format = {fmt!r}"
                raise FormatError(f"{path}: an HDF5 file but not an artel result file "
                                  f"(it {what}; expected {FORMAT_NAME!r})")
            major = attrs.get("format_major")
            version = attrs.get("format_version", f"{major}.?")
            if major != SUPPORTED_MAJOR:
                raise FormatError(f"{path}: artel result format version {version} (major {major}) is not "
                                  f"supported; this reader reads format {SUPPORTED_MAJOR}.x: use the "
                                  f"artel Python package of the engine that wrote the file")
            complete = attrs.get("complete")
            if complete != 1 and not allow_incomplete:
                written = attrs.get("replications_written", "?")
                raise FormatError(f"{path}: incomplete result file (complete = {complete}, {written} of "
                                  f"{attrs.get('replications', '?')} replications written): the run did not finish; "
                                  f"complete it with `artel run ... --resume`, or pass allow_incomplete=True "
                                  f"to read what is there")
            if "arms" not in f:
                raise FormatError(f"{path}: artel result file without an /arms group")
            if "arm_names" in f:
                arms = [str(a) for a in _h5.values_of(f["arm_names"]).tolist()]
            else:  # fall back on the groups, in their written order
                arms = sorted(f["arms"], key=lambda a: _h5.py(f["arms"][a].attrs.get("index", 0)))
            missing = [a for a in arms if a not in f["arms"]]
            if missing:
                raise FormatError(f"{path}: arm(s) {', '.join(missing)} listed in /arm_names have no group")
            arm_attrs = {a: _h5.attrs_of(f["arms"][a]) for a in arms}
            arm_groups = {a: set(f["arms"][a]) for a in arms}
            root_groups = {k for k, v in f.items() if isinstance(v, h5py.Group) and k != "arms"}
    except FormatError:
        raise
    except OSError as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise FormatError(f"{path}: cannot be read as HDF5 ({reason})") from None
    for a in arms:
        arm_attrs[a]["_groups"] = arm_groups[a]
    return attrs, arms, arm_attrs, root_groups


def _tag(q: float) -> str:
    return f"q{round(q * 100):02d}"


def t_quantile(level: float, n) -> np.ndarray:
    """The two-sided Student-t multiplier of a `level` interval with n observations (n - 1 degrees of
    freedom): 2.78 for 5 replications, 2.09 for 20, 1.97 for 200 (1.96 is the normal limit). NaN for n < 2."""
    from scipy.special import stdtrit  # Student's t quantile (scipy.stats takes 5x longer to import)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(n >= 2, stdtrit(np.maximum(n - 1, 1), 0.5 + level / 2), np.nan)


class Results:
    """An artel result file, checked on opening; data is read on demand and cached.

    Raises FormatError (one line) if the file is not HDF5, not an artel result
    file, of an unsupported major format version, or incomplete (unless
    ``allow_incomplete=True``).
    """

    def __init__(self, path, *, allow_incomplete: bool = False):
        self.path = Path(path)
        self._attrs, self._arms, self._arm_attrs, self._root_groups = _check_file(self.path, allow_incomplete)
        self._cache: dict[tuple, xr.Dataset] = {}
        self._config = None

    # ---- the run -------------------------------------------------------------------------------
    def __repr__(self):
        return (f"<artel.Results {self.path} ({self.attrs.get('format_version')}): {len(self.arms)} arms x "
                f"{self.replications} replications x {self.n_years} years from {self.start_year}; "
                f"baseline {self.baseline!r}{'' if self.complete else '; INCOMPLETE'}>")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Drop cached data (no file stays open between calls)."""
        self._cache.clear()

    @property
    def attrs(self) -> dict:
        """Root attributes (format, engine_version, git_revision, seed, scenario, ...)."""
        return dict(self._attrs)

    @property
    def arms(self) -> list[str]:
        """Arm names, baseline first."""
        return list(self._arms)

    @property
    def baseline(self) -> str:
        return str(self._attrs.get("baseline", self._arms[0]))

    @property
    def others(self) -> list[str]:
        """The arms other than the baseline (those with a paired difference)."""
        return [a for a in self._arms if a != self.baseline]

    @property
    def complete(self) -> bool:
        return self._attrs.get("complete") == 1

    @property
    def format_version(self) -> str:
        return str(self._attrs.get("format_version"))

    @property
    def format_minor(self) -> int:
        return int(self._attrs.get("format_minor", 0))

    @property
    def replications(self) -> int:
        return int(self._attrs["replications"])

    @property
    def n_years(self) -> int:
        """T, the number of simulated years."""
        return int(self._attrs["years"])

    @property
    def start_year(self) -> int:
        return int(self._attrs["start_year"])

    @property
    def years(self) -> np.ndarray:
        """Calendar years of the series (end of year): start_year ... start_year + T - 1."""
        return np.arange(self.start_year, self.start_year + self.n_years)

    @property
    def scenario(self) -> str:
        """The resolved scenario (TOML text: every parameter with its final value)."""
        return str(self._attrs.get("scenario", ""))

    @property
    def config(self) -> dict:
        """The resolved scenario parsed with tomllib (sections; arms under 'arm')."""
        if self._config is None:
            try:
                self._config = tomllib.loads(self.scenario)
            except tomllib.TOMLDecodeError as e:
                raise FormatError(f"{self.path}: the scenario attribute is not valid TOML ({e})") from None
        return self._config

    def overrides(self, arm: str) -> dict:
        """The policy keys this arm overrides (empty for the baseline of the default scenario)."""
        self._check_arm(arm)
        text = self._arm_attrs[arm].get("overrides", "")
        return tomllib.loads(text) if text else {}

    def arm_attrs(self, arm: str) -> dict:
        """The attributes of an arm's group: index, baseline, overrides, and for an arm a [[sweep]] made,
        sweep, sweep_keys and sweep_<key> (its point on the grid)."""
        self._check_arm(arm)
        return {k: v for k, v in self._arm_attrs[arm].items() if not k.startswith("_")}

    def policy(self, arm: str) -> dict:
        """Every policy key's value in this arm: the scenario's [policy] with the arm's overrides."""
        return {**self.config.get("policy", {}), **self.overrides(arm)}

    def variables(self, group: str = "series") -> dict[str, str]:
        """{name: 'long_name [units]'} of a group's variables (of the baseline arm)."""
        ds = self._group(self.baseline if group != "diff" else self.others[0], group)
        return {k: f"{v.attrs.get('long_name', k)} [{v.attrs.get('units', '-')}]" for k, v in ds.data_vars.items()}

    def groups(self) -> dict[str, list[str]]:
        """{group: the arms that have it} for the groups under /arms/<arm>/ (those of GROUPS first), then
        {group: []} for the groups at the root (e.g. uncertainty)."""
        per_arm: dict[str, list[str]] = {}
        for a in self._arms:
            for g in self._arm_attrs[a]["_groups"]:
                per_arm.setdefault(g, []).append(a)
        order = sorted(per_arm, key=lambda g: (GROUPS.index(g) if g in GROUPS else len(GROUPS), g))
        return {**{g: per_arm[g] for g in order}, **{g: [] for g in sorted(self._root_groups)}}

    # ---- one arm's groups, as in the file ---------------------------------------------------------
    def _check_arm(self, arm: str):
        if arm not in self._arms:
            raise KeyError(f"no arm {arm!r} in {self.path}; arms: {', '.join(self._arms)}")

    def _run_attrs(self) -> dict:
        return {k: self._attrs[k] for k in _RUN_ATTRS if k in self._attrs}

    def _group(self, arm: str, group: str) -> xr.Dataset:
        self._check_arm(arm)
        key = (arm, group)
        if key not in self._cache:
            if group not in self._arm_attrs[arm]["_groups"]:
                why = ("the baseline has no paired difference" if group == "diff" and arm == self.baseline
                       else "absent from the file" + ("" if self.complete else " (incomplete run)"))
                raise KeyError(f"arms/{arm}/{group}: {why}")
            with h5py.File(self.path, "r") as f:
                ds = _h5.read_group(f[f"arms/{arm}/{group}"])
            ds.attrs.update(self._run_attrs())
            ds.attrs["arm"] = arm
            ds.attrs["overrides"] = self._arm_attrs[arm].get("overrides", "")
            ds.attrs["group"] = group
            self._cache[key] = ds
        return self._cache[key].copy()

    def group(self, arm: str, group: str) -> xr.Dataset:
        """Any group of /arms/<arm>/ as an xarray.Dataset, as xarray's h5netcdf engine opens it."""
        if group == "diff":
            return self.diff(arm)
        return self.series(arm) if group == "series" else self._group(arm, group)

    def series(self, arm: str) -> xr.Dataset:
        """Every series of an arm, dims (replication, year); year = calendar year (end of).

        Attributes carry the run (seed, start_year, engine_version, ...), the arm,
        its policy overrides and the resolved scenario text (``scenario``).
        """
        ds = self._group(arm, "series")
        ds.attrs["scenario"] = self.scenario
        return ds

    def start(self, arm: str) -> xr.Dataset:
        """Initial values of the stock series, dim (replication,)."""
        return self._group(arm, "start")

    def stats(self, arm: str) -> xr.Dataset:
        """Across-replication statistics: <var>_mean, _se, _n (year) and <var>_quantiles (quantile, year);
        event statistics are 0-d (_mean, _se) and (quantile,)."""
        return self._group(arm, "stats")

    def diff(self, arm: str) -> xr.Dataset:
        """As stats(), of the paired difference arm - baseline (same replication). Not for the baseline."""
        self._check_arm(arm)
        if arm == self.baseline:
            raise ValueError(f"{arm!r} is the baseline: it has no paired difference to itself")
        return self._group(arm, "diff")

    def histograms(self, arm: str) -> xr.Dataset:
        """Household counts over all replications: wealth, grain, literacy (histogram_year, <name>_bin);
        bin edges as coordinates <name>_edges (the last bin also counts values above its upper edge)."""
        return self._group(arm, "histograms")

    def trajectories(self, arm: str) -> xr.Dataset:
        """Sampled households' whole trajectories (replication, household, time); time = calendar year at
        whose end the state is taken (start_year - 1 = the start). coop: 0 outside, 1 passive, 2 active."""
        ds = self._group(arm, "trajectories")
        _coop_flags(ds)
        return ds

    # ---- every arm in one Dataset ----------------------------------------------------------------
    def dataset(self, group: str, *, arms=None, variables=None) -> xr.Dataset:
        """One group of every arm as one xarray.Dataset with an ``arm`` dimension first (baseline first).

        group: "series", "start", "events", "stats", "diff", "histograms", "trajectories", or any other
        group the file has under /arms/<arm>/ (e.g. "sensitivity") or at its root (e.g. "uncertainty",
        which has no arm dimension). Arms without the group are left out: "diff" has the arms other than
        the baseline (arm - baseline, same replication). A group the file does not have raises KeyError
        saying which groups it has.

        Policy keys whose value differs between the arms are coordinates along ``arm``. The time axis is
        ``year`` in every group (calendar year at whose end; the trajectories' first is start_year - 1, the
        initial state). "events": year-index events that never happen are NaN (the file stores T, marked
        missing_value), with their calendar years as year_<event> (NaN = never); an incomplete run's
        unwritten replications are left out. "histograms": bins have CF bounds <name>_bin_bounds.
        "series" and "trajectories" are lazy: values are read when indexed or computed on (``.load()``
        reads all). The arms' groups must agree in variables and coordinates (FormatError otherwise).
        variables: read only these (names in the file), e.g. ["active_share_mean", "active_share_se"].
        """
        key = ("*", group, tuple(arms) if arms is not None else None,
               tuple(variables) if variables is not None else None)
        if key not in self._cache:
            self._cache[key] = self._build_dataset(group, arms, variables)
        return self._cache[key].copy()

    def _locate(self, group: str) -> str:
        if any(group in self._arm_attrs[a]["_groups"] for a in self._arms):
            return "arms"
        if group in self._root_groups:
            return "root"
        per_arm = [g for g in self.groups() if g not in self._root_groups]
        have = f"per arm: {', '.join(per_arm)}" + (f"; at the root: {', '.join(sorted(self._root_groups))}"
                                                    if self._root_groups else "")
        hint = {"uncertainty": " (/uncertainty is written by runs whose scenario gives parameters a prior)",
                "sensitivity": " (/arms/<arm>/sensitivity is written by runs with uncertain parameters)"}.get(group, "")
        raise KeyError(f"{self.path}: no group {group!r} in this file (format {self.format_version}, artel "
                       f"{self._attrs.get('engine_version')}){hint}; it has {have}")

    def _build_dataset(self, group: str, arms, variables=None) -> xr.Dataset:
        if self._locate(group) == "root":
            with h5py.File(self.path, "r") as f:
                ds = _h5.read_group(f[group])
            ds.attrs = {**self._run_attrs(), **ds.attrs, "group": group}
            return ds
        wanted = self.arms if arms is None else list(arms)
        for a in wanted:
            self._check_arm(a)
        names = [a for a in wanted if group in self._arm_attrs[a]["_groups"]]
        if arms is not None and len(names) < len(wanted):
            lacking = [a for a in wanted if a not in names]
            raise KeyError(f"{self.path}: arm(s) {', '.join(lacking)} have no group {group!r}"
                           + (" (the baseline has no paired difference)" if group == "diff" else ""))
        missing = {}
        if group == "events" and self.format_minor == 0:  # 1.0 files store 'never' as T, unmarked
            missing = {v: self.n_years for v in EVENT_YEARS}
        with h5py.File(self.path, "r") as f:
            first = f[f"arms/{names[0]}/{group}"]
            layout = _h5.Layout(first)
            for a in names[1:]:
                g = f[f"arms/{a}/{group}"]
                found = {k: v.shape for k, v in g.items() if isinstance(v, h5py.Dataset)}
                expected = {**{k: v.shape for k, v in layout.coords.items()},
                            **{k: v[1] for k, v in layout.vars.items()}}
                if found != expected:
                    diff = sorted(set(found.items()) ^ set(expected.items()))
                    raise FormatError(f"{self.path}: arms/{a}/{group} differs from arms/{names[0]}/{group} in "
                                      f"{', '.join(f'{k} {s}' for k, s in diff[:4])}: cannot stack the arms")
                for c, v in layout.coords.items():
                    if not np.array_equal(_h5.values_of(g[c]), v.values):
                        raise FormatError(f"{self.path}: coordinate {c} of arms/{a}/{group} differs from "
                                          f"arms/{names[0]}/{group}: cannot stack the arms")
            lazy = group in LAZY_GROUPS
            wanted_vars = layout.vars
            if variables is not None:
                unknown = [v for v in variables if v not in layout.vars]
                if unknown:
                    raise KeyError(f"{self.path}: no variable {', '.join(map(repr, unknown))} in group {group!r}")
                wanted_vars = {v: layout.vars[v] for v in variables}
            data_vars = {}
            for n, (dims, shape, dtype, attrs) in wanted_vars.items():
                paths = [f"arms/{a}/{group}/{n}" for a in names]
                masked = n in missing or any(k in attrs for k in _h5.CF_MASK_ATTRS)
                if lazy and not masked:
                    data_vars[n] = _h5.lazy_stack(self.path, paths, dims, shape, dtype, attrs)
                    continue
                data, attrs, enc = _h5.decode(np.stack([_h5.values_of(f[p]) for p in paths]), attrs, missing.get(n))
                data_vars[n] = xr.Variable(("arm", *dims), data, attrs)
                data_vars[n].encoding.update(enc)
        if group == "diff":  # the first arm's long_names name it: say "arm" for the stack of all arms
            own = f" ({names[0]} \u2212 {self.baseline}, same replication)"
            for v in data_vars.values():
                if own in v.attrs.get("long_name", ""):
                    v.attrs["long_name"] = v.attrs["long_name"].replace(own, f" (baseline {self.baseline}, same "
                                                                             f"replication)")
        ds = xr.Dataset(data_vars, dict(layout.coords))
        ds = ds.assign_coords(arm=("arm", np.array(names, dtype=object),
                                   {"long_name": "policy arm (the first is the baseline)"}))
        ds = ds.assign_coords(self._arm_coords(names, set(ds.variables)))
        ds.attrs = {**self._run_attrs(), **layout.attrs, "group": group}
        if group == "diff":
            ds.attrs["long_name"] = f"paired difference arm \u2212 baseline ({self.baseline!r}), same replication"
        # the file's auxiliary variables (CF bounds, bin edges) are coordinates
        aux = {v.attrs["bounds"] for v in ds.variables.values() if "bounds" in v.attrs} & set(ds.data_vars)
        for v in sorted(aux):  # the same in every arm (checked): without the arm dimension
            x = ds[v].values
            if all(np.array_equal(x[0], x[i]) for i in range(1, len(x))):
                ds[v] = ds[v].isel(arm=0, drop=True)
        if aux:
            ds = ds.set_coords(sorted(aux))
        if group == "events":
            ds = self._events_view(ds)
        elif group == "trajectories":
            _coop_flags(ds)
        elif group == "histograms":
            ds = _histogram_bounds(ds)
        renames = {d: new for d, new in TIME_DIMS.items() if d in ds.dims and new not in ds.dims}
        if renames:
            ds = ds.rename(renames)
            if "year" in ds.coords:
                ds["year"].attrs.setdefault("long_name", "year (end of)")
        return ds

    def _arm_coords(self, names, taken) -> dict:
        """Policy keys whose value differs between the arms, as coordinates along arm."""
        pol = {a: self.policy(a) for a in names}
        out = {}
        for k in dict.fromkeys(k for a in names for k in pol[a]):
            vals = [pol[a].get(k) for a in names]
            if k in taken or any(v is None or isinstance(v, (dict, list)) for v in vals) or len(set(vals)) < 2:
                continue
            out[k] = ("arm", np.array(vals), {"long_name": f"policy key {k} in each arm"})
        return out

    def _events_view(self, ds: xr.Dataset) -> xr.Dataset:
        # rows of replications an incomplete run has not written: nothing finite in any arm or variable
        plain = [v for v in ds.data_vars if v not in EVENT_YEARS]
        if not self.complete and plain:
            written = np.zeros(ds.sizes["replication"], bool)
            for v in plain:
                written |= np.isfinite(ds[v].values).reshape(-1, ds.sizes["replication"]).any(axis=0)
            ds = ds.isel(replication=np.flatnonzero(written))
        for ev, year in EVENT_YEARS.items():
            if ev in ds:
                ds[ev].attrs["comment"] = (f"NaN: never within the {self.n_years} simulated years (the file stores "
                                           f"{self.n_years}); -1: already at the start")
                ds[year] = xr.DataArray(self.event_year(ds[ev].values), dims=ds[ev].dims, attrs={
                    "units": "calendar year",
                    "long_name": f"calendar year at whose end {ev} happens (NaN: never; start_year - 1: at the start)"})
        return ds

    # ---- tidy tables ---------------------------------------------------------------------------
    def event_year(self, t) -> np.ndarray:
        """Year index t of an event (-1 start, T or NaN never) as a calendar year (NaN for never).

        t = -1 (already met at the start) becomes start_year - 1, the end of the
        year before the first simulated year (the trajectories' convention).
        """
        t = np.asarray(t, dtype=float)
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(t) & (t < self.n_years), self.start_year + t, np.nan)

    def events(self, arm: str | None = None) -> pd.DataFrame:
        """One row per (arm, replication): dataset("events") as a table. first_active_50, first_active_90,
        first_literacy_90 are year indexes (NaN = never), year_active_50, ... their calendar years.

        ``arm`` is an ordered categorical (baseline first). Rows of replications an
        incomplete run never wrote are left out.
        """
        ds = self.dataset("events")
        if arm is not None:
            self._check_arm(arm)
            ds = ds.sel(arm=[arm])
        df = ds.drop_vars([c for c in ds.coords if c not in ("arm", "replication")]).to_dataframe().reset_index()
        df["arm"] = pd.Categorical(df["arm"], categories=self.arms, ordered=True)
        return df

    def values(self, arm: str, var: str, *, cumulative: bool = False, diff: bool = False) -> xr.DataArray:
        """One series (replication, year); optionally summed over the years so far (cumulative) and/or
        as the paired difference arm - baseline (same replication)."""
        x = self.series(arm)[var]
        if diff:
            x = x - self.series(self.baseline)[var]
        if cumulative:
            x = x.fillna(0).cumsum("year").where(x.notnull())
        x.attrs = dict(self.series(arm)[var].attrs)
        if cumulative:
            x.attrs["long_name"] = "cumulative " + x.attrs.get("long_name", var)
        return x

    def band(self, arm: str, var: str, levels=(0.05, 0.25, 0.5, 0.75, 0.95), *, cumulative: bool = False,
             diff: bool = False) -> xr.DataArray:
        """Quantiles across replications of a series (quantile, year), NaN-aware.

        Quantiles are numpy's default (linear), as the engine's stats and diff groups.
        """
        x = self.values(arm, var, cumulative=cumulative, diff=diff)
        with np.errstate(all="ignore"):
            q = np.nanquantile(x.values, list(levels), axis=0) if x.notnull().any() else \
                np.full((len(levels), x.sizes["year"]), np.nan)
        return xr.DataArray(q, coords={"quantile": list(levels), "year": x["year"].values},
                            dims=("quantile", "year"), attrs=x.attrs, name=var)

    def headline(self, levels=(0.05, 0.95)) -> pd.DataFrame:
        """One row per arm (index 'arm', baseline first), from dataset("series") and dataset("events").

        For active_share, literacy and hunger_share in the final year: the mean across
        replications and its quantiles (columns <var>, <var>_q05, <var>_q95 for the default
        levels). year_active_50: the median calendar year by which the active share has
        reached 0.5 (the ECDF's crossing of 1/2; NaN if over half the replications never
        reach it), with quantiles; never_active_50: the share of replications that never do.
        famine_deaths_total and state_cost_total (over all years): mean and quantiles.
        """
        lo, hi = levels
        T = self.n_years
        final = self.dataset("series")[["active_share", "literacy", "hunger_share"]].isel(year=-1)
        ev = self.dataset("events")
        cols: dict[str, np.ndarray] = {}

        def spread(name, v):  # v: (arm, replication)
            with np.errstate(all="ignore"):
                cols[name] = np.nanmean(v, axis=1) if v.shape[1] else np.full(v.shape[0], np.nan)
                q = np.nanquantile(v, [lo, hi], axis=1) if v.shape[1] else np.full((2, v.shape[0]), np.nan)
            cols[f"{name}_{_tag(lo)}"], cols[f"{name}_{_tag(hi)}"] = q

        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            for var in ("active_share", "literacy", "hunger_share"):
                spread(var, final[var].values)
            t = ev["first_active_50"].values
            never = np.isnan(t)
            t = np.where(never, T, t)  # never is later than every year: the median is still defined
            yq = (np.quantile(t, [0.5, lo, hi], method="inverted_cdf", axis=1) if t.shape[1]
                  else np.full((3, t.shape[0]), np.nan))
            for name, row in zip(("year_active_50", f"year_active_50_{_tag(lo)}", f"year_active_50_{_tag(hi)}"), yq):
                cols[name] = self.event_year(row)
            cols["never_active_50"] = never.mean(axis=1) if t.shape[1] else np.full(t.shape[0], np.nan)
            for var in ("famine_deaths_total", "state_cost_total"):
                spread(var, ev[var].values)
        df = pd.DataFrame(cols, index=pd.Index(self.arms, name="arm"))
        df.attrs.update(final_year=int(self.years[-1]), replications=self.replications, levels=tuple(levels))
        return df

    def _diff_variables(self) -> set:
        return _variable_names(self.path, f"arms/{self.others[0]}/diff")

    #: compare(): the quantities (final year of a series, or an event)
    COMPARE = ("active_share", "literacy", "hunger_share", "first_active_50", "famine_deaths_total",
               "state_cost_total")

    def compare(self, level: float = 0.95, *, z: float | None = None) -> pd.DataFrame:
        """Paired differences arm - baseline from dataset("diff"), tidy: one row per (arm, quantity).

        Quantities: active_share, literacy, hunger_share (final year; units "1", a share: x 100 for
        percentage points), first_active_50 (years; negative = earlier than the baseline; a replication
        that never reaches 0.5 counts as year index T, so this mean is censored), famine_deaths_total,
        state_cost_total. Columns: mean, se, n (replications), ci_low, ci_high (mean -/+ t se, a `level`
        interval from Student's t with n - 1 degrees of freedom: right for few replications; z= gives a
        fixed multiplier instead), q05, q50, q95 (quantiles of the per-replication difference), units.
        """
        if not self.others:
            return pd.DataFrame(columns=["arm", "quantity", "mean", "se", "n", "ci_low", "ci_high", "q05", "q50",
                                         "q95", "units"])
        d = self.dataset("diff", variables=[f"{v}{s}" for v in self.COMPARE for s in ("_mean", "_se", "_n",
                                                                                      "_quantiles")
                                            if f"{v}{s}" in self._diff_variables()])
        n_written = int(self._attrs.get("replications_written", self.replications))
        rows = []
        for var in self.COMPARE:
            m, se, q = d[f"{var}_mean"], d[f"{var}_se"], d[f"{var}_quantiles"]
            if "year" in m.dims:
                m, se, q = (x.isel(year=-1) for x in (m, se, q))
                n = d[f"{var}_n"].isel(year=-1).values.astype(float)
            else:
                n = np.full(m.sizes["arm"], float(n_written))
            mult = np.full(n.shape, z, dtype=float) if z is not None else t_quantile(level, n)
            units = "years" if var.startswith("first_") else d[f"{var}_mean"].attrs.get("units")
            levels = [f"q{round(float(lv) * 100):02d}" for lv in q["quantile"].values]
            for i, a in enumerate(d["arm"].values):
                mi, si = float(m.values[i]), float(se.values[i])
                qs = dict(zip(levels, q.values[i].tolist()))
                rows.append({"arm": a, "quantity": var, "mean": mi, "se": si, "n": int(n[i]),
                             "ci_low": mi - mult[i] * si, "ci_high": mi + mult[i] * si,
                             **{k: qs.get(k, np.nan) for k in ("q05", "q50", "q95")}, "units": units})
        df = pd.DataFrame(rows)
        df["arm"] = pd.Categorical(df["arm"], categories=self.others, ordered=True)
        df["quantity"] = pd.Categorical(df["quantity"], categories=self.COMPARE, ordered=True)
        df = df.sort_values(["arm", "quantity"]).reset_index(drop=True)
        df.attrs.update(level=level, interval="z" if z is not None else "student-t")
        return df


def _variable_names(path, group: str) -> set:
    with h5py.File(path, "r") as f:
        return set(f[group])


def _coop_flags(ds: xr.Dataset):
    """The CF flags of the trajectories' categorical coop (written by the engine from format 1.1)."""
    if "coop" in ds and "flag_values" not in ds["coop"].attrs:
        ds["coop"].attrs["flag_values"] = np.array(list(COOP_STATES), dtype=float)
        ds["coop"].attrs["flag_meanings"] = " ".join(v.replace(" ", "_") for v in COOP_STATES.values())


def _histogram_bounds(ds: xr.Dataset) -> xr.Dataset:
    """CF bounds <name>_bin_bounds (bin, bound) from the edges, for files older than 1.1."""
    for name in list(ds.data_vars):
        b, e = f"{name}_bin", f"{name}_edges"
        if b in ds.coords and e in ds.coords and f"{b}_bounds" not in ds.variables:
            edges = ds[e].values
            ds = ds.assign_coords({f"{b}_bounds": ((b, "bound"), np.stack([edges[:-1], edges[1:]], axis=1),
                                                   {"units": ds[e].attrs.get("units", "")})})
            ds[b].attrs["bounds"] = f"{b}_bounds"
    if "bound" in ds.dims and "bound" not in ds.coords:
        ds = ds.assign_coords(bound=("bound", np.array(["lower", "upper"], dtype=object)))
    return ds


def open_results(path, *, allow_incomplete: bool = False) -> Results:
    """Open and check an artel result file (see Results)."""
    return Results(path, allow_incomplete=allow_incomplete)


__all__ = ["FormatError", "Results", "open_results", "t_quantile", "EVENT_YEARS", "COOP_STATES", "GROUPS",
           "LAZY_GROUPS", "TIME_DIMS"]
