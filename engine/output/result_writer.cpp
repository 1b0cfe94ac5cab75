#include "engine/output/result_writer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <deque>
#include <limits>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <system_error>

#include "artel/version.hpp"
#include "engine/h5/h5.hpp"
#include "engine/stats/summary.hpp"

namespace artel::output {
namespace {

using h5::hsize_t;

std::string utc_now() {
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::vector<std::int64_t> iota64(std::int64_t n, std::int64_t first = 0) {
    std::vector<std::int64_t> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), first);
    return v;
}

// A dimension scale dataset `name` in group g (netCDF-4 style).
h5::Dataset make_scale(h5::Group& g, const std::string& name, const std::vector<std::int64_t>& values,
                       const std::string& units, const std::string& long_name) {
    auto d = g.write_dataset<std::int64_t>(name, values, {values.size()});
    d.make_dimension_scale(name);
    if (!units.empty()) d.set_attr("units", units);
    d.set_attr("long_name", long_name);
    return d;
}

h5::Dataset make_scale(h5::Group& g, const std::string& name, const std::vector<double>& values,
                       const std::string& units, const std::string& long_name) {
    auto d = g.write_dataset<double>(name, values, {values.size()});
    d.make_dimension_scale(name);
    if (!units.empty()) d.set_attr("units", units);
    d.set_attr("long_name", long_name);
    return d;
}

void describe(h5::Dataset& d, const std::string& units, const std::string& long_name) {
    d.set_attr("units", units);
    d.set_attr("long_name", long_name);
}

h5::DatasetOptions rows_chunked(hsize_t rows, hsize_t cols) {
    h5::DatasetOptions o;
    // About 64 KiB per chunk: HDF5 caches one chunk per open dataset, and a
    // run keeps a few hundred datasets open.
    const hsize_t chunk_rows =
        std::max<hsize_t>(1, std::min<hsize_t>(rows, std::max<hsize_t>(1, 8192 / std::max<hsize_t>(1, cols))));
    o.chunk = cols ? std::vector<hsize_t>{chunk_rows, cols} : std::vector<hsize_t>{chunk_rows};
    o.deflate = 4;
    o.shuffle = true;
    return o;
}

}  // namespace

std::filesystem::path partial_path(const std::filesystem::path& final_path) {
    auto p = final_path;
    p += ".partial";
    return p;
}

struct ResultWriter::Impl {
    run::ResultSchema schema;
    std::optional<h5::File> file;
    struct ArmGroups {
        h5::Group arm, series, start, events, trajectories;
        std::vector<h5::Dataset> series_ds, start_ds, event_ds, traj_ds;
    };
    std::vector<ArmGroups> arms;
    std::vector<std::int64_t> histograms;  // summed over replications: [arm][hist][year][bin]
    std::uint64_t written = 0;
    bool finished = false;
    // Records consumed but not yet in the file: consecutive replications,
    // written as one block of rows per dataset (one HDF5 call per dataset and
    // batch instead of one per replication, and whole chunks where the batch
    // covers them).
    std::vector<run::ReplicationRecord> pending;
    std::size_t npending = 0;
    std::chrono::steady_clock::time_point last_flush = std::chrono::steady_clock::now();

    void create_layout(const RunMetadata& meta);
    void write_pending();
    void write_statistics();
    void write_histograms();
};

namespace {
// Axis k of every dataset of ds labelled with scales[k], all at once
// (h5::Dataset::attach_scales).
void attach_all(std::vector<h5::Dataset>& ds, std::initializer_list<const h5::Dataset*> scales) {
    std::vector<h5::Dataset::ScaleLink> links;
    links.reserve(ds.size() * scales.size());
    for (auto& d : ds) {
        unsigned k = 0;
        for (const auto* sc : scales) links.push_back({&d, k++, sc});
    }
    h5::Dataset::attach_scales(links);
}
}  // namespace

void ResultWriter::Impl::create_layout(const RunMetadata& meta) {
    const auto& s = schema;
    const auto R = static_cast<hsize_t>(s.replications), T = static_cast<hsize_t>(s.years);
    auto root = file->root();
    root.set_attr("format", std::string(kFormatName));
    root.set_attr("format_version", std::to_string(kFormatMajor) + "." + std::to_string(kFormatMinor));
    root.set_attr("format_major", static_cast<std::int64_t>(kFormatMajor));
    root.set_attr("format_minor", static_cast<std::int64_t>(kFormatMinor));
    root.set_attr("engine_version", std::string(kEngineVersion));
    root.set_attr("git_revision", std::string(kGitRevision));
    root.set_attr("seed", meta.seed);
    root.set_attr("scenario", meta.scenario_text);
    root.set_attr("scenario_file", meta.scenario_file);
    root.set_attr("command_line", meta.command_line);
    root.set_attr("created", utc_now());
    root.set_attr("replications", s.replications);
    root.set_attr("years", s.years);
    root.set_attr("start_year", s.start_year);
    root.set_attr("baseline", s.arms.front());
    root.set_attr("complete", std::int64_t{0});
    root.set_attr("replications_written", std::int64_t{0});
    root.write_strings("arm_names", s.arms).make_dimension_scale();

    const auto year_values = iota64(s.years, s.start_year);
    const auto rep_values = iota64(s.replications);
    auto arms_group = root.create_group("arms");
    for (std::size_t a = 0; a < s.arms.size(); ++a) {
        ArmGroups g;
        g.arm = arms_group.create_group(s.arms[a]);
        g.arm.set_attr("index", static_cast<std::int64_t>(a));
        g.arm.set_attr("baseline", s.arms.front());
        g.arm.set_attr("overrides", a < meta.arm_overrides.size() ? meta.arm_overrides[a] : std::string());

        g.series = g.arm.create_group("series");
        g.series.set_attr("description", std::string("per replication, the value at the end of each year "
                                                     "(flows: during the year)"));
        auto rep_scale = make_scale(g.series, "replication", rep_values, "", "replication");
        auto year_scale = make_scale(g.series, "year", year_values, "calendar year", "year (end of)");
        for (const auto& info : s.series) {
            auto d = g.series.create_dataset<double>(info.name, {R, T}, rows_chunked(R, T));
            describe(d, info.unit, info.description);
            g.series_ds.push_back(std::move(d));
        }
        attach_all(g.series_ds, {&rep_scale, &year_scale});

        g.start = g.arm.create_group("start");
        g.start.set_attr("description", std::string("per replication, the initial state (before the first year)"));
        auto rep_scale_start = make_scale(g.start, "replication", rep_values, "", "replication");
        for (const auto& info : s.series) {
            if (!info.has_start) continue;
            auto d = g.start.create_dataset<double>(info.name, {R}, rows_chunked(R, 0));
            describe(d, info.unit, info.description);
            g.start_ds.push_back(std::move(d));
        }
        attach_all(g.start_ds, {&rep_scale_start});

        g.events = g.arm.create_group("events");
        auto rep_scale_events = make_scale(g.events, "replication", rep_values, "", "replication");
        for (const auto& info : s.events) {
            auto d = g.events.create_dataset<double>(info.name, {R}, rows_chunked(R, 0));
            describe(d, info.unit, info.description);
            g.event_ds.push_back(std::move(d));
        }
        attach_all(g.event_ds, {&rep_scale_events});

        const auto K = static_cast<hsize_t>(s.trajectory_households.size());
        if (s.trajectory_replications > 0 && K > 0) {
            const auto M = static_cast<hsize_t>(s.trajectory_replications);
            g.trajectories = g.arm.create_group("trajectories");
            g.trajectories.set_attr("description",
                                    std::string("whole trajectories of sampled households; time = calendar year "
                                                "at whose end the state is taken (start_year - 1: the start)"));
            auto r = make_scale(g.trajectories, "replication", iota64(s.trajectory_replications), "", "replication");
            auto h = make_scale(g.trajectories, "household", s.trajectory_households, "",
                                "household index within the replication (village * H + household)");
            auto t = make_scale(g.trajectories, "time", iota64(s.years + 1, s.start_year - 1), "calendar year",
                                "end of year (start_year - 1 is the start)");
            for (const auto& var : s.trajectory_vars) {
                auto d = g.trajectories.create_dataset<double>(var, {M, K, T + 1}, {});
                d.set_attr("long_name", "household " + var);
                g.traj_ds.push_back(std::move(d));
            }
            attach_all(g.traj_ds, {&r, &h, &t});
        }
        arms.push_back(std::move(g));
    }
    histograms.assign(s.n_arms() * s.histogram_cells(), 0);
}

void ResultWriter::Impl::write_statistics() {
    const auto& s = schema;
    const auto R = static_cast<std::size_t>(s.replications), T = static_cast<std::size_t>(s.years);
    const auto Q = stats::kQuantileLevels.size();
    std::vector<double> column(R), scratch;
    std::vector<double> levels(stats::kQuantileLevels.begin(), stats::kQuantileLevels.end());

    // The datasets written and their dimension scales, attached all at once
    // at the end (h5::Dataset::attach_scales: one write of each attribute).
    std::deque<h5::Dataset> stats_ds;
    std::vector<h5::Dataset::ScaleLink> links;

    // One statistics group: for every variable name, mean/se/n (per column) and quantiles.
    struct StatsGroup {
        h5::Group g;
        h5::Dataset year, quantile;
    };
    auto make_stats_group = [&](h5::Group& parent, const std::string& name, const std::string& what) {
        StatsGroup sg;
        sg.g = parent.create_group(name);
        sg.g.set_attr("description", what);
        sg.year = make_scale(sg.g, "year", iota64(s.years, s.start_year), "calendar year", "year (end of)");
        sg.quantile = make_scale(sg.g, "quantile", levels, "1", "quantile level");
        return sg;
    };
    // values: R x cols, row-major. Writes name_mean, name_se, name_n (cols) and name_quantiles (Q x cols);
    // cols == 0 means a per-replication scalar (no year dimension).
    auto write_summaries = [&](StatsGroup& sg, const std::string& name, const std::string& unit,
                               const std::vector<double>& values, std::size_t cols) {
        const std::size_t C = std::max<std::size_t>(cols, 1);
        std::vector<double> mean(C), se(C), q(Q * C);
        std::vector<std::int64_t> n(C);
        for (std::size_t c = 0; c < C; ++c) {
            for (std::size_t r = 0; r < R; ++r) column[r] = values[r * C + c];
            const auto sum = stats::summarize(column, scratch);
            mean[c] = sum.mean, se[c] = sum.se, n[c] = sum.n;
            for (std::size_t k = 0; k < Q; ++k) q[k * C + c] = sum.q[k];
        }
        auto put = [&](const std::string& suffix, auto&& data, std::vector<hsize_t> dims, const std::string& u,
                       const std::string& what) {
            using V = typename std::decay_t<decltype(data)>::value_type;
            auto& d = stats_ds.emplace_back(sg.g.write_dataset<V>(name + suffix, data, dims));
            describe(d, u, what + " of " + name + " across replications");
            if (dims.size() == 2) {
                links.push_back({&d, 0, &sg.quantile});
                links.push_back({&d, 1, &sg.year});
            } else if (cols) {
                links.push_back({&d, 0, &sg.year});
            } else {
                links.push_back({&d, 0, &sg.quantile});
            }
        };
        if (cols) {
            put("_mean", mean, {C}, unit, "mean");
            put("_se", se, {C}, unit, "standard error of the mean");
            put("_n", n, {C}, "replications", "finite values");
            put("_quantiles", q, {Q, C}, unit, "quantiles");
        } else {
            auto d = sg.g.write_dataset<double>(name + "_mean", std::span<const double>(mean), {});
            describe(d, unit, "mean of " + name + " across replications");
            d = sg.g.write_dataset<double>(name + "_se", std::span<const double>(se), {});
            describe(d, unit, "standard error of the mean of " + name);
            put("_quantiles", q, {Q}, unit, "quantiles");
        }
    };

    // Groups first, then one variable at a time over the arms: only the
    // baseline's values and one arm's are in memory (R x T doubles each), so
    // memory does not grow with the number of variables.
    std::vector<StatsGroup> st(s.n_arms()), df(s.n_arms());
    for (std::size_t a = 0; a < s.n_arms(); ++a) {
        st[a] = make_stats_group(arms[a].arm, "stats", "across replications: mean, standard error, quantiles");
        if (a > 0)
            df[a] = make_stats_group(arms[a].arm, "diff",
                                     "paired difference to the baseline arm '" + s.arms.front() +
                                         "' (same replication, common random numbers): mean, standard error, quantiles");
    }
    // name, unit, columns (0: one value per replication), the arm's dataset
    auto summarise = [&](const std::string& name, const std::string& unit, std::size_t cols, auto dataset) {
        const auto base = dataset(0).template read<double>();
        write_summaries(st[0], name, unit, base, cols);
        for (std::size_t a = 1; a < s.n_arms(); ++a) {
            auto values = dataset(a).template read<double>();
            write_summaries(st[a], name, unit, values, cols);
            for (std::size_t i = 0; i < values.size(); ++i) values[i] -= base[i];
            write_summaries(df[a], name, unit, values, cols);
        }
    };
    for (std::size_t k = 0; k < s.series.size(); ++k)
        summarise(s.series[k].name, s.series[k].unit, T, [&](std::size_t a) -> h5::Dataset& { return arms[a].series_ds[k]; });
    for (std::size_t k = 0; k < s.events.size(); ++k)
        summarise(s.events[k].name, s.events[k].unit, 0, [&](std::size_t a) -> h5::Dataset& { return arms[a].event_ds[k]; });
    h5::Dataset::attach_scales(links);
}

void ResultWriter::Impl::write_histograms() {
    const auto& s = schema;
    const auto H = s.histogram_years.size();
    if (H == 0) return;
    for (std::size_t a = 0; a < s.n_arms(); ++a) {
        auto g = arms[a].arm.create_group("histograms");
        g.set_attr("description", std::string("household counts over all replications, at the end of the years given"));
        auto years = make_scale(g, "histogram_year", s.histogram_years, "calendar year", "year (end of)");
        std::size_t off = a * s.histogram_cells();
        for (const auto& h : s.histograms) {
            const auto bins = h.edges.size() - 1;
            std::vector<double> lower(h.edges.begin(), h.edges.end() - 1);
            auto bin = make_scale(g, h.name + "_bin", lower, h.unit, "lower edge of the bin");
            make_scale(g, h.name + "_edges", h.edges, h.unit,
                       "bin edges; the last bin also counts values above its upper edge");
            auto d = g.write_dataset<std::int64_t>(
                h.name, std::span<const std::int64_t>(histograms.data() + off, H * bins), {H, bins});
            describe(d, "households", h.description);
            d.attach_scale(years, 0);
            d.attach_scale(bin, 1);
            off += H * bins;
        }
    }
}

ResultWriter::ResultWriter(std::filesystem::path final_path, const run::ResultSchema& schema,
                           const RunMetadata& meta, bool replace_partial)
    : impl_(std::make_unique<Impl>()), final_(std::move(final_path)), temp_(partial_path(final_)) {
    impl_->schema = schema;
    std::error_code ec;
    if (std::filesystem::exists(temp_, ec) && !replace_partial)
        throw std::runtime_error("an unfinished run's file '" + temp_.string() +
                                 "' exists: remove it, or run again with --force to replace it");
    impl_->file.emplace(h5::File::create(temp_));
    impl_->create_layout(meta);
    impl_->file->flush();
}

ResultWriter::~ResultWriter() = default;

// At most this many records wait in memory for the next batch_done (a run's
// batches are smaller; this bounds a sink user that never calls it).
constexpr std::size_t kMaxPending = 64;

void ResultWriter::consume(const run::ReplicationRecord& rec) {
    auto& im = *impl_;
    if (im.npending > 0 &&
        (im.npending == kMaxPending || rec.replication != im.pending[im.npending - 1].replication + 1))
        im.write_pending();
    if (im.pending.size() == im.npending) im.pending.emplace_back();
    im.pending[im.npending++] = rec;  // reuses the slot's vectors
    for (std::size_t i = 0; i < im.histograms.size(); ++i) im.histograms[i] += rec.histograms[i];
    ++im.written;
}

void ResultWriter::Impl::write_pending() {
    if (npending == 0) return;
    const auto& s = schema;
    const auto T = static_cast<std::size_t>(s.years), S = s.series.size(), E = s.events.size();
    const std::size_t n = npending;
    const auto row = static_cast<hsize_t>(pending[0].replication);
    std::vector<double> block;
    // rows of `width` values: record r's values from value(r, i)
    auto write = [&](h5::Dataset& d, std::size_t width, auto value) {
        block.resize(n * width);
        for (std::size_t r = 0; r < n; ++r)
            for (std::size_t i = 0; i < width; ++i) block[r * width + i] = value(pending[r], i);
        d.write_rows<double>(row, static_cast<hsize_t>(n), block);
    };
    for (std::size_t a = 0; a < s.n_arms(); ++a) {
        auto& g = arms[a];
        for (std::size_t k = 0; k < S; ++k)
            write(g.series_ds[k], T, [&](const run::ReplicationRecord& rec, std::size_t t) {
                return rec.series[(a * S + k) * T + t];
            });
        std::size_t j = 0;
        for (std::size_t k = 0; k < S; ++k)
            if (s.series[k].has_start)
                write(g.start_ds[j++], 1,
                      [&](const run::ReplicationRecord& rec, std::size_t) { return rec.start[a * S + k]; });
        for (std::size_t k = 0; k < E; ++k)
            write(g.event_ds[k], 1,
                  [&](const run::ReplicationRecord& rec, std::size_t) { return rec.events[a * E + k]; });
    }
    // Trajectories: only the first replications have them, one row each.
    const auto K = s.trajectory_households.size(), V = s.trajectory_vars.size();
    std::vector<double> slab(K * (T + 1));
    for (std::size_t r = 0; r < n; ++r) {
        const auto& rec = pending[r];
        if (rec.trajectories.empty()) continue;
        for (std::size_t a = 0; a < s.n_arms(); ++a)
            for (std::size_t v = 0; v < V; ++v) {
                for (std::size_t h = 0; h < K; ++h)
                    std::copy_n(&rec.trajectories[((a * K + h) * V + v) * (T + 1)], T + 1, &slab[h * (T + 1)]);
                arms[a].traj_ds[v].write_rows<double>(row + r, 1, slab);
            }
    }
    npending = 0;
}

// The rows of a batch go to HDF5 at once, but the file is flushed at most
// this often: a flush compresses every dataset's partly filled chunk again
// (deflate was 60% of a run's time with a flush per batch of small
// replications). Durability does not depend on it: the checkpoint journal
// holds every finished replication, and --resume rebuilds the file from it.
constexpr auto kFlushInterval = std::chrono::seconds(30);

void ResultWriter::batch_done() {
    auto& im = *impl_;
    im.write_pending();
    const auto now = std::chrono::steady_clock::now();
    if (now - im.last_flush < kFlushInterval) return;
    im.last_flush = now;
    auto root = im.file->root();
    root.set_attr("replications_written", static_cast<std::int64_t>(im.written));
    im.file->flush();
}

void ResultWriter::finish() {
    auto& im = *impl_;
    if (im.written != static_cast<std::uint64_t>(im.schema.replications))
        throw std::logic_error("result writer: " + std::to_string(im.written) + " of " +
                               std::to_string(im.schema.replications) + " replications written");
    im.write_pending();
    im.write_statistics();
    im.write_histograms();
    im.arms.clear();
    {
        auto root = im.file->root();
        root.set_attr("replications_written", static_cast<std::int64_t>(im.written));
        root.set_attr("complete", std::int64_t{1});
    }
    im.file->close();
    std::error_code ec;
    std::filesystem::rename(temp_, final_, ec);
    if (ec)
        throw std::runtime_error("cannot rename '" + temp_.string() + "' to '" + final_.string() + "': " +
                                 ec.message());
    im.finished = true;
}

}  // namespace artel::output
