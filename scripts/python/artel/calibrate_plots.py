"""Figures of a calibration (artel-calibrate fit), in the style of artel.plots.

    fit = load("fit-1923")                  # a fit folder
    marginals(fit)                          # each parameter: prior density and weighted posterior
    pairs(fit)                              # the most updated parameters two by two: prior and posterior draws
    targets(fit, check="calibrated.h5")     # each target: value +- sd, prior and posterior predictive, and the
                                            # spread of one history in a run of the calibrated scenario
    generations(fit)                        # the tolerance and effective sample size per generation

Each returns a matplotlib.figure.Figure and takes title= and letters= as the plots module's figures do.
``write_all(folder, outdir)`` writes them as PNGs (what ``artel-calibrate plot`` does).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from . import plots
from .plots import figure

PRIOR_COLOUR = "#999999"
POSTERIOR_COLOUR = plots.PALETTE[5]   # blue
TARGET_COLOUR = plots.PALETTE[6]      # vermillion
HISTORY_COLOUR = plots.PALETTE[3]     # green


@dataclass
class Fit:
    """A fit folder read back: the ABC result, the priors, the targets and the summary."""

    folder: Path
    result: object
    priors: object
    targets: list
    summary: dict

    @property
    def prior_draws(self) -> np.ndarray:
        return self.result.generations[0].theta


def load(folder) -> Fit:
    from .calibrate import load_fit, summarise
    result, priors, targets, ident, pilot = load_fit(folder)
    return Fit(Path(folder), result, priors, targets, summarise(result, priors, targets, ident["meta"]["k"], pilot))


def _short(key: str) -> str:
    return key.split(".", 1)[-1]


def _log_axis(p) -> bool:
    """Lognormal priors are drawn on a log axis (their densities as densities of log x)."""
    return p.dist == "lognormal"


def _range(p, theta, w):
    """The prior's 0.5-99.5% and the posterior's 0.1-99.9%."""
    from .calibrate import _wq
    lo, hi = p.ppf([0.005, 0.995])
    if np.any(w > 0):
        q = _wq(theta, w, [0.001, 0.999])
        lo, hi = min(lo, q[0]), max(hi, q[1])
    return float(lo), float(hi)


def _panels(n: int, ncols: int, panel=(2.6, 1.9)):
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig = Figure(figsize=(panel[0] * ncols, panel[1] * nrows + 0.8), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _marginal(ax, p, x, w, legend=False):
    """Prior density (grey) and weighted posterior histogram (blue); on a log axis for a lognormal prior,
    where both are densities of log x."""
    from .calibrate import _wq
    lo, hi = _range(p, x, w)
    log = _log_axis(p)
    f = (np.log, np.exp) if log else (lambda v: v, lambda v: v)
    grid = f[1](np.linspace(f[0](lo), f[0](hi), 400))
    dens = np.exp(p.logpdf(grid)) * (grid if log else 1.0)
    ax.fill_between(grid, dens, color=PRIOR_COLOUR, alpha=0.25, lw=0, label="prior")
    ax.plot(grid, dens, color=PRIOR_COLOUR, lw=1)
    edges = np.linspace(f[0](lo), f[0](hi), 41)
    ok = np.isfinite(x) & (x > 0 if log else True)
    h, _ = np.histogram(f[0](x[ok]), bins=edges, weights=w[ok], density=True)
    ax.stairs(h, f[1](edges), fill=True, color=POSTERIOR_COLOUR, alpha=0.55, label="posterior")
    q = _wq(x, w, [0.05, 0.5, 0.95])
    ax.axvline(q[1], color=POSTERIOR_COLOUR, lw=1.2)
    for v in (q[0], q[2]):
        ax.axvline(v, color=POSTERIOR_COLOUR, lw=0.8, ls="--")
    ax.set_yticks([])
    if log:
        ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    if legend:
        ax.legend(loc="upper right")


@figure
def marginals(fit: Fit, ncols: int = 4) -> Figure:
    """Each parameter's prior density (grey) and weighted posterior (blue histogram, median and 90% interval
    dashed), with the ratio of posterior to prior sd in the panel title."""
    x, w = fit.result.theta, fit.result.weights
    fig, axes = _panels(len(fit.priors), ncols)
    for j, (ax, p) in enumerate(zip(axes, fit.priors)):
        _marginal(ax, p, x[:, j], w, legend=j == 0)
        ratio = fit.summary["parameters"][j]["sd_ratio"]
        ax.set_title(f"{_short(p.key)}  (sd {ratio:.2f} of prior)")
        ax.set_xlabel(p.key.split(".", 1)[0])
    fig.suptitle(f"Posterior against prior: {len(fit.priors)} parameters, effective sample "
                 f"{fit.result.ess:.0f} (stopped: {fit.result.stop})")
    return fig


@figure
def pairs(fit: Fit, keys=None, max_sd_ratio: float = 0.9, draws: int = 600) -> Figure:
    """The parameters two by two -- by default those the targets inform (posterior sd below max_sd_ratio of
    the prior's), in the scenario's order: draws from the prior (grey) and from the posterior (blue,
    resampled from the weights), marginals on the diagonal; lognormal priors on log axes."""
    params = fit.summary["parameters"]
    if keys is None:
        idx = [j for j, p in enumerate(params) if p["sd_ratio"] < max_sd_ratio] or list(range(len(params)))
    else:
        idx = [fit.priors.keys.index(k) for k in keys]
    n = len(idx)
    x, w = fit.result.theta, fit.result.weights
    post = fit.result.resample(draws, seed=1)
    prior = fit.prior_draws[:draws]
    pri = fit.priors.priors
    side = 1.35 if n > 6 else 1.75
    fig = Figure(figsize=(side * n + 0.6, side * n + 0.6), layout="constrained")
    axes = fig.subplots(n, n, squeeze=False)
    ranges = [_range(pri[j], x[:, j], w) for j in idx]
    for r, jr in enumerate(idx):
        for c, jc in enumerate(idx):
            ax = axes[r, c]
            if c > r:
                ax.set_visible(False)
                continue
            if r == c:
                _marginal(ax, pri[jr], x[:, jr], w)
            else:
                ax.scatter(prior[:, jc], prior[:, jr], s=1.5, color="#cccccc", lw=0)
                ax.scatter(post[:, jc], post[:, jr], s=1.5, color=POSTERIOR_COLOUR, lw=0)
                if _log_axis(pri[jc]):
                    ax.set_xscale("log")
                if _log_axis(pri[jr]):
                    ax.set_yscale("log")
                ax.set_ylim(*ranges[r])
            ax.set_xlim(*ranges[c])
            if r == n - 1:
                ax.set_xlabel(_short(fit.priors.keys[jc]))
            else:
                ax.set_xticklabels([], minor=True)
                ax.set_xticklabels([])
            if c == 0 and r > 0:
                ax.set_ylabel(_short(fit.priors.keys[jr]))
            elif r != c:
                ax.set_yticklabels([], minor=True)
                ax.set_yticklabels([])
            ax.tick_params(labelsize=7, which="both")
    if n > 1:
        from matplotlib.lines import Line2D
        handles = [Line2D([], [], ls="", marker="o", ms=5, color=c, label=lab)
                   for c, lab in ((PRIOR_COLOUR, "prior"), (POSTERIOR_COLOUR, "posterior"))]
        fig.legend(handles=handles, loc="upper right", bbox_to_anchor=(0.98, 0.9), frameon=False)
    fig.suptitle(f"The {n} parameters the targets inform, two by two: prior and posterior draws")
    return fig


def _quantiles(x, w=None):
    from .calibrate import _wq
    w = np.ones(len(x)) if w is None else w
    return _wq(np.asarray(x, float), np.asarray(w, float), [0.05, 0.25, 0.5, 0.75, 0.95])


def _interval(ax, y, q, colour, label):
    ax.plot([q[0], q[4]], [y, y], color=colour, lw=1.2, solid_capstyle="butt")
    ax.plot([q[1], q[3]], [y, y], color=colour, lw=5, solid_capstyle="butt", alpha=0.8, label=label)
    ax.plot([q[2]], [y], marker="|", color="white", ms=7, mew=1.6)


@figure
def targets(fit: Fit, check=None, ncols: int = 3) -> Figure:
    """Each target: its value (line) and +-1 and 2 sd (bands); the model's figure under the prior (grey)
    and the posterior (blue) -- a candidate's mean over its replications, 5-25-50-75-95% -- and, given a
    result file of the calibrated scenario (`check`), the figure of single histories there (green)."""
    from .targets import figures as target_figures
    rows = fit.summary["targets"]
    hist = None
    if check is not None:
        import artel
        res = artel.open(check)
        hist = {}
        for t in fit.targets:
            try:
                hist[t.name] = target_figures(res, [t])[t.name]
            except Exception:  # noqa: BLE001 (a check the file cannot express is left out)
                hist[t.name] = np.array([])
    g0 = fit.result.generations[0]
    fitted = [t for t in fit.targets if t.fit]
    x, w = fit.result.figures, fit.result.weights
    fig, axes = _panels(len(fit.targets), ncols, panel=(3.3, 1.55))
    for ax, t, row in zip(axes, fit.targets, rows):
        scale = 100.0 if t.percent else 1.0
        if np.isfinite(t.value):
            for k, a in ((2, 0.12), (1, 0.22)):
                ax.axvspan(scale * (t.value - k * t.sd), scale * (t.value + k * t.sd), color=TARGET_COLOUR,
                           alpha=a, lw=0)
            ax.axvline(scale * t.value, color=TARGET_COLOUR, lw=1.2, label="target \u00b1 1, 2 sd")
        if t.fit:
            j = fitted.index(t)
            prior_q, post_q = _quantiles(g0.figures[:, j]), _quantiles(x[:, j], w)
        else:
            pc = np.asarray(g0.extra.get("checks", {}).get(t.name, []), float)
            post = np.concatenate([np.asarray(g.extra.get("checks", {}).get(t.name, [np.nan] * len(g.theta)),
                                              float) for g in fit.result.final])
            prior_q, post_q = _quantiles(pc), _quantiles(post, w)
        _interval(ax, 2, scale * prior_q, PRIOR_COLOUR, "prior")
        _interval(ax, 1, scale * post_q, POSTERIOR_COLOUR, "posterior")
        ticks, labels = [1, 2], ["posterior", "prior"]
        if hist is not None and hist[t.name].size:
            _interval(ax, 0, scale * _quantiles(hist[t.name][np.isfinite(hist[t.name])]), HISTORY_COLOUR,
                      "calibrated, one history")
            ticks, labels = [0, 1, 2], ["one history", "posterior", "prior"]
        ax.set_yticks(ticks, labels)
        ax.set_ylim(-0.6 if hist is not None else 0.4, 2.6)
        ax.grid(axis="y", visible=False)
        ax.set_title(t.name + ("" if t.fit else " (reported)"))
        if t.percent and t.stat != "change":  # a share: the axis need not pass 0 or 100%
            lo, hi = ax.get_xlim()
            data = [v for q in (prior_q, post_q) for v in scale * q if np.isfinite(v)]
            ax.set_xlim(max(lo, min([0.0] + data)), min(hi, max([100.0] + data)))
        ax.set_xlabel("%" if t.percent else ("persons" if t.series == "persons" else t.series))
        if t.percent:
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    height = 0.42 / fig.get_figheight()
    fig.get_layout_engine().set(rect=(0, height, 1, 1 - height))
    fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0), ncols=len(labels), borderaxespad=0.2)
    fig.suptitle("The model's figures against the targets (5-25-50-75-95%)")
    return fig


@figure
def generations(fit: Fit) -> Figure:
    """The tolerance eps and the effective sample size of each generation (the posterior's generations
    marked)."""
    gens = fit.summary["generations"]
    t = [g["t"] for g in gens]
    fig = Figure(figsize=(6.6, 2.5), layout="constrained")
    a, b = fig.subplots(1, 2)
    a.plot(t, [g["eps"] for g in gens], marker="o", color=plots.PALETTE[0])
    a.axhline(fit.result.settings.eps_min, color=TARGET_COLOUR, lw=1, ls="--", label="final tolerance")
    eps = [g["eps"] for g in gens]
    if max(eps) / min(eps) > 20:
        a.set_yscale("log")
    else:
        a.set_ylim(0, max(eps) * 1.08)
    a.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    a.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    a.set_ylabel("tolerance eps [target sd]")
    a.legend()
    b.bar(t, [g["ess"] for g in gens], color=[POSTERIOR_COLOUR if g["t"] in fit.summary["posterior_generations"]
                                              else PRIOR_COLOUR for g in gens])
    b.set_ylabel(f"effective sample size (of {gens[0]['candidates']})")
    for ax in (a, b):
        ax.set_xlabel("generation")
    fig.suptitle(f"ABC-SMC: {len(gens)} generations, {fit.summary['simulations']} replications simulated")
    return fig


def write_all(folder, outdir, *, check=None, prefix: str = "calibration_", dpi: int = 100) -> list:
    """The four figures of a fit as PNGs in outdir: <prefix>marginals, pairs, targets, generations."""
    fit = load(folder)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    out = []
    for name, fig, scale in (("marginals", marginals(fit), 1), ("pairs", pairs(fit), 0.8),
                             ("targets", targets(fit, check=check), 1), ("generations", generations(fit), 1)):
        # the pairs' many small panels are legible at 0.8 x the dpi, and the file a third smaller
        out.append(plots.save(fig, outdir / f"{prefix}{name}.png", dpi=int(round(dpi * scale))))
    return out
