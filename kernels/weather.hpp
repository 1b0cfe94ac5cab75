// Regional weather of one replication: a pure function of (seed, replication,
// year), shared by every village block and every policy arm (MODEL.md §4.2).
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/params.hpp"

namespace artel::model {

struct Weather {
    std::int64_t years = 0;
    std::int64_t regions = 0;
    std::vector<std::uint8_t> failure;  // [year][region]
    std::vector<double> R;              // regional multiplier [year][region]
    std::vector<double> P;              // grain price [year][region]
    std::vector<std::int32_t> failing;  // failing regions per year

    std::size_t at(std::int64_t t, std::int64_t g) const {
        return static_cast<std::size_t>(t * regions + g);
    }
};

// Fills `w` (reusing its storage) for replication `rep`. With the weather
// mechanism off: R = 1, no failures, P = price0, and nothing is drawn.
// Throws std::overflow_error, naming the region and year, where R or P is
// beyond single precision (households trade in float; with sigma_R and
// price_elasticity near their bounds P = price0 · R^-e can reach 1e200).
void draw_weather(const Params& p, std::uint32_t rep, Weather& w);

// Φ⁻¹(failure_prob)-free test of failure: Φ(x) < failure_prob.
bool region_fails(double x, double failure_prob);

}  // namespace artel::model
