#include "engine/run/results.hpp"

#include <limits>
#include <stdexcept>

#include "engine/run/simulation.hpp"

namespace artel::run {

std::size_t ResultSchema::histogram_cells() const {
    std::size_t cells = 0;
    for (const auto& h : histograms) cells += histogram_years.size() * (h.edges.size() - 1);
    return cells;
}

void ReplicationRecord::shape(const ResultSchema& s, bool with_trajectories) {
    const auto A = s.n_arms(), S = s.series.size(), T = static_cast<std::size_t>(s.years);
    series.assign(A * S * T, std::numeric_limits<double>::quiet_NaN());
    start.assign(A * S, std::numeric_limits<double>::quiet_NaN());
    events.assign(A * s.events.size(), std::numeric_limits<double>::quiet_NaN());
    histograms.assign(A * s.histogram_cells(), 0);
    parameters.assign(s.parameters.size(), std::numeric_limits<double>::quiet_NaN());
    regions.assign(A * s.regional.size() * T * static_cast<std::size_t>(s.regions),
                   std::numeric_limits<double>::quiet_NaN());
    if (with_trajectories)
        trajectories.assign(A * s.trajectory_households.size() * s.trajectory_vars.size() * (T + 1),
                            std::numeric_limits<double>::quiet_NaN());
    else
        trajectories.clear();
}

void Accumulator::save(std::vector<std::byte>&) const {
    throw std::logic_error("this model's replications cannot be split between processes (Accumulator::save)");
}

void Accumulator::merge_saved(std::span<const std::byte>) {
    throw std::logic_error("this model's replications cannot be split between processes (Accumulator::merge_saved)");
}

}  // namespace artel::run
