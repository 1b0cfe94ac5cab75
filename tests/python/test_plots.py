"""Every figure of artel.plots on a real small run: a non-empty PNG, calendar-year and unit labels
(percentage points for differences of shares, famine per 1,000), one line per arm in one fixed colour and
marker, the paper options (no title, panel letters, 300 dpi, vector output), and artel-plot end to end."""
import os
import subprocess

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import artel
from artel import plots

ARMS = ["nep-1923", "free-market", "bonus-verified", "cultural-revolution", "sufficiency"]
PNG = b"\x89PNG\r\n\x1a\n"
FIGURES = ["overview", "forest", "differences", "year_to_majority", "fan_active_share", "fan_hunger_share",
           "fan_famine_death_rate", "fan_state_cost", "histogram_wealth", "histogram_grain"]


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


def test_arm_colours_and_markers_fixed(res):
    c = plots.arm_colours(res)
    assert list(c) == ARMS and len(set(c.values())) == len(ARMS)
    assert c == plots.arm_colours(ARMS)
    assert c["nep-1923"] == plots.PALETTE[0]
    m = plots.arm_markers(res)
    assert list(m) == ARMS and len(set(m.values())) == len(ARMS)


def test_coinciding():
    x = np.linspace(0, 1, 20)
    groups = plots.coinciding({"a": x, "b": x + 1e-4, "c": x + 0.3, "d": x[::-1], "e": x + 0.3})
    assert groups == [["a", "b"], ["c", "e"]]
    assert plots.coinciding({"a": x, "b": x + 0.1}) == []


@pytest.mark.parametrize("var,unit", [("active_share", "% of living households"), ("hunger_share", "%"),
                                      ("famine_death_rate", "per 1,000 persons"), ("state_cost", "roubles")])
def test_fan(res, tmp_path, var, unit):
    fig = plots.fan(res, var)
    check_png(fig, tmp_path / f"{var}.png")
    check_year_axes(fig)
    axes = visible(fig)
    assert len(axes) == len(ARMS) + 1
    found = labelled(axes[0].get_lines())
    assert list(found) == ARMS  # one median line per arm in the comparison panel, baseline first
    check_colours(found, res)
    assert [ln.get_marker() for ln in axes[0].get_lines()] == [plots.arm_markers(res)[a] for a in ARMS]
    assert any(unit in ax.get_ylabel() for ax in axes)
    assert [ax.get_title() for ax in axes[1:]] == ARMS
    for ax in axes[1:]:
        assert len(ax.collections) >= 2  # the 50% and 90% bands
    assert unit in fig._suptitle.get_text()


def test_diff_fan_in_percentage_points(res, tmp_path):
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
    assert all(ax.get_ylabel() == "difference [percentage points]" for ax in axes[::2])
    # plotted in percentage points: 100 x the paired difference of the shares
    med = np.nanmedian(res.values("free-market", "active_share", diff=True).values, axis=0) * 100
    np.testing.assert_allclose(axes[0].get_lines()[1].get_ydata(), med)


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
    ylabels = [ax.get_ylabel() for ax in axes]
    assert ylabels.count("difference [percentage points]") == 4
    assert "difference [per 1,000 persons]" in ylabels and any("roubles" in y for y in ylabels)


def test_forest(res, tmp_path):
    fig = plots.forest(res)
    check_png(fig, tmp_path / "forest.png")
    axes = visible(fig)
    assert len(axes) == len(plots.FOREST)
    for ax in axes:
        found = labelled(ax.get_lines())
        assert list(found) == ARMS[1:]
        check_colours(found, res)
    xlabels = " ".join(ax.get_xlabel() for ax in axes)
    for unit in ("years", "percentage points", "per 1,000 persons", "roubles"):
        assert unit in xlabels, unit
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ARMS[1:]  # top to bottom
    # the mean of each arm's marker is the mean paired difference of the file's diff group
    d, _, _ = plots.paired_differences(res, "active_share")
    x = [ln.get_xdata()[0] for ln in axes[1].get_lines() if ln.get_label() == "sufficiency"]
    assert x[0] == pytest.approx(100 * float(res.diff("sufficiency")["active_share_mean"].isel(year=-1)))
    assert x[0] == pytest.approx(d["sufficiency"].mean())


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
def test_histogram_as_differences(res, tmp_path, name, unit):
    fig = plots.histogram(res, name)
    check_png(fig, tmp_path / f"hist_{name}.png")
    axes = visible(fig)
    top, bottom = axes[:4], axes[4:]
    assert [ax.get_title() for ax in top] == ["end of 1923", "end of 1927", "end of 1932", "end of 1942"]
    for ax in top:
        assert list(labelled(ax.patches)) == ARMS[:1]  # the baseline's distribution
    for ax in bottom:
        found = labelled(ax.patches)  # one step outline per other arm: its difference to the baseline
        assert list(found) == ARMS[1:]
        check_colours(found, res)
    assert all(unit in ax.get_xlabel() for ax in bottom)
    assert "percentage points" in bottom[0].get_ylabel() and "share of households" in top[0].get_ylabel()


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
    assert "% of living households" in ylabels[0]
    assert "roubles" in ylabels[1] and ylabels[2] == "per 1,000 persons" and "replications" in ylabels[3]


def test_paper_options(res, tmp_path):
    """title=False drops the figure title, letters=True letters the panels; 300 dpi and vector output."""
    fig = plots.overview(res, title=False, letters=True)
    assert fig._suptitle is None
    assert [ax.get_title(loc="left") for ax in visible(fig)] == ["a", "b", "c", "d"]
    fig = plots.year_to_majority(res, title=False)
    assert fig._suptitle is None and plots.year_to_majority(res)._suptitle is not None
    png = plots.save(fig, tmp_path / "y.png", dpi=300)
    from PIL import Image
    with Image.open(png) as im:
        assert im.size[0] >= 2000 and round(im.info["dpi"][0]) == 300
    pdf = plots.save(fig, tmp_path / "y.pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000
    svg = plots.save(fig, tmp_path / "y.svg")
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "replications that got there" in text  # text kept as text


def test_figures_list(res):
    assert list(plots.figures(res)) == FIGURES


def run_cli(installed, *args):
    return subprocess.run([str(installed.bin / "artel-plot"), *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def test_artel_plot(installed, small_run, tmp_path):
    """The installed console script writes figures as non-empty PNGs (every figure it writes has its own test
    above: test_figures_list), and with --paper as PDF."""
    out = tmp_path / "figs"
    r = run_cli(installed, small_run, "-o", out, "--only", "overview,histogram_grain")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["histogram_grain.png", "overview.png"]
    for p in out.iterdir():
        data = p.read_bytes()
        assert data.startswith(PNG) and 5000 < len(data) < 200_000, p.name
    r = run_cli(installed, small_run, "-o", tmp_path / "paper", "--paper", "--format", "pdf", "--only", "forest")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "paper" / "forest.pdf").read_bytes().startswith(b"%PDF")


def test_artel_plot_refuses(installed, tmp_path):
    bad = tmp_path / "bad.h5"
    bad.write_text("nothing here\n")
    r = run_cli(installed, bad, "-o", tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().startswith("artel-plot: error:") and "not an HDF5 file" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_artel_plot_incomplete(installed, small_run, tmp_path):
    """An interrupted run (complete = 0, no histograms yet) is refused unless --allow-incomplete; then the
    figures its data allows are written and the others are skipped with a message."""
    import shutil

    import h5py
    partial = tmp_path / "run.h5.partial"
    shutil.copyfile(small_run, partial)
    with h5py.File(partial, "r+") as f:
        f.attrs["complete"] = np.int64(0)
        for arm in ARMS:
            del f[f"arms/{arm}/histograms"]
    r = run_cli(installed, partial, "-o", tmp_path / "figs", "--only", "year_to_majority,histogram_wealth")
    assert r.returncode == 2 and "incomplete" in r.stderr and "--allow-incomplete" in r.stderr
    r = run_cli(installed, partial, "-o", tmp_path / "figs", "--only", "year_to_majority,histogram_wealth",
                "--allow-incomplete")
    assert r.returncode == 0, r.stderr
    assert "skipped histogram_wealth" in r.stderr
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == ["year_to_majority.png"]
    assert os.path.exists(partial)
