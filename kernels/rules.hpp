// The household rules of MODEL.md §4, each written once, as a template over
// a lane policy L that runs it on one household (kernels/one_lane.hpp, the
// reference kernel) or on a vector of households (kernels/simd/lanes-inl.h,
// on every instruction set). A rule reads as arithmetic on the household's
// state; what differs between one lane and many goes through L:
//
//   L::F, L::I, L::M, L::W   float, int32, truth and random-word values of
//                            the lanes (float, int32_t, bool, uint32_t for
//                            one lane)
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
//   l.learned(n, w, active)  step 9's Binomial(n, learn), from word w
//   l.activates(m, w, a)     step 10's draw uniform01(w) < 1 − exp(−a)
//   l.add(tally, m, x)       the tallies (kernels/tallies.hpp) of the lanes m
//   l.sum_in_order(s, m, x)  a village sum, added in household order
//
// Lanes whose household is dissolved (size 0) change nothing: every rule
// selects on h.alive. The drivers (household_model.cpp, simd/step_simd.cpp)
// walk villages and households, draw the words and call year_first_pass and
// year_second_pass below; no model is written anywhere else.
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
    using F = typename L::F;
    using I = typename L::I;
    using M = typename L::M;
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
    using F = typename L::F;
    using I = typename L::I;
    F harvest, levy, wage, bought, paid_for_grain, from_reserve, aid, borrowed_grain, borrowed, consumed;
    F spent, sold, proceeds, bonus, interest, repaid, written_off, grain_lost, cash_lost;
    I births, deaths, famine_deaths, literate_gained, literate_died;
};

// ---- shared terms ----------------------------------------------------------

// literate/adults, 0 where adults = 0 (§4 step 3).
template <class L>
ARTEL_RULE typename L::F literate_share(typename L::I literate, typename L::I adults) {
    return L::sel(L::gt(adults, 0), L::to_f(literate) / L::to_f(adults), L::f(0.0f));
}
// max(0, x)
template <class L>
ARTEL_RULE typename L::F max0(typename L::F x) {
    return L::sel(L::f(0.0f) < x, x, L::f(0.0f));
}
// min(a, b) as std::min(a, b): b if b < a, else a
template <class L>
ARTEL_RULE typename L::F min_of(typename L::F a, typename L::F b) {
    return L::sel(b < a, b, a);
}
// §4 step 4: size × food_need + land × seed_need.
template <class L>
ARTEL_RULE typename L::F need(const Household<L>& h, const HouseholdConst& hc) {
    return L::to_f(h.size) * L::f(hc.food_need) + h.land * L::f(hc.seed_need);
}
template <class L>
ARTEL_RULE typename L::M is_alive(const Household<L>& h) {
    return L::gt(h.size, 0);
}

// §4 steps 4 and 5: a household that reaches size 0 is dissolved. Its debt
// is written off (a member's write-off is a state cost, not a default); its
// grain and cash leave the books with it.
template <class L>
ARTEL_RULE void dissolve(L& l, Household<L>& h, Flows<L>& f) {
    const auto gone = L::both(h.alive, L::eq(h.size, 0));
    if (!L::any(gone)) return;
    l.add(Real::cost_writeoff, L::both(gone, L::gt(h.coop, 0)), h.debt);
    f.written_off = f.written_off + L::zero_unless(gone, h.debt);
    f.grain_lost = f.grain_lost + L::zero_unless(gone, h.grain);
    f.cash_lost = f.cash_lost + L::zero_unless(gone, h.cash);
    h.debt = L::zero_where(gone, h.debt);
    h.grain = L::zero_where(gone, h.grain);
    h.cash = L::zero_where(gone, h.cash);
    h.coop = L::zero_where(gone, h.coop);
    h.hunger = L::zero_where(gone, h.hunger);
    l.add(Count::dissolved, gone);
}

// ---- §4 step 1 -------------------------------------------------------------

// §4 step 1: the active members of a village whose store closed become
// passive.
template <class L>
ARTEL_RULE typename L::I store_closed(typename L::I size, typename L::I coop) {
    return L::sel(L::both(L::gt(size, 0), L::eq(coop, 2)), L::i(1), coop);
}

// ---- §4 step 3 -------------------------------------------------------------

// §4 step 3: h = land × yield_mean × R × V × E × π, with productivity
// π = 1 + β_lit·(literate/adults) + β_coop·[coop = 2]; grain += h.
template <class L>
ARTEL_RULE typename L::F harvest(L& l, Household<L>& h, const HouseholdConst& hc, const Village& v,
                                 typename L::F E) {
    using F = typename L::F;
    const F coop2 = L::sel(L::eq(h.coop, 2), L::f(1.0f), L::f(0.0f));
    const F pi = L::f(1.0f) + L::f(hc.beta_lit) * literate_share<L>(h.literate, h.adults) +
                 L::f(hc.beta_coop) * coop2;
    const F crop = h.land * L::f(hc.yield_mean) * L::f(v.Rf) * L::f(v.Vf) * E * pi;
    h.grain = L::sel(h.alive, h.grain + crop, h.grain);
    l.add(Real::harvest, h.alive, crop);
    l.add(Real::land, h.alive, h.land);
    return crop;
}

// §4 step 3 (reserve): grain −= κ·h into the village reserve.
template <class L>
ARTEL_RULE typename L::F reserve_levy(L& l, Household<L>& h, const HouseholdConst& hc, typename L::F crop,
                                      VillageSums& sums) {
    const auto levy = L::f(hc.reserve_levy) * crop;
    h.grain = L::sel(h.alive, h.grain - levy, h.grain);
    l.sum_in_order(sums.levy, L::zero_unless(h.alive, levy));
    return levy;
}

// §4 step 3: off-farm earnings, more for households short of land per mouth.
template <class L>
ARTEL_RULE typename L::F off_farm_wage(Household<L>& h, const HouseholdConst& hc) {
    using F = typename L::F;
    const F landpoor = max0<L>(L::f(1.0f) - (h.land / L::to_f(h.size)) / L::f(hc.land_per_mouth));
    const F wage = L::f(hc.wage) * L::to_f(h.adults) * (L::f(1.0f) + L::f(hc.wage_landpoor) * landpoor);
    h.cash = L::sel(h.alive, h.cash + wage, h.cash);
    return wage;
}

// ---- §4 step 4 -------------------------------------------------------------

// §4 step 4(a): a shortfall D = need − grain is first bought with cash at
// price P. Leaves the rest of D in h.shortfall (0 where nothing is short)
// and adds it to the village's ΣD.
template <class L>
ARTEL_RULE void buy_with_cash(L& l, Household<L>& h, const HouseholdConst& hc, const Village& v,
                              VillageSums& sums, Flows<L>& f) {
    using F = typename L::F;
    using M = typename L::M;
    h.need = need(h, hc);
    const M short_ = L::except(h.alive, h.grain >= h.need);
    h.shortfall = L::f(0.0f);
    if (!L::any(short_)) return;
    const F P = L::f(v.Pf);
    const F D = h.need - h.grain;
    const F cost = D * P;
    const M can_pay = h.cash >= cost;
    const F bought = L::sel(can_pay, D, h.cash / P);
    f.paid_for_grain = L::zero_unless(short_, L::sel(can_pay, cost, h.cash));
    f.bought = L::zero_unless(short_, bought);
    h.cash = L::sel(short_, L::sel(can_pay, h.cash - cost, L::f(0.0f)), h.cash);
    h.grain = L::sel(short_, h.grain + bought, h.grain);
    l.add(Real::bought, short_, bought);
    h.shortfall = L::zero_unless(short_, L::sel(can_pay, L::f(0.0f), D - bought));
    l.sum_in_order(sums.shortfall, h.shortfall);  // +0.0 where not short: the sum is unchanged
}

// §4 step 4(b) (reserve): the village reserve covers the same share c of
// every household's remaining shortfall.
template <class L>
ARTEL_RULE void draw_on_reserve(L& l, Household<L>& h, const Village& v, VillageSums& sums, Flows<L>& f) {
    if (!(v.c > 0.0)) return;
    const auto m = L::both(h.alive, h.shortfall > L::f(0.0f));
    if (!L::any(m)) return;
    const bool full = v.c >= 1.0;
    const auto take = full ? h.shortfall : L::f(v.cf) * h.shortfall;
    h.grain = L::sel(m, h.grain + take, h.grain);
    l.sum_in_order(sums.drawn, m, take);
    l.add(Real::reserve_drawn, m, take);
    f.from_reserve = L::zero_unless(m, take);
    h.shortfall = L::sel(m, full ? L::f(0.0f) : h.shortfall - take, h.shortfall);
}

// §4 step 4(c): mutual aid for members, a share coop_aid of what is left,
// paid by the state at price P.
template <class L>
ARTEL_RULE void mutual_aid(L& l, Household<L>& h, const Year& y, const Village& v, Flows<L>& f) {
    const double coop_aid = y.p->coop_aid;
    if (!(coop_aid > 0.0)) return;
    const auto m = L::both(L::both(h.alive, h.shortfall > L::f(0.0f)), L::gt(h.coop, 0));
    if (!L::any(m)) return;
    const bool full = coop_aid >= 1.0;
    const auto aid = full ? h.shortfall : L::f(y.hc.coop_aid) * h.shortfall;
    h.grain = L::sel(m, h.grain + aid, h.grain);
    l.add(Real::aid, m, aid);
    l.add(Real::cost_aid, m, aid * L::f(v.Pf));
    f.aid = L::zero_unless(m, aid);
    h.shortfall = L::sel(m, full ? L::f(0.0f) : h.shortfall - aid, h.shortfall);
}

// §4 step 4(d) (credit): borrowing b = min(D·P, max(0, limit − debt))
// roubles; grain += b/P, debt += b.
template <class L>
ARTEL_RULE void borrow(L& l, Household<L>& h, const HouseholdConst& hc, const Village& v, Flows<L>& f) {
    using F = typename L::F;
    using M = typename L::M;
    const M m = L::both(h.alive, h.shortfall > L::f(0.0f));
    if (!L::any(m)) return;
    const F P = L::f(v.Pf);
    const F limit = L::sel(L::gt(h.coop, 0), L::f(hc.credit_limit_coop), L::f(hc.credit_limit_private));
    const F room = max0<L>(limit - h.debt);
    const F cost = h.shortfall * P;
    const M enough = room >= cost;
    const F roubles = L::sel(enough, cost, room);
    const F grain_in = L::sel(enough, h.shortfall, room / P);
    h.shortfall = L::sel(m, L::sel(enough, L::f(0.0f), h.shortfall - grain_in), h.shortfall);
    const M borrows = L::both(m, roubles > L::f(0.0f));
    h.grain = L::sel(borrows, h.grain + grain_in, h.grain);
    h.debt = L::sel(borrows, h.debt + roubles, h.debt);
    l.add(Real::borrowed, borrows, grain_in);
    f.borrowed_grain = L::zero_unless(borrows, grain_in);
    f.borrowed = L::zero_unless(borrows, roubles);
}

// §4 step 4: what remains is uncovered, f = D / need. If f > 0, hunger += 1
// and (famine) one person dies with probability famine_mortality × f: an
// adult with probability adults/size, literate with probability
// literate/adults. One word decides who, if anyone, by nested intervals:
// u < d·a·l a literate adult, else u < d·a an illiterate adult, else u < d a
// child. Otherwise hunger = 0.
template <class L>
ARTEL_RULE void famine(L& l, Household<L>& h, const Year& y, Flows<L>& f) {
    using F = typename L::F;
    using M = typename L::M;
    const F uncovered = L::sel(h.need > L::f(0.0f), h.shortfall / h.need, L::f(0.0f));
    const M hungry = L::both(h.alive, uncovered > L::f(0.0f));
    h.hunger = L::sel(hungry, h.hunger + L::i(1), L::sel(h.alive, L::i(0), h.hunger));
    if (!y.p->mechanisms.famine || !L::any(hungry)) return;
    const auto w = l.dem(hungry, kFamine);
    const F die = L::f(y.hc.famine_mortality) * uncovered;
    const M dies = L::both(hungry, L::uniform_below(w, die));
    if (!L::any(dies)) return;
    const F adult_dies = die * (L::to_f(h.adults) / L::to_f(h.size));
    const F literate_dies = adult_dies * literate_share<L>(h.literate, h.adults);
    const M adult = L::both(dies, L::uniform_below(w, adult_dies));
    const M literate = L::both(adult, L::uniform_below(w, literate_dies));
    h.literate = L::sel(literate, h.literate - L::i(1), h.literate);
    h.adults = L::sel(adult, h.adults - L::i(1), h.adults);
    h.size = L::sel(dies, h.size - L::i(1), h.size);
    l.add(Count::famine_deaths, dies);
    f.famine_deaths = L::sel(dies, L::i(1), L::i(0));
    f.literate_died = L::sel(literate, L::i(1), L::i(0));
}

// §4 step 4: then grain −= need, floored at 0; a household that reached
// size 0 is dissolved.
template <class L>
ARTEL_RULE void consume(L& l, Household<L>& h, Flows<L>& f) {
    const auto eaten = min_of<L>(h.grain, h.need);
    h.grain = L::sel(h.alive, h.grain - eaten, h.grain);
    f.consumed = L::zero_unless(h.alive, eaten);
    dissolve(l, h, f);
}

// ---- §4 step 5 -------------------------------------------------------------

// §4 step 5 (demography): a birth, then children coming of age (and
// literate), then deaths of literate adults, illiterate adults and
// children, each a binomial by inversion of one word; the eldest child of a
// household left without adults comes of age at once.
template <class L>
ARTEL_RULE void births_and_deaths(L& l, Household<L>& h, const Year& y, Flows<L>& f) {
    using I = typename L::I;
    using M = typename L::M;
    h.alive = is_alive(h);
    if (!L::any(h.alive)) return;
    const I children = L::zero_unless(h.alive, h.size - h.adults);  // present at the start of this step
    const M can_bear = L::both(h.alive, L::both(L::gt(h.adults, 1),
                                                L::lt(h.size, static_cast<std::int32_t>(y.p->birth_cap))));
    const M birth = L::both(can_bear, L::below(l.hy(can_bear, kBirth), y.birth));
    h.size = L::sel(birth, h.size + L::i(1), h.size);
    l.add(Count::births, birth);
    f.births = L::sel(birth, L::i(1), L::i(0));

    l.counts_at_most(h.size);  // every count below is at most the size after the birth
    const I came = l.binomial(Binomial::age, children, l.dem(h.alive, kComeOfAge));
    const I schooled = l.binomial(Binomial::school, came, l.dem(h.alive, kSchooled));
    h.adults = h.adults + came;
    h.literate = h.literate + schooled;
    const I literate = L::zero_unless(h.alive, h.literate);
    const I illiterate = L::zero_unless(h.alive, h.adults - h.literate);
    const I kids = L::zero_unless(h.alive, h.size - h.adults);
    const I dead_lit = l.binomial(Binomial::adult_death, literate, l.dem(h.alive, kDeathsLiterate));
    const I dead_ill = l.binomial(Binomial::adult_death, illiterate, l.dem(h.alive, kDeathsIlliterate));
    const I dead_child = l.binomial(Binomial::child_death, kids, l.hy(h.alive, kChildDeaths));
    const I dead_adults = dead_lit + dead_ill;
    const I dead = dead_adults + dead_child;
    h.literate = h.literate - dead_lit;
    h.adults = h.adults - dead_adults;
    h.size = h.size - dead;
    l.add(Count::deaths, dead);
    f.deaths = dead;
    f.literate_died = f.literate_died + dead_lit;
    f.literate_gained = schooled;

    const M eldest = L::both(h.alive, L::both(L::eq(h.adults, 0), L::gt(h.size, 0)));
    if (L::any(eldest)) {
        h.adults = L::sel(eldest, L::i(1), h.adults);
        const M lit = L::both(eldest, L::below(l.dem(eldest, kEldestLiterate), y.school));
        h.literate = L::sel(lit, h.literate + L::i(1), h.literate);
        f.literate_gained = L::sel(lit, f.literate_gained + L::i(1), f.literate_gained);
    }
    dissolve(l, h, f);
}

// ---- §4 step 6 -------------------------------------------------------------

// §4 step 6 (market): spending, then sales of s = sell_share × max(0,
// grain − keep_buffer × need): active members through the co-operative,
// the others split between the private traders and the state; every price
// times (1 − culture_loss·(1 − skill)).
template <class L>
ARTEL_RULE void market(L& l, Household<L>& h, const HouseholdConst& hc, const Village& v, Flows<L>& f) {
    using F = typename L::F;
    using M = typename L::M;
    h.alive = is_alive(h);
    const F spent = L::f(hc.spend_share) * h.cash;
    h.cash = L::sel(h.alive, h.cash - spent, h.cash);
    const F sold = L::f(hc.sell_share) * max0<L>(h.grain - L::f(hc.keep_buffer) * h.need);
    const F culture = L::f(1.0f) - L::f(hc.culture_loss) * (L::f(1.0f) - h.skill);
    const M active = L::eq(h.coop, 2);
    const F price = L::sel(active, L::f(v.p_coop), L::f(v.p_other));
    const F proceeds = sold * price * culture;
    const M other = L::except(h.alive, active);
    l.add(Real::sold_coop, L::both(h.alive, active), sold);
    l.add(Real::sold_private, other, L::f(v.one_minus_share) * sold);
    l.add(Real::sold_state, other, L::f(v.state_share) * sold);
    h.cash = L::sel(h.alive, h.cash + proceeds, h.cash);
    h.grain = L::sel(h.alive, h.grain - sold, h.grain);
    f.spent = L::zero_unless(h.alive, spent);
    f.sold = L::zero_unless(h.alive, sold);
    f.proceeds = L::zero_unless(h.alive, proceeds);
}

// ---- §4 step 7 -------------------------------------------------------------

// §4 step 7 (bonus): every active member claims, a passive member falsely
// with probability false_claim_prob; a claim is audited with probability
// audit_prob. One word decides both by nested intervals: a claim if u < c
// (c = 1 genuine, false_claim_prob false), audited if u < c·audit_prob. A
// false claim caught is refused and its household expelled; every other
// claim is paid.
template <class L>
ARTEL_RULE void bonus_claim(L& l, Household<L>& h, const Year& y, Flows<L>& f) {
    using M = typename L::M;
    h.alive = is_alive(h);
    const M member = L::both(h.alive, L::gt(h.coop, 0));
    if (!L::any(member)) return;
    const auto w = l.hy(member, kClaim);
    const M genuine = L::eq(h.coop, 2);
    const M claim = L::both(member, L::either(genuine, L::below(w, y.false_claim)));
    const M audited = L::both(claim, L::below(w, genuine, y.audit, y.false_audit));
    l.add(Count::claims, claim);
    l.add(Count::audits, audited);
    l.add_const(Real::cost_audit, audited, y.audit_cost);
    const M caught = L::except(audited, genuine);
    h.coop = L::zero_where(caught, h.coop);
    h.expelled = L::either(h.expelled, caught);
    l.add(Count::expulsions, caught);
    const M paid = L::except(claim, caught);
    h.cash = L::sel(paid, h.cash + L::f(y.hc.bonus), h.cash);
    l.add_const(Real::cost_bonus, paid, y.bonus);
    l.add_const(Real::leakage, L::except(paid, genuine), y.bonus);
    f.bonus = L::zero_unless(paid, L::f(y.hc.bonus));
}

// ---- §4 step 8 -------------------------------------------------------------

// §4 step 8 (credit): the state's interest subsidy on members' debt, then
// interest, repayment from cash, and default past default_multiple × the
// limit (a defaulting member is expelled).
template <class L>
ARTEL_RULE void credit(L& l, Household<L>& h, const HouseholdConst& hc, Flows<L>& f) {
    using F = typename L::F;
    using M = typename L::M;
    h.alive = is_alive(h);
    const M in_debt = L::except(h.alive, h.debt == L::f(0.0f));
    if (!L::any(in_debt)) return;
    const M member = L::gt(h.coop, 0);
    l.add(Real::cost_interest, L::both(in_debt, member), L::f(hc.privilege) * h.debt);
    const F interest = h.debt * L::sel(member, L::f(hc.rate_coop), L::f(hc.rate_private));
    F debt = h.debt + interest;
    const F repaid = min_of<L>(h.cash, debt);
    h.cash = L::sel(in_debt, h.cash - repaid, h.cash);
    debt = debt - repaid;
    const M defaults = L::both(in_debt, debt > L::sel(member, L::f(hc.default_coop), L::f(hc.default_private)));
    l.add(Real::cost_writeoff, L::both(defaults, member), debt);
    f.interest = L::zero_unless(in_debt, interest);
    f.repaid = L::zero_unless(in_debt, repaid);
    f.written_off = f.written_off + L::zero_unless(defaults, debt);
    debt = L::zero_where(defaults, debt);
    h.debt = L::sel(in_debt, debt, h.debt);
    l.add(Count::defaults, defaults);
    const M expelled = L::both(defaults, member);
    h.coop = L::zero_where(expelled, h.coop);
    h.expelled = L::either(h.expelled, expelled);
    l.add(Count::expulsions, expelled);
}

// ---- §4 step 9 -------------------------------------------------------------

// §4 step 9 (literacy): the illiterate adults who learn, Binomial(illiterate,
// learn) by inversion of one word, learn the village's probability (higher
// for active members).
template <class L>
ARTEL_RULE void learn_to_read(L& l, Household<L>& h, Flows<L>& f) {
    using I = typename L::I;
    using M = typename L::M;
    h.alive = is_alive(h);
    const I illiterate = L::zero_unless(h.alive, h.adults - h.literate);
    const M some = L::gt(illiterate, 0);
    if (!L::any(some)) return;
    l.counts_at_most(h.size);  // illiterate <= size
    const I learned = l.learned(illiterate, l.hy(some, kLearned), L::eq(h.coop, 2));
    h.literate = h.literate + learned;
    f.literate_gained = f.literate_gained + learned;
}

// §4 step 9: skill += skill_rate × (literate/adults) × (coop = 2 ? 1 :
// skill_passive) × (1 − skill), within [0, 1].
template <class L>
ARTEL_RULE void learn_to_trade(Household<L>& h, const HouseholdConst& hc) {
    using F = typename L::F;
    const F rate = L::f(hc.skill_rate) * literate_share<L>(h.literate, h.adults) *
                   L::sel(L::eq(h.coop, 2), L::f(1.0f), L::f(hc.skill_passive));
    F skill = h.skill + rate * (L::f(1.0f) - h.skill);
    skill = L::sel(skill < L::f(0.0f), L::f(0.0f), L::sel(skill > L::f(1.0f), L::f(1.0f), skill));
    h.skill = L::sel(h.alive, skill, h.skill);
}

// ---- §4 step 10 ------------------------------------------------------------

// The statuses of step 10: a household changes status at most once, except
// join-then-activate.
template <class L>
struct Statuses {
    using M = typename L::M;
    using I = typename L::I;
    M non_member, active_all_year, passive_all_year;
    M joined, activated;
    I coop;  // the status being decided
};

// §4 step 10: a non-member not expelled this year joins with the village's
// probability 1 − exp(−x) (village::joining).
template <class L>
ARTEL_RULE Statuses<L> join(L& l, Household<L>& h, const Village& v) {
    Statuses<L> s;
    h.alive = is_alive(h);
    s.non_member = L::both(h.alive, L::eq(h.coop, 0));
    s.active_all_year = L::both(h.alive, L::both(L::eq(h.coop, 2), L::eq(h.coop_start, 2)));
    s.passive_all_year = L::both(h.alive, L::both(L::eq(h.coop, 1), L::eq(h.coop_start, 1)));
    const auto may_join = L::except(s.non_member, h.expelled);
    s.joined = L::both(may_join, L::below(l.hy(may_join, kJoin), v.join));
    s.coop = L::sel(s.joined, L::i(1), h.coop);
    s.activated = L::none();
    return s;
}

// §4 step 10: in a village with a store, a passive member (one who has just
// joined included) becomes active with probability 1 − exp(−(a0 +
// a_lit·literate/adults + a_skill·skill + a_bonus·bonus)), the rate in
// single precision and the probability in double.
template <class L>
ARTEL_RULE void activate(L& l, Household<L>& h, const HouseholdConst& hc, const Village& v, Statuses<L>& s) {
    if (!v.store) return;
    const auto passive = L::either(s.joined, s.passive_all_year);
    if (!L::any(passive)) return;
    const auto rate = L::f(hc.a0) + L::f(hc.a_lit) * literate_share<L>(h.literate, h.adults) +
                      L::f(hc.a_skill) * h.skill + L::f(hc.act_bonus);
    s.activated = l.activates(passive, l.hy(passive, kActivate), rate);
    s.coop = L::sel(s.activated, L::i(2), s.coop);
}

// §4 step 10: a member active at the start of the year lapses to passive
// with probability lapse_active × (hunger > 0 ? 1 + lapse_hunger : 1); one
// passive at the start of the year (and not just activated) leaves with
// probability leave_passive. One word, read by one or the other.
template <class L>
ARTEL_RULE void lapse_or_leave(L& l, Household<L>& h, const Year& y, Statuses<L>& s) {
    using M = typename L::M;
    const M may_leave = L::except(s.passive_all_year, s.activated);
    const auto w = l.hy(L::either(s.active_all_year, may_leave), kLapse);
    const M hungry = L::gt(h.hunger, 0);
    const M lapses = L::both(s.active_all_year, L::below(w, hungry, y.lapse_hungry, y.lapse));
    s.coop = L::sel(lapses, L::i(1), s.coop);
    const M leaves = L::both(may_leave, L::below(w, y.leave));
    h.coop = L::zero_where(leaves, s.coop);
}

// ---- the year, in MODEL.md's order -----------------------------------------

// Steps 3 and 4(a) of one household (or vector), which end in the village
// sums that step 4(b) needs (the levy and ΣD). E: the household's weather
// (1 when weather is off).
template <class L>
ARTEL_RULE void year_first_pass(L& l, Household<L>& h, const Year& y, const Village& v, typename L::F E,
                                VillageSums& sums, Flows<L>& f) {
    const auto& mech = y.p->mechanisms;
    f.harvest = harvest(l, h, y.hc, v, E);
    if (mech.reserve) f.levy = reserve_levy(l, h, y.hc, f.harvest, sums);
    f.wage = off_farm_wage(h, y.hc);
    buy_with_cash(l, h, y.hc, v, sums, f);
}

// Steps 4(b) to 10 of one household (or vector), after the village's ΣD
// gave v.c. h.need and h.shortfall are those of year_first_pass.
template <class L>
ARTEL_RULE void year_second_pass(L& l, Household<L>& h, const Year& y, const Village& v, VillageSums& sums,
                                 Flows<L>& f) {
    const auto& mech = y.p->mechanisms;
    draw_on_reserve(l, h, v, sums, f);
    mutual_aid(l, h, y, v, f);
    if (mech.credit) borrow(l, h, y.hc, v, f);
    famine(l, h, y, f);
    consume(l, h, f);
    if (mech.demography) births_and_deaths(l, h, y, f);
    if (mech.market) market(l, h, y.hc, v, f);
    h.expelled = L::none();
    if (y.bonus_on) bonus_claim(l, h, y, f);
    if (mech.credit) credit(l, h, y.hc, f);
    if (mech.literacy) {
        learn_to_read(l, h, f);
        learn_to_trade(h, y.hc);
    }
    if (mech.adoption && L::any(is_alive(h))) {
        Statuses<L> s = join(l, h, v);
        activate(l, h, y.hc, v, s);
        lapse_or_leave(l, h, y, s);
    }
}

}  // namespace artel::model::rules
