// The household rules of MODEL.md §4, each written once, as a template over
// a lane policy L that runs it on one household (kernels/one_lane.hpp, the
// reference kernel) or on a vector of households
// (kernels/simd/vector_lanes-inl.h, on every instruction set). A rule reads as arithmetic on the household's
// state; what differs between one lane and many goes through L:
//
//   L::F, L::I, L::M, L::W   float, int32, truth and random-word values of
//                            the lanes (float, int32_t, bool, uint32_t for
//                            one lane); Float<L>, Int<L>, Mask<L>
//   L::f(x), L::i(x)         a constant in every lane
//   L::sel(m, a, b)          a where m, else b; zero_unless / zero_where
//   L::any(m)                some lane holds m (one lane: m itself, so a
//                            rule's "if (L::any(m))" is the reference's
//                            branch and the vector's early exit)
//   L::below(w, t)           the Bernoulli draw w < t of a fixed probability
//   L::uniform_below(w, p)   the draw uniform01(w) < p of a lane probability
//   l.hy(m, k), l.dem(m, k)  word k of the household's HouseholdYear or
//                            Demography stream, read by the lanes m
//   l.binomial(b, n, w)      step 5's Binomial(n, ·) of table b, from word w
//   l.counts_at_most(n)      the counts of the binomials that follow are at
//                            most n (the vector policy's tables then fit a
//                            register)
//   l.learned(n, w, active)  step 9's Binomial(n, learn), from word w
//   l.activates(m, w, a)     step 10's draw uniform01(w) < 1 − exp(−a)
//   l.add(tally, m, x)       the tallies (kernels/tallies.hpp) of the lanes m;
//                            l.add_const for a value the same in every lane
//   l.sum_in_order(s, m, x)  a village sum, added in household order
//
// Lanes whose household is dissolved (size 0) change nothing: every rule
// selects on h.alive. The drivers (household_model.cpp, simd/step_simd.cpp)
// walk villages and households, draw the words and call year_first_pass and
// year_second_pass; no model is written anywhere else. The rules themselves
// are in kernels/rules.inc (one text, compiled for one lane here and for
// each instruction set's vectors in the vector kernel); this header holds
// the types they share.
#pragma once

#include <cstdint>

#include "engine/random/threshold.hpp"
#include "kernels/household_model.hpp"
#include "kernels/params.hpp"
#include "kernels/purposes.hpp"
#include "kernels/tallies.hpp"

namespace artel::model::rules {

// Rules are inlined into the drivers' loops (a call per rule and vector
// would cost more than most rules).
#define ARTEL_RULE [[gnu::always_inline]] inline

// The values of a lane policy: float, int32 and truth lanes.
template <class L>
using Float = typename L::F;
template <class L>
using Int = typename L::I;
template <class L>
using Mask = typename L::M;

// A Bernoulli threshold T in [0, 2^32] (engine/random/threshold.hpp) for
// 32-bit words: w < T  <=>  T > 0 and w <= T − 1.
struct Threshold {
    std::uint32_t tm1 = 0;  // T − 1 (when T > 0)
    bool any = false;       // T > 0
    static Threshold of(std::int64_t t) { return {static_cast<std::uint32_t>(t > 0 ? t - 1 : 0), t > 0}; }
    static Threshold of_prob(double p) { return of(rng::bernoulli_threshold(p)); }
};

// A tally's addend that is the same in every lane (in fixed point where it
// is small, so that k lanes add k·f at once).
struct FixedConst {
    double x = 0;
    std::int64_t f = 0;  // to_fixed(x) where small
    bool small = true;   // |x| < 2048: |f| < 2^31
    static FixedConst of(double x) {
        const bool small = (x < 0 ? -x : x) < 2048.0;
        return {x, small ? to_fixed(x) : 0, small};
    }
};

// Step 5's binomials (rng::BinomialTable), one per probability.
enum class Binomial { age, school, adult_death, child_death };

// The year's constants of the rules (one arm, one year).
struct Year {
    const Params* p = nullptr;
    HouseholdConst hc{};
    Threshold birth, school;                      // step 5
    Threshold false_claim, audit, false_audit;    // step 7: u < c, u < c·audit_prob
    FixedConst audit_cost, bonus;                 // step 7's tallies
    bool bonus_on = false;                        // step 7 happens (bonus mechanism on, bonus > 0)
    Threshold lapse, lapse_hungry, leave;         // step 10
    static Year of(const Params& p) {
        Year y;
        y.p = &p;
        y.hc = HouseholdConst::of(p);
        y.birth = Threshold::of_prob(p.birth_rate);
        y.school = Threshold::of_prob(p.school_rate);
        y.false_claim = Threshold::of_prob(p.false_claim_prob);
        y.audit = Threshold::of_prob(p.audit_prob);
        y.false_audit = Threshold::of_prob(p.false_claim_prob * p.audit_prob);
        y.audit_cost = FixedConst::of(p.audit_cost);
        y.bonus = FixedConst::of(p.bonus);
        y.bonus_on = p.mechanisms.bonus && p.bonus > 0.0;
        y.lapse = Threshold::of_prob(p.lapse_active * 1.0);
        y.lapse_hungry = Threshold::of_prob(p.lapse_active * (1.0 + p.lapse_hunger));
        y.leave = Threshold::of_prob(p.leave_passive);
        return y;
    }
};

// A village's quantities in the year (kernels/village.hpp), in single
// precision where household formulas use them.
struct Village {
    float Rf = 1, Vf = 1, Pf = 1;  // step 2: region, village, price
    double c = 0;                  // step 4(b): the share of every shortfall the reserve covers
    float cf = 0;
    bool store = false;            // after step 1
    float p_coop = 0, p_other = 0, state_share = 0, one_minus_share = 0;  // step 6
    Threshold join;                // step 10
};

// The village sums the rules add to, in household order.
struct VillageSums {
    double levy = 0, shortfall = 0, drawn = 0;
};

// One household, or one vector of households.
template <class L>
struct Household {
    using F = Float<L>;
    using I = Int<L>;
    using M = Mask<L>;
    I size, adults, literate, coop, hunger;
    I coop_start;  // status at the start of the year (before step 1)
    F land, grain, cash, debt, skill;
    F need;        // step 4's need, reused by step 6
    F shortfall;   // step 4's D, after (a)
    M alive;       // size > 0 when the step at hand began
    M expelled;    // expelled this year (steps 7, 8): cannot rejoin
};

// What the rules moved, household by household, for the books (MODEL.md §8.4
// and FlowLog); the vector kernel never reads it, and the compiler drops it.
template <class L>
struct Flows {
    using F = Float<L>;
    using I = Int<L>;
#define ARTEL_REAL_FLOW(n) F n;
#define ARTEL_COUNT_FLOW(n) I n;
    ARTEL_HOUSEHOLD_FLOWS(ARTEL_REAL_FLOW, ARTEL_COUNT_FLOW)  // kernels/household_model.hpp
#undef ARTEL_REAL_FLOW
#undef ARTEL_COUNT_FLOW
};

}  // namespace artel::model::rules

// The rules for the reference kernel (one lane, kernels/one_lane.hpp).
namespace artel::model::reference {
using namespace artel::model::rules;
#include "kernels/rules.inc"
}  // namespace artel::model::reference
