// Deterministic single-precision functions for the household weather draw.
//
// As in detmath.hpp: only + - * sqrt, comparisons, selects and bit
// manipulation on IEEE floats, in a fixed order, no FMA (-ffp-contract=off),
// no libm call, so a vector kernel doing the same operations lane by lane
// (on twice as many lanes as in double) reproduces every bit.
//
// The polynomials are those of the Cephes Mathematical Library (Stephen L.
// Moshier, 1984–1992: logf.c, expf.c, sinf.c, cosf.c), with their published
// coefficients, made branch-free. Cephes is distributed under a permissive
// licence ("... may be used freely ...", netlib.org/cephes/readme).
//
// Accuracy, measured by tests/test_detmath.cpp against long double on every
// input the weather draw can see:
//   log_pos(u), u = k·2^-24, k = 1 … 2^24      max 0.83 ulp of float
//   cos_2pi(u), u = k·2^-24, k = 0 … 2^24 − 1  max abs. error 9.1e-8
//   exp_small(x), x in [−87, 87]                max 0.97 ulp of float
//   normal_z0   max abs. error of z 6.1e-7 against the exact Box–Muller of
//               the same u0, u1 (2^22 random word pairs)
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

namespace artel::fmath {

namespace detail {
inline float from_bits(std::uint32_t b) { return std::bit_cast<float>(b); }
inline std::uint32_t to_bits(float x) { return std::bit_cast<std::uint32_t>(x); }
// round to nearest (ties to even) for |v| < 2^22
inline constexpr float kRoundShift = 12582912.0f;  // 1.5·2^23
}  // namespace detail

// log(u) for a positive normal float u. Cephes logf: u = 2^e·m with m in
// [sqrt(1/2), sqrt(2)), x = m − 1 (exact), log(1 + x) = x − x²/2 + x³·P(x)
// with P of degree 8, plus e·ln2 in two parts (0.693359375 is exact in 9
// bits, so e times it is exact for |e| < 2^14).
inline float log_pos(float u) {
    using namespace detail;
    const std::uint32_t bits = to_bits(u);
    const std::int32_t e0 = static_cast<std::int32_t>((bits >> 23) & 0xFFu) - 126;  // u = 2^e0·m0, m0 in [1/2, 1)
    const float m0 = from_bits((bits & 0x007FFFFFu) | 0x3F000000u);
    const bool low = m0 < 0.707106781186547524f;
    const float x = low ? (m0 + m0) - 1.0f : m0 - 1.0f;
    const float fe = static_cast<float>(low ? e0 - 1 : e0);
    const float z = x * x;
    float p = 7.0376836292e-2f;
    p = p * x + -1.1514610310e-1f;
    p = p * x + 1.1676998740e-1f;
    p = p * x + -1.2420140846e-1f;
    p = p * x + 1.4249322787e-1f;
    p = p * x + -1.6668057665e-1f;
    p = p * x + 2.0000714765e-1f;
    p = p * x + -2.4999993993e-1f;
    p = p * x + 3.3333331174e-1f;
    float y = x * (z * p);
    y = y + -2.12194440e-4f * fe;
    y = y + -0.5f * z;
    float r = x + y;
    r = r + 0.693359375f * fe;
    return r;
}

// cos(2π·u) for u in [0, 1]. t = 4u, q = rint(t), f = t − q in [−1/2, 1/2]
// (all exact), x = f·π/2, then Cephes' sinf/cosf polynomials on |x| ≤ π/4
// and the quadrant q mod 4.
inline float cos_2pi(float u) {
    using namespace detail;
    const float t = u * 4.0f;
    const float q = (t + kRoundShift) - kRoundShift;
    const std::int32_t j = static_cast<std::int32_t>(to_bits(t + kRoundShift) - to_bits(kRoundShift)) & 3;
    const float x = (t - q) * 1.57079637f;
    const float z = x * x;
    float c = 2.443315711809948e-5f * z + -1.388731625493765e-3f;
    c = c * z + 4.166664568298827e-2f;
    c = (c * z) * z;
    c = c - 0.5f * z;
    c = c + 1.0f;
    float s = -1.9515295891e-4f * z + 8.3321608736e-3f;
    s = s * z + -1.6666654611e-1f;
    s = (s * z) * x;
    s = s + x;
    // cos(jπ/2 + x): j = 0: cos x, 1: −sin x, 2: −cos x, 3: sin x
    const float a = (j & 1) ? s : c;
    return (j == 1 || j == 2) ? -a : a;
}

// exp(x) for |x| <= 87 (the result a normal float; no special values: the
// weather's argument is within ±42). Cephes expf: n = rint(x·log2 e),
// r = (x − n·0.693359375) − n·(−2.12194440e-4) (n times the first part
// exact), exp(r) = 1 + r + r²·P(r) with P of degree 5, times 2^n.
inline float exp_small(float x) {
    using namespace detail;
    const float shifted = x * 1.44269504088896341f + kRoundShift;
    const float n = shifted - kRoundShift;
    const std::int32_t ni = static_cast<std::int32_t>(to_bits(shifted) - to_bits(kRoundShift));
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    const float z = r * r;
    float p = 1.9875691500e-4f * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float y = (p * z + r) + 1.0f;
    return y * from_bits(static_cast<std::uint32_t>(ni + 127) << 23);
}

// 1 − e^−x in float, with x clamped to [0, 80] (NaN to 0): a screen for
// comparisons with detmath's exact 1 − e^−x, not a replacement. Its absolute
// error is below 2^-23 (exp_small within one ulp of a value ≤ 1, and the
// subtraction rounded once; beyond 80 both are 1), tested against long double
// in tests/test_detmath.cpp.
inline float one_minus_exp_neg(float x) {
    const float c = x > 0.0f ? (x < 80.0f ? x : 80.0f) : 0.0f;
    return 1.0f - exp_small(-c);
}

// The household weather's standard normal from two words (Box–Muller,
// cosine half): u0 = (⌊w0/2^8⌋ + 1)·2^-24 in (0, 1], u1 = ⌊w1/2^8⌋·2^-24 in
// [0, 1), z = sqrt(−2·log u0)·cos(2π·u1). Every step is exact up to the
// functions' rounding; |z| ≤ sqrt(48·ln 2) ≈ 5.77.
inline float normal_z0(std::uint32_t w0, std::uint32_t w1) {
    const float u0 = static_cast<float>(static_cast<std::int32_t>((w0 >> 8) + 1)) * 0x1p-24f;
    const float u1 = static_cast<float>(static_cast<std::int32_t>(w1 >> 8)) * 0x1p-24f;
    return std::sqrt(-2.0f * log_pos(u0)) * cos_2pi(u1);
}

// The household weather multiplier E = exp(σ·z − c) with z = normal_z0(w0,
// w1), σ = σ_H and c = σ_H²/2 given as floats (weather_coefficients); for
// σ_H in its valid range [0, 5] the argument is within ±42.
inline float weather_multiplier(std::uint32_t w0, std::uint32_t w1, float sigma, float c) {
    return exp_small(sigma * normal_z0(w0, w1) - c);
}
// σ_H and σ_H²/2 rounded to float (the latter computed in double).
inline void weather_coefficients(double sigma_H, float& sigma, float& c) {
    sigma = static_cast<float>(sigma_H);
    c = static_cast<float>(0.5 * sigma_H * sigma_H);
}

}  // namespace artel::fmath
