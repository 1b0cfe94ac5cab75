// The parameter table (MODEL.md §9): defaults live in Params, ranges and
// documentation here. Generated once by hand from MODEL.md; edit freely.
#include "kernels/params.hpp"

#include <array>
#include <cstddef>

namespace artel::model {
namespace {

// Upper bounds (configs/README.md, "Valid ranges", has the table and the
// reasons; MODEL.md §9 asks only for rates >= 0 and the like).
//
// kAmountMax = 2^12 = 4096 bounds every amount of money or grain and every
// scale of one (roubles, roubles/centner, ha, centners/ha, centners/person):
// it is the most a fixed-point tally holds, 2^42 (kTallyMax,
// kernels/tallies.hpp), over the largest population, 2^30 households
// (villages x households, the cross-check below). At this bound an amount
// that every household holds or is paid once (the initial cash, a year's
// bonus or audit, a credit limit) adds up exactly at any population. What
// grows beyond one amount per household (a wage times 16 adults over many
// years, a harvest valued at a price, debt with interest) depends on the
// population and the years, so it cannot be bounded here: the tallies check
// every sum as they add it, and a run whose sums pass 2^42 stops with an
// error naming the quantity (kernels/simulation.cpp). The defaults (1.3 to 40)
// are 100 to 3000 times below the bound.
constexpr double kAmountMax = 4096.0;
// kFactorMax = 1000 bounds every dimensionless factor, multiple, rate and
// hazard. A hazard enters as 1 - exp(-x), which is exactly 1 in double from
// x = 37.5 on (exp(-37.5) < 2^-54): 1000 is certainty many times over, and a
// larger value would mean the same. A factor, multiple or interest rate of
// 1000 is hundreds of times any historical one (the defaults are at most 3).
// Together the two bounds keep every product of two parameters
// (<= 1000 x 4096 = 4.1e6), and the sums of a few such products that the
// formulas of MODEL.md §4 form, far inside single precision (3.4e38), in
// which households are computed: no formula reaches inf from the parameters
// alone, nor NaN from inf x 0 or inf - inf (a NaN hazard would silently never
// fire; an unbounded a_lit = 1e39 did that to every household without a
// literate adult).
constexpr double kFactorMax = 1000.0;
constexpr double kShapeMin = 0.05;  // the Beta shapes' bottom (their rows say why)

#define ARTEL_P(sec, name, kind, lo, hi, lo_open, hi_open, policy, unit, doc) \
    ParamInfo{sec, #name, ParamKind::kind, lo, hi, lo_open, hi_open, policy, offsetof(Params, name), unit, doc}
#define ARTEL_M(name, doc) \
    ParamInfo{"mechanisms", #name, ParamKind::Boolean, 0, 1, false, false, false, \
              offsetof(Params, mechanisms) + offsetof(Mechanisms, name), "", doc}

const std::array kTable{
    ARTEL_P("run", seed, Unsigned, 0, 18446744073709551615.0, false, false, false, "", "key of every random stream"),
    ARTEL_P("run", replications, Integer, 1, 2147483647.0, false, false, false, "", "possible histories"),
    ARTEL_P("run", years, Integer, 1, 1000, false, false, false, "years", "simulated years T"),
    ARTEL_P("run", start_year, Integer, -9999, 9999, false, false, false, "", "calendar year of t = 0"),
    ARTEL_P("population", regions, Integer, 1, 65536, false, false, false, "", "weather zones G"),
    ARTEL_P("population", villages, Integer, 1, 1073741824.0, false, false, false, "", "villages per replication"),
    ARTEL_P("population", households, Integer, 1, 1048576.0, false, false, false, "", "households per village H"),
    ARTEL_P("population", size_mean, Real, 1, 16, false, false, false, "persons", "mean household size at start"),
    ARTEL_P("population", adult_share, Real, 0, 1, false, false, false, "", "share of non-head members who are adults"),
    ARTEL_P("population", literacy0, Real, 0, 1, false, false, false, "", "literate share of adults at start"),
    ARTEL_P("population", land_mean, Real, 0, kAmountMax, true, false, false, "ha", "mean sown area per household"),
    ARTEL_P("population", land_sigma, Real, 0, 5, false, false, false, "", "log-sd of the allotment noise"),
    ARTEL_P("population", grain0, Real, 0, kFactorMax, false, false, false, "years of need", "initial grain"),
    ARTEL_P("population", cash0, Real, 0, kAmountMax, false, false, false, "roubles", "initial cash"),
    ARTEL_P("population", passive0, Real, 0, 1, false, false, false, "", "share of passive members at start"),
    ARTEL_P("population", active0, Real, 0, 1, false, true, false, "", "probability of an active member where the village has a store"),
    // Beta(a, b) = X / (X + Y) of two gamma variates (rng::beta); for a shape
    // a < 1, X = Gamma(a + 1) · U^(1/a) with U >= 2^-33, and an accepted
    // Gamma(a + 1) is above 2^-58, so X >= 2^-58 · 2^(-33/a) > 0 for
    // a >= 0.0325. Below that X and Y can both be 0 and the skill 0/0 = NaN
    // (both shapes at 5e-324 did it to every household); kShapeMin = 0.05
    // keeps X above 2^-720.
    ARTEL_P("population", skill_a, Real, kShapeMin, kFactorMax, false, false, false, "", "Beta shape a of initial trading skill"),
    ARTEL_P("population", skill_b, Real, kShapeMin, kFactorMax, false, false, false, "", "Beta shape b of initial trading skill"),
    ARTEL_P("population", store0, Real, 0, 1, false, false, false, "", "probability a village starts with a store"),
    ARTEL_P("demography", birth_rate, Real, 0, 1, false, false, false, "per year", "probability of a birth"),
    ARTEL_P("demography", birth_cap, Integer, 1, 16, false, false, false, "persons", "no births at or above this size"),
    ARTEL_P("demography", age_rate, Real, 0, 1, false, false, false, "per year", "probability a child comes of age"),
    ARTEL_P("demography", adult_death, Real, 0, 1, false, false, false, "per year", "adult death probability"),
    ARTEL_P("demography", child_death, Real, 0, 1, false, false, false, "per year", "child death probability"),
    ARTEL_P("demography", famine_mortality, Real, 0, kFactorMax, false, false, false, "", "famine death probability per unit uncovered shortfall"),
    ARTEL_P("weather", yield_mean, Real, 0, kAmountMax, false, false, false, "centners/ha", "mean grain yield"),
    ARTEL_P("weather", sigma_R, Real, 0, 5, false, false, false, "", "log-sd of the regional multiplier"),
    ARTEL_P("weather", sigma_V, Real, 0, 5, false, false, false, "", "log-sd of the village multiplier"),
    ARTEL_P("weather", sigma_H, Real, 0, 5, false, false, false, "", "log-sd of the household multiplier"),
    ARTEL_P("weather", failure_prob, Real, 0, 1, false, false, false, "per region-year", "probability of a regional harvest failure"),
    // R enters the price as P = price0 · R^-price_elasticity: with the
    // elasticity at its top (10), price0 at its top and R's own spread at its
    // default, a failure factor f makes P up to 4096 · 3000 · f^-10, inside
    // single precision (3.4e38) for f >= 7.2e-4; below that every failure
    // year's price would be inf (checked as the weather is drawn, for the
    // other parameters' extremes: kernels/weather.cpp).
    ARTEL_P("weather", failure_factor, Real, 0.001, kFactorMax, false, false, false, "", "harvest multiplier in a failure year"),
    ARTEL_P("weather", failure_correlation, Real, 0, 1, false, true, false, "", "correlation rho of failures across regions"),
    ARTEL_P("economy", price0, Real, 0, kAmountMax, true, false, false, "roubles/centner", "grain price in a normal year"),
    ARTEL_P("economy", price_elasticity, Real, 0, 10, false, false, false, "", "price response to the regional harvest"),
    ARTEL_P("economy", channel_scale, Real, 0, kFactorMax, true, false, false, "", "logistic scale of the state channel share"),
    ARTEL_P("economy", food_need, Real, 0, kAmountMax, false, false, false, "centners/person", "food and fodder per person and year"),
    ARTEL_P("economy", seed_need, Real, 0, kAmountMax, false, false, false, "centners/ha", "seed per hectare"),
    ARTEL_P("economy", wage, Real, 0, kAmountMax, false, false, false, "roubles/adult-year", "off-farm earnings"),
    ARTEL_P("economy", wage_landpoor, Real, 0, kFactorMax, false, false, false, "", "extra off-farm earnings of the land-poor"),
    ARTEL_P("economy", spend_share, Real, 0, 1, false, false, false, "per year", "share of cash spent on manufactured goods"),
    ARTEL_P("economy", keep_buffer, Real, 0, kFactorMax, false, false, false, "years of need", "grain kept back from sale"),
    ARTEL_P("economy", sell_share, Real, 0, 1, false, false, false, "", "share of the surplus sold"),
    ARTEL_P("economy", private_margin, Real, 0, 1, false, false, false, "", "private trader's margin"),
    ARTEL_P("economy", coop_margin, Real, 0, 1, false, false, false, "", "co-operative's margin"),
    ARTEL_P("economy", culture_loss, Real, 0, 1, false, false, false, "", "price loss of an unskilled trader"),
    ARTEL_P("economy", rate_private, Real, 0, kFactorMax, false, false, false, "per year", "interest of village usurers"),
    ARTEL_P("economy", credit_limit_private, Real, 0, kAmountMax, false, false, false, "roubles", "credit limit of non-members"),
    ARTEL_P("economy", default_multiple, Real, 0, kFactorMax, false, false, false, "", "default when debt exceeds this multiple of the limit"),
    ARTEL_P("economy", reserve_decay, Real, 0, 1, false, false, false, "per year", "loss of the village reserve"),
    ARTEL_P("behaviour", beta_lit, Real, 0, kFactorMax, false, false, false, "", "productivity gain of a fully literate household"),
    ARTEL_P("behaviour", beta_coop, Real, 0, kFactorMax, false, false, false, "", "productivity gain of an active member"),
    ARTEL_P("behaviour", lambda0, Real, 0, kFactorMax, false, false, false, "per year", "baseline literacy hazard"),
    ARTEL_P("behaviour", lambda_coop, Real, 0, kFactorMax, false, false, false, "per year", "literacy hazard added for active members"),
    ARTEL_P("behaviour", lambda_peer, Real, 0, kFactorMax, false, false, false, "per year", "literacy hazard per unit village literacy"),
    ARTEL_P("behaviour", skill_rate, Real, 0, kFactorMax, false, false, false, "per year", "rate of learning to trade"),
    ARTEL_P("behaviour", skill_passive, Real, 0, 1, false, false, false, "", "relative skill learning of non-active households"),
    ARTEL_P("behaviour", p_inn, Real, 0, kFactorMax, false, false, false, "", "joining hazard where the village has a store"),
    ARTEL_P("behaviour", q_imit, Real, 0, kFactorMax, false, false, false, "", "joining hazard per unit member share"),
    ARTEL_P("behaviour", gamma_bonus, Real, 0, kFactorMax, false, false, false, "per rouble", "joining hazard per rouble of bonus"),
    ARTEL_P("behaviour", gamma_credit, Real, 0, kFactorMax, false, false, false, "", "joining hazard per unit interest privilege"),
    ARTEL_P("behaviour", a0, Real, 0, kFactorMax, false, false, false, "", "baseline activation hazard"),
    ARTEL_P("behaviour", a_lit, Real, 0, kFactorMax, false, false, false, "", "activation hazard per literate share"),
    ARTEL_P("behaviour", a_skill, Real, 0, kFactorMax, false, false, false, "", "activation hazard per unit skill"),
    ARTEL_P("behaviour", a_bonus, Real, 0, kFactorMax, false, false, false, "per rouble", "activation hazard per rouble of bonus"),
    ARTEL_P("behaviour", lapse_active, Real, 0, 1, false, false, false, "per year", "probability an active member lapses to passive"),
    ARTEL_P("behaviour", lapse_hunger, Real, 0, kFactorMax, false, false, false, "", "relative increase of lapsing when hungry"),
    ARTEL_P("behaviour", leave_passive, Real, 0, 1, false, false, false, "per year", "probability a passive member leaves"),
    ARTEL_P("behaviour", store_close_prob, Real, 0, 1, false, false, false, "per year", "probability a weak store closes"),
    ARTEL_P("behaviour", store_min_share, Real, 0, 1, false, false, false, "", "active share below which a store may close"),
    ARTEL_P("policy", bonus, Real, 0, kAmountMax, false, false, true, "roubles", "bonus per verified active member"),
    ARTEL_P("policy", audit_prob, Real, 0, 1, false, false, true, "", "probability a claim is audited"),
    ARTEL_P("policy", audit_cost, Real, 0, kAmountMax, false, false, true, "roubles", "cost of one audit"),
    ARTEL_P("policy", false_claim_prob, Real, 0, 1, false, false, true, "", "probability a passive member claims falsely"),
    ARTEL_P("policy", organiser_rate, Real, 0, 1, false, false, true, "per year", "probability a village without a store opens one"),
    ARTEL_P("policy", rate_coop, Real, 0, kFactorMax, false, false, true, "per year", "interest on co-operative credit"),
    ARTEL_P("policy", credit_limit_coop, Real, 0, kAmountMax, false, false, true, "roubles", "credit limit of members"),
    ARTEL_P("policy", coop_aid, Real, 0, 1, false, false, true, "", "share of the remaining shortfall paid as mutual aid"),
    ARTEL_P("policy", reserve_levy, Real, 0, 1, false, false, true, "", "share of the harvest levied into the village reserve"),
    ARTEL_P("policy", lambda_campaign, Real, 0, kFactorMax, false, false, true, "per year", "literacy hazard of the campaign"),
    ARTEL_P("policy", school_rate, Real, 0, 1, false, false, true, "", "probability a child coming of age is literate"),
    ARTEL_P("policy", state_price, Real, 0, kAmountMax, false, false, true, "roubles/centner", "state procurement price"),
    ARTEL_M(adoption, "organisers, stores and joining"),
    ARTEL_M(weather, "harvest shocks and failures"),
    ARTEL_M(reserve, "village grain reserve"),
    ARTEL_M(credit, "borrowing, interest and defaults"),
    ARTEL_M(famine, "famine deaths"),
    ARTEL_M(demography, "births, coming of age, deaths"),
    ARTEL_M(market, "spending and grain sales"),
    ARTEL_M(bonus, "bonus claims and audits"),
    ARTEL_M(literacy, "learning to read and to trade"),
    // [output]: the histograms' upper edges (the last bin also counts what is
    // above; 10^12 is far beyond any household, and bins stay exact doubles)
    // and the per-region series.
    ARTEL_P("output", hist_wealth_max, Real, 0, 1e12, true, false, false, "roubles",
            "upper edge of the wealth histogram (the last bin also counts overflow)"),
    ARTEL_P("output", hist_grain_max, Real, 0, 1e12, true, false, false, "centners",
            "upper edge of the grain histogram (the last bin also counts overflow)"),
    ParamInfo{"output", "regions", ParamKind::Boolean, 0, 1, false, false, false, offsetof(Params, output_regions), "",
              "per-region series (harvest, failure, hunger, famine deaths, persons, sales) in /arms/<arm>/regions"},
};

#undef ARTEL_P
#undef ARTEL_M

}  // namespace

std::span<const ParamInfo> param_table() { return kTable; }

std::span<const config::CrossCheck> cross_checks() {
    static const config::CrossCheck checks[] = {
        {config::CrossCheck::Op::SumAtMost, "population.passive0", "population.active0", 1.0,
         "the initial passive and active shares of households"},
        {config::CrossCheck::Op::ProductAtMost, "population.villages", "population.households", 1073741824.0,
         "households per replication, 2^30"},
    };
    return checks;
}

const ParamInfo* find_param(std::string_view key) {
    const auto dot = key.find('.');
    for (const auto& p : kTable) {
        if (dot == std::string_view::npos ? p.name == key
                                          : (p.section == key.substr(0, dot) && p.name == key.substr(dot + 1)))
            return &p;
    }
    return nullptr;
}

}  // namespace artel::model
