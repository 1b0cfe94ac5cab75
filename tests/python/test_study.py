"""artel.open_study: several result files of one study in one Dataset, with their differing parameters as
coordinates; replication ranges concatenated with their statistics made again; files that are not
comparable refused with a message that says why."""
import re
import shutil

import h5py
import numpy as np
import pytest
import xarray as xr

import artel
from conftest import run_artel


@pytest.fixture(scope="module")
def bonus_runs(tmp_path_factory, small_run):
    """The small run with policy.bonus = 0 and 2 (the default scenario's baseline has 0 already)."""
    d = tmp_path_factory.mktemp("study")
    return [run_artel(d / "bonus2.h5", "--set", "policy.bonus=2"), run_artel(d / "bonus7.h5", "--set",
                                                                            "policy.bonus=7")]


def test_sweep_over_files(small_run, bonus_runs):
    files = [small_run, *bonus_runs]
    study = artel.open_study(files)
    assert study.dim == "policy.bonus" and study.differing == ["policy.bonus"]
    assert list(study.parameters["policy.bonus"]) == [0.0, 2.0, 7.0]
    ds = study.dataset("diff")
    assert ds["active_share_mean"].dims == ("policy.bonus", "arm", "year")
    assert list(ds["policy.bonus"].values) == [0.0, 2.0, 7.0]
    assert list(ds["file"].values) == [str(f) for f in files]
    for i, f in enumerate(files):  # value for value each file's own dataset
        one = artel.open(f).dataset("diff")
        np.testing.assert_array_equal(ds["state_cost_total_mean"].isel({"policy.bonus": i}).values,
                                      one["state_cost_total_mean"].values)
    # a policy key that varies between the files and the arms is a coordinate over both
    assert ds["bonus"].dims == ("policy.bonus", "arm")
    assert list(ds["bonus"].sel(arm="free-market").values) == [0.0, 2.0, 7.0]
    assert float(ds["bonus"].sel({"arm": "sufficiency", "policy.bonus": 2.0})) == 5.0  # the arm's own override
    s = study.dataset("series")
    assert s["active_share"].dims == ("policy.bonus", "arm", "replication", "year")
    # the same seed: replication r is the same history in every file, so differences between files are paired
    d = s["active_share"].sel(arm="nep-1923") - s["active_share"].sel({"arm": "nep-1923", "policy.bonus": 0.0})
    assert float(abs(d.sel({"policy.bonus": 0.0})).max()) == 0


def test_several_parameters_give_a_run_dimension(small_run, bonus_runs, tmp_path):
    other = run_artel(tmp_path / "v.h5", "--set", "policy.bonus=2", "--set", "arm.sufficiency.reserve_levy=0.1")
    study = artel.open_study([small_run, other])
    assert study.dim == "run" and set(study.differing) == {"policy.bonus", "arm.sufficiency.reserve_levy"}
    ds = study.dataset("events")
    assert ds["state_cost_total"].dims == ("run", "arm", "replication")
    assert list(ds["policy.bonus"].values) == [0.0, 2.0]
    assert list(ds["arm.sufficiency.reserve_levy"].values) == [0.05, 0.1]


def copy_with(src, dst, **root_attrs):
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        for k, v in root_attrs.items():
            f.attrs[k] = v
    return dst


def test_refuses_what_is_not_comparable(small_run, tmp_path):
    # the engine series (major.minor) of the run and one after it
    major, minor = (int(x) for x in artel.open(small_run).attrs["engine_version"].split(".")[:2])
    later = f"{major}.{minor + 1}.0"
    newer = copy_with(small_run, tmp_path / "newer.h5", engine_version=later)
    with pytest.raises(artel.FormatError,
                       match=rf"not comparable: written by artel {major}\.{minor}\.\d+ and artel {re.escape(later)}"):
        artel.open_study([small_run, newer])
    scenario = re.sub(r"(?m)^bonus = 0\.0", "bonus = 1.0", artel.open(small_run).scenario, count=1)
    patch = copy_with(small_run, tmp_path / "patch.h5", engine_version=f"{major}.{minor}.99", scenario=scenario)
    assert artel.open_study([small_run, patch]).dim == "policy.bonus"  # a patch release is comparable
    seed = copy_with(small_run, tmp_path / "seed.h5", seed=np.uint64(7))
    with pytest.raises(artel.FormatError, match="seeds 19230104 and 7.*same --seed"):
        artel.open_study([small_run, seed])
    arms = tmp_path / "arms.h5"
    shutil.copyfile(small_run, arms)
    with h5py.File(arms, "r+") as f:
        f["arm_names"][4] = "other"
        f.move("arms/sufficiency", "arms/other")
    with pytest.raises(artel.FormatError, match="different arms.*sufficiency against.*other"):
        artel.open_study([small_run, arms])
    with pytest.raises(artel.FormatError, match="same seed and both have replication 0") as e:
        artel.open_study([small_run, small_run])
    assert "\n" not in str(e.value)


def shifted(src, dst, by):
    """A copy whose replications are numbered from `by` (as a run of replications by ... by + R - 1 is)."""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        def shift(name, obj):
            if isinstance(obj, h5py.Dataset) and name.endswith("/replication"):
                obj[...] = obj[()] + by
        f.visititems(shift)
    return dst


def test_replication_ranges(small_run, tmp_path):
    second = shifted(small_run, tmp_path / "reps3-5.h5", 3)
    study = artel.open_study([small_run, second])
    assert study.dim == "replication" and study.differing == []
    s = study.dataset("series")
    assert list(s["replication"].values) == [0, 1, 2, 3, 4, 5]
    assert list(s["file"].values) == [str(small_run)] * 3 + [str(second)] * 3
    one = artel.open(small_run)
    np.testing.assert_array_equal(s["active_share"].isel(replication=slice(0, 3)).values,
                                  one.dataset("series")["active_share"].values)
    # statistics of the combined replications, made as the engine makes them
    st = study.dataset("stats")
    assert st.attrs["replications"] == 6
    np.testing.assert_array_equal(st["active_share_n"].values, 6)
    np.testing.assert_allclose(st["active_share_mean"].values, one.dataset("stats")["active_share_mean"].values,
                               rtol=1e-12)  # the same three histories twice: the same mean
    d = study.dataset("diff")
    assert list(d["arm"].values) == one.others
    np.testing.assert_allclose(d["state_cost_total_mean"].values,
                               one.dataset("diff")["state_cost_total_mean"].values, rtol=1e-12)
    ev = study.dataset("events")
    T = one.n_years
    t = ev["first_active_50"].fillna(T)
    np.testing.assert_allclose(st["first_active_50_mean"].values, t.mean("replication").values, rtol=1e-12)
    with pytest.raises(artel.FormatError, match="no replication dimension"):
        study.dataset("histograms")
    xr.testing.assert_equal(study.dataset("start").isel(replication=slice(3, 6)).drop_vars("file"),
                            one.dataset("start").assign_coords(replication=[3, 4, 5]))
