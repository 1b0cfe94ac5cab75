#include "kernels/tallies.hpp"

#include <bit>

namespace artel::model {

int gini_bin(double wealth) {
    constexpr double lo = 1.0 / 256.0;  // 2^kGiniMinExp
    if (!(wealth >= lo)) return 0;      // also NaN
    const auto bits = std::bit_cast<std::uint64_t>(wealth);
    const int exponent = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
    if (exponent >= kGiniMaxExp) return kGiniBins - 1;
    const int sub = static_cast<int>((bits >> (52 - kGiniSubBits)) & ((1u << kGiniSubBits) - 1));
    return 1 + (exponent - kGiniMinExp) * (1 << kGiniSubBits) + sub;
}

double GiniHistogram::gini() const {
    // Lorenz curve through the bins in increasing order:
    // G = 1 - sum_k f_k (S_{k-1} + S_k), f = population share, S = cumulative wealth share.
    std::int64_t total_n = 0;
    double total_w = 0;
    for (int k = lo; k < hi; ++k) {
        total_n += n[k];
        total_w += from_fixed(sum[k]);
    }
    if (total_n < 2 || total_w <= 0) return 0.0;
    double area = 0, cum = 0;
    for (int k = lo; k < hi; ++k) {
        if (n[k] == 0) continue;
        const double f = static_cast<double>(n[k]) / static_cast<double>(total_n);
        const double next = cum + from_fixed(sum[k]) / total_w;
        area += f * (cum + next);
        cum = next;
    }
    return 1.0 - area;
}

}  // namespace artel::model
