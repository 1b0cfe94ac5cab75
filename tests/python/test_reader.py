"""The artel Python package's reader (installed from scripts/python, see conftest.py) on a real small run:
the file's groups, the all-arms datasets, the tidy tables, reading format 1.0, and the refusals."""
import shutil

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import artel
from artel import info

ARMS = ["nep-1923", "free-market", "bonus-verified", "cultural-revolution", "sufficiency"]
YEARS = list(range(1923, 1943))


@pytest.fixture(scope="module")
def res(small_run):
    return artel.open(small_run)


def copy_with(src, dst, **root_attrs):
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        for k, v in root_attrs.items():
            f.attrs[k] = v
    return dst


# ---- the run -----------------------------------------------------------------------------------

def test_metadata(res):
    assert res.arms == ARMS and res.baseline == "nep-1923" and res.others == ARMS[1:]
    assert res.replications == 3 and res.n_years == 20 and res.start_year == 1923
    assert list(res.years) == YEARS
    assert res.complete and res.format_version.startswith("1.")
    assert res.attrs["format"] == "artel-results" and res.attrs["seed"] == 19230104
    assert res.attrs["Conventions"] == "CF-1.8" and "nep-1923.toml" in res.attrs["title"]
    assert res.attrs["command_line"] in res.attrs["history"]
    assert "[[arm]]" in res.scenario
    assert res.config["run"]["seed"] == 19230104
    assert res.config["population"]["villages"] == 24 and res.config["population"]["households"] == 40
    assert [a["name"] for a in res.config["arm"]] == ARMS
    # keys that follow a base parameter name it (configs/README.md)
    assert res.overrides("free-market") == {"rate_coop": "economy.rate_private",
                                            "credit_limit_coop": "economy.credit_limit_private", "coop_aid": 0.0}
    assert res.overrides("nep-1923") == {}
    assert res.policy("sufficiency")["reserve_levy"] == 0.05
    assert res.policy("nep-1923")["reserve_levy"] == 0.0
    assert "5 arms x 3 replications" in repr(res)
    assert "active_share" in res.variables()


def test_series(res):
    ds = res.series("sufficiency")
    assert dict(ds.sizes) == {"replication": 3, "year": 20}
    assert list(ds["year"].values) == YEARS
    assert ds["active_share"].dims == ("replication", "year")
    assert ds["active_share"].attrs["units"] == "1"
    assert ds["state_cost"].attrs["units"] == "roubles"
    assert ds["year"].attrs["units"] == "calendar year"
    assert ds.attrs["arm"] == "sufficiency" and ds.attrs["baseline"] == "nep-1923"
    assert ds.attrs["seed"] == 19230104 and ds.attrs["start_year"] == 1923
    assert "reserve_levy = 0.05" in ds.attrs["overrides"] and "[[arm]]" in ds.attrs["scenario"]
    assert np.isfinite(ds["active_share"].values).all()
    # the cache hands out copies: changing one does not change the next
    ds.attrs["arm"] = "changed"
    assert res.series("sufficiency").attrs["arm"] == "sufficiency"


@pytest.mark.parametrize("group", ["series", "start", "events", "stats", "diff", "histograms", "trajectories"])
def test_groups_match_xarray_h5netcdf(res, small_run, group):
    """The reader's fast h5py loader gives the dimensions and values xarray's h5netcdf engine gives."""
    mine = res.group("free-market", group)
    ref = xr.open_dataset(small_run, group=f"arms/free-market/{group}", engine="h5netcdf").load()
    assert dict(mine.sizes) == dict(ref.sizes)
    assert set(mine.data_vars) == set(ref.data_vars) and set(mine.coords) == set(ref.coords)
    for name in list(ref.data_vars) + list(ref.coords):
        assert mine[name].dims == ref[name].dims, name
        np.testing.assert_array_equal(mine[name].values, ref[name].values, err_msg=name)


def test_start_stats_diff(res):
    st = res.start("nep-1923")
    assert dict(st.sizes) == {"replication": 3}
    np.testing.assert_array_equal(st["persons"].values, res.start("sufficiency")["persons"].values)
    s = res.stats("nep-1923")
    assert list(s["quantile"].values) == [0.05, 0.25, 0.5, 0.75, 0.95]
    assert s["active_share_quantiles"].dims == ("quantile", "year")
    assert s["famine_deaths_total_mean"].dims == ()
    d = res.diff("cultural-revolution")
    a, b = res.series("cultural-revolution")["literacy"], res.series("nep-1923")["literacy"]
    np.testing.assert_allclose(d["literacy_mean"].values, (a - b).mean("replication").values, rtol=1e-12)
    with pytest.raises(ValueError, match="baseline"):
        res.diff("nep-1923")
    with pytest.raises(KeyError, match="no arm 'nope'"):
        res.series("nope")


def test_histograms_and_trajectories(res):
    h = res.histograms("bonus-verified")
    assert list(h["histogram_year"].values) == [1923, 1927, 1932, 1942]
    assert h["wealth"].dims == ("histogram_year", "wealth_bin")
    assert h["wealth_edges"].size == h["wealth_bin"].size + 1
    living = res.series("bonus-verified")["households"].sel(year=1932).sum().item()
    assert h["grain"].sel(histogram_year=1932).sum().item() == living
    t = res.trajectories("bonus-verified")
    assert dict(t.sizes) == {"replication": 2, "household": 12, "time": 21}
    assert t["time"].values[0] == 1922 and t["time"].values[-1] == 1942
    assert set(np.unique(t["coop"].values)) <= {0, 1, 2}
    assert "active_member" in t["coop"].attrs["flag_meanings"]


def test_events_frame(res):
    ev = res.events()
    assert len(ev) == 5 * 3
    assert list(ev.columns[:2]) == ["arm", "replication"]
    for col in ("first_active_50", "first_active_90", "first_literacy_90", "famine_deaths_total",
                "state_cost_total", "year_active_50", "year_active_90", "year_literacy_90"):
        assert col in ev.columns, col
    assert list(ev["arm"].cat.categories) == ARMS and ev["arm"].cat.ordered
    assert list(ev["arm"].drop_duplicates()) == ARMS
    t, y = ev["first_active_50"].to_numpy(), ev["year_active_50"].to_numpy()
    reached = t < 20
    np.testing.assert_array_equal(y[reached], 1923 + t[reached])
    assert np.isnan(y[~reached]).all()
    np.testing.assert_array_equal(res.event_year([-1, 0, 19, 20]), [1922, 1923, 1942, np.nan])
    one = res.events("sufficiency")
    assert len(one) == 3 and set(one["arm"]) == {"sufficiency"}
    np.testing.assert_allclose(one["state_cost_total"].to_numpy(),
                               res.series("sufficiency")["state_cost"].sum("year").values, rtol=1e-9)


def test_band_matches_engine_quantiles(res):
    for arm in ("nep-1923", "sufficiency"):
        b = res.band(arm, "active_share")
        assert b.dims == ("quantile", "year") and list(b["year"].values) == YEARS
        np.testing.assert_allclose(b.values, res.stats(arm)["active_share_quantiles"].values, rtol=1e-12)
    d = res.band("free-market", "state_cost", diff=True)
    np.testing.assert_allclose(d.values, res.diff("free-market")["state_cost_quantiles"].values, rtol=1e-9,
                               atol=1e-9)
    c = res.values("free-market", "famine_deaths", cumulative=True)
    np.testing.assert_allclose(c.isel(year=-1).values, res.events("free-market")["famine_deaths_total"].values)


def test_headline(res):
    h = res.headline()
    assert list(h.index) == ARMS and h.index.name == "arm"
    for col in ("active_share", "active_share_q05", "active_share_q95", "literacy", "literacy_q05",
                "literacy_q95", "hunger_share", "hunger_share_q05", "hunger_share_q95", "year_active_50",
                "year_active_50_q05", "year_active_50_q95", "never_active_50", "famine_deaths_total",
                "famine_deaths_total_q05", "famine_deaths_total_q95", "state_cost_total", "state_cost_total_q05",
                "state_cost_total_q95"):
        assert col in h.columns, col
    assert h.attrs["final_year"] == 1942
    for arm in ARMS:
        s = res.stats(arm)
        assert h.loc[arm, "active_share"] == pytest.approx(s["active_share_mean"].values[-1], rel=1e-12)
        assert h.loc[arm, "state_cost_total"] == pytest.approx(float(s["state_cost_total_mean"]), rel=1e-9)
        assert h.loc[arm, "famine_deaths_total"] == pytest.approx(float(s["famine_deaths_total_mean"]), rel=1e-9)
        assert h.loc[arm, "active_share_q05"] <= h.loc[arm, "active_share"] <= h.loc[arm, "active_share_q95"]
        assert 0 <= h.loc[arm, "never_active_50"] <= 1
        y = h.loc[arm, "year_active_50"]
        assert np.isnan(y) or 1922 <= y <= 1942
    # the default scenario's arms with organisers and schools reach the majority no later than the baseline
    assert h.loc["sufficiency", "year_active_50"] <= h.loc["nep-1923", "year_active_50"]


def test_compare(res):
    c = res.compare()
    assert len(c) == 4 * 6 and list(c["arm"].cat.categories) == ARMS[1:]
    row = c[(c["arm"] == "sufficiency") & (c["quantity"] == "state_cost_total")].iloc[0]
    d = res.diff("sufficiency")
    assert row["mean"] == pytest.approx(float(d["state_cost_total_mean"]))
    assert row["ci_low"] < row["mean"] < row["ci_high"] or row["se"] == 0
    assert row["units"] == "roubles" and row["n"] == 3
    assert c.loc[c["quantity"] == "first_active_50", "units"].eq("years").all()
    # 3 replications: the 95% interval is mean -/+ t(0.975, 2 degrees of freedom) se = 4.303 se, not 1.96 se
    assert row["ci_high"] - row["mean"] == pytest.approx(4.302653 * row["se"], rel=1e-6)
    assert artel.t_quantile(0.95, [3, 5, 20, 10**6]) == pytest.approx([4.302653, 2.776445, 2.093024, 1.959966],
                                                                      rel=1e-6)
    z = res.compare(z=1.96)
    assert z["ci_high"].iloc[0] - z["mean"].iloc[0] == pytest.approx(1.96 * z["se"].iloc[0])


def test_info_cli(small_run, tmp_path, capsys):
    assert info.main([str(small_run)]) == 0
    out = capsys.readouterr().out
    assert "artel-results 1." in out and "sufficiency" in out and "year active >= 50%" in out
    bad = tmp_path / "notes.txt"
    bad.write_text("not a result file\n")
    assert info.main([str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("artel: error:") and "not an HDF5 file" in err and "\n" not in err


# ---- refusals ----------------------------------------------------------------------------------

def one_line(excinfo):
    msg = str(excinfo.value)
    assert msg and "\n" not in msg
    return msg


def test_refuses_unknown_major_version(small_run, tmp_path):
    path = copy_with(small_run, tmp_path / "v99.h5", format_major=np.int64(99), format_version="99.0")
    with pytest.raises(artel.FormatError) as e:
        artel.open(path)
    msg = one_line(e)
    assert "version" in msg and "99" in msg and "1.x" in msg
    # a newer minor version of the same major is read
    newer = copy_with(small_run, tmp_path / "v1_7.h5", format_minor=np.int64(7), format_version="1.7")
    assert artel.open(newer).format_version == "1.7"


def test_refuses_plain_hdf5(tmp_path):
    path = tmp_path / "plain.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(artel.FormatError) as e:
        artel.open(path)
    assert "not an artel result file" in one_line(e)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.attrs["format"] = "netcdf-something"
    with pytest.raises(artel.FormatError, match="netcdf-something"):
        artel.open(other)


def test_refuses_text_and_truncated_files(small_run, tmp_path):
    text = tmp_path / "results.h5"
    text.write_text("replication,year,active_share\n0,1923,0.02\n")
    with pytest.raises(artel.FormatError) as e:
        artel.open(text)
    assert "not an HDF5 file" in one_line(e)
    cut = tmp_path / "cut.h5"
    cut.write_bytes(small_run.read_bytes()[:4096])
    with pytest.raises(artel.FormatError) as e:
        artel.open(cut)
    one_line(e)
    with pytest.raises(FileNotFoundError):
        artel.open(tmp_path / "missing.h5")
    with pytest.raises(artel.FormatError, match="directory"):
        artel.open(tmp_path)


def test_incomplete_file(small_run, tmp_path):
    path = copy_with(small_run, tmp_path / "partial.h5", complete=np.int64(0), replications_written=np.int64(2))
    with h5py.File(path, "r+") as f:  # as an interrupted run leaves it: an unwritten replication is NaN
        for arm in ARMS:
            for name in ("series/active_share", "events/first_active_50", "events/famine_deaths_total",
                         "events/first_active_90", "events/first_literacy_90", "events/state_cost_total"):
                ds = f[f"arms/{arm}/{name}"]
                ds[2] = np.nan
    with pytest.raises(artel.FormatError) as e:
        artel.open(path)
    msg = one_line(e)
    assert "incomplete" in msg and "allow_incomplete=True" in msg and "2 of 3" in msg
    res = artel.open(path, allow_incomplete=True)
    assert not res.complete and "INCOMPLETE" in repr(res)
    assert len(res.events()) == 5 * 2
    b = res.band("nep-1923", "active_share")
    np.testing.assert_allclose(b.sel(quantile=0.5).values,
                               np.median(res.series("nep-1923")["active_share"].values[:2], axis=0))
    assert isinstance(res.headline(), pd.DataFrame)
