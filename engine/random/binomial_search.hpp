// Binomial(n, p) for small n (0 ≤ n ≤ 16) by inversion of one 32-bit word
// with a sequential search (Kachitvichyanukul & Schmeiser's BINV, from k = 0):
// one word per draw whatever n is, and setting p costs 16 multiplications and
// one division, so p may change for every village and year (BinomialTable
// builds a whole CDF table per p, which pays only when p is fixed).
//
// Definition (sample(), and the vector kernels lane by lane):
//   u = uniform01(w),  f_0 = q^n,  F_0 = f_0,
//   f_k = (f_{k−1} · r) · c(n, k − 1),  F_k = F_{k−1} + f_k,
//   X = min{k : u < F_k, or k = n},
// with q = 1 − p, r = p / q, c(n, j) = (n − j) / (j + 1) (ratios()), the
// powers q^n by repeated multiplication (powers()), every operation an IEEE
// double + or × in this order, so every platform and vector width gets the
// same X. f_k is the binomial probability of k up to rounding (relative
// ~1e-15), so P(X = k) differs from it by at most that plus the resolution of
// u (2^-32), the resolution of a Bernoulli draw u < p. p ≤ 0 or NaN: X = 0;
// p ≥ 1: X = n (q = 0 and r = 0, so F stays 0 after f_0 until k = n).
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "engine/random/samplers.hpp"

namespace artel::rng {

class BinomialSearch {
public:
    static constexpr int kMaxTrials = 16;
    static constexpr int kStride = kMaxTrials + 1;

    BinomialSearch() { set(0.0); }
    explicit BinomialSearch(double p) { set(p); }

    void set(double p) {
        p_ = p;
        const bool never = !(p > 0.0), always = p >= 1.0;
        const double q = never ? 1.0 : (always ? 0.0 : 1.0 - p);
        qpow_[0] = 1.0;
        for (int j = 1; j < kStride; ++j) qpow_[j] = qpow_[j - 1] * q;
        r_ = never || always ? 0.0 : p / q;
    }
    double p() const { return p_; }
    // q^n at [n], n = 0 … 16.
    const double* powers() const { return qpow_.data(); }
    // r = p / q (0 when p ≤ 0, p ≥ 1 or NaN).
    double ratio() const { return r_; }
    // c(n, k) = (n − k) / (k + 1) at [n·kStride + k].
    static const double* ratios() {
        static const std::array<double, kStride * kStride> c = [] {
            std::array<double, kStride * kStride> t{};
            for (int n = 0; n < kStride; ++n)
                for (int k = 0; k < kStride; ++k)
                    t[static_cast<std::size_t>(n * kStride + k)] =
                        k < n ? static_cast<double>(n - k) / static_cast<double>(k + 1) : 0.0;
            return t;
        }();
        return c.data();
    }

    // X ~ Binomial(n, p) from the word w; n in [0, kMaxTrials] (else throws
    // std::out_of_range: the vector kernels, which do not check, are tested
    // against this one).
    int sample(std::uint32_t w, int n) const {
        if (n < 0 || n > kMaxTrials)
            throw std::out_of_range("BinomialSearch::sample: n = " + std::to_string(n) + " outside [0, 16]");
        const double u = uniform01(w);
        const double* c = ratios() + n * kStride;
        double f = qpow_[static_cast<std::size_t>(n)], F = f;
        int k = 0;
        while (k < n && u >= F) {
            f = (f * r_) * c[k];
            F += f;
            ++k;
        }
        return k;
    }
    // F_k of row n (the sequence sample() compares u with), k = 0 … n − 1;
    // F_k for k ≥ n is 1 by definition.
    double cdf(int n, int k) const {
        if (k >= n) return 1.0;
        const double* c = ratios() + n * kStride;
        double f = qpow_[static_cast<std::size_t>(n)], F = f;
        for (int j = 0; j < k; ++j) {
            f = (f * r_) * c[j];
            F += f;
        }
        return F;
    }

private:
    double p_ = 0.0;
    double r_ = 0.0;
    std::array<double, kStride> qpow_{};
};

}  // namespace artel::rng
