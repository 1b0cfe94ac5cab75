"""artel: read, combine and plot the result files of the artel co-operative household model.

    import artel
    res = artel.open("nep-1923.h5")
    res.headline()                      # one row per arm
    ds = res.dataset("series")          # xarray.Dataset (arm, replication, year), baseline first
    ds.active_share.sel(arm="sufficiency").quantile([0.05, 0.5, 0.95], "replication")
    artel.plots.overview(res)           # a matplotlib Figure

    study = artel.open_study(["a.h5", "b.h5"])   # several files of one study (--set values, sweeps)
    study.dataset("diff")               # with the differing parameters as a dimension

See docs/python.md. Reads result format 1.x (root attribute format_major = 1).
Command line: `python3 -m artel FILE` (what `artel info FILE` prints),
`artel-plot FILE -o DIR` (figures), `artel-notebook FILE` (the analysis notebook, headless).
"""
from .reader import (COOP_STATES, EVENT_YEARS, FORMAT_NAME, GROUPS, SUPPORTED_MAJOR, FormatError, Results,
                     open_results, t_quantile)
from .study import Study, combine, open_study, summarise

__version__ = "0.6.1"  # the engine version it ships with (CMakeLists.txt project VERSION)


def open(path, *, allow_incomplete: bool = False) -> Results:  # noqa: A001 (artel.open, like h5py.File)
    """Open and check an artel result file; raises FormatError (one line) if it is not usable."""
    return Results(path, allow_incomplete=allow_incomplete)


def __getattr__(name):
    # submodules on first use (matplotlib is imported only when the plots are used)
    if name in ("plots", "info", "notebook", "plot_cli"):
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'artel' has no attribute {name!r}")


__all__ = ["open", "open_results", "open_study", "combine", "summarise", "t_quantile", "Results", "Study",
           "FormatError", "FORMAT_NAME", "SUPPORTED_MAJOR", "GROUPS", "EVENT_YEARS", "COOP_STATES", "plots", "info"]
