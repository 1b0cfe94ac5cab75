#!/usr/bin/python3
"""Times the Python package on a result file (docs/python.md, "Speed"): best of N, in seconds.

    /usr/bin/python3 scripts/bench_reader.py nep-1923.h5 [-n 5]

Uses the installed artel package (or the source tree's, with PYTHONPATH=scripts/python). Each timing opens
the file afresh (nothing cached between repetitions).
"""
import argparse
import subprocess
import sys
import time


def best(f, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results")
    p.add_argument("-n", type=int, default=5, help="repetitions (default 5; 3 for the h5netcdf engine)")
    args = p.parse_args()
    path, n = args.results, args.n
    t = time.perf_counter()
    import artel
    import xarray as xr
    print(f"import artel (numpy, h5py, xarray, pandas)      {time.perf_counter() - t:6.3f}")
    arm = artel.open(path).others[-1] if artel.open(path).others else artel.open(path).baseline
    rows = [
        ("artel.open(path).headline()", lambda: artel.open(path).headline()),
        ("artel.open(path).compare()", lambda: artel.open(path).compare()),
        ("dataset('stats'), every arm", lambda: artel.open(path).dataset("stats")),
        ("dataset('diff'), every arm", lambda: artel.open(path).dataset("diff")),
        ("dataset('series') (lazy)", lambda: artel.open(path).dataset("series")),
        ("dataset('series').load()", lambda: artel.open(path).dataset("series").load()),
        ("dataset('events')", lambda: artel.open(path).dataset("events")),
        (f"stats(arm): one arm's stats group", lambda: artel.open(path).stats(arm)),
    ]
    for name, f in rows:
        print(f"{name:48s}{best(f, n):6.3f}")
    h5 = best(lambda: xr.open_dataset(path, group=f"arms/{arm}/stats", engine="h5netcdf").load(), min(n, 3))
    print(f"{'the same group, xarray h5netcdf engine, .load()':48s}{h5:6.3f}")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "artel", path], check=True, capture_output=True)
    print(f"{'python3 -m artel FILE (a new process)':48s}{time.perf_counter() - t:6.3f}")


if __name__ == "__main__":
    main()
