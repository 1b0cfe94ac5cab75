// The model's parameters (MODEL.md §9), grouped as in a scenario file.
// Every numeric parameter has a valid range; the table in params.cpp is the
// single place that names them, gives defaults and ranges, and says which are
// policy keys (overridable per arm, MODEL.md §5).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "engine/config/param_info.hpp"
#include "engine/config/scenario_file.hpp"

namespace artel::model {

// Mechanism switches ([mechanisms]); a switched-off mechanism draws nothing.
struct Mechanisms {
    bool adoption = true;
    bool weather = true;
    bool reserve = true;
    bool credit = true;
    bool famine = true;
    bool demography = true;
    bool market = true;
    bool bonus = true;
    bool literacy = true;
};

// Everything a kernel needs to simulate one arm. Plain values, no pointers:
// copied per arm, and the per-arm overrides are applied to the copy.
struct Params {
    // [run]
    std::uint64_t seed = 19230104;
    std::int64_t replications = 200;
    std::int64_t years = 20;
    std::int64_t start_year = 1923;
    // [population]
    std::int64_t regions = 8;
    std::int64_t villages = 200;
    std::int64_t households = 100;  // per village
    double size_mean = 5.3;
    double adult_share = 0.5;
    double literacy0 = 0.40;
    double land_mean = 3.8;
    double land_sigma = 0.5;
    double grain0 = 0.3;
    double cash0 = 10.0;
    double passive0 = 0.0;
    double active0 = 0.02;
    double skill_a = 2.0;
    double skill_b = 5.0;
    double store0 = 0.2;
    // [demography]
    double birth_rate = 0.22;
    std::int64_t birth_cap = 7;
    double age_rate = 0.0667;
    double adult_death = 0.015;
    double child_death = 0.03;
    double famine_mortality = 0.3;
    // [weather]
    double yield_mean = 7.6;
    double sigma_R = 0.12;
    double sigma_V = 0.08;
    double sigma_H = 0.15;
    double failure_prob = 0.15;
    double failure_factor = 0.5;
    double failure_correlation = 0.4;
    // [economy]
    double price0 = 6.0;
    double price_elasticity = 0.5;
    double channel_scale = 0.05;
    double food_need = 3.6;
    double seed_need = 1.3;
    double wage = 15.0;
    double wage_landpoor = 1.0;
    double spend_share = 0.3;
    double keep_buffer = 0.25;
    double sell_share = 0.5;
    double private_margin = 0.15;
    double coop_margin = 0.05;
    double culture_loss = 0.2;
    double rate_private = 0.40;
    double credit_limit_private = 20.0;
    double default_multiple = 3.0;
    double reserve_decay = 0.1;
    // [behaviour]
    double beta_lit = 0.10;
    double beta_coop = 0.10;
    double lambda0 = 0.02;
    double lambda_coop = 0.03;
    double lambda_peer = 0.05;
    double skill_rate = 0.10;
    double skill_passive = 0.3;
    double p_inn = 0.03;
    double q_imit = 0.38;
    double gamma_bonus = 0.02;
    double gamma_credit = 0.1;
    double a0 = 0.05;
    double a_lit = 0.3;
    double a_skill = 0.3;
    double a_bonus = 0.02;
    double lapse_active = 0.05;
    double lapse_hunger = 2.0;
    double leave_passive = 0.05;
    double store_close_prob = 0.3;
    double store_min_share = 0.05;
    // [policy] (the keys an arm may override)
    double bonus = 0.0;
    double audit_prob = 0.2;
    double audit_cost = 0.5;
    double false_claim_prob = 0.3;
    double organiser_rate = 0.10;
    double rate_coop = 0.08;
    double credit_limit_coop = 40.0;
    double coop_aid = 0.5;
    double reserve_levy = 0.0;
    double lambda_campaign = 0.03;
    double school_rate = 0.4;
    double state_price = 5.0;
    // [mechanisms]
    Mechanisms mechanisms;
    // [output], the model's own options (the engine's own [output] keys are
    // config::OutputSpec): nothing a kernel reads, only what is written.
    double hist_wealth_max = 400.0;  // roubles: upper edge of the wealth histogram
    double hist_grain_max = 100.0;   // centners: upper edge of the grain histogram
    bool output_regions = true;      // [output] regions: the per-region series (MODEL.md §7)
};

using config::ParamInfo;
using config::ParamKind;

// The table of every parameter of Params, in scenario-file order.
std::span<const ParamInfo> param_table();
// Rules between parameters: passive0 + active0 <= 1, and villages ×
// households <= 2^30 (the random streams' household index).
std::span<const config::CrossCheck> cross_checks();

// Finds by "section.name" or by bare name (names are unique across sections).
const ParamInfo* find_param(std::string_view key);

}  // namespace artel::model
