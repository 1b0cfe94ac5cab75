// The lane policy of one household (kernels/rules.hpp): the rules run on
// plain float, int32_t and bool, their draws are the household's words of
// its named streams, and their tallies go to a Tally. This is the reference
// kernel's arithmetic: "if (L::any(m))" is an ordinary branch, a selection
// an ordinary conditional.
#pragma once

#include <array>
#include <cstdint>

#include "engine/random/binomial_search.hpp"
#include "engine/random/samplers.hpp"
#include "engine/random/streams.hpp"
#include "kernels/block.hpp"
#include "kernels/purposes.hpp"
#include "kernels/simd/draw_count.hpp"
#include "kernels/rules.hpp"
#include "kernels/tallies.hpp"
#include "kernels/village.hpp"

namespace artel::model {

// kCount: the words the rules read are counted (kernels/simd/draw_count.hpp,
// for benchmarks; an instantiation of its own, so that the kernel proper
// tests nothing for it).
template <bool kCount>
class OneLaneOf {
public:
    using F = float;
    using I = std::int32_t;
    using M = bool;
    using W = std::uint32_t;

    // ---- values ----
    static F f(float x) { return x; }
    static I i(std::int32_t x) { return x; }
    static F to_f(I x) { return static_cast<float>(x); }
    static F sel(M m, F a, F b) { return m ? a : b; }
    static I sel(M m, I a, I b) { return m ? a : b; }
    static F zero_unless(M m, F x) { return m ? x : 0.0f; }
    static I zero_unless(M m, I x) { return m ? x : 0; }
    static F zero_where(M m, F x) { return m ? 0.0f : x; }
    static I zero_where(M m, I x) { return m ? 0 : x; }
    static M eq(I a, std::int32_t b) { return a == b; }
    static M gt(I a, std::int32_t b) { return a > b; }
    static M lt(I a, std::int32_t b) { return a < b; }
    static M both(M a, M b) { return a && b; }
    static M either(M a, M b) { return a || b; }
    static M except(M m, M out) { return m && !out; }
    static M none() { return false; }
    static bool any(M m) { return m; }

    // ---- draws ----
    // w < T: rng::bernoulli(w, p) exactly (engine/random/threshold.hpp).
    static M below(W w, rules::Threshold t) { return t.any && w <= t.tm1; }
    static M below(W w, M first, rules::Threshold a, rules::Threshold b) { return below(w, first ? a : b); }
    static M uniform_below(W w, F p) { return rng::bernoulli(w, static_cast<double>(p)); }

    // The streams of a year (slot) and the tables of its binomials.
    struct Draws {
        rng::Key key;
        std::uint32_t rep, slot;
        const YearScratch::Demography* demography;
        const rng::BinomialSearch *learn_other, *learn_active;  // the village's (step 9)
    };

    OneLaneOf(const Draws& d, Tally& tally) : d_(d), tally_(tally) {}

    // The household whose words are drawn next; hy0, if given, is its
    // HouseholdYear block 0, drawn already.
    void at(std::uint32_t household_id, const rng::Block* hy0 = nullptr) {
        id_ = household_id;
        have_ = 0;
        if (hy0) blocks_[0] = *hy0, have_ = 1;
    }
    // Its HouseholdYear block 0, if drawn.
    const rng::Block* household_year_block0() const { return (have_ & 1u) ? &blocks_[0] : nullptr; }
    // Word k of the household's HouseholdYear or Demography stream, read if
    // `reads` (the rules ask for a word with the lanes that read it).
    W hy(M reads, std::uint32_t k) {
        count(reads);
        return word(Purpose::HouseholdYear, 0, k);
    }
    W dem(M reads, std::uint32_t k) {
        count(reads);
        return word(Purpose::Demography, 2, k);
    }
    I binomial(rules::Binomial b, I n, W w) const {
        const auto& t = *d_.demography;
        switch (b) {
            case rules::Binomial::age: return t.age.sample(w, n);
            case rules::Binomial::school: return t.school.sample(w, n);
            case rules::Binomial::adult_death: return t.adult_death.sample(w, n);
            case rules::Binomial::child_death: return t.child_death.sample(w, n);
        }
        return 0;
    }
    void counts_at_most(I) const {}
    I learned(I n, W w, M active) const { return (active ? d_.learn_active : d_.learn_other)->sample(w, n); }
    // the rate in float, its hazard in double (village::hazard)
    M activates(M m, W w, F rate) const { return m && rng::bernoulli(w, village::hazard(rate)); }

    // ---- tallies and village sums ----
    void add(Real r, M m, F x) {
        if (m) tally_.add(r, x);
    }
    void add(Count c, M m) {
        if (m) tally_.add(c, 1);
    }
    void add(Count c, I x) { tally_.add(c, x); }
    void add_const(Real r, M m, const rules::FixedConst& x) {
        if (m) tally_.add(r, x.x);
    }
    static void sum_in_order(double& sum, F x) { sum += x; }
    static void sum_in_order(double& sum, M m, F x) {
        if (m) sum += x;
    }

private:
    static void count(M reads) {
        if constexpr (kCount) simd::detail::counts().used += reads;
    }
    // Word k of the household's stream of purpose p, its Philox blocks
    // computed once per household (cache slots `at` and `at + 1`).
    W word(Purpose p, int at, std::uint32_t k) {
        const int c = at + static_cast<int>(k >> 2);
        if (!(have_ & (1u << c))) {
            const rng::Stream s(d_.key, d_.rep, rng::EntityKind::Household, id_, d_.slot,
                                static_cast<std::uint32_t>(p));
            blocks_[static_cast<std::size_t>(c)] = s.block(k >> 2);
            have_ |= 1u << c;
        }
        return blocks_[static_cast<std::size_t>(c)][k & 3u];
    }

    Draws d_;
    Tally& tally_;
    std::uint32_t id_ = 0;
    unsigned have_ = 0;
    std::array<rng::Block, 4> blocks_{};
};

using OneLane = OneLaneOf<false>;

// max(0, cash + P·grain − debt): a household's wealth (rules.inc's `wealth`,
// one lane), for the Gini histogram and the household histograms.
inline float household_wealth(float cash, float grain, float debt, float price) {
    return reference::wealth<OneLane>(cash, grain, debt, price);
}

}  // namespace artel::model
