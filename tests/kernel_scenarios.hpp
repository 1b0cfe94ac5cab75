// The scenarios of the kernels' identity tests (tests/test_simd.cpp) and of
// their golden file (tests/test_kernel_golden.cpp): every mechanism on and
// each one off, harsh worlds that reach the rare paths, and binomials and
// searches at high rates.
#pragma once

#include <string>
#include <vector>

#include "kernels/params.hpp"

namespace artel::test {

using model::Params;

// Every mechanism on, with the policies that reach the bonus, credit,
// reserve and famine paths.
inline Params everything_on() {
    Params p;
    p.years = 20;
    p.bonus = 5.0;
    p.reserve_levy = 0.05;
    p.failure_prob = 0.4;
    return p;
}

// A harsh world: famine, dissolutions, defaults, store closings, full aid.
// Every adult dies each year (adult_death = 1), children neither die nor
// come of age, nobody is born: the eldest-child path every year.
inline Params adults_all_die() {
    Params p = everything_on();
    p.mechanisms.famine = false;
    p.adult_death = 1.0;
    p.child_death = 0.0;
    p.age_rate = 0.0;
    p.birth_rate = 0.0;
    p.school_rate = 0.5;
    p.years = 6;
    return p;
}

inline Params harsh() {
    Params p = everything_on();
    p.failure_prob = 0.6;
    p.failure_factor = 0.2;
    p.famine_mortality = 1.0;
    p.cash0 = 0.0;
    p.size_mean = 2.0;
    p.food_need = 6.0;
    p.wage = 2.0;
    p.credit_limit_private = 5.0;
    p.credit_limit_coop = 8.0;
    p.default_multiple = 0.8;
    p.store_min_share = 0.6;
    p.store_close_prob = 0.9;
    p.store0 = 0.9;
    p.active0 = 0.3;
    p.adult_death = 0.2;
    p.child_death = 0.2;
    p.reserve_levy = 0.3;
    p.audit_prob = 0.7;
    p.false_claim_prob = 0.9;
    return p;
}

struct KernelScenario {
    std::string name;
    Params p;
};

inline std::vector<KernelScenario> kernel_scenarios() {
    std::vector<KernelScenario> scenarios;
    {
        Params p;
        p.years = 20;
        scenarios.push_back({"default", p});
    }
    scenarios.push_back({"everything on", everything_on()});
    const char* mechs[] = {"adoption", "weather", "reserve", "credit", "famine",
                           "demography", "market", "bonus", "literacy"};
    for (int m = 0; m < 9; ++m) {
        Params p = everything_on();
        bool* sw[] = {&p.mechanisms.adoption, &p.mechanisms.weather, &p.mechanisms.reserve,
                      &p.mechanisms.credit,   &p.mechanisms.famine,  &p.mechanisms.demography,
                      &p.mechanisms.market,   &p.mechanisms.bonus,   &p.mechanisms.literacy};
        *sw[m] = false;
        scenarios.push_back({std::string("no ") + mechs[m], p});
    }
    {
        Params p = everything_on();
        p.mechanisms = {false, false, false, false, false, false, false, false, false};
        scenarios.push_back({"all off", p});
    }
    {
        Params p = harsh();
        scenarios.push_back({"harsh", p});
        p.coop_aid = 1.0;
        p.reserve_levy = 0.9;
        p.seed = 99;
        scenarios.push_back({"harsh, full aid and reserve", p});
        p.coop_aid = 0.0;
        p.rate_coop = 0.6;  // a negative interest privilege
        p.seed = 7;
        scenarios.push_back({"harsh, no aid, negative privilege", p});
    }
    scenarios.push_back({"every adult dies each year", adults_all_die()});
    {
        // Step 5's binomials past their first two tests (X >= 2, behind a
        // branch in the vector kernel) for every table: children come of
        // age, are schooled and die, and adults die, at high rates.
        Params p = everything_on();
        p.mechanisms.famine = false;
        p.age_rate = 0.6;
        p.school_rate = 0.7;
        p.adult_death = 0.3;
        p.child_death = 0.4;
        p.birth_rate = 0.9;
        p.years = 8;
        scenarios.push_back({"step 5's binomials at high rates", p});
    }
    {
        // Step 9's sequential binomial search with long searches (learning
        // probability about 0.7 for the many illiterate), and with p = 1.
        Params p = everything_on();
        p.literacy0 = 0.0;
        p.lambda0 = 1.2;
        scenarios.push_back({"most illiterate adults learn", p});
        p.lambda0 = 1000.0;
        scenarios.push_back({"every illiterate adult learns", p});
    }
    return scenarios;
}

}  // namespace artel::test
