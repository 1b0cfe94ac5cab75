// The vector kernel's per-thread scratch and the binomial tests it keeps in
// registers (kernels/simd/step_simd.cpp); not per instruction set.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/random/binomial_search.hpp"
#include "engine/random/binomial_table.hpp"
#include "kernels/tallies.hpp"

namespace artel::model::simd_detail {


// Tests k = 0 and k = 1 of an inversion X = #{k : w >= T_n,k} (a binomial's
// thresholds, n = 0 … 16 trials) as 32-bit entries for in-register table
// lookups: e[n] = (T_n,k − 1) ^ 2^31, so that w >= T  <=>  (w ^ 2^31) > e[n]
// as signed 32-bit integers, for T in [1, 2^32]. ok is false if some T is 0
// (a probability of exactly 1), which this form cannot hold: the kernel then
// takes the exact 64-bit path.
struct Tests01 {
    static constexpr int kRows = 17;
    alignas(64) std::int32_t e0[32]{}, e1[32]{};  // padded to whole vectors (AVX-512: 2 x 16)
    bool ok = false;
    static std::int32_t entry(std::int64_t t) {
        return static_cast<std::int32_t>(static_cast<std::uint32_t>(t - 1) ^ 0x80000000u);
    }
    // from a rng::BinomialTable's thresholds T[17·n + k]
    void set_table(const std::int64_t* T) {
        static_assert(rng::BinomialTable::kStride == kRows);
        ok = true;
        for (int n = 0; n < kRows; ++n) {
            const std::int64_t a = T[kRows * n], b = T[kRows * n + 1];
            ok = ok && a >= 1 && b >= 1;
            e0[n] = entry(a);
            e1[n] = entry(b);
        }
    }
};

// Step 9's binomials of the village at hand (rng::BinomialSearch): the
// powers q^n of other households at [n] and of active members at [17 + n],
// side by side for one gather, and their ratios r = p / q.
struct LearnConst {
    static constexpr int kActive = rng::BinomialSearch::kStride;
    alignas(64) double qpow[2 * kActive + 16]{};  // (padded for whole-vector reads)
    double r_other, r_active;
    // the search's first two tests as thresholds of the word (uniform01(w) <
    // F  <=>  w < bernoulli_threshold(F), engine/random/threshold.hpp), set
    // by the kernel (LearnTests)
    Tests01 t_other, t_active;
    void set(double p_other, double p_active) {
        const rng::BinomialSearch other(p_other), active(p_active);
        std::copy_n(other.powers(), kActive, qpow);
        std::copy_n(active.powers(), kActive, qpow + kActive);
        r_other = other.ratio();
        r_active = active.ratio();
    }
};

// Per-thread scratch of the vector kernel, indexed by the household's place
// in its village (padded to whole vectors). Grows once, never shrinks.
struct VillageScratch {
    std::vector<float> shortfall;       // D after step 4(a)
    std::vector<float> E;               // household weather multiplier
    std::vector<std::uint32_t> hy2;     // HouseholdYear words 2 and 3 (birth, deaths of children)
    std::vector<std::uint32_t> hy3;
    std::vector<std::int32_t> coop_start;  // only for a village whose store closed in step 1
    std::vector<std::int32_t> gbin;        // Gini bin (kGiniBins: none)
    std::vector<std::int64_t> gfx;         // fixed-point wealth
    std::int64_t gfx_limit = 0;            // kFixedMax / the block's households
    bool gfx_large = false;                // some gfx of the village is above gfx_limit (or invalid)
    // Per village of the block: the organiser's word, V, thresholds, closing.
    std::vector<std::uint64_t> vword;
    std::vector<double> vV;
    std::vector<std::int64_t> vjoin;
    std::vector<double> vlearn_other, vlearn_active;  // step 9's learning probabilities
    std::vector<std::uint8_t> vclosed;
    LearnConst learn;
    // Per region of the block: the year's weather and market (step 6).
    struct RegionConst {
        double R, P, state_share, one_minus_share, p_coop, p_other;
    };
    std::vector<RegionConst> region;
    Tests01 b_age, b_school, b_adult_death, b_child_death;  // step 5's binomials
    void reserve_villages(std::size_t nv) {
        if (vword.size() >= nv) return;
        vword.assign(nv, 0);
        vV.assign(nv, 1.0);
        vjoin.assign(nv, 0);
        vlearn_other.assign(nv, 0.0);
        vlearn_active.assign(nv, 0.0);
        vclosed.assign(nv, 0);
    }
    // The year's Gini histogram, with a spare last bin for dissolved lanes.
    std::vector<std::int64_t> gn, gsum;
    void reserve(std::size_t n) {
        if (gn.empty()) gn.assign(kGiniBins + 1, 0), gsum.assign(kGiniBins + 1, 0);
        if (shortfall.size() >= n) return;
        gbin.assign(n, kGiniBins);
        gfx.assign(n, 0);
        shortfall.assign(n, 0.0f);
        E.assign(n, 1.0f);
        hy2.assign(n, 0);
        hy3.assign(n, 0);
        coop_start.assign(n, 0);
    }
};

inline VillageScratch& village_scratch() {
    thread_local VillageScratch s;
    return s;
}

}  // namespace artel::model::simd_detail
