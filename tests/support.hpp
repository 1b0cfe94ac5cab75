// Helpers shared by the tests: run a simulation in memory, read columns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/run/runner.hpp"
#include "kernels/simulation.hpp"

namespace artel::test {

struct MemorySink final : run::RecordSink {
    std::vector<run::ReplicationRecord> records;
    void consume(const run::ReplicationRecord& r) override { records.push_back(r); }
};

// Parameters with every mechanism off (a test switches on what it checks).
inline model::Params all_off(model::Params p = {}) {
    static_assert(sizeof(model::Mechanisms) == 9 * sizeof(bool), "a new switch must be switched off here too");
    p.mechanisms = {false, false, false, false, false, false, false, false, false};
    return p;
}

inline model::SimulationOptions small_options(std::int64_t villages_per_block = 4) {
    model::SimulationOptions o;
    o.histogram_years = {};
    o.trajectory_households = 0;
    o.trajectory_replications = 0;
    o.villages_per_block = villages_per_block;
    return o;
}

inline MemorySink run_memory(const std::vector<model::Arm>& arms, const model::SimulationOptions& options,
                             int threads = 2, std::size_t batch = 0) {
    model::HouseholdSimulation sim(arms, options);
    MemorySink sink;
    run::RunOptions opt;
    opt.threads = threads;
    opt.replications = static_cast<std::uint64_t>(arms[0].params.replications);
    opt.batch_replications = batch;
    run::run_replications(sim, opt, sink);
    return sink;
}

inline std::size_t series_index(const std::string& name) {
    const auto& s = model::series_catalogue();
    for (std::size_t i = 0; i < s.size(); ++i)
        if (s[i].name == name) return i;
    throw std::runtime_error("no series " + name);
}

// Value of a series for (arm, year) in one record.
inline double value(const run::ReplicationRecord& r, std::size_t arm, const std::string& name, std::int64_t t,
                    std::int64_t years) {
    const auto S = model::series_catalogue().size();
    return r.series[(arm * S + series_index(name)) * static_cast<std::size_t>(years) + static_cast<std::size_t>(t)];
}
inline double start_value(const run::ReplicationRecord& r, std::size_t arm, const std::string& name) {
    const auto S = model::series_catalogue().size();
    return r.start[arm * S + series_index(name)];
}

// Mean and standard error of the mean over replications.
struct MeanSe {
    double mean, se;
};
inline MeanSe mean_se(const std::vector<double>& x) {
    double m = 0;
    for (double v : x) m += v;
    m /= static_cast<double>(x.size());
    double ss = 0;
    for (double v : x) ss += (v - m) * (v - m);
    return {m, std::sqrt(ss / static_cast<double>(x.size() - 1) / static_cast<double>(x.size()))};
}

}  // namespace artel::test
