// Accuracy and special values of the deterministic elementary functions
// (engine/math/detmath.hpp) against glibc's long double functions.
//
// Errors are in units of the last place (ulp) of the double nearest to the
// long double reference (64-bit mantissa, itself accurate to well under
// 2^-60 relative, so the measured errors are exact to ~0.001 ulp).
//
// Measured on x86-64 / glibc 2.36 / GCC 12 (the figures in detmath.hpp):
//   exp                 0.88 ulp (normal results); subnormal results within 0.75 x 2^-1074
//   log                 0.85 ulp
//   sincos_2pi          1.46e-16 absolute (relative, away from the zeros: 2.4 ulp)
//   one_minus_exp_neg   1.35 ulp (the maximum is at x = -1; x >= 0: 1.06 ulp)
// The bounds checked below are those of the brief (2 ulp) or slightly above
// the measured maximum; the measured maxima are shown (INFO) when a check fails.
#include <catch2/catch.hpp>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "test_inputs.hpp"
#include "engine/math/detmath.hpp"
#include "engine/math/fmath.hpp"

namespace dm = artel::dmath;

namespace {

using artel::test::splitmix64;
// Uniform double in [lo, hi).
double uniform(std::uint64_t& state, double lo, double hi) {
    return lo + (hi - lo) * (static_cast<double>(splitmix64(state) >> 11) * 0x1p-53);
}

// One ulp of the double nearest to the (finite) long double r.
long double ulp_of(long double r) {
    const double d = static_cast<double>(r);
    const double a = std::fabs(d);
    if (a < std::numeric_limits<double>::min()) return std::ldexp(1.0L, -1074);
    int e = 0;
    std::frexp(a, &e);  // a = m 2^e, m in [0.5, 1)
    return std::ldexp(1.0L, e - 53);
}
double ulp_error(double got, long double ref) {
    return static_cast<double>(std::fabs(static_cast<long double>(got) - ref) / ulp_of(ref));
}

struct MaxErr {
    double err = 0.0;
    double at = 0.0;
    void add(double e, double x) {
        if (e > err || std::isnan(e)) {
            err = std::isnan(e) ? std::numeric_limits<double>::infinity() : e;
            at = x;
        }
    }
};

bool same_bits(double a, double b) {
    std::uint64_t x, y;
    std::memcpy(&x, &a, 8);
    std::memcpy(&y, &b, 8);
    return x == y;
}

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kDenormMin = std::numeric_limits<double>::denorm_min();

}  // namespace

TEST_CASE("dmath::exp is within 2 ulp over its whole domain", "[detmath]") {
    MaxErr normal, sub;
    auto check = [&](double x) {
        if (!(x >= -745.13 && x <= 709.78)) return;  // outside the domain: see the special values
        const double got = dm::exp(x);
        const long double ref = std::exp(static_cast<long double>(x));
        if (ref >= static_cast<long double>(std::numeric_limits<double>::min()))
            normal.add(ulp_error(got, ref), x);
        else
            sub.add(ulp_error(got, ref), x);  // in units of 2^-1074
    };
    // Dense grid over [-745, 709.78] (1.5e6 points) and a fine grid near 0.
    const int n = 1500000;
    for (int i = 0; i <= n; ++i) check(-745.0 + (709.78 + 745.0) * i / n);
    for (int i = -200000; i <= 200000; ++i) check(i * 1e-6);
    // Random arguments: uniform on the domain, and log-uniform magnitudes.
    std::uint64_t st = 1;
    for (int i = 0; i < 1000000; ++i) check(uniform(st, -745.13, 709.78));
    for (int i = 0; i < 500000; ++i) {
        const double m = std::ldexp(1.0, static_cast<int>(splitmix64(st) % 1100) - 1090) * uniform(st, 1.0, 2.0);
        check((splitmix64(st) & 1) ? m : -m);
    }
    // Near the overflow and underflow thresholds.
    for (int i = 0; i < 1000; ++i) check(709.78271289338397 - i * 1e-6);
    for (int i = 0; i < 1000; ++i) check(-745.13321910194111 + i * 1e-4);
    for (int i = 0; i < 2000; ++i) check(-708.3964185322641 + (i - 1000) * 1e-5);  // normal/subnormal edge
    INFO("exp: max " << normal.err << " ulp at x = " << normal.at << "; subnormal results: max " << sub.err
                     << " x 2^-1074 at x = " << sub.at);
    CHECK(normal.err <= 1.0);  // measured 0.88; the brief asks for 2
    CHECK(sub.err <= 1.0);     // a subnormal result is off by at most one unit of 2^-1074
}

TEST_CASE("dmath::exp special values", "[detmath]") {
    CHECK(same_bits(dm::exp(0.0), 1.0));
    CHECK(same_bits(dm::exp(-0.0), 1.0));
    CHECK(dm::exp(kDenormMin) == 1.0);
    CHECK(dm::exp(-kDenormMin) == 1.0);
    CHECK(dm::exp(1e-300) == 1.0);
    CHECK(dm::exp(1.0) == Approx(2.718281828459045).epsilon(3e-16));
    CHECK(std::isinf(dm::exp(kInf)));
    CHECK(dm::exp(kInf) > 0);
    CHECK(same_bits(dm::exp(-kInf), 0.0));
    CHECK(std::isnan(dm::exp(kNaN)));
    CHECK(std::isnan(dm::exp(-kNaN)));
    // Overflow threshold: exp(709.782712893384) = 1.7976931348622e308 is finite.
    CHECK(std::isfinite(dm::exp(709.782712893383973096)));
    CHECK(dm::exp(709.782712893383973096) > 1.79e308);
    CHECK(std::isinf(dm::exp(709.7827128933841)));
    CHECK(std::isinf(dm::exp(710.0)));
    CHECK(std::isinf(dm::exp(1e300)));
    CHECK(std::isinf(dm::exp(std::numeric_limits<double>::max())));
    // Underflow: subnormal results down to 2^-1074, then 0.
    CHECK(dm::exp(-745.0) == kDenormMin);
    CHECK(dm::exp(-745.13) == kDenormMin);
    CHECK(same_bits(dm::exp(-745.14), 0.0));
    CHECK(same_bits(dm::exp(-746.0), 0.0));
    CHECK(same_bits(dm::exp(-1e300), 0.0));
    CHECK(same_bits(dm::exp(-std::numeric_limits<double>::max()), 0.0));
    CHECK(dm::exp(-740.0) > 0.0);
    CHECK(dm::exp(-740.0) < std::numeric_limits<double>::min());
    // Exact powers of two where the reduction is exact: exp(k ln2) ~ 2^k.
    for (int k = -1000; k <= 1000; k += 50) {
        const double x = k * 0.6931471805599453;
        CHECK(ulp_error(dm::exp(x), std::exp(static_cast<long double>(x))) <= 1.0);
    }
}

TEST_CASE("dmath::log is within 2 ulp for all positive x", "[detmath]") {
    MaxErr e;
    auto check = [&](double x) {
        const double got = dm::log(x);
        const long double ref = std::log(static_cast<long double>(x));
        if (ref == 0.0L) {
            e.add(got == 0.0 ? 0.0 : kInf, x);
            return;
        }
        e.add(ulp_error(got, ref), x);
    };
    // Random bit patterns over every positive finite double (normal and subnormal).
    std::uint64_t st = 7;
    for (int i = 0; i < 1500000; ++i) {
        const std::uint64_t bits = splitmix64(st) % 0x7FF0000000000000ull;
        double x;
        std::memcpy(&x, &bits, 8);
        if (x > 0.0) check(x);
    }
    // Dense grids on [0.5, 2] and near 1, where log is small and cancellation bites.
    const int n = 1000000;
    for (int i = 0; i <= n; ++i) check(0.5 + 1.5 * i / n);
    for (int i = -100000; i <= 100000; ++i) check(1.0 + i * 1e-9);
    for (int i = -1000; i <= 1000; ++i) check(1.0 + i * 0x1p-52);
    // The mantissa-split boundary at sqrt(2).
    for (int i = -1000; i <= 1000; ++i) check(1.4142135623730951 + i * 0x1p-52);
    // Uniform01-like arguments (Box-Muller): (w + 0.5) 2^-32.
    for (int i = 0; i < 200000; ++i) check((static_cast<double>(splitmix64(st) >> 32) + 0.5) * 0x1p-32);
    INFO("log: max " << e.err << " ulp at x = " << e.at);
    CHECK(e.err <= 1.0);  // measured 0.85; the brief asks for 2
}

TEST_CASE("dmath::log special values", "[detmath]") {
    CHECK(same_bits(dm::log(1.0), 0.0));
    CHECK(dm::log(0.0) == -kInf);
    CHECK(dm::log(-0.0) == -kInf);
    CHECK(std::isnan(dm::log(-1.0)));
    CHECK(std::isnan(dm::log(-kDenormMin)));
    CHECK(std::isnan(dm::log(-kInf)));
    CHECK(dm::log(kInf) == kInf);
    CHECK(std::isnan(dm::log(kNaN)));
    CHECK(dm::log(2.0) == 0.6931471805599453);
    CHECK(dm::log(kDenormMin) == Approx(-744.4400719213812).epsilon(3e-16));
    CHECK(dm::log(std::numeric_limits<double>::min()) == Approx(-708.3964185322641).epsilon(3e-16));
    CHECK(dm::log(std::numeric_limits<double>::max()) == Approx(709.782712893384).epsilon(3e-16));
    for (int k = -1074; k <= 1023; ++k) {
        const double x = std::ldexp(1.0, k);
        INFO("x = 2^" << k);
        CHECK(ulp_error(dm::log(x), std::log(static_cast<long double>(x))) <= 1.0);
    }
}

TEST_CASE("dmath::log and dmath::exp round-trip", "[detmath]") {
    std::uint64_t st = 11;
    MaxErr e;
    for (int i = 0; i < 200000; ++i) {
        const double x = uniform(st, -700.0, 700.0);
        // log(exp(x)) differs from x by the rounding of exp (relative 2^-53) -> absolute ~1.1e-16.
        e.add(std::fabs(dm::log(dm::exp(x)) - x) / std::max(1.0, std::fabs(x)), x);
    }
    CHECK(e.err < 4e-16);
}

TEST_CASE("dmath::sincos_2pi is accurate on [0, 1]", "[detmath]") {
    const long double two_pi = 6.283185307179586476925286766559L;
    double max_abs_s = 0, max_abs_c = 0;
    MaxErr rel_s, rel_c;
    auto check = [&](double u) {
        double s, c;
        dm::sincos_2pi(u, s, c);
        const long double a = two_pi * static_cast<long double>(u);
        const long double rs = std::sin(a), rc = std::cos(a);
        max_abs_s = std::max(max_abs_s, static_cast<double>(std::fabs(s - rs)));
        max_abs_c = std::max(max_abs_c, static_cast<double>(std::fabs(c - rc)));
        // Relative error where the value is not tiny (away from the zeros at
        // multiples of 1/4, where only absolute error is meaningful).
        if (std::fabs(rs) > 1e-3L) rel_s.add(ulp_error(s, rs), u);
        if (std::fabs(rc) > 1e-3L) rel_c.add(ulp_error(c, rc), u);
    };
    const int n = 2000000;
    for (int i = 0; i <= n; ++i) check(static_cast<double>(i) / n);
    std::uint64_t st = 3;
    for (int i = 0; i < 1000000; ++i) check(uniform(st, 0.0, 1.0));
    for (int i = 0; i < 200000; ++i) check((static_cast<double>(splitmix64(st) >> 32) + 0.5) * 0x1p-32);
    // Near the quadrant/octant boundaries.
    for (int q = 0; q <= 8; ++q)
        for (int i = -500; i <= 500; ++i) check(std::max(0.0, std::min(1.0, q / 8.0 + i * 1e-12)));
    INFO("sincos_2pi: max abs error sin " << max_abs_s << ", cos " << max_abs_c << "; max rel (|v|>1e-3) sin "
                                          << rel_s.err << " ulp at " << rel_s.at << ", cos " << rel_c.err
                                          << " ulp at " << rel_c.at);
    CHECK(max_abs_s <= 2.5e-16);
    CHECK(max_abs_c <= 2.5e-16);
    // Relative error near the zeros is limited by the rounding of x = f pi/2
    // (the brief asks for absolute accuracy only); measured 1.9 / 2.3 ulp.
    CHECK(rel_s.err <= 3.0);
    CHECK(rel_c.err <= 3.0);
}

TEST_CASE("dmath::sincos_2pi exact points and small arguments", "[detmath]") {
    double s, c;
    dm::sincos_2pi(0.0, s, c);
    CHECK(s == 0.0);
    CHECK(c == 1.0);
    dm::sincos_2pi(0.25, s, c);
    CHECK(s == 1.0);
    CHECK(c == 0.0);
    dm::sincos_2pi(0.5, s, c);
    CHECK(s == 0.0);
    CHECK(c == -1.0);
    dm::sincos_2pi(0.75, s, c);
    CHECK(s == -1.0);
    CHECK(c == 0.0);
    dm::sincos_2pi(1.0, s, c);
    CHECK(s == 0.0);
    CHECK(c == 1.0);
    // Tiny u: sin(2 pi u) = 2 pi u to full relative precision.
    for (double u : {1e-300, 1e-20, 0x1p-33, 1e-9}) {
        dm::sincos_2pi(u, s, c);
        const long double ref = std::sin(6.283185307179586476925286766559L * u);
        CHECK(ulp_error(s, ref) <= 1.0);
        CHECK(c == 1.0);
    }
    // s^2 + c^2 = 1 to rounding.
    std::uint64_t st = 5;
    for (int i = 0; i < 10000; ++i) {
        dm::sincos_2pi(uniform(st, 0.0, 1.0), s, c);
        CHECK(std::fabs(s * s + c * c - 1.0) < 5e-16);
    }
}

TEST_CASE("dmath::one_minus_exp_neg is accurate for small and large x", "[detmath]") {
    MaxErr e;
    auto check = [&](double x) {
        const double got = dm::one_minus_exp_neg(x);
        const long double ref = -std::expm1(-static_cast<long double>(x));
        if (ref == 0.0L) {
            e.add(got == 0.0 ? 0.0 : kInf, x);
            return;
        }
        e.add(ulp_error(got, ref), x);
    };
    const int n = 1000000;
    for (int i = 0; i <= n; ++i) check(-1.0 + 3.0 * i / n);  // [-1, 2], across the switch at |x| = 1
    for (int i = 0; i <= 200000; ++i) check(745.0 * i / 200000);
    std::uint64_t st = 9;
    for (int i = 0; i < 500000; ++i) {
        // Log-uniform hazards from 1e-300 to 1e2.
        const double m = std::pow(10.0, uniform(st, -300.0, 2.0));
        check(m);
    }
    for (int i = 0; i < 100000; ++i) check(-uniform(st, 0.0, 700.0));
    for (int i = -1000; i <= 1000; ++i) check(1.0 + i * 0x1p-52);
    INFO("one_minus_exp_neg: max " << e.err << " ulp at x = " << e.at);
    CHECK(e.err <= 1.5);  // measured 1.35
}

TEST_CASE("dmath::one_minus_exp_neg special values", "[detmath]") {
    CHECK(same_bits(dm::one_minus_exp_neg(0.0), 0.0));
    CHECK(dm::one_minus_exp_neg(kDenormMin) == kDenormMin);
    CHECK(dm::one_minus_exp_neg(1e-300) == 1e-300);
    CHECK(dm::one_minus_exp_neg(kInf) == 1.0);
    CHECK(dm::one_minus_exp_neg(800.0) == 1.0);
    CHECK(dm::one_minus_exp_neg(-kInf) == -kInf);
    CHECK(std::isnan(dm::one_minus_exp_neg(kNaN)));
    CHECK(dm::one_minus_exp_neg(40.0) == 1.0);
}

// Golden checksum: a hash of the bits of every function on a fixed grid. It
// pins the exact results (any platform, compiler or SIMD port must reproduce
// it); if an intentional change to detmath.hpp alters it, update the constant.
TEST_CASE("dmath results are bit-stable (golden checksum)", "[detmath]") {
    std::uint64_t h = 0xcbf29ce484222325ull;
    auto mix = [&](double v) {
        std::uint64_t b;
        std::memcpy(&b, &v, 8);
        h ^= b;
        h *= 0x100000001b3ull;
    };
    for (int i = 0; i <= 20000; ++i) {
        const double t = static_cast<double>(i) / 20000;
        mix(dm::exp(-745.0 + 1455.0 * t));
        mix(dm::log(std::ldexp(0.5 + t, (i % 2100) - 1074)));
        double s, c;
        dm::sincos_2pi(t, s, c);
        mix(s);
        mix(c);
        mix(dm::one_minus_exp_neg(-1.0 + 5.0 * t));
    }
    INFO("detmath golden checksum 0x" << std::hex << h);
    CHECK(h == 0xc98be01a436b5499ull);
}

// ---- fmath (engine/math/fmath.hpp): the household weather's normal --------
//
// Exhaustive over every input the weather draw can give: u0 = k·2^-24,
// k = 1 … 2^24, and u1 = k·2^-24, k = 0 … 2^24 − 1. Errors are absolute,
// against the long double functions. Measured (x86-64, glibc 2.36, GCC 12):
//   log_pos   max 0.83 ulp of float (relative to log u; 4.9e-7 absolute at
//             u = 3.2e-4, where log u = -8.04)
//   cos_2pi   max abs. error 9.1e-8 (1.5 float ulp at 1)
//   normal_z0 max abs. error 6.1e-7 against the exact Box–Muller of the same
//             u0, u1, over 2^22 random word pairs (max |z| met: 5.24)
// The checks below allow a little above these.
TEST_CASE("fmath::log_pos and cos_2pi are accurate on the weather draw's inputs", "[detmath]") {
    namespace fm = artel::fmath;
    double log_abs = 0.0, log_rel = 0.0, cos_abs = 0.0;
    float log_at = 0, cos_at = 0;
    for (std::uint32_t k = 1; k <= (1u << 24); ++k) {
        const float u = static_cast<float>(k) * 0x1p-24f;
        const long double ref = std::log(static_cast<long double>(u));
        const double e = static_cast<double>(std::fabs(static_cast<long double>(fm::log_pos(u)) - ref));
        if (e > log_abs) log_abs = e, log_at = u;
        // relative to one float ulp of the result (where it is not 0)
        if (ref != 0.0L) {
            int ex = 0;
            std::frexp(static_cast<double>(std::fabs(ref)), &ex);
            const double rel = e / std::ldexp(1.0, ex - 24);
            log_rel = std::max(log_rel, rel);
        }
    }
    const long double two_pi = 6.283185307179586476925286766559L;
    for (std::uint32_t k = 0; k < (1u << 24); ++k) {
        const float u = static_cast<float>(k) * 0x1p-24f;
        const long double ref = std::cos(two_pi * static_cast<long double>(u));
        const double e = static_cast<double>(std::fabs(static_cast<long double>(fm::cos_2pi(u)) - ref));
        if (e > cos_abs) cos_abs = e, cos_at = u;
    }
    INFO("log_pos: max abs " << log_abs << " at " << log_at << ", max " << log_rel << " float ulp; cos_2pi: max abs "
                             << cos_abs << " at " << cos_at);
    CHECK(log_rel < 1.0);
    CHECK(cos_abs < 1.2e-7);
    CHECK(fm::log_pos(1.0f) == 0.0f);
    CHECK(fm::cos_2pi(0.0f) == 1.0f);
    CHECK(fm::cos_2pi(0.5f) == -1.0f);
}

TEST_CASE("fmath::normal_z0 is Box-Muller on 24-bit uniforms", "[detmath]") {
    namespace fm = artel::fmath;
    std::uint64_t state = 20261129;
    double max_err = 0.0, max_z = 0.0;
    const long double two_pi = 6.283185307179586476925286766559L;
    for (int i = 0; i < (1 << 22); ++i) {
        const auto r = splitmix64(state);
        const auto w0 = static_cast<std::uint32_t>(r >> 32), w1 = static_cast<std::uint32_t>(r);
        const long double u0 = (static_cast<long double>(w0 >> 8) + 1.0L) * 0x1p-24L;
        const long double u1 = static_cast<long double>(w1 >> 8) * 0x1p-24L;
        const long double ref = std::sqrt(-2.0L * std::log(u0)) * std::cos(two_pi * u1);
        const double z = fm::normal_z0(w0, w1);
        max_err = std::max(max_err, static_cast<double>(std::fabs(static_cast<long double>(z) - ref)));
        max_z = std::max(max_z, std::fabs(z));
    }
    INFO("normal_z0: max abs error " << max_err << ", max |z| " << max_z);
    CHECK(max_err < 8e-7);
    // the extremes: u0 = 2^-24 gives |z| = sqrt(48 ln 2) times |cos|; u0 = 1 gives 0
    CHECK(std::fabs(fm::normal_z0(0u, 0u) - std::sqrt(48.0 * std::log(2.0))) < 1e-6);
    CHECK(fm::normal_z0(0xFFFFFFFFu, 0u) == 0.0f);
    // moments of z over the same words: mean 0, variance 1 within 5 standard errors
    state = 7;
    double s1 = 0.0, s2 = 0.0;
    const int n = 1 << 22;
    for (int i = 0; i < n; ++i) {
        const auto r = splitmix64(state);
        const double z = fm::normal_z0(static_cast<std::uint32_t>(r >> 32), static_cast<std::uint32_t>(r));
        s1 += z;
        s2 += z * z;
    }
    const double mean = s1 / n, var = s2 / n - mean * mean;
    CHECK(std::fabs(mean) < 5.0 / std::sqrt(n));                 // se of the mean: 1/sqrt(n)
    CHECK(std::fabs(var - 1.0) < 5.0 * std::sqrt(2.0 / n));      // se of the variance: sqrt(2/n)
}

// exp_small on a grid of 2^22 + 1 points of [−87, 87] and every float of
// [−1/2, 1/2] with a step of 2^-20. Measured: max 0.97 ulp of float.
TEST_CASE("fmath::exp_small is within 1 ulp of float on [-87, 87]", "[detmath]") {
    namespace fm = artel::fmath;
    double worst = 0.0;
    float at = 0;
    auto check = [&](float x) {
        const long double ref = std::exp(static_cast<long double>(x));
        int ex = 0;
        std::frexp(static_cast<double>(ref), &ex);
        const double e =
            static_cast<double>(std::fabs(static_cast<long double>(fm::exp_small(x)) - ref)) / std::ldexp(1.0, ex - 24);
        if (e > worst) worst = e, at = x;
    };
    for (int i = 0; i <= (1 << 22); ++i) check(-87.0f + 174.0f * (static_cast<float>(i) * 0x1p-22f));
    for (int i = -(1 << 19); i <= (1 << 19); ++i) check(static_cast<float>(i) * 0x1p-20f);
    INFO("exp_small: max " << worst << " float ulp at " << at);
    CHECK(worst < 1.0);
    CHECK(fm::exp_small(0.0f) == 1.0f);
}

// fmath::one_minus_exp_neg, the kernel's screen for the activation draw
// (kernels/simd/step_simd.cpp), against the exact double value the scalar
// reference compares with (dmath::one_minus_exp_neg of the same float, 0 at
// and below 0): within 2^-22 on a grid of 2^22 + 1 points of [−1, 100] and
// every float of [2^-30, 1] with a step of 2^-20 relative. The kernel's
// margin, 2^-16, relies on this bound. Measured: max 4.8e-8 (2^-24.3).
TEST_CASE("fmath::one_minus_exp_neg is within 2^-22 of the exact hazard", "[detmath]") {
    namespace fm = artel::fmath;
    double worst = 0.0;
    float at = 0;
    auto check = [&](float x) {
        const double exact = x > 0.0f ? dm::one_minus_exp_neg(static_cast<double>(x)) : 0.0;
        const double e = std::fabs(static_cast<double>(fm::one_minus_exp_neg(x)) - std::min(exact, 1.0));
        if (e > worst) worst = e, at = x;
    };
    for (int i = 0; i <= (1 << 22); ++i) check(-1.0f + 101.0f * (static_cast<float>(i) * 0x1p-22f));
    for (float x = 0x1p-30f; x <= 1.0f; x = std::nextafter(x * (1.0f + 0x1p-20f), 2.0f)) check(x);
    for (const float x : {0.0f, -0.0f, 80.0f, 87.0f, 1e30f, std::numeric_limits<float>::infinity()}) check(x);
    INFO("one_minus_exp_neg (float): max abs. error " << worst << " at " << at);
    CHECK(worst <= 0x1p-22);
    CHECK(fm::one_minus_exp_neg(std::numeric_limits<float>::quiet_NaN()) == 0.0f);
    CHECK(fm::one_minus_exp_neg(-3.0f) == 0.0f);
    CHECK(fm::one_minus_exp_neg(200.0f) == 1.0f);
}

// The fmath golden checksum, as for dmath above.
TEST_CASE("fmath results are bit-stable (golden checksum)", "[detmath]") {
    namespace fm = artel::fmath;
    std::uint64_t h = 0xcbf29ce484222325ull;
    auto mix = [&](float v) {
        h ^= std::bit_cast<std::uint32_t>(v);
        h *= 0x100000001b3ull;
    };
    std::uint64_t state = 1923;
    for (int i = 0; i < 20000; ++i) {
        const auto r = splitmix64(state);
        mix(fm::normal_z0(static_cast<std::uint32_t>(r >> 32), static_cast<std::uint32_t>(r)));
        const float u = static_cast<float>(i + 1) / 20000.0f;
        mix(fm::log_pos(u));
        mix(fm::cos_2pi(u));
        mix(fm::exp_small(-87.0f + 174.0f * u));
        mix(fm::weather_multiplier(static_cast<std::uint32_t>(r), static_cast<std::uint32_t>(r >> 32), 0.15f,
                                   0.01125f));
    }
    INFO("fmath golden checksum 0x" << std::hex << h);
    CHECK(h == 0x9c085404d4774da4ull);
}
