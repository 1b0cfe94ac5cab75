// The scalar reference kernel. Each step is one loop over the block's
// households (villages in order, households in order), so village sums are
// taken in a fixed order and every random draw is addressed by
// (household, year, purpose, word), never by position in the loop.
#include "kernels/household_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/math/detmath.hpp"
#include "engine/math/fmath.hpp"
#include "engine/random/samplers.hpp"
#include "engine/random/streams.hpp"
#include "kernels/purposes.hpp"
#include "kernels/village.hpp"

namespace artel::model {
namespace {

using rng::EntityKind;
using rng::Stream;

inline float clip01f(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
using village::hazard;
inline bool draw(std::uint32_t word, double prob) { return rng::bernoulli(word, prob); }

struct Streams {
    rng::Key key;
    std::uint32_t rep;
    std::uint32_t slot;
    Stream household(std::uint32_t id, Purpose p) const {
        return Stream(key, rep, EntityKind::Household, id, slot, static_cast<std::uint32_t>(p));
    }
    Stream village(std::uint32_t id, Purpose p) const {
        return Stream(key, rep, EntityKind::Village, id, slot, static_cast<std::uint32_t>(p));
    }
};

inline bool is_member(std::int32_t coop) { return coop >= 1; }
inline float literate_share(std::int32_t literate, std::int32_t adults) {
    return adults > 0 ? static_cast<float>(literate) / static_cast<float>(adults) : 0.0f;
}

// M, A and L of every village from its living households.
void village_aggregates(BlockState& s) {
    const auto H = static_cast<std::size_t>(s.households);
    auto& hh = s.hh;
    for (std::int64_t v = 0; v < s.villages; ++v) {
        std::int64_t living = 0, members = 0, active = 0, adults = 0, literate = 0;
        const std::size_t b = static_cast<std::size_t>(v) * H;
        for (std::size_t i = b; i < b + H; ++i) {
            if (hh.size[i] == 0) continue;
            ++living;
            members += is_member(hh.coop[i]);
            active += hh.coop[i] == 2;
            adults += hh.adults[i];
            literate += hh.literate[i];
        }
        const auto vi = static_cast<std::size_t>(v);
        s.vil.M[vi] = living ? static_cast<double>(members) / static_cast<double>(living) : 0.0;
        s.vil.A[vi] = living ? static_cast<double>(active) / static_cast<double>(living) : 0.0;
        s.vil.L[vi] = adults ? static_cast<double>(literate) / static_cast<double>(adults) : 0.0;
    }
}

// A household that reaches size 0 is dissolved: its debt is written off (a
// member's write-off is a state cost, not a default) and its grain and cash
// leave the books with it.
void dissolve(std::size_t i, BlockState& s, Tally& tally, HouseholdFlows* f) {
    auto& hh = s.hh;
    if (is_member(hh.coop[i])) tally.add(Real::cost_writeoff, hh.debt[i]);
    if (f) {
        f->written_off += hh.debt[i];
        f->grain_lost += hh.grain[i];
        f->cash_lost += hh.cash[i];
    }
    hh.debt[i] = 0.0f;
    hh.grain[i] = 0.0f;
    hh.cash[i] = 0.0f;
    hh.coop[i] = 0;
    hh.hunger[i] = 0;
    tally.add(Count::dissolved, 1);
}

}  // namespace

void init_block(const Params& p, BlockState& s) {
    const Streams st{rng::make_key(p.seed), s.replication, rng::kInitSlot};
    const auto H = static_cast<std::size_t>(s.households);
    auto& hh = s.hh;
    for (std::int64_t v = 0; v < s.villages; ++v) {
        const auto vi = static_cast<std::size_t>(v);
        const auto store_word = st.village(s.village_id(v), Purpose::InitStore).word(0);
        s.vil.store[vi] = draw(store_word, p.store0) ? 1 : 0;
        s.vil.reserve[vi] = 0.0;
        for (std::size_t i = vi * H; i < (vi + 1) * H; ++i) {
            const auto id = s.household_id(i);
            const int size =
                1 + rng::poisson_inversion(p.size_mean - 1.0, st.household(id, Purpose::InitSize).word(0), 15);
            const int adults =
                1 + rng::binomial_bernoulli(size - 1, p.adult_share, st.household(id, Purpose::InitAdults), 0);
            const int literate =
                rng::binomial_bernoulli(adults, p.literacy0, st.household(id, Purpose::InitLiterate), 0);
            const auto lw = st.household(id, Purpose::InitLand).block(0);
            const double z = rng::normal_pair(lw[0], lw[1]).z0;
            const double land = p.land_mean * (static_cast<double>(size) / p.size_mean) *
                                dmath::exp(p.land_sigma * z - 0.5 * p.land_sigma * p.land_sigma);
            const double need = size * p.food_need + land * p.seed_need;
            const auto cw = st.household(id, Purpose::InitCoop).block(0);
            int coop = 0;
            if (draw(cw[0], p.active0)) {
                coop = s.vil.store[vi] ? 2 : 1;
            } else if (draw(cw[1], p.passive0 / (1.0 - p.active0))) {
                coop = 1;
            }
            hh.size[i] = size;
            hh.adults[i] = adults;
            hh.literate[i] = literate;
            hh.land[i] = static_cast<float>(land);
            hh.grain[i] = static_cast<float>(p.grain0 * need);
            hh.cash[i] = static_cast<float>(p.cash0);
            hh.debt[i] = 0.0f;
            hh.coop[i] = coop;
            hh.skill[i] = static_cast<float>(rng::beta(p.skill_a, p.skill_b, st.household(id, Purpose::InitSkill)));
            hh.hunger[i] = 0;
        }
    }
    village_aggregates(s);
}

void tally_stocks(const Params& p, const BlockState& s, const double* price_by_region, Tally& block_tally,
                  GiniHistogram& gini, RegionTally* regions) {
    const auto H = static_cast<std::size_t>(s.households);
    const auto& hh = s.hh;
    for (std::int64_t v = 0; v < s.villages; ++v) {
        const auto vi = static_cast<std::size_t>(v);
        const auto g = s.village_id(v) % static_cast<std::uint32_t>(p.regions);
        const auto P = static_cast<float>(price_by_region[g]);
        // The village's own tallies, added to the block's and its region's
        // (integer sums: the same block tallies as adding them directly).
        Tally tally;
        tally.add(Count::stores_open, s.vil.store[vi]);
        tally.add(Real::reserve, s.vil.reserve[vi]);
        for (std::size_t i = vi * H; i < (vi + 1) * H; ++i) {
            if (hh.size[i] == 0) continue;
            tally.add(Count::living, 1);
            tally.add(Count::persons, hh.size[i]);
            tally.add(Count::passive, hh.coop[i] == 1);
            tally.add(Count::active, hh.coop[i] == 2);
            tally.add(Count::adults, hh.adults[i]);
            tally.add(Count::literate, hh.literate[i]);
            tally.add(Count::hungry, hh.hunger[i] > 0);
            tally.add(Real::grain, hh.grain[i]);
            tally.add(Real::cash, hh.cash[i]);
            tally.add(Real::debt, hh.debt[i]);
            gini.add(household_wealth(hh.cash[i], hh.grain[i], hh.debt[i], P));
        }
        block_tally.merge(tally);
        if (regions) regions[g].add(tally);
    }
}

HouseholdConst HouseholdConst::of(const Params& p) {
    const auto f = [](double x) { return static_cast<float>(x); };
    HouseholdConst c{};
    c.food_need = f(p.food_need), c.seed_need = f(p.seed_need), c.yield_mean = f(p.yield_mean);
    c.beta_lit = f(p.beta_lit), c.beta_coop = f(p.beta_coop), c.reserve_levy = f(p.reserve_levy);
    c.wage = f(p.wage), c.wage_landpoor = f(p.wage_landpoor), c.land_per_mouth = f(p.land_mean / p.size_mean);
    c.coop_aid = f(p.coop_aid), c.credit_limit_coop = f(p.credit_limit_coop);
    c.credit_limit_private = f(p.credit_limit_private);
    c.default_coop = f(p.default_multiple * p.credit_limit_coop);
    c.default_private = f(p.default_multiple * p.credit_limit_private);
    c.famine_mortality = f(p.famine_mortality);
    c.spend_share = f(p.spend_share), c.keep_buffer = f(p.keep_buffer), c.sell_share = f(p.sell_share);
    c.culture_loss = f(p.culture_loss);
    c.bonus = f(p.bonus), c.rate_coop = f(p.rate_coop), c.rate_private = f(p.rate_private);
    c.privilege = f(p.rate_private - p.rate_coop);
    c.skill_rate = f(p.skill_rate), c.skill_passive = f(p.skill_passive);
    c.a0 = f(p.a0), c.a_lit = f(p.a_lit), c.a_skill = f(p.a_skill);
    c.act_bonus = p.mechanisms.bonus ? f(p.a_bonus * p.bonus) : 0.0f;
    return c;
}

// Household quantities are single precision (docs/model.md, "The household
// state is single precision"): every formula below that involves one is
// evaluated in float, from the parameters of HouseholdConst and village
// quantities rounded to float once per village. Village sums (levy,
// shortfall, reserve drawn) are taken in double, in household order.
// Probabilities are computed in float and drawn against in double
// (rng::bernoulli).
void step_year(const Params& p, const Weather& w, std::int64_t t, BlockState& s, YearScratch& scratch,
               Tally& year_tally, GiniHistogram& gini, FlowLog* log, RegionTally* regions) {
    const Streams st{rng::make_key(p.seed), s.replication, rng::year_slot(t)};
    const auto& mech = p.mechanisms;
    const HouseholdConst hc = HouseholdConst::of(p);
    const auto H = static_cast<std::size_t>(s.households);
    const auto n = s.n_households();
    auto& hh = s.hh;
    auto& vil = s.vil;
    scratch.resize(n);
    const auto G = static_cast<std::uint32_t>(p.regions);
    const double privilege = p.rate_private - p.rate_coop;  // signed interest privilege of members
    auto flows = [&](std::size_t i) -> HouseholdFlows* { return log ? &log->flows[i] : nullptr; };

    if (log) {
        log->flows.assign(n, HouseholdFlows{});
        for (std::size_t i = 0; i < n; ++i) {
            auto& f = log->flows[i];
            f.alive_at_start = hh.size[i] > 0;
            f.grain0 = hh.grain[i], f.cash0 = hh.cash[i], f.debt0 = hh.debt[i];
            f.size0 = hh.size[i], f.literate0 = hh.literate[i];
        }
    }
    for (std::size_t i = 0; i < n; ++i) {
        scratch.coop_start[i] = hh.coop[i];
        scratch.expelled[i] = 0;
        scratch.claimed[i] = 0;
        if (hh.size[i] > 0) year_tally.add(Count::persons_start, hh.size[i]);
    }

    float sigma_Hf = 0.0f, c2Hf = 0.0f;
    fmath::weather_coefficients(p.sigma_H, sigma_Hf, c2Hf);
    for (std::int64_t v = 0; v < s.villages; ++v) {
        const auto vi = static_cast<std::size_t>(v);
        const std::uint32_t vid = s.village_id(v);
        const std::uint32_t g = vid % G;
        // The village's flows, added to the year's and its region's at the
        // village's end (integer sums: the same as adding them directly).
        Tally tally;
        const std::size_t b = vi * H, e = b + H;

        // 1. Organisers.
        if (mech.adoption) {
            const auto word = st.village(vid, Purpose::Organiser).word(0);
            if (!vil.store[vi]) {
                if (village::store_opens(word, p)) vil.store[vi] = 1;
            } else if (village::store_closes(word, p, vil.A[vi])) {
                vil.store[vi] = 0;
                for (std::size_t i = b; i < e; ++i)
                    if (hh.size[i] > 0 && hh.coop[i] == 2) hh.coop[i] = 1;
            }
        }

        // 2. Weather of the village (regional part drawn once per replication).
        const auto wi = w.at(t, g);
        const double R = w.R[wi], P = w.P[wi];
        double V = 1.0;
        if (mech.weather) {
            const auto vw = st.village(vid, Purpose::WeatherVillage).block(0);
            V = dmath::exp(p.sigma_V * rng::normal_pair(vw[0], vw[1]).z0 - 0.5 * p.sigma_V * p.sigma_V);
        }
        const auto Rf = static_cast<float>(R), Pf = static_cast<float>(P), Vf = static_cast<float>(V);

        // 3. Harvest, reserve levy, off-farm earnings.
        double levy_sum = 0.0;
        for (std::size_t i = b; i < e; ++i) {
            if (hh.size[i] == 0) continue;
            float E = 1.0f;
            if (mech.weather) {
                const auto hw = st.household(s.household_id(i), Purpose::HouseholdYear).block(0);
                E = fmath::weather_multiplier(hw[kWeatherZ0], hw[kWeatherZ1], sigma_Hf, c2Hf);
            }
            const float pi = 1.0f + hc.beta_lit * literate_share(hh.literate[i], hh.adults[i]) +
                             hc.beta_coop * (hh.coop[i] == 2 ? 1.0f : 0.0f);
            const float h = hh.land[i] * hc.yield_mean * Rf * Vf * E * pi;
            hh.grain[i] += h;
            tally.add(Real::harvest, h);
            tally.add(Real::land, hh.land[i]);
            float levy = 0.0f;
            if (mech.reserve) {
                levy = hc.reserve_levy * h;
                hh.grain[i] -= levy;
                levy_sum += levy;
            }
            const float sized = static_cast<float>(hh.size[i]);
            const float landpoor = std::max(0.0f, 1.0f - (hh.land[i] / sized) / hc.land_per_mouth);
            const float wage = hc.wage * static_cast<float>(hh.adults[i]) * (1.0f + hc.wage_landpoor * landpoor);
            hh.cash[i] += wage;
            if (auto* f = flows(i)) f->harvest = h, f->levy = levy, f->wage = wage;
        }
        vil.reserve[vi] += levy_sum;

        // 4. Subsistence: (a) cash, (b) reserve, (c) co-operative aid, (d) credit.
        double shortfall_sum = 0.0;
        for (std::size_t i = b; i < e; ++i) {
            scratch.shortfall[i] = 0.0f;
            if (hh.size[i] == 0) continue;
            const float need = static_cast<float>(hh.size[i]) * hc.food_need + hh.land[i] * hc.seed_need;
            scratch.need[i] = need;
            if (hh.grain[i] >= need) continue;
            float D = need - hh.grain[i];
            const float cost = D * Pf;
            float bought;
            if (hh.cash[i] >= cost) {
                bought = D;
                hh.cash[i] -= cost;
                if (auto* f = flows(i)) f->paid_for_grain = cost;
                D = 0.0f;
            } else {
                bought = hh.cash[i] / Pf;
                if (auto* f = flows(i)) f->paid_for_grain = hh.cash[i];
                hh.cash[i] = 0.0f;
                D -= bought;
            }
            hh.grain[i] += bought;
            tally.add(Real::bought, bought);
            if (auto* f = flows(i)) f->bought = bought;
            scratch.shortfall[i] = D;
            shortfall_sum += D;
        }
        // (b) every household's remaining shortfall covered in the same fraction.
        double c = 0.0;
        if (mech.reserve && shortfall_sum > 0.0 && vil.reserve[vi] > 0.0)
            c = std::min(1.0, vil.reserve[vi] / shortfall_sum);
        const auto cf = static_cast<float>(c);
        double drawn_sum = 0.0;
        for (std::size_t i = b; i < e; ++i) {
            if (hh.size[i] == 0) continue;
            float D = scratch.shortfall[i];
            if (D > 0.0f && c > 0.0) {
                const float take = c >= 1.0 ? D : cf * D;
                hh.grain[i] += take;
                drawn_sum += take;
                tally.add(Real::reserve_drawn, take);
                if (auto* f = flows(i)) f->from_reserve = take;
                D = c >= 1.0 ? 0.0f : D - take;
            }
            // (c) mutual aid for members, paid by the state at price P.
            if (D > 0.0f && p.coop_aid > 0.0 && is_member(hh.coop[i])) {
                const float aid = p.coop_aid >= 1.0 ? D : hc.coop_aid * D;
                hh.grain[i] += aid;
                tally.add(Real::aid, aid);
                tally.add(Real::cost_aid, aid * Pf);
                if (auto* f = flows(i)) f->aid = aid;
                D = p.coop_aid >= 1.0 ? 0.0f : D - aid;
            }
            // (d) credit up to the household's limit.
            if (D > 0.0f && mech.credit) {
                const float limit = is_member(hh.coop[i]) ? hc.credit_limit_coop : hc.credit_limit_private;
                const float room = std::max(0.0f, limit - hh.debt[i]);
                const float cost = D * Pf;
                float grain_in, b_roubles;
                if (room >= cost) {
                    b_roubles = cost;
                    grain_in = D;
                    D = 0.0f;
                } else {
                    b_roubles = room;
                    grain_in = room / Pf;
                    D -= grain_in;
                }
                if (b_roubles > 0.0f) {
                    hh.grain[i] += grain_in;
                    hh.debt[i] += b_roubles;
                    tally.add(Real::borrowed, grain_in);
                    if (auto* f = flows(i)) f->borrowed_grain = grain_in, f->borrowed = b_roubles;
                }
            }
            // What remains is uncovered.
            const float need = scratch.need[i];
            const float f_unc = need > 0.0f ? D / need : 0.0f;
            if (f_unc > 0.0f) {
                hh.hunger[i] += 1;
                if (mech.famine) {
                    // One word decides who dies, if anyone, by nested intervals:
                    // u < d·a·l a literate adult, else u < d·a an illiterate
                    // adult, else u < d a child (d the death probability, a the
                    // adult share, l the literate share of adults).
                    const std::uint32_t word = st.household(s.household_id(i), Purpose::Demography)
                                                   .word(kFamine);
                    const float die = hc.famine_mortality * f_unc;
                    const float adult_dies =
                        die * (static_cast<float>(hh.adults[i]) / static_cast<float>(hh.size[i]));
                    const float literate_dies = adult_dies * literate_share(hh.literate[i], hh.adults[i]);
                    if (draw(word, die)) {
                        if (draw(word, adult_dies)) {
                            if (draw(word, literate_dies)) {
                                hh.literate[i] -= 1;
                                if (auto* f = flows(i)) f->literate_died += 1;
                            }
                            hh.adults[i] -= 1;
                        }
                        hh.size[i] -= 1;
                        tally.add(Count::famine_deaths, 1);
                        if (auto* f = flows(i)) f->famine_deaths += 1;
                    }
                }
            } else {
                hh.hunger[i] = 0;
            }
            const float consumed = std::min(hh.grain[i], need);
            hh.grain[i] -= consumed;
            if (auto* f = flows(i)) f->consumed = consumed;
            if (hh.size[i] == 0) dissolve(i, s, tally, flows(i));
        }
        vil.reserve[vi] = std::max(0.0, vil.reserve[vi] - drawn_sum);

        // 5. Demography: a birth, then children coming of age (and literate),
        // then deaths of literate adults, illiterate adults and children, each
        // a binomial drawn by inversion of one word (binomial_table.hpp).
        if (mech.demography) {
            auto& bt = scratch.demography;
            bt.set(p);
            for (std::size_t i = b; i < e; ++i) {
                if (hh.size[i] == 0) continue;
                const auto id = s.household_id(i);
                auto* f = flows(i);
                const auto hy = st.household(id, Purpose::HouseholdYear).block(0);
                const auto dem_stream = st.household(id, Purpose::Demography);
                rng::WordReader dem(dem_stream);
                const int children0 = hh.size[i] - hh.adults[i];
                if (hh.adults[i] >= 2 && hh.size[i] < p.birth_cap && draw(hy[kBirth], p.birth_rate)) {
                    hh.size[i] += 1;
                    tally.add(Count::births, 1);
                    if (f) f->births += 1;
                }
                const int came = bt.age.sample(dem[kComeOfAge], children0);
                const int schooled = bt.school.sample(dem[kSchooled], came);
                hh.adults[i] += came;
                hh.literate[i] += schooled;
                if (f) f->literate_gained += schooled;
                const int lit = hh.literate[i], ad = hh.adults[i], sz = hh.size[i];
                const int dead_lit = bt.adult_death.sample(dem[kDeathsLiterate], lit);
                const int dead_ill = bt.adult_death.sample(dem[kDeathsIlliterate], ad - lit);
                const int dead_child = bt.child_death.sample(hy[kChildDeaths], sz - ad);
                const int dead = dead_lit + dead_ill + dead_child;
                hh.literate[i] -= dead_lit;
                hh.adults[i] -= dead_lit + dead_ill;
                hh.size[i] -= dead;
                tally.add(Count::deaths, dead);
                if (f) f->deaths += dead, f->literate_died += dead_lit;
                if (hh.adults[i] == 0 && hh.size[i] > 0) {
                    hh.adults[i] = 1;
                    if (draw(dem[kEldestLiterate], p.school_rate)) {
                        hh.literate[i] += 1;
                        if (f) f->literate_gained += 1;
                    }
                }
                if (hh.size[i] == 0) dissolve(i, s, tally, f);
            }
        }

        // 6. Market (the village's prices and state share in double, then float).
        if (mech.market) {
            const village::Market m = village::market(p, P);
            const auto p_coopf = static_cast<float>(m.p_coop), p_otherf = static_cast<float>(m.p_other);
            const auto sharef = static_cast<float>(m.state_share), restf = static_cast<float>(1.0 - m.state_share);
            for (std::size_t i = b; i < e; ++i) {
                if (hh.size[i] == 0) continue;
                const float spent = hc.spend_share * hh.cash[i];
                hh.cash[i] -= spent;
                const float s_amt = hc.sell_share * std::max(0.0f, hh.grain[i] - hc.keep_buffer * scratch.need[i]);
                const float culture = 1.0f - hc.culture_loss * (1.0f - hh.skill[i]);
                float proceeds;
                if (hh.coop[i] == 2) {
                    proceeds = s_amt * p_coopf * culture;
                    tally.add(Real::sold_coop, s_amt);
                } else {
                    proceeds = s_amt * p_otherf * culture;
                    tally.add(Real::sold_private, restf * s_amt);
                    tally.add(Real::sold_state, sharef * s_amt);
                }
                hh.cash[i] += proceeds;
                hh.grain[i] -= s_amt;
                if (auto* f = flows(i)) f->spent = spent, f->sold = s_amt, f->proceeds = proceeds;
            }
        }

        // 7. Bonus and verification.
        if (mech.bonus && p.bonus > 0.0) {
            for (std::size_t i = b; i < e; ++i) {
                if (hh.size[i] == 0 || hh.coop[i] == 0) continue;
                // One word decides the claim and its audit by nested intervals:
                // a claim if u < c (c = 1 for an active member, who claims
                // genuinely; false_claim_prob for a passive one), audited if
                // u < c·audit_prob.
                const std::uint32_t word = st.household(s.household_id(i), Purpose::HouseholdYear).word(kClaim);
                scratch.claimed[i] = 1;
                const bool genuine = hh.coop[i] == 2;
                const double claim = genuine ? 1.0 : p.false_claim_prob;
                if (!draw(word, claim)) continue;
                tally.add(Count::claims, 1);
                const bool audited = draw(word, claim * p.audit_prob);
                if (audited) {
                    tally.add(Count::audits, 1);
                    tally.add(Real::cost_audit, p.audit_cost);
                }
                if (!genuine && audited) {  // a false claim caught: refused, expelled
                    hh.coop[i] = 0;
                    scratch.expelled[i] = 1;
                    tally.add(Count::expulsions, 1);
                    continue;
                }
                hh.cash[i] += hc.bonus;
                tally.add(Real::cost_bonus, p.bonus);
                if (!genuine) tally.add(Real::leakage, p.bonus);
                if (auto* f = flows(i)) f->bonus = hc.bonus;
            }
        }

        // 8. Credit: subsidy, interest, repayment, default.
        if (mech.credit) {
            for (std::size_t i = b; i < e; ++i) {
                if (hh.size[i] == 0 || hh.debt[i] == 0.0f) continue;
                const bool member = is_member(hh.coop[i]);
                if (member) tally.add(Real::cost_interest, hc.privilege * hh.debt[i]);
                const float interest = hh.debt[i] * (member ? hc.rate_coop : hc.rate_private);
                hh.debt[i] += interest;
                const float repay = std::min(hh.cash[i], hh.debt[i]);
                hh.cash[i] -= repay;
                hh.debt[i] -= repay;
                if (auto* f = flows(i)) f->interest = interest, f->repaid = repay;
                if (hh.debt[i] > (member ? hc.default_coop : hc.default_private)) {
                    if (member) tally.add(Real::cost_writeoff, hh.debt[i]);
                    if (auto* f = flows(i)) f->written_off += hh.debt[i];
                    hh.debt[i] = 0.0f;
                    tally.add(Count::defaults, 1);
                    if (member) {
                        hh.coop[i] = 0;
                        scratch.expelled[i] = 1;
                        tally.add(Count::expulsions, 1);
                    }
                }
            }
        }

        // 9. Literacy and trading skill.
        if (mech.literacy) {
            const village::Learning rates = village::learning(p, vil.L[vi]);
            // How many illiterate adults learn: Binomial(illiterate, learn) by
            // inversion of one word (binomial_search.hpp).
            auto& learn_other = scratch.learn_other;
            auto& learn_active = scratch.learn_active;
            learn_other.set(rates.other);
            learn_active.set(rates.active);
            for (std::size_t i = b; i < e; ++i) {
                if (hh.size[i] == 0) continue;
                const int illiterate = hh.adults[i] - hh.literate[i];
                if (illiterate > 0) {
                    const auto& binomial = hh.coop[i] == 2 ? learn_active : learn_other;
                    const std::uint32_t word = st.household(s.household_id(i), Purpose::HouseholdYear)
                                                   .word(kLearned);
                    const int learned = binomial.sample(word, illiterate);
                    hh.literate[i] += learned;
                    if (auto* f = flows(i)) f->literate_gained += learned;
                }
                const float rate = hc.skill_rate * literate_share(hh.literate[i], hh.adults[i]) *
                                   (hh.coop[i] == 2 ? 1.0f : hc.skill_passive);
                hh.skill[i] = clip01f(hh.skill[i] + rate * (1.0f - hh.skill[i]));
            }
        }

        // 10. Co-operation: joining, activation, lapsing and leaving.
        if (mech.adoption) {
            const double join = village::joining(p, vil.store[vi] != 0, vil.M[vi], privilege);
            for (std::size_t i = b; i < e; ++i) {
                if (hh.size[i] == 0) continue;
                const auto year_stream = st.household(s.household_id(i), Purpose::HouseholdYear);
                const auto words = year_stream.block(kJoin / 4);  // join, activate, lapse
                const int start = scratch.coop_start[i];
                auto activate = [&] {
                    // the activation rate in float, its hazard in double
                    const float a = hc.a0 + hc.a_lit * literate_share(hh.literate[i], hh.adults[i]) +
                                    hc.a_skill * hh.skill[i] + hc.act_bonus;
                    if (draw(words[kActivate % 4], hazard(a))) {
                        hh.coop[i] = 2;
                        return true;
                    }
                    return false;
                };
                if (hh.coop[i] == 0) {
                    // Word 4 is the claim of a member and the joining of a
                    // non-member: a member at step 7 is a non-member now only
                    // if it was expelled, so no household reads it twice.
                    if (!scratch.expelled[i] && scratch.claimed[i])
                        throw std::logic_error("step 10: HouseholdYear word 4 read for a claim and for joining");
                    if (!scratch.expelled[i] && draw(words[kJoin % 4], join)) {
                        hh.coop[i] = 1;
                        if (vil.store[vi]) activate();
                    }
                } else if (hh.coop[i] == 2 && start == 2) {
                    const double q = p.lapse_active * (hh.hunger[i] > 0 ? 1.0 + p.lapse_hunger : 1.0);
                    if (draw(words[kLapse % 4], q)) hh.coop[i] = 1;
                } else if (hh.coop[i] == 1 && start == 1) {
                    if (vil.store[vi] && activate()) continue;
                    if (draw(words[kLapse % 4], p.leave_passive)) hh.coop[i] = 0;
                }
            }
        }

        // 11. Year end: reserve decay.
        vil.reserve[vi] *= 1.0 - p.reserve_decay;
        year_tally.merge(tally);
        if (regions) regions[g].add(tally);
    }

    // 11. Year end: next year's M, A, L; end-of-year stocks.
    village_aggregates(s);
    std::vector<double> price(static_cast<std::size_t>(G));
    for (std::uint32_t g = 0; g < G; ++g) price[g] = w.P[w.at(t, g)];
    tally_stocks(p, s, price.data(), year_tally, gini, regions);

    if (log) {
        for (std::size_t i = 0; i < n; ++i) {
            auto& f = log->flows[i];
            f.grain1 = hh.grain[i], f.cash1 = hh.cash[i], f.debt1 = hh.debt[i];
            f.size1 = hh.size[i], f.literate1 = hh.literate[i];
        }
    }
}

}  // namespace artel::model
