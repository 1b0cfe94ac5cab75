"""res.dataset(group): every arm in one xarray Dataset, equal value for value to the file's per-arm groups;
lazily read where large; generic over group names; the same from a format 1.0 file; summarise() as the
engine's statistics."""
import shutil

import h5py
import numpy as np
import pytest
import xarray as xr
from xarray.core import indexing

import artel
from artel import GROUPS

ARMS = ["nep-1923", "free-market", "bonus-verified", "cultural-revolution", "sufficiency"]


@pytest.fixture(scope="module")
def res(small_run):
    return artel.open(small_run)


@pytest.mark.parametrize("group", GROUPS)
def test_all_arms_equal_the_per_arm_groups(res, group):
    """dataset(group).sel(arm=a) holds exactly the values of /arms/<a>/<group> (as h5netcdf reads it)."""
    ds = res.dataset(group)
    arms = ARMS[1:] if group == "diff" else ARMS
    assert list(ds["arm"].values) == arms and ds[list(ds.data_vars)[0]].dims[0] == "arm"
    renamed = {"time": "year", "histogram_year": "year"}
    for a in arms:
        g = res.group(a, group)
        for name in g.data_vars:
            mine = ds[name].sel(arm=a) if "arm" in ds[name].dims else ds[name]
            assert mine.dims == tuple(renamed.get(d, d) for d in g[name].dims), (a, name)
            np.testing.assert_array_equal(mine.values, g[name].values, err_msg=f"{a} {group}/{name}")
            assert mine.attrs.get("units") == g[name].attrs.get("units"), name
        for c in g.coords:
            np.testing.assert_array_equal(ds[renamed.get(c, c)].values, g[c].values, err_msg=c)


def test_series_lazy_and_sliced(res, small_run):
    ds = res.dataset("series")
    assert dict(ds.sizes) == {"arm": 5, "replication": 3, "year": 20}
    data = ds["active_share"].variable._data
    assert isinstance(data, indexing.LazilyIndexedArray), type(data)  # nothing read yet
    one = ds["active_share"].sel(arm="sufficiency", year=1932)
    np.testing.assert_array_equal(one.values, res.series("sufficiency")["active_share"].sel(year=1932).values)
    rev = ds["state_cost"].isel(arm=[4, 0], year=slice(None, None, -1)).values
    np.testing.assert_array_equal(rev[1], res.series("nep-1923")["state_cost"].values[:, ::-1])
    # no handle stays open: the file can be opened for writing at once
    with h5py.File(small_run, "r+"):
        pass
    # xarray idioms on the arm dimension
    q = ds["active_share"].quantile([0.05, 0.5, 0.95], "replication")
    assert q.dims == ("quantile", "arm", "year")
    df = ds[["active_share", "state_cost"]].isel(year=-1).to_dataframe()
    assert len(df) == 5 * 3 and {"active_share", "state_cost"} <= set(df.columns)


def test_arm_coordinates_and_time_name(res):
    ds = res.dataset("stats")
    assert list(ds["bonus"].values) == [0.0, 0.0, 5.0, 5.0, 5.0]  # a policy key that differs between arms
    assert list(ds["reserve_levy"].values) == [0, 0, 0, 0, 0.05]
    assert "seed" in ds.attrs and ds.attrs["group"] == "stats"
    d = res.dataset("diff")
    long_name = d["active_share_mean"].attrs["long_name"]
    assert "paired difference arm \u2212 baseline (baseline nep-1923" in long_name and "free-market" not in long_name
    assert "(free-market \u2212 nep-1923, same replication)" in res.diff("free-market")["active_share_mean"].attrs[
        "long_name"]
    t = res.dataset("trajectories")
    assert t["year"].values[0] == 1922 and t["year"].values[-1] == 1942 and "time" not in t.dims
    assert t["coop"].attrs["flag_meanings"] == "outside passive_member active_member"
    assert t["cash"].attrs["units"] == "roubles"
    h = res.dataset("histograms")
    assert list(h["year"].values) == [1923, 1927, 1932, 1942]
    assert h["wealth"].dims == ("arm", "year", "wealth_bin")
    b = h["wealth_bin_bounds"]
    assert b.dims == ("wealth_bin", "bound") and h["wealth_bin"].attrs["bounds"] == "wealth_bin_bounds"
    np.testing.assert_array_equal(b.values[:, 0], h["wealth_edges"].values[:-1])
    np.testing.assert_array_equal(b.values[:, 1], h["wealth_edges"].values[1:])


def test_events_never_is_missing(res):
    ev = res.dataset("events")
    raw = np.stack([h5py.File(res.path)[f"arms/{a}/events/first_active_90"][()] for a in ARMS])
    never = raw == res.n_years
    assert never.any(), "the small run has events that never happen"
    np.testing.assert_array_equal(np.isnan(ev["first_active_90"].values), never)
    np.testing.assert_array_equal(ev["first_active_90"].values[~never], raw[~never])
    np.testing.assert_array_equal(np.isnan(ev["year_active_90"].values), never)
    assert ev["first_active_90"].encoding["missing_value"] == res.n_years
    # the file says so, for any CF reader
    with h5py.File(res.path) as f:
        assert f["arms/nep-1923/events/first_active_90"].attrs["missing_value"] == res.n_years
        assert "never" in f["arms/nep-1923/stats/first_active_90_mean"].attrs["comment"]
    x = xr.open_dataset(res.path, group="arms/nep-1923/events", engine="h5netcdf")
    np.testing.assert_array_equal(np.isnan(x["first_active_90"].values), never[0])


def test_groups_by_any_name(small_run, tmp_path):
    """Groups the format will gain (/uncertainty, /arms/<arm>/sensitivity) are read when present, and their
    absence is a clear KeyError."""
    res = artel.open(small_run)
    with pytest.raises(KeyError, match=r"no group 'uncertainty'.*prior.*series, start, events"):
        res.dataset("uncertainty")
    path = tmp_path / "more.h5"
    shutil.copyfile(small_run, path)
    with h5py.File(path, "r+") as f:
        u = f.create_group("uncertainty")
        rep = u.create_dataset("replication", data=np.arange(3))
        rep.make_scale("replication")
        for name in ("failure_prob", "literacy0"):
            d = u.create_dataset(name, data=np.linspace(0.1, 0.2, 3))
            d.dims[0].attach_scale(rep)
        u["failure_prob"].attrs["prior"] = "beta(3, 17)"
        for i, arm in enumerate(ARMS):
            s = f[f"arms/{arm}"].create_group("sensitivity")
            p = s.create_dataset("parameter", data=np.array([b"failure_prob", b"literacy0"], dtype=object),
                                 dtype=h5py.string_dtype())
            p.make_scale("parameter")
            d = s.create_dataset("first_order", data=np.array([0.5, 0.1]) + i)
            d.dims[0].attach_scale(p)
    res = artel.open(path)
    u = res.dataset("uncertainty")
    assert "arm" not in u.dims and dict(u.sizes) == {"replication": 3}
    assert u["failure_prob"].attrs["prior"] == "beta(3, 17)"
    s = res.dataset("sensitivity")
    assert s["first_order"].dims == ("arm", "parameter") and list(s["parameter"].values) == ["failure_prob",
                                                                                              "literacy0"]
    np.testing.assert_array_equal(s["first_order"].sel(arm="free-market").values, [1.5, 1.1])
    assert "sensitivity" in res.groups() and "uncertainty" in res.groups()


def as_format_1_0(src, dst):
    """A copy of a 1.1 file as format 1.0 wrote it: no 1.1 attributes, no bounds datasets."""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        f.attrs["format_version"], f.attrs["format_minor"] = "1.0", np.int64(0)
        for k in ("Conventions", "title", "source", "history"):
            del f.attrs[k]
        for arm in ARMS:
            ev = f[f"arms/{arm}/events"]
            for v in ev.values():
                for k in ("missing_value", "comment"):
                    if k in v.attrs:
                        del v.attrs[k]
            h = f[f"arms/{arm}/histograms"]
            for name in ("wealth", "grain", "literacy"):
                del h[f"{name}_bin_bounds"]
                del h[f"{name}_bin"].attrs["bounds"]
            del h["bound"]
    return dst


def test_reads_format_1_0(res, small_run, tmp_path):
    old = artel.open(as_format_1_0(small_run, tmp_path / "v1_0.h5"))
    assert old.format_version == "1.0"
    import pandas as pd
    pd.testing.assert_frame_equal(old.headline(), res.headline())
    pd.testing.assert_frame_equal(old.compare(), res.compare())
    pd.testing.assert_frame_equal(old.events(), res.events())
    for group in ("events", "histograms", "trajectories"):
        a, b = old.dataset(group), res.dataset(group)
        xr.testing.assert_equal(a, b)


def test_summarise_is_the_engines_statistics(res):
    """artel.summarise over replications gives the stats group's values (the same definitions)."""
    series = res.dataset("series").load()
    s = artel.summarise(series.drop_vars([c for c in series.coords if c not in series.dims]))
    e = res.dataset("stats")
    for v in ("active_share", "state_cost", "coop_sales_share", "famine_deaths"):
        for stat in ("_mean", "_se", "_n", "_quantiles"):
            assert s[v + stat].dims == e[v + stat].dims
            np.testing.assert_allclose(s[v + stat].values, e[v + stat].values, rtol=1e-12, atol=1e-15,
                                       err_msg=v + stat)
