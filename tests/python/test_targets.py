"""Calibration targets (artel.targets): the file's checks, and every summary of the vocabulary against the
same figure computed directly from the result file with h5py; a figure that needs the per-region series
says so by name when the file lacks them; the repository's targets file computes on a run of the default
scenario."""
import subprocess

import h5py
import numpy as np
import pytest

from artel.targets import TargetError, figures, load_targets, per_candidate
from conftest import SOURCE, run_artel

import artel

TARGETS = SOURCE / "configs" / "targets-1923-1927.toml"


def _write(tmp_path, body: str):
    p = tmp_path / "t.toml"
    p.write_text(body)
    return p


ONE = '''
[[target]]
name = "{name}"
figure = "f"
value = 0.5
sd = 0.1
series = "literacy"
year = 1926
'''


@pytest.mark.parametrize("extra, message", [
    ('colour = "red"', "unknown key"),
    ('stat = "median"', "stat = 'median'"),
    ('group = "nation"', "group = 'nation'"),
    ('stat = "share"', "needs when"),
    ('stat = "cv"', "at least two years"),
    ('years = [1923, 1926]', "year or years, not both"),
    ('tolerance = 0.2', "either sd"),
    ('when = "sometimes"\nstat = "mean"', "when = 'failure' or 'normal'"),
])
def test_refusals_name_the_target_and_the_problem(tmp_path, extra, message):
    with pytest.raises(TargetError, match=message) as e:
        load_targets(_write(tmp_path, ONE.format(name="x") + extra + "\n"))
    assert "'x'" in str(e.value) and "t.toml" in str(e.value)


def test_file_level_refusals(tmp_path):
    with pytest.raises(TargetError, match="duplicate"):
        load_targets(_write(tmp_path, ONE.format(name="a") + ONE.format(name="a")))
    with pytest.raises(TargetError, match="nothing to fit"):
        load_targets(_write(tmp_path, ONE.format(name="a") + "fit = false\n"))
    with pytest.raises(TargetError, match="no \\[\\[target\\]\\]"):
        load_targets(_write(tmp_path, "# nothing\n"))
    with pytest.raises(TargetError, match="'value' is missing"):
        load_targets(_write(tmp_path, ONE.format(name="a").replace("value = 0.5\nsd = 0.1\n", "")))
    t = load_targets(_write(tmp_path, ONE.format(name="a") + ONE.format(name="b").replace("value = 0.5\nsd = 0.1\n",
                                                                                           "") + "fit = false\n"))
    assert not t[1].fit and np.isnan(t[1].value)


def test_the_vocabulary_against_the_file(small_run, tmp_path):
    """Each stat computed from /arms/nep-1923/{series,start,regions} with h5py, replication by replication."""
    ts = load_targets(_write(tmp_path, '''
[[target]]
name = "lit_start"
figure = "f"
value = 0.4
sd = 0.03
group = "start"
series = "literacy"
[[target]]
name = "members"
figure = "f"
value = 0.1
sd = 0.02
series = "member_share"
year = 1924
[[target]]
name = "size"
figure = "f"
value = 5.3
sd = 0.1
series = "persons"
per = "households"
year = 1927
[[target]]
name = "size_change"
figure = "f"
value = 0.0
sd = 0.1
series = "persons"
per = "households"
years = [1923, 1927]
stat = "change"
[[target]]
name = "cv_regional"
figure = "f"
value = 0.14
sd = 0.05
group = "regions"
series = "harvest_per_ha"
years = [1923, 1927]
stat = "cv"
[[target]]
name = "cv_national"
figure = "f"
value = 0.14
sd = 0.05
series = "harvest_per_ha"
years = [1923, 1927]
stat = "cv"
[[target]]
name = "drought"
figure = "f"
value = 0.167
sd = 0.03
group = "regions"
series = "failed"
years = [1923, 1932]
stat = "mean"
[[target]]
name = "drought_national"
figure = "f"
value = 0.167
sd = 0.03
series = "failing_regions"
per = "regions"
years = [1923, 1932]
stat = "mean"
[[target]]
name = "hunger_normal"
figure = "f"
value = 0.0
sd = 0.03
group = "regions"
series = "hunger_share"
years = [1923, 1942]
stat = "mean"
when = "normal"
[[target]]
name = "famine_share"
figure = "f"
value = 1.0
sd = 0.3
group = "regions"
series = "famine_deaths"
years = [1923, 1942]
stat = "share"
when = "failure"
'''))
    got = figures(artel.open(small_run), ts)
    with h5py.File(small_run, "r") as f:
        s, r, st = f["arms/nep-1923/series"], f["arms/nep-1923/regions"], f["arms/nep-1923/start"]
        y = list(s["year"][()])
        i = {yr: y.index(yr) for yr in y}
        size = s["persons"][()] / s["households"][()]
        hp = r["harvest_per_ha"][()][:, i[1923]:i[1927] + 1, :]
        nat = s["harvest_per_ha"][()][:, i[1923]:i[1927] + 1]
        failed, hunger, famine = r["failed"][()], r["hunger_share"][()], r["famine_deaths"][()]
        want = {
            "lit_start": st["literacy"][()],
            "members": s["member_share"][()][:, i[1924]],
            "size": size[:, i[1927]],
            "size_change": size[:, i[1927]] - size[:, i[1923]],
            "cv_regional": (hp.std(axis=1, ddof=1) / hp.mean(axis=1)).mean(axis=1),
            "cv_national": nat.std(axis=1, ddof=1) / nat.mean(axis=1),
            "drought": failed[:, :i[1932] + 1].mean(axis=(1, 2)),
            "drought_national": s["failing_regions"][()][:, :i[1932] + 1].mean(axis=1) / 8,
            "hunger_normal": np.array([hunger[k][failed[k] == 0].mean() for k in range(len(hunger))]),
            "famine_share": np.array([famine[k][failed[k] == 1].sum() / famine[k].sum() for k in range(len(famine))]),
        }
    assert set(got) == set(want)
    for name, v in want.items():
        assert np.allclose(got[name], v, rtol=1e-12, atol=0, equal_nan=True), name
    assert np.array_equal(got["drought"], got["drought_national"])


def test_per_candidate_means_consecutive_replications():
    v = np.array([1.0, 3.0, np.nan, 5.0, np.nan, np.nan])
    assert np.array_equal(per_candidate(v, 2), [2.0, 5.0, np.nan], equal_nan=True)
    assert np.array_equal(per_candidate(np.array([1.0, 2.0, 10.0]), 3, "median"), [2.0])


def test_a_regional_target_without_regional_series_names_the_group(tmp_path):
    off = run_artel(tmp_path / "off.h5", "--set", "output.regions=false")
    ts = load_targets(TARGETS)
    res = artel.open(off)
    ok = [t for t in ts if t.group != "regions"]
    assert all(np.all(np.isfinite(v)) for v in figures(res, ok).values())
    cv = [t for t in ts if t.name == "yield_cv"]
    with pytest.raises(TargetError, match=r"'yield_cv'.*/arms/nep-1923/regions.*does not have.*"
                                          r"\[output\] regions = false"):
        figures(res, cv)


def test_the_repository_targets_compute_on_the_default_scenario(small_run, installed):
    ts = load_targets(TARGETS)
    assert [t.name for t in ts if t.fit] == ["literacy_1920", "literacy_1926", "members_1924", "members_1927",
                                             "marketed_net_1926", "yield_cv", "drought_frequency",
                                             "household_size_1927", "household_size_change"]
    got = figures(artel.open(small_run), ts)
    for t in ts:
        assert got[t.name].shape == (3,)
        if t.fit:
            assert np.all(np.isfinite(got[t.name])), t.name
    # and the console script prints the table
    r = subprocess.run([str(installed.bin / "artel-calibrate"), "check", str(small_run), str(TARGETS)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "yield_cv" in r.stdout and "median [5%, 95%]" in r.stdout
