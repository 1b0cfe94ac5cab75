#!/usr/bin/python3
"""Compares the baseline arm of a result file with the calibration targets of MODEL.md §10
(configs/targets-1923-1927.toml) and prints a table: what `artel-calibrate check` prints.

Usage: scripts/calibration.py nep-1923.h5 [--arm nep-1923] [--targets FILE]
"""
import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "python"))

from artel.calibrate import main  # noqa: E402

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--arm", default=None, help="arm to compare (default: the baseline)")
    ap.add_argument("--targets", default=str(HERE.parent / "configs" / "targets-1923-1927.toml"))
    args = ap.parse_args()
    sys.exit(main(["check", args.file, args.targets] + (["--arm", args.arm] if args.arm else [])))
