#include "kernels/weather.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

#include "engine/math/detmath.hpp"
#include "engine/random/samplers.hpp"
#include "engine/random/streams.hpp"
#include "kernels/purposes.hpp"

namespace artel::model {
namespace {

constexpr double kFloatMax = std::numeric_limits<float>::max();

std::string three_digits(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", x);
    return buf;
}

[[noreturn]] void throw_beyond_float(const Params& p, std::int64_t t, std::int64_t g, double R, double P) {
    throw std::overflow_error("the weather of region " + std::to_string(g) + " in " +
                              std::to_string(p.start_year + t) + " gives the multiplier R = " + three_digits(R) +
                              " and the grain price P = price0 * R^-price_elasticity = " + three_digits(P) +
                              " roubles/centner, beyond single precision (3.4e38) in which households trade: lower "
                              "economy.price_elasticity or weather.sigma_R, or raise weather.failure_factor");
}

}  // namespace

bool region_fails(double x, double failure_prob) {
    // Φ(x) = erfc(-x/√2)/2. Computed once per region-year in scalar code, so
    // every SIMD path and thread sees the same value.
    return 0.5 * std::erfc(-x * 0.70710678118654752440) < failure_prob;
}

void draw_weather(const Params& p, std::uint32_t rep, Weather& w) {
    const auto T = p.years, G = p.regions;
    w.years = T;
    w.regions = G;
    const auto n = static_cast<std::size_t>(T * G);
    w.failure.assign(n, 0);
    w.R.assign(n, 1.0);
    w.P.assign(n, p.price0);
    w.failing.assign(static_cast<std::size_t>(T), 0);
    if (!p.mechanisms.weather) return;

    const auto key = rng::make_key(p.seed);
    const double rho = p.failure_correlation;
    const double a = std::sqrt(rho), b = std::sqrt(1.0 - rho);
    const double sR = p.sigma_R;
    for (std::int64_t t = 0; t < T; ++t) {
        const auto slot = rng::year_slot(t);
        const rng::Stream national(key, rep, rng::EntityKind::National, 0, slot,
                                   static_cast<std::uint32_t>(Purpose::WeatherNational));
        const auto wn = national.block(0);
        const double zn = rng::normal_pair(wn[0], wn[1]).z0;
        for (std::int64_t g = 0; g < G; ++g) {
            const rng::Stream region(key, rep, rng::EntityKind::Region, static_cast<std::uint32_t>(g),
                                     slot, static_cast<std::uint32_t>(Purpose::WeatherRegion));
            const auto wr = region.block(0);
            const double zg = rng::normal_pair(wr[0], wr[1]).z0;
            const double zr = rng::normal_pair(wr[2], wr[3]).z0;
            const bool fails = region_fails(a * zn + b * zg, p.failure_prob);
            const auto i = w.at(t, g);
            w.failure[i] = fails;
            w.R[i] = dmath::exp(sR * zr - 0.5 * sR * sR) * (fails ? p.failure_factor : 1.0);
            w.P[i] = p.price0 * dmath::exp(-p.price_elasticity * dmath::log(w.R[i]));
            w.failing[static_cast<std::size_t>(t)] += fails;
            // Households trade in single precision: a price (or multiplier)
            // beyond float's range would be inf there.
            if (!(w.P[i] <= kFloatMax) || !(w.R[i] <= kFloatMax)) throw_beyond_float(p, t, g, w.R[i], w.P[i]);
        }
    }
}

}  // namespace artel::model
