// One lane of the arithmetic in which the deterministic functions are written
// (engine/math/detmath_text.inc, engine/math/fmath_text.inc): plain IEEE
// double and float, their same-width integers, and bool as the mask. The
// vector kernel supplies the same operations on K Highway vectors
// (kernels/simd/detmath-inl.h), so that the scalar functions and the vector
// kernel run one text.
//
// A descriptor names the types of one lane (as a Highway tag does for a
// vector): F floating, I and U the signed and unsigned integers of F's width.
// + - * / and comparisons are C++'s own operators on them.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace artel::dmath::lane {

struct Double {
    using F = double;
    using I = std::int64_t;
    using U = std::uint64_t;
};
struct Float {
    using F = float;
    using I = std::int32_t;
    using U = std::uint32_t;
};

// m ? a : b (the vector kernel's blend)
template <class T>
inline T Select(bool m, T a, T b) {
    return m ? a : b;
}
inline bool Or(bool a, bool b) { return a || b; }
inline bool AllTrue(bool m) { return m; }

// Bit casts between a floating lane and its integers.
inline double AsF(std::uint64_t b) { return std::bit_cast<double>(b); }
inline double AsF(std::int64_t b) { return std::bit_cast<double>(b); }
inline float AsF(std::uint32_t b) { return std::bit_cast<float>(b); }
inline float AsF(std::int32_t b) { return std::bit_cast<float>(b); }
inline std::uint64_t AsU(double x) { return std::bit_cast<std::uint64_t>(x); }
inline std::uint64_t AsU(std::int64_t x) { return static_cast<std::uint64_t>(x); }
inline std::uint32_t AsU(float x) { return std::bit_cast<std::uint32_t>(x); }
inline std::uint32_t AsU(std::int32_t x) { return static_cast<std::uint32_t>(x); }
inline std::int64_t AsI(double x) { return std::bit_cast<std::int64_t>(x); }
inline std::int64_t AsI(std::uint64_t x) { return static_cast<std::int64_t>(x); }
inline std::int32_t AsI(float x) { return std::bit_cast<std::int32_t>(x); }
inline std::int32_t AsI(std::uint32_t x) { return static_cast<std::int32_t>(x); }

// An integer as floating point; the text converts only integers that the
// floating type holds exactly (the vector kernel's conversion of 64-bit
// lanes is exact only for |v| < 2^51).
inline double ToF(std::int64_t v) { return static_cast<double>(v); }
inline float ToF(std::int32_t v) { return static_cast<float>(v); }

// Shifts by a constant: logical on U, arithmetic (floor division by 2^n) on I.
template <int n, class T>
inline T ShiftLeft(T x) {
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(x) << n);
}
template <int n, class T>
inline T ShiftRight(T x) {
    return x >> n;
}

// IEEE square root, correctly rounded.
inline double Sqrt(double x) { return std::sqrt(x); }
inline float Sqrt(float x) { return std::sqrt(x); }

}  // namespace artel::dmath::lane
