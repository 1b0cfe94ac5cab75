// Bit-identity: the same scenario gives the same numbers whatever the thread
// count, batch size, work-unit size or replication range (MODEL.md §1).
#include <catch2/catch.hpp>

#include <cstring>

#include "kernels/household_model.hpp"
#include "kernels/simd/step_simd.hpp"
#include "support.hpp"

using namespace artel;

namespace {

std::vector<model::Arm> default_arms(std::int64_t replications) {
    model::Params p;
    p.villages = 24;
    p.households = 50;
    p.years = 12;
    p.replications = replications;
    p.seed = 20261128;
    model::Params b = p;
    b.bonus = 5.0;
    b.audit_prob = 0.5;
    model::Params c = b;
    c.reserve_levy = 0.05;
    c.lambda_campaign = 0.1;
    return {{"base", p}, {"bonus", b}, {"suff", c}};
}

model::SimulationOptions options(std::int64_t vpb) {
    model::SimulationOptions o;
    o.histogram_years = {1923, 1930, 1934};
    o.trajectory_households = 7;
    o.trajectory_replications = 2;
    o.villages_per_block = vpb;
    return o;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

void require_identical(const test::MemorySink& x, const test::MemorySink& y) {
    REQUIRE(x.records.size() == y.records.size());
    for (std::size_t k = 0; k < x.records.size(); ++k) {
        const auto &a = x.records[k], &b = y.records[k];
        INFO("replication " << a.replication);
        REQUIRE(a.replication == b.replication);
        REQUIRE(same_bits(a.series, b.series));
        REQUIRE(same_bits(a.start, b.start));
        REQUIRE(same_bits(a.events, b.events));
        REQUIRE(a.histograms == b.histograms);
        REQUIRE(same_bits(a.trajectories, b.trajectories));
    }
}

}  // namespace

TEST_CASE("output is bit-identical for 1 and 2 threads and any batch size", "[reproducibility]") {
    const auto arms = default_arms(5);
    const auto one = test::run_memory(arms, options(4), 1, 1);
    const auto two = test::run_memory(arms, options(4), 2, 0);
    const auto two_big = test::run_memory(arms, options(4), 2, 5);
    const auto three = test::run_memory(arms, options(4), 3, 2);
    require_identical(one, two);
    require_identical(one, two_big);
    require_identical(one, three);
    // and the run is not degenerate: arms differ, replications differ
    REQUIRE_FALSE(same_bits(one.records[0].series, one.records[1].series));
}

TEST_CASE("output does not depend on the size of the work units", "[reproducibility]") {
    const auto arms = default_arms(3);
    const auto a = test::run_memory(arms, options(1), 2);
    const auto b = test::run_memory(arms, options(7), 2);
    const auto c = test::run_memory(arms, options(24), 1);
    require_identical(a, b);
    require_identical(a, c);
}

TEST_CASE("a replication range run alone equals the same replications of a full run", "[reproducibility]") {
    // The later split across processes: replications [2, 4) computed alone.
    const auto arms = default_arms(4);
    const auto full = test::run_memory(arms, options(4), 2);
    model::HouseholdSimulation sim(arms, options(4));
    test::MemorySink part;
    run::RunOptions opt;
    opt.threads = 2;
    opt.first_replication = 2;
    opt.replications = 2;
    run::run_replications(sim, opt, part);
    REQUIRE(part.records.size() == 2);
    for (std::size_t k = 0; k < 2; ++k) {
        REQUIRE(part.records[k].replication == full.records[k + 2].replication);
        REQUIRE(same_bits(part.records[k].series, full.records[k + 2].series));
        REQUIRE(part.records[k].histograms == full.records[k + 2].histograms);
    }
}

TEST_CASE("arms share their draws: an arm identical to the baseline gives identical results",
          "[reproducibility][crn]") {
    auto arms = default_arms(2);
    arms.push_back({"copy", arms[0].params});
    const auto r = test::run_memory(arms, options(4), 2);
    const auto S = model::series_catalogue().size();
    const auto T = static_cast<std::size_t>(arms[0].params.years);
    for (const auto& rec : r.records) {
        const std::vector<double> base(rec.series.begin(), rec.series.begin() + static_cast<long>(S * T));
        const std::vector<double> copy(rec.series.begin() + static_cast<long>(3 * S * T),
                                       rec.series.begin() + static_cast<long>(4 * S * T));
        REQUIRE(same_bits(base, copy));
    }
}

TEST_CASE("a switched-off mechanism draws nothing that others use", "[reproducibility][streams]") {
    // With the market off, the weather (and so failing regions) and the
    // initial population are unchanged.
    auto arms = default_arms(2);
    arms.resize(1);
    auto off = arms;
    off[0].params.mechanisms.market = false;
    const auto a = test::run_memory(arms, options(4), 2);
    const auto b = test::run_memory(off, options(4), 2);
    for (std::size_t k = 0; k < a.records.size(); ++k) {
        for (std::int64_t t = 0; t < arms[0].params.years; ++t)
            REQUIRE(test::value(a.records[k], 0, "failing_regions", t, arms[0].params.years) ==
                    test::value(b.records[k], 0, "failing_regions", t, arms[0].params.years));
        REQUIRE(same_bits(a.records[k].start, b.records[k].start));
    }
}

TEST_CASE("switching a mechanism on, made inert, shifts no other mechanism's draws", "[reproducibility][streams]") {
    // Demography alone against demography plus one more mechanism whose
    // parameters make it change nothing that demography reads (famine is off,
    // so grain and cash do not matter to it): every household's size, adults
    // and literate adults must agree in every year, on the scalar reference
    // and on the vector kernel. Were two mechanisms to take their words from
    // one sequence (rather than by (household, year, purpose, word)), the
    // extra mechanism's draws would shift demography's and the households
    // would part after the first year.
    auto base = test::all_off();
    base.mechanisms.demography = true;
    base.villages = 6;
    base.households = 37;
    base.years = 15;
    base.seed = 77;
    base.store0 = 0.5;
    std::vector<std::pair<const char*, model::Params>> variants;
    {
        auto p = base;
        p.mechanisms.weather = true;  // draws E from the block that holds the birth word
        variants.emplace_back("weather", p);
    }
    {
        auto p = base;
        p.mechanisms.literacy = true;
        p.lambda0 = p.lambda_campaign = p.lambda_coop = p.lambda_peer = 0.0;
        p.skill_rate = 0.0;
        variants.emplace_back("literacy, no learning", p);
    }
    {
        auto p = base;
        p.mechanisms.adoption = true;
        p.organiser_rate = p.store_close_prob = 0.0;
        p.p_inn = p.q_imit = p.a0 = p.a_lit = p.a_skill = 0.0;
        p.lapse_active = p.leave_passive = 0.0;
        variants.emplace_back("adoption, nobody moves", p);
    }
    {
        auto p = base;
        p.mechanisms.market = p.mechanisms.bonus = p.mechanisms.credit = p.mechanisms.reserve = true;
        p.mechanisms.weather = true;
        p.bonus = 0.0;
        variants.emplace_back("weather, market, bonus 0, credit, reserve", p);
    }
    using Step = void (*)(const model::Params&, const model::Weather&, std::int64_t, model::BlockState&,
                          model::YearScratch&, model::Tally&, model::GiniHistogram&);
    const Step reference = [](const model::Params& p, const model::Weather& w, std::int64_t t, model::BlockState& s,
                              model::YearScratch& sc, model::Tally& tally, model::GiniHistogram& g) {
        model::step_year(p, w, t, s, sc, tally, g);
    };
    const Step simd = [](const model::Params& p, const model::Weather& w, std::int64_t t, model::BlockState& s,
                         model::YearScratch& sc, model::Tally& tally, model::GiniHistogram& g) {
        model::step_year_simd(p, w, t, s, sc, tally, g);
    };
    for (const auto& [kernel, step] : {std::pair<const char*, Step>{"reference", reference},
                                       std::pair<const char*, Step>{"simd", simd}}) {
        for (const auto& [name, q] : variants) {
            INFO("kernel " << kernel << ", with " << name);
            model::BlockState a, b;
            a.shape(3, 2, base.villages, base.households);
            model::init_block(base, a);
            b.copy_from(a);
            model::Weather wa, wb;
            model::draw_weather(base, 3, wa);
            model::draw_weather(q, 3, wb);
            model::YearScratch sa, sb;
            std::int64_t events = 0;
            for (std::int64_t t = 0; t < base.years; ++t) {
                model::Tally ta, tb;
                model::GiniHistogram ga, gb;
                step(base, wa, t, a, sa, ta, ga);
                step(q, wb, t, b, sb, tb, gb);
                INFO("year " << t);
                REQUIRE(a.hh.size == b.hh.size);
                REQUIRE(a.hh.adults == b.hh.adults);
                REQUIRE(a.hh.literate == b.hh.literate);
                REQUIRE(ta[model::Count::births] == tb[model::Count::births]);
                REQUIRE(ta[model::Count::deaths] == tb[model::Count::deaths]);
                events += ta[model::Count::births] + ta[model::Count::deaths];
            }
            CHECK(events > 100);  // demography did happen
        }
    }
}

TEST_CASE("a replication's numbers do not depend on how many replications the run has", "[reproducibility]") {
    const auto small = test::run_memory(default_arms(2), options(4), 2);
    const auto large = test::run_memory(default_arms(5), options(4), 2);
    for (std::size_t k = 0; k < 2; ++k) {
        REQUIRE(same_bits(small.records[k].series, large.records[k].series));
        REQUIRE(same_bits(small.records[k].events, large.records[k].events));
        REQUIRE(small.records[k].histograms == large.records[k].histograms);
    }
}
