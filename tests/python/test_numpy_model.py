"""Cross-validation of artel against an independent NumPy implementation of the model.

scripts/numpy_model.py is written from MODEL.md and docs/model.md only (not from
artel's C++) and uses different random numbers (NumPy's PCG64 streams, not
artel's Philox counters), so the two agree in distribution, not bit for bit.

Both run the default scenario at a small size (all five arms, 20 villages x 50
households, 20 years, 100 replications, fixed seeds) in three variants:
``default`` (as configured), ``no-weather`` (mechanisms.weather = false: without
the common harvest shocks the replication means are far more precise, so
household-level mechanisms are tested with much more power) and ``lean``
(no weather, yield_mean 5.5, wage 8: about half of the households are short
of food every year, which exercises buying, the reserve, aid, credit,
defaults, hunger and famine). For every variant, arm and year we compare the
means across replications of every output series both implementations
compute, their means over all years, the start values and the
per-replication events, with a two-sample test whose tolerance comes from the
Monte Carlo standard errors of both runs:

    |mean_artel - mean_numpy| <= z * sqrt(se_artel^2 + se_numpy^2),
    se = sd / sqrt(n) over replications (n - 1 sd),

z = Phi^-1(1 - alpha / (2 K)) for the K comparisons made (Bonferroni with a
family-wise false-alarm rate alpha = 1e-4 when both implementations are
right; K is about 10 800, so z is about 5.7). Where both standard errors are
zero (a quantity that does not vary, e.g. the number of households at the
start, or bonus claims in an arm without a bonus) the means must agree to
1e-9.

Replications are independent within a run and the two runs are independent
of each other, so the test is exact up to the normal approximation of means
of 100 replications (the tails of that approximation are why alpha is small:
over 10 other seed pairs the largest |z| of all three variants was 3.4 to
4.9). The seeds are fixed, so the test is deterministic for a given artel
build. What it can see (checked by planting bugs in a copy of
numpy_model.py and running this test's three variants): an expelled member
allowed to rejoin in the same year (|z| 15), the interest subsidy taken after
interest instead of before (11), lapsing that ignores hunger (11), the
culture loss applied to the private channel only (8), the famine risk taken
from the shortfall before it is covered (117); what it cannot: aid valued
at price0 instead of P (5.7, just under z), a member's credit limit taken
from its membership at the start of the year (4), skill learning from the
literacy before this year's learning (3).
"""
import math
import subprocess
import sys
from statistics import NormalDist

import numpy as np
import pytest

from conftest import EXE, SCENARIO, SOURCE

try:
    import artel
except ImportError:                                   # outside CTest: PYTHONPATH not set
    sys.path.insert(0, str(SOURCE / "scripts" / "python"))
    import artel

NUMPY_MODEL = SOURCE / "scripts" / "numpy_model.py"
ARMS = ["nep-1923", "free-market", "bonus-verified", "cultural-revolution", "sufficiency"]
REPLICATIONS = 100
SHAPE = ["--set", "population.villages=20", "--set", "population.households=50"]
VARIANTS = {
    "default": [],
    "no-weather": ["--set", "mechanisms.weather=false"],
    "lean": ["--set", "mechanisms.weather=false", "--set", "weather.yield_mean=5.5", "--set", "economy.wage=8"],
}
ARTEL_SEED = 19230104           # artel's default seed
NUMPY_SEED = 1923               # any seed: the generators differ anyway
ALPHA = 1e-4                    # family-wise false-alarm rate of the whole comparison (nominal)


def run_numpy_model(out, *extra, replications=REPLICATIONS, seed=NUMPY_SEED, config=SCENARIO):
    cmd = [sys.executable, str(NUMPY_MODEL), str(config), "--replications", str(replications),
           "--seed", str(seed), *SHAPE, "--out", str(out), "--quiet", *extra]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


def run_artel(out, *extra, replications=REPLICATIONS, seed=ARTEL_SEED, config=SCENARIO):
    cmd = [EXE, "run", str(config), "-o", str(out), "--replications", str(replications), "--seed", str(seed),
           *SHAPE, "--set", "output.trajectory_households=0", "--threads", "2", "--quiet", "--force", *extra]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


def _mean_se(x):
    """Mean and standard error over axis 0 (replications), ignoring NaN (undefined ratios)."""
    x = np.asarray(x, dtype=float)
    n = np.isfinite(x).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(x, axis=0) if x.size else x
        sd = np.nanstd(x, axis=0, ddof=1)
    return mean, sd / np.sqrt(np.maximum(n, 1)), n


def comparisons(artel_file, npz_file):
    """Every comparison: (arm, quantity, year label, mean_artel, mean_numpy, se_artel, se_numpy).

    Quantities: each series in both outputs per year ("1923" ...), its mean over
    all years ("all"), its start value ("start"); the per-replication events.
    """
    res = artel.open(artel_file)
    d = np.load(npz_file)
    arms = [str(a) for a in d["arms"]]
    assert arms == res.arms
    years = [str(y) for y in d["years"]]
    rows = []
    for ai, arm in enumerate(arms):
        series, start, events = res.series(arm), res.start(arm), res.group(arm, "events")
        for name in artel.EVENT_YEARS:  # 'never' is T in both; the file marks it missing_value (format 1.1)
            events[name] = events[name].fillna(res.n_years)
        for name in series.data_vars:
            if name not in d.files:
                continue
            a, b = series[name].values, d[name][:, ai, :]
            assert a.shape[1] == b.shape[1] == len(years), name
            for label, xa, xb in ([(y, a[:, t], b[:, t]) for t, y in enumerate(years)]
                                  + [("all", np.nanmean(a, axis=1), np.nanmean(b, axis=1))]):
                (ma, sa, na), (mb, sb, nb) = _mean_se(xa), _mean_se(xb)
                if na >= 2 and nb >= 2:
                    rows.append((arm, name, label, float(ma), float(mb), float(sa), float(sb)))
        for name in start.data_vars:
            if f"start_{name}" in d.files:
                (ma, sa, _), (mb, sb, _) = _mean_se(start[name].values), _mean_se(d[f"start_{name}"][:, ai])
                rows.append((arm, name, "start", float(ma), float(mb), float(sa), float(sb)))
        for name in events.data_vars:
            if name in d.files:
                (ma, sa, _), (mb, sb, _) = _mean_se(events[name].values), _mean_se(d[name][:, ai])
                rows.append((arm, name, "event", float(ma), float(mb), float(sa), float(sb)))
    return rows


def two_sample(rows, alpha=ALPHA):
    """z threshold (Bonferroni over the comparisons with a positive standard error), the z of every row,
    and the failures."""
    k = sum(1 for r in rows if math.hypot(r[5], r[6]) > 0)
    z_crit = NormalDist().inv_cdf(1 - alpha / (2 * max(k, 1)))
    out, bad = [], []
    for arm, name, label, ma, mb, sa, sb in rows:
        se = math.hypot(sa, sb)
        if se > 0:
            z = (ma - mb) / se
            ok = abs(z) <= z_crit
        else:                                   # neither varies: must agree exactly (to rounding)
            z = 0.0 if abs(ma - mb) <= 1e-9 * max(1.0, abs(ma), abs(mb)) else math.inf
            ok = z == 0.0
        out.append((arm, name, label, ma, mb, se, z))
        if not ok:
            bad.append(out[-1])
    return z_crit, k, out, bad


def report(zs, top=15):
    """Per series, the largest |z| over arms and years; and the worst comparisons."""
    per = {}
    for arm, name, label, ma, mb, se, z in zs:
        if abs(z) >= abs(per.get(name, (0.0,))[0]):
            per[name] = (z, arm, label)
    lines = [f"{'series':24s} {'max|z|':>7s}  where"]
    lines += [f"{n:24s} {abs(z):7.2f}  {arm} {label}" for n, (z, arm, label) in sorted(per.items())]
    lines.append("worst:")
    for arm, name, label, ma, mb, se, z in sorted(zs, key=lambda r: -abs(r[6]))[:top]:
        lines.append(f"  {arm:31s} {name:22s} {label:5s} artel {ma:.6g} numpy {mb:.6g} se {se:.3g} z {z:+.2f}")
    return "\n".join(lines)


# ---- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """{variant: (artel result file, numpy_model .npz)}"""
    tmp = tmp_path_factory.mktemp("numpy_model")
    return {v: (run_artel(tmp / f"artel-{v}.h5", *extra), run_numpy_model(tmp / f"numpy-{v}.npz", *extra))
            for v, extra in VARIANTS.items()}


@pytest.fixture(scope="module")
def pair(pairs):
    return pairs["default"]


# ---- the NumPy model itself -------------------------------------------------------------------------
def test_numpy_model_output_layout(pair):
    d = np.load(pair[1])
    assert [str(a) for a in d["arms"]] == ARMS
    assert list(d["years"]) == list(range(1923, 1943))
    for name in ("member_share", "active_share", "literacy", "grain_mean", "famine_deaths", "dissolved",
                 "state_cost"):
        assert d[name].shape == (REPLICATIONS, len(ARMS), 20), name
        assert np.isfinite(d[name]).all(), name
    assert d["start_households"].shape == (REPLICATIONS, len(ARMS))
    assert (d["start_households"] == 1000).all() and (d["households"] <= 1000).all()
    assert int(d["household_years"]) == REPLICATIONS * len(ARMS) * 1000 * 20
    # common random numbers: every arm starts from the same households and sees the same weather
    for name in ("start_persons", "start_literacy", "start_grain_mean", "failing_regions"):
        assert (d[name] == d[name][:, :1]).all(), name
    # the state's accounts add up
    parts = sum(d[k] for k in ("cost_bonus", "cost_audit", "cost_aid", "cost_interest", "cost_writeoff"))
    np.testing.assert_allclose(d["state_cost"], parts, rtol=1e-12, atol=1e-9)


def test_numpy_model_cli(tmp_path):
    """--arms, --set (section.key and arm.NAME.key), --villages and --print-rate."""
    out = tmp_path / "x.npz"
    cmd = [sys.executable, str(NUMPY_MODEL), str(SCENARIO), "--replications", "2", "--villages", "4",
           "--set", "population.households=10", "--set", "run.years=3", "--arms", "sufficiency,nep-1923",
           "--set", "arm.sufficiency.reserve_levy=0.2", "--out", str(out), "--print-rate"]
    r = subprocess.run(cmd, check=True, capture_output=True, text=True)
    assert float(r.stdout.strip()) > 0
    d = np.load(out)
    assert [str(a) for a in d["arms"]] == ["sufficiency", "nep-1923"]
    assert d["active_share"].shape == (2, 2, 3)
    assert (d["reserve_per_household"][:, 0] > 0).all() and (d["reserve_per_household"][:, 1] == 0).all()
    bad = subprocess.run([sys.executable, str(NUMPY_MODEL), str(SCENARIO), "--set", "population.nonsense=1"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "nonsense" in bad.stderr


def test_numpy_model_is_reproducible(tmp_path):
    a = run_numpy_model(tmp_path / "a.npz", replications=3)
    b = run_numpy_model(tmp_path / "b.npz", replications=3)
    da, db = np.load(a), np.load(b)
    for k in ("active_share", "grain_mean", "state_cost", "wealth_gini"):
        assert np.array_equal(da[k], db[k], equal_nan=True), k


# ---- the cross-validation ---------------------------------------------------------------------------
def test_artel_agrees_with_numpy_model(pairs):
    rows = []
    for variant, files in pairs.items():
        rows += [(f"{variant}:{r[0]}",) + r[1:] for r in comparisons(*files)]
    z_crit, k, zs, bad = two_sample(rows)
    text = report(zs)
    print(f"\n{len(rows)} comparisons, {k} with a positive standard error; Bonferroni z = {z_crit:.2f}\n{text}")
    names = {r[1] for r in rows}
    for required in ("member_share", "active_share", "literacy", "grain_mean", "famine_deaths", "dissolved",
                     "state_cost"):
        assert required in names, required
    assert {r[0] for r in rows} == {f"{v}:{a}" for v in VARIANTS for a in ARMS}
    assert not bad, (f"{len(bad)} of {len(rows)} comparisons outside z = {z_crit:.2f}:\n"
                     + "\n".join(f"  {b[0]} {b[1]} {b[2]}: artel {b[3]:.6g} numpy {b[4]:.6g} se {b[5]:.3g} "
                                 f"z {b[6]:+.2f}" for b in bad[:30]) + "\n" + text)
