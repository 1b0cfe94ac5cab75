// What the benchmarks and bench/unit/kernel_unit.cpp run: the policy arms of
// the default scenario and the names of the mechanisms.
#pragma once

#include <utility>
#include <vector>

#include "kernels/params.hpp"

namespace artel::bench {

// The five policy arms of configs/nep-1923.toml (every mechanism on).
inline std::vector<model::Params> nep_arms() {
    model::Params base;  // the defaults are the scenario's values
    std::vector<model::Params> arms(5, base);
    arms[1].rate_coop = 0.40, arms[1].credit_limit_coop = 20.0, arms[1].coop_aid = 0.0;
    arms[2].bonus = 5.0, arms[2].audit_prob = 0.5;
    arms[3] = arms[2];
    arms[3].lambda_campaign = 0.10, arms[3].school_rate = 0.8, arms[3].organiser_rate = 0.25;
    arms[4] = arms[3];
    arms[4].reserve_levy = 0.05;
    return arms;
}

// Each mechanism's name (as in a scenario's [mechanisms]) and switch.
inline constexpr std::pair<const char*, bool model::Mechanisms::*> kMechanisms[] = {
    {"adoption", &model::Mechanisms::adoption}, {"weather", &model::Mechanisms::weather},
    {"reserve", &model::Mechanisms::reserve},   {"credit", &model::Mechanisms::credit},
    {"famine", &model::Mechanisms::famine},     {"demography", &model::Mechanisms::demography},
    {"market", &model::Mechanisms::market},     {"bonus", &model::Mechanisms::bonus},
    {"literacy", &model::Mechanisms::literacy}};

}  // namespace artel::bench
