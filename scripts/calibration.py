#!/usr/bin/python3
"""Compares the baseline arm of a result file with the historical figures of
MODEL.md §10 (calibration targets, 1923-1927) and prints a table.

Usage: scripts/calibration.py nep-1923.h5 [--arm nep-1923]
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent / "python"))
import artel  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--arm", default=None, help="arm to compare (default: the baseline)")
    args = ap.parse_args()
    try:
        res = artel.open(args.file)
    except (artel.FormatError, FileNotFoundError) as e:
        sys.exit(f"calibration: {e}")
    arm = args.arm or res.baseline
    s = res.series(arm)
    start = res.start(arm)
    y0 = int(s["year"][0])

    def at(name, year):
        x = s[name].sel(year=year).values
        x = x[np.isfinite(x)]
        return np.median(x), np.quantile(x, 0.05), np.quantile(x, 0.95)

    def row(label, target, values, fmt="{:.1%}"):
        m, lo, hi = values
        print(f"{label:<58} {target:>16}   {fmt.format(m):>8}  [{fmt.format(lo)}, {fmt.format(hi)}]")

    print(f"calibration of arm '{arm}' in {args.file} ({int(res.attrs['replications'])} replications);"
          " model: median [5%, 95%] across replications")
    print(f"{'figure':<58} {'target':>16}   {'model':>8}")
    lit0 = start["literacy"].values
    row("literacy of adults at the start (1920 census: ~42%)", "about 42%",
        (np.median(lit0), np.quantile(lit0, 0.05), np.quantile(lit0, 0.95)))
    if 1926 in s["year"].values:
        row("literacy of adults, end of 1926 (census 1926: 56.6%, ages 9-49)", "56.6%", at("literacy", 1926))
    for year, target in ((1924, "about 10%"), (1927, "about a third")):
        if year in s["year"].values:
            row(f"households in co-operatives (members), end of {year}", target, at("member_share", year))
    if 1926 in s["year"].values:
        row("marketed share of the harvest, net, 1926", "13.3%", at("marketed_net", 1926))
    # year-to-year coefficient of variation of the yield, per replication, 1923-1927
    hpa = s["harvest_per_ha"].sel(year=slice(y0, y0 + 4)).values
    cv = np.nanstd(hpa, axis=1, ddof=1) / np.nanmean(hpa, axis=1)
    row("coefficient of variation of yield, 1923-1927", "about 14%",
        (np.median(cv), np.quantile(cv, 0.05), np.quantile(cv, 0.95)))
    regions = res.config["population"]["regions"]
    fail = s["failing_regions"].values / regions
    freq = fail.mean(axis=1)
    row("regional failure (drought) frequency, per region-year", "1 in 5-7 (14-20%)",
        (np.median(freq), np.quantile(freq, 0.05), np.quantile(freq, 0.95)))
    size = (s["persons"] / s["households"]).sel(year=1927 if 1927 in s["year"].values else y0)
    size = size.values
    row("household size, 1927 (persons)", "5.3, stable",
        (np.median(size), np.quantile(size, 0.05), np.quantile(size, 0.95)), fmt="{:.2f}")
    pars = res.policy(arm) if hasattr(res, "policy") else {}
    print(f"{'interest: organised credit vs usurers (inputs)':<58} {'3-7% vs 30-50%':>16}   "
          f"{res.config['policy']['rate_coop']:.0%} vs {res.config['economy']['rate_private']:.0%}")
    hunger = s["hunger_share"].values
    failing = s["failing_regions"].values
    normal = hunger[failing == 0]
    bad = hunger[failing > 0]
    print(f"{'hunger share in years without / with regional failure':<58} {'rare / higher':>16}   "
          f"{np.mean(normal):.1%} / {np.mean(bad):.1%}  (means over replication-years)")


if __name__ == "__main__":
    main()
