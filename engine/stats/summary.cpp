#include "engine/stats/summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace artel::stats {

double quantile_sorted(std::span<const double> sorted, double p) {
    if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
    const double h = p * static_cast<double>(sorted.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(h));
    const auto hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

Summary summarize(std::span<const double> values, std::vector<double>& scratch) {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    scratch.clear();
    for (double v : values)
        if (std::isfinite(v)) scratch.push_back(v);
    Summary s;
    s.n = static_cast<std::int64_t>(scratch.size());
    if (scratch.empty()) {
        s.mean = s.se = nan;
        s.q.fill(nan);
        return s;
    }
    // Two-pass mean and variance in index order: deterministic.
    double sum = 0;
    for (double v : scratch) sum += v;
    s.mean = sum / static_cast<double>(s.n);
    double ss = 0;
    for (double v : scratch) ss += (v - s.mean) * (v - s.mean);
    s.se = s.n > 1 ? std::sqrt(ss / static_cast<double>(s.n - 1) / static_cast<double>(s.n)) : nan;
    std::sort(scratch.begin(), scratch.end());
    for (std::size_t k = 0; k < kQuantileLevels.size(); ++k) s.q[k] = quantile_sorted(scratch, kQuantileLevels[k]);
    return s;
}

}  // namespace artel::stats
