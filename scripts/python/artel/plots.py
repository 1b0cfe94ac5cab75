"""Figures of an artel result file (matplotlib, Agg; no pyplot state).

Every function takes a Results (artel.open(path)) and returns a
matplotlib.figure.Figure; save it with fig.savefig(path, dpi=100). Each arm
has one colour in every figure (arm_colours: a fixed mapping, baseline
first, grey). Bands are quantiles across replications (possible histories):
the median line, the 50% band (25-75%) and the 90% band (5-95%).

    overview(res)                   2x2: active share, cumulative state cost and famine deaths, year to majority
    fan(res, "active_share")        one panel of all arms' medians, then one fan per arm
    diff_fan(res, "active_share")   paired difference arm - baseline, one fan per arm
    differences(res)                paired differences of the main series, all arms per panel
    year_to_majority(res)           ECDF across replications of the year the active share first reaches 0.5
    histogram(res, "wealth")        household distribution per arm at the histogram years
"""
from __future__ import annotations

import math
import os
import sys

import matplotlib

# The figures are plain matplotlib.figure.Figure objects (no pyplot state) rendered by Agg. Select Agg
# for pyplot too unless something else (a notebook's inline backend, MPLBACKEND) has chosen already.
if "MPLBACKEND" not in os.environ and "matplotlib.pyplot" not in sys.modules:
    matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter, MultipleLocator, PercentFormatter  # noqa: E402

from .reader import Results  # noqa: E402

#: colours by arm position: the baseline grey, then Okabe-Ito (colour-blind safe), then more
PALETTE = ["#555555", "#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442",
           "#8C564B", "#17BECF", "#BCBD22", "#7F7F7F"]

#: the series drawn as fans by default (and by scripts/artel-plot)
FAN_SERIES = ("active_share", "passive_share", "literacy", "hunger_share", "famine_deaths", "state_cost")

#: title and axis unit of the main series; others use the file's long_name and units
LABELS = {
    "active_share": ("active members", "share of living households"),
    "passive_share": ("passive members", "share of living households"),
    "member_share": ("members (passive or active)", "share of living households"),
    "literacy": ("literacy", "share of adults literate"),
    "hunger_share": ("households in hunger", "share of living households"),
    "famine_deaths": ("famine deaths", "persons per year"),
    "state_cost": ("state cost", "roubles per year"),
    "famine_death_rate": ("famine deaths", "per 1000 persons per year"),
}
_SHARE_UNITS = {"1"}
BAND_ALPHA = (0.16, 0.36)  # 90%, 50%
YEAR_LABEL = "year (end of)"


def arm_colours(arms) -> dict:
    """{arm: colour}: by position, baseline (first) grey. Accepts a Results or a list of arm names."""
    names = arms.arms if isinstance(arms, Results) else list(arms)
    return {a: PALETTE[i % len(PALETTE)] for i, a in enumerate(names)}


# ---- helpers -----------------------------------------------------------------------------------

def _label(res: Results, var: str, cumulative: bool = False) -> tuple[str, str]:
    """(title, unit) of a series."""
    if var in LABELS:
        title, unit = LABELS[var]
    else:
        attrs = res.series(res.baseline)[var].attrs
        title, unit = attrs.get("long_name", var), attrs.get("units", "")
        unit = "share" if unit in _SHARE_UNITS else unit
    if cumulative:
        title = f"{title} since {res.start_year} (cumulative)"
        unit = unit.replace(" per year", "")
    return title, unit


def _scale(unit: str, values) -> tuple[float, str]:
    """Divide money and head counts by 10^3 or 10^6 when they are large."""
    big = np.nanmax(np.abs(values)) if np.size(values) and np.isfinite(values).any() else 0
    if unit.startswith("roubles") or unit.startswith("persons"):
        if big >= 2e6:
            return 1e6, "million " + unit
        if big >= 2e4:
            return 1e3, "thousand " + unit
    return 1.0, unit


def _population(res: Results) -> str:
    pop = res.config.get("population", {})
    v, h = pop.get("villages"), pop.get("households")
    size = f" of {v} villages x {h} households" if v and h else ""
    return f"{res.replications} replications{size}"


def _year_axis(ax, res: Results, label=True):
    step = 5 if res.n_years > 8 else 1
    ax.xaxis.set_major_locator(MultipleLocator(step))
    if step > 1:
        ax.xaxis.set_minor_locator(MultipleLocator(1))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{int(round(x))}"))
    ax.set_xlim(res.years[0] - 0.5, res.years[-1] + 0.5)
    if label:
        ax.set_xlabel(YEAR_LABEL)


def _grid(n: int, ncols_max: int = 3, panel=(3.5, 2.6)):
    ncols = min(ncols_max, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(panel[0] * ncols + 0.4, panel[1] * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n])


def _band(ax, x, q, colour, label=None, lw=1.8, bands=True, alpha=BAND_ALPHA, zorder=2):
    """q: (5, year) at levels 0.05, 0.25, 0.5, 0.75, 0.95."""
    if bands:
        ax.fill_between(x, q[0], q[4], color=colour, alpha=alpha[0], lw=0, zorder=zorder)
        if alpha[1]:
            ax.fill_between(x, q[1], q[3], color=colour, alpha=alpha[1], lw=0, zorder=zorder)
    (line,) = ax.plot(x, q[2], color=colour, lw=lw, label=label, zorder=zorder + 1)
    return line


def _share_axis(ax, unit):
    if unit.startswith("share"):
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _band_legend(fig, res, arms, colours, bands="median, 50% and 90% bands"):
    """A legend of the arms below the panels (constrained layout keeps room for it)."""
    handles = [Line2D([], [], color=colours[a], lw=2.2, label=a + (" (baseline)" if a == res.baseline else ""))
               for a in arms]
    ncols = min(len(handles), 5)
    rows = math.ceil(len(handles) / ncols)
    height = (0.32 + 0.22 * rows) / fig.get_figheight()
    fig.get_layout_engine().set(rect=(0, height, 1, 1 - height))
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0), ncols=ncols, frameon=False,
               fontsize=9, title=f"{bands} across {_population(res)}", title_fontsize=8.5,
               borderaxespad=0.2, handlelength=1.6, columnspacing=1.4)


def _width(i: int, n: int, wide: float = 3.0, thin: float = 1.3) -> float:
    """Line width of the i-th of n arms: earlier arms wider, so that a later arm drawn on top of an
    identical line leaves the earlier one visible around it."""
    return wide - (wide - thin) * i / max(1, n - 1)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _levels(res, arm, var, cumulative=False, diff=False):
    return res.band(arm, var, (0.05, 0.25, 0.5, 0.75, 0.95), cumulative=cumulative, diff=diff)


# ---- fan charts --------------------------------------------------------------------------------

def fan(res: Results, var: str, *, cumulative: bool = False, arms=None) -> Figure:
    """Fan chart of one series: a first panel with every arm's median (one line per arm, labelled with
    the arm's name), then one panel per arm with its median, 50% and 90% bands and the baseline's
    median (dashed grey) for reference."""
    arms = list(arms or res.arms)
    colours = arm_colours(res)
    title, unit = _label(res, var, cumulative)
    bands = {a: _levels(res, a, var, cumulative) for a in arms}
    div, unit = _scale(unit, np.stack([b.values for b in bands.values()]))
    x = res.years
    fig, axes = _grid(len(arms) + 1)
    ax0 = axes[0]
    for i, a in enumerate(arms):
        # earlier arms slightly wider, so that a later arm's identical line leaves them visible
        ax0.plot(x, bands[a].values[2] / div, color=colours[a], lw=_width(i, len(arms)), label=a)
    ax0.set_title("all arms: median", fontsize=10)
    base = bands.get(res.baseline)
    for ax, a in zip(axes[1:], arms):
        q = bands[a].values / div
        if base is not None and a != res.baseline:
            ax.plot(x, base.values[2] / div, color=colours[res.baseline], lw=1.0, ls="--",
                    label="_baseline median")
        _band(ax, x, q, colours[a], label="_median")
        ax.set_title(a, fontsize=10, color=colours[a], fontweight="bold")
    for ax in axes:
        _year_axis(ax, res, label=False)
        _share_axis(ax, unit)
        ax.grid(alpha=0.25, lw=0.5)
    ncols = min(3, len(axes))
    for ax in axes[-ncols:]:
        ax.set_xlabel(YEAR_LABEL)
    for ax in axes[::ncols]:
        ax.set_ylabel(unit)
    fig.suptitle(f"{_cap(title)} [{unit}]: median, 50% and 90% bands across replications", fontsize=11)
    _band_legend(fig, res, arms, colours, bands="median line (all arms) and fans per arm")
    return fig


def diff_fan(res: Results, var: str, *, cumulative: bool = False) -> Figure:
    """Paired difference arm - baseline (same replication, common random numbers) of one series:
    one panel per non-baseline arm with the median, 50% and 90% bands and the zero line."""
    arms = res.others
    colours = arm_colours(res)
    title, unit = _label(res, var, cumulative)
    bands = {a: _levels(res, a, var, cumulative, diff=True) for a in arms}
    div, unit = _scale(unit, np.stack([b.values for b in bands.values()]) if bands else [])
    x = res.years
    fig, axes = _grid(max(1, len(arms)), ncols_max=2 if len(arms) == 4 else 3)
    for ax, a in zip(axes, arms):
        ax.axhline(0, color=colours[res.baseline], lw=1.0, ls="--")
        _band(ax, x, bands[a].values / div, colours[a], label=a)
        ax.set_title(f"{a} \u2212 {res.baseline}", fontsize=10, color=colours[a], fontweight="bold")
    ncols = 2 if len(arms) == 4 else min(3, len(axes))
    for i, ax in enumerate(axes):
        _year_axis(ax, res, label=i >= len(axes) - ncols)
        _share_axis(ax, unit)
        ax.grid(alpha=0.25, lw=0.5)
    for ax in axes[::ncols]:
        ax.set_ylabel(f"difference [{unit}]")
    fig.suptitle(f"{_cap(title)}:\npaired difference to the baseline {res.baseline!r} (same weather and households),\n"
                 f"median, 50% and 90% bands across {res.replications} replications", fontsize=10)
    return fig


#: the series of differences(): (var, cumulative)
DIFF_SERIES = (("active_share", False), ("passive_share", False), ("literacy", False), ("hunger_share", False),
               ("famine_deaths", True), ("state_cost", True))


def differences(res: Results, series=DIFF_SERIES) -> Figure:
    """Paired differences arm - baseline of several series (famine deaths and state cost cumulative,
    so the last year shows the total), one panel per series, every non-baseline arm in it: median
    line and 90% band. One line per non-baseline arm in each panel."""
    arms = res.others
    colours = arm_colours(res)
    ncols = min(3, len(series))
    nrows = math.ceil(len(series) / ncols)
    fig = Figure(figsize=(3.6 * ncols + 0.4, 2.7 * nrows + 1.1), layout="constrained")
    axs = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()  # own y axes: different units
    for ax in axs[len(series):]:
        ax.set_visible(False)
    x = res.years
    for ax, (var, cum) in zip(axs, series):
        title, unit = _label(res, var, cum)
        bands = {a: _levels(res, a, var, cum, diff=True).values for a in arms}
        div, unit = _scale(unit, np.stack(list(bands.values())) if bands else [])
        ax.axhline(0, color=colours[res.baseline], lw=1.0, ls="--")
        for i, a in enumerate(arms):
            _band(ax, x, bands[a] / div, colours[a], label=a, lw=_width(i, len(arms), 2.6, 1.3),
                  alpha=(0.13, 0))
        ax.set_title(_cap(title), fontsize=9.5)
        ax.set_ylabel(f"difference [{unit}]", fontsize=8.5)
        _share_axis(ax, unit)
        _year_axis(ax, res, label=False)
        ax.grid(alpha=0.25, lw=0.5)
    for ax in axs[:len(series)][-ncols:]:
        ax.set_xlabel(YEAR_LABEL)
    fig.suptitle(f"Paired difference to the baseline {res.baseline!r} (same weather and households): "
                 f"median and 90% band", fontsize=11)
    _band_legend(fig, res, arms, colours, bands="arm \u2212 baseline, median and 90% band")
    return fig


# ---- year to majority --------------------------------------------------------------------------

def _ecdf(ax, res: Results, arms, colours, event="first_active_50", annotate=True):
    """ECDF across replications of an event year; 'never' drawn at start_year + T."""
    T, y0 = res.n_years, res.start_year
    never_x = y0 + T
    ev = res.events()
    lines, nevers = [], []
    for i, a in enumerate(arms):
        t = np.sort(ev.loc[ev["arm"] == a, event].to_numpy())
        t = t[np.isfinite(t)]
        if not t.size:
            continue
        xs = np.where(t >= T, never_x, y0 + t)
        steps = np.concatenate([[y0 - 1.5], xs, [never_x + 0.5]])
        frac = np.concatenate([[0], np.arange(1, t.size + 1) / t.size, [1]])
        (line,) = ax.step(steps, frac, where="post", color=colours[a], lw=_width(i, len(arms)), label=a)
        lines.append(line)
        never = float(np.mean(t >= T))
        if never > 0:
            nevers.append((a, never))
    ax.axhline(0.5, color="0.5", lw=0.8, ls=":")
    ax.axvline(never_x - 0.5, color="0.6", lw=0.8)
    ticks = [y for y in range(y0, y0 + T) if y % 5 == 0] + [never_x]
    ax.set_xticks(ticks, [str(y) for y in ticks[:-1]] + ["never"])
    ax.xaxis.set_minor_locator(MultipleLocator(1))
    ax.set_xlim(y0 - 1.5, never_x + (3.2 if annotate and nevers else 0.9))
    if annotate and nevers:  # the share of replications that never get there, a column per arm colour
        ax.text(never_x + 0.6, 0.97, "never:", fontsize=7.5, va="top", color="0.3")
        for k, (a, never) in enumerate(nevers):
            ax.text(never_x + 0.6, 0.89 - 0.075 * k, f"{never:.0%}", fontsize=7.5, va="top", color=colours[a],
                    fontweight="bold")
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(YEAR_LABEL)
    ax.set_ylabel("share of replications")
    ax.grid(alpha=0.25, lw=0.5)
    return lines


def year_to_majority(res: Results, event: str = "first_active_50") -> Figure:
    """Distribution across replications of the year the active share first reaches 0.5 (or another
    first_* event): ECDF per arm (one line per arm); the leftmost curve gets there first, the
    crossing of the dotted 50% line is the median year, the jump at 'never' the share that never does."""
    colours = arm_colours(res)
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.subplots()
    _ecdf(ax, res, res.arms, colours, event)
    what = {"first_active_50": "the active share first reaches 50%", "first_active_90":
            "the active share first reaches 90%", "first_literacy_90": "literacy first reaches 90%"}.get(event, event)
    ax.set_title(f"Year {what}: share of replications by then\n({_population(res)}; "
                 f"median where a curve crosses the dotted line)", fontsize=10)
    ax.set_ylabel("replications that reached it (ECDF)")
    ax.legend(loc="upper left", fontsize=8.5, frameon=False)
    return fig


# ---- histograms --------------------------------------------------------------------------------

def histogram(res: Results, name: str = "wealth", *, years=None, log: bool | None = None) -> Figure:
    """Household distribution of wealth, grain or literacy at the histogram years: one panel per year,
    one step line per arm (share of living households per bin, over all replications). The last bin
    also counts values above its upper edge: it is drawn apart as a dot, marked '>= its lower edge'.
    log: logarithmic share axis (default for wealth and grain, whose first and last bins dominate)."""
    colours = arm_colours(res)
    hs = {a: res.histograms(a) for a in res.arms}
    h0 = hs[res.baseline]
    hyears = list(h0["histogram_year"].values) if years is None else list(years)
    edges = h0[f"{name}_edges"].values
    unit = h0[f"{name}_edges"].attrs.get("units", "")
    unit = "share of adults literate" if unit in _SHARE_UNITS else unit
    long = {"wealth": "wealth max(0, cash + P grain \u2212 debt)", "grain": "grain held",
            "literacy": "literate adults / adults"}.get(name, name)
    width = edges[1] - edges[0]
    overflow = name != "literacy"
    log = overflow if log is None else log
    fig, axes = _grid(len(hyears), ncols_max=4, panel=(3.0, 2.6))
    for ax, yr in zip(axes, hyears):
        for i, a in enumerate(res.arms):
            c = hs[a][name].sel(histogram_year=yr).values.astype(float)
            share = c / c.sum() if c.sum() > 0 else c
            n = len(share) - 1 if overflow else len(share)
            ax.stairs(share[:n], edges[:n + 1], color=colours[a], lw=_width(i, len(res.arms), 2.6, 1.1), label=a,
                      baseline=None)
            if overflow:
                ax.plot([edges[-2] + 1.5 * width], [share[-1]], "o", ms=4, color=colours[a], label="_overflow")
        ax.set_title(f"end of {yr}", fontsize=10)
        ax.grid(alpha=0.25, lw=0.5)
        if log:
            ax.set_yscale("log")
            ax.set_ylim(1e-4, 1.5)
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:g}%"))
        else:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        if overflow:
            ax.axvline(edges[-2] + 0.5 * width, color="0.6", lw=0.8)
            ticks = [t for t in ax.get_xticks() if edges[0] <= t <= edges[-2]]
            ax.set_xticks(ticks + [edges[-2] + 1.5 * width],
                          [f"{t:g}" for t in ticks] + [f"\u2265{edges[-2]:g}"])
            ax.set_xlim(edges[0], edges[-2] + 2.5 * width)
    ncols = min(4, len(axes))
    for ax in axes[-ncols:]:
        ax.set_xlabel(f"{name} [{unit}]")
    for ax in axes[::ncols]:
        ax.set_ylabel("share of households per bin" + (" (log)" if log else ""))
    fig.suptitle(f"Household {long}, all replications ({_population(res)})", fontsize=11)
    _band_legend(fig, res, res.arms, colours, bands="share of living households per bin; the dot: last bin and above;")
    return fig


# ---- overview ----------------------------------------------------------------------------------

def overview(res: Results) -> Figure:
    """2x2 for the README: active share (median and 90% band), cumulative state cost, cumulative famine
    deaths, and the year the active share first reaches 50% (ECDF). One line per arm in each panel."""
    colours = arm_colours(res)
    arms = res.arms
    fig = Figure(figsize=(10, 7.2), layout="constrained")
    axes = fig.subplots(2, 2)
    x = res.years
    panels = [("active_share", False, axes[0, 0]), ("state_cost", True, axes[0, 1]),
              ("famine_deaths", True, axes[1, 0])]
    for var, cum, ax in panels:
        title, unit = _label(res, var, cum)
        bands = {a: _levels(res, a, var, cum).values for a in arms}
        div, unit = _scale(unit, np.stack(list(bands.values())))
        for i, a in enumerate(arms):
            _band(ax, x, bands[a] / div, colours[a], label=a, lw=_width(i, len(arms)), alpha=(0.14, 0))
        ax.set_title(_cap(title), fontsize=10.5)
        ax.set_ylabel(unit)
        _share_axis(ax, unit)
        _year_axis(ax, res)
        ax.grid(alpha=0.25, lw=0.5)
    axes[0, 0].axhline(0.5, color="0.5", lw=0.8, ls=":")
    ax = axes[1, 1]
    _ecdf(ax, res, arms, colours)
    ax.set_title("Year the active share first reaches 50%", fontsize=10.5)
    ax.set_ylabel("share of replications by then")
    fig.suptitle("Which policy brings the majority into active co-operation first, and at what cost?",
                 fontsize=12.5, fontweight="bold")
    _band_legend(fig, res, arms, colours, bands="median and 90% band (ECDF: share of replications)")
    return fig


#: what scripts/artel-plot writes: {file stem: function(res) -> Figure}
def figures(res: Results) -> dict:
    out = {"overview": lambda: overview(res)}
    for var in FAN_SERIES:
        out[f"fan_{var}"] = (lambda v: lambda: fan(res, v))(var)
    if res.others:
        out["differences"] = lambda: differences(res)
    out["year_to_majority"] = lambda: year_to_majority(res)
    out["histogram_wealth"] = lambda: histogram(res, "wealth")
    out["histogram_grain"] = lambda: histogram(res, "grain")
    return out


def save(fig: Figure, path, *, dpi: int = 100, compact: bool = True):
    """Save a figure; a PNG is written with a 256-colour palette when compact (about 4x smaller, and
    indistinguishable for these figures)."""
    from pathlib import Path
    path = Path(path)
    if path.suffix.lower() != ".png" or not compact:
        fig.savefig(path, dpi=dpi)
        return path
    import io

    from PIL import Image
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    buf.seek(0)
    with Image.open(buf) as im:
        q = im.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        q.save(path, format="PNG", optimize=True)
    return path


def save_all(res: Results, outdir, *, fmt: str = "png", dpi: int = 100, only=None, compact: bool = True) -> list:
    """Write figures(res) to outdir as <stem>.<fmt>; returns the paths written."""
    from pathlib import Path
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, make in figures(res).items():
        if only and stem not in only:
            continue
        try:
            fig = make()
        except KeyError as e:  # a group an incomplete file lacks (statistics, histograms)
            import warnings
            warnings.warn(f"skipped {stem}: {e.args[0] if e.args else e}", stacklevel=2)
            continue
        written.append(save(fig, outdir / f"{stem}.{fmt}", dpi=dpi, compact=compact))
    return written
