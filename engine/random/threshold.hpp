// Bernoulli draws with a fixed probability as exact integer tests on the word
// (the vector kernels compare words instead of converting them to doubles).
#pragma once

#include <cmath>
#include <cstdint>

namespace artel::rng {

// rng::bernoulli(w, p), i.e. uniform01(w) = (w + 0.5)·2^-32 < p, holds for a
// 32-bit word w exactly when w < bernoulli_threshold(p), where
//   T(p) = ceil(p·2^32 − 0.5) clipped to [0, 2^32]   (0 for p <= 0 or NaN).
// Proof: the scaling by 2^32 is exact, so the test is w + 0.5 < p·2^32, i.e.
// w < p·2^32 − 0.5, i.e. w < ceil(p·2^32 − 0.5) for an integer w; the
// subtraction is exact when p·2^32 is in [0.5, 2^52) (0.5 is then a multiple
// of the ulp of p·2^32), and outside that range the clipping decides.
inline std::int64_t bernoulli_threshold(double p) {
    if (!(p > 0.0)) return 0;
    const double y = p * 4294967296.0 - 0.5;
    if (y >= 4294967296.0) return std::int64_t{1} << 32;
    if (y <= 0.0) return 0;
    // ceil(y) for y in (0, 2^32): truncation, plus one where y has a fraction
    // (exact; std::ceil is a library call on baseline x86-64)
    const auto t = static_cast<std::int64_t>(y);
    return t + (static_cast<double>(t) < y ? 1 : 0);
}

}  // namespace artel::rng
