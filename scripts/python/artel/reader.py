"""Read artel result files (format 1.x) into xarray and pandas.

    import artel
    res = artel.open("nep-1923.h5")          # checks the file, one-line FormatError if unusable
    res.arms, res.baseline                   # arm names, baseline first
    res.series("sufficiency")                # xarray.Dataset (replication, year)
    res.events()                             # pandas.DataFrame, one row per arm and replication
    res.headline()                           # one row per arm: the numbers that answer the question

Groups are read with h5py and returned as in-memory xarray Datasets whose
dimensions are the file's dimension scales (the same Dataset
``xr.open_dataset(path, group=..., engine="h5netcdf")`` gives, but several
times faster). Nothing is kept open between calls.
"""
from __future__ import annotations

import posixpath
import tomllib
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import xarray as xr

FORMAT_NAME = "artel-results"
SUPPORTED_MAJOR = 1

#: groups of /arms/<arm>/
GROUPS = ("series", "start", "events", "stats", "diff", "histograms", "trajectories")

#: year-index events and the names of their calendar-year columns in Results.events()
EVENT_YEARS = {
    "first_active_50": "year_active_50",
    "first_active_90": "year_active_90",
    "first_literacy_90": "year_literacy_90",
}

#: meaning of the trajectories' ``coop`` value (MODEL.md section 2)
COOP_STATES = {0: "outside", 1: "passive member", 2: "active member"}

_HIDDEN_ATTRS = {"DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME", "_Netcdf4Dimid", "_Netcdf4Coordinates",
                 "_nc3_strict"}

# Root attributes copied onto every Dataset the reader returns (the run's identity).
_RUN_ATTRS = ("format_version", "engine_version", "git_revision", "seed", "scenario_file", "command_line",
              "created", "replications", "years", "start_year", "baseline", "complete")


class FormatError(ValueError):
    """The file cannot be read as an artel result file. ``str(error)`` is a one-line reason."""


def _py(value):
    """An HDF5 attribute value as a plain Python value (str, int, float, list)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SO":
            return [_py(v) for v in value.tolist()]
        return value.item() if value.ndim == 0 else value
    if isinstance(value, np.generic):
        return value.item()
    return value


def _attrs(obj) -> dict:
    return {k: _py(v) for k, v in obj.attrs.items() if k not in _HIDDEN_ATTRS}


def _values(ds: h5py.Dataset):
    v = ds[()]
    if isinstance(v, np.ndarray) and v.dtype.kind in "SO":
        return np.array([x.decode("utf-8") if isinstance(x, bytes) else x for x in v.ravel()],
                        dtype=object).reshape(v.shape)
    return v


def _attached_scales(ds: h5py.Dataset) -> list:
    out = []
    for d in ds.dims:
        out.append(posixpath.basename(d.values()[0].name) if len(d) else None)
    return out


def _read_group(g: h5py.Group) -> xr.Dataset:
    """One HDF5 group as an xarray.Dataset: dimension scales become coordinates.

    A dataset's dimension is named after the only scale of that length in the
    group when there is one (fast); otherwise after the scale attached to it.
    """
    datasets = [(n, o) for n, o in g.items() if isinstance(o, h5py.Dataset)]
    scales = {n: o for n, o in datasets if _py(o.attrs.get("CLASS", b"")) == "DIMENSION_SCALE" and o.ndim == 1}
    by_len: dict[int, list[str]] = {}
    for n, o in scales.items():
        by_len.setdefault(o.shape[0], []).append(n)
    coords = {n: xr.Variable((n,), _values(o), _attrs(o)) for n, o in scales.items()}
    data_vars = {}
    for n, o in datasets:
        if n in scales:
            continue
        dims, attached = [], None
        for axis, size in enumerate(o.shape):
            cand = by_len.get(size, [])
            if len(cand) == 1:
                dims.append(cand[0])
                continue
            if attached is None:
                attached = _attached_scales(o)
            dims.append(attached[axis] or f"{n}_dim{axis}")
        data_vars[n] = xr.Variable(tuple(dims), _values(o), _attrs(o))
    return xr.Dataset(data_vars, coords, attrs=_attrs(g))


def _check_file(path: Path, allow_incomplete: bool) -> tuple[dict, list[str], dict]:
    """Validate the file; return (root attributes, arm names, {arm: arm attributes})."""
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
            attrs = _attrs(f)
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
                                  f"scripts/python/artel of the engine that wrote the file")
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
                arms = [str(a) for a in _values(f["arm_names"]).tolist()]
            else:  # fall back on the groups, in their written order
                arms = sorted(f["arms"], key=lambda a: _py(f["arms"][a].attrs.get("index", 0)))
            missing = [a for a in arms if a not in f["arms"]]
            if missing:
                raise FormatError(f"{path}: arm(s) {', '.join(missing)} listed in /arm_names have no group")
            arm_attrs = {a: _attrs(f["arms"][a]) for a in arms}
            arm_groups = {a: set(f["arms"][a]) for a in arms}
    except FormatError:
        raise
    except OSError as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise FormatError(f"{path}: cannot be read as HDF5 ({reason})") from None
    for a in arms:
        arm_attrs[a]["_groups"] = arm_groups[a]
    return attrs, arms, arm_attrs


class Results:
    """An artel result file, checked on opening; data is read on demand and cached.

    Raises FormatError (one line) if the file is not HDF5, not an artel result
    file, of an unsupported major format version, or incomplete (unless
    ``allow_incomplete=True``).
    """

    def __init__(self, path, *, allow_incomplete: bool = False):
        self.path = Path(path)
        self._attrs, self._arms, self._arm_attrs = _check_file(self.path, allow_incomplete)
        self._cache: dict[tuple[str, str], xr.Dataset] = {}
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

    def policy(self, arm: str) -> dict:
        """Every policy key's value in this arm: the scenario's [policy] with the arm's overrides."""
        return {**self.config.get("policy", {}), **self.overrides(arm)}

    def variables(self, group: str = "series") -> dict[str, str]:
        """{name: 'long_name [units]'} of a group's variables (of the baseline arm)."""
        ds = self._group(self.baseline if group != "diff" else self.others[0], group)
        return {k: f"{v.attrs.get('long_name', k)} [{v.attrs.get('units', '-')}]" for k, v in ds.data_vars.items()}

    # ---- groups --------------------------------------------------------------------------------
    def _check_arm(self, arm: str):
        if arm not in self._arms:
            raise KeyError(f"no arm {arm!r} in {self.path}; arms: {', '.join(self._arms)}")

    def _group(self, arm: str, group: str) -> xr.Dataset:
        self._check_arm(arm)
        key = (arm, group)
        if key not in self._cache:
            if group not in self._arm_attrs[arm]["_groups"]:
                why = ("the baseline has no paired difference" if group == "diff" and arm == self.baseline
                       else "absent from the file" + ("" if self.complete else " (incomplete run)"))
                raise KeyError(f"arms/{arm}/{group}: {why}")
            with h5py.File(self.path, "r") as f:
                ds = _read_group(f[f"arms/{arm}/{group}"])
            ds.attrs.update({k: self._attrs[k] for k in _RUN_ATTRS if k in self._attrs})
            ds.attrs["arm"] = arm
            ds.attrs["overrides"] = self._arm_attrs[arm].get("overrides", "")
            ds.attrs["group"] = group
            self._cache[key] = ds
        return self._cache[key].copy()

    def group(self, arm: str, group: str) -> xr.Dataset:
        """Any group of /arms/<arm>/ (one of GROUPS) as an xarray.Dataset, e.g. group(arm, "events")."""
        if group not in GROUPS:
            raise KeyError(f"no group {group!r}; groups: {', '.join(GROUPS)}")
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
        if "coop" in ds:
            ds["coop"].attrs["flag_values"] = np.array(list(COOP_STATES))
            ds["coop"].attrs["flag_meanings"] = " ".join(v.replace(" ", "_") for v in COOP_STATES.values())
        return ds

    # ---- tidy tables ---------------------------------------------------------------------------
    def event_year(self, t) -> np.ndarray:
        """Year index t of an event (-1 start, T never) as a calendar year (NaN for never).

        t = -1 (already met at the start) becomes start_year - 1, the end of the
        year before the first simulated year (the trajectories' convention).
        """
        t = np.asarray(t, dtype=float)
        return np.where(np.isfinite(t) & (t < self.n_years), self.start_year + t, np.nan)

    def events(self, arm: str | None = None) -> pd.DataFrame:
        """One row per (arm, replication): the events group, plus calendar-year columns
        year_active_50, year_active_90, year_literacy_90 (NaN = never reached).

        ``arm`` is an ordered categorical (baseline first). Rows of replications an
        incomplete run never wrote are left out.
        """
        frames = []
        for a in (self.arms if arm is None else [arm]):
            ev = self._group(a, "events")
            df = pd.DataFrame({k: ev[k].values for k in ev.data_vars})
            df.insert(0, "replication", ev["replication"].values)
            written = df.drop(columns="replication").notna().any(axis=1)
            df = df[written]
            for col, ycol in EVENT_YEARS.items():
                if col in df:
                    df[ycol] = self.event_year(df[col].to_numpy())
            df.insert(0, "arm", a)
            frames.append(df)
        out = pd.concat(frames, ignore_index=True)
        out["arm"] = pd.Categorical(out["arm"], categories=self.arms, ordered=True)
        return out

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
        """One row per arm (index 'arm', baseline first).

        For active_share, literacy and hunger_share in the final year: the mean across
        replications and its quantiles (columns <var>, <var>_q05, <var>_q95 for the default
        levels). year_active_50: the median calendar year by which the active share has
        reached 0.5 (the ECDF's crossing of 1/2; NaN if over half the replications never
        reach it), with quantiles; never_active_50: the share of replications that never do.
        famine_deaths_total and state_cost_total (over all years): mean and quantiles.
        """
        lo, hi = levels
        tag = lambda q: f"q{round(q * 100):02d}"
        rows = []
        final = self.years[-1]
        for a in self.arms:
            s = self.series(a).sel(year=final)
            row = {"arm": a}
            for var in ("active_share", "literacy", "hunger_share"):
                v = s[var].values
                v = v[np.isfinite(v)]
                row[var] = v.mean() if v.size else np.nan
                row[f"{var}_{tag(lo)}"], row[f"{var}_{tag(hi)}"] = (np.quantile(v, [lo, hi]) if v.size
                                                                    else (np.nan, np.nan))
            ev = self.events(a)
            t = ev["first_active_50"].to_numpy()
            # inverted-CDF quantiles of the year index; T (never) is larger than every year
            yq = np.quantile(t, [0.5, lo, hi], method="inverted_cdf") if t.size else [np.nan] * 3
            row["year_active_50"], row[f"year_active_50_{tag(lo)}"], row[f"year_active_50_{tag(hi)}"] = \
                self.event_year(yq)
            row["never_active_50"] = float(np.mean(t >= self.n_years)) if t.size else np.nan
            for var in ("famine_deaths_total", "state_cost_total"):
                v = ev[var].to_numpy()
                row[var] = v.mean() if v.size else np.nan
                row[f"{var}_{tag(lo)}"], row[f"{var}_{tag(hi)}"] = (np.quantile(v, [lo, hi]) if v.size
                                                                    else (np.nan, np.nan))
            rows.append(row)
        df = pd.DataFrame(rows).set_index("arm")
        df.attrs.update(final_year=int(final), replications=self.replications, levels=tuple(levels))
        return df

    def compare(self, z: float = 1.96) -> pd.DataFrame:
        """Paired differences arm - baseline from the diff groups, tidy: one row per (arm, quantity).

        Quantities: active_share, literacy, hunger_share (final year), first_active_50 (years;
        negative = earlier than the baseline; a replication that never reaches 0.5 counts as year T),
        famine_deaths_total, state_cost_total. Columns: mean, se, ci_low, ci_high (mean -/+ z se,
        95% by default), q05, q50, q95 (quantiles of the per-replication difference), units.
        """
        rows = []
        for a in self.others:
            d = self.diff(a)
            for var in ("active_share", "literacy", "hunger_share", "first_active_50", "famine_deaths_total",
                        "state_cost_total"):
                m, se, q = d[f"{var}_mean"], d[f"{var}_se"], d[f"{var}_quantiles"]
                if "year" in m.dims:
                    m, se, q = (x.isel(year=-1) for x in (m, se, q))
                m, se = float(m), float(se)
                qs = {f"q{round(float(l) * 100):02d}": float(v) for l, v in zip(q["quantile"].values, q.values)}
                rows.append({"arm": a, "quantity": var, "mean": m, "se": se, "ci_low": m - z * se,
                             "ci_high": m + z * se, **{k: qs.get(k, np.nan) for k in ("q05", "q50", "q95")},
                             "units": "years" if var.startswith("first_") else d[f"{var}_mean"].attrs.get("units")})
        df = pd.DataFrame(rows)
        if not df.empty:
            df["arm"] = pd.Categorical(df["arm"], categories=self.others, ordered=True)
        return df


def open_results(path, *, allow_incomplete: bool = False) -> Results:
    """Open and check an artel result file (see Results)."""
    return Results(path, allow_incomplete=allow_incomplete)


__all__ = ["FormatError", "Results", "open_results", "EVENT_YEARS", "COOP_STATES", "GROUPS"]
