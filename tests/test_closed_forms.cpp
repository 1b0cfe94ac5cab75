// The closed-form checks of MODEL.md §8, as statistical tests.
//
// Tolerances. Each check compares a Monte Carlo mean with its exact
// expectation and allows kZ standard errors of the mean, where the standard
// error is estimated from the replications themselves (or, where the
// quantity is a sum of independent Bernoulli draws, computed exactly from
// their probabilities). With kZ = 5 a single comparison fails by chance with
// probability 5.7e-7 (normal tails); the suite makes about 150 comparisons,
// so the chance that any of them fails for a correct engine is below 1e-4.
// Seeds are fixed, so a run either passes or fails every time: no flakiness.
#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/household_model.hpp"
#include "kernels/weather.hpp"
#include "support.hpp"

using namespace artel;
using artel::test::mean_se;

namespace {
constexpr double kZ = 5.0;
}

TEST_CASE("§8.1 literacy alone follows 1 - (1 - literacy0) exp(-(lambda0 + lambda_campaign)(t + 1))",
          "[closed-form][literacy]") {
    auto p = test::all_off();
    p.mechanisms.literacy = true;
    p.lambda_coop = 0.0;
    p.lambda_peer = 0.0;
    p.lambda0 = 0.02;
    p.lambda_campaign = 0.05;
    p.literacy0 = 0.3;
    p.villages = 16;
    p.households = 100;
    p.years = 20;
    p.replications = 40;
    p.seed = 811;
    const auto sink = test::run_memory({{"a", p}}, test::small_options());
    REQUIRE(sink.records.size() == 40);

    std::vector<double> x;
    for (const auto& r : sink.records) x.push_back(test::start_value(r, 0, "literacy"));
    auto ms = mean_se(x);
    CHECK(std::fabs(ms.mean - p.literacy0) < kZ * ms.se);
    for (std::int64_t t = 0; t < p.years; ++t) {
        x.clear();
        for (const auto& r : sink.records) x.push_back(test::value(r, 0, "literacy", t, p.years));
        ms = mean_se(x);
        const double expected =
            1.0 - (1.0 - p.literacy0) * std::exp(-(p.lambda0 + p.lambda_campaign) * static_cast<double>(t + 1));
        INFO("t = " << t << ", mean " << ms.mean << ", expected " << expected << ", se " << ms.se);
        CHECK(std::fabs(ms.mean - expected) < kZ * ms.se);
    }
}

TEST_CASE("§8.2 adoption alone follows the discrete Bass recursion", "[closed-form][adoption]") {
    auto p = test::all_off();
    p.mechanisms.adoption = true;
    p.store0 = 1.0;
    p.passive0 = 0.0;
    p.active0 = 0.02;
    p.gamma_bonus = 0.0;
    p.gamma_credit = 0.0;
    p.a0 = 50.0;  // joiners activate at once: 1 - exp(-50) = 1 - 2e-22
    p.lapse_active = 0.0;
    p.leave_passive = 0.0;
    p.store_close_prob = 0.0;
    p.p_inn = 0.03;
    p.q_imit = 0.38;
    // "A large village": the recursion holds for the village share, and the
    // village-to-village spread of M adds a bias of order q²·F(1-F)/(2H)
    // (second-order term of 1 - exp(-q M)), below 4e-6 here, far inside
    // the tolerance.
    p.villages = 4;
    p.households = 5000;
    p.years = 20;
    p.replications = 30;
    p.seed = 1923;
    const auto sink = test::run_memory({{"a", p}}, test::small_options(1));

    std::vector<double> start;
    for (const auto& r : sink.records) {
        start.push_back(test::start_value(r, 0, "active_share"));
        // M = A: every member is active.
        CHECK(test::start_value(r, 0, "member_share") == test::start_value(r, 0, "active_share"));
    }
    // "F at start = active share drawn at init": its mean is active0.
    CHECK(std::fabs(mean_se(start).mean - p.active0) < kZ * mean_se(start).se);
    // Each replication's recursion starts from its own drawn share; the
    // difference observed - recursion has mean 0 and its spread over
    // replications gives the standard error.
    std::vector<double> F = start;
    for (std::int64_t t = 0; t < p.years; ++t) {
        std::vector<double> d;
        for (std::size_t k = 0; k < sink.records.size(); ++k) {
            const auto& r = sink.records[k];
            F[k] = F[k] + (1.0 - F[k]) * (1.0 - std::exp(-(p.p_inn + p.q_imit * F[k])));
            const double A = test::value(r, 0, "active_share", t, p.years);
            d.push_back(A - F[k]);
            CHECK(test::value(r, 0, "member_share", t, p.years) == A);
        }
        const auto ms = mean_se(d);
        INFO("t = " << t << ", mean(observed - Bass) " << ms.mean << ", se " << ms.se << ", F " << F[0]);
        CHECK(std::fabs(ms.mean) < kZ * ms.se + 1e-12);
    }
}

TEST_CASE("§8.3 weather alone: failure counts and E[R]", "[closed-form][weather]") {
    model::Params p = test::all_off();
    p.mechanisms.weather = true;
    p.regions = 8;
    p.years = 20;
    p.failure_prob = 0.15;
    p.failure_factor = 0.5;
    p.sigma_R = 0.12;
    p.seed = 77;

    SECTION("rho = 0: failing region-years ~ Binomial(G T R, failure_prob)") {
        p.failure_correlation = 0.0;
        const std::uint32_t R = 2000;
        model::Weather w;
        std::int64_t failures = 0;
        for (std::uint32_t r = 0; r < R; ++r) {
            model::draw_weather(p, r, w);
            for (auto f : w.failing) failures += f;
        }
        const double n = double(p.regions * p.years) * R;
        const double mean = n * p.failure_prob, sd = std::sqrt(n * p.failure_prob * (1 - p.failure_prob));
        INFO("failures " << failures << ", expected " << mean << " ± " << sd);
        CHECK(std::fabs(double(failures) - mean) < kZ * sd);
    }
    SECTION("rho = 0.4: the same mean, and E[R] = 1 - failure_prob (1 - failure_factor)") {
        p.failure_correlation = 0.4;
        const std::uint32_t R = 2000;
        model::Weather w;
        std::vector<double> count, meanR;
        for (std::uint32_t r = 0; r < R; ++r) {
            model::draw_weather(p, r, w);
            double c = 0, s = 0;
            for (auto f : w.failing) c += f;
            for (double x : w.R) s += x;
            count.push_back(c);
            meanR.push_back(s / double(w.R.size()));
        }
        const auto mc = mean_se(count);
        CHECK(std::fabs(mc.mean - double(p.regions * p.years) * p.failure_prob) < kZ * mc.se);
        const auto mr = mean_se(meanR);
        const double expected = 1.0 - p.failure_prob * (1.0 - p.failure_factor);
        INFO("E[R] " << mr.mean << " expected " << expected << " se " << mr.se);
        CHECK(std::fabs(mr.mean - expected) < kZ * mr.se);
    }
    SECTION("the engine reports the same failing regions as the weather function") {
        p.failure_correlation = 0.4;
        p.villages = 16;
        p.households = 10;
        p.replications = 5;
        const auto sink = test::run_memory({{"a", p}}, test::small_options());
        model::Weather w;
        for (const auto& rec : sink.records) {
            model::draw_weather(p, static_cast<std::uint32_t>(rec.replication), w);
            for (std::int64_t t = 0; t < p.years; ++t)
                CHECK(test::value(rec, 0, "failing_regions", t, p.years) == double(w.failing[std::size_t(t)]));
        }
    }
}

TEST_CASE("§8.4 books balance for every household and year", "[closed-form][books]") {
    model::Params p;  // every mechanism on, defaults
    p.bonus = 5.0;    // exercise claims and audits
    p.reserve_levy = 0.05;
    p.failure_prob = 0.4;  // more shortfalls: cash, reserve, aid, credit, famine
    p.failure_factor = 0.3;
    p.famine_mortality = 1.0;
    p.years = 20;
    p.seed = 4;
    model::BlockState s;
    s.shape(3, 8, 12, 60);
    model::init_block(p, s);
    model::Weather w;
    model::draw_weather(p, 3, w);
    model::YearScratch scratch;
    model::FlowLog log;
    std::int64_t checked = 0, with_famine = 0, with_credit = 0, with_reserve = 0, with_aid = 0, with_bonus = 0;
    for (std::int64_t t = 0; t < p.years; ++t) {
        model::Tally tally;
        model::GiniHistogram gini;
        model::step_year(p, w, t, s, scratch, tally, gini, &log);
        for (const auto& f : log.flows) {
            if (!f.alive_at_start) continue;
            ++checked;
            with_famine += f.famine_deaths > 0;
            with_credit += f.borrowed > 0;
            with_reserve += f.from_reserve > 0;
            with_aid += f.aid > 0;
            with_bonus += f.bonus > 0;
            const double grain = f.grain0 + f.harvest - f.levy + f.bought + f.from_reserve + f.aid +
                                 f.borrowed_grain - f.consumed - f.sold - f.grain_lost;
            const double cash = f.cash0 + f.wage - f.paid_for_grain - f.spent + f.proceeds + f.bonus - f.repaid -
                                f.cash_lost;
            const double debt = f.debt0 + f.borrowed + f.interest - f.repaid - f.written_off;
            // Household stocks and flows are single precision: each of the
            // at most 12 float additions or subtractions of a stock rounds by
            // at most 2^-24 of a partial sum, and the sum of the terms'
            // magnitudes bounds every partial sum, so the books balance to
            // within 12 · 2^-24 of that sum (the flows themselves, rounded
            // once each, are what the household received; the model leaves
            // no other gap).
            const double gscale = 1.0 + f.grain0 + f.harvest + f.levy + f.bought + f.from_reserve + f.aid +
                                  f.borrowed_grain + f.consumed + f.sold + f.grain_lost;
            const double cscale = 1.0 + f.cash0 + f.wage + f.paid_for_grain + f.spent + f.proceeds + f.bonus +
                                  f.repaid + f.cash_lost;
            const double dscale = 1.0 + f.debt0 + f.borrowed + f.interest + f.repaid + f.written_off;
            constexpr double kTol = 12 * 0x1p-24;
            REQUIRE(std::fabs(grain - f.grain1) <= kTol * gscale);
            REQUIRE(std::fabs(cash - f.cash1) <= kTol * cscale);
            REQUIRE(std::fabs(debt - f.debt1) <= kTol * dscale);
            REQUIRE(f.size1 == f.size0 + f.births - f.deaths - f.famine_deaths);
            REQUIRE(f.literate1 == f.literate0 + f.literate_gained - f.literate_died);
            REQUIRE(f.grain1 >= 0.0);
            REQUIRE(f.cash1 >= 0.0);
            REQUIRE(f.debt1 >= 0.0);
        }
        for (std::size_t i = 0; i < s.n_households(); ++i) {
            REQUIRE(s.hh.literate[i] <= s.hh.adults[i]);
            REQUIRE(s.hh.adults[i] <= s.hh.size[i]);
            REQUIRE(s.hh.size[i] <= 16);
            REQUIRE((s.hh.coop[i] < 2 || s.vil.store[i / 60] == 1));
        }
    }
    // The test must have exercised every flow it checks.
    CHECK(checked > 10000);
    CHECK(with_famine > 0);
    CHECK(with_credit > 0);
    CHECK(with_reserve > 0);
    CHECK(with_aid > 0);
    CHECK(with_bonus > 0);
}

TEST_CASE("§8.5 demography alone: the change in persons matches its expectation", "[closed-form][demography]") {
    auto p = test::all_off();
    p.mechanisms.demography = true;
    p.years = 20;
    p.seed = 5;
    // Expected change and its exact variance given the start-of-year state,
    // summed over households, years and replications: all draws are
    // independent Bernoulli trials, so the realised total is within kZ
    // standard deviations of the expected total.
    double realised = 0, expected = 0, variance = 0;
    double realised_births = 0, expected_births = 0, var_births = 0;
    model::Weather w;
    for (std::uint32_t rep = 0; rep < 6; ++rep) {
        model::BlockState s;
        s.shape(rep, 0, 20, 100);
        model::init_block(p, s);
        model::draw_weather(p, rep, w);
        model::YearScratch scratch;
        for (std::int64_t t = 0; t < p.years; ++t) {
            double before = 0;
            for (std::size_t i = 0; i < s.n_households(); ++i) {
                if (s.hh.size[i] == 0) continue;
                const double size = s.hh.size[i], adults = s.hh.adults[i], children = size - adults;
                before += size;
                const double b = (adults >= 2 && size < double(p.birth_cap)) ? p.birth_rate : 0.0;
                // a newborn is a child at the death step
                const double nb = b * (1 - p.child_death);
                const double q_child = p.age_rate * p.adult_death + (1 - p.age_rate) * p.child_death;
                expected += nb - adults * p.adult_death - children * q_child;
                variance += nb * (1 - nb) + adults * p.adult_death * (1 - p.adult_death) +
                            children * q_child * (1 - q_child);
                expected_births += b;
                var_births += b * (1 - b);
            }
            model::Tally tally;
            model::GiniHistogram gini;
            model::step_year(p, w, t, s, scratch, tally, gini);
            double after = 0;
            for (std::size_t i = 0; i < s.n_households(); ++i) after += s.hh.size[i];
            realised += after - before;
            realised_births += double(tally[model::Count::births]);
        }
    }
    INFO("persons: realised " << realised << ", expected " << expected << " ± " << std::sqrt(variance));
    CHECK(std::fabs(realised - expected) < kZ * std::sqrt(variance));
    INFO("births: realised " << realised_births << ", expected " << expected_births);
    CHECK(std::fabs(realised_births - expected_births) < kZ * std::sqrt(var_births));
}
