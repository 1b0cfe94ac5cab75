"""Figures of results under uncertainty (MODEL.md §6), in the style of artel.plots.

    drivers(res)            which uncertain parameters drive each outcome: a tornado chart per outcome
                            (partial rank correlations, or total and first-order Sobol indices from a
                            Saltelli design) with 95% intervals
    driver_scatter(res)     each outcome against its strongest driver, one point per replication
    sweep(res, name)        a [[sweep]]'s response surface: an outcome and its paired difference to the
                            baseline over the grid of policy values

Each takes a Results (artel.open(path)) and the plots module's ``title=``/``letters=`` options.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .plots import _cap, _grid, arm_colours, arm_markers, figure
from .reader import Results

#: the outcomes the figures explain: (event, label, unit)
OUTCOMES = (("first_active_50", "year the active share first reaches 50%", "year index"),
            ("famine_deaths_total", "famine deaths, all years", "persons"),
            ("state_cost_total", "state cost, all years", "roubles"))


def has_uncertainty(res: Results) -> bool:
    return "uncertainty" in res.groups()


def _short(key: str) -> str:
    return key.split(".", 1)[-1]


def _indices(res: Results, arm: str, output: str):
    """(names, value, lo, hi, second-or-None, label) of one arm's sensitivity of one output."""
    s = res.dataset("sensitivity").sel(arm=arm, output=output)
    names = [str(p) for p in s["parameter"].values]
    if "total_order" in s:
        tot, first = s["total_order"], s["first_order"]
        return (names, tot.sel(estimate="value").values, tot.sel(estimate="lo").values,
                tot.sel(estimate="hi").values, first.sel(estimate="value").values, "Sobol index")
    pr = s["prcc"]
    return (names, pr.sel(estimate="value").values, pr.sel(estimate="lo").values, pr.sel(estimate="hi").values,
            None, "partial rank correlation")


@figure
def drivers(res: Results, arm: str | None = None, outcomes=OUTCOMES, top: int = 8, diff: bool = False) -> Figure:
    """Tornado charts: for each outcome, the parameters ordered by the size of their effect, with 95%
    intervals. Partial rank correlations (PRCC) from a random, lhs, sobol or table design; total Sobol
    indices (bars) and first-order ones (dots) from a Saltelli design. diff=True explains each arm's paired
    difference to the baseline instead (arm defaults to the last arm then)."""
    arm = arm or (res.arms[-1] if diff else res.baseline)
    fig, axes, _ = _grid(len(outcomes), ncols_max=3, panel=(3.4, 0.3 * min(top, 12) + 1.1), sharey=False,
                         extra_height=0.9, sharex=False)
    colour = arm_colours(res)[arm]
    kind = ""
    for ax, (event, label, _unit) in zip(axes, outcomes):
        names, v, lo, hi, first, kind = _indices(res, arm, ("diff_" if diff else "") + event)
        order = [i for i in np.argsort(-np.nan_to_num(np.abs(v), nan=-1)) if np.isfinite(v[i])][:top]
        y = np.arange(len(order))[::-1]
        ax.barh(y, v[order], color=colour, alpha=0.75, height=0.62, zorder=2)
        ax.errorbar(v[order], y, xerr=[v[order] - lo[order], hi[order] - v[order]], fmt="none", ecolor="#222222",
                    elinewidth=1.0, capsize=2.5, zorder=3)
        if first is not None:
            ax.plot(first[order], y, "o", color="white", mec="#222222", ms=4.5, zorder=4,
                    label="first order")
        ax.axvline(0, color="#555555", lw=0.9, zorder=1)
        ax.set_yticks(y, [_short(names[i]) for i in order])
        ax.set_title(_cap(label))
        ax.set_xlabel(kind)
        ax.grid(axis="y", visible=False)
        if kind == "partial rank correlation":
            ax.set_xlim(-1, 1)
    what = f"the paired difference {arm} \u2212 {res.baseline}" if diff else f"the outcomes of {arm}"
    design = res.dataset("uncertainty").attrs.get("design", "")
    fig.suptitle(f"What drives {what}\n{kind}s with 95% intervals; design {design}, {res.replications} replications")
    if kind == "Sobol index":
        axes[0].legend(loc="lower right", fontsize=8)
    return fig


@figure
def driver_scatter(res: Results, arm: str | None = None, outcomes=OUTCOMES) -> Figure:
    """Each outcome against its strongest driver (largest |index|), one point per replication, with the
    median of the outcome in ten bins of the driver."""
    arm = arm or res.baseline
    u = res.dataset("uncertainty")
    ev = res.dataset("events").sel(arm=arm)
    fig, axes, _ = _grid(len(outcomes), ncols_max=3, panel=(3.3, 2.6), sharey=False, extra_height=0.8,
                         sharex=False)
    colour, marker = arm_colours(res)[arm], arm_markers(res)[arm]
    for ax, (event, label, unit) in zip(axes, outcomes):
        names, v, *_rest = _indices(res, arm, event)
        if not np.isfinite(v).any():
            ax.set_visible(False)
            continue
        key = names[int(np.nanargmax(np.abs(v)))]
        x = u[key].values
        y = ev[event].values
        if event.startswith("first_"):  # 'never' is NaN in the reader: draw it at T
            y = np.where(np.isnan(y), res.n_years, y)
        ax.scatter(x, y, s=9, color=colour, marker=marker, alpha=0.55, lw=0, zorder=2)
        edges = np.quantile(x, np.linspace(0, 1, 11))
        mids, meds = [], []
        for a, b in zip(edges[:-1], edges[1:]):
            sel = (x >= a) & (x <= b)
            if sel.sum() >= 3:
                mids.append(np.median(x[sel]))
                meds.append(np.median(y[sel]))
        ax.plot(mids, meds, color="#222222", lw=1.6, zorder=3, label="median in tenths of the driver")
        ax.set_xlabel(f"{_short(key)} [{u[key].attrs.get('units', '') or '1'}]")
        ax.set_ylabel(f"[{unit}]")
        ax.set_title(_cap(label))
    axes[0].legend(loc="best", fontsize=8)
    fig.suptitle(f"Each outcome against its strongest driver ({arm}), one point per replication")
    return fig


def sweeps(res: Results) -> dict[str, list[str]]:
    """{sweep name: its arms in order} of the arms a [[sweep]] made."""
    out: dict[str, list[str]] = {}
    for a in res.arms:
        name = res.arm_attrs(a).get("sweep")
        if name:
            out.setdefault(str(name), []).append(a)
    return out


@figure
def sweep(res: Results, name: str, event: str = "first_active_50") -> Figure:
    """A sweep's response surface: the mean of an event over the grid of its policy keys (one panel), and the
    mean paired difference to the baseline (another), as heat maps for two keys or lines for one."""
    arms = sweeps(res)[name]
    keys = str(res.arm_attrs(arms[0])["sweep_keys"]).split()
    coords = {k: [float(res.arm_attrs(a)[f"sweep_{k}"]) for a in arms] for k in keys}
    ev = res.dataset("events", arms=[res.baseline] + arms)
    v = ev[event]
    if event.startswith("first_"):
        v = v.fillna(res.n_years)
    mean = v.sel(arm=arms).mean("replication").values
    diff = (v.sel(arm=arms) - v.sel(arm=res.baseline)).mean("replication").values
    label = dict((e, lab) for e, lab, _ in OUTCOMES).get(event, event)
    fig, axes, _ = _grid(2, ncols_max=2, panel=(3.6, 3.0), sharey=False, extra_height=0.8, sharex=False)
    if len(keys) == 1:
        x = coords[keys[0]]
        for ax, z, what in zip(axes, (mean, diff), ("mean", f"mean paired difference to {res.baseline!r}")):
            ax.plot(x, z, "o-", color=arm_colours(res)[arms[0]])
            ax.set_xlabel(_short(keys[0]))
            ax.set_title(_cap(what))
    else:
        xs, ys = sorted(set(coords[keys[0]])), sorted(set(coords[keys[1]]))
        for ax, z, what, cmap in zip(axes, (mean, diff), ("mean", f"mean paired difference to {res.baseline!r}"),
                                     ("viridis", "RdBu_r")):
            grid = np.full((len(ys), len(xs)), np.nan)
            for i, a in enumerate(arms):
                grid[ys.index(coords[keys[1]][i]), xs.index(coords[keys[0]][i])] = z[i]
            lim = np.nanmax(np.abs(grid)) if cmap == "RdBu_r" else None
            im = ax.imshow(grid, origin="lower", aspect="auto", cmap=cmap,
                           vmin=-lim if lim else None, vmax=lim)
            for (j, i), val in np.ndenumerate(grid):
                if np.isfinite(val):  # dark text on light cells, light on dark
                    r, g, b, _ = im.cmap(im.norm(val))
                    light = 0.299 * r + 0.587 * g + 0.114 * b > 0.5
                    ax.text(i, j, f"{val:.3g}", ha="center", va="center", fontsize=7.5,
                            color="black" if light else "white")
            ax.set_xticks(range(len(xs)), [f"{x:g}" for x in xs])
            ax.set_yticks(range(len(ys)), [f"{y:g}" for y in ys])
            ax.set_xlabel(_short(keys[0]))
            ax.set_ylabel(_short(keys[1]))
            ax.set_title(_cap(what))
            ax.grid(False)
            fig.colorbar(im, ax=ax, shrink=0.85)
    fig.suptitle(f"Sweep {name!r}: {label}\n{res.replications} replications, every arm on common random numbers")
    return fig
