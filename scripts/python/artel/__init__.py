"""artel: read and plot the result files of the artel co-operative household model.

    import artel
    res = artel.open("nep-1923.h5")
    res.headline()                      # one row per arm
    artel.plots.overview(res)           # a matplotlib Figure

See docs/python.md. Reads result format 1.x (root attribute format_major = 1).
"""
from .reader import (COOP_STATES, EVENT_YEARS, FORMAT_NAME, GROUPS, SUPPORTED_MAJOR, FormatError, Results,
                     open_results)

__version__ = "1.0"


def open(path, *, allow_incomplete: bool = False) -> Results:  # noqa: A001 (artel.open, like h5py.File)
    """Open and check an artel result file; raises FormatError (one line) if it is not usable."""
    return Results(path, allow_incomplete=allow_incomplete)


def __getattr__(name):
    # matplotlib is imported only when the plots are used
    if name == "plots":
        import importlib
        return importlib.import_module(".plots", __name__)
    raise AttributeError(f"module 'artel' has no attribute {name!r}")


__all__ = ["open", "open_results", "Results", "FormatError", "FORMAT_NAME", "SUPPORTED_MAJOR", "GROUPS",
           "EVENT_YEARS", "COOP_STATES", "plots"]
