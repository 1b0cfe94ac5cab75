"""Approximate Bayesian computation by sequential Monte Carlo, for a simulator run in batches.

    smc = ABCSMC(priors, values, sds, Settings(population=1000), state_dir="fit/abc")
    result = smc.run(simulate)        # simulate(t, theta (M, d)) -> figures (M, n), or (figures, extra)
    result.theta, result.weights      # the posterior population (weights sum to 1)

The target of generation t is the prior times a Gaussian ABC kernel,

    pi_t(theta)  ~  prior(theta) * exp(-D(theta) / (2 eps_t^2)),    D = sum_j ((s_j(theta) - y_j) / sd_j)^2,

where s_j is the simulated figure j, y_j its target value and sd_j its standard error. At eps = 1 the kernel
is the Gaussian density of the targets' stated errors, so the population then samples the exact posterior
of the model "target = simulated figure + N(0, sd^2) error" (Wilkinson 2013, Statistical Applications in
Genetics and Molecular Biology 12:129); a figure estimated with Monte Carlo noise of variance tau^2 acts as
an error of variance sd^2 + tau^2 (the kernel is then an unbiased estimate of that Gaussian likelihood up to
a constant), so the noise must be small against sd. eps_min = 1 is therefore where the fit stops.

Each generation simulates one batch of M candidates (one run of the simulator):

* generation 0 draws them from the prior;
* generation t >= 1 draws them from a proposal built on the population of t - 1 (pooled with the earlier
  generations at the same tolerance, once eps stays at eps_min), in the unbounded
  coordinates z of the priors (artel.priors: logit of the position in each prior's support), with a
  defensive share delta of prior draws that bounds every weight by 1/delta (Hesterberg 1995,
  Technometrics 37:185): q(z) = (1 - delta) g(z) + delta prior(z). By default g is one multivariate
  Student t (5 degrees of freedom) on the population's weighted mean and 1.5 x its weighted covariance.
  The classic perturbation kernel mixture g(z) = sum_j W_j N(z; z_j, Sigma) (``proposal = "mixture"``,
  Sigma = kernel_scale x the weighted covariance; Beaumont et al. 2009, Biometrika 96:983, take twice it)
  follows curved posteriors better but wastes simulations in many dimensions: its variance is
  1 + kernel_scale times the population's, and the importance weights' efficiency falls like
  (sqrt(2 v - 1) / v)^d for a variance ratio v, 2% for v = 3 and 14 parameters, against 44% for v = 1.5
  (measured on a 14-parameter linear-Gaussian toy: 9 generations to eps = 1 with "t", 21 with a kernel
  mixture at kernel_scale 1, a stall at 0.5);
* every candidate is weighted by prior density / proposal density times the ABC kernel:
  w_i = prior(z_i) / q(z_i) * exp(-D_i / (2 eps_t^2)) (population Monte Carlo with an ABC kernel);
* eps_t is adapted on the batch itself: the smallest value in [eps_min, eps_{t-1}] at which the effective
  sample size ESS = (sum w)^2 / sum w^2 is still ess_ratio x the ESS the batch has at eps_{t-1} (the ESS
  at eps_{t-1} measures how well the proposal matches; the ratio is the step of the tolerance, as in Del
  Moral, Doucet & Jasra 2012, Statistics and Computing 22:1009); when the ESS at eps_{t-1} is below
  min_step_ess the proposal is too poor to step on and eps stays.

The posterior population is every generation run at eps_min, pooled: each one's weights are unbiased
importance weights of the same target (the proposals are normalised densities), so their union is too.

Stop: ``converged`` when eps has reached eps_min and the pooled ESS at eps_min is at least min_ess;
``stalled`` when eps has not fallen by 1% over stall_generations generations while above eps_min;
``max-generations`` when max_generations have run (at eps_min every generation adds to the pooled ESS, so
only this cap ends a fit whose ESS grows slowly). A candidate whose
figures are not finite has weight 0.

Resume: with a state_dir, each finished generation is written there as gen-NNN.json (to a temporary file,
then linked into place, which fails rather than overwrite a finished generation), with settings.json
written once. A run restarted on the same folder reads the finished generations and continues; every
generation draws from its own random stream (seed, t), so an interrupted and resumed fit gives the same
populations as one that was never interrupted.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import gammaln, logsumexp

from .priors import Priors

STATE_VERSION = 1
#: settings that only decide when to stop: a resumed fit may change them (e.g. allow more generations)
STOP_ONLY = ("max_generations", "min_ess", "stall_generations")


@dataclass(frozen=True)
class Settings:
    """The choices of the algorithm (see the module docstring)."""

    population: int = 1000        #: candidates M simulated per generation
    ess_ratio: float = 0.3        #: each step of eps keeps this share of the batch's ESS at the previous eps
    min_step_ess: int = 50        #: below this ESS at the previous eps, eps does not step
    eps_min: float = 1.0          #: the final tolerance, in units of the targets' standard errors
    min_ess: int = 200            #: the posterior population's effective size needed to stop
    max_generations: int = 30
    proposal: str = "t+mixture"   #: "t", "mixture" or "t+mixture" (half of each): Proposal
    t_scale: float = 1.5          #: "t": scale matrix = t_scale x weighted covariance of the previous population
    df: float = 5.0               #: "t": degrees of freedom
    kernel_scale: float = 1.0     #: "mixture": kernel covariance = kernel_scale x that covariance
    defensive: float = 0.05       #: share of each generation's candidates drawn from the prior
    stall_generations: int = 4
    seed: int = 1

    def check(self):
        if self.population < 2:
            raise ValueError(f"population = {self.population}: at least 2 candidates per generation")
        if not 0 < self.ess_ratio < 1:
            raise ValueError(f"ess_ratio = {self.ess_ratio}: must be in (0, 1)")
        if not self.eps_min > 0:
            raise ValueError(f"eps_min = {self.eps_min}: must be > 0")
        if not 0 < self.defensive < 1:
            raise ValueError(f"defensive = {self.defensive}: must be in (0, 1)")
        if self.min_ess > self.population:
            raise ValueError(f"min_ess = {self.min_ess} exceeds the population {self.population}")
        if self.max_generations < 1 or self.stall_generations < 1:
            raise ValueError("max_generations and stall_generations must be >= 1")
        if self.proposal not in ("t", "mixture", "t+mixture"):
            raise ValueError(f"proposal = {self.proposal!r}: \"t\", \"mixture\" or \"t+mixture\"")
        if not (self.t_scale > 0 and self.kernel_scale > 0 and self.df > 0):
            raise ValueError("t_scale, kernel_scale and df must be > 0")


@dataclass
class Generation:
    """One generation: its candidates, their figures, distances and weights."""

    t: int
    eps: float
    theta: np.ndarray       #: (M, d) candidate parameter vectors
    z: np.ndarray           #: (M, d) their unbounded coordinates
    figures: np.ndarray     #: (M, n) simulated figures (NaN: not computable)
    distance2: np.ndarray   #: (M,) D, the squared standardised distance to the targets
    log_ratio: np.ndarray   #: (M,) log prior(z) - log q(z) (0 in generation 0)
    log_weight: np.ndarray  #: (M,) log_ratio - D / (2 eps^2)
    seconds: float = 0.0
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def weights(self) -> np.ndarray:
        """Normalised weights (sum 1)."""
        return normalise(self.log_weight)

    @property
    def ess(self) -> float:
        return effective_size(self.log_weight)

    def to_json(self) -> dict:
        d = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in dataclasses.asdict(self).items()}
        d["ess"] = self.ess
        return d

    @classmethod
    def from_json(cls, d: dict) -> Generation:
        arrays = {"theta", "z", "figures", "distance2", "log_ratio", "log_weight"}
        kw = {f.name: (np.asarray(d[f.name], float) if f.name in arrays else d.get(f.name))
              for f in dataclasses.fields(cls)}
        kw["extra"] = kw["extra"] or {}
        return cls(**kw)


@dataclass
class Result:
    """A finished (or stopped) fit: every generation, and the posterior population -- the generations at
    eps_min pooled, or the last generation when eps_min was not reached."""

    keys: list
    generations: list
    stop: str  #: converged, stalled or max-generations
    settings: Settings = Settings()

    @property
    def final(self) -> list:
        """The generations that make the posterior population."""
        return at_eps_min(self.generations, self.settings) or [self.generations[-1]]

    @property
    def eps(self) -> float:
        return self.final[-1].eps

    @property
    def theta(self) -> np.ndarray:
        return pooled(self.final)[0]

    @property
    def figures(self) -> np.ndarray:
        return pooled(self.final)[1]

    @property
    def log_weight(self) -> np.ndarray:
        return pooled(self.final)[2]

    @property
    def weights(self) -> np.ndarray:
        return normalise(self.log_weight)

    @property
    def ess(self) -> float:
        return effective_size(self.log_weight)

    def resample(self, n: int, seed: int = 0) -> np.ndarray:
        """n equally weighted draws from the posterior population (systematic resampling)."""
        return self.theta[systematic_resample(self.weights, n, np.random.default_rng(seed))]


# ---- the pieces, each a pure function ----------------------------------------------------------------

def normalise(log_w) -> np.ndarray:
    log_w = np.asarray(log_w, float)
    if not np.any(np.isfinite(log_w)):
        return np.full(log_w.shape, np.nan)
    return np.exp(log_w - logsumexp(log_w))


def effective_size(log_w) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2; 0 when every weight is 0."""
    log_w = np.asarray(log_w, float)
    if not np.any(np.isfinite(log_w)):
        return 0.0
    return float(np.exp(2 * logsumexp(log_w) - logsumexp(2 * log_w)))


def distance2(figures, values, sds) -> np.ndarray:
    """D = sum_j ((s_j - y_j) / sd_j)^2 per candidate; inf where a figure is not finite."""
    r = (np.atleast_2d(figures) - np.asarray(values, float)) / np.asarray(sds, float)
    d = np.sum(r * r, axis=1)
    return np.where(np.isfinite(d), d, np.inf)


def choose_eps(d2, log_ratio, eps_prev: float, eps_min: float, ratio: float, min_step_ess: float) -> float:
    """The smallest eps in [eps_min, eps_prev] at which the batch's ESS is still ratio x its ESS at eps_prev
    (bisection on log eps); eps_prev when that ESS is below min_step_ess. Generation 0 (eps_prev = inf)
    starts from the largest finite distance, where the kernel is flat."""
    d2, log_ratio = np.asarray(d2, float), np.asarray(log_ratio, float)

    def ess(eps):
        return effective_size(np.where(np.isfinite(d2), log_ratio - d2 / (2 * eps * eps), -np.inf))

    finite = d2[np.isfinite(d2)]
    if finite.size == 0:
        return float(eps_prev)
    hi = float(eps_prev) if np.isfinite(eps_prev) else max(eps_min, 10 * float(np.sqrt(finite.max())) + 1)
    base = ess(hi)
    if base < min_step_ess:
        return hi
    target = ratio * base
    if ess(eps_min) >= target:
        return float(eps_min)
    lo = float(eps_min)
    for _ in range(80):
        mid = float(np.sqrt(lo * hi))
        if ess(mid) >= target:
            hi = mid
        else:
            lo = mid
        if hi / lo < 1 + 1e-6:
            break
    return hi


def weighted_cov(z, w) -> np.ndarray:
    """Weighted covariance with the reliability-weights correction 1 / (1 - sum w^2)."""
    z, w = np.asarray(z, float), np.asarray(w, float)
    keep = w > 0
    z, w = z[keep], w[keep] / w[keep].sum()
    m = w @ z
    c = (z - m).T @ ((z - m) * w[:, None])
    denom = 1.0 - float(np.sum(w * w))
    c = c / denom if denom > 1e-12 else c
    return np.atleast_2d(c)


def _cholesky(c) -> np.ndarray:
    """Cholesky factor of c (a diagonal floor keeps it positive definite when the population has collapsed
    in some direction)."""
    floor = 1e-10 * max(1.0, float(np.max(np.diag(c))))
    for _ in range(8):
        try:
            return np.linalg.cholesky(c + floor * np.eye(len(c)))
        except np.linalg.LinAlgError:
            floor *= 100
    raise np.linalg.LinAlgError("the proposal's covariance is not positive definite")


class Proposal:
    """Generation t's proposal in z, built from the population of t - 1:
    q(z) = (1 - delta) g(z) + delta prior(z), where g is

    * ``"t"``: one multivariate Student t (df degrees of freedom) centred on the population's weighted mean,
      with t_scale x its weighted covariance as the scale matrix;
    * ``"mixture"``: the kernel mixture sum_j W_j N(z; z_j, kernel_scale x weighted covariance);
    * ``"t+mixture"``: half of each.
    """

    def __init__(self, prev: Generation, settings: Settings, priors: Priors):
        self.kind, self.df, self.defensive, self.priors = settings.proposal, settings.df, settings.defensive, priors
        w = prev.weights
        keep = w > 0
        self.centres, self.log_w = prev.z[keep], np.log(w[keep] / w[keep].sum())
        self.mean = np.exp(self.log_w) @ self.centres
        cov = weighted_cov(prev.z, w)
        self.d = cov.shape[0]
        self.share_t = {"t": 1.0, "mixture": 0.0}.get(self.kind, 0.5)
        self.chol_t = _cholesky(settings.t_scale * cov)
        self.chol_k = _cholesky(settings.kernel_scale * cov)

    def sample(self, rng: np.random.Generator, m: int) -> np.ndarray:
        u = rng.random(m)
        normal = rng.standard_normal((m, self.d))
        chi = np.sqrt(rng.chisquare(self.df, m) / self.df)
        parents = rng.choice(len(self.centres), size=m, p=np.exp(self.log_w))
        z_t = self.mean + (normal @ self.chol_t.T) / chi[:, None]
        z_k = self.centres[parents] + normal @ self.chol_k.T
        z = np.where((u < self.share_t)[:, None], z_t, z_k)
        from_prior = rng.random(m) < self.defensive
        n_prior = int(from_prior.sum())
        if n_prior:
            z[from_prior] = self.priors.to_z(self.priors.rvs(rng, n_prior))
        return z

    def _log_t(self, z) -> np.ndarray:
        d, nu = self.d, self.df
        sol = np.linalg.solve(self.chol_t, (z - self.mean).T).T
        q = np.sum(sol * sol, axis=1)
        return (gammaln((nu + d) / 2) - gammaln(nu / 2) - 0.5 * d * np.log(nu * np.pi)
                - float(np.sum(np.log(np.diag(self.chol_t)))) - 0.5 * (nu + d) * np.log1p(q / nu))

    def _log_mixture(self, z) -> np.ndarray:
        d = self.d
        out = np.empty(len(z))
        log_norm = -0.5 * d * np.log(2 * np.pi) - float(np.sum(np.log(np.diag(self.chol_k))))
        for s in range(0, len(z), 256):  # blocks of candidates: memory O(256 x particles x d)
            diff = z[s:s + 256, None, :] - self.centres[None, :, :]
            sol = np.linalg.solve(self.chol_k, diff.reshape(-1, d).T).T.reshape(diff.shape)
            out[s:s + 256] = logsumexp(self.log_w[None, :] - 0.5 * np.sum(sol * sol, axis=2), axis=1) + log_norm
        return out

    def logpdf(self, z) -> np.ndarray:
        """log q(z)."""
        z = np.atleast_2d(z)
        parts = [np.log(self.defensive) + self.priors.logpdf_z(z)]
        if self.share_t > 0:
            parts.append(np.log1p(-self.defensive) + np.log(self.share_t) + self._log_t(z))
        if self.share_t < 1:
            parts.append(np.log1p(-self.defensive) + np.log1p(-self.share_t) + self._log_mixture(z))
        return logsumexp(np.array(parts), axis=0)


def systematic_resample(w, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of n systematic draws from weights w (sum 1), in a random order."""
    c = np.cumsum(np.asarray(w, float))
    c[-1] = 1.0
    idx = np.searchsorted(c, (rng.random() + np.arange(n)) / n, side="right")
    return rng.permutation(np.minimum(idx, len(c) - 1))


def at_eps_min(gens: list, s: Settings) -> list:
    """The generations run at the final tolerance eps_min (their union is the posterior population)."""
    return [g for g in gens if g.eps <= s.eps_min * (1 + 1e-9)]


def pooled(gens: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(theta, figures, log_weight) of several generations of one target, concatenated."""
    return (np.concatenate([g.theta for g in gens]), np.concatenate([g.figures for g in gens]),
            np.concatenate([g.log_weight for g in gens]))


def latest_population(gens: list) -> Generation | None:
    """What the next proposal is built on: the last generation, pooled with the generations before it that
    ran at the same tolerance (the same target, so their importance weights are comparable)."""
    if not gens:
        return None
    same = [g for g in gens if g.eps == gens[-1].eps]
    if len(same) == 1:
        return gens[-1]
    theta, figs, log_w = pooled(same)
    return Generation(gens[-1].t, gens[-1].eps, theta, np.concatenate([g.z for g in same]), figs,
                      np.concatenate([g.distance2 for g in same]), np.concatenate([g.log_ratio for g in same]),
                      log_w)


def stop_reason(gens: list, s: Settings) -> str | None:
    """Why the fit stops after these generations, or None to go on."""
    final = at_eps_min(gens, s)
    if final and effective_size(pooled(final)[2]) >= s.min_ess:
        return "converged"
    if len(gens) >= s.max_generations:
        return "max-generations"
    k = s.stall_generations
    if len(gens) > k and gens[-1].eps > s.eps_min * (1 + 1e-9) and gens[-1].eps > 0.99 * gens[-1 - k].eps:
        return "stalled"
    return None


# ---- state on disk ----------------------------------------------------------------------------------

def write_new(path: Path, text: str):
    """Write text to path atomically; refuse (FileExistsError) if path exists: a temporary file in the same
    folder, flushed to disk, then hard-linked into place (link never replaces)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)
    finally:
        os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_replace(path: Path, text: str):
    """Write text to path atomically, replacing it (for outputs that are not state)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class StateError(RuntimeError):
    """The state folder belongs to another fit (other settings, priors or targets)."""


class ABCSMC:
    """The sampler. priors: artel.priors.Priors; values, sds: the targets' values and standard errors
    (length n); state_dir: where the generations are kept (None: in memory only); meta: anything else that
    must match for a resume (e.g. the scenario and targets), stored in settings.json."""

    def __init__(self, priors: Priors, values, sds, settings: Settings = Settings(), state_dir=None,
                 meta: dict | None = None):
        settings.check()
        self.priors, self.settings = priors, settings
        self.values, self.sds = np.asarray(values, float), np.asarray(sds, float)
        if self.values.shape != self.sds.shape or self.values.ndim != 1 or not np.all(self.sds > 0):
            raise ValueError("values and sds: one each per target, every sd > 0")
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.identity = {"state_version": STATE_VERSION, "settings": dataclasses.asdict(settings),
                         "keys": priors.keys, "priors": [p.text() for p in priors],
                         "values": self.values.tolist(), "sds": self.sds.tolist(), "meta": meta or {}}

    # -- state
    def _gen_path(self, t: int) -> Path:
        return self.state_dir / f"gen-{t:03d}.json"

    def load(self) -> list[Generation]:
        """The finished generations in the state folder (checked to belong to this fit)."""
        if self.state_dir is None:
            return []
        self.state_dir.mkdir(parents=True, exist_ok=True)
        ident = self.state_dir / "settings.json"
        if ident.exists():
            have, want = json.loads(ident.read_text()), json.loads(json.dumps(self.identity))
            for d in (have, want):  # the stop criteria may change: a stopped fit can be taken further
                for k in STOP_ONLY:
                    d.get("settings", {}).pop(k, None)
            if have != want:
                diff = sorted(k for k in set(have) | set(want) if have.get(k) != want.get(k))
                raise StateError(f"{self.state_dir} holds another fit (it differs in: {', '.join(diff)}); "
                                 "use a new folder, or remove it to start again")
        else:
            write_new(ident, json.dumps(self.identity, indent=1) + "\n")
        gens = []
        while self._gen_path(len(gens)).exists():
            gens.append(Generation.from_json(json.loads(self._gen_path(len(gens)).read_text())))
        return gens

    def _save(self, g: Generation):
        if self.state_dir is not None:
            write_new(self._gen_path(g.t), json.dumps(g.to_json()) + "\n")

    # -- the algorithm
    def candidates(self, t: int, prev: Generation | None):
        """Generation t's candidates (theta, z, log prior/q ratio): a pure function of (seed, t, prev)."""
        s = self.settings
        rng = np.random.default_rng([s.seed, t])
        if prev is None:
            theta = self.priors.rvs(rng, s.population)
            z = self.priors.to_z(theta)
            return self.priors.from_z(z), z, np.zeros(s.population)
        q = Proposal(prev, s, self.priors)
        z = q.sample(rng, s.population)
        log_ratio = self.priors.logpdf_z(z) - q.logpdf(z)
        return self.priors.from_z(z), z, log_ratio

    def step(self, t: int, prev: Generation | None, simulate) -> Generation:
        t0 = time.monotonic()
        theta, z, log_ratio = self.candidates(t, prev)
        out = simulate(t, theta)
        figures, extra = out if isinstance(out, tuple) else (out, {})
        figures = np.asarray(figures, float).reshape(len(theta), len(self.values))
        d2 = distance2(figures, self.values, self.sds)
        eps_prev = prev.eps if prev is not None else np.inf
        eps = choose_eps(d2, log_ratio, eps_prev, self.settings.eps_min, self.settings.ess_ratio,
                         self.settings.min_step_ess)
        log_w = np.where(np.isfinite(d2), log_ratio - d2 / (2 * eps * eps), -np.inf)
        return Generation(t, float(eps), theta, z, figures, d2, log_ratio, log_w,
                          seconds=time.monotonic() - t0, extra=extra)

    def run(self, simulate, log=None) -> Result:
        """Run (or continue) the fit until a stop criterion holds. simulate(t, theta) -> figures (M, n)
        or (figures, extra: dict kept with the generation). log(text): progress lines."""
        log = log or (lambda text: None)
        gens = self.load()
        if gens:
            log(f"resuming after generation {gens[-1].t} (eps {gens[-1].eps:.4g}, ESS {gens[-1].ess:.0f})")
        reason = stop_reason(gens, self.settings) if gens else None
        while reason is None:
            g = self.step(len(gens), latest_population(gens), simulate)
            self._save(g)
            gens.append(g)
            log(f"generation {g.t}: eps {g.eps:.4g}, ESS {g.ess:.0f} of {len(g.theta)}, "
                f"best distance {np.sqrt(np.min(g.distance2)):.3g}, {g.seconds:.1f} s")
            reason = stop_reason(gens, self.settings)
        return Result(self.priors.keys, gens, reason, self.settings)
