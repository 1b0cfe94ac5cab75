#include "engine/output/result_writer.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <numeric>
#include <optional>
#include <span>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <omp.h>

#include "artel/version.hpp"
#include "engine/h5/h5.hpp"
#include "engine/output/sensitivity_writer.hpp"
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

// The comment on a year-index event (and, with `statistic`, on its statistics).
std::string never_comment(std::int64_t years, bool statistic = false) {
    const auto T = std::to_string(years);
    if (statistic)
        return "a replication in which it never happens counts as year index " + T +
               " (right-censored): then the mean is a lower bound; events/ marks those replications missing";
    return "year index t: calendar year start_year + t; -1: already at the start; " + T +
           " (missing_value): never within the " + T + " simulated years";
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

namespace {

std::uint64_t mix64(std::uint64_t x) {  // splitmix64's finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

std::uint64_t row_digest(std::size_t dataset, std::uint64_t row, std::span<const double> values) {
    std::uint64_t h = mix64((static_cast<std::uint64_t>(dataset) << 40) ^ row ^ 0x6a09e667f3bcc908ull);
    for (const double v : values) h = mix64(h ^ std::bit_cast<std::uint64_t>(v));
    return h;
}

}  // namespace

using RowDataset = RowDigests::RowDataset;

std::vector<RowDataset> row_datasets(const run::ResultSchema& s) {
    std::vector<RowDataset> out;
    const bool traj = s.trajectory_replications > 0 && !s.trajectory_households.empty();
    for (std::size_t a = 0; a < s.n_arms(); ++a) {
        const std::string arm = "arms/" + s.arms[a] + "/";
        for (std::size_t k = 0; k < s.series.size(); ++k)
            out.push_back({arm + "series/" + s.series[k].name, a, RowDataset::Kind::Series, k});
        for (std::size_t k = 0; k < s.series.size(); ++k)
            if (s.series[k].has_start) out.push_back({arm + "start/" + s.series[k].name, a, RowDataset::Kind::Start, k});
        for (std::size_t k = 0; k < s.events.size(); ++k)
            out.push_back({arm + "events/" + s.events[k].name, a, RowDataset::Kind::Event, k});
        if (traj)
            for (std::size_t v = 0; v < s.trajectory_vars.size(); ++v)
                out.push_back({arm + "trajectories/" + s.trajectory_vars[v], a, RowDataset::Kind::Trajectory, v});
    }
    if (s.regions > 0)
        for (std::size_t a = 0; a < s.n_arms(); ++a)
            for (std::size_t k = 0; k < s.regional.size(); ++k)
                out.push_back({"arms/" + s.arms[a] + "/regions/" + s.regional[k].name, a, RowDataset::Kind::Region, k});
    for (std::size_t j = 0; j < s.parameters.size(); ++j)
        out.push_back({"uncertainty/" + s.parameters[j].name, 0, RowDataset::Kind::Parameter, j});
    return out;
}

void record_row(const run::ResultSchema& s, const RowDataset& d, const run::ReplicationRecord& r,
                std::vector<double>& row) {
    const std::size_t T = static_cast<std::size_t>(s.years), S = s.series.size(), E = s.events.size();
    row.clear();
    switch (d.kind) {
        case RowDataset::Kind::Series: {
            const auto* p = &r.series[(d.arm * S + d.index) * T];
            row.assign(p, p + T);
            break;
        }
        case RowDataset::Kind::Start: row.push_back(r.start[d.arm * S + d.index]); break;
        case RowDataset::Kind::Event: row.push_back(r.events[d.arm * E + d.index]); break;
        case RowDataset::Kind::Parameter: row.push_back(r.parameters[d.index]); break;
        case RowDataset::Kind::Region: {
            const std::size_t TG = T * static_cast<std::size_t>(s.regions);
            const auto* p = &r.regions[(d.arm * s.regional.size() + d.index) * TG];
            row.assign(p, p + TG);
            break;
        }
        case RowDataset::Kind::Trajectory: {
            if (r.trajectories.empty()) break;
            const std::size_t K = s.trajectory_households.size(), V = s.trajectory_vars.size();
            for (std::size_t h = 0; h < K; ++h) {
                const auto* p = &r.trajectories[((d.arm * K + h) * V + d.index) * (T + 1)];
                row.insert(row.end(), p, p + T + 1);
            }
            break;
        }
    }
}


RowDigests::RowDigests(const run::ResultSchema& schema)
    : schema_(schema), sets_(row_datasets(schema)), digest_(sets_.size(), 0) {}

void RowDigests::add(const run::ReplicationRecord& r) {
    thread_local std::vector<double> row;
    for (std::size_t i = 0; i < sets_.size(); ++i) {
        record_row(schema_, sets_[i], r, row);
        if (!row.empty()) digest_[i] += row_digest(i, r.replication, row);
    }
    ++records_;
}

std::string RowDigests::check_file(const std::filesystem::path& path) const {
    try {
        auto file = h5::File::open_read(path);
        auto root = file.root();
        if (!root.has_attr("format") || root.attr_string("format") != kFormatName)
            return "it is not an artel result file";
        if (root.attr_int("complete") != 1) return "it is not marked complete";
        const auto written = root.attr_int("replications_written");
        if (written != schema_.replications || records_ != static_cast<std::uint64_t>(schema_.replications))
            return "it holds " + std::to_string(written) + " replications, the run " +
                   std::to_string(schema_.replications);
        const auto& sets = sets_;
        std::vector<double> values;
        for (std::size_t i = 0; i < sets.size(); ++i) {
            auto d = root.open_dataset(sets[i].path);
            d.read_into(values);
            const auto rows = d.dims().empty() ? 0 : d.dims()[0];
            if (rows == 0) return "dataset " + sets[i].path + " is empty";
            const std::size_t width = values.size() / rows;
            std::uint64_t sum = 0;
            for (std::size_t r = 0; r < rows; ++r)
                sum += row_digest(i, r, std::span<const double>(values.data() + r * width, width));
            if (sum != digest_[i]) return "dataset " + sets[i].path + " does not hold the rows written";
        }
        return "";
    } catch (const std::exception& e) {
        return e.what();
    }
}

struct ResultWriter::Impl {
    run::ResultSchema schema;
    bool parallel_rows = false;  // rows datasets for parallel HDF5: not compressed, allocated early
    std::uint64_t seed = 0;
    std::optional<RowDigests> digests;
    std::optional<h5::File> file;
    struct ArmGroups {
        h5::Group arm, series, start, events, trajectories, regions;
        std::vector<h5::Dataset> series_ds, start_ds, event_ds, traj_ds, region_ds;
    };
    std::vector<ArmGroups> arms;
    std::vector<h5::Dataset> parameter_ds;  // /uncertainty/<parameter>, one row per replication
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
    // Rows [unflushed_lo, unflushed_hi) hold every row written since the file
    // was last flushed: chunks outside them are on disk.
    hsize_t unflushed_lo = std::numeric_limits<hsize_t>::max(), unflushed_hi = 0;

    void create_layout(const RunMetadata& meta);
    void open_layout();  // the handles create_layout keeps, of a file made before
    h5::DatasetOptions rows_options(hsize_t rows, hsize_t cols) const {
        if (!parallel_rows) return rows_chunked(rows, cols);
        auto o = rows_chunked(rows, cols);
        o.deflate = 0, o.shuffle = false, o.allocate_early = true;
        return o;
    }
    void create_uncertainty_layout(h5::Group& root, const std::vector<std::int64_t>& rep_values);
    void create_regions_layout(ArmGroups& g, const std::vector<std::int64_t>& rep_values,
                               const std::vector<std::int64_t>& year_values);
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
    const auto created = utc_now();
    root.set_attr("created", created);
    // CF-1.8 global attributes (format 1.1)
    root.set_attr("Conventions", std::string("CF-1.8"));
    root.set_attr("title", "artel results of " + std::filesystem::path(meta.scenario_file).filename().string() +
                               ": " + std::to_string(s.arms.size()) + " policy arms x " +
                               std::to_string(s.replications) + " replications, " + std::to_string(s.start_year) +
                               "-" + std::to_string(s.start_year + s.years - 1));
    root.set_attr("source", std::string("artel ") + kEngineVersion + " (" + kGitRevision +
                                "): Monte Carlo simulation of the co-operative household model");
    root.set_attr("history", created + ": " + meta.command_line);
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
        if (a < meta.arm_sweeps.size() && !meta.arm_sweeps[a].name.empty()) {
            // A sweep's grid point: "sweep" names it, "sweep_<key>" holds each value.
            g.arm.set_attr("sweep", meta.arm_sweeps[a].name);
            std::string keys;
            for (const auto& [key, value] : meta.arm_sweeps[a].coordinates) {
                g.arm.set_attr("sweep_" + key, value);
                keys += (keys.empty() ? "" : " ") + key;
            }
            g.arm.set_attr("sweep_keys", keys);
        }

        g.series = g.arm.create_group("series");
        g.series.set_attr("description", std::string("per replication, the value at the end of each year "
                                                     "(flows: during the year)"));
        auto rep_scale = make_scale(g.series, "replication", rep_values, "", "replication");
        auto year_scale = make_scale(g.series, "year", year_values, "calendar year", "year (end of)");
        year_scale.set_attr("axis", std::string("T"));
        for (const auto& info : s.series) {
            auto d = g.series.create_dataset<double>(info.name, {R, T}, rows_options(R, T));
            describe(d, info.unit, info.description);
            g.series_ds.push_back(std::move(d));
        }
        attach_all(g.series_ds, {&rep_scale, &year_scale});

        g.start = g.arm.create_group("start");
        g.start.set_attr("description", std::string("per replication, the initial state (before the first year)"));
        auto rep_scale_start = make_scale(g.start, "replication", rep_values, "", "replication");
        for (const auto& info : s.series) {
            if (!info.has_start) continue;
            auto d = g.start.create_dataset<double>(info.name, {R}, rows_options(R, 0));
            describe(d, info.unit, info.description);
            g.start_ds.push_back(std::move(d));
        }
        attach_all(g.start_ds, {&rep_scale_start});

        g.events = g.arm.create_group("events");
        auto rep_scale_events = make_scale(g.events, "replication", rep_values, "", "replication");
        for (const auto& info : s.events) {
            auto d = g.events.create_dataset<double>(info.name, {R}, rows_options(R, 0));
            describe(d, info.unit, info.description);
            if (info.year_index) {
                // "never" is T: a missing value (CF), so that a mean of the years cannot count it as one
                d.set_attr("missing_value", static_cast<double>(s.years));
                d.set_attr("comment", never_comment(s.years));
            }
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
                                "year (end of); start_year - 1 is the initial state");
            t.set_attr("axis", std::string("T"));
            for (std::size_t v = 0; v < s.trajectory_vars.size(); ++v) {
                const auto& var = s.trajectory_vars[v];
                const run::TrajectoryVarInfo* info = v < s.trajectory_info.size() ? &s.trajectory_info[v] : nullptr;
                h5::DatasetOptions contiguous;
                contiguous.allocate_early = parallel_rows;
                auto d = g.trajectories.create_dataset<double>(var, {M, K, T + 1}, contiguous);
                d.set_attr("long_name", info && !info->description.empty() ? info->description : "household " + var);
                if (info && !info->unit.empty()) d.set_attr("units", info->unit);
                if (info && !info->flag_values.empty()) {
                    d.set_attr("flag_values", info->flag_values);
                    d.set_attr("flag_meanings", info->flag_meanings);
                }
                g.traj_ds.push_back(std::move(d));
            }
            attach_all(g.traj_ds, {&r, &h, &t});
        }
        create_regions_layout(g, rep_values, year_values);
        arms.push_back(std::move(g));
    }
    histograms.assign(s.n_arms() * s.histogram_cells(), 0);
    create_uncertainty_layout(root, rep_values);
}

// /arms/<arm>/regions: the per-region series (MODEL.md §7), one row per
// replication of (year x region) values.
void ResultWriter::Impl::create_regions_layout(ArmGroups& g, const std::vector<std::int64_t>& rep_values,
                                               const std::vector<std::int64_t>& year_values) {
    const auto& s = schema;
    if (s.regions == 0 || s.regional.empty()) return;
    const auto R = static_cast<hsize_t>(s.replications), T = static_cast<hsize_t>(s.years),
               G = static_cast<hsize_t>(s.regions);
    g.regions = g.arm.create_group("regions");
    g.regions.set_attr("description", std::string("per replication, year (end of) and region: the regional "
                                                  "series; village v is in region v mod regions"));
    auto rep = make_scale(g.regions, "replication", rep_values, "", "replication");
    auto year = make_scale(g.regions, "year", year_values, "calendar year", "year (end of)");
    year.set_attr("axis", std::string("T"));
    auto region = make_scale(g.regions, "region", iota64(s.regions), "", "region (weather zone)");
    auto options = rows_chunked(R, T * G);
    options.chunk = {options.chunk[0], T, G};
    for (const auto& info : s.regional) {
        auto d = g.regions.create_dataset<double>(info.name, {R, T, G}, options);
        describe(d, info.unit, info.description);
        g.region_ds.push_back(std::move(d));
    }
    attach_all(g.region_ds, {&rep, &year, &region});
}

// /uncertainty: the values every replication used, one variable per
// uncertain parameter, each with its prior as attributes (MODEL.md §6).
void ResultWriter::Impl::create_uncertainty_layout(h5::Group& root, const std::vector<std::int64_t>& rep_values) {
    const auto& s = schema;
    if (s.parameters.empty()) return;
    const auto R = static_cast<hsize_t>(s.replications);
    auto g = root.create_group("uncertainty");
    g.set_attr("design", s.design);
    if (!s.design_source.empty()) g.set_attr("design_source", s.design_source);
    g.set_attr("description", std::string("the value of each uncertain parameter in each replication, shared by "
                                          "every arm; attributes: its prior"));
    auto rep_scale = make_scale(g, "replication", rep_values, "", "replication");
    for (const auto& info : s.parameters) {
        auto d = g.create_dataset<double>(info.name, {R}, rows_options(R, 0));
        describe(d, info.unit, info.description);
        d.set_attr("prior", info.prior);
        d.set_attr("prior_dist", info.dist);
        for (const auto& [name, value] : info.numbers) d.set_attr("prior_" + name, value);
        for (const auto& [name, values] : info.lists) d.set_attr("prior_" + name, values);
        parameter_ds.push_back(std::move(d));
    }
    attach_all(parameter_ds, {&rep_scale});
}

void ResultWriter::Impl::open_layout() {
    const auto& s = schema;
    auto root = file->root();
    arms.clear();
    parameter_ds.clear();
    for (const auto& name : s.arms) {
        ArmGroups g;
        g.arm = root.open_group("arms/" + name);
        g.series = g.arm.open_group("series");
        for (const auto& info : s.series) g.series_ds.push_back(g.series.open_dataset(info.name));
        g.start = g.arm.open_group("start");
        for (const auto& info : s.series)
            if (info.has_start) g.start_ds.push_back(g.start.open_dataset(info.name));
        g.events = g.arm.open_group("events");
        for (const auto& info : s.events) g.event_ds.push_back(g.events.open_dataset(info.name));
        if (g.arm.has("trajectories")) {
            g.trajectories = g.arm.open_group("trajectories");
            for (const auto& var : s.trajectory_vars) g.traj_ds.push_back(g.trajectories.open_dataset(var));
        }
        arms.push_back(std::move(g));
    }
    for (const auto& info : s.parameters) parameter_ds.push_back(root.open_dataset("uncertainty/" + info.name));
}

namespace {
// Across replications, per column of `values` (R rows of max(cols, 1)):
// mean, standard error, finite values, and quantiles (Q x columns).
struct Summaries {
    std::vector<double> mean, se, q;
    std::vector<std::int64_t> n;
};

// With `minus`, of the differences values - *minus (the paired differences to
// the baseline).
Summaries summarise_columns(const std::vector<double>& values, const std::vector<double>* minus, std::size_t R,
                            std::size_t cols) {
    const std::size_t C = std::max<std::size_t>(cols, 1), Q = stats::kQuantileLevels.size();
    Summaries out;
    out.mean.resize(C), out.se.resize(C), out.q.resize(Q * C), out.n.resize(C);
    std::vector<double> column(R), scratch;
    for (std::size_t c = 0; c < C; ++c) {
        if (minus) {
            for (std::size_t r = 0; r < R; ++r) column[r] = values[r * C + c] - (*minus)[r * C + c];
        } else {
            for (std::size_t r = 0; r < R; ++r) column[r] = values[r * C + c];
        }
        const auto sum = stats::summarize(column, scratch);
        out.mean[c] = sum.mean, out.se[c] = sum.se, out.n[c] = sum.n;
        for (std::size_t k = 0; k < Q; ++k) out.q[k * C + c] = sum.q[k];
    }
    return out;
}

// The chunks of a rows dataset that finish() stores itself (filtered off
// HDF5's thread) instead of leaving them to HDF5's chunk cache: those holding
// rows written since the file was last flushed (the others are on disk
// already), when all the dataset's chunks fit in its cache. Then its cache
// holds them all, the statistics' read-back is served from it, and closing
// the dataset would deflate every one of them on HDF5's thread (default run:
// all 285 chunked row datasets, one chunk each, ~0.09 s of deflate). A
// larger dataset keeps HDF5's own flushing, which happens as the read-back
// evicts its chunks. Which chunks are stored here is a matter of speed only:
// a dirty chunk not stored here is written by HDF5 when its dataset closes,
// and one stored here that was already on disk gets the same bytes again.
struct ChunkPlan {
    h5::ChunkLayout layout;
    std::vector<hsize_t> first_rows;  // of the chunks to store
};

ChunkPlan plan_chunks(const h5::Dataset& ds, hsize_t unflushed_lo, hsize_t unflushed_hi) {
    ChunkPlan p;
    if constexpr (std::endian::native != std::endian::little) return p;  // values are stored little-endian
    if (unflushed_lo >= unflushed_hi) return p;
    p.layout = ds.chunk_layout();
    const auto& c = p.layout.chunk;
    const auto d = ds.dims();
    if (c.empty() || p.layout.element_size != sizeof(double) || d.empty()) return p;
    for (std::size_t k = 1; k < d.size(); ++k)
        if (c[k] != d[k]) return p;  // a chunk is whole rows
    const hsize_t chunks = (d[0] + c[0] - 1) / c[0];
    if (chunks * p.layout.chunk_bytes() > p.layout.cache_bytes) return p;
    for (hsize_t r = unflushed_lo / c[0] * c[0]; r < std::min(unflushed_hi, d[0]); r += c[0])
        p.first_rows.push_back(r);
    return p;
}

struct FilteredChunk {
    std::vector<hsize_t> offset;
    std::vector<unsigned char> bytes;
};

// The chunk starting at row `first` of a dataset of R rows whose values are
// `values` (row-major), filtered as HDF5 would.
FilteredChunk filter_rows(const h5::ChunkLayout& layout, const std::vector<double>& values, std::size_t R,
                          hsize_t first) {
    const std::size_t row = values.size() / R, chunk_rows = layout.chunk[0];
    const std::size_t rows = std::min<std::size_t>(chunk_rows, R - first);
    std::vector<unsigned char> raw(layout.chunk_bytes());
    std::memcpy(raw.data(), values.data() + first * row, rows * row * sizeof(double));
    for (std::size_t i = rows * row; i < chunk_rows * row; ++i)  // past the end: the fill value, as HDF5 has it
        std::memcpy(raw.data() + i * sizeof(double), layout.fill.data(), sizeof(double));
    FilteredChunk out;
    out.offset.assign(layout.chunk.size(), 0);
    out.offset[0] = first;
    out.bytes = h5::filter_chunk(layout, raw);
    return out;
}
// A second thread for finish(). It runs the jobs handed to it, in order; a
// job not yet started when its result is wanted is run by the thread that
// wants it. A wait first polls, yielding the core, for up to 1 ms (a job
// takes ~0.1-0.3 ms), then sleeps. OpenMP tasks did the same, but libgomp's
// threads spin on the core while they wait: with the cores busy with another
// process, that took the CPU from the thread making the HDF5 calls, and the
// end of the small run took 0.5-0.7 s, against 0.3-0.4 s on one thread and
// 0.3-0.35 s with libgomp made to sleep (OMP_WAIT_POLICY=passive). Polling
// for 50 us only, the wake-ups cost ~0.04 s on an idle machine (small run,
// 8 alternated runs: 0.34 s against 0.30 s for 1 ms and for OpenMP tasks).
class Helper {
  public:
    struct Job {
        std::function<void()> run;     // must not throw
        std::atomic<int> state{kQueued};
    };
    explicit Helper(bool with_thread) {
        try {
            if (with_thread) thread_ = std::thread([this] { loop(); });
        } catch (const std::system_error&) {  // no thread to be had: every job runs in wait()
        }
    }
    ~Helper() {
        {
            std::lock_guard lock(m_);
            stop_ = true;
        }
        work_.notify_one();
        if (thread_.joinable()) thread_.join();
    }
    Helper(const Helper&) = delete;
    Helper& operator=(const Helper&) = delete;

    void submit(Job& job) {
        job.state = kQueued;
        if (!thread_.joinable()) return;  // run by wait()
        {
            std::lock_guard lock(m_);
            queue_.push_back(&job);
            queued_ = queue_.size();
        }
        work_.notify_one();
    }
    // Runs here those of `jobs` not yet started, then waits for the others.
    void wait(std::span<Job> jobs) {
        for (auto& job : jobs) {
            {
                std::lock_guard lock(m_);
                if (job.state != kQueued) continue;
                std::erase(queue_, &job);
                queued_ = queue_.size();
                job.state = kRunning;
            }
            job.run();
            job.state = kDone;
        }
        auto done = [&] {
            return std::all_of(jobs.begin(), jobs.end(), [](const Job& j) { return j.state == kDone; });
        };
        spin_until(done);
        std::unique_lock lock(m_);
        done_.wait(lock, done);
    }

  private:
    static constexpr int kQueued = 0, kRunning = 1, kDone = 2;
    template <class Ready>
    static void spin_until(Ready ready) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
        while (!ready() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    }
    void loop() {
        for (;;) {
            spin_until([&] { return queued_ > 0 || stop_; });
            Job* job = nullptr;
            {
                std::unique_lock lock(m_);
                work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
                if (queue_.empty()) return;
                job = queue_.front();
                queue_.pop_front();
                queued_ = queue_.size();
                job->state = kRunning;
            }
            job->run();
            {
                std::lock_guard lock(m_);
                job->state = kDone;
            }
            done_.notify_all();
        }
    }
    std::mutex m_;
    std::condition_variable work_, done_;
    std::deque<Job*> queue_;
    std::atomic<std::size_t> queued_{0};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};
}  // namespace

void ResultWriter::Impl::write_statistics() {
    const auto& s = schema;
    const auto R = static_cast<std::size_t>(s.replications), T = static_cast<std::size_t>(s.years);
    const auto Q = stats::kQuantileLevels.size();
    std::vector<double> levels(stats::kQuantileLevels.begin(), stats::kQuantileLevels.end());

    // The datasets written and their dimension scales, attached all at once
    // at the end (h5::Dataset::attach_scales: one write of each attribute).
    std::deque<h5::Dataset> stats_ds;
    std::vector<h5::Dataset::ScaleLink> links;

    // One statistics group: for every variable name, mean/se/n (per column) and quantiles.
    struct StatsGroup {
        h5::Group g;
        h5::Dataset year, quantile;
        std::string of;  // what the statistics are of: "" (the values) or the paired difference
    };
    auto make_stats_group = [&](h5::Group& parent, const std::string& name, const std::string& what,
                                const std::string& of) {
        StatsGroup sg;
        sg.g = parent.create_group(name);
        sg.g.set_attr("description", what);
        sg.of = of;
        sg.year = make_scale(sg.g, "year", iota64(s.years, s.start_year), "calendar year", "year (end of)");
        sg.year.set_attr("axis", std::string("T"));
        sg.quantile = make_scale(sg.g, "quantile", levels, "1", "quantile level");
        return sg;
    };
    // Writes name_mean, name_se, name_n (cols) and name_quantiles (Q x cols);
    // cols == 0 means a per-replication scalar (no year dimension). The
    // long_names say what of (the description of the variable, or of its
    // paired difference); `comment`, if any, goes on every one.
    auto write_summaries = [&](StatsGroup& sg, const std::string& name, const std::string& unit,
                               const std::string& description, const std::string& comment, const Summaries& sum,
                               std::size_t cols) {
        const std::size_t C = std::max<std::size_t>(cols, 1);
        const std::string of = " across replications of " + sg.of + name + " (" + description + ")";
        auto note = [&](h5::Dataset& d) {
            if (!comment.empty()) d.set_attr("comment", comment);
        };
        auto put = [&](const std::string& suffix, auto&& data, std::vector<hsize_t> dims, const std::string& u,
                       const std::string& what) {
            using V = typename std::decay_t<decltype(data)>::value_type;
            auto& d = stats_ds.emplace_back(sg.g.write_dataset<V>(name + suffix, data, dims));
            describe(d, u, what + of);
            note(d);
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
            put("_mean", sum.mean, {C}, unit, "mean");
            put("_se", sum.se, {C}, unit, "standard error of the mean (sd with n - 1, / sqrt(n))");
            put("_n", sum.n, {C}, "replications", "number of finite values");
            put("_quantiles", sum.q, {Q, C}, unit, "quantiles");
        } else {
            auto d = sg.g.write_dataset<double>(name + "_mean", std::span<const double>(sum.mean), {});
            describe(d, unit, "mean" + of);
            note(d);
            d = sg.g.write_dataset<double>(name + "_se", std::span<const double>(sum.se), {});
            describe(d, unit, "standard error of the mean (sd with n - 1, / sqrt(n))" + of);
            note(d);
            put("_quantiles", sum.q, {Q}, unit, "quantiles");
        }
    };

    std::vector<StatsGroup> st(s.n_arms()), df(s.n_arms());
    for (std::size_t a = 0; a < s.n_arms(); ++a) {
        st[a] = make_stats_group(arms[a].arm, "stats", "across replications: mean, standard error, quantiles", "");
        if (a > 0)
            df[a] = make_stats_group(arms[a].arm, "diff",
                                     "paired difference to the baseline arm '" + s.arms.front() +
                                         "' (same replication, common random numbers): mean, standard error, quantiles",
                                     "the paired difference arm \u2212 baseline (" + s.arms[a] + " \u2212 " +
                                         s.arms.front() + ", same replication) of ");
    }

    // One rows dataset at a time, in this order: every series over the arms
    // (baseline first), every event over the arms, then the start values
    // (chunks only). Only the baseline's values of a variable and one other
    // arm's are in memory (R x T doubles each), so memory does not grow with
    // the number of variables.
    struct Item {
        std::size_t arm;
        h5::Dataset* ds;
        const run::SeriesInfo* series = nullptr;  // summarised, cols = T
        const run::EventInfo* event = nullptr;    // summarised, cols = 0
    };
    std::vector<Item> items;
    for (std::size_t k = 0; k < s.series.size(); ++k)
        for (std::size_t a = 0; a < s.n_arms(); ++a) items.push_back({a, &arms[a].series_ds[k], &s.series[k]});
    for (std::size_t k = 0; k < s.events.size(); ++k)
        for (std::size_t a = 0; a < s.n_arms(); ++a) items.push_back({a, &arms[a].event_ds[k], nullptr, &s.events[k]});
    for (std::size_t a = 0; a < s.n_arms(); ++a)
        for (auto& d : arms[a].start_ds) items.push_back({a, &d});

    // Every rows dataset of a kind (series, events, start) was created with
    // the same options (rows_chunked), so the same chunks of each are stored.
    std::array<std::optional<ChunkPlan>, 3> plans;
    auto kind = [](const Item& it) { return it.series ? 0 : it.event ? 1 : 2; };
    // What item i needs computed, in three independent parts (filtered
    // chunks, the arm's summaries, the paired differences' summaries): parts
    // not yet started when this thread is done writing are its to do.
    struct Computed {
        std::vector<FilteredChunk> chunks;
        Summaries st, df;
        std::array<std::exception_ptr, 3> error;
        std::array<Helper::Job, 3> jobs;
        std::size_t njobs = 0;
    };
    std::array<Computed, 2> computed;
    std::vector<double> base, values;  // the baseline's values of the variable, and the item's
    auto buffer = [&](const Item& it) -> std::vector<double>& {
        return (it.series || it.event) && it.arm == 0 ? base : values;
    };
    auto write_computed = [&](std::size_t i) {
        const Item& it = items[i];
        Computed& c = computed[i % 2];
        for (const auto& e : c.error)
            if (e) std::rethrow_exception(e);
        for (const auto& chunk : c.chunks) it.ds->write_chunk(plans[kind(it)]->layout, chunk.offset, chunk.bytes);
        if (it.series || it.event) {
            const auto& name = it.series ? it.series->name : it.event->name;
            const auto& unit = it.series ? it.series->unit : it.event->unit;
            const auto& description = it.series ? it.series->description : it.event->description;
            const std::string comment = it.event && it.event->year_index ? never_comment(s.years, true) : "";
            const std::size_t cols = it.series ? T : 0;
            write_summaries(st[it.arm], name, unit, description, comment, c.st, cols);
            if (it.arm > 0) write_summaries(df[it.arm], name, unit, description, comment, c.df, cols);
        }
        c.chunks.clear(), c.st = {}, c.df = {}, c.error = {};
    };
    // HDF5 calls stay on this thread (HDF5 runs one call at a time anyway):
    // it reads item i, hands item i's computation to the helper thread,
    // writes what was computed for item i - 1, and waits for item i's jobs
    // (or does those not yet started itself). Results do not depend on who
    // computes what. Both value buffers are free again when item i + 1 is
    // read. On the default run the jobs are ~0.13 s (deflate 0.09, summaries
    // 0.04) of what was ~0.45 s on one thread; finish() now takes ~0.26 s,
    // nearly all of it HDF5's own work on this thread.
    Helper helper(omp_get_max_threads() > 1);  // (after what its jobs use: it stops first)
    auto job = [&](Computed& c, std::size_t k, auto&& work) {
        auto& j = c.jobs[c.njobs++];
        j.run = [&c, k, work = std::move(work)] {  // no HDF5 call in a job
            try {
                work();
            } catch (...) {
                c.error[k] = std::current_exception();
            }
        };
        helper.submit(j);
    };
    for (std::size_t i = 0; i < items.size(); ++i) {
        const Item& it = items[i];
        Computed& c = computed[i % 2];
        const auto& v = buffer(it);
        it.ds->read_into(buffer(it));
        auto& plan = plans[kind(it)];
        if (!plan) plan = plan_chunks(*it.ds, unflushed_lo, unflushed_hi);
        const ChunkPlan* p = &*plan;
        const std::size_t cols = it.series ? T : 0;
        c.njobs = 0;
        if (!p->first_rows.empty())
            job(c, 0, [&c, &v, p, R] {
                for (const auto first : p->first_rows) c.chunks.push_back(filter_rows(p->layout, v, R, first));
            });
        if (it.series || it.event) job(c, 1, [&c, &v, R, cols] { c.st = summarise_columns(v, nullptr, R, cols); });
        if ((it.series || it.event) && it.arm > 0)
            job(c, 2, [&c, &v, &base, R, cols] { c.df = summarise_columns(v, &base, R, cols); });
        if (i > 0) write_computed(i - 1);
        helper.wait(std::span(c.jobs.data(), c.njobs));
    }
    if (!items.empty()) write_computed(items.size() - 1);
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
        years.set_attr("axis", std::string("T"));
        auto bound = g.write_strings("bound", {"lower", "upper"});
        bound.make_dimension_scale("bound");
        bound.set_attr("long_name", std::string("edge of a bin"));
        std::size_t off = a * s.histogram_cells();
        for (const auto& h : s.histograms) {
            const auto bins = h.edges.size() - 1;
            std::vector<double> lower(h.edges.begin(), h.edges.end() - 1);
            auto bin = make_scale(g, h.name + "_bin", lower, h.unit, "lower edge of the bin");
            make_scale(g, h.name + "_edges", h.edges, h.unit,
                       "bin edges; the last bin also counts values above its upper edge");
            // the bins' edges as CF bounds (format 1.1)
            std::vector<double> bounds(2 * bins);
            for (std::size_t k = 0; k < bins; ++k) bounds[2 * k] = h.edges[k], bounds[2 * k + 1] = h.edges[k + 1];
            auto bd = g.write_dataset<double>(h.name + "_bin_bounds", bounds, {bins, 2});
            describe(bd, h.unit, "lower and upper edge of the bin (the last bin also counts values above it)");
            bd.attach_scale(bin, 0);
            bd.attach_scale(bound, 1);
            bin.set_attr("bounds", h.name + "_bin_bounds");
            auto d = g.write_dataset<std::int64_t>(
                h.name, std::span<const std::int64_t>(histograms.data() + off, H * bins), {H, bins});
            describe(d, "households", h.description);
            d.set_attr("comment", std::string("living households summed over all replications; the last bin also "
                                              "counts values above its upper edge"));
            d.attach_scale(years, 0);
            d.attach_scale(bin, 1);
            off += H * bins;
        }
    }
}

ResultWriter::ResultWriter(std::filesystem::path final_path, const run::ResultSchema& schema,
                           const RunMetadata& meta, bool parallel_rows)
    : impl_(std::make_unique<Impl>()), final_(std::move(final_path)), temp_(partial_path(final_)) {
    impl_->schema = schema;
    impl_->parallel_rows = parallel_rows;
    impl_->seed = meta.seed;
    impl_->digests.emplace(schema);
    impl_->file.emplace(h5::File::create_new(temp_));
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
    im.digests->add(rec);
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
    const std::size_t TG = T * static_cast<std::size_t>(s.regions), RV = s.regional.size();
    for (std::size_t a = 0; a < arms.size(); ++a)
        for (std::size_t k = 0; k < arms[a].region_ds.size(); ++k)
            write(arms[a].region_ds[k], TG, [&](const run::ReplicationRecord& rec, std::size_t i) {
                return rec.regions[(a * RV + k) * TG + i];
            });
    for (std::size_t j = 0; j < parameter_ds.size(); ++j)
        write(parameter_ds[j], 1, [&](const run::ReplicationRecord& rec, std::size_t) { return rec.parameters[j]; });
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
    unflushed_lo = std::min(unflushed_lo, row);
    unflushed_hi = std::max(unflushed_hi, row + n);
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
    im.unflushed_lo = std::numeric_limits<hsize_t>::max(), im.unflushed_hi = 0;
}

void ResultWriter::hand_over() {
    auto& im = *impl_;
    im.write_pending();
    im.arms.clear();
    im.parameter_ds.clear();
    im.file->close();
    im.file.reset();
    // Everything is on disk: no chunk of the rows is HDF5's to write later.
    im.unflushed_lo = std::numeric_limits<hsize_t>::max(), im.unflushed_hi = 0;
}

void ResultWriter::count_written_elsewhere(const run::ReplicationRecord& rec) {
    auto& im = *impl_;
    im.digests->add(rec);
    for (std::size_t i = 0; i < im.histograms.size(); ++i) im.histograms[i] += rec.histograms[i];
    ++im.written;
}

void ResultWriter::take_back() {
    auto& im = *impl_;
    im.file.emplace(h5::File::open_rw(temp_));
    im.open_layout();
}

void ResultWriter::finish(FileId replaces) {
    auto& im = *impl_;
    if (im.written != static_cast<std::uint64_t>(im.schema.replications))
        throw std::logic_error("result writer: " + std::to_string(im.written) + " of " +
                               std::to_string(im.schema.replications) + " replications written");
    im.write_pending();
    im.write_statistics();
    im.write_histograms();
    {
        auto root = im.file->root();
        write_sensitivity(root, im.schema, im.seed);
    }
    im.arms.clear();
    im.parameter_ds.clear();
    {
        auto root = im.file->root();
        root.set_attr("replications_written", static_cast<std::int64_t>(im.written));
        root.set_attr("complete", std::int64_t{1});
    }
    im.file->close();
    // What reached the file, read back through a new handle: every row must
    // be the record's, or the run's checkpoint is not superseded.
    if (const auto wrong = im.digests->check_file(temp_); !wrong.empty())
        throw ResultUnverified("the result file '" + temp_.string() + "' did not verify: " + wrong);
    place_result(temp_, final_, replaces);
    im.finished = true;
}

}  // namespace artel::output
