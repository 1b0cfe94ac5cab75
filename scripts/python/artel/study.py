"""Several result files of one study as one xarray Dataset.

    study = artel.open_study(["bonus-0.h5", "bonus-2.h5", "bonus-5.h5"])   # runs with --set policy.bonus=...
    study.parameters                       # the parameters that differ between the files, one row per file
    ds = study.dataset("diff")             # (policy.bonus, arm, year) / (policy.bonus, arm, quantile, year)

Files are comparable when they come from the same engine series (the major
version; for 0.x the minor too, as semantic versioning has it), have the same
arms in the same order, and share their random numbers: the same seed, so
that replication r is the same history of weather and households in every
file and differences between files are paired as differences between arms
are. Anything else is refused with a message that names the files and what
differs.

How they combine depends on what differs between their resolved scenarios:

* parameters (``--set`` values, a sweep over files, arm overrides): a new
  dimension. With one differing parameter it is that parameter, named by its
  key (``policy.bonus``, ``arm.sufficiency.reserve_levy``); with several it is
  ``run`` (0, 1, ...) and every differing parameter is a coordinate along it.
  A ``file`` coordinate names each file.
* nothing but the replications (replication ranges of one run): the files'
  replications are concatenated (their replication indices must not
  overlap: an index names one history), and "stats" and "diff" are computed
  again from the combined replications with the engine's definitions
  (summarise()).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from .reader import EVENT_YEARS, FormatError, Results

#: scenario keys that never make files different studies: output options only decide what is written
IGNORED_PREFIXES = ("output.",)
#: quantile levels of the engine's stats and diff groups
LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)


def engine_series(version: str) -> str:
    """The part of an engine version within which result files are comparable: the major version, and for
    0.x the minor as well (semantic versioning: before 1.0 a minor version may change anything)."""
    parts = str(version).split(".")
    return ".".join(parts[:2]) if parts[0] == "0" else parts[0]


def flatten(config: dict) -> dict:
    """A resolved scenario as {dotted key: value}; the arms' keys as arm.<name>.<key>."""
    out = {}

    def walk(prefix, d):
        for k, v in d.items():
            if isinstance(v, dict):
                walk(f"{prefix}{k}.", v)
            else:
                out[prefix + k] = v

    cfg = dict(config)
    arms = cfg.pop("arm", [])
    walk("", cfg)
    for arm in arms:
        arm = dict(arm)
        walk(f"arm.{arm.pop('name', '?')}.", arm)
    return out


def summarise(ds: xr.Dataset, dim: str = "replication", levels=LEVELS) -> xr.Dataset:
    """Across `dim`, what the engine's stats group holds for every variable: <v>_mean, <v>_se (sd with
    n - 1 / sqrt(n)), <v>_n (finite values) and <v>_quantiles (linear, over the finite values)."""
    out = {}
    for name, x in ds.data_vars.items():
        if dim not in x.dims:
            continue
        x = x.astype(float)
        n = x.notnull().sum(dim)
        mean = x.mean(dim, skipna=True)
        sd = x.std(dim, ddof=1, skipna=True)
        units = x.attrs.get("units", "")
        out[f"{name}_mean"] = mean.assign_attrs(units=units, long_name=f"mean of {name} across {dim}s")
        out[f"{name}_se"] = (sd / np.sqrt(n)).where(n > 1).assign_attrs(
            units=units, long_name=f"standard error of the mean of {name}")
        out[f"{name}_n"] = n.astype(np.int64).assign_attrs(units="replications", long_name="finite values")
        q = x.quantile(list(levels), dim, skipna=bool(x.isnull().any()))  # numpy's NaN-aware quantile is slow
        q = q.transpose(*[d for d in ("arm",) if d in q.dims], "quantile", ...)  # the engine's order
        out[f"{name}_quantiles"] = q.assign_attrs(units=units, long_name=f"quantiles of {name} across {dim}s")
    res = xr.Dataset(out)
    res["quantile"].attrs.update(units="1", long_name="quantile level")
    return res


class Study:
    """Result files of one study, checked to be comparable (see the module's documentation)."""

    def __init__(self, files, *, allow_incomplete: bool = False):
        self.results = [f if isinstance(f, Results) else Results(f, allow_incomplete=allow_incomplete)
                        for f in files]
        if not self.results:
            raise ValueError("open_study: no files given")
        self._check()
        flat = [flatten(r.config) for r in self.results]
        keys = dict.fromkeys(k for f in flat for k in f)
        self.differing = [k for k in keys if not k.startswith(IGNORED_PREFIXES) and k != "run.replications"
                          and len({repr(f.get(k)) for f in flat}) > 1]
        self._values = {k: [f.get(k) for f in flat] for k in self.differing}
        if not self.differing:
            self.dim = "replication"
        elif len(self.differing) == 1 and len(set(map(repr, self._values[self.differing[0]]))) == len(flat):
            self.dim = self.differing[0]
        else:
            self.dim = "run"
        if self.dim == "replication":
            self._check_replications()

    def __repr__(self):
        how = ("replications concatenated" if self.dim == "replication"
               else f"along {self.dim!r}; differing: {', '.join(self.differing)}")
        return f"<artel.Study {len(self.results)} files, {how}>"

    @property
    def files(self) -> list[Path]:
        return [r.path for r in self.results]

    @property
    def parameters(self):
        """pandas.DataFrame: one row per file (index: the file), a column per differing parameter."""
        import pandas as pd
        return pd.DataFrame(self._values, index=pd.Index([str(p) for p in self.files], name="file"))

    def _check(self):
        first = self.results[0]
        for r in self.results[1:]:
            pair = f"{first.path} and {r.path}"
            a, b = first.attrs.get("engine_version", "?"), r.attrs.get("engine_version", "?")
            if engine_series(a) != engine_series(b):
                raise FormatError(f"{pair} are not comparable: written by artel {a} and artel {b} (engine series "
                                  f"{engine_series(a)} and {engine_series(b)}: the model may differ); rerun one "
                                  f"of them with the other's engine")
            if r.arms != first.arms:
                raise FormatError(f"{pair} are not comparable: different arms ({', '.join(first.arms)} against "
                                  f"{', '.join(r.arms)}); a study's files have the same arms in the same order")
            if first.attrs.get("seed") != r.attrs.get("seed"):
                raise FormatError(f"{pair} are not comparable: seeds {first.attrs.get('seed')} and "
                                  f"{r.attrs.get('seed')}, so replication r is a different history in each and "
                                  f"differences between the files would not be paired; run them with the same "
                                  f"--seed (and more histories with --replications)")
            if (first.start_year, first.n_years) != (r.start_year, r.n_years):
                raise FormatError(f"{pair} are not comparable: years {first.years[0]}-{first.years[-1]} and "
                                  f"{r.years[0]}-{r.years[-1]}")

    @staticmethod
    def _replication_index(r: Results) -> np.ndarray:
        return r.dataset("events")["replication"].values

    def _check_replications(self):
        seen: dict[int, Path] = {}
        for r in self.results:
            for i in self._replication_index(r):
                if int(i) in seen:
                    raise FormatError(
                        f"{seen[int(i)]} and {r.path} hold the same scenario with the same seed and both have "
                        f"replication {int(i)} (the same history): nothing to combine; a study's files differ in "
                        f"parameters (--set) or hold disjoint replication ranges")
                seen[int(i)] = r.path

    def dataset(self, group: str) -> xr.Dataset:
        """One group of every file and arm in one Dataset: along the study's new dimension (see the module),
        or, for replication ranges of one run, with the replications concatenated."""
        if self.dim == "replication":
            return self._concat_replications(group)
        parts = [r.dataset(group).load() for r in self.results]
        # the policy coordinates along arm are made again over every file and arm (a key may vary in one file
        # and not in another)
        parts = [p.drop_vars([c for c in p.coords if p[c].dims == ("arm",) and c != "arm"]) for p in parts]
        values = self._values[self.dim] if self.dim != "run" else list(range(len(parts)))
        ds = xr.concat(parts, dim=self.dim, join="outer", combine_attrs="drop_conflicts", coords="minimal",
                       compat="override")
        ds = ds.assign_coords({self.dim: (self.dim, np.array(values), {"long_name": self._long_name(self.dim)})})
        if self.dim == "run":
            ds = ds.assign_coords({k: ("run", np.array(v), {"long_name": self._long_name(k)})
                                   for k, v in self._values.items()})
        arms = list(ds["arm"].values)
        pol = [[r.policy(a) for a in arms] for r in self.results]
        for k in dict.fromkeys(k for row in pol for p in row for k in p):
            v = [[p.get(k) for p in row] for row in pol]
            flat = [x for row in v for x in row]
            if k in ds.variables or any(x is None or isinstance(x, (dict, list)) for x in flat) or len(set(flat)) < 2:
                continue
            varies = len({tuple(row) for row in v}) > 1
            ds = ds.assign_coords({k: ((self.dim, "arm"), np.array(v)) if varies else ("arm", np.array(v[0]))})
        ds = ds.assign_coords(file=(self.dim, np.array([str(p) for p in self.files], dtype=object)))
        ds.attrs["study_dim"] = self.dim
        return ds

    @staticmethod
    def _long_name(key: str) -> str:
        return "run of the study (one file each)" if key == "run" else f"scenario parameter {key} (--set {key}=...)"

    def _concat_replications(self, group: str) -> xr.Dataset:
        if group in ("stats", "diff"):
            return self._restat(group)
        parts = [r.dataset(group).load() for r in self.results]
        if "replication" not in parts[0].dims:
            raise FormatError(f"{group!r} has no replication dimension: it cannot be combined over replication "
                              f"ranges (histograms are sums over replications: add them up with "
                              f"sum of the files' datasets)")
        ds = xr.concat(parts, dim="replication", combine_attrs="drop_conflicts", coords="minimal", compat="override")
        file = np.concatenate([[str(r.path)] * p.sizes["replication"] for r, p in zip(self.results, parts)])
        return ds.assign_coords(file=("replication", file.astype(object))).sortby("replication")

    def _restat(self, group: str) -> xr.Dataset:
        """stats / diff of the combined replications, as the engine computes them (summarise)."""
        base = self.results[0].baseline
        series = self._concat_replications("series")
        ev = self._concat_replications("events")
        T = self.results[0].n_years
        ev = ev.drop_vars([v for v in EVENT_YEARS.values() if v in ev])
        for v in EVENT_YEARS:  # the engine's statistics count 'never' as year index T
            if v in ev:
                ev[v] = ev[v].fillna(T)
        parts = []
        for data in (series, ev):
            data = data.drop_vars([c for c in data.coords if c not in data.dims])
            if group == "diff":
                with xr.set_options(keep_attrs=True):
                    data = (data - data.sel(arm=base)).drop_sel(arm=base)
            parts.append(summarise(data))
        ds = xr.merge(parts)
        ds.attrs = {**self.results[0].dataset(group).attrs, "replications": int(series.sizes["replication"]),
                    "combined_from": [str(p) for p in self.files]}
        return ds


def open_study(files, *, allow_incomplete: bool = False) -> Study:
    """Open and check the result files of one study (see Study)."""
    return Study(files, allow_incomplete=allow_incomplete)


def combine(files, group: str) -> xr.Dataset:
    """open_study(files).dataset(group)."""
    return Study(files).dataset(group)
