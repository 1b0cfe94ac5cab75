// Deterministic single-precision functions for the household weather draw:
// log_pos, cos_2pi, exp_small, one_minus_exp_neg, normal_z0. Their one text,
// with the algorithms and their measured accuracy, is
// engine/math/fmath_text.inc; here it is instantiated for one float
// (engine/math/lane.hpp), and the vector kernel instantiates the same text
// for K Highway float vectors (kernels/simd/detmath-inl.h).
#pragma once

#include <cstdint>

#include "engine/math/lane.hpp"

namespace artel::fmath {

namespace detail {
// round to nearest (ties to even) for |v| < 2^22: (v + 1.5·2^23) − 1.5·2^23,
// and the bits of the sum minus those of 1.5·2^23 are rint(v)
inline constexpr float kRoundShift = 12582912.0f;  // 1.5·2^23
inline constexpr std::uint32_t kRoundShiftBits = 0x4B400000u;
}  // namespace detail

}  // namespace artel::fmath

namespace artel::dmath::lane {
#define ARTEL_DMATH_INLINE inline
#include "engine/math/fmath_text.inc"
#undef ARTEL_DMATH_INLINE
}  // namespace artel::dmath::lane

namespace artel::fmath {

inline float log_pos(float u) { return dmath::lane::LogPos(dmath::lane::Float{}, u); }
inline float cos_2pi(float u) { return dmath::lane::Cos2Pi(dmath::lane::Float{}, u); }
inline float exp_small(float x) { return dmath::lane::ExpSmall(dmath::lane::Float{}, x); }
inline float one_minus_exp_neg(float x) { return dmath::lane::OneMinusExpNegF(dmath::lane::Float{}, x); }
inline float normal_z0(std::uint32_t w0, std::uint32_t w1) {
    return dmath::lane::NormalZ0F(dmath::lane::Float{}, w0, w1);
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
