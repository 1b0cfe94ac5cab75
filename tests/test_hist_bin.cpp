// HistogramBinner's branch-free clamp gives exactly the bin of its definition,
// floor(x / top * bins) clamped to [0, bins - 1] (NaN in bin 0), on bin edges
// and their neighbours, random values at every scale, the literacy shares
// l / a, zero, negatives, subnormals, infinities and NaN; and bins(), the
// loop the compiler vectorises, gives the same bins.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/hist_bin.hpp"
#include "test_inputs.hpp"

using artel::model::HistogramBinner;
using artel::test::splitmix64;

namespace {

std::vector<double> edge_neighbourhood(double top, std::size_t bins) {
    std::vector<double> xs;
    for (std::size_t k = 0; k <= bins + 2; ++k) {
        double x = top * static_cast<double>(k) / static_cast<double>(bins);
        for (int s = 0; s < 6; ++s) x = std::nextafter(x, -1e300);
        for (int s = 0; s < 13; ++s, x = std::nextafter(x, 1e300)) xs.push_back(x);
        // the edge as the model computes it the other way round
        const double y = static_cast<double>(k) / static_cast<double>(bins) * top;
        xs.push_back(y);
        xs.push_back(std::nextafter(y, 0.0));
    }
    return xs;
}

}  // namespace

TEST_CASE("HistogramBinner equals floor(x / top * bins) clamped", "[histogram]") {
    const double inf = std::numeric_limits<double>::infinity();
    std::uint64_t state = 20261128;
    const std::vector<std::pair<double, std::size_t>> shapes = {
        {400.0, 40}, {100.0, 40}, {1.0, 40}, {1.0, 7}, {3.7, 1000}, {1e-3, 13}, {123456.789, 2}, {0.1, 999}};
    std::size_t checked = 0, wrong = 0, first_bins = 0, vec_wrong = 0;
    double first_x = 0, first_top = 0, vec_first_x = 0;
    for (const auto& [top, bins] : shapes) {
        const HistogramBinner b(top, bins);
        std::vector<double> xs = edge_neighbourhood(top, bins);
        for (double x : {0.0, -0.0, -1.0, -inf, inf, std::numeric_limits<double>::quiet_NaN(),
                         std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::min(),
                         std::numeric_limits<double>::max(), top, 2 * top})
            xs.push_back(x);
        for (int a = 1; a < 64; ++a)
            for (int l = 0; l <= a; ++l) xs.push_back(double(l) / double(a) * top);
        for (int i = 0; i < 200000; ++i) {
            const double u = static_cast<double>(splitmix64(state) >> 11) * 0x1p-53;
            xs.push_back(u * 1.2 * top);                              // the usual range
            xs.push_back(std::ldexp(u, static_cast<int>(splitmix64(state) % 200) - 100) * top);  // any scale
            xs.push_back(std::bit_cast<double>(splitmix64(state)));  // any bit pattern
        }
        std::vector<std::int32_t> vec_bins(xs.size());
        b.bins(xs.data(), xs.size(), vec_bins.data());  // the vectorised loop
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const double x = xs[i];
            if (static_cast<std::size_t>(vec_bins[i]) != b(x) && vec_wrong++ == 0) vec_first_x = x;
            const double y = x / top * static_cast<double>(bins);
            const std::size_t want =
                std::isnan(y) || y < 0 ? 0 : y >= static_cast<double>(bins) - 1 ? bins - 1 : static_cast<std::size_t>(std::floor(y));
            if (b(x) != want && wrong++ == 0) {
                first_x = x, first_top = top, first_bins = bins;
            }
            ++checked;
        }
    }
    INFO("first wrong: x = " << first_x << " (bits " << std::bit_cast<std::uint64_t>(first_x) << "), top = "
                             << first_top << ", bins = " << first_bins);
    CHECK(wrong == 0);
    INFO("bins() differs from operator() first at x = " << vec_first_x);
    CHECK(vec_wrong == 0);
    CHECK(checked > 4'000'000);
}
