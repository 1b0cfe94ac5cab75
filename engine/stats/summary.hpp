// Across-replication statistics of one quantity: mean, standard error of the
// mean, and quantiles (linear interpolation between order statistics, the
// "type 7" rule of R and NumPy's default). NaN values (undefined ratios) are
// left out and counted.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace artel::stats {

inline constexpr std::array<double, 5> kQuantileLevels = {0.05, 0.25, 0.50, 0.75, 0.95};

struct Summary {
    std::int64_t n = 0;  // finite values used
    double mean = 0;
    double se = 0;       // sd / sqrt(n), sd with n - 1; NaN when n < 2
    std::array<double, kQuantileLevels.size()> q{};
};

// `scratch` is reused to avoid allocation; values are not modified.
Summary summarize(std::span<const double> values, std::vector<double>& scratch);

// Quantile p of sorted finite values (type 7).
double quantile_sorted(std::span<const double> sorted, double p);

}  // namespace artel::stats
