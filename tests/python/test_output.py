"""The result file as a notebook user meets it: h5py, xarray, invariants,
and bit-identity of every dataset across thread counts."""
import h5py
import numpy as np
import pytest
import xarray as xr

ARMS = ["nep-1923", "free-market", "bonus-verified", "cultural-revolution", "sufficiency"]


def datasets(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def test_root_attributes(small_run):
    with h5py.File(small_run, "r") as f:
        a = f.attrs
        assert a["format"] == "artel-results"
        assert a["format_major"] == 1
        assert a["complete"] == 1
        assert a["replications"] == 3 and a["years"] == 20 and a["start_year"] == 1923
        assert a["seed"] == 19230104
        for key in ("engine_version", "git_revision", "scenario", "command_line", "created"):
            assert len(a[key]) > 0
        assert "[[arm]]" in a["scenario"]
        assert [s.decode() if isinstance(s, bytes) else s for s in f["arm_names"][()]] == ARMS


def test_every_dataset_identical_for_1_and_2_threads(small_run, small_run_1thread):
    with h5py.File(small_run, "r") as a, h5py.File(small_run_1thread, "r") as b:
        da, db = datasets(a), datasets(b)
        assert da.keys() == db.keys()
        assert len(da) > 500
        for name in da:
            x, y = np.asarray(da[name]), np.asarray(db[name])
            assert x.shape == y.shape, name
            if x.dtype.kind == "f":
                assert np.array_equal(x.view(np.uint64 if x.itemsize == 8 else np.uint32),
                                      y.view(np.uint64 if y.itemsize == 8 else np.uint32)), name
            else:
                assert np.array_equal(x, y), name


@pytest.mark.parametrize("arm", ARMS)
def test_xarray_opens_series_with_named_dimensions(small_run, arm):
    ds = xr.open_dataset(small_run, group=f"arms/{arm}/series", engine="h5netcdf")
    assert dict(ds.dims) == {"replication": 3, "year": 20}
    assert list(ds["year"].values) == list(range(1923, 1943))
    assert ds["active_share"].dims == ("replication", "year")
    assert ds["active_share"].attrs["units"] == "1"
    if arm not in (ARMS[0], ARMS[-1]):
        return  # the other groups are written by the same code for every arm: the baseline and one more
    for group, dims in (("start", {"replication"}), ("events", {"replication"}),
                        ("stats", {"year", "quantile"}), ("histograms", None), ("trajectories", None)):
        g = xr.open_dataset(small_run, group=f"arms/{arm}/{group}", engine="h5netcdf")
        assert not any(d.startswith("phony") for d in g.dims), (group, g.dims)
        if dims:
            assert dims <= set(g.dims), (group, g.dims)


def test_diff_groups_for_non_baseline_arms(small_run):
    with h5py.File(small_run, "r") as f:
        assert "diff" not in f["arms/nep-1923"]
        for arm in ARMS[1:]:
            d = f[f"arms/{arm}/diff"]
            a = f[f"arms/{arm}/series/active_share"][()]
            b = f["arms/nep-1923/series/active_share"][()]
            np.testing.assert_allclose(d["active_share_mean"][()], (a - b).mean(axis=0), rtol=1e-12, atol=1e-15)


def test_stats_agree_with_series(small_run):
    with h5py.File(small_run, "r") as f:
        for arm in ARMS:
            g = f[f"arms/{arm}"]
            for name in ("active_share", "literacy", "persons", "state_cost"):
                x = g[f"series/{name}"][()]
                np.testing.assert_allclose(g[f"stats/{name}_mean"][()], x.mean(axis=0), rtol=1e-12)
                np.testing.assert_allclose(g[f"stats/{name}_se"][()], x.std(axis=0, ddof=1) / np.sqrt(3),
                                           rtol=1e-9, atol=1e-12)
                q = g[f"stats/{name}_quantiles"][()]
                np.testing.assert_allclose(q, np.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0), rtol=1e-12)


def test_invariants(small_run):
    with h5py.File(small_run, "r") as f:
        for arm in ARMS:
            s = f[f"arms/{arm}/series"]
            for name in ("member_share", "passive_share", "active_share", "literacy", "hunger_share",
                         "coop_sales_share", "marketed_gross", "wealth_gini"):
                x = s[name][()]
                x = x[np.isfinite(x)]
                assert x.size and (x >= 0).all() and (x <= 1).all(), name
            np.testing.assert_allclose(s["member_share"][()], s["passive_share"][()] + s["active_share"][()],
                                       atol=1e-12)
            cost = sum(s[k][()] for k in ("cost_bonus", "cost_audit", "cost_aid", "cost_interest", "cost_writeoff"))
            np.testing.assert_allclose(s["state_cost"][()], cost, rtol=1e-12, atol=1e-9)
            sold = s["sold_coop"][()] + s["sold_private"][()] + s["sold_state"][()]
            assert (s["marketed_net"][()] <= s["marketed_gross"][()] + 1e-12).all()
            assert (sold >= 0).all()
            assert (s["households"][()] <= 24 * 40).all()
            t = f[f"arms/{arm}/trajectories"]
            size, adults, lit = t["size"][()], t["adults"][()], t["literate"][()]
            assert (lit <= adults).all() and (adults <= size).all() and (size <= 16).all()
            assert np.isin(t["coop"][()], [0, 1, 2]).all()
            ev = f[f"arms/{arm}/events"]
            y = ev["first_active_50"][()]
            assert ((y >= -1) & (y <= 20)).all()
            h = f[f"arms/{arm}/histograms"]
            # every living household of every replication is counted once per histogram year
            living = s["households"][()]
            years = list(h["histogram_year"][()])
            for k, yr in enumerate(years):
                assert h["wealth"][k].sum() == living[:, yr - 1923].sum()


def test_baseline_differs_from_policy_arms(small_run):
    with h5py.File(small_run, "r") as f:
        base = f["arms/nep-1923/series/active_share"][()]
        for arm in ARMS[1:]:
            assert not np.array_equal(base, f[f"arms/{arm}/series/active_share"][()])
        # common random numbers: the same initial households in every arm
        for arm in ARMS[1:]:
            np.testing.assert_array_equal(f["arms/nep-1923/start/persons"][()], f[f"arms/{arm}/start/persons"][()])


def test_every_instruction_set_gives_the_same_file(small_run, tmp_path):
    """The vectorised kernel on each instruction set and the scalar reference
    kernel write identical datasets (the default small_run uses 'auto')."""
    import subprocess
    from conftest import EXE, SCENARIO, SMALL
    r = subprocess.run([EXE, "run", str(SCENARIO), "-o", str(tmp_path / "x.h5"), "--simd", "nonsense", *SMALL],
                       capture_output=True, text=True)
    assert r.returncode == 2
    available = r.stderr.split("available here: ")[1].rstrip(")\n").split(", ")
    assert "reference" in available and "scalar" in available
    ref = datasets(h5py.File(small_run, "r"))
    for kernel in available:
        if kernel == "auto":
            continue
        out = tmp_path / f"{kernel}.h5"
        subprocess.run([EXE, "run", str(SCENARIO), "-o", str(out), "--simd", kernel, "--threads", "2", *SMALL],
                       check=True, capture_output=True)
        other = datasets(h5py.File(out, "r"))
        assert ref.keys() == other.keys()
        for name in ref:
            x, y = np.asarray(ref[name]), np.asarray(other[name])
            if x.dtype.kind == "O":
                assert list(x.ravel()) == list(y.ravel()), (kernel, name)
            else:
                assert x.tobytes() == y.tobytes(), (kernel, name)


def test_another_compiler_gives_the_same_file(small_run, tmp_path):
    """artel built by a second compiler (scripts/test.sh: clang, where the
    release build is GCC) writes identical datasets: the kernels' arithmetic
    is IEEE + - * / sqrt in a fixed order, without FMA contraction or libm
    calls (engine/math/detmath.hpp), so the compiler must not matter.
    Skipped unless ARTEL_EXE_CLANG names that executable."""
    import os
    import subprocess
    from conftest import SCENARIO, SMALL
    other_exe = os.environ.get("ARTEL_EXE_CLANG")
    if not other_exe:
        pytest.skip("ARTEL_EXE_CLANG not set (scripts/test.sh sets it)")
    out = tmp_path / "clang.h5"
    subprocess.run([other_exe, "run", str(SCENARIO), "-o", str(out), "--threads", "2", *SMALL],
                   check=True, capture_output=True)
    with h5py.File(out, "r") as f:
        assert f.attrs["complete"] == 1
    ref = datasets(h5py.File(small_run, "r"))
    other = datasets(h5py.File(out, "r"))
    assert ref.keys() == other.keys()
    for name in ref:
        x, y = np.asarray(ref[name]), np.asarray(other[name])
        if x.dtype.kind == "O":
            assert list(x.ravel()) == list(y.ravel()), name
        else:
            assert x.tobytes() == y.tobytes(), name
