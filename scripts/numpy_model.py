#!/usr/bin/python3
"""An independent NumPy implementation of the co-operative household model.

Written from the specification (../shared/MODEL.md, v1.2) and the modelling
choices recorded in docs/model.md only -- not from artel's C++ -- so that it
can cross-check artel's results (tests/python/test_numpy_model.py) and serve
as the "independent NumPy implementation" artel's speed is measured against.

Vectorised over every household of every arm of a batch of replications:
the state is held in C-contiguous arrays of shape (replications, arms,
villages, households) (person counts as int8); per-village sums are
reductions over the last axis or np.bincount over village indices; steps that
concern few households (subsistence, credit, bonus claims, co-operation, famine)
gather and scatter those households by flat index; binomials with small n*p
are drawn exactly from one uniform per household (first success by inversion,
NumPy's binomial only for the rest). The only Python loops are over years and
over the replications of a batch for their weather draws. The state sits in
one batch of about 2e5 household-arms; glibc is told to keep freed memory
(tune_malloc), which matters on hosts where page faults are expensive.

Randomness: numpy.random.Generator(PCG64), seeded through SeedSequence. The
initial state, the weather and the organisers' village draws of replication r
come from streams that depend only on (seed, r, purpose) and are shared by
every arm (common random numbers, MODEL.md section 5); household draws come
from one stream per (batch, purpose) and differ between arms (so a
replication's household draws depend on the batch size, which is fixed for a
given scenario size unless --batch is given). The numbers are not artel's
(artel uses counter-based Philox4x32-10), so the two implementations agree in
distribution, not bit for bit.

Usage:
  scripts/numpy_model.py CONFIG [--replications N] [--seed S] [--villages V]
      [--arms a,b] [--set key=value ...] [--out FILE.npz] [--quiet] [--print-rate]

The .npz holds, for every output series X of docs/output-format.md that this
model computes, ``X`` with shape (replication, arm, year) (end of year t,
flows during year t) and, for the stock series, ``start_X`` with shape
(replication, arm); plus ``arms``, ``years``, ``seed``, ``household_years``,
``seconds`` and ``rate`` (household-years per second).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
import tomllib

import numpy as np

# --------------------------------------------------------------------------
# Parameters: MODEL.md section 9 defaults, under the section names and TOML
# key names of configs/nep-1923.toml (Greek letters spelled out).
# --------------------------------------------------------------------------
DEFAULTS = {
    "run": {"seed": 19230104, "replications": 200, "years": 20, "start_year": 1923},
    "population": {
        "regions": 8, "villages": 200, "households": 100, "size_mean": 5.3, "adult_share": 0.5,
        "literacy0": 0.40, "land_mean": 3.8, "land_sigma": 0.5, "grain0": 0.3, "cash0": 10.0,
        "passive0": 0.0, "active0": 0.02, "skill_a": 2.0, "skill_b": 5.0, "store0": 0.2,
    },
    "demography": {
        "birth_rate": 0.22, "birth_cap": 7, "age_rate": 0.0667, "adult_death": 0.015,
        "child_death": 0.03, "famine_mortality": 0.3,
    },
    "weather": {
        "yield_mean": 7.6, "sigma_R": 0.12, "sigma_V": 0.08, "sigma_H": 0.15, "failure_prob": 0.15,
        "failure_factor": 0.5, "failure_correlation": 0.4,
    },
    "economy": {
        "price0": 6.0, "price_elasticity": 0.5, "channel_scale": 0.05, "food_need": 3.6, "seed_need": 1.3,
        "wage": 15.0, "wage_landpoor": 1.0, "spend_share": 0.3, "keep_buffer": 0.25, "sell_share": 0.5,
        "private_margin": 0.15, "coop_margin": 0.05, "culture_loss": 0.2, "rate_private": 0.40,
        "credit_limit_private": 20.0, "default_multiple": 3.0, "reserve_decay": 0.1,
    },
    "behaviour": {
        "beta_lit": 0.10, "beta_coop": 0.10, "lambda0": 0.02, "lambda_coop": 0.03, "lambda_peer": 0.05,
        "skill_rate": 0.10, "skill_passive": 0.3, "p_inn": 0.03, "q_imit": 0.38, "gamma_bonus": 0.02,
        "gamma_credit": 0.1, "a0": 0.05, "a_lit": 0.3, "a_skill": 0.3, "a_bonus": 0.02,
        "lapse_active": 0.05, "lapse_hunger": 2.0, "leave_passive": 0.05, "store_close_prob": 0.3,
        "store_min_share": 0.05,
    },
    "policy": {
        "bonus": 0.0, "audit_prob": 0.2, "audit_cost": 0.5, "false_claim_prob": 0.3, "organiser_rate": 0.10,
        "rate_coop": 0.08, "credit_limit_coop": 40.0, "coop_aid": 0.5, "reserve_levy": 0.0,
        "lambda_campaign": 0.03, "school_rate": 0.4, "state_price": 5.0,
    },
    "mechanisms": {
        "adoption": True, "weather": True, "reserve": True, "credit": True, "famine": True,
        "demography": True, "market": True, "bonus": True, "literacy": True,
    },
    # Output options are accepted (the config file carries them) but unused here.
    "output": {
        "histogram_years": [1923, 1927, 1932, 1942], "histogram_bins": 40, "hist_wealth_max": 400.0,
        "hist_grain_max": 100.0, "trajectory_households": 100, "trajectory_replications": 1, "regions": True,
    },
}
INTEGER_KEYS = {"seed", "replications", "years", "start_year", "regions", "villages", "households", "birth_cap",
                "histogram_bins", "trajectory_households", "trajectory_replications"}
POLICY_KEYS = tuple(DEFAULTS["policy"])

# Stream purposes (SeedSequence entropy word); never renumber.
P_INIT, P_INIT_STORE, P_WEATHER, P_ORGANISER = 1, 2, 3, 4
P_FAMINE, P_BIRTH, P_AGE, P_DEATH, P_ELDEST, P_CLAIM, P_LITERACY, P_COOP = 11, 12, 13, 14, 15, 16, 17, 18

# Output series (docs/output-format.md): names of year series, and which exist at "start".
SERIES = ["households", "persons", "member_share", "passive_share", "active_share", "literacy", "grain_mean",
          "cash_mean", "debt_mean", "wealth_gini", "hunger_share", "famine_deaths", "births", "deaths",
          "famine_death_rate", "birth_rate", "death_rate", "harvest_per_ha", "failing_regions", "sold_coop",
          "sold_private", "sold_state", "coop_sales_share", "marketed_gross", "marketed_net", "stores_open",
          "reserve_per_household", "state_cost", "cost_bonus", "cost_audit", "cost_aid", "cost_interest",
          "cost_writeoff", "bonus_leakage", "claims", "audits", "expulsions", "defaults", "dissolved"]
STOCKS = ["households", "persons", "member_share", "passive_share", "active_share", "literacy", "grain_mean",
          "cash_mean", "debt_mean", "wealth_gini", "hunger_share", "stores_open", "reserve_per_household"]
EVENTS = ["first_active_50", "first_active_90", "first_literacy_90", "famine_deaths_total", "state_cost_total"]


class ConfigError(ValueError):
    pass


def _parse_value(text: str):
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def load_config(path: str, sets: list[str] = ()) -> tuple[dict, list[dict]]:
    """Parameters (section -> key -> value) and arms ([{name, policy overrides}]) of a scenario file."""
    with open(path, "rb") as fh:
        doc = tomllib.load(fh)
    cfg = {sec: dict(vals) for sec, vals in DEFAULTS.items()}
    arms = []
    for sec, vals in doc.items():
        if sec == "arm":
            for a in vals:
                a = dict(a)
                name = a.pop("name", None)
                if not name:
                    raise ConfigError(f"{path}: an [[arm]] has no name")
                bad = [k for k in a if k not in POLICY_KEYS]
                if bad:
                    raise ConfigError(f"{path}: arm {name}: {bad[0]} is not a policy key")
                arms.append({"name": name, **a})
            continue
        if sec not in cfg or not isinstance(vals, dict):
            raise ConfigError(f"{path}: unknown section [{sec}]")
        for k, v in vals.items():
            if k not in cfg[sec]:
                raise ConfigError(f"{path}: unknown key {sec}.{k}")
            cfg[sec][k] = v
    for s in sets:
        if "=" not in s:
            raise ConfigError(f"--set {s}: expected key=value")
        key, text = s.split("=", 1)
        value = _parse_value(text.strip())
        parts = key.strip().split(".")
        if parts[0] == "arm" and len(parts) == 3:
            arm = next((a for a in arms if a["name"] == parts[1]), None)
            if arm is None or parts[2] not in POLICY_KEYS:
                raise ConfigError(f"--set {s}: no arm {parts[1]} or {parts[2]} is not a policy key")
            arm[parts[2]] = value
        elif len(parts) == 2 and parts[0] in cfg and parts[1] in cfg[parts[0]]:
            cfg[parts[0]][parts[1]] = value
        elif len(parts) == 1:
            secs = [sec for sec in cfg if parts[0] in cfg[sec]]
            if len(secs) != 1:
                raise ConfigError(f"--set {s}: {parts[0]} is {'ambiguous' if secs else 'unknown'}")
            cfg[secs[0]][parts[0]] = value
        else:
            raise ConfigError(f"--set {s}: unknown key")
    for sec, vals in cfg.items():
        for k, v in vals.items():
            if sec == "mechanisms":
                if not isinstance(v, bool):
                    raise ConfigError(f"mechanisms.{k} = {v!r}: expected true or false")
            elif sec == "output":
                continue
            elif k in INTEGER_KEYS:
                if isinstance(v, bool) or not isinstance(v, int):
                    raise ConfigError(f"{sec}.{k} = {v!r}: expected an integer")
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"{sec}.{k} = {v!r}: expected a finite number (priors are not supported)")
    for a in arms:
        for k, v in a.items():
            if k == "name":
                continue
            if isinstance(v, str):  # follows a base parameter: "economy.rate_private" or a bare name
                parts = v.split(".")
                secs = [parts[0]] if len(parts) == 2 else [sec for sec in cfg if v in cfg[sec]]
                name = parts[-1]
                if len(secs) != 1 or secs[0] not in cfg or name not in cfg[secs[0]]:
                    raise ConfigError(f"arm {a['name']}: {k} = {v!r}: no such base parameter")
                a[k] = cfg[secs[0]][name]
                v = a[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ConfigError(f"arm {a['name']}: {k} = {v!r}: expected a number")
    if not arms:
        arms = [{"name": "baseline"}]
    p = cfg["population"]
    if not 0 <= p["active0"] < 1 or p["passive0"] + p["active0"] > 1:
        raise ConfigError("population: need 0 <= active0 < 1 and passive0 + active0 <= 1")
    if cfg["weather"]["failure_factor"] <= 0 or cfg["economy"]["channel_scale"] <= 0:
        raise ConfigError("failure_factor and channel_scale must be positive")
    return cfg, arms


def _hazard(x):
    """1 - exp(-x), clipped to [0, 1] (MODEL.md section 1: every probability is clipped)."""
    return np.clip(-np.expm1(-x), 0.0, 1.0)


def _ndtr(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


GINI_BINS_PER_OCTAVE, GINI_LOG2_MIN, GINI_LOG2_MAX = 32, -8, 24
GINI_NBINS = 1 + GINI_BINS_PER_OCTAVE * (GINI_LOG2_MAX - GINI_LOG2_MIN)


def _gini(w, alive):
    """Gini of w over living households, per leading index; w, alive: (G, N).

    As docs/model.md defines artel's output: from a histogram of 32 bins per
    octave between 2^-8 and 2^24 (one bin below 2^-8, including 0; values above
    2^24 in the last bin), each bin holding its count and the sum of its values,
    G = 1 - sum_k f_k (S_{k-1} + S_k): the Gini of the data with every value
    replaced by its bin mean (within about 1e-3 of the exact Gini).
    """
    ng, n = w.shape
    with np.errstate(divide="ignore"):
        lg = np.log2(np.maximum(w, 2.0 ** (GINI_LOG2_MIN - 1)))
    k = np.floor((lg - GINI_LOG2_MIN) * GINI_BINS_PER_OCTAVE).astype(np.int64) + 1
    np.clip(k, 0, GINI_NBINS - 1, out=k)
    k += (np.arange(ng) * GINI_NBINS)[:, None]
    k = k[alive]
    cnt = np.bincount(k, minlength=ng * GINI_NBINS).reshape(ng, GINI_NBINS)
    tot = np.bincount(k, weights=w[alive], minlength=ng * GINI_NBINS).reshape(ng, GINI_NBINS)
    n_g = cnt.sum(axis=1)
    w_g = tot.sum(axis=1)
    ok = (n_g > 0) & (w_g > 0)
    f = cnt / np.maximum(n_g, 1)[:, None]
    S = np.cumsum(tot, axis=1) / np.where(ok, w_g, 1.0)[:, None]
    S_prev = np.concatenate([np.zeros((ng, 1)), S[:, :-1]], axis=1)
    return np.where(ok, 1.0 - (f * (S_prev + S)).sum(axis=1), 0.0)


def _binomial(gen, n, p=None, log_q=None, dense=False):
    """Binomial(n, p) draws for an int array n (elementwise), fast when n*p is small.

    Exact: in a sequence of Bernoulli(p) trials the first success comes at
    K ~ Geometric(p); the count of successes in n trials is 0 when K > n and
    1 + Binomial(n - K, p) otherwise. K = ceil(log(1-u)/log(1-p)) by inversion
    of one uniform u per element with n > 0 (K <= n  <=>  u < 1 - (1-p)^n);
    only the few elements with K <= n need NumPy's binomial. p: a scalar or an
    array broadcastable to n; or log_q = log(1 - p) directly (for a hazard x,
    p = 1 - exp(-x) has log_q = -x). dense: most n are positive (skip the
    search for them).
    """
    if log_q is None:
        with np.errstate(divide="ignore"):
            log_q = np.log1p(-np.clip(np.asarray(p, dtype=float), 0.0, 1.0))
    log_q = np.maximum(log_q, -745.0)            # p = 1: (1-p)^n underflows to 0, every trial succeeds
    n = np.ascontiguousarray(n)
    nf = n.reshape(-1)
    out = np.zeros(n.shape, np.int64)
    if dense:
        nz, nn = None, nf
    else:
        nz = np.flatnonzero(nf)
        if nz.size == 0:
            return out
        nn = nf[nz]
    u = gen.random(nn.size)
    if np.ndim(log_q):
        lq = np.broadcast_to(log_q, n.shape).reshape(-1)
        lq = lq if nz is None else lq[nz]
        hit = (u < -np.expm1(nn * lq))
    else:
        lq = float(log_q)
        if lq >= 0.0:
            return out
        hit = u < (-np.expm1(np.arange(nn.max() + 1) * lq))[nn]
    idx = np.flatnonzero(hit)
    if idx.size:
        nh = nn[idx]
        lqh = lq[idx] if np.ndim(lq) else lq
        with np.errstate(divide="ignore", invalid="ignore"):
            K = np.ceil(np.log1p(-u[idx]) / lqh)
        K = np.clip(np.nan_to_num(K, nan=1.0), 1, nh).astype(np.int64)
        out.reshape(-1)[idx if nz is None else nz[idx]] = 1 + gen.binomial(nh - K, -np.expm1(lqh))
    return out


def _deaths(gen, lit, adults, children, p_adult, p_child):
    """Independent Binomial(lit, p_adult), Binomial(adults - lit, p_adult) and
    Binomial(children, p_child) deaths, for flat int arrays of households.

    Returns (idx, d_lit, d_ill, d_child) for the households with at least one
    death. Drawn jointly and exactly: the persons of a household are slots in
    the order literate adults, illiterate adults, children; one uniform u per
    household decides whether anybody dies (probability 1 - (1-p_adult)^adults
    (1-p_child)^children) and, by inversion, which slot is the first to die;
    the slots after it then die independently (NumPy binomials on the few
    households concerned).
    """
    lqa, lqc = (max(math.log1p(-x), -745.0) if x < 1.0 else -745.0 for x in (max(p_adult, 0.0), max(p_child, 0.0)))
    nmax = int(max(adults.max(initial=0), children.max(initial=0))) + 1
    tab = -np.expm1(np.arange(nmax)[:, None] * lqa + np.arange(nmax)[None, :] * lqc).ravel()  # P(any death | a, c)
    u = gen.random(adults.size)                               # dissolved households: a = c = 0, never hit
    idx = np.flatnonzero(u < tab[adults.astype(np.intp) * nmax + children])
    a, c, l = adults[idx], children[idx], lit[idx]
    u = u[idx]
    lu = np.log1p(-u)                                         # log P(first death after slot j) = j log(1-p)
    with np.errstate(divide="ignore", invalid="ignore"):
        in_adults = (lu >= a * lqa) & (a > 0) & (lqa < 0)
        k_a = np.clip(np.nan_to_num(np.ceil(lu / lqa), nan=1.0, posinf=1.0, neginf=1.0), 1, np.maximum(a, 1))
        k_c = np.clip(np.nan_to_num(np.ceil((lu - a * lqa) / lqc), nan=1.0, posinf=1.0, neginf=1.0), 1,
                      np.maximum(c, 1))
    k_a = k_a.astype(np.int64)
    k_c = k_c.astype(np.int64)
    first_lit = in_adults & (k_a <= l)
    first_ill = in_adults & ~first_lit
    first_ch = ~in_adults
    n_lit = np.where(first_lit, l - k_a, 0)
    n_ill = np.where(first_lit, a - l, np.where(first_ill, a - k_a, 0))
    n_ch = np.where(first_ch, c - k_c, c)
    d_lit = first_lit + gen.binomial(n_lit, -math.expm1(lqa))
    d_ill = first_ill + gen.binomial(n_ill, -math.expm1(lqa))
    d_ch = first_ch + gen.binomial(n_ch, -math.expm1(lqc))
    return idx, d_lit, d_ill, d_ch


class Model:
    def __init__(self, cfg: dict, arms: list[dict]):
        self.cfg = cfg
        self.arms = arms
        flat = {}
        for sec in ("population", "demography", "weather", "economy", "behaviour", "policy"):
            flat.update(cfg[sec])
        self.p = flat
        self.mech = cfg["mechanisms"]
        self.seed = int(cfg["run"]["seed"])
        self.T = int(cfg["run"]["years"])
        self.G = int(flat["regions"])
        self.V = int(flat["villages"])
        self.H = int(flat["households"])
        self.A = len(arms)
        # Policy values per arm, shaped to broadcast against (B, A, V, H) and (B, A, V).
        self.pol = {}                       # per arm, shaped (1, A, 1, 1) and (1, A, 1)
        self.polA = {}                      # per arm, shape (A,)
        for k in POLICY_KEYS:
            v = np.array([float(a.get(k, flat[k])) for a in arms])
            self.pol[k] = (v[None, :, None, None], v[None, :, None])
            self.polA[k] = v
        self.region = np.arange(self.V) % self.G

    # -- random streams --------------------------------------------------------
    def _rep_gen(self, r: int, purpose: int) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, r, purpose])))

    def _hh_gens(self, r0: int, B: int) -> dict:
        return {k: np.random.Generator(np.random.PCG64(np.random.SeedSequence([self.seed, r0, B, 1 << 20, k])))
                for k in (P_FAMINE, P_BIRTH, P_AGE, P_DEATH, P_ELDEST, P_CLAIM, P_LITERACY, P_COOP)}

    # -- initial state (MODEL.md section 3) ------------------------------------
    def _init_rep(self, r: int):
        p, V, H = self.p, self.V, self.H
        gs = self._rep_gen(r, P_INIT_STORE)
        store = gs.random(V) < p["store0"]
        g = self._rep_gen(r, P_INIT)
        size = 1 + np.minimum(g.poisson(p["size_mean"] - 1.0, (V, H)), 15)
        adults = 1 + g.binomial(size - 1, p["adult_share"])
        lit = g.binomial(adults, p["literacy0"])
        s = p["land_sigma"]
        land = p["land_mean"] * (size / p["size_mean"]) * np.exp(s * g.standard_normal((V, H)) - 0.5 * s * s)
        u0 = g.random((V, H))
        u1 = g.random((V, H))
        active = u0 < p["active0"]
        q = p["passive0"] / (1.0 - p["active0"])
        coop = np.where(active, np.where(store[:, None], 2, 1), np.where(u1 < q, 1, 0)).astype(np.int8)
        skill = g.beta(p["skill_a"], p["skill_b"], (V, H))
        return store, size, adults, lit, land, coop, skill

    # -- one batch of replications ---------------------------------------------
    def run_batch(self, r0: int, B: int):
        """Replications r0 .. r0 + B - 1, every arm: (series, start) dicts of (B, A, T) and (B, A) arrays.

        State arrays have shape (B, A, V, H), C-contiguous; ``flat(x)`` is the
        1-D view used to gather/scatter the subsets of households a step acts
        on (the short of food, the indebted, the claimants, ...). A flat index i
        is household (b, a, v, h) with i // H the flat village index in
        (B, A, V) and i // (V H) the flat (b, a) index.
        """
        p, m, A, V, H, T, G = self.p, self.mech, self.A, self.V, self.H, self.T, self.G
        VH, AVH = V * H, A * V * H
        pol, polA = self.pol, self.polA
        shape = (B, A, V, H)
        inits = [self._init_rep(r0 + b) for b in range(B)]

        def stack(i, dtype):
            x = np.stack([ini[i] for ini in inits])                           # (B, ...)
            return np.array(np.broadcast_to(x[:, None], (B, A) + x.shape[1:]), dtype=dtype, order="C")  # writable copy

        def flat(x):
            v = x.view()
            v.shape = (x.size,)                                               # raises rather than copy
            return v

        def ba_sum(x):                                                        # (B, A, V, H) -> (B, A)
            return x.reshape(B, A, VH).sum(axis=2)

        def ba_sub(idx, w=None):                                              # sum over a subset -> (B, A)
            return np.bincount(idx // VH, weights=w, minlength=B * A).reshape(B, A).astype(float)

        def arm_of(idx):
            return (idx // VH) % A

        store = stack(0, bool)                                                # (B, A, V)
        size = stack(1, np.int8)                             # persons: 0..16
        adults = stack(2, np.int8)
        lit = stack(3, np.int8)
        land = stack(4, np.float64)              # sown area; constant in v1, set to 0 when a household dissolves
        coop = stack(5, np.int8)
        skill = stack(6, np.float64)
        need = size * p["food_need"] + land * p["seed_need"]
        grain = p["grain0"] * need
        cash = np.full(shape, float(p["cash0"]))
        debt = np.zeros(shape)
        hunger = np.zeros(shape, np.int64)
        alive = size > 0
        reserve = np.zeros((B, A, V))
        st = dict(size=size, adults=adults, lit=lit, land=land, coop=coop, grain=grain, cash=cash, debt=debt,
                  hunger=hunger, alive=alive)

        weather_gens = [self._rep_gen(r0 + b, P_WEATHER) for b in range(B)]
        org_gens = [self._rep_gen(r0 + b, P_ORGANISER) for b in range(B)]
        hg = self._hh_gens(r0, B)

        out = {k: np.zeros((B, A, T)) for k in SERIES}
        start = {}

        def dissolve(idx, o):
            """Households idx (flat) reached size 0: dissolved; debt written off (a state cost for members)."""
            if idx.size == 0:
                return
            o["dissolved"] += ba_sub(idx)
            c = flat(st["coop"])[idx]
            o["cost_writeoff"] += ba_sub(idx, np.where(c >= 1, flat(st["debt"])[idx], 0.0))
            for k in ("debt", "grain", "cash", "land"):
                flat(st[k])[idx] = 0.0
            for k in ("coop", "hunger", "size", "adults", "lit"):
                flat(st[k])[idx] = 0
            flat(st["alive"])[idx] = False

        def aggregates():
            """Village aggregates (B, A, V): living, members, active, adults, literate adults."""
            al, c = st["alive"], st["coop"]
            return (np.count_nonzero(al, axis=3), np.count_nonzero(c >= 1, axis=3),
                    np.count_nonzero(c == 2, axis=3), adults.sum(axis=3), lit.sum(axis=3))

        def shares(agg):
            n, mem, act, ad, li = agg
            with np.errstate(invalid="ignore", divide="ignore"):
                M = np.where(n > 0, mem / np.maximum(n, 1), 0.0)
                Aa = np.where(n > 0, act / np.maximum(n, 1), 0.0)
                L = np.where(ad > 0, li / np.maximum(ad, 1), 0.0)
            return M, Aa, L

        def stocks(agg, price_hh, dst, t):
            """Stock series (end of year t, or the start when t is None) into dst."""
            n_v, mem_v, act_v, ad_v, li_v = agg
            n = n_v.sum(axis=2).astype(float)
            nn = np.maximum(n, 1.0)
            ad, li = ad_v.sum(axis=2), li_v.sum(axis=2)
            mem, act = mem_v.sum(axis=2), act_v.sum(axis=2)
            al = st["alive"]
            vals = {
                "households": n,
                "persons": ba_sum(size).astype(float),
                "member_share": mem / nn,
                "passive_share": (mem - act) / nn,
                "active_share": act / nn,
                "literacy": np.where(ad > 0, li / np.maximum(ad, 1), 0.0),
                "grain_mean": ba_sum(st["grain"]) / nn,           # dissolved households hold nothing
                "cash_mean": ba_sum(st["cash"]) / nn,
                "debt_mean": ba_sum(st["debt"]) / nn,
                "hunger_share": np.count_nonzero(st["hunger"].reshape(B, A, VH) > 0, axis=2) / nn,
                "stores_open": store.sum(axis=2).astype(float),
                "reserve_per_household": reserve.sum(axis=2) / nn,
            }
            wealth = np.maximum(0.0, st["cash"] + price_hh * st["grain"] - st["debt"])
            vals["wealth_gini"] = _gini(wealth.reshape(B * A, VH), al.reshape(B * A, VH)).reshape(B, A)
            for k, v in vals.items():
                if t is None:
                    dst[k] = v
                else:
                    dst[k][..., t] = v

        agg = aggregates()
        M, Aa, L = shares(agg)
        stocks(agg, p["price0"], start, None)

        f_rho = p["failure_correlation"]
        sR, sV, sH = p["sigma_R"], p["sigma_V"], p["sigma_H"]
        landpoor_ref = p["land_mean"] / p["size_mean"]
        hh = (slice(None), slice(None), slice(None), None)       # village (B, A, V) -> (B, A, V, 1)
        levy_on = m["reserve"] and bool((polA["reserve_levy"] > 0).any())
        bonus_on = m["bonus"] and bool((polA["bonus"] > 0).any())

        for t in range(T):
            o = {k: np.zeros((B, A)) for k in ("cost_aid", "cost_writeoff", "cost_interest", "cost_bonus",
                                                "cost_audit", "bonus_leakage", "famine_deaths", "births",
                                                "deaths", "dissolved", "claims", "audits", "expulsions",
                                                "defaults")}
            coop_start = coop.copy()
            persons_start = ba_sum(size).astype(float)
            expelled = np.zeros(shape, bool)

            # 1. Organisers (adoption): one village draw decides opening or closing.
            if m["adoption"]:
                u = np.stack([gen.random(V) for gen in org_gens])[:, None]      # (B, 1, V), shared by arms
                opening = ~store & (u < pol["organiser_rate"][1])
                closing = store & (Aa < p["store_min_share"]) & (u < p["store_close_prob"])
                if closing.any():
                    coop[closing[hh] & (coop == 2)] = 1                        # active members become passive
                store = (store | opening) & ~closing

            # 2. Weather, shared by every arm of a replication.
            if m["weather"]:
                Rg = np.empty((B, G))
                Vv = np.empty((B, V))
                E = np.empty((B, V, H))
                fails = np.zeros(B)
                for b, gen in enumerate(weather_gens):
                    zn = gen.standard_normal()
                    zg = gen.standard_normal(G)
                    zg2 = gen.standard_normal(G)
                    fail = np.array([_ndtr(math.sqrt(f_rho) * zn + math.sqrt(1 - f_rho) * z) for z in zg]) \
                        < p["failure_prob"]
                    fails[b] = fail.sum()
                    Rg[b] = np.exp(sR * zg2 - 0.5 * sR * sR) * np.where(fail, p["failure_factor"], 1.0)
                    Vv[b] = np.exp(sV * gen.standard_normal(V) - 0.5 * sV * sV)
                    E[b] = np.exp(sH * gen.standard_normal((V, H)) - 0.5 * sH * sH)
                Pbv = p["price0"] * Rg[:, self.region] ** (-p["price_elasticity"])   # (B, V)
                ymult = (p["yield_mean"] * Rg[:, self.region] * Vv)[:, None, :, None] * E[:, None]  # (B,1,V,H)
                out["failing_regions"][..., t] = fails[:, None]
            else:
                Pbv = np.full((B, V), float(p["price0"]))
                ymult = p["yield_mean"]
            P = Pbv[:, None, :, None]                                           # (B, 1, V, 1)
            Pf = Pbv.reshape(-1)

            def price_of(idx):
                return Pf[(idx // AVH) * V + (idx // H) % V]

            # 3. Harvest (dissolved households have no land), reserve levy, off-farm earnings.
            prod = 1.0 + p["beta_lit"] * (lit / np.maximum(adults, 1)) + p["beta_coop"] * (coop == 2)
            h = land * ymult * prod
            harvest = ba_sum(h)
            grain += h
            if levy_on:
                levy = pol["reserve_levy"][0] * h
                grain -= levy
                reserve += levy.sum(axis=3)
            landpoor = np.maximum(0.0, 1.0 - land / (np.maximum(size, 1) * landpoor_ref))
            cash += p["wage"] * adults * (1.0 + p["wage_landpoor"] * landpoor)
            land_sum = ba_sum(land)
            out["harvest_per_ha"][..., t] = np.where(land_sum > 0, harvest / np.where(land_sum > 0, land_sum, 1),
                                                     np.nan)

            # 4. Subsistence, on the households short of grain only.
            need = size * p["food_need"] + land * p["seed_need"]               # 0 for dissolved households
            D_all = need - grain
            S = np.flatnonzero(D_all > 0)
            bought = np.zeros((B, A))
            drawn = np.zeros((B, A))
            aid_total = np.zeros((B, A))
            borrowed = np.zeros((B, A))
            new_hunger = np.zeros(shape, np.int64)
            H_idx = S[:0]
            if S.size:
                D = flat(D_all)[S]
                Ps = price_of(S)
                c = flat(cash)[S]
                g = flat(grain)[S]
                # (a) buy with cash at P; a household that can pay for all of D pays exactly D P
                cost = D * Ps
                afford = c >= cost
                buy = np.where(afford, D, c / Ps)
                c = np.where(afford, c - cost, 0.0)
                D = np.where(afford, 0.0, D - buy)
                g += buy
                bought = ba_sub(S, buy)
                # (b) the village reserve covers the same fraction c of every remaining shortfall
                if m["reserve"]:
                    vi = S // H
                    SD = np.bincount(vi, weights=D, minlength=B * A * V).reshape(B, A, V)
                    full = reserve >= SD
                    frac = np.where(full, 1.0, reserve / np.where(SD > 0, SD, 1.0))
                    got = D * flat(frac)[vi]
                    g += got
                    D = np.where(flat(full)[vi], 0.0, D - got)
                    drawn = ba_sub(S, got)
                    reserve = np.where(full, reserve - SD, 0.0)
                # (c) co-operative mutual aid for members, paid by the state at P
                mem = flat(coop)[S] >= 1
                ai = arm_of(S)
                aid = np.where(mem, polA["coop_aid"][ai] * D, 0.0)
                g += aid
                D = D - aid
                aid_total = ba_sub(S, aid)
                o["cost_aid"] = ba_sub(S, aid * Ps)
                # (d) credit: b = min(D P, max(0, limit - debt))
                if m["credit"]:
                    d = flat(debt)[S]
                    limit = np.where(mem, polA["credit_limit_coop"][ai], p["credit_limit_private"])
                    room = np.maximum(0.0, limit - d)
                    cost = D * Ps
                    b_ = np.minimum(cost, room)
                    g += b_ / Ps
                    flat(debt)[S] = d + b_
                    D = np.where(cost <= room, 0.0, D - b_ / Ps)
                    borrowed = ba_sub(S, b_ / Ps)
                flat(grain)[S] = g
                flat(cash)[S] = c
                f = D / flat(need)[S]                                           # uncovered share of need
                hs = f > 0
                H_idx, f_h = S[hs], f[hs]
                flat(new_hunger)[H_idx] = flat(hunger)[H_idx] + 1
            hunger = st["hunger"] = new_hunger
            if m["famine"] and H_idx.size:
                u = hg[P_FAMINE].random((3, H_idx.size))
                sz, ad, li = flat(size)[H_idx], flat(adults)[H_idx], flat(lit)[H_idx]
                dies = u[0] < np.minimum(1.0, p["famine_mortality"] * f_h)
                d_ad = dies & (u[1] < ad / sz)
                d_li = d_ad & (u[2] < li / np.maximum(ad, 1))
                flat(size)[H_idx] = sz - dies
                flat(adults)[H_idx] = ad - d_ad
                flat(lit)[H_idx] = li - d_li
                o["famine_deaths"] = ba_sub(H_idx[dies])
                grain -= np.minimum(grain, need)
                dissolve(H_idx[dies & (sz == 1)], o)
            else:
                grain -= np.minimum(grain, need)

            # 5. Demography.
            if m["demography"]:
                children0 = size - adults
                C_idx = np.flatnonzero((adults >= 2) & (size < p["birth_cap"]))
                born = C_idx[hg[P_BIRTH].random(C_idx.size) < p["birth_rate"]]
                flat(size)[born] += 1
                o["births"] = ba_sub(born)
                ga = hg[P_AGE]
                k = _binomial(ga, children0, p["age_rate"], dense=True)
                adults += k
                lit += _binomial(ga, k, pol["school_rate"][0])
                # deaths: literate adults, illiterate adults, children (the newborn included)
                d_idx, d_lit, d_ill, d_ch = _deaths(hg[P_DEATH], flat(lit), flat(adults), flat(size) - flat(adults),
                                                    p["adult_death"], p["child_death"])
                flat(size)[d_idx] -= d_lit + d_ill + d_ch
                flat(adults)[d_idx] -= d_lit + d_ill
                flat(lit)[d_idx] -= d_lit
                o["deaths"] = ba_sub(d_idx, (d_lit + d_ill + d_ch).astype(float))
                orphan = np.flatnonzero((adults == 0) & (size > 0))
                if orphan.size:                                 # the eldest child comes of age at once
                    flat(adults)[orphan] = 1
                    flat(lit)[orphan] += hg[P_ELDEST].random(orphan.size) < polA["school_rate"][arm_of(orphan)]
                dissolve(np.flatnonzero(alive & (size == 0)), o)

            # 6. Market (step 4's need; dissolved households hold no grain).
            sold_coop = sold_private = sold_state = np.zeros((B, A))
            if m["market"]:
                cash -= p["spend_share"] * cash
                s = p["sell_share"] * np.maximum(0.0, grain - p["keep_buffer"] * need)
                act = coop == 2
                p_priv = Pbv[:, None, :] * (1.0 - p["private_margin"])                 # (B, 1, V)
                sp = pol["state_price"][1]                                              # (1, A, 1)
                phi = 1.0 / (1.0 + np.exp(-(sp - p_priv) / (p["channel_scale"] * Pbv[:, None, :])))  # (B, A, V)
                other_price = (1.0 - phi) * p_priv + phi * sp
                price = np.where(act, P * (1.0 - p["coop_margin"]), other_price[hh])
                cash += s * price * (1.0 - p["culture_loss"] * (1.0 - skill))
                grain -= s
                s_coop = np.where(act, s, 0.0)
                sold_coop = ba_sum(s_coop)
                s_other_v = (s - s_coop).sum(axis=3)                                    # (B, A, V)
                sold_state = (s_other_v * phi).sum(axis=2)
                sold_private = (s_other_v * (1.0 - phi)).sum(axis=2)
            out["sold_coop"][..., t] = sold_coop
            out["sold_private"][..., t] = sold_private
            out["sold_state"][..., t] = sold_state
            sales = sold_coop + sold_private + sold_state

            # 7. Bonus and verification (arms with bonus > 0).
            if bonus_on:
                gc = hg[P_CLAIM]
                arm_on = (polA["bonus"] > 0)[None, :, None, None]
                g_idx = np.flatnonzero((coop == 2) & arm_on)                   # genuine claims
                p_idx = np.flatnonzero((coop == 1) & arm_on)
                f_idx = p_idx[gc.random(p_idx.size) < polA["false_claim_prob"][arm_of(p_idx)]]
                c_idx = np.concatenate([g_idx, f_idx])
                genuine = np.arange(c_idx.size) < g_idx.size
                ca = arm_of(c_idx)
                audited = gc.random(c_idx.size) < polA["audit_prob"][ca]
                caught = audited & ~genuine
                paid = ~caught
                bon = polA["bonus"][ca]
                flat(cash)[c_idx[paid]] += bon[paid]                          # c_idx holds distinct households
                flat(coop)[c_idx[caught]] = 0
                flat(expelled)[c_idx[caught]] = True
                o["claims"] = ba_sub(c_idx)
                o["audits"] = ba_sub(c_idx[audited])
                o["cost_audit"] = o["audits"] * polA["audit_cost"][None, :]
                o["cost_bonus"] = ba_sub(c_idx[paid], bon[paid])
                leak = paid & ~genuine
                o["bonus_leakage"] = ba_sub(c_idx[leak], bon[leak])
                o["expulsions"] += ba_sub(c_idx[caught])

            # 8. Credit: interest subsidy, interest, repayment, defaults (households with debt only).
            if m["credit"]:
                d_idx = np.flatnonzero(debt > 0)
                if d_idx.size:
                    d = flat(debt)[d_idx]
                    mem = flat(coop)[d_idx] >= 1                                # membership after step 7
                    ai = arm_of(d_idx)
                    rc = polA["rate_coop"][ai]
                    o["cost_interest"] = ba_sub(d_idx, np.where(mem, (p["rate_private"] - rc) * d, 0.0))
                    d = d * (1.0 + np.where(mem, rc, p["rate_private"]))
                    c = flat(cash)[d_idx]
                    repay = np.minimum(c, d)
                    flat(cash)[d_idx] = c - repay
                    d = d - repay
                    limit = np.where(mem, polA["credit_limit_coop"][ai], p["credit_limit_private"])
                    dflt = d > p["default_multiple"] * limit
                    o["defaults"] = ba_sub(d_idx[dflt])
                    ex = dflt & mem
                    o["cost_writeoff"] += ba_sub(d_idx[ex], d[ex])
                    d[dflt] = 0.0
                    flat(debt)[d_idx] = d
                    flat(coop)[d_idx[ex]] = 0
                    flat(expelled)[d_idx[ex]] = True
                    o["expulsions"] += ba_sub(d_idx[ex])

            # 9. Literacy (hazard with last year's village literacy L) and trading skill.
            is_active = coop == 2
            if m["literacy"]:
                haz = (p["lambda0"] + pol["lambda_campaign"][0] + p["lambda_coop"] * is_active
                       + p["lambda_peer"] * L[hh])
                # learning probability 1 - exp(-haz), clipped to [0, 1]: log(1 - prob) = -max(haz, 0)
                lit += _binomial(hg[P_LITERACY], adults - lit, log_q=-np.maximum(haz, 0.0), dense=True)
                skill += (p["skill_rate"] * (lit / np.maximum(adults, 1)) * np.where(is_active, 1.0, p["skill_passive"])
                          * (1.0 - skill))
                np.clip(skill, 0.0, 1.0, out=skill)

            # 10. Co-operation: join (then maybe activate), lapse, activate or leave; at most one change.
            if m["adoption"]:
                x = p["p_inn"] * store + p["q_imit"] * M
                if m["bonus"]:
                    x = x + p["gamma_bonus"] * pol["bonus"][1]
                if m["credit"]:
                    x = x + p["gamma_credit"] * (p["rate_private"] - pol["rate_coop"][1])
                pj = flat(_hazard(x))                                          # (B A V,)
                st_v = flat(np.ascontiguousarray(store))
                a_bonus = p["a_bonus"] * polA["bonus"] if m["bonus"] else np.zeros(A)

                def p_activate(idx):
                    ad = flat(adults)[idx]
                    return _hazard(p["a0"] + p["a_lit"] * flat(lit)[idx] / np.maximum(ad, 1)
                                   + p["a_skill"] * flat(skill)[idx] + a_bonus[arm_of(idx)])

                gco = hg[P_COOP]
                j_idx = np.flatnonzero((coop == 0) & alive & ~expelled)
                p_idx = np.flatnonzero((coop_start == 1) & (coop == 1))
                a_idx = np.flatnonzero((coop_start == 2) & (coop == 2))
                joins = j_idx[gco.random(j_idx.size) < pj[j_idx // H]]
                j_act = st_v[joins // H] & (gco.random(joins.size) < p_activate(joins))
                p_act = st_v[p_idx // H] & (gco.random(p_idx.size) < p_activate(p_idx))
                p_leave = ~p_act & (gco.random(p_idx.size) < p["leave_passive"])
                lapse_p = p["lapse_active"] * np.where(flat(hunger)[a_idx] > 0, 1.0 + p["lapse_hunger"], 1.0)
                a_lapse = gco.random(a_idx.size) < lapse_p
                cf = flat(coop)
                cf[joins] = np.where(j_act, 2, 1)
                cf[p_idx[p_act]] = 2
                cf[p_idx[p_leave]] = 0
                cf[a_idx[a_lapse]] = 1

            # 11. Year end.
            reserve *= 1.0 - p["reserve_decay"]
            agg = aggregates()
            M, Aa, L = shares(agg)

            # Outputs of year t.
            stocks(agg, P, out, t)
            for k_, v in o.items():
                out[k_][..., t] = v
            ps = np.where(persons_start > 0, persons_start, np.nan)
            out["famine_death_rate"][..., t] = 1000.0 * o["famine_deaths"] / ps
            out["birth_rate"][..., t] = 1000.0 * o["births"] / ps
            out["death_rate"][..., t] = 1000.0 * o["deaths"] / ps
            with np.errstate(invalid="ignore", divide="ignore"):
                out["coop_sales_share"][..., t] = np.where(sales > 0, sold_coop / sales, np.nan)
                hv = np.where(harvest > 0, harvest, np.nan)
                out["marketed_gross"][..., t] = sales / hv
                out["marketed_net"][..., t] = (sales - bought - borrowed - aid_total - drawn) / hv
            out["state_cost"][..., t] = (o["cost_bonus"] + o["cost_audit"] + o["cost_aid"] + o["cost_interest"]
                                         + o["cost_writeoff"])
        return out, start

    def run(self, R: int, batch: int | None = None, quiet: bool = True):
        if batch is None:                     # about 2e5 household-arms per batch
            batch = max(1, min(R, 200_000 // max(1, self.A * self.V * self.H)))
        outs, starts = [], []
        for r0 in range(0, R, batch):
            B = min(batch, R - r0)
            o, s = self.run_batch(r0, B)
            outs.append(o)
            starts.append(s)
            if not quiet:
                print(f"  replications {r0}..{r0 + B - 1} done", file=sys.stderr)
        out = {k: np.concatenate([o[k] for o in outs]) for k in SERIES}
        start = {k: np.concatenate([s[k] for s in starts]) for k in STOCKS}
        return out, start


def events(out, start, T):
    """Per-replication events (docs/output-format.md): first year reaching a threshold, totals."""
    ev = {}
    for name, var, thr in (("first_active_50", "active_share", 0.5), ("first_active_90", "active_share", 0.9),
                           ("first_literacy_90", "literacy", 0.9)):
        reach = out[var] >= thr
        first = np.where(reach.any(axis=-1), reach.argmax(axis=-1), T).astype(float)
        ev[name] = np.where(start[var] >= thr, -1.0, first)
    ev["famine_deaths_total"] = out["famine_deaths"].sum(axis=-1)
    ev["state_cost_total"] = out["state_cost"].sum(axis=-1)
    return ev


def tune_malloc():
    """Keep freed memory in the process (glibc): no mmap for arrays below 32 MB, no trimming.

    Every NumPy temporary of a few MB is otherwise a fresh mmap whose pages
    fault in on first touch and are returned at free; on this host (a sandbox
    where page faults are expensive) that alone makes the model 2-3x slower.
    Equivalent to MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=... in the
    environment. Returns True when applied.
    """
    try:
        import ctypes
        import ctypes.util
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
        ok = libc.mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1      # glibc's maximum on 64-bit
        ok &= libc.mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1
        ok &= libc.mallopt(M_TOP_PAD, 64 << 20) == 1
        return bool(ok)
    except (OSError, AttributeError):
        return False


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("config")
    ap.add_argument("--replications", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--villages", type=int)
    ap.add_argument("--arms", help="comma-separated arm names (default: all, in file order)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a parameter: section.key=value, key=value or arm.NAME.key=value")
    ap.add_argument("--batch", type=int, help="replications simulated together (default: automatic)")
    ap.add_argument("--no-malloc-tuning", action="store_true",
                    help="leave glibc's allocator at its defaults (see tune_malloc)")
    ap.add_argument("--out", help="write the series to this .npz")
    ap.add_argument("--quiet", action="store_true", help="print nothing but the final rate line")
    ap.add_argument("--print-rate", action="store_true",
                    help="print only the rate (household-years per second) as a number, for scripts")
    a = ap.parse_args(argv)
    sets = list(a.set)
    if a.replications is not None:
        sets.append(f"run.replications={a.replications}")
    if a.seed is not None:
        sets.append(f"run.seed={a.seed}")
    if a.villages is not None:
        sets.append(f"population.villages={a.villages}")
    try:
        cfg, arms = load_config(a.config, sets)
    except (ConfigError, OSError, tomllib.TOMLDecodeError) as e:
        print(f"numpy_model: {e}", file=sys.stderr)
        return 2
    if a.arms:
        names = [s.strip() for s in a.arms.split(",") if s.strip()]
        known = {x["name"]: x for x in arms}
        missing = [n for n in names if n not in known]
        if missing:
            print(f"numpy_model: unknown arm {missing[0]} (arms: {', '.join(known)})", file=sys.stderr)
            return 2
        arms = [known[n] for n in names]
    if not a.no_malloc_tuning:
        tune_malloc()
    model = Model(cfg, arms)
    R = int(cfg["run"]["replications"])
    hy = R * model.A * model.V * model.H * model.T
    t0 = time.perf_counter()
    out, start = model.run(R, a.batch, quiet=a.quiet or a.print_rate)
    secs = time.perf_counter() - t0
    rate = hy / secs
    if a.out:
        ev = events(out, start, model.T)
        y0 = int(cfg["run"]["start_year"])
        np.savez_compressed(
            a.out, arms=np.array([x["name"] for x in arms]), years=np.arange(y0, y0 + model.T),
            seed=np.int64(model.seed), household_years=np.int64(hy), seconds=secs, rate=rate,
            **out, **{f"start_{k}": v for k, v in start.items()}, **ev)
    if a.print_rate:
        print(f"{rate:.6g}")
    else:
        print(f"numpy_model: {R} replications x {model.A} arms x {model.V * model.H} households x {model.T} years"
              f" = {hy / 1e6:.2f} M household-years in {secs:.2f} s ({rate / 1e6:.3f} M household-years/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
