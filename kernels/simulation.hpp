// The household model as an engine Simulation: a replication is cut into
// village blocks (the work units); every arm runs on the same initial block
// and the same draws (common random numbers, MODEL.md §1).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/run/simulation.hpp"
#include "engine/uncertainty/sampler.hpp"
#include "kernels/params.hpp"
#include "kernels/tallies.hpp"

namespace artel::model {

struct Arm {
    std::string name;
    Params params;  // the base parameters with the arm's policy overrides applied
    // Policy keys that follow a base parameter (key, base parameter): in a
    // replication whose parameters are drawn, the key takes the draw.
    std::vector<std::pair<const config::ParamInfo*, const config::ParamInfo*>> links = {};
};

struct SimulationOptions {
    std::vector<std::int64_t> histogram_years;  // calendar years
    std::int64_t histogram_bins = 40;
    double hist_wealth_max = 400.0;
    double hist_grain_max = 100.0;
    std::int64_t trajectory_households = 100;
    std::int64_t trajectory_replications = 1;
    std::int64_t villages_per_block = 8;  // engine setting: results do not depend on it
    bool simd = true;  // the vectorised kernel (kernels/simd); false: the scalar reference kernel
    bool regions = true;  // the per-region series (MODEL.md §7)
    // The replications' uncertain parameters (MODEL.md §6); null: every
    // replication runs with the arms' parameters as they are.
    std::shared_ptr<const uq::ParameterSampler> parameters;
};

class HouseholdSimulation final : public run::Simulation {
public:
    // arms[0] is the baseline; all arms share every non-policy parameter.
    HouseholdSimulation(std::vector<Arm> arms, SimulationOptions options);

    const run::ResultSchema& schema() const override { return schema_; }
    std::size_t units_per_replication() const override;
    double work_per_unit(std::size_t unit) const override;
    std::unique_ptr<run::Worker> make_worker() const override;
    std::unique_ptr<run::Accumulator> make_accumulator() const override;
    void finish_replication(std::uint64_t rep, const run::Accumulator& acc,
                            run::ReplicationRecord& out) const override;
    std::size_t accumulator_bytes() const override;
    std::size_t worker_bytes() const override;
    std::unique_ptr<run::Simulation> first_arms(std::size_t arms) const override;
    double kernel_seconds() const override { return 1e-9 * double(kernel_ns_.load()); }
    void add_kernel_time(std::chrono::steady_clock::duration d) const {
        kernel_ns_.fetch_add(static_cast<std::uint64_t>(std::chrono::nanoseconds(d).count()),
                             std::memory_order_relaxed);
    }

    const std::vector<Arm>& arms() const { return arms_; }
    // Every arm's parameters in replication `rep`: the arm's own, with the
    // replication's draws of the uncertain parameters and the keys that
    // follow them.
    void replication_params(std::uint64_t rep, std::vector<Params>& out) const;
    const SimulationOptions& options() const { return options_; }
    // Villages [first, first + count) of a unit.
    std::int64_t unit_first_village(std::size_t unit) const;
    std::int64_t unit_villages(std::size_t unit) const;

private:
    void fill_regions(const std::vector<RegionTally>& region, const std::vector<std::uint8_t>& failure,
                      std::vector<double>& out) const;
    std::vector<Arm> arms_;
    SimulationOptions options_;
    run::ResultSchema schema_;
    // Nanoseconds in init_block and step_year, added by each worker after
    // each unit (one atomic add per unit).
    mutable std::atomic<std::uint64_t> kernel_ns_{0};
};

// Names of the series, in output order (also documented in docs/output-format.md).
const std::vector<run::SeriesInfo>& series_catalogue();
const std::vector<run::EventInfo>& event_catalogue();
// The per-region series, in output order.
const std::vector<run::SeriesInfo>& regional_catalogue();

}  // namespace artel::model
