"""python3 -m artel.info FILE: what a result file holds, and its headline numbers per arm."""
from __future__ import annotations

import argparse
import sys


def describe(res) -> str:
    a = res.attrs
    lines = [
        f"file:          {res.path}",
        f"format:        {a.get('format')} {res.format_version}" + ("" if res.complete else "  (INCOMPLETE)"),
        f"engine:        artel {a.get('engine_version')} ({a.get('git_revision')})",
        f"created:       {a.get('created')}",
        f"command:       {a.get('command_line')}",
        f"scenario:      {a.get('scenario_file')}",
        f"seed:          {a.get('seed')}",
        f"replications:  {res.replications}",
        f"years:         {res.years[0]}-{res.years[-1]}",
        f"arms:          {', '.join(res.arms)} (baseline: {res.baseline})",
    ]
    for arm in res.others:
        ov = res.overrides(arm)
        lines.append(f"  {arm}: " + (", ".join(f"{k} = {v}" for k, v in ov.items()) or "(no overrides)"))
    return "\n".join(lines)


def headline_table(res):
    """Res.headline() as strings for display: mean [5%, 95%] (years: median [5%, 95%]), one row per arm."""
    import pandas as pd
    h = res.headline()

    def iv(r, col, fmt):
        vals = [r[col], r[f"{col}_q05"], r[f"{col}_q95"]]
        txt = ["never" if v != v else format(v, fmt) for v in vals]
        return f"{txt[0]} [{txt[1]}, {txt[2]}]"

    table = pd.DataFrame({
        f"active {h.attrs['final_year']}": [iv(r, "active_share", ".3f") for _, r in h.iterrows()],
        "literacy": [iv(r, "literacy", ".3f") for _, r in h.iterrows()],
        "hunger": [iv(r, "hunger_share", ".3f") for _, r in h.iterrows()],
        "year active >= 50%": [iv(r, "year_active_50", ".0f") for _, r in h.iterrows()],
        "famine deaths": [iv(r, "famine_deaths_total", ".0f") for _, r in h.iterrows()],
        "state cost (roubles)": [iv(r, "state_cost_total", ",.0f") for _, r in h.iterrows()],
    }, index=h.index)
    table.attrs.update(h.attrs)
    return table


NOTE = "final-year shares and totals over all years: mean [5%, 95%] across replications; year: median [5%, 95%]"


def headline_text(res) -> str:
    """headline_table(res) as text."""
    return headline_table(res).to_string() + f"\n({NOTE})"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m artel.info", description=__doc__)
    p.add_argument("results", help="artel result file")
    p.add_argument("--allow-incomplete", action="store_true", help="describe a run that did not finish")
    args = p.parse_args(argv)
    import artel
    try:
        res = artel.open(args.results, allow_incomplete=args.allow_incomplete)
    except (artel.FormatError, FileNotFoundError) as e:
        print(f"artel.info: error: {str(e).replace('pass allow_incomplete=True', 'pass --allow-incomplete')}",
              file=sys.stderr)
        return 2
    print(describe(res))
    try:
        print()
        print(headline_text(res))
    except KeyError as e:  # an incomplete file has no stats
        print(f"(no headline: {e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
