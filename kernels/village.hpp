// The village-level rules of MODEL.md §4, once: plain double-precision
// functions of the parameters and a village's aggregates, called by both
// kernels (the reference kernel, kernels/household_model.cpp, and the
// vector kernel, kernels/simd/step_simd.cpp) wherever a rule is about a
// village rather than a household, so that the two cannot drift apart.
// The household rules are kernels/rules.inc.
#pragma once

#include <algorithm>
#include <cstdint>

#include "engine/math/detmath.hpp"
#include "engine/random/samplers.hpp"
#include "kernels/params.hpp"

namespace artel::model::village {

// 1 − exp(−x) clipped to [0, 1]: the probability of an event whose hazard
// (rate) over the year is x; none for x <= 0 (a rate may be a signed
// privilege).
inline double hazard(double x) {
    if (x <= 0) return 0.0;
    const double h = dmath::one_minus_exp_neg(x);
    return h < 0 ? 0.0 : (h > 1 ? 1.0 : h);
}

// §4 step 1, organisers: a village without a store opens one; a store whose
// active share is below store_min_share may close. One word of the
// village's Organiser stream decides either.
inline bool store_opens(std::uint32_t word, const Params& p) { return rng::bernoulli(word, p.organiser_rate); }
inline bool store_closes(std::uint32_t word, const Params& p, double active_share) {
    return active_share < p.store_min_share && rng::bernoulli(word, p.store_close_prob);
}

// §4 step 6, the market of a region in a year at grain price P: the
// co-operative's price, the state's share of what is not sold to the
// co-operative (a logistic in the state's price advantage), and the price
// that share and the private traders give together.
struct Market {
    double p_coop, state_share, p_other;
};
inline Market market(const Params& p, double P) {
    const double p_priv = P * (1.0 - p.private_margin);
    Market m;
    m.p_coop = P * (1.0 - p.coop_margin);
    m.state_share = 1.0 / (1.0 + dmath::exp(-(p.state_price - p_priv) / (p.channel_scale * P)));
    m.p_other = (1.0 - m.state_share) * p_priv + m.state_share * p.state_price;
    return m;
}

// §4 step 9, learning to read: the yearly probability that an illiterate
// adult learns, for households outside (or passive in) the co-operative and
// for active members, from the village's literate share L.
struct Learning {
    double other, active;
};
inline Learning learning(const Params& p, double L) {
    const double base = p.lambda0 + p.lambda_campaign + p.lambda_peer * L;
    return {hazard(base), hazard(base + p.lambda_coop)};
}

// §4 step 10, joining: the yearly probability that a non-member joins, from
// the store, the village's member share M, the bonus and the members'
// interest privilege (rate_private − rate_coop). Summed left to right.
inline double joining(const Params& p, bool store, double M, double privilege) {
    const auto& mech = p.mechanisms;
    const double x = p.p_inn * (store ? 1.0 : 0.0) + p.q_imit * M + (mech.bonus ? p.gamma_bonus * p.bonus : 0.0) +
                     (mech.credit ? p.gamma_credit * privilege : 0.0);
    return hazard(x);
}

// §4 step 4(b) (reserve): the share c = min(1, reserve / ΣD) of every
// household's remaining shortfall that the village reserve covers; 0
// without a reserve or a shortfall.
inline double reserve_share(const Params& p, double reserve, double shortfall_sum) {
    if (p.mechanisms.reserve && shortfall_sum > 0.0 && reserve > 0.0) return std::min(1.0, reserve / shortfall_sum);
    return 0.0;
}

// §4 steps 4(b) and 11: the reserve after the households drew on it,
// decayed at the year's end.
inline double reserve_at_year_end(const Params& p, double reserve, double drawn) {
    const double left = std::max(0.0, reserve - drawn);
    return left * (1.0 - p.reserve_decay);
}

// §4 step 11: next year's member share M, active share A and literacy L,
// from the counts of the village's living households (0 for a village
// without any).
struct Shares {
    double M, A, L;
};
inline Shares shares(std::int64_t living, std::int64_t members, std::int64_t active, std::int64_t adults,
                     std::int64_t literate) {
    const auto d = [](std::int64_t x) { return static_cast<double>(x); };
    return {living ? d(members) / d(living) : 0.0, living ? d(active) / d(living) : 0.0,
            adults ? d(literate) / d(adults) : 0.0};
}

}  // namespace artel::model::village
