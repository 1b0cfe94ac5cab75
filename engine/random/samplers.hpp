// Platform-independent samplers on top of named streams (streams.hpp).
//
// Every sampler is a fixed sequence of IEEE double operations (no FMA, no
// libm, no std:: distributions) on 32-bit words of a Stream, so its result is
// a pure function of the words and the parameters, identical on every
// platform and reproducible lane by lane by a vectorised kernel. Transcendental
// functions come from artel::dmath (engine/math/detmath.hpp).
//
// Word consumption (part of the reproducibility contract; changing it changes
// every result):
//   uniform01, bernoulli   one word (passed in)
//   normal_pair            two words (passed in): w0 -> radius, w1 -> angle
//   poisson_inversion      one word (passed in)
//   binomial_bernoulli     exactly n words: first, first + 1, ..., first + n - 1
//   gamma_mt               4 words per Marsaglia-Tsang attempt, starting at
//                          `next`: words (next, next+1) -> normal_pair (z0 is
//                          used), next+2 -> acceptance uniform, next+3 -> the
//                          U of the shape < 1 boost (drawn in every attempt,
//                          used only for shape < 1). `next` advances by 4 per
//                          attempt, so attempts that start at a multiple of 4
//                          are one Philox block each.
//   beta                   gamma_mt(a) from word 0, then gamma_mt(b) from where
//                          the first one stopped.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "engine/math/detmath.hpp"
#include "engine/random/streams.hpp"

namespace artel::rng {

// (w + 0.5) * 2^-32: a double strictly inside (0, 1). Both operations are
// exact (w + 0.5 needs 33 bits), so this is the exact midpoint of the w-th of
// 2^32 equal cells of [0, 1); values range from 2^-33 to 1 - 2^-33.
constexpr double uniform01(std::uint32_t w) { return (static_cast<double>(w) + 0.5) * 0x1p-32; }

// true with probability p (p <= 0 never, p >= 1 always; NaN never).
constexpr bool bernoulli(std::uint32_t w, double p) { return uniform01(w) < p; }

struct NormalPair {
    double z0, z1;
};

// Box-Muller: r = sqrt(-2 log u0), z0 = r cos(2 pi u1), z1 = r sin(2 pi u1),
// u0 = uniform01(w0), u1 = uniform01(w1). Since u0 >= 2^-33, |z| <= 6.66.
inline NormalPair normal_pair(std::uint32_t w0, std::uint32_t w1) {
    NormalPair z;
    dmath::lane::BoxMuller(dmath::lane::Double{}, uniform01(w0), uniform01(w1), z.z0, z.z1);
    return z;
}

// Poisson(mean) by inversion of u = uniform01(w): the smallest k with
// u <= F(k), where p(0) = dmath::exp(-mean), p(k) = (p(k-1) * mean) / k and
// F(k) = F(k-1) + p(k), accumulated in this order. The search stops at `cap`
// (returns cap if u > F(cap - 1)), so at most `cap` terms are evaluated.
// Intended for mean in [0, 50] (exp(-mean) must not underflow; with
// mean <= 50 the accumulated rounding of F is < 1e-13, far below the
// uniform's resolution 2^-32). cap <= 0 returns 0.
inline int poisson_inversion(double mean, std::uint32_t w, int cap) {
    const double u = uniform01(w);
    double p = dmath::exp(-mean);
    double F = p;
    int k = 0;
    while (k < cap && u > F) {
        ++k;
        p = (p * mean) / static_cast<double>(k);
        F = F + p;
    }
    return k;
}

namespace sampler_detail {
// The four words next, next+1, next+2, next+3 of s (one Philox block when
// next is a multiple of 4; word indices wrap modulo 2^32).
inline Block words4(const Stream& s, std::uint32_t next) {
    if ((next & 3u) == 0) return s.block(next >> 2);
    return {s.word(next), s.word(next + 1), s.word(next + 2), s.word(next + 3)};
}
}  // namespace sampler_detail

// Binomial(n, p) for 0 <= n <= 64 as the number of i in [0, n) with
// bernoulli(s.word(first + i), p). Uses exactly n words, whatever p is.
// Throws std::invalid_argument for n outside [0, 64].
inline int binomial_bernoulli(int n, double p, const Stream& s, std::uint32_t first) {
    if (n < 0 || n > 64)
        throw std::invalid_argument("binomial_bernoulli: n = " + std::to_string(n) + " outside [0, 64]");
    int count = 0;
    std::uint32_t idx = first;
    Block blk{};
    std::uint32_t blk_no = 0;
    bool have = false;
    for (int i = 0; i < n; ++i, ++idx) {
        const std::uint32_t b = idx >> 2;
        if (!have || b != blk_no) {
            blk = s.block(b);
            blk_no = b;
            have = true;
        }
        count += bernoulli(blk[idx & 3u], p) ? 1 : 0;
    }
    return count;
}

// Gamma(shape, 1) by Marsaglia & Tsang (2000), "A simple method for
// generating gamma variables", ACM TOMS 26(3):
//   d = a - 1/3, c = 1 / sqrt(9 d); repeat: z normal, v = (1 + c z)^3,
//   accept if v > 0 and (u < 1 - 0.0331 z^4 or log u < z^2/2 + d (1 - v + log v)),
//   return d v.
// For shape < 1: Gamma(shape + 1) * U^(1/shape), U^(1/shape) computed as
// dmath::exp(dmath::log(U) / shape). Since U >= 2^-33, log U >= -22.9, so
// this cannot underflow to 0 for shape >= 0.031; for smaller shapes a 0 result
// is possible (the true value is then below 2^-1074 too).
// Consumption: 4 words per attempt from `next` (see the header comment);
// `next` is advanced past the words used. Throws std::invalid_argument if
// shape is not a positive finite number, std::runtime_error after 1000
// rejected attempts (acceptance probability is >= 0.95 per attempt for every
// shape, so this never happens in practice).
inline double gamma_mt(double shape, const Stream& s, std::uint32_t& next) {
    if (!(shape > 0.0) || !(shape < std::numeric_limits<double>::infinity()))
        throw std::invalid_argument("gamma_mt: shape must be positive and finite");
    const bool boost = shape < 1.0;
    const double a = boost ? shape + 1.0 : shape;
    const double d = a - 1.0 / 3.0;
    const double c = 1.0 / std::sqrt(9.0 * d);
    constexpr int kMaxAttempts = 1000;
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        const Block w = sampler_detail::words4(s, next);
        next += 4;
        const double z = normal_pair(w[0], w[1]).z0;
        const double u = uniform01(w[2]);
        const double t = 1.0 + c * z;
        const double v = t * t * t;
        const double z2 = z * z;
        // v <= 0 is rejected; the log test is evaluated with a safe argument
        // so that all branches can be computed unconditionally (SIMD).
        const bool positive = t > 0.0;
        const bool squeeze = u < 1.0 - 0.0331 * (z2 * z2);
        const double logv = dmath::log(positive ? v : 1.0);
        const bool full = dmath::log(u) < 0.5 * z2 + d * (1.0 - v + logv);
        if (positive && (squeeze || full)) {
            double x = d * v;
            if (boost) x = x * dmath::exp(dmath::log(uniform01(w[3])) / shape);
            return x;
        }
    }
    throw std::runtime_error("gamma_mt: no acceptance after 1000 attempts (shape = " + std::to_string(shape) +
                             ")");
}

// Beta(a, b) = X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b), X drawn first from
// word 0 of s, Y from where X stopped. (For a, b >= 0.031 neither gamma can be
// 0, see gamma_mt; below that, X = Y = 0 would give NaN.)
inline double beta(double a, double b, const Stream& s) {
    std::uint32_t next = 0;
    const double x = gamma_mt(a, s, next);
    const double y = gamma_mt(b, s, next);
    return x / (x + y);
}

}  // namespace artel::rng
