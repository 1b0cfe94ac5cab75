"""Results that must not change: a small run of the default scenario against
the SHA-256 of every dataset under /arms that artel 0.5.1 wrote
(tests/data/golden_small_run.txt). A change of results must be intended:
then the file is made again and the change said in CHANGELOG.md.

Also: priors that can take one value only (discrete, the default value) go
through the whole per-replication parameter path and must give the same
results to the bit."""
import hashlib
import subprocess

import h5py
import numpy as np

from conftest import EXE, SCENARIO, SMALL, SOURCE

GOLDEN = SOURCE / "tests" / "data" / "golden_small_run.txt"

# Defaults of the parameters given one-value priors below.
DEGENERATE = {"weather.failure_prob": 0.15, "population.literacy0": 0.40, "behaviour.lambda0": 0.02,
              "behaviour.q_imit": 0.38, "economy.rate_private": 0.40, "demography.famine_mortality": 0.3}


def digests(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and name.startswith("arms/"):
                a = np.atleast_1d(obj[()])
                if a.dtype.kind == "O":
                    b = "\n".join(x.decode() if isinstance(x, bytes) else str(x) for x in a).encode()
                else:
                    b = a.astype(a.dtype.newbyteorder("<")).tobytes()
                out[name] = hashlib.sha256(b).hexdigest()
        f.visititems(visit)
    return out


def golden():
    return dict(reversed(line.split()) for line in GOLDEN.read_text().splitlines())


def run(out, *extra):
    subprocess.run([EXE, "run", str(SCENARIO), "-o", str(out), "--threads", "2", *SMALL, *extra], check=True)
    return out


def assert_matches_golden(path):
    want, got = golden(), digests(path)
    missing = sorted(set(want) - set(got))
    assert not missing, f"{len(missing)} datasets of 0.5.1 are gone, e.g. {missing[:3]}"
    changed = sorted(k for k in want if want[k] != got[k])
    assert not changed, f"{len(changed)} of {len(want)} datasets changed, e.g. {changed[:5]}"


def test_the_default_scenario_gives_the_results_of_0_5_1(tmp_path):
    assert_matches_golden(run(tmp_path / "small.h5"))


def test_priors_of_one_value_give_the_same_results(tmp_path):
    sets = []
    for key, value in DEGENERATE.items():
        sets += ["--set", f"{key}={{ dist = \"discrete\", values = [{value}] }}"]
    path = run(tmp_path / "degenerate.h5", *sets)
    assert_matches_golden(path)
    with h5py.File(path, "r") as f:
        for key, value in DEGENERATE.items():
            assert np.all(f["uncertainty"][key][()] == value), key
