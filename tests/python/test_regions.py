"""The per-region series (MODEL.md §7) in /arms/<arm>/regions: dims (replication, year, region), and the
regions add up to the national series exactly (famine deaths, persons, grain sold by channel, failing
regions), the hunger share within rounding; switched off by output.regions = false; refused for more
regions than the layout allows."""
import subprocess

import h5py
import numpy as np

from conftest import EXE, SCENARIO, SMALL

NAMES = ["harvest_per_ha", "failed", "hunger_share", "famine_deaths", "persons", "sold_coop", "sold_private",
         "sold_state"]


def test_regions_add_up_to_the_nation(small_run):
    with h5py.File(small_run, "r") as f:
        G = 8
        for arm in [a.decode() for a in f["arm_names"][()]]:
            r, s = f[f"arms/{arm}/regions"], f[f"arms/{arm}/series"]
            assert sorted(k for k in r if k not in ("replication", "year", "region")) == sorted(NAMES)
            assert r["famine_deaths"].shape == s["famine_deaths"].shape + (G,)
            assert list(r["region"][()]) == list(range(G))
            for name, national in (("famine_deaths", "famine_deaths"), ("persons", "persons"),
                                   ("failed", "failing_regions")):
                assert np.array_equal(r[name][()].sum(axis=2), s[national][()]), (arm, name)
            for name in ("sold_coop", "sold_private", "sold_state"):  # fixed-point sums: equal to rounding
                assert np.allclose(r[name][()].sum(axis=2), s[name][()], rtol=1e-12, atol=1e-6), (arm, name)
            assert set(np.unique(r["failed"][()])) <= {0.0, 1.0}
            hunger = r["hunger_share"][()]
            assert np.all((hunger >= 0) & (hunger <= 1))
            hp = r["harvest_per_ha"][()]
            assert np.all(hp[r["failed"][()] == 0] > 0)
            # a failing region's yield is lower than the others' in the same year, on the whole
            assert np.nanmean(hp[r["failed"][()] == 1]) < np.nanmean(hp[r["failed"][()] == 0])


def test_switched_off(tmp_path):
    out = tmp_path / "off.h5"
    subprocess.run([EXE, "run", str(SCENARIO), "-o", str(out), *SMALL, "--set", "output.regions=false"], check=True)
    with h5py.File(out, "r") as f:
        assert "regions" not in f["arms/nep-1923"]


def test_too_many_regions_refused(tmp_path):
    r = subprocess.run([EXE, "run", str(SCENARIO), "-o", str(tmp_path / "x.h5"), *SMALL,
                        "--set", "population.regions=2000"], capture_output=True, text=True)
    assert r.returncode == 2 and "output.regions = false" in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []
