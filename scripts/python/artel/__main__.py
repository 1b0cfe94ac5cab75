"""python3 -m artel FILE: describe an artel result file as `artel info FILE` does (see artel.info)."""
import sys

from .info import main

if __name__ == "__main__":
    sys.exit(main(prog="python3 -m artel"))
