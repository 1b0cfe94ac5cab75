"""python3 -m artel FILE (or python3 -m artel.info FILE): what `artel info FILE` prints, from Python.

What the file holds (engine, command, seed, arms) and the headline results
per arm, from the stats groups, in the same words and numbers as the
engine's `artel info` (engine/cli/cli.cpp, kernels/driver.cpp), so that a
machine with the package but without the engine can describe a file.
Exit code 0; 1 for an incomplete file (described, no headline); 2 when the
file is not a readable artel result file.
"""
from __future__ import annotations

import argparse
import math
import sys

#: what `artel info` prints per arm (kernels/driver.cpp, HouseholdDriver::headlines): label, variable of the
#: stats group, a series (its final year) or an event, decimals
HEADLINES = (
    ("active share", "active_share", True, 3),
    ("member share", "member_share", True, 3),
    ("literacy", "literacy", True, 3),
    ("hunger share", "hunger_share", True, 3),
    ("year active >= 50% (index)", "first_active_50", False, 1),
    ("famine deaths (total)", "famine_deaths_total", False, 0),
    ("state cost (total, roubles)", "state_cost_total", False, 0),
)


def _fixed(v: float, decimals: int) -> str:
    return f"{v:.{decimals}f}" if math.isfinite(v) else "n/a"


def describe(res, path=None) -> str:
    """The lines `artel info` prints about the file (everything before the headline results)."""
    a = res.attrs
    lines = [
        f"file:          {res.path if path is None else path}",
        f"format:        {a.get('format')} {a.get('format_version')}",
        f"engine:        artel {a.get('engine_version')} ({a.get('git_revision')})",
        f"created:       {a.get('created')}",
        f"command:       {a.get('command_line')}",
        f"scenario:      {a.get('scenario_file')}",
        f"seed:          {a.get('seed')}",
        f"replications:  {res.replications}",
        f"years:         {res.years[0]}-{res.years[-1]}",
        f"arms:          {', '.join(res.arms)} (baseline: {res.arms[0]})",
    ]
    if not res.complete:
        lines.append(f"status:        INCOMPLETE ({a.get('replications_written')} replications written)")
    return "\n".join(lines)


def headlines(res) -> str:
    """The headline results `artel info` prints: per arm, the final year's series and the events, mean over
    replications with the 5% and 95% quantiles (from dataset("stats"))."""
    st = res.dataset("stats", variables=[f"{name}{s}" for _, name, _, _ in HEADLINES for s in ("_mean", "_quantiles")])
    width = max(len(a) for a in res.arms)
    out = [f"Headline results (mean over replications, [5%, 95%] quantiles); series at the end of {res.years[-1]}:"]
    for label, name, series, decimals in HEADLINES:
        out.append(f"  {label}")
        mean, q = st[f"{name}_mean"], st[f"{name}_quantiles"]
        if series:
            mean, q = mean.isel(year=-1), q.isel(year=-1)
        for i, arm in enumerate(res.arms):
            m, lo, hi = float(mean.values[i]), float(q.values[i][0]), float(q.values[i][-1])
            out.append(f"    {arm}{' ' * (width - len(arm) + 2)}{_fixed(m, decimals)}  "
                       f"[{_fixed(lo, decimals)}, {_fixed(hi, decimals)}]")
    return "\n".join(out)


def info_text(res, path=None) -> str:
    """Everything `artel info` prints for a complete file."""
    text = describe(res, path)
    return text if not res.complete else text + "\n" + headlines(res)


# ---- the notebook's table ------------------------------------------------------------------------

def headline_table(res):
    """Res.headline() as strings for display: mean [5%, 95%] (years: median [5%, 95%]), one row per arm."""
    import pandas as pd
    h = res.headline()

    def iv(r, col, fmt):
        vals = [r[col], r[f"{col}_q05"], r[f"{col}_q95"]]
        txt = ["never" if v != v else format(v, fmt) for v in vals]
        return f"{txt[0]} [{txt[1]}, {txt[2]}]"

    def pct(r, col):
        vals = [r[col], r[f"{col}_q05"], r[f"{col}_q95"]]
        return f"{vals[0]:.1%} [{vals[1]:.1%}, {vals[2]:.1%}]"

    table = pd.DataFrame({
        f"active {h.attrs['final_year']}": [pct(r, "active_share") for _, r in h.iterrows()],
        "literacy": [pct(r, "literacy") for _, r in h.iterrows()],
        "hunger": [pct(r, "hunger_share") for _, r in h.iterrows()],
        "year active \u2265 50%": [iv(r, "year_active_50", ".0f") for _, r in h.iterrows()],
        "famine deaths": [iv(r, "famine_deaths_total", ",.0f") for _, r in h.iterrows()],
        "state cost (roubles)": [iv(r, "state_cost_total", ",.0f") for _, r in h.iterrows()],
    }, index=h.index)
    table.attrs.update(h.attrs)
    return table


NOTE = "final-year shares and totals over all years: mean [5%, 95%] across replications; year: median [5%, 95%]"


def headline_text(res) -> str:
    """headline_table(res) as text."""
    return headline_table(res).to_string() + f"\n({NOTE})"


def main(argv=None, prog: str = "python3 -m artel") -> int:
    p = argparse.ArgumentParser(prog=prog, description="Describe an artel result file and its headline results "
                                "(what `artel info FILE` prints).")
    p.add_argument("results", help="artel result file (HDF5)")
    p.add_argument("--table", action="store_true",
                   help="print the headline table of artel.Results.headline() instead of the engine's list")
    args = p.parse_args(argv)
    import artel
    try:
        res = artel.open(args.results, allow_incomplete=True)
    except (artel.FormatError, FileNotFoundError) as e:
        print(f"artel: error: {e}", file=sys.stderr)
        return 2
    if args.table and res.complete:
        print(describe(res, args.results))
        print()
        print(headline_text(res))
        return 0
    try:
        print(info_text(res, args.results))
    except KeyError as e:  # a file without stats groups
        print(f"artel: error: {args.results}: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2
    return 0 if res.complete else 1


if __name__ == "__main__":
    sys.exit(main(prog="python3 -m artel.info"))
