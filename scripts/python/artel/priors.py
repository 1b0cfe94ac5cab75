"""The priors of a scenario (MODEL.md §6, configs/README.md) as probability distributions in Python.

    pri = priors_of(config)          # config: a resolved scenario parsed with tomllib (Results.config)
    pri[0].key                       # 'weather.failure_prob'
    pri[0].rvs(rng, 1000)            # draws
    pri[0].logpdf(x)                 # log density (-inf outside the support)
    z = pri[0].to_z(x)               # the unbounded coordinate the calibration's kernel works in

Every continuous prior the engine knows is here: uniform, normal and lognormal (optionally truncated to
[lo, hi]), beta on [lo, hi] (default [0, 1]) and triangular. Discrete priors have no density for the
calibration's perturbation kernel and are refused by ``priors_of(..., continuous=True)``.

Each prior has a finite support [a, b]: its bounds, or for an untruncated side the quantile 2^-53 (or
1 - 2^-53) -- the most extreme points the engine's designs give a prior, and where the engine checks that
the prior stays inside the parameter's valid range. So a value in the support is always accepted by
``design = "table"``. The calibration's coordinate is z = logit((x - a) / (b - a)), unbounded, with the
density of z the density of x times |dx/dz|.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

#: the engine's extreme quantile of a prior (configs/README.md: checked at 2^-53 and 1 - 2^-53)
TAIL = 2.0 ** -53

#: the fields of each distribution: (required, optional)
FIELDS = {
    "uniform": ({"lo", "hi"}, set()),
    "normal": ({"mean", "sd"}, {"lo", "hi"}),
    "lognormal": ({"median", "sigma"}, {"lo", "hi"}),
    "beta": ({"a", "b"}, {"lo", "hi"}),
    "triangular": ({"lo", "mode", "hi"}, set()),
    "discrete": ({"values"}, {"weights"}),
}

#: sections of a scenario that hold parameters (the others hold runs, arms and options)
PARAMETER_SECTIONS = ("population", "demography", "weather", "economy", "behaviour")


class PriorError(ValueError):
    """A prior that cannot be used: names the key and what is wrong."""


@dataclass
class Prior:
    """One uncertain parameter: its key (``section.name``), distribution name and fields."""

    key: str
    dist: str
    fields: dict
    _frozen: object = field(default=None, repr=False, compare=False)
    _mass: float = field(default=1.0, repr=False, compare=False)
    _support: tuple = field(default=(None, None), repr=False, compare=False)

    def __post_init__(self):
        need, optional = FIELDS.get(self.dist, (None, None))
        if need is None:
            raise PriorError(f"{self.key}: unknown distribution {self.dist!r} (known: {', '.join(FIELDS)})")
        missing, extra = need - set(self.fields), set(self.fields) - need - optional
        if missing or extra:
            raise PriorError(f"{self.key}: {self.dist} prior " + "; ".join(
                ([f"lacks {', '.join(sorted(missing))}"] if missing else [])
                + ([f"has unknown field(s) {', '.join(sorted(extra))}"] if extra else [])))
        f = {k: v for k, v in self.fields.items() if k not in ("values", "weights")}
        f = {k: float(v) for k, v in f.items()}
        lo, hi = f.get("lo"), f.get("hi")
        if self.dist == "uniform":
            d = stats.uniform(lo, hi - lo)
        elif self.dist == "normal":
            d = stats.norm(f["mean"], f["sd"])
        elif self.dist == "lognormal":
            d = stats.lognorm(s=f["sigma"], scale=f["median"])
        elif self.dist == "beta":
            lo, hi = (0.0 if lo is None else lo), (1.0 if hi is None else hi)
            d = stats.beta(f["a"], f["b"], loc=lo, scale=hi - lo)
        elif self.dist == "triangular":
            d = stats.triang((f["mode"] - lo) / (hi - lo), loc=lo, scale=hi - lo)
        else:  # discrete
            self._frozen = None
            vals = np.asarray(self.fields["values"], float)
            self._support = (float(vals.min()), float(vals.max()))
            return
        # the support: the bounds, or the extreme quantiles the engine's designs reach
        a = lo if lo is not None else float(d.ppf(TAIL))
        b = hi if hi is not None else float(d.isf(TAIL))
        if not (np.isfinite(a) and np.isfinite(b) and a < b):
            raise PriorError(f"{self.key}: {self.dist} prior has an empty or unbounded support [{a}, {b}]")
        self._frozen = d
        self._support = (a, b)
        self._mass = float(d.cdf(b) - d.cdf(a)) if self.dist in ("normal", "lognormal") else 1.0

    # ---- the distribution ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The parameter's name without its section (``failure_prob``)."""
        return self.key.split(".", 1)[-1]

    @property
    def support(self) -> tuple[float, float]:
        """(a, b): every value the prior gives lies in [a, b]."""
        return self._support

    @property
    def continuous(self) -> bool:
        return self.dist != "discrete"

    def text(self) -> str:
        """The prior as the scenario file writes it: ``beta(a=8, b=42)``."""
        def num(v):
            return f"{v:g}" if isinstance(v, (int, float)) else str(v)
        return f"{self.dist}(" + ", ".join(f"{k}={num(v)}" for k, v in self.fields.items()) + ")"

    def _need_continuous(self):
        if not self.continuous:
            raise PriorError(f"{self.key}: a discrete prior has no density (give a continuous prior to fit it)")

    def logpdf(self, x) -> np.ndarray:
        """Log density at x; -inf outside the support."""
        self._need_continuous()
        x = np.asarray(x, float)
        a, b = self._support
        with np.errstate(divide="ignore"):
            out = self._frozen.logpdf(x) - np.log(self._mass)
        return np.where((x >= a) & (x <= b), out, -np.inf)

    def ppf(self, q) -> np.ndarray:
        """Quantiles (of the prior truncated to its support)."""
        self._need_continuous()
        d, (a, b) = self._frozen, self._support
        lo, hi = d.cdf(a), d.cdf(b)
        return np.clip(d.ppf(lo + np.asarray(q, float) * (hi - lo)), a, b)

    def rvs(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n independent draws (inverse CDF of uniforms from rng)."""
        return self.ppf(rng.random(n))

    def mean(self) -> float:
        q = (np.arange(4096) + 0.5) / 4096
        return float(np.mean(self.ppf(q)))

    # ---- the unbounded coordinate of the calibration -----------------------------------------
    def to_z(self, x) -> np.ndarray:
        """z = logit((x - a)/(b - a)) (values at the bounds map to about +-37)."""
        a, b = self._support
        u = np.clip((np.asarray(x, float) - a) / (b - a), 1e-16, 1 - 1e-16)
        return special.logit(u)

    def from_z(self, z) -> np.ndarray:
        """The value of coordinate z, inside [a, b]."""
        a, b = self._support
        return np.clip(a + (b - a) * special.expit(np.asarray(z, float)), a, b)

    def logpdf_z(self, z) -> np.ndarray:
        """Log density of z: logpdf(x(z)) + log|dx/dz|, with dx/dz = (b - a) u (1 - u)."""
        a, b = self._support
        z = np.asarray(z, float)
        log_jac = np.log(b - a) + special.log_expit(z) + special.log_expit(-z)
        return self.logpdf(self.from_z(z)) + log_jac


def _walk(config: dict):
    for section, table in config.items():
        if section not in PARAMETER_SECTIONS or not isinstance(table, dict):
            continue
        for name, value in table.items():
            if isinstance(value, dict) and "dist" in value:
                yield f"{section}.{name}", value


def priors_of(config: dict, *, continuous: bool = False) -> list[Prior]:
    """The priors of a scenario parsed with tomllib (a resolved scenario, as ``artel validate`` prints it or
    ``Results.config`` holds it), in the file's order. continuous=True refuses discrete priors."""
    out = []
    for key, value in _walk(config):
        fields = {k: v for k, v in value.items() if k != "dist"}
        p = Prior(key, str(value["dist"]), fields)
        if continuous:
            p._need_continuous()
        out.append(p)
    return out


class Priors:
    """Several independent priors: vectors of values (n, d) in the order of ``priors``."""

    def __init__(self, priors: list[Prior]):
        if not priors:
            raise PriorError("no parameter has a prior: give the parameters to fit a prior in the scenario")
        self.priors = list(priors)

    def __len__(self):
        return len(self.priors)

    def __iter__(self):
        return iter(self.priors)

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.priors]

    def rvs(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.column_stack([p.rvs(rng, n) for p in self.priors])

    def logpdf(self, x) -> np.ndarray:
        x = np.atleast_2d(x)
        return np.sum([p.logpdf(x[:, j]) for j, p in enumerate(self.priors)], axis=0)

    def to_z(self, x) -> np.ndarray:
        x = np.atleast_2d(x)
        return np.column_stack([p.to_z(x[:, j]) for j, p in enumerate(self.priors)])

    def from_z(self, z) -> np.ndarray:
        z = np.atleast_2d(z)
        return np.column_stack([p.from_z(z[:, j]) for j, p in enumerate(self.priors)])

    def logpdf_z(self, z) -> np.ndarray:
        z = np.atleast_2d(z)
        return np.sum([p.logpdf_z(z[:, j]) for j, p in enumerate(self.priors)], axis=0)

    def median(self) -> np.ndarray:
        return np.array([float(p.ppf(0.5)) for p in self.priors])
