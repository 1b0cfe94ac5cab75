"""Every figure of artel.plots on a real small run: a non-empty PNG, calendar-year and unit labels, one
line per arm in one fixed colour, and scripts/artel-plot end to end."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import artel
from artel import plots

ARMS = ["nep-1923", "free-market", "bonus-verified", "cultural-revolution", "sufficiency"]
SOURCE = Path(os.environ.get("ARTEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def res(small_run):
    return artel.open(small_run)


def labelled(artists):
    """{label: colour} of artists whose label is not hidden ('_...')."""
    out = {}
    for a in artists:
        lab = a.get_label()
        if lab and not lab.startswith("_"):
            assert lab not in out, f"two artists labelled {lab!r}"
            colour = a.get_color() if hasattr(a, "get_color") else a.get_edgecolor()
            out[lab] = to_hex(colour)
    return out


def visible(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def check_png(fig, path):
    assert isinstance(fig, Figure)
    plots.save(fig, path)
    data = path.read_bytes()
    assert data.startswith(PNG) and len(data) > 5000
    return data


def check_year_axes(fig):
    """Every panel's x axis is calendar years; each labelled x axis says 'year'."""
    axes = visible(fig)
    assert axes
    xlabels = [ax.get_xlabel() for ax in axes if ax.get_xlabel()]
    assert xlabels and all("year" in x for x in xlabels), xlabels
    shown = []
    for ax in axes:
        lo, hi = ax.get_xlim()
        assert 1918 <= lo < 1925 and 1940 < hi < 1950, (lo, hi)
        assert 1930 in list(ax.get_xticks())
        assert ax.xaxis.get_major_formatter()(1930, 0) == "1930"
        shown += [t.get_text() for t in ax.get_xticklabels()]  # empty for panels sharing the bottom row's
    assert {"1925", "1930", "1935", "1940"} <= set(shown), shown


def check_colours(found, res):
    colours = plots.arm_colours(res)
    for arm, c in found.items():
        assert c == to_hex(colours[arm]), (arm, c)


def test_arm_colours_fixed(res):
    c = plots.arm_colours(res)
    assert list(c) == ARMS and len(set(c.values())) == len(ARMS)
    assert c == plots.arm_colours(ARMS)
    assert c["nep-1923"] == plots.PALETTE[0]


@pytest.mark.parametrize("var,unit", [("active_share", "share"), ("passive_share", "share"),
                                      ("literacy", "share"), ("hunger_share", "share"),
                                      ("famine_deaths", "persons"), ("state_cost", "roubles")])
def test_fan(res, tmp_path, var, unit):
    fig = plots.fan(res, var)
    check_png(fig, tmp_path / f"{var}.png")
    check_year_axes(fig)
    axes = visible(fig)
    assert len(axes) == len(ARMS) + 1
    found = labelled(axes[0].get_lines())
    assert list(found) == ARMS  # one median line per arm in the comparison panel, baseline first
    check_colours(found, res)
    assert any(unit in ax.get_ylabel() for ax in axes)
    assert [ax.get_title() for ax in axes[1:]] == ARMS
    for ax in axes[1:]:
        assert len(ax.collections) >= 2  # the 50% and 90% bands
    assert unit in fig._suptitle.get_text()


def test_fan_cumulative(res, tmp_path):
    fig = plots.fan(res, "state_cost", cumulative=True)
    check_png(fig, tmp_path / "cum.png")
    assert "cumulative" in fig._suptitle.get_text()


def test_diff_fan(res, tmp_path):
    fig = plots.diff_fan(res, "active_share")
    check_png(fig, tmp_path / "diff_fan.png")
    check_year_axes(fig)
    axes = visible(fig)
    assert len(axes) == len(ARMS) - 1
    found = {}
    for ax in axes:
        lines = labelled(ax.get_lines())
        assert len(lines) == 1
        found.update(lines)
    assert list(found) == ARMS[1:]
    check_colours(found, res)
    assert all("difference" in ax.get_ylabel() for ax in axes[::2])


def test_differences(res, tmp_path):
    fig = plots.differences(res)
    check_png(fig, tmp_path / "differences.png")
    check_year_axes(fig)
    axes = visible(fig)
    assert len(axes) == len(plots.DIFF_SERIES)
    for ax in axes:
        found = labelled(ax.get_lines())
        assert list(found) == ARMS[1:]  # the baseline is the zero line
        check_colours(found, res)
        assert ax.get_ylabel().startswith("difference [")
    ylabels = " ".join(ax.get_ylabel() for ax in axes)
    assert "persons" in ylabels and "roubles" in ylabels and "share" in ylabels


def test_year_to_majority(res, tmp_path):
    fig = plots.year_to_majority(res)
    check_png(fig, tmp_path / "ecdf.png")
    (ax,) = visible(fig)
    found = labelled(ax.get_lines())
    assert list(found) == ARMS
    check_colours(found, res)
    assert "year" in ax.get_xlabel() and "replications" in ax.get_ylabel()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "never" in ticks and "1930" in ticks


@pytest.mark.parametrize("name,unit", [("wealth", "roubles"), ("grain", "centners"), ("literacy", "share")])
def test_histogram(res, tmp_path, name, unit):
    fig = plots.histogram(res, name)
    check_png(fig, tmp_path / f"hist_{name}.png")
    axes = visible(fig)
    assert [ax.get_title() for ax in axes] == ["end of 1923", "end of 1927", "end of 1932", "end of 1942"]
    for ax in axes:
        found = labelled(ax.patches)  # one step outline per arm
        assert list(found) == ARMS
        check_colours(found, res)
    xlabels = [ax.get_xlabel() for ax in axes if ax.get_xlabel()]
    assert xlabels and all(unit in x for x in xlabels)
    assert "households" in axes[0].get_ylabel()


def test_overview(res, tmp_path):
    fig = plots.overview(res)
    check_png(fig, tmp_path / "overview.png")
    check_year_axes(fig)
    axes = visible(fig)
    assert len(axes) == 4
    for ax in axes:
        found = labelled(ax.get_lines())
        assert list(found) == ARMS
        check_colours(found, res)
    ylabels = [ax.get_ylabel() for ax in axes]
    assert "share of living households" in ylabels[0]
    assert "roubles" in ylabels[1] and "persons" in ylabels[2] and "replications" in ylabels[3]


def test_figures_list(res):
    assert list(plots.figures(res)) == [
        "overview", "fan_active_share", "fan_passive_share", "fan_literacy", "fan_hunger_share",
        "fan_famine_deaths", "fan_state_cost", "differences", "year_to_majority", "histogram_wealth",
        "histogram_grain"]


def run_cli(*args):
    return subprocess.run([sys.executable, str(SOURCE / "scripts" / "artel-plot"), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_artel_plot_cli(small_run, tmp_path):
    script = SOURCE / "scripts" / "artel-plot"
    assert os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/usr/bin/python3\n")
    out = tmp_path / "figs"
    r = run_cli(small_run, "-o", out, "--only", "overview,year_to_majority")
    assert r.returncode == 0, r.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == ["overview.png", "year_to_majority.png"]
    for p in out.iterdir():
        data = p.read_bytes()
        assert data.startswith(PNG) and 5000 < len(data) < 200_000
    r = run_cli(small_run, "--list")
    assert r.returncode == 0 and "fan_state_cost" in r.stdout.split()


def test_artel_plot_cli_refuses(tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_text("nothing here\n")
    r = run_cli(bad, "-o", tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().startswith("artel-plot: error:") and "not an HDF5 file" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_artel_plot_cli_incomplete(small_run, tmp_path):
    """An interrupted run (complete = 0, no histograms yet) is refused unless --allow-incomplete; then the
    figures its data allows are written and the others are skipped with a message."""
    import shutil

    import h5py
    import numpy as np
    partial = tmp_path / "run.h5.partial"
    shutil.copyfile(small_run, partial)
    with h5py.File(partial, "r+") as f:
        f.attrs["complete"] = np.int64(0)
        for arm in ARMS:
            del f[f"arms/{arm}/histograms"]
    r = run_cli(partial, "-o", tmp_path / "figs", "--only", "year_to_majority,histogram_wealth")
    assert r.returncode == 2 and "incomplete" in r.stderr and "--allow-incomplete" in r.stderr
    r = run_cli(partial, "-o", tmp_path / "figs", "--only", "year_to_majority,histogram_wealth",
                "--allow-incomplete")
    assert r.returncode == 0, r.stderr
    assert "skipped histogram_wealth" in r.stderr
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["year_to_majority.png"]
