// Deterministic elementary functions in IEEE double arithmetic.
//
// Every function here uses only + - * / sqrt, comparisons, selects and bit
// manipulation, in a fixed order, with no FMA (the build uses
// -ffp-contract=off) and no libm call. The result is therefore the same on
// every IEEE-754 platform and compiler, and a SIMD kernel that performs the
// same operations lane by lane (selects -> blends) reproduces it bit for bit.
// Data-dependent choices are written as `cond ? a : b` on values that are both
// computed (no early return on the value path), so they map onto blends.
//
// The algorithms are those of fdlibm (Sun Microsystems, 1993: e_exp.c, e_log.c,
// k_sin.c, k_cos.c), with their published coefficients, made branch-free.
// fdlibm notice: "Copyright (C) 1993 by Sun Microsystems, Inc. All rights
// reserved. Developed at SunPro, a Sun Microsystems, Inc. business.
// Permission to use, copy, modify, and distribute this software is freely
// granted, provided that this notice is preserved."
//
// Accuracy measured by tests/test_detmath.cpp against glibc's long double
// expl/logl/sinl/cosl (x86-64, 80-bit long double), error in units of the
// last place of the correctly rounded double result:
//   exp                  max 0.88 ulp for normal results, x in [-708.39, 709.78]
//                        (1.5e6-point grid + 1.5e6 random arguments); subnormal
//                        results (x in [-745.13, -708.39]): error <= 0.75 x 2^-1074
//   log                  max 0.85 ulp over all positive normal and subnormal x
//   sincos_2pi           max abs. error 1.46e-16 (sin and cos) for u in [0, 1];
//                        relative error away from the zeros <= 2.4 ulp (limited by
//                        the rounding of the reduced argument)
//   one_minus_exp_neg    max 1.35 ulp relative over [-1, 745] (1.06 ulp for x >= 0)
// (The exact figures printed by the test are quoted in its comments.)
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

namespace artel::dmath {

namespace detail {

inline double from_bits(std::uint64_t b) { return std::bit_cast<double>(b); }
inline std::uint64_t to_bits(double x) { return std::bit_cast<std::uint64_t>(x); }

// Round to the nearest integer (ties to even) for |v| < 2^51, independent of
// the dynamic rounding mode's *setting* only insofar as it is the IEEE default
// (round-to-nearest), which this project never changes. (v + 1.5*2^52) puts
// the integer part of v in the low mantissa bits; subtracting restores v's
// rounded value exactly.
inline constexpr double kRoundShift = 0x1.8p52;
inline double round_nearest(double v) { return (v + kRoundShift) - kRoundShift; }
// The integer rint(v) as a 64-bit two's complement value, read from the bits
// of (v + 1.5*2^52) (valid for |v| < 2^51).
inline std::int64_t round_to_int(double v) {
    const double shifted = v + kRoundShift;
    return static_cast<std::int64_t>(to_bits(shifted) - to_bits(kRoundShift));
}

// 2^n as a double for n in [-1022, 1023], built from exponent bits.
inline double pow2i(std::int64_t n) { return from_bits(static_cast<std::uint64_t>(n + 1023) << 52); }

// ln 2 split in two (fdlibm): ln2_hi has 32 significant bits (its low 21
// bits are zero), so k * ln2_hi is exact for |k| < 2^21.
inline constexpr double kLn2Hi = 0x1.62e42feep-1;          // 6.93147180369123816490e-01
inline constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;    // 1.90821492927058770002e-10
inline constexpr double kInvLn2 = 0x1.71547652b82fep0;     // 1.44269504088896338700e+00

}  // namespace detail

// exp(x). fdlibm e_exp.c: k = rint(x / ln2), r = (x - k ln2_hi) - k ln2_lo
// kept as hi - lo, a degree-5 minimax polynomial in r^2 and one division
// (the Remez rational form), then scaling by 2^k in two exact steps so that
// k in [-1076, 1024] needs no special case: results below 2^-1022 are
// rounded once (gradual underflow), results above DBL_MAX overflow to +inf.
//   exp(x) = +inf for x > 709.782712893384 (the overflow threshold),
//   exp(x) = 0 for x < -745.1332191019412 (below half the smallest subnormal),
//   exp(NaN) = NaN, exp(+inf) = +inf, exp(-inf) = 0.
inline double exp(double x) {
    using namespace detail;
    constexpr double kP1 = 1.66666666666666019037e-01;
    constexpr double kP2 = -2.77777777770155933842e-03;
    constexpr double kP3 = 6.61375632143793436117e-05;
    constexpr double kP4 = -1.65339022054652515390e-06;
    constexpr double kP5 = 4.13813679705723846039e-08;
    constexpr double kOverflow = 7.09782712893383973096e+02;   // 0x40862E42FEFA39EF
    constexpr double kUnderflow = -7.45133219101941108420e+02; // 0xc0874910D52D3051

    // Clamp so that the range reduction stays in its valid domain; the special
    // values are selected at the end. NaN fails both comparisons and is kept
    // aside by the final select.
    double xc = x > 710.0 ? 710.0 : x;
    xc = xc < -746.0 ? -746.0 : xc;
    xc = (xc == xc) ? xc : 0.0;

    const double xl = xc * kInvLn2;
    const double kd = round_nearest(xl);
    const std::int64_t k = round_to_int(xl);
    const double hi = xc - kd * kLn2Hi;  // exact (Cody-Waite)
    const double lo = kd * kLn2Lo;
    const double r = hi - lo;
    const double t = r * r;
    const double c = r - t * (kP1 + t * (kP2 + t * (kP3 + t * (kP4 + t * kP5))));
    const double y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);  // exp(r), |r| <= 0.347

    // 2^k = 2^k1 * 2^k2 with k1 = floor(k/2): both factors are normal for
    // k in [-1076, 1024], and the first product y * 2^k1 is exact.
    const std::int64_t k1 = k >> 1;  // arithmetic shift: floor(k / 2)
    const std::int64_t k2 = k - k1;
    double result = (y * pow2i(k1)) * pow2i(k2);

    result = x > kOverflow ? std::numeric_limits<double>::infinity() : result;
    result = x < kUnderflow ? 0.0 : result;
    result = (x == x) ? result : x + x;  // NaN in -> NaN out
    return result;
}

// log(x). fdlibm e_log.c: x = 2^k m with m in [sqrt(2)/2, sqrt(2)), f = m - 1
// (exact), s = f / (2 + f), log(1 + f) = f - (f^2/2 - s (f^2/2 + R(s^2)))
// with a degree-7 minimax R, plus k ln2 in two parts. Subnormal x is first
// scaled by 2^54 (exact).
//   log(0) = -inf, log(x < 0) = NaN, log(+inf) = +inf, log(NaN) = NaN.
inline double log(double x) {
    using namespace detail;
    constexpr double kLg1 = 6.666666666666735130e-01;
    constexpr double kLg2 = 3.999999999940941908e-01;
    constexpr double kLg3 = 2.857142874366239149e-01;
    constexpr double kLg4 = 2.222219843214978396e-01;
    constexpr double kLg5 = 1.818357216161805012e-01;
    constexpr double kLg6 = 1.531383769920937332e-01;
    constexpr double kLg7 = 1.479819860511658591e-01;
    constexpr std::uint64_t kMantMask = (std::uint64_t{1} << 52) - 1;
    // Mantissa bits of sqrt(2) (0x3FF6A09E667F3BCD): above them, m >= sqrt(2).
    constexpr std::uint64_t kSqrt2Mant = 0x6A09E667F3BCDull;

    const bool subnormal = x < 0x1p-1022;
    const double xs = subnormal ? x * 0x1p54 : x;
    const std::uint64_t bits = to_bits(xs);
    const std::int64_t e = static_cast<std::int64_t>((bits >> 52) & 0x7FF) - 1023 - (subnormal ? 54 : 0);
    const std::uint64_t mant = bits & kMantMask;
    const bool high = mant >= kSqrt2Mant;  // m in [sqrt(2), 2): use m/2 and k + 1
    const std::uint64_t mexp = high ? std::uint64_t{0x3FE} : std::uint64_t{0x3FF};
    const double m = from_bits((mexp << 52) | mant);
    const double dk = static_cast<double>(e + (high ? 1 : 0));

    const double f = m - 1.0;
    const double hfsq = 0.5 * f * f;
    const double s = f / (2.0 + f);
    const double z = s * s;
    const double w = z * z;
    const double t1 = w * (kLg2 + w * (kLg4 + w * kLg6));
    const double t2 = z * (kLg1 + w * (kLg3 + w * (kLg5 + w * kLg7)));
    const double R = t2 + t1;
    double result = dk * kLn2Hi - ((hfsq - (s * (hfsq + R) + dk * kLn2Lo)) - f);

    result = x == 0.0 ? -std::numeric_limits<double>::infinity() : result;
    result = x < 0.0 ? std::numeric_limits<double>::quiet_NaN() : result;
    result = x == std::numeric_limits<double>::infinity() ? x : result;
    result = (x == x) ? result : x + x;
    return result;
}

// sin(2 pi u) and cos(2 pi u). Reduction is exact: t = 4u, q = rint(t),
// f = t - q in [-1/2, 1/2] (Sterbenz), so 2 pi u = q pi/2 + x with
// x = f pi/2, |x| <= pi/4 (the nearest quadrant point is at most one octant
// away). The only rounding in the reduction is that of x = f * (pi/2).
// fdlibm's k_sin / k_cos polynomials on x, then swap and signs by q mod 4.
// Exact for u in [0, 1]; valid (same formula) for |u| < 2^49.
inline void sincos_2pi(double u, double& s, double& c) {
    using namespace detail;
    constexpr double kPiO2 = 0x1.921fb54442d18p0;  // pi/2 rounded to nearest
    constexpr double kS1 = -1.66666666666666324348e-01;
    constexpr double kS2 = 8.33333333332248946124e-03;
    constexpr double kS3 = -1.98412698298579493134e-04;
    constexpr double kS4 = 2.75573137070700676789e-06;
    constexpr double kS5 = -2.50507602534068634195e-08;
    constexpr double kS6 = 1.58969099521155010221e-10;
    constexpr double kC1 = 4.16666666666666019037e-02;
    constexpr double kC2 = -1.38888888888741095749e-03;
    constexpr double kC3 = 2.48015872894767294178e-05;
    constexpr double kC4 = -2.75573143513906633035e-07;
    constexpr double kC5 = 2.08757232129817482790e-09;
    constexpr double kC6 = -1.13596475577881948265e-11;

    const double t = u * 4.0;
    const double q = round_nearest(t);
    const std::int64_t qi = round_to_int(t);
    const double f = t - q;
    const double x = f * kPiO2;

    const double z = x * x;
    const double v = z * x;
    const double rs = kS2 + z * (kS3 + z * (kS4 + z * (kS5 + z * kS6)));
    const double sx = x + v * (kS1 + z * rs);

    const double rc = z * (kC1 + z * (kC2 + z * (kC3 + z * (kC4 + z * (kC5 + z * kC6)))));
    // fdlibm's refinement for |x| >= 0.3: subtract qx ~ |x|/4 (few bits, so
    // 1 - qx is exact) from both 1 and z/2 before combining.
    const double ax = x < 0.0 ? -x : x;
    const double qx_big = from_bits((to_bits(ax) - (std::uint64_t{0x00200000} << 32)) & 0xFFFFFFFF00000000ull);
    double qx = ax > 0.78125 ? 0.28125 : qx_big;
    qx = ax < 0.3 ? 0.0 : qx;
    const double hz = 0.5 * z - qx;
    const double a = 1.0 - qx;
    const double cx = a - (hz - z * rc);

    const std::int64_t j = qi & 3;
    const bool swap = (j & 1) != 0;
    const double s0 = swap ? cx : sx;
    const double c0 = swap ? sx : cx;
    // j = 0: ( s,  c)   j = 1: ( c, -s)   j = 2: (-s, -c)   j = 3: (-c,  s)
    s = (j >= 2) ? -s0 : s0;
    c = (j == 1 || j == 2) ? -c0 : c0;
}

// 1 - exp(-x), accurate also for small |x| (hazard -> probability). For
// |x| < 1 the Taylor series x - x^2/2 + x^3/6 - ... truncated after x^19
// (truncation error < 1e-18 relative); else 1 - exp(-x), whose
// cancellation is benign there (exp(-x) <= 1/e).
//   one_minus_exp_neg(+inf) = 1, (-inf) = -inf, (NaN) = NaN.
inline double one_minus_exp_neg(double x) {
    // a_k = (-1)^(k+1) / k!, k = 1..19.
    constexpr double kA[19] = {
        1.0,
        -1.0 / 2.0,
        1.0 / 6.0,
        -1.0 / 24.0,
        1.0 / 120.0,
        -1.0 / 720.0,
        1.0 / 5040.0,
        -1.0 / 40320.0,
        1.0 / 362880.0,
        -1.0 / 3628800.0,
        1.0 / 39916800.0,
        -1.0 / 479001600.0,
        1.0 / 6227020800.0,
        -1.0 / 87178291200.0,
        1.0 / 1307674368000.0,
        -1.0 / 20922789888000.0,
        1.0 / 355687428096000.0,
        -1.0 / 6402373705728000.0,
        1.0 / 121645100408832000.0,
    };
    // x - (x^2/2 - x^3 p(x)), p(x) = a_3 + a_4 x + ... + a_19 x^16: the two
    // leading terms kept apart, which halves the rounding error near |x| = 1.
    // p by Estrin's scheme (pairs, then pairs of pairs with x^2, x^4, x^8,
    // x^16), whose dependency chain is 5 multiply-adds long where Horner's
    // is 16 (artel 0.4; the vector kernel evaluates the same tree).
    const double x2 = x * x;
    const double x4 = x2 * x2;
    const double x8 = x4 * x4;
    const double x16 = x8 * x8;
    double q[8];
    for (int j = 0; j < 8; ++j) q[j] = kA[2 * j + 2] + kA[2 * j + 3] * x;
    const double r0 = q[0] + q[1] * x2, r1 = q[2] + q[3] * x2, r2 = q[4] + q[5] * x2, r3 = q[6] + q[7] * x2;
    const double s0 = r0 + r1 * x4, s1 = r2 + r3 * x4;
    const double p = (s0 + s1 * x8) + kA[18] * x16;
    const double series = x - (0.5 * x2 - (x2 * x) * p);
    const double direct = 1.0 - dmath::exp(-x);
    const double ax = x < 0.0 ? -x : x;
    return ax < 1.0 ? series : direct;
}

}  // namespace artel::dmath
