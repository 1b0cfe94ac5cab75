"""Figures of an artel result file (matplotlib, Agg; no pyplot state), in one style, ready for a paper.

Every function takes a Results (artel.open(path)) and returns a
matplotlib.figure.Figure. Every one accepts ``title=False`` (no figure title,
for a caption instead) and ``letters=True`` (panels lettered a, b, c, ...);
save with ``save(fig, "x.png", dpi=300)`` or as vector graphics
(``"x.pdf"``, ``"x.svg"``, text kept as text).

Each arm has one colour and one marker in every figure (arm_colours,
arm_markers: by position, the baseline grey). Bands are quantiles across
replications (possible histories): the median line, the 50% band (25-75%)
and the 90% band (5-95%). Differences of shares are in percentage points,
famine is a rate per 1,000 persons. Arms whose lines coincide stay visible:
earlier arms are drawn wider, markers sit at staggered years, and a note
names the arms that coincide.

    overview(res)                   2x2: active share, cumulative state cost, famine per 1,000, year to majority
    forest(res)                     paired difference of each arm to the baseline: mean, 95% interval, 90% range
    differences(res)                paired differences over the years, all arms per panel
    year_to_majority(res)           ECDF across replications of the year the active share first reaches 50%
    fan(res, "active_share")        one panel of all arms' medians, then one fan per arm
    diff_fan(res, "active_share")   paired difference arm - baseline of one quantity, one fan per arm
    histogram(res, "wealth")        household distribution: the baseline's, and each arm's difference to it
"""
from __future__ import annotations

import functools
import math
import os
import sys
from dataclasses import dataclass

import matplotlib

# The figures are plain matplotlib.figure.Figure objects (no pyplot state) rendered by Agg. Select Agg
# for pyplot too unless something else (a notebook's inline backend, MPLBACKEND) has chosen already.
if "MPLBACKEND" not in os.environ and "matplotlib.pyplot" not in sys.modules:
    matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter, MultipleLocator, PercentFormatter  # noqa: E402

from .reader import Results, t_quantile  # noqa: E402

#: colours by arm position: the baseline grey, then Okabe-Ito (colour-blind safe), then more
PALETTE = ["#555555", "#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442",
           "#8C564B", "#17BECF", "#BCBD22", "#7F7F7F"]
#: markers by arm position (with the colours, arms stay apart in grey print and where lines coincide)
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p"]

#: the one style of every figure (matplotlib rcParams, applied while a figure is made)
STYLE = {
    "font.size": 9, "axes.titlesize": 9.5, "axes.labelsize": 9, "xtick.labelsize": 8.5, "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5, "figure.titlesize": 11.5, "axes.titleweight": "normal",
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
    "grid.linewidth": 0.5, "axes.axisbelow": True, "lines.solid_capstyle": "round",
    "legend.frameon": False, "svg.fonttype": "none", "pdf.fonttype": 42, "ps.fonttype": 42,
}
BAND_ALPHA = (0.16, 0.34)  # 90%, 50%
YEAR_LABEL = "year (end of)"
LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)


def arm_colours(arms) -> dict:
    """{arm: colour}: by position, baseline (first) grey. Accepts a Results or a list of arm names."""
    names = arms.arms if isinstance(arms, Results) else list(arms)
    return {a: PALETTE[i % len(PALETTE)] for i, a in enumerate(names)}


def arm_markers(arms) -> dict:
    """{arm: marker}: by position, as arm_colours."""
    names = arms.arms if isinstance(arms, Results) else list(arms)
    return {a: MARKERS[i % len(MARKERS)] for i, a in enumerate(names)}


# ---- what is plotted ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quantity:
    """A plotted quantity: a series of the file, possibly summed over the years so far, possibly per 1,000
    persons at the start."""
    var: str
    title: str
    unit: str                 # of the plotted values ("share": a fraction, drawn in % / percentage points)
    cumulative: bool = False
    per_1000_start: bool = False  # divided by the replication's persons at the start, x 1000

    @property
    def share(self) -> bool:
        return self.unit.startswith("share")


QUANTITIES = {
    "active_share": Quantity("active_share", "active members", "share of living households"),
    "passive_share": Quantity("passive_share", "passive members", "share of living households"),
    "member_share": Quantity("member_share", "members (passive or active)", "share of living households"),
    "literacy": Quantity("literacy", "literacy", "share of adults literate"),
    "hunger_share": Quantity("hunger_share", "households in hunger", "share of living households"),
    "famine_death_rate": Quantity("famine_death_rate", "famine deaths", "per 1,000 persons a year"),
    "famine_deaths": Quantity("famine_deaths", "famine deaths", "persons a year"),
    "famine_cumulative": Quantity("famine_deaths", "famine deaths since the start", "per 1,000 persons",
                                  cumulative=True, per_1000_start=True),
    "state_cost": Quantity("state_cost", "state cost", "roubles a year"),
    "state_cost_cumulative": Quantity("state_cost", "state cost since the start", "roubles", cumulative=True),
}

#: the quantities drawn as fans by default (and by artel-plot)
FAN_SERIES = ("active_share", "hunger_share", "famine_death_rate", "state_cost")

#: the quantities of differences()
DIFF_SERIES = ("active_share", "passive_share", "literacy", "hunger_share", "famine_cumulative",
               "state_cost_cumulative")


def quantity(res: Results, q) -> Quantity:
    """A Quantity by name (QUANTITIES), or any series of the file by its name (its long_name and units)."""
    if isinstance(q, Quantity):
        return q
    if q in QUANTITIES:
        return QUANTITIES[q]
    attrs = res.series(res.baseline)[q].attrs
    unit = attrs.get("units", "")
    return Quantity(q, attrs.get("long_name", q), "share" if unit == "1" else unit)


def values(res: Results, arm: str, q, *, diff: bool = False) -> np.ndarray:
    """(replication, year) values of a quantity in an arm, or its paired difference arm - baseline."""
    q = quantity(res, q)

    def one(a):
        x = res.series(a)[q.var].values
        if q.cumulative:
            x = np.where(np.isfinite(x), np.nancumsum(x, axis=1), np.nan)
        if q.per_1000_start:
            x = x / res.start(a)["persons"].values[:, None] * 1000.0
        return x

    x = one(arm)
    return x - one(res.baseline) if diff else x


def band(res: Results, arm: str, q, *, diff: bool = False, levels=LEVELS) -> np.ndarray:
    """(level, year) quantiles across replications (linear, NaN-aware)."""
    x = values(res, arm, q, diff=diff)
    with np.errstate(all="ignore"), _quiet():
        return np.nanquantile(x, list(levels), axis=0)


class _quiet:
    def __enter__(self):
        import warnings
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


# ---- helpers ---------------------------------------------------------------------------------------

def figure(fn):
    """Make a figure function take title= and letters=, and draw in STYLE."""
    @functools.wraps(fn)
    def wrapper(res, *args, title: bool = True, letters: bool = False, **kw):
        with matplotlib.rc_context(STYLE):
            fig = fn(res, *args, **kw)
            if not title and fig._suptitle is not None:
                fig._suptitle.remove()
                fig._suptitle = None
            if letters:
                panel_letters(fig)
        return fig
    return wrapper


def panel_letters(fig: Figure):
    """Bold a, b, c, ... at the top left of every visible panel, in reading order."""
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    axes.sort(key=lambda ax: (-round(ax.get_position().y1, 2), round(ax.get_position().x0, 2)))
    for i, ax in enumerate(axes):
        ax.set_title("abcdefghijklmnopqrstuvwxyz"[i % 26], loc="left", fontweight="bold", fontsize=11)


def _scale(unit: str, values) -> tuple[float, str]:
    """Divide money and head counts by 10^3 or 10^6 when they are large."""
    v = np.asarray(values, dtype=float)
    big = np.nanmax(np.abs(v)) if v.size and np.isfinite(v).any() else 0
    if unit.startswith("roubles") or unit.startswith("persons"):
        if big >= 2e6:
            return 1e6, "million " + unit
        if big >= 2e4:
            return 1e3, "thousand " + unit
    return 1.0, unit


def _population(res: Results) -> str:
    pop = res.config.get("population", {})
    v, h = pop.get("villages"), pop.get("households")
    size = f" of {v} villages \u00d7 {h} households" if v and h else ""
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


def _value_axis(ax, q: Quantity, unit: str, diff: bool):
    """Shares in % (levels) or percentage points (differences; the values are multiplied by 100)."""
    if q.share and not diff:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    elif diff:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+g}" if v else "0"))


def _unit_label(q: Quantity, unit: str, diff: bool) -> str:
    if q.share:
        return "difference [percentage points]" if diff else f"{unit.replace('share', '%')}"
    return f"difference [{unit}]" if diff else unit


def _prepared(q: Quantity, bands: dict, diff: bool) -> tuple[dict, str]:
    """Bands in display units: shares x 100 for percentage points, large numbers in thousands/millions."""
    if q.share:
        return ({a: b * 100 for a, b in bands.items()}, q.unit) if diff else (bands, q.unit)
    div, unit = _scale(q.unit, np.stack(list(bands.values())) if bands else [])
    return {a: b / div for a, b in bands.items()}, unit


def _grid(n: int, ncols_max: int = 3, panel=(3.3, 2.4), sharey=True, extra_height=0.9, sharex=True):
    ncols = min(ncols_max, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(panel[0] * ncols + 0.4, panel[1] * nrows + extra_height), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=sharex, sharey=sharey, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n]), ncols


def _width(i: int, n: int, wide: float = 2.8, thin: float = 1.2) -> float:
    """Line width of the i-th of n arms: earlier arms wider, so that a later arm drawn on top of an
    identical line leaves the earlier one visible around it."""
    return wide - (wide - thin) * i / max(1, n - 1)


def _line(ax, x, y, i: int, n: int, colour, marker, label=None, wide=2.8, thin=1.2, zorder=3):
    """One arm's line: width by position (earlier wider) and markers at staggered points (arm i at i, i+k,
    ...), so that arms whose lines coincide still show their markers."""
    k = max(3, n)
    (line,) = ax.plot(x, y, color=colour, lw=_width(i, n, wide, thin), label=label, zorder=zorder,
                      marker=marker, markevery=(i % k, k), ms=4.2, mec="white", mew=0.6)
    return line


def _band(ax, x, q, colour, alpha=BAND_ALPHA, zorder=2, inner=True):
    """q: (5, year) at LEVELS: the 90% band, and the 50% band when inner."""
    ax.fill_between(x, q[0], q[4], color=colour, alpha=alpha[0], lw=0, zorder=zorder)
    if inner and alpha[1]:
        ax.fill_between(x, q[1], q[3], color=colour, alpha=alpha[1], lw=0, zorder=zorder)


def coinciding(curves: dict, rel: float = 0.01) -> list[list[str]]:
    """Groups of arms whose curves (1-D arrays) differ nowhere by more than `rel` of the overall range."""
    arms = list(curves)
    if len(arms) < 2:
        return []
    allv = np.concatenate([np.ravel(c) for c in curves.values()])
    allv = allv[np.isfinite(allv)]
    span = (allv.max() - allv.min()) if allv.size else 0
    tol = rel * span if span > 0 else 1e-12
    groups, used = [], set()
    for i, a in enumerate(arms):
        if a in used:
            continue
        g = [a] + [b for b in arms[i + 1:] if b not in used and
                   np.nanmax(np.abs(np.asarray(curves[a]) - np.asarray(curves[b])), initial=0) <= tol]
        if len(g) > 1:
            groups.append(g)
            used.update(g)
    return groups


def _note_coinciding(notes: dict, panel: str, curves: dict):
    """Record in `notes` ({'a = b': [panels]}) the arms whose lines coincide in a panel; _legend says so."""
    for g in coinciding(curves):
        notes.setdefault(" = ".join(g), []).append(panel)


def _coincide_text(notes: dict) -> str:
    if not notes:
        return ""
    parts = []
    for g, panels in notes.items():
        panels = [p for p in dict.fromkeys(panels) if p]
        parts.append(f"{g} ({', '.join(panels)})" if panels else g)
    return "lines that coincide, drawn one on the other: " + "; ".join(parts)


def _legend(fig, res, arms, what: str, *, markers=True, notes=None):
    """A legend of the arms below the panels (constrained layout keeps room for it); its title says what is
    drawn and, from `notes`, which arms' lines coincide."""
    colours, marks = arm_colours(res), arm_markers(res)
    handles = [Line2D([], [], color=colours[a], lw=2.2, marker=marks[a] if markers else None, ms=5, mec="white",
                      mew=0.6, label=a + (" (baseline)" if a == res.baseline else "")) for a in arms]
    ncols = min(len(handles), 5 if fig.get_figwidth() >= 8.5 else 3)
    rows = math.ceil(len(handles) / ncols)
    title = f"{what} across {_population(res)}"
    if notes:
        title += "\n" + _coincide_text(notes)
    height = (0.34 + 0.22 * rows + 0.14 * title.count("\n")) / fig.get_figheight()
    fig.get_layout_engine().set(rect=(0, height, 1, 1 - height))
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0), ncols=ncols,
               title=title, title_fontsize=8, borderaxespad=0.2, handlelength=2.2, columnspacing=1.4)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _since(res: Results, title: str) -> str:
    return title.replace("since the start", f"since {res.start_year}")


# ---- fan charts ------------------------------------------------------------------------------------

@figure
def fan(res: Results, var="active_share", *, arms=None) -> Figure:
    """Fan chart of one quantity: a first panel with every arm's median (one line per arm), then one panel
    per arm with its median, 50% and 90% bands and the baseline's median (dashed grey) for reference."""
    arms = list(arms or res.arms)
    q = quantity(res, var)
    colours, marks = arm_colours(res), arm_markers(res)
    bands, unit = _prepared(q, {a: band(res, a, q) for a in arms}, False)
    x = res.years
    fig, axes, ncols = _grid(len(arms) + 1)
    ax0 = axes[0]
    notes: dict = {}
    for i, a in enumerate(arms):
        _line(ax0, x, bands[a][2], i, len(arms), colours[a], marks[a], label=a)
    _note_coinciding(notes, "", {a: bands[a][2] for a in arms})
    ax0.set_title("all arms: median")
    base = bands.get(res.baseline)
    for ax, a in zip(axes[1:], arms):
        if base is not None and a != res.baseline:
            ax.plot(x, base[2], color=colours[res.baseline], lw=1.0, ls="--", label="_baseline median")
        _band(ax, x, bands[a], colours[a])
        ax.plot(x, bands[a][2], color=colours[a], lw=1.8, label="_median")
        ax.set_title(a, color=colours[a], fontweight="bold")
    for i, ax in enumerate(axes):
        _year_axis(ax, res, label=i >= len(axes) - ncols)
        _value_axis(ax, q, unit, False)
    for ax in axes[::ncols]:
        ax.set_ylabel(_unit_label(q, unit, False))
    fig.suptitle(f"{_cap(_since(res, q.title))} [{_unit_label(q, unit, False)}]: median, 50% and 90% bands")
    _legend(fig, res, arms, "median (first panel; dashed: the baseline's) and 50%/90% bands", notes=notes)
    return fig


@figure
def diff_fan(res: Results, var="active_share") -> Figure:
    """Paired difference arm - baseline (same replication, common random numbers) of one quantity: one
    panel per non-baseline arm with the median, 50% and 90% bands and the zero line."""
    arms = res.others
    q = quantity(res, var)
    colours = arm_colours(res)
    bands, unit = _prepared(q, {a: band(res, a, q, diff=True) for a in arms}, True)
    x = res.years
    fig, axes, ncols = _grid(max(1, len(arms)), ncols_max=2 if len(arms) == 4 else 3)
    for ax, a in zip(axes, arms):
        ax.axhline(0, color=colours[res.baseline], lw=1.0, ls="--")
        _band(ax, x, bands[a], colours[a])
        ax.plot(x, bands[a][2], color=colours[a], lw=1.8, label=a)
        ax.set_title(f"{a} \u2212 {res.baseline}", color=colours[a], fontweight="bold")
    for i, ax in enumerate(axes):
        _year_axis(ax, res, label=i >= len(axes) - ncols)
        _value_axis(ax, q, unit, True)
    for ax in axes[::ncols]:
        ax.set_ylabel(_unit_label(q, unit, True))
    fig.suptitle(f"{_cap(_since(res, q.title))}: paired difference to the baseline {res.baseline!r}\n"
                 f"(same weather and households), median, 50% and 90% bands across {res.replications} replications")
    return fig


@figure
def differences(res: Results, series=DIFF_SERIES) -> Figure:
    """Paired differences arm - baseline of several quantities over the years (shares in percentage points,
    famine deaths per 1,000 persons and state cost summed since the start), one panel per quantity with
    every non-baseline arm: median line and 90% band."""
    arms = res.others
    colours, marks = arm_colours(res), arm_markers(res)
    fig, axs, ncols = _grid(len(series), sharey=False, extra_height=1.1)
    x = res.years
    notes: dict = {}
    for ax, var in zip(axs, series):
        q = quantity(res, var)
        bands, unit = _prepared(q, {a: band(res, a, q, diff=True) for a in arms}, True)
        ax.axhline(0, color=colours[res.baseline], lw=1.0, ls="--")
        for i, a in enumerate(arms):
            _band(ax, x, bands[a], colours[a], alpha=(0.12, 0), inner=False)
            _line(ax, x, bands[a][2], i, len(arms), colours[a], marks[a], label=a, wide=2.6)
        _note_coinciding(notes, q.title.replace(" since the start", ""), {a: bands[a][2] for a in arms})
        ax.set_title(_cap(_since(res, q.title)))
        ax.set_ylabel(_unit_label(q, unit, True))
        _value_axis(ax, q, unit, True)
        _year_axis(ax, res, label=False)
    for ax in axs[-ncols:]:
        ax.set_xlabel(YEAR_LABEL)
    fig.suptitle(f"Paired difference to the baseline {res.baseline!r} (same weather and households)")
    _legend(fig, res, arms, "arm \u2212 baseline, median and 90% band", notes=notes)
    return fig


# ---- paired differences at the end: a forest plot ---------------------------------------------------

#: forest(): (quantity name, title, how the per-replication difference is made)
FOREST = ("year_active_50", "active_share", "literacy", "hunger_share", "famine_cumulative", "state_cost_total")


def paired_differences(res: Results, name: str) -> tuple[dict, str, str]:
    """Per-replication paired differences arm - baseline at the end of the run, for forest():
    ({arm: values}, title, unit). Shares in percentage points; year_active_50 in years (a replication
    that never reaches 50% counts as the year after the last); famine per 1,000 persons at the start."""
    final = res.years[-1]
    if name == "year_active_50":
        ev = res.dataset("events")
        t = ev["first_active_50"].fillna(res.n_years).values  # (arm, replication)
        d = {a: t[i] - t[0] for i, a in enumerate(res.arms) if i}
        return d, "year the active share first reaches 50%", "years; negative: sooner"
    if name == "state_cost_total":
        ev = res.dataset("events")
        v = ev["state_cost_total"].values
        d = {a: v[i] - v[0] for i, a in enumerate(res.arms) if i}
        div, unit = _scale("roubles", np.concatenate(list(d.values())) if d else [])
        return {a: x / div for a, x in d.items()}, f"state cost {res.start_year}\u2013{final}", unit
    q = quantity(res, name)
    d = {a: values(res, a, q, diff=True)[:, -1] * (100 if q.share else 1) for a in res.others}
    unit = "percentage points" if q.share else q.unit
    title = (q.title.replace(" since the start", f" {res.start_year}\u2013{final}") if q.cumulative
             else f"{q.title} {final}")
    return d, title, unit


@figure
def forest(res: Results, quantities=FOREST, level: float = 0.95) -> Figure:
    """Each arm's paired difference to the baseline at the end of the run (same replications, common random
    numbers): the mean with its `level` confidence interval (Student's t, thick) and the 5-95% range of the
    per-replication differences (thin), one panel per quantity, the zero line dashed."""
    arms = res.others
    colours, marks = arm_colours(res), arm_markers(res)
    fig, axes, ncols = _grid(len(quantities), panel=(3.3, 0.42 * len(arms) + 1.0), sharey=True, extra_height=1.0,
                             sharex=False)
    ypos = np.arange(len(arms))[::-1]
    for ax, name in zip(axes, quantities):
        d, title, unit = paired_differences(res, name)
        ax.axvline(0, color=colours[res.baseline], lw=1.0, ls="--", zorder=1)
        for y, a in zip(ypos, arms):
            v = np.asarray(d[a], dtype=float)
            v = v[np.isfinite(v)]
            if not v.size:
                continue
            m = v.mean()
            half = float(t_quantile(level, v.size) * v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else np.nan
            lo, hi = np.quantile(v, [0.05, 0.95])
            ax.plot([lo, hi], [y, y], color=colours[a], lw=1.2, solid_capstyle="butt", zorder=2)
            if np.isfinite(half):
                ax.plot([m - half, m + half], [y, y], color=colours[a], lw=5, alpha=0.55, solid_capstyle="butt",
                        zorder=3)
            ax.plot([m], [y], marker=marks[a], color=colours[a], ms=6.5, mec="white", mew=0.8, ls="none",
                    label=a, zorder=4)
        ax.set_title(_cap(title))
        ax.set_xlabel(f"difference [{unit}]")
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+g}" if v else "0"))
    axes[0].set_yticks(ypos, arms)
    axes[0].set_ylim(-0.7, len(arms) - 0.3)
    fig.suptitle(f"Paired difference to the baseline {res.baseline!r}: mean, {level:.0%} confidence interval "
                 f"(thick), 5\u201395% of replications (thin)")
    _legend(fig, res, arms, f"arm \u2212 baseline in the same replication; {level:.0%} interval from Student's t;")
    return fig


# ---- year to majority ------------------------------------------------------------------------------

def _ecdf(ax, res: Results, arms, event="first_active_50", annotate=True, notes=None):
    """ECDF across replications of an event year; 'never' drawn at start_year + T."""
    colours, marks = arm_colours(res), arm_markers(res)
    T, y0 = res.n_years, res.start_year
    never_x = y0 + T
    ev = res.dataset("events")
    curves, nevers = {}, []
    for i, a in enumerate(arms):
        t = ev[event].sel(arm=a).values
        t = np.sort(np.where(np.isnan(t), T, t))
        if not t.size:
            continue
        xs = np.where(t >= T, never_x, y0 + t)
        steps = np.concatenate([[y0 - 1.5], xs, [never_x + 0.5]])
        frac = np.concatenate([[0], np.arange(1, t.size + 1) / t.size, [1]])
        ax.step(steps, frac, where="post", color=colours[a], lw=_width(i, len(arms)), label=a, zorder=3)
        # the median year, marked on the dotted 50% line
        med = np.quantile(t, 0.5, method="inverted_cdf")
        ax.plot([y0 + med if med < T else never_x], [0.5], marker=marks[a], color=colours[a], ms=6, mec="white",
                mew=0.7, zorder=4, label="_median")
        curves[a] = np.searchsorted(t, np.arange(-1, T + 1), side="right") / t.size
        never = float(np.mean(t >= T))
        if never > 0:
            nevers.append((a, never))
    ax.axhline(0.5, color="0.5", lw=0.8, ls=":")
    ax.axvline(never_x - 0.5, color="0.6", lw=0.8)
    ticks = [y for y in range(y0, y0 + T) if y % 5 == 0] + [never_x]
    ax.set_xticks(ticks, [str(y) for y in ticks[:-1]] + ["never"])
    ax.xaxis.set_minor_locator(MultipleLocator(1))
    ax.set_xlim(y0 - 1.5, never_x + (3.4 if annotate and nevers else 0.9))
    if annotate and nevers:  # the share of replications that never get there, a row per arm colour
        ax.text(never_x + 0.6, 0.97, "never:", fontsize=7.5, va="top", color="0.3")
        for k, (a, never) in enumerate(nevers):
            ax.text(never_x + 0.6, 0.89 - 0.075 * k, f"{never:.0%}", fontsize=7.5, va="top", color=colours[a],
                    fontweight="bold")
    if notes is not None:
        _note_coinciding(notes, "year to 50%", curves)
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(YEAR_LABEL)
    ax.set_ylabel("share of replications")


@figure
def year_to_majority(res: Results, event: str = "first_active_50") -> Figure:
    """Distribution across replications of the year the active share first reaches 0.5 (or another
    first_* event): ECDF per arm (one line per arm); the leftmost curve gets there first, the marker on
    the dotted 50% line is the median year, the jump at 'never' the share that never does."""
    fig = Figure(figsize=(7.0, 4.6), layout="constrained")
    ax = fig.subplots()
    notes: dict = {}
    _ecdf(ax, res, res.arms, event, notes=notes)
    what = {"first_active_50": "the active share first reaches 50%", "first_active_90":
            "the active share first reaches 90%", "first_literacy_90": "literacy first reaches 90%"}.get(event, event)
    fig.suptitle(f"Year {what}")
    ax.set_ylabel("replications that got there by then")
    _legend(fig, res, res.arms, "share of replications (ECDF; markers: median years)",
            notes={g: [] for g in notes})
    return fig


# ---- histograms --------------------------------------------------------------------------------------

@figure
def histogram(res: Results, name: str = "wealth", *, years=None) -> Figure:
    """Household distribution of wealth, grain or literacy at the histogram years (over all replications),
    one column per year: on top the baseline's share of living households per bin, below each arm's
    difference to it in percentage points (where the policies move households). The last bin also counts
    values above its upper edge: it is drawn apart, as a marker at '>= its lower edge'; the bins of a thin upper
    tail (under 2% of the households together) are counted in it."""
    colours, marks = arm_colours(res), arm_markers(res)
    h = res.dataset("histograms")
    hyears = list(h["year"].values) if years is None else list(years)
    edges = h[f"{name}_edges"].values
    unit = h[f"{name}_edges"].attrs.get("units", "")
    unit = "share of adults literate" if unit == "1" else unit
    long = {"wealth": "wealth max(0, cash + P grain \u2212 debt)", "grain": "grain held",
            "literacy": "literate adults / adults"}.get(name, name)
    counts = h[name].sel(year=hyears).values.astype(float)  # (arm, year, bin)
    with np.errstate(invalid="ignore"):
        share = counts / counts.sum(axis=2, keepdims=True)
    width = edges[1] - edges[0]
    overflow = name != "literacy"
    n = len(edges) - 2 if overflow else len(edges) - 1  # ordinary bins
    if overflow:
        # the bins of the thin upper tail (together under 2% of the households in every arm and year) join
        # the last bin, so that the axis shows where the households are
        tail = np.nan_to_num(share[..., :n])[..., ::-1].cumsum(axis=-1)[..., ::-1].max(axis=(0, 1))
        thin = np.flatnonzero(tail <= 0.02)
        cut = max(int(thin[0]), 4) if thin.size else n
        if cut < n:
            share = np.concatenate([share[..., :cut], share[..., cut:].sum(axis=-1, keepdims=True)], axis=-1)
            edges = np.concatenate([edges[:cut + 1], edges[-1:]])
            n = cut
    over_x = edges[-2] + 1.5 * width
    ncols = len(hyears)
    fig = Figure(figsize=(2.7 * ncols + 0.5, 5.4), layout="constrained")
    axs = fig.subplots(2, ncols, sharex=True, sharey="row", squeeze=False, gridspec_kw={"height_ratios": [1, 1.3]})
    for j, yr in enumerate(hyears):
        top, bottom = axs[0, j], axs[1, j]
        b = share[0, j]
        top.stairs(b[:n], edges[:n + 1], color=colours[res.baseline], fill=True, alpha=0.35, lw=0)
        top.stairs(b[:n], edges[:n + 1], color=colours[res.baseline], lw=1.2, label=res.baseline)
        if overflow:
            top.plot([over_x], [b[-1]], marker=marks[res.baseline], color=colours[res.baseline], ms=5,
                     label="_overflow")
        top.set_title(f"end of {yr}")
        top.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1 if b[:n].max() < 0.05 else 0))
        bottom.axhline(0, color=colours[res.baseline], lw=1.0, ls="--")
        for i, a in enumerate(res.others, start=1):
            d = (share[i, j] - b) * 100
            bottom.stairs(d[:n], edges[:n + 1], color=colours[a], lw=_width(i - 1, len(res.others), 2.4, 1.0),
                          label=a, baseline=None)
            if overflow:
                bottom.plot([over_x], [d[-1]], marker=marks[a], color=colours[a], ms=5, mec="white", mew=0.6,
                            ls="none", label="_overflow")
        bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+g}" if v else "0"))
        for ax in (top, bottom):
            if overflow:
                ax.axvline(edges[-2] + 0.5 * width, color="0.6", lw=0.8)
        bottom.set_xlabel(f"{name} [{unit}]")
    if overflow:
        ax = axs[1, 0]
        ticks = [t for t in ax.get_xticks() if edges[0] <= t <= edges[-2]]
        ax.set_xticks(ticks + [over_x], [f"{t:g}" for t in ticks] + [f"\u2265{edges[-2]:g}"])
        ax.set_xlim(edges[0], edges[-2] + 2.5 * width)
    axs[0, 0].set_ylabel(f"{res.baseline}:\nshare of households per bin")
    axs[1, 0].set_ylabel("arm \u2212 baseline\n[percentage points per bin]")
    fig.suptitle(f"Household {long}: the baseline's distribution (top), each arm's difference to it (bottom)")
    _legend(fig, res, res.arms, "share of living households per bin (marker: the last bin and above),",
            markers=overflow)
    return fig


# ---- overview ----------------------------------------------------------------------------------------

@figure
def overview(res: Results) -> Figure:
    """2x2 for the README: active share (median and 90% band), state cost since the start, famine deaths
    since the start per 1,000 persons, and the year the active share first reaches 50% (ECDF)."""
    colours, marks = arm_colours(res), arm_markers(res)
    arms = res.arms
    fig = Figure(figsize=(9.5, 6.9), layout="constrained")
    axes = fig.subplots(2, 2)
    x = res.years
    notes: dict = {}
    panels = [("active_share", axes[0, 0]), ("state_cost_cumulative", axes[0, 1]),
              ("famine_cumulative", axes[1, 0])]
    for var, ax in panels:
        q = quantity(res, var)
        bands, unit = _prepared(q, {a: band(res, a, q) for a in arms}, False)
        for i, a in enumerate(arms):
            _band(ax, x, bands[a], colours[a], alpha=(0.13, 0), inner=False)
            _line(ax, x, bands[a][2], i, len(arms), colours[a], marks[a], label=a)
        _note_coinciding(notes, q.title.replace(" since the start", ""), {a: bands[a][2] for a in arms})
        ax.set_title(_cap(_since(res, q.title)))
        ax.set_ylabel(_unit_label(q, unit, False))
        _value_axis(ax, q, unit, False)
        _year_axis(ax, res)
    axes[0, 0].axhline(0.5, color="0.5", lw=0.8, ls=":")
    ax = axes[1, 1]
    _ecdf(ax, res, arms, notes=notes)
    ax.set_title("Year the active share first reaches 50%")
    ax.set_ylabel("share of replications by then")
    fig.suptitle("Which policy brings the majority into active co-operation first, and at what cost?",
                 fontweight="bold")
    _legend(fig, res, arms, "median and 90% band (ECDF: share of replications; markers on it: median years)",
            notes=notes)
    return fig


#: what artel-plot writes: {file stem: function(res, **options) -> Figure}
def figures(res: Results) -> dict:
    out = {"overview": functools.partial(overview, res)}
    if res.others:
        out["forest"] = functools.partial(forest, res)
        out["differences"] = functools.partial(differences, res)
    out["year_to_majority"] = functools.partial(year_to_majority, res)
    for var in FAN_SERIES:
        out[f"fan_{var}"] = functools.partial(fan, res, var)
    if res.others:
        out["histogram_wealth"] = functools.partial(histogram, res, "wealth")
        out["histogram_grain"] = functools.partial(histogram, res, "grain")
    from . import uq_plots
    if uq_plots.has_uncertainty(res):
        out["drivers"] = functools.partial(uq_plots.drivers, res)
        if res.others:
            out["drivers_difference"] = functools.partial(uq_plots.drivers, res, diff=True)
        out["driver_scatter"] = functools.partial(uq_plots.driver_scatter, res)
    for name in uq_plots.sweeps(res):
        out[f"sweep_{name}"] = functools.partial(uq_plots.sweep, res, name)
    return out


def save(fig: Figure, path, *, dpi: int = 100, compact: bool = True):
    """Save a figure (the format from the suffix: png, pdf, svg, ...). A PNG is written with a 256-colour
    palette when compact (about 4x smaller, and indistinguishable for these figures); pdf and svg keep
    their text as text."""
    from pathlib import Path
    path = Path(path)
    with matplotlib.rc_context(STYLE):
        if path.suffix.lower() != ".png" or not compact:
            fig.savefig(path, dpi=dpi, metadata=_metadata(path))
            return path
        import io

        from PIL import Image
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
    buf.seek(0)
    with Image.open(buf) as im:
        q = im.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        q.save(path, format="PNG", optimize=True, dpi=(dpi, dpi))
    return path


def _metadata(path):
    # no creation date in vector files: the same figure gives the same bytes
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return {"CreationDate": None, "Creator": "artel"}
    if suffix == ".svg":
        return {"Date": None, "Creator": "artel"}
    return None


def save_all(res: Results, outdir, *, fmt: str = "png", dpi: int = 100, only=None, compact: bool = True,
             title: bool = True, letters: bool = False) -> list:
    """Write figures(res) to outdir as <stem>.<fmt>; returns the paths written."""
    from pathlib import Path
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, make in figures(res).items():
        if only and stem not in only:
            continue
        try:
            fig = make(title=title, letters=letters)
        except KeyError as e:  # a group an incomplete file lacks (statistics, histograms)
            import warnings
            warnings.warn(f"skipped {stem}: {e.args[0] if e.args else e}", stacklevel=2)
            continue
        written.append(save(fig, outdir / f"{stem}.{fmt}", dpi=dpi, compact=compact))
    return written
