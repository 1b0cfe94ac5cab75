"""The typed HDF5 layer (engine/h5) writes groups that xarray opens through
h5netcdf with named dimensions and coordinates: no phony_dim names.

The C++ test case tagged [h5-demo] writes the demo file (tests/test_h5.cpp,
write_demo) to $ARTEL_H5_DEMO_OUT. The test binary is $ARTEL_TESTS_EXE, or
else tests/artel_tests beside the $ARTEL_EXE that CTest passes in.
"""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")
xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

R, T, FIRST_YEAR = 5, 4, 2020  # as in tests/test_h5.cpp


def _tests_exe():
    exe = os.environ.get("ARTEL_TESTS_EXE")
    if exe:
        return Path(exe)
    artel = os.environ.get("ARTEL_EXE")
    if artel:
        guess = Path(artel).parent / "tests" / "artel_tests"
        if guess.exists():
            return guess
    return None


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    exe = _tests_exe()
    if exe is None or not exe.exists():
        pytest.skip("set ARTEL_TESTS_EXE to the artel_tests binary (or ARTEL_EXE beside a build's tests/) "
                    "to check the HDF5 layer's files with xarray")
    out = tmp_path_factory.mktemp("h5") / "demo.h5"
    env = dict(os.environ, ARTEL_H5_DEMO_OUT=str(out))
    run = subprocess.run([str(exe), "[h5-demo]"], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert out.exists(), f"{exe} [h5-demo] wrote no {out}:\n{run.stdout}"
    return out


@pytest.mark.parametrize("arm", ["nep-1923", "baseline"])
def test_series_group_opens_with_named_dims(demo, arm):
    with xr.open_dataset(demo, group=f"arms/{arm}/series", engine="h5netcdf") as ds:
        assert dict(ds.sizes) == {"replication": R, "year": T}
        assert not [d for d in ds.dims if str(d).startswith("phony_dim")]
        assert set(ds.coords) == {"replication", "year"}
        np.testing.assert_array_equal(ds["replication"].values, np.arange(R))
        np.testing.assert_array_equal(ds["year"].values, np.arange(FIRST_YEAR, FIRST_YEAR + T))
        assert ds["year"].dtype == np.int64

        persons = ds["persons"]
        assert persons.dims == ("replication", "year")
        expected = 100.0 * np.arange(R)[:, None] + np.arange(T)[None, :] + 0.5
        np.testing.assert_array_equal(persons.values, expected)  # two write_rows blocks
        assert persons.attrs["units"] == "persons"
        assert isinstance(persons.attrs["long_name"], str)
        assert persons.encoding["zlib"] and persons.encoding["complevel"] == 4
        assert persons.encoding["shuffle"]
        assert persons.encoding["chunksizes"] == (3, T)

        assert ds["final_wealth"].dims == ("replication",)
        np.testing.assert_array_equal(ds["final_wealth"].values, 1.5 * np.arange(R))
        assert ds["villages"].dims == ("year",)
        assert ds["villages"].dtype == np.int32


def test_string_coordinate_and_root_attributes(demo):
    with xr.open_dataset(demo, group="arms/baseline/summary", engine="h5netcdf") as ds:
        assert list(ds["statistic"].values) == ["mean", "sd"]
        assert ds["value"].dims == ("statistic",)
    with xr.open_dataset(demo, engine="h5netcdf") as ds:
        assert ds.attrs["format"] == "artel-demo"
        assert ds.attrs["comment"] == "UTF-8: Zürich, ŋ"
        assert list(ds.attrs["format_version"]) == [1, 0]
        assert ds.attrs["seed"] == 0xFFFF_FFFF_FFFF_FFF0


def test_h5py_sees_scales_and_creation_order(demo):
    with h5py.File(demo, "r") as f:
        assert list(f["arms"]) == ["nep-1923", "baseline"]  # creation order, not alphabetical
        persons = f["arms/nep-1923/series/persons"]
        assert persons.shape == (R, T) and persons.dtype == np.float64
        assert [dim[0].name for dim in persons.dims] == ["/arms/nep-1923/series/replication",
                                                          "/arms/nep-1923/series/year"]
        assert h5py.h5ds.is_scale(f["arms/nep-1923/series/year"].id)
        assert isinstance(f.attrs["format"], str)  # variable-length UTF-8
