// Binomial(n, p) for a fixed p and small n (0 ≤ n ≤ 16) by inversion of one
// 32-bit word: one word per draw whatever n is, where summing Bernoulli
// trials needs n words (and, in a vector kernel, as many as the largest n
// among the lanes).
//
// Definition (the scalar reference, sample()): with u = uniform01(w),
//   X = min{ k ≥ 0 : u < F_n(k) },
// where F_n(k) = Σ_{j≤k} C(n, j) p^j (1 − p)^(n−j), accumulated in double
// from k = 0 upwards with the binomial coefficients exact and the powers by
// repeated multiplication (only IEEE +, ×, so every platform gets the same
// bits), clipped to 1, and F_n(k) = 1 exactly for k ≥ n (so X ≤ n). Hence
// P(X = k) = P(F_n(k−1) ≤ u < F_n(k)) differs from the binomial probability
// by at most the rounding of F (~1e-16) plus the resolution of u (2^-32), the
// same resolution as a Bernoulli draw u < p.
//
// The vector kernels compare words instead of doubles: u < F ⇔ w < T(F) with
// T = bernoulli_threshold (threshold.hpp, exact), so
//   X = #{ k : w ≥ thresholds()[n·kStride + k] },
// and since T_n(k) is non-decreasing in k the count may stop at the first k
// where no lane is at or above its threshold.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "engine/random/samplers.hpp"
#include "engine/random/threshold.hpp"

namespace artel::rng {

class BinomialTable {
public:
    static constexpr int kMaxTrials = 16;
    static constexpr int kStride = kMaxTrials + 1;  // k = 0 … 16 per row n

    BinomialTable() { build(0.0); }
    explicit BinomialTable(double p) { build(p); }

    // Rebuilds the table for p (p ≤ 0 or NaN: never; p ≥ 1: always), unless it
    // already holds p.
    void set(double p) {
        if (!(p == p_)) build(p);
    }
    double p() const { return p_; }

    // X ~ Binomial(n, p) from the word w; n in [0, kMaxTrials] (else throws
    // std::out_of_range: the vector kernels, which do not check, are tested
    // against this one).
    int sample(std::uint32_t w, int n) const {
        if (n < 0 || n > kMaxTrials)
            throw std::out_of_range("BinomialTable::sample: n = " + std::to_string(n) + " outside [0, 16]");
        const double u = uniform01(w);
        const double* F = cdf_.data() + n * kStride;
        int k = 0;
        while (u >= F[k]) ++k;  // F[n] = 1 > u: stops at k ≤ n
        return k;
    }
    // F_n(k), k = 0 … kMaxTrials.
    const double* cdf(int n) const { return cdf_.data() + n * kStride; }
    // bernoulli_threshold(F_n(k)) at [n·kStride + k], as 64-bit integers
    // (2^32 where F = 1) for 64-bit vector lanes and gathers.
    const std::int64_t* thresholds() const { return thr_.data(); }

private:
    void build(double p) {
        p_ = p;
        const bool never = !(p > 0.0), always = p >= 1.0;
        const double q = 1.0 - p;
        // powers p^j, q^j and Pascal's triangle (exact in double for n ≤ 16)
        std::array<double, kStride> pp{}, qq{};
        pp[0] = qq[0] = 1.0;
        for (int j = 1; j < kStride; ++j) pp[j] = pp[j - 1] * p, qq[j] = qq[j - 1] * q;
        std::array<double, kStride> binom{};
        binom[0] = 1.0;
        for (int n = 0; n <= kMaxTrials; ++n) {
            for (int k = n; k >= 1; --k) binom[k] += binom[k - 1];  // row n of Pascal's triangle
            double F = 0.0;
            for (int k = 0; k < kStride; ++k) {
                double v;
                if (k >= n || never) {
                    v = 1.0;
                } else if (always) {
                    v = 0.0;
                } else {
                    F += (binom[k] * pp[k]) * qq[n - k];
                    v = F < 1.0 ? F : 1.0;
                }
                cdf_[n * kStride + k] = v;
                thr_[n * kStride + k] = bernoulli_threshold(v);
            }
        }
    }

    double p_ = 0.0;
    std::array<double, kStride * kStride> cdf_{};
    std::array<std::int64_t, kStride * kStride> thr_{};
};

}  // namespace artel::rng
