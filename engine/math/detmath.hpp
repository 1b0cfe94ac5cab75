// Deterministic elementary functions in IEEE double arithmetic: exp, log,
// sincos_2pi, one_minus_exp_neg. Their one text, with the algorithms, their
// special values and their measured accuracy, is engine/math/detmath_text.inc;
// here it is instantiated for one double (engine/math/lane.hpp), and the
// vector kernel instantiates the same text for K Highway vectors
// (kernels/simd/detmath-inl.h), so each lane is bit-identical to these.
#pragma once

#include <cstdint>
#include <limits>

#include "engine/math/lane.hpp"

namespace artel::dmath {

namespace detail {

// Round to the nearest integer (ties to even) for |v| < 2^51, in the IEEE
// default rounding mode (round-to-nearest), which this project never
// changes: (v + 1.5*2^52) puts the integer part of v in the low mantissa
// bits; subtracting restores v's rounded value exactly, and the bits of the
// sum minus those of 1.5*2^52 are rint(v) as a 64-bit two's complement value.
inline constexpr double kRoundShift = 0x1.8p52;
inline constexpr std::int64_t kRoundShiftBits = 0x4338000000000000ll;  // the bits of kRoundShift

// ln 2 split in two (fdlibm): ln2_hi has 32 significant bits (its low 21
// bits are zero), so k * ln2_hi is exact for |k| < 2^21.
inline constexpr double kLn2Hi = 0x1.62e42feep-1;          // 6.93147180369123816490e-01
inline constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;    // 1.90821492927058770002e-10
inline constexpr double kInvLn2 = 0x1.71547652b82fep0;     // 1.44269504088896338700e+00

}  // namespace detail

namespace lane {
#define ARTEL_DMATH_INLINE inline
#include "engine/math/detmath_text.inc"
#undef ARTEL_DMATH_INLINE
}  // namespace lane

inline double exp(double x) { return lane::Exp(lane::Double{}, x); }
inline double log(double x) { return lane::Log(lane::Double{}, x); }
inline void sincos_2pi(double u, double& s, double& c) { lane::SinCos2Pi(lane::Double{}, u, s, c); }
inline double one_minus_exp_neg(double x) { return lane::OneMinusExpNeg(lane::Double{}, x); }

}  // namespace artel::dmath
