// Estimates before a run (plan.hpp).
#include "engine/run/plan.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "engine/run/runner.hpp"
#include "engine/stats/summary.hpp"

namespace artel::run {
namespace {

// ---- measured constants (docs/performance.md, "Estimates before a run") -------
// Debian's HDF5 1.10.8 and glibc 2.36, 2 threads; fitted on 21 runs of 1 to
// 1000 arms, 1 to 200 villages and 2 to 5000 replications (heaptrack for
// where the memory goes). Up to 300 arms the estimate is within -5% and
// +10% of the measured peak but for one run of many small replications
// (+28%); 600 and 1000 arms need 19% and 24% less than estimated.
constexpr double kFixedBytes = 18 << 20;             // resident with no file: code, libraries, HDF5, OpenMP
constexpr double kMetadataCacheBytesPerObject = 6 << 10;  // HDF5's metadata cache grows with the file's objects
constexpr double kMetadataCacheBytes = 12 << 20;          // ... up to this (fitted; HDF5's maximum is 32 MiB)
constexpr double kOpenObjectBytes = 14 << 10;        // HDF5's memory per open group or dataset of the layout
constexpr double kStatisticsObjectBytes = 19 << 10;  // per statistics dataset held open, its scales attached
constexpr double kFileFixedBytes = 64 << 10;         // file: superblock, root group, its attributes (scenario text)
// file bytes per group or dataset: header, link, attributes (format 1.1's
// long_names of the statistics say what they are of: 1 KiB fell short by
// 13-27 B per object in tests/test_plan.cpp)
constexpr double kFileObjectBytes = 1152;
constexpr double kWriterSecondsPerObject = 1.5e-4;   // creating, filling and describing a dataset or group
// The writer's chunk cache per dataset (engine/h5/h5.cpp, kChunkCacheBytes)
// and its chunks of about 8192 values (result_writer.cpp, rows_chunked).
constexpr double kChunkCacheBytes = 96 * 1024;
constexpr double kChunkValues = 8192;

}  // namespace

FileLayout count_layout(const ResultSchema& s) {
    const double A = double(s.n_arms()), R = double(s.replications), T = double(s.years);
    const double S = double(s.series.size()), E = double(s.events.size());
    const double Q = double(stats::kQuantileLevels.size());
    double S0 = 0;       // series with a start value
    for (const auto& info : s.series) S0 += info.has_start ? 1 : 0;
    const double K = double(s.trajectory_households.size()), M = double(s.trajectory_replications);
    const double V = double(s.trajectory_vars.size());
    const bool traj = M > 0 && K > 0;
    const double H = double(s.histogram_years.size()), nh = double(s.histograms.size());
    double bins = 0, edges = 0;
    for (const auto& h : s.histograms) bins += double(h.edges.size()) - 1, edges += double(h.edges.size());

    // The chunk cache of a rows dataset of `cols` columns: the whole dataset
    // when it fits the cache (it then stays there, read back at the end);
    // otherwise three chunks: the one being filled, the one read back and a
    // filter buffer (freed, but on the thread that wrote the rows: measured).
    auto cached = [&](double cols) {
        cols = std::max(1.0, cols);
        const double chunk = std::max(1.0, std::min(R, std::floor(kChunkValues / cols))) * cols * 8;
        const double all = R * cols * 8;
        return all <= kChunkCacheBytes ? all : 3 * chunk;
    };

    FileLayout l;
    // Per arm, open throughout: the arm's group, its series, start, events
    // and trajectories groups, and their datasets (the scales are closed).
    const double groups = 4 + (traj ? 1 : 0);
    l.open = 2 + A * (groups + S + S0 + E + (traj ? V : 0));  // + the root and /arms
    l.chunk_cache = A * (S * cached(T) + (S0 + E) * cached(1));
    // Held open at the end, per arm and for the paired differences of the
    // other arms: a group, its two scales, mean, se, n and quantiles of
    // every series and the quantiles of every event.
    const double stats_groups = 2 * A - 1;
    l.statistics = stats_groups * (3 + 4 * S + E);
    // In the file: root, /arm_names, /arms; per arm the groups above with
    // their scales (series 2, start 1, events 1, trajectories 3) and
    // datasets; the statistics groups (also mean and se of every event);
    // the histograms group with its year and bound scales and, per
    // histogram, two scales, the counts and the bins' bounds (format 1.1).
    l.objects = 3 + A * (groups + 4 + S + S0 + E + (traj ? 3 + V : 0)) + stats_groups * (3 + 4 * S + 3 * E) +
                (H > 0 ? A * (3 + 4 * nh) : 0);
    // The uncertain parameters: /uncertainty (a group, its scale and a rows
    // dataset per parameter, open throughout) and, per arm, a sensitivity
    // group (3 scales, 4 datasets) of the events and their differences.
    double extra_values = 0;  // of the groups below, added to l.values at the end
    const double P = double(s.parameters.size());
    if (P > 0) {
        const double outputs = 2 * E * A;  // every arm's events and their differences to the baseline
        l.open += 1 + P;
        l.chunk_cache += P * cached(1);
        l.objects += 2 + P + A * 8;
        extra_values += R * 8 + (outputs * P * 3 * 2 + outputs) * 8;
    }
    // The per-region series: per arm a group, three scales (replication,
    // year, region) and a rows dataset of (year x region) values per
    // series, open throughout.
    const double G = double(s.regions), RV = double(s.regional.size());
    if (G > 0 && RV > 0) {
        l.open += A * (1 + RV);
        l.chunk_cache += A * RV * cached(T * G);
        l.objects += A * (4 + RV);
        extra_values += A * (R + T + G) * 8;
    }
    l.rows = A * (S * R * T + (S0 + E) * R) * 8 + P * R * 8 + A * RV * R * T * G * 8;
    l.values = extra_values + A * (3 * R + T) * 8 +                                    // scales of the rows
               (traj ? A * (V * M * K * (T + 1) + M + K + T + 1) * 8 : 0) +             // trajectories
               stats_groups * ((S * (3 + Q) * T + E * (2 + Q)) + T + Q) * 8 +           // statistics
               (H > 0 ? A * (H * bins + H + 3 * bins + edges) * 8 : 0);                 // histograms
    return l;
}

namespace {

// The bytes of one replication record (engine/run/results.hpp).
double record_bytes(const ResultSchema& s, bool with_trajectories) {
    const double A = double(s.n_arms()), S = double(s.series.size()), T = double(s.years);
    double b = 8 * A * (S * T + S + double(s.events.size()) + double(s.histogram_cells())) +
               8 * double(s.parameters.size()) + 8 * A * double(s.regional.size()) * T * double(s.regions);
    if (with_trajectories)
        b += 8 * A * double(s.trajectory_households.size() * s.trajectory_vars.size()) * (T + 1);
    return b;
}

std::string bytes(double b) {
    const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int k = 0;
    while (b >= 1024 && k < 4) b /= 1024, ++k;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f %s", k ? 1 : 0, b, unit[k]);
    return buf;
}

}  // namespace

double MemoryEstimate::peak() const { return fixed + file + std::max(workers + accumulators + records, statistics); }

Plan make_plan(const Simulation& sim, int threads, double work, int ranks) {
    const auto& s = sim.schema();
    Plan p;
    p.threads = threads > 0 ? threads : omp_get_max_threads();
    p.work = work;
    p.ranks = std::max(1, ranks);
    // A rank's share: replications / ranks (at least a piece of one).
    const auto per_rank = static_cast<std::uint64_t>((s.replications + p.ranks - 1) / p.ranks);
    p.batch = auto_batch(sim, p.threads, std::max<std::uint64_t>(1, per_rank));
    p.layout = count_layout(s);
    const FileLayout& layout = p.layout;

    auto& m = p.memory;
    m.fixed = kFixedBytes;
    m.workers = double(p.threads) * double(sim.worker_bytes());
    m.accumulators = double(p.batch) * double(sim.accumulator_bytes());
    // The runner's record, and the writer's records waiting for a batch's
    // end (at most 64, result_writer.cpp), the first with trajectories.
    const double waiting = double(std::min<std::size_t>(p.batch, 64));
    m.records = (1 + waiting) * record_bytes(s, false) +
                (s.trajectory_replications > 0 ? record_bytes(s, true) - record_bytes(s, false) : 0);
    m.file = std::min(kMetadataCacheBytes, layout.objects * kMetadataCacheBytesPerObject) +
             layout.open * kOpenObjectBytes + layout.chunk_cache;
    // Two variables read back (R x T each) besides the datasets held open.
    m.statistics = layout.statistics * kStatisticsObjectBytes + 2.0 * double(s.replications) * double(s.years) * 8;

    if (p.ranks > 1) {
        // Every rank holds the rows of its records until the next round of
        // collective writes (at most 32 MiB, engine/mpi/distributed.cpp),
        // and up to two split replications' accumulators being merged.
        const double held = std::min(32.0 * (1 << 20), double(per_rank) * record_bytes(s, false));
        auto& o = p.memory_other_rank;
        o.fixed = kFixedBytes;
        o.workers = m.workers;
        o.accumulators = m.accumulators + 2.0 * double(sim.accumulator_bytes());
        o.records = held + 2 * record_bytes(s, false);
        // the rows datasets, open on every rank (the file's metadata cache as rank 0's)
        const double rows_open = double(s.n_arms()) * (double(s.series.size()) * 2 + double(s.events.size())) +
                                 double(s.parameters.size());
        o.file = std::min(kMetadataCacheBytes, layout.objects * kMetadataCacheBytesPerObject) +
                 rows_open * kOpenObjectBytes;
        m.accumulators = o.accumulators;
        m.records += held;
    }

    // The rows are compressed (deflate with shuffle): counted uncompressed.
    p.output = kFileFixedBytes + layout.objects * kFileObjectBytes + layout.values + layout.rows;

    // One unit of replication 0 of the first arm, timed (first touch
    // included, so a little pessimistic); the arms of a unit take about the
    // same time each.
    const auto probe = sim.first_arms(1);
    auto worker = probe->make_worker();
    auto acc = probe->make_accumulator();
    const auto t0 = std::chrono::steady_clock::now();
    worker->run(0, 0);
    worker->merge(*acc);
    const double unit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double units = double(s.replications) * double(sim.units_per_replication());
    p.seconds = unit_seconds * double(s.n_arms()) * units / p.threads / p.ranks + layout.objects * kWriterSecondsPerObject;
    return p;
}

std::string describe(const MemoryEstimate& m) {
    return "fixed " + bytes(m.fixed) + ", result file " + bytes(m.file) + ", then while running: workers " +
           bytes(m.workers) + ", accumulators " + bytes(m.accumulators) + ", records " + bytes(m.records) +
           "; at the end: statistics " + bytes(m.statistics);
}

std::uint64_t available_memory() {
    std::ifstream in("/proc/meminfo");
    std::string key, unit;
    std::uint64_t kb = 0;
    while (in >> key >> kb >> unit)
        if (key == "MemAvailable:") return kb * 1024;
    return 0;
}

}  // namespace artel::run
