// Scenario files: parsing, --set, validation, rendering and every error
// message a user can meet (engine/config, configs/nep-1923.toml).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "engine/config/error.hpp"
#include "engine/config/param_info.hpp"
#include "engine/config/scenario_file.hpp"
#include "engine/config/scenario_text.hpp"
#include "kernels/params.hpp"

#ifndef ARTEL_SOURCE_DIR
#define ARTEL_SOURCE_DIR "."
#endif

using namespace artel;
using config::ArmSpec;
using config::ConfigError;
using config::ParamInfo;
using config::ParamKind;
using config::ScenarioFile;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using model::Params;

namespace {

const std::string kDefaultFile = std::string(ARTEL_SOURCE_DIR) + "/configs/nep-1923.toml";

std::span<const ParamInfo> table() { return model::param_table(); }

const ParamInfo& row(std::string_view key) {
    const ParamInfo* p = model::find_param(key);
    REQUIRE(p != nullptr);
    return *p;
}

// The message of the ConfigError `f` throws (fails the test if none).
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e.what();
    }
    FAIL("expected a ConfigError");
    return {};
}

// Parses and validates inline TOML; returns the error message.
std::string toml_error(const std::string& text) {
    Params p;
    return error_of([&] {
        ScenarioFile sc = config::parse_scenario(text, "t.toml", table(), &p);
        config::validate(table(), &p, sc, model::cross_checks());
    });
}

constexpr const char* kArm = "\n[[arm]]\nname = \"base\"\n";

// Every row set to a value different from its default (and in range), so a
// parse that "equals the defaults" must really have written every key.
void scramble(Params& p) {
    for (const auto& r : table()) {
        const double v = config::read_value(&p, r);
        if (r.kind == ParamKind::Boolean) {
            config::write_value(&p, r, v != 0.0 ? 0.0 : 1.0);
            continue;
        }
        for (double c : {v + 1.0, v - 1.0, v + 0.125, v * 0.5, v - 0.125}) {
            if (r.kind != ParamKind::Real) c = std::round(c);
            if (c != v && r.in_range(c)) {
                config::write_value(&p, r, c);
                break;
            }
        }
        REQUIRE(config::read_value(&p, r) != v);
    }
}

void require_same_params(const Params& a, const Params& b) {
    for (const auto& r : table()) {
        INFO(r.key());
        CHECK(config::format_value(&a, r) == config::format_value(&b, r));
    }
}

void require_same_scenario(const ScenarioFile& a, const ScenarioFile& b) {
    REQUIRE(a.arms.size() == b.arms.size());
    for (std::size_t i = 0; i < a.arms.size(); ++i) {
        INFO(a.arms[i].name);
        CHECK(a.arms[i].name == b.arms[i].name);
        REQUIRE(a.arms[i].overrides.size() == b.arms[i].overrides.size());
        for (std::size_t j = 0; j < a.arms[i].overrides.size(); ++j) {
            CHECK(a.arms[i].overrides[j].param == b.arms[i].overrides[j].param);
            CHECK(a.arms[i].overrides[j].follows == b.arms[i].overrides[j].follows);
            if (!a.arms[i].overrides[j].follows) CHECK(a.arms[i].overrides[j].value == b.arms[i].overrides[j].value);
        }
    }
    CHECK(a.output.histogram_years == b.output.histogram_years);
    CHECK(a.output.histogram_bins == b.output.histogram_bins);
    CHECK(a.output.trajectory_households == b.output.trajectory_households);
    CHECK(a.output.trajectory_replications == b.output.trajectory_replications);
}

std::string follows_of(const ArmSpec& arm, std::string_view name) {
    for (const auto& o : arm.overrides)
        if (o.param->name == name) return o.follows ? o.follows->key() : std::string("(a value)");
    FAIL("arm " << arm.name << " has no override " << name);
    return {};
}

double override_of(const ArmSpec& arm, std::string_view name) {
    for (const auto& o : arm.overrides)
        if (o.param->name == name) return o.value;
    FAIL("arm " << arm.name << " has no override " << name);
    return 0.0;
}

}  // namespace

TEST_CASE("config: ParamInfo range text, range checks and typed access", "[config]") {
    CHECK(row("economy.wage").range_text() == "a number in [0, 4096]");
    CHECK(row("population.adult_share").range_text() == "a number in [0, 1]");
    CHECK(row("population.land_mean").range_text() == "a number in (0, 4096]");
    CHECK(row("population.active0").range_text() == "a number in [0, 1)");
    CHECK(row("demography.birth_cap").range_text() == "an integer in [1, 16]");
    CHECK(row("run.seed").range_text() == "an integer in [0, 9223372036854775807]");
    CHECK(row("mechanisms.famine").range_text() == "true or false");

    CHECK(row("population.land_mean").in_range(1e-300));
    CHECK_FALSE(row("population.land_mean").in_range(0.0));
    CHECK(row("population.active0").in_range(0.0));
    CHECK_FALSE(row("population.active0").in_range(1.0));
    CHECK(row("economy.wage").in_range(4096.0));
    CHECK_FALSE(row("economy.wage").in_range(4096.001));
    CHECK_FALSE(row("economy.wage").in_range(1e300));
    CHECK_FALSE(row("economy.wage").in_range(INFINITY));
    CHECK_FALSE(row("economy.wage").in_range(NAN));
    CHECK(row("demography.birth_cap").in_range(16));
    CHECK_FALSE(row("demography.birth_cap").in_range(17));
    CHECK_FALSE(row("demography.birth_cap").in_range(3.5));

    Params p;
    config::write_value(&p, row("population.villages"), 77);
    CHECK(p.villages == 77);
    CHECK(config::read_value(&p, row("population.villages")) == 77.0);
    config::write_value(&p, row("mechanisms.famine"), 0.0);
    CHECK_FALSE(p.mechanisms.famine);
    CHECK(config::format_value(&p, row("mechanisms.famine")) == "false");
    CHECK(config::format_value(&p, row("policy.bonus")) == "0.0");
    CHECK(config::format_value(&p, row("population.literacy0")) == "0.4");
    CHECK(config::format_value(&p, row("run.seed")) == "19230104");
}

TEST_CASE("config: the default scenario file is MODEL.md section 9", "[config]") {
    Params p;
    scramble(p);
    ScenarioFile sc = config::load_scenario(kDefaultFile, table(), &p);
    config::validate(table(), &p, sc, model::cross_checks());

    // Every parameter is written explicitly, with its default.
    for (const auto& r : table()) {
        INFO(r.key());
        CHECK(sc.positions.count(r.key()) == 1);
        CHECK(sc.positions[r.key()].line > 0);
    }
    require_same_params(p, Params{});

    // [output] defaults.
    CHECK(sc.output.histogram_years == std::vector<std::int64_t>{1923, 1927, 1932, 1942});
    CHECK(sc.output.histogram_bins == 40);
    CHECK(p.hist_wealth_max == 400.0);
    CHECK(p.hist_grain_max == 100.0);
    CHECK(sc.output.trajectory_households == 100);
    CHECK(sc.output.trajectory_replications == 1);

    // The five arms.
    const Params d;
    REQUIRE(sc.arms.size() == 5);
    CHECK(sc.arms[0].name == "nep-1923");
    CHECK(sc.arms[0].overrides.empty());
    CHECK(sc.arms[1].name == "free-market");
    CHECK(sc.arms[1].overrides.size() == 3);
    // MODEL.md §9: rate_coop = rate_private, credit_limit_coop =
    // credit_limit_private, written as the relations themselves.
    CHECK(follows_of(sc.arms[1], "rate_coop") == "economy.rate_private");
    CHECK(follows_of(sc.arms[1], "credit_limit_coop") == "economy.credit_limit_private");
    {
        Params arm = p;
        config::apply_arm(sc.arms[1], &arm);
        CHECK(arm.rate_coop == d.rate_private);
        CHECK(arm.credit_limit_coop == d.credit_limit_private);
    }
    CHECK(override_of(sc.arms[1], "coop_aid") == 0.0);
    CHECK(sc.arms[2].name == "bonus-verified");
    CHECK(sc.arms[2].overrides.size() == 2);
    CHECK(override_of(sc.arms[2], "bonus") == 5.0);
    CHECK(override_of(sc.arms[2], "audit_prob") == 0.5);
    CHECK(sc.arms[3].name == "cultural-revolution");
    CHECK(sc.arms[3].overrides.size() == 5);
    CHECK(override_of(sc.arms[3], "bonus") == 5.0);
    CHECK(override_of(sc.arms[3], "audit_prob") == 0.5);
    CHECK(override_of(sc.arms[3], "lambda_campaign") == 0.10);
    CHECK(override_of(sc.arms[3], "school_rate") == 0.8);
    CHECK(override_of(sc.arms[3], "organiser_rate") == 0.25);
    CHECK(sc.arms[4].name == "sufficiency");
    CHECK(sc.arms[4].overrides.size() == 6);
    for (const auto& o : sc.arms[3].overrides) CHECK(override_of(sc.arms[4], o.param->name) == o.value);
    CHECK(override_of(sc.arms[4], "reserve_levy") == 0.05);

    // An arm applied to a copy changes only its own keys.
    Params q = p;
    config::apply_arm(sc.arms[4], &q);
    CHECK(q.reserve_levy == 0.05);
    CHECK(q.school_rate == 0.8);
    CHECK(q.villages == p.villages);
    CHECK(q.rate_coop == p.rate_coop);
}

TEST_CASE("config: keys left out keep their defaults, and integers are accepted for reals", "[config]") {
    Params p;
    ScenarioFile sc = config::parse_scenario(
        "[population]\nvillages = 3\nland_mean = 4\n[mechanisms]\nfamine = false\n[[arm]]\nname = \"a\"\nbonus = 5\n",
        "t.toml", table(), &p);
    config::validate(table(), &p, sc, model::cross_checks());
    CHECK(p.villages == 3);
    CHECK(p.land_mean == 4.0);
    CHECK_FALSE(p.mechanisms.famine);
    CHECK(p.households == Params{}.households);
    CHECK(sc.positions.count("population.villages") == 1);
    CHECK(sc.positions.count("population.households") == 0);
    CHECK(to_string(sc.positions["population.villages"]) == "t.toml:2:1");
    REQUIRE(sc.arms.size() == 1);
    CHECK(sc.arms[0].overrides.at(0).param == &row("policy.bonus"));
    CHECK(sc.arms[0].overrides.at(0).value == 5.0);
    CHECK(to_string(sc.arms[0].overrides.at(0).where) == "t.toml:8:1");
    CHECK(to_string(sc.arms[0].where) == "t.toml:6:1");
    // Default histogram years follow [run]; short runs keep only simulated years.
    CHECK(sc.output.histogram_years == std::vector<std::int64_t>{1923, 1927, 1932, 1942});

    Params s;
    ScenarioFile short_run = config::parse_scenario("[run]\nyears = 6\nstart_year = 1900\n", "t.toml", table(), &s);
    CHECK(short_run.output.histogram_years == std::vector<std::int64_t>{1900, 1904, 1905});

    // The largest seed a TOML integer holds.
    Params big;
    config::parse_scenario("[run]\nseed = 9223372036854775807\n", "t.toml", table(), &big);
    CHECK(big.seed == 9223372036854775807ull);
}

TEST_CASE("config: render and parse round trip", "[config]") {
    Params p;
    ScenarioFile sc = config::load_scenario(kDefaultFile, table(), &p);
    // Values that need every digit, and a changed arm and output.
    config::apply_set("population.size_mean=5.123456789012345", table(), &p, sc);
    config::apply_set("weather.sigma_R=0.1", table(), &p, sc);
    config::apply_set("economy.wage=1e-7", table(), &p, sc);
    config::apply_set("behaviour.q_imit=0.30000000000000004", table(), &p, sc);
    config::apply_set("run.seed=9223372036854775807", table(), &p, sc);
    config::apply_set("mechanisms.credit=false", table(), &p, sc);
    config::apply_set("arm.free-market.school_rate=0.7777777777777778", table(), &p, sc);
    config::apply_set("output.hist_wealth_max=123.456", table(), &p, sc);
    config::apply_set("output.histogram_years=[1930, 1925]", table(), &p, sc);
    config::validate(table(), &p, sc, model::cross_checks());

    const std::string text = config::render_scenario(table(), &p, sc);
    CHECK_THAT(text, Contains("[mechanisms]"));
    CHECK_THAT(text, Contains("credit = false"));
    CHECK_THAT(text, Contains("[output]"));
    CHECK_THAT(text, Contains("histogram_years = [1925, 1930]"));
    CHECK_THAT(text, Contains("name = \"sufficiency\""));
    CHECK_THAT(text, Contains("# [roubles]"));
    CHECK_THAT(text, Contains("bonus = 0.0"));  // defaults are written too

    Params q;
    scramble(q);
    ScenarioFile again = config::parse_scenario(text, "resolved.toml", table(), &q);
    config::validate(table(), &q, again, model::cross_checks());
    require_same_params(p, q);
    CHECK(q.size_mean == 5.123456789012345);
    CHECK(q.q_imit == 0.30000000000000004);
    CHECK(q.seed == 9223372036854775807ull);
    require_same_scenario(sc, again);
    for (const auto& r : table()) CHECK(again.positions.count(r.key()) == 1);

    // Rendering is stable (apart from the header naming the source).
    const std::string text2 = config::render_scenario(table(), &q, again);
    CHECK(text2.substr(text2.find("\n[run]")) == text.substr(text.find("\n[run]")));
}

TEST_CASE("config: --set", "[config]") {
    Params p;
    ScenarioFile sc = config::load_scenario(kDefaultFile, table(), &p);

    SECTION("dotted and bare keys") {
        config::apply_set("population.villages=50", table(), &p, sc);
        config::apply_set(" households = 20 ", table(), &p, sc);
        config::apply_set("policy.bonus=2", table(), &p, sc);
        config::apply_set("mechanisms.bonus=false", table(), &p, sc);
        config::apply_set("literacy0=0.5", table(), &p, sc);
        CHECK(p.villages == 50);
        CHECK(p.households == 20);
        CHECK(p.bonus == 2.0);
        CHECK_FALSE(p.mechanisms.bonus);
        CHECK(p.literacy0 == 0.5);
        CHECK(to_string(sc.positions["population.households"]) == "--set");
        config::validate(table(), &p, sc, model::cross_checks());
    }
    SECTION("years moves the default histogram years, not explicit ones") {
        Params s;
        ScenarioFile inl = config::parse_scenario(kArm, "t.toml", table(), &s);
        config::apply_set("run.years=5", table(), &s, inl);
        CHECK(inl.output.histogram_years == std::vector<std::int64_t>{1923, 1927});
        config::validate(table(), &s, inl, model::cross_checks());
        // The default file sets them explicitly: shortening the run is an error.
        config::apply_set("years=5", table(), &p, sc);
        const std::string msg = error_of([&] { config::validate(table(), &p, sc, model::cross_checks()); });
        CHECK_THAT(msg, StartsWith(sc.source + ":"));
        CHECK_THAT(msg, Contains("output.histogram_years contains 1932"));
        CHECK_THAT(msg, Contains("[1923, 1927]"));
    }
    SECTION("arm.NAME.key") {
        config::apply_set("arm.bonus-verified.bonus=7.5", table(), &p, sc);
        config::apply_set("arm.nep-1923.reserve_levy=0.01", table(), &p, sc);
        CHECK(override_of(sc.arms[2], "bonus") == 7.5);
        CHECK(sc.arms[2].overrides.size() == 2);  // replaced, not added
        CHECK(override_of(sc.arms[0], "reserve_levy") == 0.01);
        CHECK(to_string(sc.arms[0].overrides.at(0).where) == "--set");
        CHECK(p.bonus == 0.0);  // the base value is untouched
        config::validate(table(), &p, sc, model::cross_checks());
    }
    SECTION("output keys") {
        config::apply_set("output.histogram_bins=50", table(), &p, sc);
        config::apply_set("trajectory_households=0", table(), &p, sc);
        CHECK(sc.output.histogram_bins == 50);
        CHECK(sc.output.trajectory_households == 0);
    }
    SECTION("bad keys") {
        auto set = [&](const char* s) { return error_of([&] { config::apply_set(s, table(), &p, sc); }); };
        CHECK(set("population.size_meen=5") == "--set: unknown key 'population.size_meen' (did you mean 'size_mean'?)");
        CHECK(set("size_meen=5") == "--set: unknown key 'size_meen' (did you mean 'size_mean'?)");
        CHECK(set("populaton.villages=5") ==
              "--set: unknown section [populaton] in 'populaton.villages' (did you mean [population]?)");
        CHECK(set("bonus=5") == "--set: key 'bonus' is ambiguous: write one of policy.bonus or mechanisms.bonus");
        CHECK(set("villages") ==
              "--set: 'villages' is not of the form key=value (e.g. --set population.villages=50)");
        CHECK(set("=5") == "--set: '=5' has no key before '='");
        CHECK(set("arm.bonus-verifed.bonus=1") ==
              "--set: no arm named 'bonus-verifed' (did you mean 'bonus-verified'?)");
        CHECK_THAT(set("arm.free-market.villages=5"),
                   StartsWith("--set: arm 'free-market' overrides 'population.villages', which is not a policy key; "
                              "arms may override: bonus, audit_prob,"));
        CHECK(set("arm.free-market.bonnus=5") ==
              "--set: unknown key 'bonnus' in arm 'free-market' (did you mean 'bonus'?)");
        CHECK(set("output.histogram_bin=5") ==
              "--set: unknown key 'output.histogram_bin' (did you mean 'histogram_bins'?)");
    }
    SECTION("bad values") {
        auto set = [&](const char* s) { return error_of([&] { config::apply_set(s, table(), &p, sc); }); };
        CHECK(set("population.households=many") ==
              "--set: population.households = many has the wrong type: must be an integer in [1, 1048576]");
        CHECK(set("households=3.5") ==
              "--set: population.households = 3.5 has the wrong type: must be an integer in [1, 1048576]");
        CHECK(set("households=0") ==
              "--set: population.households = 0 is out of range: must be an integer in [1, 1048576]");
        CHECK(set("literacy0=1.5") == "--set: population.literacy0 = 1.5 is out of range: must be a number in [0, 1]");
        CHECK(set("wage=inf") == "--set: economy.wage = inf is not allowed: must be a finite number in [0, 4096]");
        CHECK(set("mechanisms.famine=1") ==
              "--set: mechanisms.famine = 1 has the wrong type: must be true or false");
        CHECK(set("policy.bonus=\"5\"") ==
              "--set: policy.bonus = \"5\" has the wrong type: must be a number in [0, 4096]");
        CHECK(set("arm.sufficiency.reserve_levy=2") ==
              "--set: reserve_levy = 2 in arm 'sufficiency' is out of range: must be a number in [0, 1]");
        CHECK(set("output.histogram_bins=1") ==
              "--set: output.histogram_bins = 1 is out of range: must be an integer in [2, 1000]");
        CHECK_THAT(set("output.histogram_years=1925"),
                   StartsWith("--set: output.histogram_years = 1925 has the wrong type: must be an array"));
        CHECK(set("seed=-1") == "--set: run.seed = -1 is out of range: must be an integer in [0, 9223372036854775807]");
        // Nothing was written by the failed assignments.
        require_same_params(p, Params{});
    }
}

TEST_CASE("config: unknown keys and sections", "[config]") {
    CHECK(toml_error("[run]\nyears = 5\n[population]\nsize_meen = 5\n") ==
          "t.toml:4:1: unknown key 'population.size_meen' (did you mean 'size_mean'?)");
    CHECK(toml_error("[population]\nwage = 5\n") ==
          "t.toml:2:1: unknown key 'population.wage' ('wage' belongs in [economy])");
    CHECK(toml_error("[population]\nzzzzzz = 5\n") == "t.toml:2:1: unknown key 'population.zzzzzz'");
    CHECK(toml_error("[run]\nyears = 5\n\n[economie]\nwage = 1\n") ==
          "t.toml:4:1: unknown section [economie] (did you mean [economy]?)");
    CHECK_THAT(toml_error("[zebra]\n"), StartsWith("t.toml:1:1: unknown section [zebra]; sections are [run], "));
    CHECK(toml_error("seed = 5\n") == "t.toml:1:1: key 'seed' is outside any section: write it under [run]");
    CHECK(toml_error("run = 5\n") == "t.toml:1:1: 'run' = 5 must be a section [run], not a value");
    CHECK(toml_error("[output]\nhistogram_bin = 5\n") ==
          "t.toml:2:1: unknown key 'output.histogram_bin' (did you mean 'histogram_bins'?)");
    CHECK(toml_error("[population.size_mean]\n") ==
          "t.toml:1:1: population.size_mean = {...} (a table) has the wrong type: must be a number in [1, 16]");
}

TEST_CASE("config: wrong types", "[config]") {
    CHECK(toml_error("[population]\nhouseholds = \"many\"\n") ==
          "t.toml:2:14: population.households = \"many\" has the wrong type: must be an integer in [1, 1048576]");
    CHECK(toml_error("[population]\nhouseholds = 3.5\n") ==
          "t.toml:2:14: population.households = 3.5 has the wrong type: must be an integer in [1, 1048576]");
    CHECK(toml_error("[population]\nhouseholds = 3.0\n") ==
          "t.toml:2:14: population.households = 3.0 has the wrong type: must be an integer in [1, 1048576]");
    CHECK(toml_error("[policy]\nbonus = true\n") ==
          "t.toml:2:9: policy.bonus = true has the wrong type: must be a number in [0, 4096]");
    CHECK(toml_error("[mechanisms]\nfamine = 0\n") ==
          "t.toml:2:10: mechanisms.famine = 0 has the wrong type: must be true or false");
    CHECK(toml_error("[economy]\nwage = [1, 2]\n") ==
          "t.toml:2:8: economy.wage = [1, 2] has the wrong type: must be a number in [0, 4096]");
    CHECK_THAT(toml_error("[output]\nhistogram_years = [1923, \"x\"]\n"),
               StartsWith("t.toml:2:19: output.histogram_years = [1923, \"x\"] has the wrong type: element \"x\" "
                          "is not an integer"));
    // Floats below 0.1 in an array (toml++'s own formatter has undefined
    // behaviour on them, which the parser's fuzzer found under UBSan), nested
    // arrays and tables, and a long array cut short.
    CHECK(toml_error("[economy]\nwage = [0.05, -1e-300, [0.001], {a = 1}]\n") ==
          "t.toml:2:8: economy.wage = [0.05, -1e-300, [0.001], {...}] has the wrong type: must be a number in "
          "[0, 4096]");
    CHECK(toml_error("[economy]\nwage = [1000000, 2000000, 3000000, 4000000, 5000000, 6000000, 7000000, 8000000, "
                     "9000000]\n") ==
          "t.toml:2:8: economy.wage = [1000000, 2000000, 3000000, 4000000, 5000000, 6000000, 70... has the wrong type: "
          "must be a number in [0, 4096]");
}

TEST_CASE("config: out-of-range values", "[config]") {
    CHECK(toml_error("[policy]\nrate_coop = -0.1\n") ==
          "t.toml:2:1: policy.rate_coop = -0.1 is out of range: must be a number in [0, 1000]");
    CHECK(toml_error("[population]\nliteracy0 = 1.01\n") ==
          "t.toml:2:1: population.literacy0 = 1.01 is out of range: must be a number in [0, 1]");
    // Open bounds.
    CHECK(toml_error("[population]\nland_mean = 0\n") ==
          "t.toml:2:1: population.land_mean = 0 is out of range: must be a number in (0, 4096]");
    CHECK(toml_error("[population]\nactive0 = 1.0\n") ==
          "t.toml:2:1: population.active0 = 1.0 is out of range: must be a number in [0, 1)");
    CHECK(toml_error("[weather]\nfailure_correlation = 1\n") ==
          "t.toml:2:1: weather.failure_correlation = 1 is out of range: must be a number in [0, 1)");
    CHECK(toml_error("[economy]\nchannel_scale = 0.0\n") ==
          "t.toml:2:1: economy.channel_scale = 0.0 is out of range: must be a number in (0, 1000]");
    // Finite upper bounds (configs/README.md, "Valid ranges").
    CHECK(toml_error("[economy]\nprice0 = 1e10\n") ==
          "t.toml:2:1: economy.price0 = 1e+10 is out of range: must be a number in (0, 4096]");
    CHECK(toml_error("[behaviour]\nlambda_peer = 1000.5\n") ==
          "t.toml:2:1: behaviour.lambda_peer = 1000.5 is out of range: must be a number in [0, 1000]");
    // Integers.
    CHECK(toml_error("[demography]\nbirth_cap = 17\n") ==
          "t.toml:2:1: demography.birth_cap = 17 is out of range: must be an integer in [1, 16]");
    CHECK(toml_error("[population]\nhouseholds = 0\n") ==
          "t.toml:2:1: population.households = 0 is out of range: must be an integer in [1, 1048576]");
    CHECK(toml_error("[population]\nvillages = 9223372036854775807\n") ==
          "t.toml:2:1: population.villages = 9223372036854775807 is out of range: must be an integer in [1, "
          "1073741824]");
    CHECK(toml_error("[run]\nseed = -1\n") ==
          "t.toml:2:1: run.seed = -1 is out of range: must be an integer in [0, 9223372036854775807]");
    CHECK(toml_error("[run]\nyears = 0\n") ==
          "t.toml:2:1: run.years = 0 is out of range: must be an integer in [1, 1000]");
    // In an arm.
    CHECK(toml_error("[[arm]]\nname = \"x\"\naudit_prob = 1.5\n") ==
          "t.toml:3:1: audit_prob = 1.5 in arm 'x' is out of range: must be a number in [0, 1]");
    // [output].
    CHECK(toml_error("[output]\nhistogram_bins = 1001\n") ==
          "t.toml:2:1: output.histogram_bins = 1001 is out of range: must be an integer in [2, 1000]");
    CHECK(toml_error("[output]\nhist_wealth_max = 0\n") ==
          "t.toml:2:1: output.hist_wealth_max = 0 is out of range: must be a number in (0, 1e+12]");
}

TEST_CASE("config: NaN and infinity are refused", "[config]") {
    CHECK(toml_error("[economy]\nwage = nan\n") ==
          "t.toml:2:1: economy.wage = nan is not allowed: must be a finite number in [0, 4096]");
    CHECK(toml_error("[economy]\nwage = inf\n") ==
          "t.toml:2:1: economy.wage = inf is not allowed: must be a finite number in [0, 4096]");
    CHECK(toml_error("[population]\nland_mean = -inf\n") ==
          "t.toml:2:1: population.land_mean = -inf is not allowed: must be a finite number in (0, 4096]");
    CHECK(toml_error("[[arm]]\nname = \"x\"\nbonus = +inf\n") ==
          "t.toml:3:1: bonus = inf in arm 'x' is not allowed: must be a finite number in [0, 4096]");
}

TEST_CASE("config: malformed TOML and missing files", "[config]") {
    const std::string m = toml_error("[run]\nyears = = 5\n");
    CHECK_THAT(m, StartsWith("t.toml:2:"));
    CHECK_THAT(m, Contains(": malformed TOML: "));
    CHECK_THAT(toml_error("[run]\nyears = 5\nyears = 6\n"), StartsWith("t.toml:3:"));
    CHECK_THAT(toml_error("[run\n"), Contains("malformed TOML"));
    CHECK_THAT(toml_error("[run]\nseed = 9223372036854775808\n"),
               StartsWith("t.toml:2:"));  // beyond a TOML integer

    Params p;
    CHECK(error_of([&] { config::load_scenario("/nonexistent/x.toml", table(), &p); }) ==
          "cannot read scenario '/nonexistent/x.toml': No such file or directory");
    CHECK(error_of([&] { config::load_scenario(ARTEL_SOURCE_DIR "/configs", table(), &p); }) ==
          "cannot read scenario '" ARTEL_SOURCE_DIR "/configs': Is a directory");
}

namespace {

// What the lexical pre-scan says about `text` ("" if it lets it through).
std::string scan_error(const std::string& text, config::TextStart start = config::TextStart::Document) {
    try {
        config::check_scenario_text(text, "t.toml", start);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return {};
}

std::string repeat(const std::string& s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

const std::string kTooDeep =
    " nested too deeply: more than 32 levels of tables, keys and arrays (a valid scenario needs 2)";

}  // namespace

TEST_CASE("config: nesting is bounded before toml++ sees the text", "[config]") {
    static_assert(config::kMaxNesting == 32);
    // The inputs that overflowed toml++'s stack (tests/fuzz/corpus/deep_*):
    // 50 000 levels, refused at the first level beyond 32.
    CHECK(toml_error("[run]\n" + repeat("a.", 50000) + "a = 1\n") == "t.toml:2:62: dotted key" + kTooDeep);
    CHECK(toml_error("[" + repeat("a.", 50000) + "a]\n") == "t.toml:1:65: table header" + kTooDeep);
    CHECK(toml_error("[[" + repeat("a.", 50000) + "a]]\n") == "t.toml:1:66: table header" + kTooDeep);
    CHECK(toml_error("x = " + repeat("[", 50000) + repeat("]", 50000)) == "t.toml:1:37: array" + kTooDeep);
    CHECK(toml_error("x = " + repeat("{a = ", 50000) + "1" + repeat("}", 50000)) == "t.toml:1:163: key" + kTooDeep);
    CHECK(toml_error("x = [" + repeat("{a = [", 50000)) == "t.toml:1:99: key" + kTooDeep);
    CHECK(toml_error("x = " + repeat("[", 32) + "{a = 1}" + repeat("]", 32)) == "t.toml:1:37: inline table" + kTooDeep);
    CHECK(toml_error("x = {" + repeat("a.", 50000) + "a = 1}") == "t.toml:1:67: dotted key" + kTooDeep);

    // Exactly 32 levels pass the scan (toml++ then parses them), 33 do not;
    // the levels of a header, a key and the arrays around a value add up.
    CHECK(scan_error(repeat("a.", 31) + "a = 1\n").empty());
    CHECK(scan_error(repeat("a.", 32) + "a = 1\n") == "t.toml:1:64: dotted key" + kTooDeep);
    CHECK(scan_error("[" + repeat("a.", 31) + "a]\n").empty());
    CHECK(scan_error("[" + repeat("a.", 31) + "a]\nx = 1\n") == "t.toml:2:3: key" + kTooDeep);
    CHECK(scan_error("[" + repeat("a.", 15) + "a]\n" + repeat("b.", 15) + "b = 1\n").empty());
    CHECK(scan_error("[" + repeat("a.", 15) + "a]\n" + repeat("b.", 16) + "b = 1\n") ==
          "t.toml:2:32: dotted key" + kTooDeep);
    CHECK(scan_error("x = " + repeat("[", 32) + repeat("]", 32)).empty());  // the outer array is x, level 1
    CHECK(scan_error("x = " + repeat("[", 33) + repeat("]", 33)) == "t.toml:1:37: array" + kTooDeep);
    CHECK(scan_error("[" + repeat("a.", 20) + "a]\nx = [{" + repeat("b.", 8) + "b = 1}]\n").empty());  // 21+1+1+9
    CHECK(scan_error("[" + repeat("a.", 20) + "a]\nx = [{" + repeat("b.", 9) + "b = 1}]\n") ==
          "t.toml:2:24: dotted key" + kTooDeep);
    // Multi-line arrays keep their depth across lines; a closed one gives it back.
    CHECK(scan_error("x = [\n" + repeat("[\n", 31) + repeat("]\n", 32) + "y = [[1]]\n").empty());
    CHECK(scan_error("x = [\n" + repeat("[\n", 32) + repeat("]\n", 33)) == "t.toml:33:1: array" + kTooDeep);

    // Strings, comments and values count for nothing.
    const std::string deep_text = repeat("a.[{", 100);
    CHECK(scan_error("# " + deep_text + "\n[run]\nyears = 5 # " + deep_text + "\n").empty());
    CHECK(scan_error("x = \"" + deep_text + "\\\"" + deep_text + "\"\n").empty());
    CHECK(scan_error("x = '" + deep_text + "'\n").empty());
    CHECK(scan_error("x = \"\"\"\n" + deep_text + "\n[" + deep_text + "]\n\"\"\"\n").empty());
    CHECK(scan_error("x = '''\n" + deep_text + "\n" + deep_text + "'''\n").empty());
    CHECK(scan_error("\"" + deep_text + "\" = 1\n['" + deep_text + "']\n").empty());  // quoted keys: one part
    CHECK(scan_error("x = [" + repeat("1.5, ", 100) + "2.5e3, 1979-05-27T07:32:00.999]\n").empty());
    CHECK(scan_error("x = {" + repeat("a = 1.5, ", 100) + "b = [1.25, {c = 2.5}]}\n").empty());
    // ... but a quoted part is still a part.
    CHECK(scan_error(repeat("\"a.b\".", 32) + "c = 1\n") == "t.toml:1:192: dotted key" + kTooDeep);

    // A --set value is read as the value of a one-part key, and may hold lines.
    CHECK(scan_error("[1923, 1930]", config::TextStart::Value).empty());
    CHECK(scan_error(repeat("[", 32) + repeat("]", 32), config::TextStart::Value).empty());
    CHECK(scan_error(repeat("[", 33), config::TextStart::Value) == "t.toml:1:33: array" + kTooDeep);
    CHECK(scan_error("1\n[" + repeat("a.", 32) + "a]", config::TextStart::Value) ==
          "t.toml:2:65: table header" + kTooDeep);
    Params p;
    ScenarioFile sc = config::parse_scenario(kArm, "t.toml", table(), &p);
    CHECK(error_of([&] { config::apply_set("policy.bonus={" + repeat("a.", 50000) + "a=1}", table(), &p, sc); }) ==
          "--set policy.bonus:1:63: dotted key" + kTooDeep);
    CHECK(error_of([&] { config::apply_set("output.histogram_years=" + repeat("[", 50000), table(), &p, sc); }) ==
          "--set output.histogram_years:1:33: array" + kTooDeep);
}

TEST_CASE("config: scenario files are read with a bound", "[config]") {
    const std::string limit = "a scenario file may have at most 4194304 bytes (4 MiB)";
    Params p;
    for (const std::string device : {"/dev/zero", "/dev/urandom"})
        CHECK(error_of([&] { config::load_scenario(device, table(), &p); }) ==
              "scenario '" + device +
                  "' is too large: reading stopped after 4194305 bytes (its size is not known in advance); " + limit);
    const auto big = std::filesystem::temp_directory_path() /
                     ("artel-test-big-" + std::to_string(::getpid()) + ".toml");
    std::ofstream(big).put('#');
    std::filesystem::resize_file(big, std::uintmax_t{1} << 40);  // sparse: 1 TiB, refused before reading
    CHECK(error_of([&] { config::load_scenario(big, table(), &p); }) ==
          "scenario '" + big.string() + "' is too large: 1099511627776 bytes; " + limit);
    std::filesystem::resize_file(big, config::kMaxScenarioBytes);  // the limit exactly: read, then parsed
    CHECK_THAT(error_of([&] { config::load_scenario(big, table(), &p); }), StartsWith(big.string() + ":1:2: "));
    std::filesystem::remove(big);
    // In memory too.
    CHECK(scan_error(std::string(config::kMaxScenarioBytes + 1, ' ')) ==
          "t.toml: the text has 4194305 bytes; a scenario may have at most 4194304 bytes (4 MiB)");
}

TEST_CASE("config: arms", "[config]") {
    CHECK(toml_error("[run]\nyears = 5\n") == "t.toml: no [[arm]] entries: a scenario needs at least one policy arm");
    CHECK(toml_error("[[arm]]\nname = \"a\"\n\n[[arm]]\nname = \"b\"\n\n[[arm]]\nname = \"a\"\n") ==
          "t.toml:7:1: duplicate arm name 'a' (first at line 1)");
    CHECK_THAT(toml_error("[[arm]]\nname = \"x\"\nvillages = 5\n"),
               StartsWith("t.toml:3:1: arm 'x' overrides 'population.villages', which is not a policy key; arms may "
                          "override: bonus, audit_prob, audit_cost, false_claim_prob, organiser_rate, rate_coop, "
                          "credit_limit_coop, coop_aid, reserve_levy, lambda_campaign, school_rate, state_price"));
    CHECK(toml_error("[[arm]]\nname = \"x\"\npolicy.bonus = 5\n") ==
          "t.toml:3:1: unknown key 'policy' in arm 'x'; arms may override: bonus, audit_prob, audit_cost, "
          "false_claim_prob, organiser_rate, rate_coop, credit_limit_coop, coop_aid, reserve_levy, lambda_campaign, "
          "school_rate, state_price");
    CHECK(toml_error("[[arm]]\nname = \"x\"\nbonnus = 5\n") ==
          "t.toml:3:1: unknown key 'bonnus' in arm 'x' (did you mean 'bonus'?)");
    CHECK(toml_error("[[arm]]\nname = \"a\"\n[[arm]]\nbonus = 5\n") ==
          "t.toml:3:1: [[arm]] entry 2 has no name: write name = \"...\" (an arm name must be 1 or more letters, "
          "digits, '_', '.' or '-' (not '.' or '..'))");
    CHECK(toml_error("[[arm]]\nname = \"a b\"\n") ==
          "t.toml:2:8: arm name \"a b\" is not allowed: an arm name must be 1 or more letters, digits, '_', '.' or "
          "'-' (not '.' or '..')");
    CHECK_THAT(toml_error("[[arm]]\nname = \"\"\n"), StartsWith("t.toml:2:8: arm name \"\" is not allowed"));
    CHECK_THAT(toml_error("[[arm]]\nname = \"x/y\"\n"), StartsWith("t.toml:2:8: arm name \"x/y\" is not allowed"));
    CHECK_THAT(toml_error("[[arm]]\nname = \"..\"\n"), StartsWith("t.toml:2:8: arm name \"..\" is not allowed"));
    CHECK(toml_error("[[arm]]\nname = 5\n") ==
          "t.toml:2:8: arm name = 5 has the wrong type: must be a string; an arm name must be 1 or more letters, "
          "digits, '_', '.' or '-' (not '.' or '..')");
    CHECK(toml_error("[arm]\nname = \"x\"\n") ==
          "t.toml:1:2: 'arm' must be a list of tables, each written [[arm]] with name = \"...\"");
    // Valid names with dots, dashes and underscores.
    Params p;
    ScenarioFile sc =
        config::parse_scenario("[[arm]]\nname = \"v1.2_a-b\"\n[[arm]]\nname = 'B'\n", "t.toml", table(), &p);
    config::validate(table(), &p, sc, model::cross_checks());
    CHECK(sc.arms.at(0).name == "v1.2_a-b");
    config::apply_set("arm.v1.2_a-b.bonus=3", table(), &p, sc);
    CHECK(override_of(sc.arms[0], "bonus") == 3.0);
}

TEST_CASE("config: at most kMaxArms arms", "[config]") {
    static_assert(config::kMaxArms == 1024);
    auto with_arms = [](std::size_t n) {
        std::string text = "[run]\nyears = 5\n";
        for (std::size_t a = 0; a < n; ++a) text += "[[arm]]\nname = \"a" + std::to_string(a) + "\"\n";
        return text;
    };
    Params p;
    ScenarioFile sc = config::parse_scenario(with_arms(1024), "t.toml", table(), &p);
    config::validate(table(), &p, sc, model::cross_checks());
    CHECK(sc.arms.size() == 1024);
    // Refused at the first arm too many: line 3 + 2 x 1024.
    const std::string refused = "too many arms: 1025 [[arm]] entries, and a scenario may have at most 1024 (this is "
                                "entry 1025); split a larger study into several runs";
    CHECK(toml_error(with_arms(1025)) == "t.toml:2051:1: " + refused);
    CHECK_THAT(toml_error(with_arms(100000)), StartsWith("t.toml:2051:1: too many arms: 100000 [[arm]] entries"));
    // A scenario built otherwise is checked too.
    sc.arms.push_back(sc.arms.back());
    sc.arms.back().name = "extra";
    sc.arms.back().where = config::SourcePos{"t.toml", 9999, 1};
    CHECK(error_of([&] { config::validate(table(), &p, sc, model::cross_checks()); }) == "t.toml:9999:1: " + refused);
}

TEST_CASE("config: cross-field rules", "[config]") {
    CHECK(toml_error(std::string("[population]\npassive0 = 0.99\n") + kArm) ==
          "t.toml:2:1: population.passive0 + population.active0 = 0.99 + 0.02 = 1.01 is out of range: must be at "
          "most 1 (the initial passive and active shares of households)");
    CHECK(toml_error(std::string("[population]\nactive0 = 0.5\npassive0 = 0.75\n") + kArm) ==
          "t.toml:3:1: population.passive0 + population.active0 = 0.75 + 0.5 = 1.25 is out of range: must be at "
          "most 1 (the initial passive and active shares of households); population.active0 is set at t.toml:2:1");
    // Exactly 1 is fine.
    {
        Params p;
        ScenarioFile sc = config::parse_scenario(std::string("[population]\npassive0 = 0.98\n") + kArm, "t.toml",
                                                 table(), &p);
        config::validate(table(), &p, sc, model::cross_checks());
    }
    CHECK(toml_error(std::string("[population]\nvillages = 1073741824\nhouseholds = 2\n") + kArm) ==
          "t.toml:2:1: population.villages * population.households = 1073741824 * 2 = 2147483648 is out of range: "
          "must be at most 1073741824 (households per replication, 2^30); population.households is set at t.toml:3:1");
    CHECK(toml_error(std::string("[population]\nvillages = 1073741824\nhouseholds = 1048576\n") + kArm) ==
          "t.toml:2:1: population.villages * population.households = 1073741824 * 1048576 = 1125899906842624 is "
          "out of range: must be at most 1073741824 (households per replication, 2^30); population.households is "
          "set at t.toml:3:1");
    {
        Params p;
        ScenarioFile sc = config::parse_scenario(kArm, "t.toml", table(), &p);
        config::apply_set("villages=1048576", table(), &p, sc);
        config::apply_set("households=1024", table(), &p, sc);
        config::validate(table(), &p, sc, model::cross_checks());  // exactly 2^30
        config::apply_set("households=1025", table(), &p, sc);
        CHECK_THAT(error_of([&] { config::validate(table(), &p, sc, model::cross_checks()); }),
                   StartsWith("--set: population.villages * population.households = 1048576 * 1025 = 1074790400 is "
                              "out of range"));
    }
    // Histogram years and trajectory replications.
    CHECK(toml_error(std::string("[output]\nhistogram_years = [1923, 1950]\n") + kArm) ==
          "t.toml:2:1: output.histogram_years contains 1950, which is outside the simulated years: must be an "
          "integer in [1923, 1942] (run.start_year = 1923, run.years = 20)");
    CHECK_THAT(toml_error(std::string("[output]\nhistogram_years = [1922]\n") + kArm),
               Contains("contains 1922, which is outside the simulated years"));
    CHECK(toml_error(std::string("[output]\nhistogram_years = [1925, 1925]\n") + kArm) ==
          "t.toml:2:1: output.histogram_years = [1925, 1925] lists the year 1925 twice: each year may appear once");
    CHECK(toml_error(std::string("[run]\nreplications = 3\n[output]\ntrajectory_replications = 4\n") + kArm) ==
          "t.toml:4:1: output.trajectory_replications = 4 is out of range: must be an integer in [0, 3] (at most "
          "run.replications = 3)");
}
