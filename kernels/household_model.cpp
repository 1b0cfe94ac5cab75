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
#include "kernels/one_lane.hpp"
#include "kernels/purposes.hpp"
#include "kernels/rules.hpp"
#include "kernels/village.hpp"

namespace artel::model {
namespace {

using rng::EntityKind;
using rng::Stream;

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

}  // namespace

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
        const village::Shares sh = village::shares(living, members, active, adults, literate);
        s.vil.M[vi] = sh.M, s.vil.A[vi] = sh.A, s.vil.L[vi] = sh.L;
    }
}

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

namespace {

// One household's state as the rules see it (kernels/rules.hpp).
template <class L>
rules::Household<L> load(const BlockState& s, std::size_t i) {
    const auto& hh = s.hh;
    rules::Household<L> h{};
    h.size = hh.size[i], h.adults = hh.adults[i], h.literate = hh.literate[i], h.coop = hh.coop[i];
    h.hunger = hh.hunger[i];
    h.land = hh.land[i], h.grain = hh.grain[i], h.cash = hh.cash[i], h.debt = hh.debt[i], h.skill = hh.skill[i];
    h.alive = h.size > 0;
    return h;
}
template <class L>
void store(const rules::Household<L>& h, BlockState& s, std::size_t i) {
    auto& hh = s.hh;
    hh.size[i] = h.size, hh.adults[i] = h.adults, hh.literate[i] = h.literate, hh.coop[i] = h.coop;
    hh.hunger[i] = h.hunger;
    hh.grain[i] = h.grain, hh.cash[i] = h.cash, hh.debt[i] = h.debt, hh.skill[i] = h.skill;
}

// A household's flows, from the rules' (float) to the log's (double).
template <class L>
void log_flows(const rules::Flows<L>& r, HouseholdFlows& f) {
#define ARTEL_COPY_FLOW(n) f.n = r.n;
    ARTEL_HOUSEHOLD_FLOWS(ARTEL_COPY_FLOW, ARTEL_COPY_FLOW)
#undef ARTEL_COPY_FLOW
}

// The reference driver: villages in order, and in each the households in
// order, twice (MODEL.md §4: the reserve's share c needs the village's ΣD
// of step 4(a) before any household goes on), calling the rules of
// kernels/rules.hpp on one household at a time. With kLog, every
// household's flows go to `log`; with kCount, the words the model reads are
// counted (kernels/simd/draw_count.hpp).
template <bool kLog, bool kCount>
void reference_year(const Params& p, const Weather& w, std::int64_t t, BlockState& s, YearScratch& scratch,
                    Tally& year_tally, GiniHistogram& gini, FlowLog* log, RegionTally* regions) {
    using Lane = OneLaneOf<kCount>;
    const auto& mech = p.mechanisms;
    const rules::Year y = rules::Year::of(p);
    const auto H = static_cast<std::size_t>(s.households);
    const auto n = s.n_households();
    auto& hh = s.hh;
    auto& vil = s.vil;
    scratch.resize(n);
    if (mech.weather) scratch.hy0.resize(n);
    scratch.demography.set(p);
    const auto G = static_cast<std::uint32_t>(p.regions);
    const double privilege = p.rate_private - p.rate_coop;  // signed interest privilege of members
    const Streams st{rng::make_key(p.seed), s.replication, rng::year_slot(t)};
    const typename Lane::Draws draws{st.key, st.rep, st.slot, &scratch.demography, &scratch.learn_other,
                               &scratch.learn_active};

    // With kLog, each household's flows over both passes, for the log.
    std::vector<rules::Flows<Lane>> moved;
    if constexpr (kLog) {
        moved.assign(n, rules::Flows<Lane>{});
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
        if (hh.size[i] > 0) year_tally.add(Count::persons_start, hh.size[i]);
        if constexpr (kCount) simd::detail::counts().household_years += hh.size[i] > 0;
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
        Lane l(draws, tally);
        const std::size_t b = vi * H, e = b + H;

        // 1. Organisers.
        if (mech.adoption) {
            const auto word = st.village(vid, Purpose::Organiser).word(0);
            if constexpr (kCount) simd::detail::counts().used += !vil.store[vi] || vil.A[vi] < p.store_min_share;
            if (!vil.store[vi]) {
                if (village::store_opens(word, p)) vil.store[vi] = 1;
            } else if (village::store_closes(word, p, vil.A[vi])) {
                vil.store[vi] = 0;
                for (std::size_t i = b; i < e; ++i) hh.coop[i] = reference::store_closed<OneLane>(hh.size[i], hh.coop[i]);
            }
        }

        // 2. Weather of the village (regional part drawn once per replication).
        const auto wi = w.at(t, g);
        double V = 1.0;
        if (mech.weather) {
            const auto vw = st.village(vid, Purpose::WeatherVillage).block(0);
            if constexpr (kCount) simd::detail::counts().used += 2;
            V = dmath::exp(p.sigma_V * rng::normal_pair(vw[0], vw[1]).z0 - 0.5 * p.sigma_V * p.sigma_V);
        }
        rules::Village rv;
        rv.Rf = static_cast<float>(w.R[wi]), rv.Pf = static_cast<float>(w.P[wi]), rv.Vf = static_cast<float>(V);
        rules::VillageSums sums;

        // 3 and 4(a), household by household.
        for (std::size_t i = b; i < e; ++i) {
            if (hh.size[i] == 0) continue;
            auto h = load<Lane>(s, i);
            l.at(s.household_id(i));
            const float E = mech.weather ? fmath::weather_multiplier(l.hy(true, kWeatherZ0), l.hy(true, kWeatherZ1),
                                                                     sigma_Hf, c2Hf)
                                         : 1.0f;
            rules::Flows<Lane> unlogged{};
            auto& f = kLog ? moved[i] : unlogged;
            reference::year_first_pass(l, h, y, rv, E, sums, f);
            store(h, s, i);
            if (mech.weather) scratch.hy0[i] = *l.household_year_block0();
            scratch.need[i] = h.need;
            scratch.shortfall[i] = h.shortfall;
        }
        vil.reserve[vi] += sums.levy;

        // The village's quantities of 4(b), 6, 9 and 10 (kernels/village.hpp).
        rv.c = village::reserve_share(p, vil.reserve[vi], sums.shortfall);
        rv.cf = static_cast<float>(rv.c);
        rv.store = vil.store[vi] != 0;
        if (mech.market) {
            const village::Market m = village::market(p, w.P[wi]);
            rv.p_coop = static_cast<float>(m.p_coop), rv.p_other = static_cast<float>(m.p_other);
            rv.state_share = static_cast<float>(m.state_share);
            rv.one_minus_share = static_cast<float>(1.0 - m.state_share);
        }
        if (mech.literacy) {
            const village::Learning rates = village::learning(p, vil.L[vi]);
            scratch.learn_other.set(rates.other);
            scratch.learn_active.set(rates.active);
        }
        if (mech.adoption)
            rv.join = rules::Threshold::of_prob(village::joining(p, rv.store, vil.M[vi], privilege));

        // 4(b) to 10, household by household.
        for (std::size_t i = b; i < e; ++i) {
            if (hh.size[i] == 0) continue;
            auto h = load<Lane>(s, i);
            h.coop_start = scratch.coop_start[i];
            h.need = scratch.need[i];
            h.shortfall = scratch.shortfall[i];
            l.at(s.household_id(i), mech.weather ? &scratch.hy0[i] : nullptr);
            rules::Flows<Lane> unlogged{};
            auto& f = kLog ? moved[i] : unlogged;
            reference::year_second_pass(l, h, y, rv, sums, f);
            store(h, s, i);
        }
        // 11. Year end.
        vil.reserve[vi] = village::reserve_at_year_end(p, vil.reserve[vi], sums.drawn);
        year_tally.merge(tally);
        if (regions) regions[g].add(tally);
    }

    // 11. Year end: next year's M, A, L; end-of-year stocks.
    village_aggregates(s);
    std::vector<double> price(static_cast<std::size_t>(G));
    for (std::uint32_t g = 0; g < G; ++g) price[g] = w.P[w.at(t, g)];
    tally_stocks(p, s, price.data(), year_tally, gini, regions);

    if constexpr (kLog) {
        for (std::size_t i = 0; i < n; ++i) {
            auto& f = log->flows[i];
            log_flows(moved[i], f);
            f.grain1 = hh.grain[i], f.cash1 = hh.cash[i], f.debt1 = hh.debt[i];
            f.size1 = hh.size[i], f.literate1 = hh.literate[i];
        }
    }
}

}  // namespace

void step_year(const Params& p, const Weather& w, std::int64_t t, BlockState& s, YearScratch& scratch,
               Tally& tally, GiniHistogram& gini, FlowLog* log, RegionTally* regions) {
    if (log)
        reference_year<true, false>(p, w, t, s, scratch, tally, gini, log, regions);
    else if (simd::detail::counting())
        reference_year<false, true>(p, w, t, s, scratch, tally, gini, nullptr, regions);
    else
        reference_year<false, false>(p, w, t, s, scratch, tally, gini, nullptr, regions);
}

}  // namespace artel::model
