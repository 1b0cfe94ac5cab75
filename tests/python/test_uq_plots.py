"""The figures of results under uncertainty (artel.uq_plots) on real small runs: a tornado chart of the
drivers (rank correlations from an LHS run, Sobol indices from a Saltelli run), the scatter against the
strongest driver, a sweep's response surface; each a non-empty PNG, listed by artel-plot only when the
file has what it shows."""
import subprocess

import numpy as np
import pytest

import artel
from artel import plots, uq_plots
from conftest import EXE, SCENARIO, SOURCE

PNG = b"\x89PNG\r\n\x1a\n"
SMALL = ["--set", "population.villages=4", "--set", "population.households=25", "--quiet"]


def make(path, scenario, *extra):
    subprocess.run([EXE, "run", str(scenario), "-o", str(path), *SMALL, *extra], check=True)
    return artel.open(path)


@pytest.fixture(scope="module")
def lhs(tmp_path_factory):
    return make(tmp_path_factory.mktemp("lhs") / "u.h5", SOURCE / "configs" / "nep-1923-uncertain.toml",
                "--replications", "60")


@pytest.fixture(scope="module")
def saltelli(tmp_path_factory):
    return make(tmp_path_factory.mktemp("sa") / "s.h5", SCENARIO, "--replications", "40",
                "--set", 'uncertainty.design="saltelli"',
                "--set", 'weather.failure_prob={ dist = "uniform", lo = 0.02, hi = 0.4 }',
                "--set", 'demography.famine_mortality={ dist = "uniform", lo = 0.1, hi = 0.5 }')


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    d = tmp_path_factory.mktemp("sw")
    scenario = d / "sweep.toml"
    scenario.write_text(SCENARIO.read_text() + '\n[[sweep]]\nname = "grid"\narm = "bonus-verified"\n'
                        'bonus = [0, 5]\naudit_prob = [0.2, 0.5, 0.8]\n')
    return make(d / "sw.h5", scenario, "--replications", "3")


def png(fig, path):
    plots.save(fig, path)
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 5000
    return fig


def test_drivers_from_rank_correlations(lhs, tmp_path):
    fig = png(uq_plots.drivers(lhs), tmp_path / "d.png")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 3 and all(ax.get_xlabel() == "partial rank correlation" for ax in axes)
    # the bars are the file's PRCCs, largest first
    s = lhs.dataset("sensitivity").sel(arm=lhs.baseline, output="famine_deaths_total", estimate="value")
    want = np.sort(np.abs(s["prcc"].values))[::-1][:8]
    got = np.abs([bar.get_width() for bar in axes[1].patches])
    assert np.allclose(np.sort(got)[::-1], want)
    png(uq_plots.drivers(lhs, diff=True, title=False, letters=True), tmp_path / "dd.png")


def test_drivers_from_sobol_indices(saltelli, tmp_path):
    fig = png(uq_plots.drivers(saltelli), tmp_path / "s.png")
    assert all(ax.get_xlabel() == "Sobol index" for ax in fig.axes if ax.get_visible())


def test_scatter_against_the_strongest_driver(lhs, tmp_path):
    fig = png(uq_plots.driver_scatter(lhs), tmp_path / "x.png")
    famine = [ax for ax in fig.axes if ax.get_visible()][1]
    assert famine.get_xlabel().split()[0] in {"famine_mortality", "failure_prob", "failure_factor"}


def test_sweep_surface(swept, tmp_path):
    assert uq_plots.sweeps(swept) == {"grid": [a for a in swept.arms if a.startswith("grid.")]}
    fig = png(uq_plots.sweep(swept, "grid"), tmp_path / "g.png")
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 2 and images[0].get_array().shape == (3, 2)


def test_artel_plot_lists_them_only_where_they_apply(lhs, swept, small_run):
    assert {"drivers", "drivers_difference", "driver_scatter"} <= set(plots.figures(lhs))
    assert "sweep_grid" in plots.figures(swept) and "drivers" not in plots.figures(swept)
    plain = plots.figures(artel.open(small_run))
    assert not any(n.startswith(("drivers", "sweep_")) for n in plain)
