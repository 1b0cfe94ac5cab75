"""The machinery of the calibration without artel: priors as distributions (artel.priors) and ABC-SMC
(artel.abc_smc) on toy problems whose posterior is known in closed form, its importance weights and
proposals, the adaptive tolerance, and its state on disk (resume, no overwrite, another fit refused).

Statistical checks state their tolerance as k standard errors of the Monte Carlo estimate (the posterior
population's effective sample size n_eff gives se = sd / sqrt(n_eff)); k = 4 for the means, and a relative
tolerance for the standard deviations (whose se is about sd / sqrt(2 n_eff)). Seeds are fixed, so the tests
are deterministic; the tolerances are what the estimates would have to pass with any seed.
"""
import json

import numpy as np
import pytest
from scipy import integrate

from artel import abc_smc
from artel.abc_smc import ABCSMC, Generation, Proposal, Settings, StateError
from artel.priors import Prior, PriorError, Priors, priors_of

ALL = [Prior("a.u", "uniform", {"lo": 0.2, "hi": 0.7}),
       Prior("a.n", "normal", {"mean": 1.0, "sd": 0.5}),
       Prior("a.tn", "normal", {"mean": 0.38, "sd": 0.08, "lo": 0.15, "hi": 0.65}),
       Prior("a.ln", "lognormal", {"median": 0.02, "sigma": 0.6}),
       Prior("a.tln", "lognormal", {"median": 0.05, "sigma": 0.4, "lo": 0.02, "hi": 0.2}),
       Prior("a.b", "beta", {"a": 8, "b": 42}),
       Prior("a.bs", "beta", {"a": 2, "b": 3, "lo": 1, "hi": 5}),
       Prior("a.tri", "triangular", {"lo": 0.35, "mode": 0.5, "hi": 0.7})]


# ---- priors -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", ALL, ids=lambda p: p.dist + ":" + p.key)
def test_prior_density_integrates_to_one_in_x_and_in_z(p):
    a, b = p.support
    mass_x = integrate.quad(lambda x: np.exp(p.logpdf(x)), a, b, limit=400, points=[float(p.ppf(0.5))])[0]
    mass_z = integrate.quad(lambda z: np.exp(p.logpdf_z(z)), -40, 40, limit=400)[0]
    assert mass_x == pytest.approx(1, abs=1e-6) and mass_z == pytest.approx(1, abs=1e-6)
    assert p.logpdf(a - 1e-9 * (b - a) - 1e-12) == -np.inf and p.logpdf(b + 1e-9 * (b - a) + 1e-12) == -np.inf


@pytest.mark.parametrize("p", ALL, ids=lambda p: p.dist + ":" + p.key)
def test_prior_draws_follow_the_density_and_z_round_trips(p):
    x = p.rvs(np.random.default_rng(1), 20000)
    a, b = p.support
    assert np.all((x >= a) & (x <= b))
    # the empirical CDF at the quartiles: within 4 se of 1/4, 1/2, 3/4
    for q in (0.25, 0.5, 0.75):
        assert abs(np.mean(x <= p.ppf(q)) - q) < 4 * np.sqrt(q * (1 - q) / x.size)
    assert np.allclose(p.from_z(p.to_z(x)), x, rtol=1e-9, atol=1e-12 * (b - a))


def test_priors_of_a_resolved_scenario():
    config = {"run": {"seed": 1}, "weather": {"failure_prob": {"dist": "beta", "a": 8.0, "b": 42.0}, "sigma_R": 0.12},
              "behaviour": {"q_imit": {"dist": "normal", "mean": 0.38, "sd": 0.08, "lo": 0.15, "hi": 0.65}},
              "arm": [{"name": "x"}]}
    pri = priors_of(config)
    assert [p.key for p in pri] == ["weather.failure_prob", "behaviour.q_imit"]
    assert pri[0].text() == "beta(a=8, b=42)"
    with pytest.raises(PriorError, match="discrete prior"):
        priors_of({"behaviour": {"a0": {"dist": "discrete", "values": [1.0, 2.0]}}}, continuous=True)
    with pytest.raises(PriorError, match="lacks hi"):
        Prior("x.y", "uniform", {"lo": 0})
    with pytest.raises(PriorError, match="no parameter has a prior"):
        Priors([])


# ---- the pieces of ABC-SMC ------------------------------------------------------------------------------

def test_effective_size_and_distance():
    assert abc_smc.effective_size(np.zeros(10)) == pytest.approx(10)
    assert abc_smc.effective_size([0.0, -np.inf, -np.inf, -np.inf]) == pytest.approx(1)
    assert abc_smc.effective_size(np.full(3, -np.inf)) == 0
    d2 = abc_smc.distance2([[1.0, 2.0], [np.nan, 0.0]], [0.0, 0.0], [1.0, 2.0])
    assert d2[0] == pytest.approx(2.0) and d2[1] == np.inf


def test_choose_eps_keeps_the_stated_share_of_the_ess():
    rng = np.random.default_rng(2)
    d2 = rng.chisquare(3, 2000) * 4
    log_ratio = np.zeros(2000)
    eps = abc_smc.choose_eps(d2, log_ratio, 5.0, 1.0, 0.3, 50)
    base = abc_smc.effective_size(-d2 / 50.0)
    assert abc_smc.effective_size(-d2 / (2 * eps ** 2)) == pytest.approx(0.3 * base, rel=1e-3)
    # a flat kernel down to eps_min: eps_min; a batch too poor to step on: eps stays
    assert abc_smc.choose_eps(np.zeros(100), np.zeros(100), 5.0, 1.0, 0.3, 50) == 1.0
    bad = np.full(100, -np.inf)
    bad[:10] = 0
    assert abc_smc.choose_eps(d2[:100], bad, 5.0, 1.0, 0.3, 50) == 5.0


@pytest.mark.parametrize("kind", ["t", "mixture", "t+mixture"])
def test_proposal_is_a_normalised_density(kind):
    """E_q[prior(z) / q(z)] = 1 for any normalised q: the weights of a generation are unbiased importance
    weights only if the proposal density is right. Checked within 4 se over 40000 draws from q."""
    pri = Priors(ALL[:4])
    rng = np.random.default_rng(3)
    theta = pri.rvs(rng, 300)
    z = pri.to_z(theta)
    prev = Generation(0, 1.0, theta, z * 0.3 + 0.2, np.zeros((300, 1)), np.zeros(300), np.zeros(300),
                      np.log(rng.random(300) + 0.05))
    q = Proposal(prev, Settings(proposal=kind), pri)
    zz = q.sample(np.random.default_rng(4), 40000)
    r = np.exp(pri.logpdf_z(zz) - q.logpdf(zz))
    assert abs(r.mean() - 1) < 4 * r.std() / np.sqrt(r.size)


def test_weights_reproduce_the_prior_when_the_kernel_is_flat():
    """Generation 1 with a very wide tolerance: its weights prior / proposal alone must turn draws from the
    proposal (centred elsewhere) back into the prior: mean and sd of each parameter within 4 se."""
    pri = Priors([Prior("a.x", "normal", {"mean": 0.0, "sd": 1.0}), Prior("a.y", "uniform", {"lo": 0, "hi": 1})])
    s = Settings(population=3000, eps_min=1e6, seed=5, min_ess=10)
    smc = ABCSMC(pri, [0.0], [1.0], s)
    theta0 = np.column_stack([np.random.default_rng(6).normal(0.7, 0.4, 3000),
                              np.random.default_rng(7).uniform(0.5, 0.9, 3000)])
    prev = Generation(0, 1e6, theta0, pri.to_z(theta0), np.zeros((3000, 1)), np.zeros(3000), np.zeros(3000),
                      np.zeros(3000))
    g = smc.step(1, prev, lambda t, th: np.zeros((len(th), 1)))
    w = g.weights
    n_eff = abc_smc.effective_size(g.log_weight)
    assert n_eff > 300
    m = w @ g.theta
    assert abs(m[0] - 0.0) < 4 / np.sqrt(n_eff) and abs(m[1] - 0.5) < 4 * np.sqrt(1 / 12 / n_eff)
    sd = np.sqrt(w @ (g.theta - m) ** 2)
    assert sd[0] == pytest.approx(1.0, rel=0.1) and sd[1] == pytest.approx(np.sqrt(1 / 12), rel=0.1)


# ---- toy problems with a known posterior ------------------------------------------------------------------

def _normal_posterior(prior_sd, obs, sd):
    v = 1 / (1 / prior_sd ** 2 + 1 / sd ** 2)
    return v * obs / sd ** 2, np.sqrt(v)


def _check_moments(result, means, sds, k=4.0, rel_sd=0.15):
    w, th = result.weights, result.theta
    n_eff = result.ess
    m = w @ th
    s = np.sqrt(w @ (th - m) ** 2)
    for j, (mu, sigma) in enumerate(zip(means, sds)):
        assert abs(m[j] - mu) < k * sigma / np.sqrt(n_eff), (j, m[j], mu, sigma, n_eff)
        assert s[j] == pytest.approx(sigma, rel=rel_sd), (j, s[j], sigma)


@pytest.mark.parametrize("kind", ["t", "t+mixture"])
def test_recovers_a_conjugate_normal_posterior(kind):
    """Prior x ~ N(0, 2^2), y ~ U(-3, 3); figures (x, x + y) with targets 1 +- 0.5 and 1.5 +- 0.3: at
    eps = 1 the posterior is exactly Gaussian: x ~ N(0.941, 0.485^2), y | x ~ N(1.5 - x, 0.3^2)."""
    pri = Priors([Prior("a.x", "normal", {"mean": 0.0, "sd": 2.0}), Prior("a.y", "uniform", {"lo": -3, "hi": 3})])
    smc = ABCSMC(pri, [1.0, 1.5], [0.5, 0.3], Settings(population=2000, seed=3, min_ess=800, proposal=kind))
    r = smc.run(lambda t, th: np.column_stack([th[:, 0], th[:, 0] + th[:, 1]]))
    assert r.stop == "converged" and r.eps == 1.0
    mx, sx = _normal_posterior(2.0, 1.0, 0.5)
    _check_moments(r, [mx, 1.5 - mx], [sx, np.sqrt(sx ** 2 + 0.09)])


def test_monte_carlo_noise_acts_as_added_error():
    """A noisy simulator (figure = x + N(0, 0.3^2)) against a target 1 +- 0.4: the posterior is that of an
    error of variance 0.4^2 + 0.3^2 = 0.5^2 (the kernel estimates the Gaussian likelihood unbiasedly)."""
    pri = Priors([Prior("a.x", "normal", {"mean": 0.0, "sd": 2.0})])
    rng = np.random.default_rng(11)
    smc = ABCSMC(pri, [1.0], [0.4], Settings(population=3000, seed=4, min_ess=1000))
    r = smc.run(lambda t, th: th[:, :1] + rng.normal(0, 0.3, (len(th), 1)))
    mx, sx = _normal_posterior(2.0, 1.0, 0.5)
    _check_moments(r, [mx], [sx])


def test_fourteen_parameters_linear_gaussian():
    """14 parameters, 9 figures (linear, some mixing two parameters), target sd 0.08 against prior sd 1: the
    posterior mean and sd of every parameter, identified or not, match the exact Gaussian posterior. (The
    Student t proposal alone, which takes 0.2 s here; the default t+mixture converges in 10 generations too,
    but its kernel mixture over 2000 particles takes 2 s a generation.)"""
    d, n = 14, 9
    a = np.zeros((n, d))
    a[np.arange(n), np.arange(n)] = 1.0
    a[0, 9], a[1, 10], a[2, 3] = 0.7, -0.5, 0.6
    y = a @ np.random.default_rng(5).standard_normal(d) * 0.8
    sd = np.full(n, 0.08)
    pri = Priors([Prior(f"s.p{i}", "normal", {"mean": 0.0, "sd": 1.0}) for i in range(d)])
    smc = ABCSMC(pri, y, sd, Settings(population=2000, seed=3, min_ess=500, proposal="t"))
    r = smc.run(lambda t, th: th @ a.T)
    assert r.stop == "converged" and len(r.generations) <= 15
    cov = np.linalg.inv(np.eye(d) + a.T @ np.diag(1 / sd ** 2) @ a)
    _check_moments(r, cov @ a.T @ (y / sd ** 2), np.sqrt(np.diag(cov)))


# ---- state on disk ---------------------------------------------------------------------------------------

class Interrupted(Exception):
    pass


def _toy(state_dir, **kw):
    pri = Priors([Prior("a.x", "normal", {"mean": 0.0, "sd": 2.0}), Prior("a.y", "uniform", {"lo": -3, "hi": 3})])
    s = Settings(**{"population": 400, "seed": 9, "min_ess": 150, **kw})
    return ABCSMC(pri, [1.0, 1.5], [0.5, 0.3], s, state_dir, meta={"toy": 1})


def _sim(t, th):
    return np.column_stack([th[:, 0], th[:, 0] + th[:, 1]])


def test_resume_gives_the_populations_of_an_uninterrupted_run(tmp_path):
    whole = _toy(tmp_path / "whole").run(_sim)
    assert len(whole.generations) >= 3

    def stop_at_2(t, th):
        if t == 2:
            raise Interrupted
        return _sim(t, th)

    with pytest.raises(Interrupted):
        _toy(tmp_path / "cut").run(stop_at_2)
    assert sorted(p.name for p in (tmp_path / "cut").iterdir()) == ["gen-000.json", "gen-001.json", "settings.json"]
    before = (tmp_path / "cut" / "gen-001.json").read_bytes()
    lines = []
    resumed = _toy(tmp_path / "cut").run(_sim, log=lines.append)
    assert lines[0].startswith("resuming after generation 1")
    assert (tmp_path / "cut" / "gen-001.json").read_bytes() == before
    assert resumed.stop == whole.stop and len(resumed.generations) == len(whole.generations)
    for a, b in zip(whole.generations, resumed.generations):
        assert a.eps == b.eps and np.array_equal(a.theta, b.theta) and np.array_equal(a.log_weight, b.log_weight)
    # a finished fit run again does nothing more
    again = _toy(tmp_path / "cut").run(lambda t, th: pytest.fail("simulated again"))
    assert len(again.generations) == len(whole.generations)


def test_stop_criteria_may_change_on_resume_but_not_the_fit(tmp_path):
    short = _toy(tmp_path, max_generations=1).run(_sim)
    assert short.stop == "max-generations" and len(short.generations) == 1
    longer = _toy(tmp_path, max_generations=30).run(_sim)
    assert len(longer.generations) > 1
    with pytest.raises(StateError, match="settings"):
        _toy(tmp_path, population=500).run(_sim)
    with pytest.raises(StateError, match="values"):
        ABCSMC(Priors([Prior("a.x", "normal", {"mean": 0.0, "sd": 2.0}),
                       Prior("a.y", "uniform", {"lo": -3, "hi": 3})]), [1.0, 1.6], [0.5, 0.3],
               Settings(population=400, seed=9, min_ess=150), tmp_path, meta={"toy": 1}).run(_sim)


def test_state_files_are_written_once(tmp_path):
    abc_smc.write_new(tmp_path / "x.json", "1")
    with pytest.raises(FileExistsError):
        abc_smc.write_new(tmp_path / "x.json", "2")
    assert (tmp_path / "x.json").read_text() == "1"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temporary file left behind
    g = _toy(None).step(0, None, _sim)
    back = Generation.from_json(json.loads(json.dumps(g.to_json())))
    assert np.array_equal(back.theta, g.theta) and back.eps == g.eps and back.ess == pytest.approx(g.ess)
