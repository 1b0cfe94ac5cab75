// Every parameter at the ends of its valid range (configs/README.md, "Valid
// ranges"): whatever a scenario sets within the ranges, a run either gives
// finite, consistent numbers, the same bits from the scalar reference kernel
// and from the vector kernel on every instruction set here, or stops with an
// error naming the quantity that grew beyond what artel adds up exactly. It
// never gives a wrong number silently (issue 17: economy.wage = 1e10, then
// inside the range [0, inf), gave a mean cash of -1e11 while every household
// held cash >= 0).
//
// A range with no finite end is tried at the largest double, which the
// arithmetic cannot honour: such a range fails these tests, as every
// monetary range did before the ranges were bounded.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"
#include "test_inputs.hpp"
#include "kernels/household_model.hpp"
#include "kernels/params.hpp"
#include "kernels/simd/step_simd.hpp"
#include "kernels/tallies.hpp"
#include "kernels/weather.hpp"

using namespace artel;
using namespace artel::model;

namespace {

struct TargetGuard {
    std::string saved = simd_target();
    ~TargetGuard() { set_simd_target(saved); }
};

// Keys that shape the run rather than the households; tried separately
// (the population maxima below).
const std::set<std::string> kShapeKeys = {"run.seed",          "run.replications",   "run.years", "run.start_year",
                                          "population.regions", "population.villages", "population.households"};

// One end of a row's range: the end itself when it is closed, the nearest
// double inside when it is open, the largest double when it is infinite.
double range_end(const ParamInfo& p, bool high) {
    const double inf = std::numeric_limits<double>::infinity();
    const double end = high ? p.hi : p.lo;
    if (std::isinf(end)) return high ? std::numeric_limits<double>::max() : std::numeric_limits<double>::lowest();
    const bool open = high ? p.hi_open : p.lo_open;
    if (!open) return end;
    return p.kind == ParamKind::Real ? std::nextafter(end, high ? -inf : inf) : end + (high ? -1 : 1);
}

std::string value_text(double v) {
    std::ostringstream o;
    o.precision(17);
    o << v;
    return o.str();
}

struct Case {
    std::string name;
    Params p;
};

// A small population whose last vector is partial on every target, a few
// years, and the policies that reach the bonus, reserve and credit paths.
Params small_world() {
    Params p;
    p.years = 3;
    p.villages = 3;
    p.households = 7;
    p.regions = 2;
    p.bonus = 5.0;
    p.reserve_levy = 0.05;
    return p;
}

std::vector<const ParamInfo*> model_rows() {
    std::vector<const ParamInfo*> rows;
    for (const auto& row : param_table())
        if (row.kind != ParamKind::Boolean && !kShapeKeys.count(row.key())) rows.push_back(&row);
    return rows;
}

// Each parameter alone at each end of its range.
std::vector<Case> single_ends() {
    std::vector<Case> cases;
    for (const auto* row : model_rows())
        for (const bool high : {false, true}) {
            Case c{row->key() + " = " + value_text(range_end(*row, high)), small_world()};
            config::write_value(&c.p, *row, range_end(*row, high));
            cases.push_back(c);
        }
    return cases;
}

// Several at once: every parameter at its bottom, every one at its top,
// every amount and factor at its top (probabilities as by default), every
// amount at its top (alone, and with the productivity gains), and random
// mixtures of ends, defaults and mechanism switches.
std::vector<Case> combinations() {
    const double amount_top = find_param("economy.wage")->hi;  // the bound of every amount
    std::vector<Case> cases;
    auto all = [&](const std::string& name, auto choose) {
        Case c{name, small_world()};
        for (const auto* row : model_rows()) {
            const int end = choose(*row);  // -1 bottom, +1 top, 0 default
            if (end != 0) config::write_value(&c.p, *row, range_end(*row, end > 0));
        }
        cases.push_back(c);
    };
    all("every parameter at its bottom", [](const ParamInfo&) { return -1; });
    all("every parameter at its top", [](const ParamInfo&) { return 1; });
    all("every amount and factor at its top", [](const ParamInfo& r) { return r.hi > 1 ? 1 : 0; });
    all("every amount at its top", [&](const ParamInfo& r) { return r.hi == amount_top ? 1 : 0; });
    all("every amount at its top, productivity gains too", [&](const ParamInfo& r) {
        return r.hi == amount_top || r.name == "beta_lit" || r.name == "beta_coop" ? 1 : 0;
    });
    all("every amount and factor at its bottom, the rest at the top",
        [](const ParamInfo& r) { return r.hi > 1 ? -1 : 1; });
    std::uint64_t state = 17;
    for (int k = 0; k < 24; ++k) {
        all("mixture " + std::to_string(k),
            [&](const ParamInfo&) { return static_cast<int>(test::splitmix64(state) % 3) - 1; });
        auto& m = cases.back().p.mechanisms;
        bool* sw[] = {&m.adoption, &m.weather, &m.reserve, &m.credit, &m.famine,
                      &m.demography, &m.market, &m.bonus, &m.literacy};
        for (bool* s : sw) *s = test::splitmix64(state) % 4 != 0;
        cases.back().p.seed = test::splitmix64(state) >> 1;
    }
    return cases;
}

// ---- the kernels, year by year ------------------------------------------------

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

void require_same_state(const BlockState& a, const BlockState& b) {
    REQUIRE(same_bits(a.hh.size, b.hh.size));
    REQUIRE(same_bits(a.hh.adults, b.hh.adults));
    REQUIRE(same_bits(a.hh.literate, b.hh.literate));
    REQUIRE(same_bits(a.hh.coop, b.hh.coop));
    REQUIRE(same_bits(a.hh.hunger, b.hh.hunger));
    REQUIRE(same_bits(a.hh.land, b.hh.land));
    REQUIRE(same_bits(a.hh.grain, b.hh.grain));
    REQUIRE(same_bits(a.hh.cash, b.hh.cash));
    REQUIRE(same_bits(a.hh.debt, b.hh.debt));
    REQUIRE(same_bits(a.hh.skill, b.hh.skill));
    REQUIRE(same_bits(a.vil.store, b.vil.store));
    REQUIRE(same_bits(a.vil.reserve, b.vil.reserve));
    REQUIRE(same_bits(a.vil.M, b.vil.M));
    REQUIRE(same_bits(a.vil.A, b.vil.A));
    REQUIRE(same_bits(a.vil.L, b.vil.L));
}

// Same counts and overflow marks; the same sums where they held.
void require_same_tally(const Tally& a, const Tally& b, const GiniHistogram& ga, const GiniHistogram& gb) {
    REQUIRE(a.count == b.count);
    REQUIRE(a.overflow == b.overflow);
    for (int r = 0; r < kReals; ++r) {
        INFO("real tally " << r);
        const auto k = static_cast<std::size_t>(r);
        if (!(a.overflow >> r & 1u)) REQUIRE(a.real[k] == b.real[k]);
    }
    REQUIRE(ga.overflow == gb.overflow);
    REQUIRE(ga.n == gb.n);
    if (!ga.overflow) REQUIRE(ga.sum == gb.sum);
}

// The block's stocks after a year whose tallies held: every living
// household is a household (sizes, adults, literate in order; stocks finite
// and >= 0; skill in [0, 1]) and the stock tallies are exactly the sums of
// its values, so a mean of values >= 0 is >= 0. Where a tally did not hold,
// the run stops there; but no household may hold a non-finite stock
// without a tally saying so.
void check_consistent(const BlockState& s, const Tally& x, const GiniHistogram& gini) {
    const auto& h = s.hh;
    bool finite = true;
    std::int64_t living = 0, persons = 0, grain = 0, cash = 0, debt = 0, store = 0;
    for (std::size_t i = 0; i < s.n_households(); ++i) {
        if (h.size[i] == 0) continue;
        ++living;
        persons += h.size[i];
        finite = finite && std::isfinite(h.grain[i]) && std::isfinite(h.cash[i]) && std::isfinite(h.debt[i]) &&
                 std::isfinite(h.land[i]);
        if (x.overflow || gini.overflow) continue;
        // (one REQUIRE per household would take seconds for 2^20 of them)
        const bool household = h.size[i] <= 16 && h.adults[i] >= 1 && h.adults[i] <= h.size[i] &&
                               h.literate[i] >= 0 && h.literate[i] <= h.adults[i] && h.grain[i] >= 0.0f &&
                               h.cash[i] >= 0.0f && h.debt[i] >= 0.0f && h.land[i] >= 0.0f && h.skill[i] >= 0.0f &&
                               h.skill[i] <= 1.0f;
        if (!household) {
            INFO("household " << i << ": size " << h.size[i] << ", adults " << h.adults[i] << ", literate "
                              << h.literate[i] << ", grain " << h.grain[i] << ", cash " << h.cash[i] << ", debt "
                              << h.debt[i] << ", land " << h.land[i] << ", skill " << h.skill[i]);
            REQUIRE(household);
        }
        grain += to_fixed(h.grain[i]);
        cash += to_fixed(h.cash[i]);
        debt += to_fixed(h.debt[i]);
    }
    if (!finite) REQUIRE(x.overflow != 0);
    if (x.overflow || gini.overflow) return;
    for (std::size_t v = 0; v < s.vil.store.size(); ++v) {
        store += s.vil.store[v];
        REQUIRE(s.vil.reserve[v] >= 0.0);
    }
    REQUIRE(x[Count::living] == living);
    REQUIRE(x[Count::persons] == persons);
    REQUIRE(x[Count::stores_open] == store);
    REQUIRE(x.real[static_cast<int>(Real::grain)] == grain);
    REQUIRE(x.real[static_cast<int>(Real::cash)] == cash);
    REQUIRE(x.real[static_cast<int>(Real::debt)] == debt);
    for (int r = 0; r < kReals; ++r)
        if (r != static_cast<int>(Real::cost_interest)) REQUIRE(x.real[static_cast<std::size_t>(r)] >= 0);
    for (int c = 0; c < kCounts; ++c) REQUIRE(x.count[static_cast<std::size_t>(c)] >= 0);
    REQUIRE(x[Count::living] <= static_cast<std::int64_t>(s.n_households()));
    REQUIRE(x[Count::persons] <= 16 * x[Count::living]);
    const double g = gini.gini();
    REQUIRE(g >= 0.0);
    REQUIRE(g <= 1.0);
}

struct Shape {
    std::int64_t villages, households, first_village;
    std::uint32_t replication;
};

// Runs the scalar kernel and the vector kernel on `targets` side by side,
// requiring the same bits and a consistent block after the start and every
// year, until the first year whose tallies do not hold (where a run stops).
// Returns the years that held on every target: p.years if all did, -1 if
// the weather or the start did not.
std::int64_t kernels_agree(const Params& p, const Shape& sh, const std::vector<std::string>& targets) {
    Weather w;
    try {
        draw_weather(p, sh.replication, w);
    } catch (const std::overflow_error& e) {  // a clean stop, before any household
        CHECK(std::string(e.what()).find("beyond single precision") != std::string::npos);
        return -1;
    }
    BlockState ref;
    ref.shape(sh.replication, sh.first_village, sh.villages, sh.households);
    init_block(p, ref);
    {
        std::vector<double> price(static_cast<std::size_t>(p.regions), p.price0);
        Tally x;
        GiniHistogram g;
        tally_stocks(p, ref, price.data(), x, g);
        INFO("the start");
        check_consistent(ref, x, g);
        if (x.overflow || g.overflow) return -1;
    }
    std::int64_t held = p.years;
    for (const auto& target : targets) {
        INFO("target " << target);
        set_simd_target(target);
        BlockState a, b;
        a.copy_from(ref);
        b.shape(sh.replication, sh.first_village, sh.villages, sh.households);
        init_block_simd(p, b);
        require_same_state(a, b);
        YearScratch sa, sb;
        for (std::int64_t t = 0; t < p.years; ++t) {
            INFO("year " << t);
            Tally ta, tb;
            GiniHistogram ga, gb;
            step_year(p, w, t, a, sa, ta, ga);
            step_year_simd(p, w, t, b, sb, tb, gb);
            require_same_tally(ta, tb, ga, gb);
            require_same_state(a, b);
            check_consistent(a, ta, ga);
            if (ta.overflow || ga.overflow) {
                held = std::min(held, t);
                break;
            }
        }
    }
    return held;
}

// ---- the whole simulation -----------------------------------------------------

// Series that are a ratio and NaN where its denominator is 0
// (docs/output-format.md).
const std::set<std::string> kRatios = {"grain_mean", "cash_mean", "debt_mean", "famine_death_rate", "birth_rate",
                                       "death_rate", "harvest_per_ha", "coop_sales_share", "marketed_gross",
                                       "marketed_net", "reserve_per_household"};
const std::set<std::string> kShares = {"member_share", "passive_share", "active_share", "literacy",
                                       "wealth_gini",  "hunger_share",  "coop_sales_share"};
// Series that may be negative: the interest subsidy is a gain when rate_coop
// is above rate_private, and so may be the state cost; net marketing may
// be below zero.
const std::set<std::string> kSigned = {"cost_interest", "state_cost", "marketed_net"};

void check_record(const run::ReplicationRecord& r, const Params& p) {
    const auto& cat = series_catalogue();
    const auto S = cat.size(), T = static_cast<std::size_t>(p.years);
    const double households = static_cast<double>(p.villages * p.households);
    auto check = [&](const std::string& name, double v, bool start) {
        INFO("series " << name << (start ? " at the start" : "") << " = " << v);
        if (std::isnan(v)) {
            REQUIRE(kRatios.count(name));
            return;
        }
        REQUIRE(std::isfinite(v));
        if (!kSigned.count(name)) REQUIRE(v >= 0.0);
        if (kShares.count(name)) REQUIRE(v <= 1.0);
        if (name == "households") REQUIRE(v <= households);
        if (name == "persons") REQUIRE(v <= 16 * households);
    };
    for (std::size_t s = 0; s < S; ++s) {
        const std::string name = cat[s].name;
        if (cat[s].has_start) check(name, r.start[s], true);
        for (std::size_t t = 0; t < T; ++t) check(name, r.series[s * T + t], false);
    }
    for (std::size_t e = 0; e < event_catalogue().size(); ++e) {
        INFO("event " << event_catalogue()[e].name << " = " << r.events[e]);
        REQUIRE(std::isfinite(r.events[e]));
        if (e < 3) REQUIRE(r.events[e] >= -1.0);
        if (e < 3) REQUIRE(r.events[e] <= static_cast<double>(T));
    }
}

struct Outcome {
    bool stopped = false;
    std::string error;
    std::vector<run::ReplicationRecord> records;
};

Outcome simulate(const Params& p, bool simd) {
    auto options = test::small_options(2);
    options.simd = simd;
    Outcome o;
    try {
        o.records = test::run_memory({Arm{"a", p}}, options, 1).records;
    } catch (const std::exception& e) {
        o.stopped = true;
        o.error = e.what();
    }
    return o;
}

bool same_record(const run::ReplicationRecord& a, const run::ReplicationRecord& b) {
    return same_bits(a.series, b.series) && same_bits(a.start, b.start) && same_bits(a.events, b.events) &&
           same_bits(a.histograms, b.histograms);
}

// The simulation with the scalar kernel and with the vector kernel on every
// target: the same records or the same error, and a record that makes sense.
void simulations_agree(const Params& p) {
    const Outcome ref = simulate(p, false);
    if (ref.stopped) {
        INFO(ref.error);
        const bool named = ref.error.find("2^42") != std::string::npos ||
                           ref.error.find("beyond single precision") != std::string::npos;
        REQUIRE(named);
    } else {
        for (const auto& r : ref.records) check_record(r, p);
    }
    for (const auto& target : available_simd_targets()) {
        INFO("target " << target);
        set_simd_target(target);
        const Outcome o = simulate(p, true);
        REQUIRE(o.stopped == ref.stopped);
        REQUIRE(o.error == ref.error);
        REQUIRE(o.records.size() == ref.records.size());
        for (std::size_t k = 0; k < o.records.size(); ++k) REQUIRE(same_record(o.records[k], ref.records[k]));
    }
}

}  // namespace

TEST_CASE("extremes: each parameter alone at each end of its range", "[extremes]") {
    TargetGuard guard;
    const auto targets = available_simd_targets();
    for (const auto& c : single_ends()) {
        INFO(c.name);
        Params p = c.p;
        p.replications = 1;
        // Alone at an end, on a small population, every year holds.
        CHECK(kernels_agree(p, {p.villages, p.households, 0, 0}, targets) == p.years);
        simulations_agree(p);
    }
}

TEST_CASE("extremes: parameters together at the ends of their ranges", "[extremes]") {
    TargetGuard guard;
    const auto targets = available_simd_targets();
    const auto cases = combinations();
    std::size_t every_year = 0;
    for (const auto& c : cases) {
        INFO(c.name);
        Params p = c.p;
        p.replications = 1;
        every_year += kernels_agree(p, {p.villages, p.households, 0, 1}, targets) == p.years;
        simulations_agree(p);
    }
    // Most combinations run every year (the others stop cleanly: sigma_R and
    // price_elasticity at their tops give prices beyond single precision;
    // grain0, or land and yield with productivity gains, at their tops sums
    // beyond 2^42), so the kernels are compared on them too.
    CHECK(every_year >= cases.size() * 2 / 3);
}

TEST_CASE("extremes: the population, years, replications and seed at their maxima", "[extremes]") {
    TargetGuard guard;
    const auto targets = available_simd_targets();
    const auto top = [](const char* key) { return find_param(key)->hi; };
    SECTION("the last villages of the largest population, in the most regions") {
        // villages x households = 2^30: the last household ids of the random
        // streams, and regions at their maximum.
        Params p = small_world();
        p.regions = static_cast<std::int64_t>(top("population.regions"));
        p.villages = static_cast<std::int64_t>(top("population.villages"));
        p.households = 1;
        p.years = 2;
        CHECK(kernels_agree(p, {5, 1, p.villages - 5, 0}, targets) == p.years);
    }
    SECTION("the last village of the most households") {
        // 1024 villages of 2^20 households: the last one, for one year, on
        // the scalar kernel and the best vector target (every target would
        // take seconds).
        Params p = small_world();
        p.households = static_cast<std::int64_t>(top("population.households"));
        p.villages = static_cast<std::int64_t>(top("population.villages")) / p.households;
        p.years = 1;
        CHECK(kernels_agree(p, {1, p.households, p.villages - 1, 0}, {targets.front()}) == p.years);
    }
    SECTION("the most years, the last replication, the largest seed and start year") {
        Params p = small_world();
        p.villages = 1;
        p.households = 3;
        p.years = static_cast<std::int64_t>(top("run.years"));
        p.seed = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        p.start_year = static_cast<std::int64_t>(top("run.start_year"));
        const auto last = static_cast<std::uint32_t>(top("run.replications") - 1);
        CHECK(kernels_agree(p, {1, 3, 0, last}, targets) == p.years);
        p.replications = 1;
        simulations_agree(p);
    }
    SECTION("grain piling up until its sums pass 2^42, in the largest population's last villages") {
        // Land and yield at their tops and a productivity gain of 100,
        // nothing sold: each household harvests about 1.7e9 centners a year,
        // worth 1e10 roubles at price0, and keeps it; 128 households pass
        // 2^42 = 4.4e12 roubles of wealth in the fourth year. The kernels
        // agree until then and mark the same tallies in that year.
        Params p = small_world();
        p.land_mean = top("population.land_mean");
        p.yield_mean = top("weather.yield_mean");
        p.beta_lit = 100.0;
        p.literacy0 = 1.0;
        p.sell_share = 0.0;
        p.households = 64;
        p.villages = static_cast<std::int64_t>(top("population.villages")) / p.households;
        p.years = 20;
        const auto held = kernels_agree(p, {2, p.households, p.villages - 2, 0}, targets);
        CHECK(held == 3);
    }
}

TEST_CASE("extremes: a tally holds 2^42 exactly and marks what is beyond", "[extremes]") {
    // The most any amount parameter gives every household of the largest
    // population (kAmountMax x 2^30 = 2^42, kernels/params.cpp) adds up
    // exactly; a unit of 2^-20 more, or a value that is not finite, marks
    // the tally. 2^30 additions as 30 doublings (merge adds exactly).
    Tally t;
    t.add(Real::cash, find_param("population.cash0")->hi);
    for (int k = 0; k < 30; ++k) t.merge(Tally(t));
    CHECK(t.overflow == 0);
    CHECK(t[Real::cash] == kTallyMax);
    CHECK(t[Real::cash] ==
          find_param("population.cash0")->hi * static_cast<double>(find_param("population.villages")->hi));
    Tally more = t;
    more.add(Real::cash, 1.0 / kFixedScale);
    CHECK(more.overflowed(Real::cash));
    CHECK_FALSE(more.overflowed(Real::grain));
    for (const double bad : {std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN(),
                             -std::numeric_limits<double>::infinity(), 2 * kTallyMax}) {
        Tally x;
        x.add(Real::debt, bad);
        CHECK(x.overflowed(Real::debt));
        Tally y;
        y.merge(x);
        CHECK(y.overflowed(Real::debt));
        GiniHistogram g;
        g.add(bad);
        if (!(bad <= 0)) CHECK(g.overflow);  // (-inf is no wealth: household_wealth gives max(0, w))
    }
    // The interest subsidy is signed: -2^42 holds, below it does not.
    Tally s;
    s.add(Real::cost_interest, -kTallyMax);
    CHECK(s.overflow == 0);
    s.add(Real::cost_interest, -1.0);
    CHECK(s.overflowed(Real::cost_interest));
    // Gini sums alike.
    GiniHistogram g;
    g.add(kTallyMax);
    CHECK_FALSE(g.overflow);
    GiniHistogram h = g;
    h.merge(g);
    CHECK(h.overflow);
}
