"""artel-plot: write the figures of an artel result file (also: python3 -m artel.plot_cli)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="artel-plot",
        description="Write the figures of an artel result file: overview, paired differences to the baseline "
                    "(forest plot and over the years), the year the active share first reaches 50%, fan charts "
                    "of the main series, household wealth and grain as differences to the baseline.")
    p.add_argument("results", help="artel result file (HDF5, from `artel run ... -o FILE`)")
    p.add_argument("-o", "--output", default=".", metavar="DIR", help="directory to write into (default: .)")
    p.add_argument("--format", default="png", choices=("png", "svg", "pdf"),
                   help="file format (default png; svg and pdf are vector graphics with text kept as text)")
    p.add_argument("--dpi", type=int, default=100, help="resolution of PNGs (default 100; 300 for print)")
    p.add_argument("--no-title", action="store_true", help="no figure titles (for a caption instead)")
    p.add_argument("--letters", action="store_true", help="letter the panels a, b, c, ...")
    p.add_argument("--paper", action="store_true",
                   help="for a paper: --no-title --letters --dpi 300 --full-colour (with --format pdf: vector)")
    p.add_argument("--only", default="", metavar="NAMES",
                   help="comma-separated figure names to write (default: all; see --list)")
    p.add_argument("--list", action="store_true", help="list the figure names and exit")
    p.add_argument("--full-colour", action="store_true",
                   help="write PNGs in full colour (default: a 256-colour palette, about 4x smaller)")
    p.add_argument("--allow-incomplete", action="store_true", help="plot a run that did not finish")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    args = p.parse_args(argv)
    if args.paper:
        args.no_title, args.letters, args.full_colour = True, True, True
        args.dpi = max(args.dpi, 300)

    import artel
    from artel import plots

    try:
        res = artel.open(args.results, allow_incomplete=args.allow_incomplete)
    except (artel.FormatError, FileNotFoundError) as e:
        print(f"artel-plot: error: {str(e).replace('pass allow_incomplete=True', 'pass --allow-incomplete')}",
              file=sys.stderr)
        return 2
    names = list(plots.figures(res))
    if args.list:
        print("\n".join(names))
        return 0
    only = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in only if n not in names]
    if unknown:
        print(f"artel-plot: error: unknown figure(s) {', '.join(unknown)}; figures: {', '.join(names)}",
              file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    out = Path(args.output)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"artel-plot: error: cannot create {out}: {e}", file=sys.stderr)
        return 1
    written = []
    for stem, make in plots.figures(res).items():
        if only and stem not in only:
            continue
        try:
            fig = make(title=not args.no_title, letters=args.letters)
        except KeyError as e:  # a group an incomplete file lacks (statistics, histograms)
            print(f"artel-plot: skipped {stem}: {e.args[0] if e.args else e}", file=sys.stderr)
            continue
        path = out / f"{stem}.{args.format}"
        try:
            plots.save(fig, path, dpi=args.dpi, compact=not args.full_colour)
        except OSError as e:
            print(f"artel-plot: error: cannot write {path}: {e}", file=sys.stderr)
            return 1
        written.append(path)
        if not args.quiet:
            print(path)
    if not args.quiet:
        print(f"artel-plot: {len(written)} figures of {res.path} in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
