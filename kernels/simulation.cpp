#include "kernels/simulation.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <type_traits>

#include "engine/random/streams.hpp"
#include "kernels/block.hpp"
#include "kernels/hist_bin.hpp"
#include "kernels/household_model.hpp"
#include "kernels/one_lane.hpp"
#include "kernels/simd/step_simd.hpp"
#include "kernels/tallies.hpp"
#include "kernels/weather.hpp"

namespace artel::model {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The household variables of a trajectory sample, in output order.
// (MODEL.md section 2 for their meaning)
const std::vector<run::TrajectoryVarInfo> kTrajectoryVars = {
    {"size", "persons", "household size (0: dissolved)", {}, ""},
    {"adults", "persons", "adults (aged 15 and over) in the household", {}, ""},
    {"literate", "persons", "literate adults in the household", {}, ""},
    {"coop", "1", "co-operative membership", {0, 1, 2}, "outside passive_member active_member"},
    {"hunger", "years", "consecutive years with an uncovered food shortfall", {}, ""},
    {"land", "ha", "sown area", {}, ""},
    {"grain", "centners", "grain held", {}, ""},
    {"cash", "roubles", "cash held", {}, ""},
    {"debt", "roubles", "outstanding debt", {}, ""},
    {"skill", "1", "trading culture in [0, 1] (0: 'Asiatic', 1: 'cultured trader')", {}, ""},
};

double ratio(double a, double b) { return b != 0 ? a / b : kNaN; }
double share(double a, double b) { return b != 0 ? a / b : 0.0; }

struct HouseholdAccumulator final : run::Accumulator {
    std::mutex mutex;
    std::vector<Tally> tally;           // [arm][year]
    std::vector<GiniHistogram> gini;    // [arm][year]
    Tally start;
    GiniHistogram start_gini;
    std::vector<std::int64_t> hist;     // [arm][histogram][hist year][bin]
    std::vector<double> traj;           // [arm][sample][var][year + 1]
    std::vector<std::int32_t> failing;  // failing regions per year (same for every unit)
    std::vector<RegionTally> region;     // [arm][year][region] (empty without per-region series)
    std::vector<std::uint8_t> failure;   // [year][region] (same for every unit)
    std::vector<std::uint8_t> traj_set;  // [sample]: its rows of traj were merged in
    std::size_t arms = 0, traj_row = 0;  // traj's shape: arms, and values per (arm, sample)
    bool merged = false;                 // a unit was merged in (failing and failure are set)

    void reset() override {
        std::fill(region.begin(), region.end(), RegionTally{});
        std::fill(failure.begin(), failure.end(), std::uint8_t{0});
        std::fill(tally.begin(), tally.end(), Tally{});
        for (auto& g : gini) g.clear();
        start = Tally{};
        start_gini.clear();
        std::fill(hist.begin(), hist.end(), 0);
        std::fill(traj.begin(), traj.end(), kNaN);
        std::fill(failing.begin(), failing.end(), 0);
        std::fill(traj_set.begin(), traj_set.end(), 0);
        merged = false;
    }

    // The saved form: the tallies as they are, each Gini histogram's
    // non-empty bin range only (a default run's 100 histograms are 1.6 MB
    // whole and a few tens of KB so), the histogram counts, the failing
    // regions, the per-region tallies and failure flags, and the rows of the
    // sample households this accumulator holds.
    static_assert(std::is_trivially_copyable_v<Tally> && std::is_trivially_copyable_v<RegionTally>,
                  "saved and read back as bytes");
    void save(std::vector<std::byte>& out) const override {
        auto put = [&out](const void* p, std::size_t n) {
            const auto* b = static_cast<const std::byte*>(p);
            out.insert(out.end(), b, b + n);
        };
        auto put_gini = [&](const GiniHistogram& g) {
            const std::int32_t range[2] = {g.lo, g.hi};
            const std::uint8_t over = g.overflow;
            put(range, sizeof range);
            put(&over, 1);
            if (g.lo < g.hi) {
                put(g.n.data() + g.lo, sizeof(std::int64_t) * static_cast<std::size_t>(g.hi - g.lo));
                put(g.sum.data() + g.lo, sizeof(std::int64_t) * static_cast<std::size_t>(g.hi - g.lo));
            }
        };
        const std::uint8_t any = merged;
        put(&any, 1);
        put(tally.data(), tally.size() * sizeof(Tally));
        for (const auto& g : gini) put_gini(g);
        put(&start, sizeof start);
        put_gini(start_gini);
        put(hist.data(), hist.size() * sizeof(std::int64_t));
        put(failing.data(), failing.size() * sizeof(std::int32_t));
        put(region.data(), region.size() * sizeof(RegionTally));
        put(failure.data(), failure.size());
        put(traj_set.data(), traj_set.size());
        const std::size_t K = traj_set.size(), row = traj_row;
        for (std::size_t a = 0; a < arms; ++a)
            for (std::size_t k = 0; k < K; ++k)
                if (traj_set[k]) put(&traj[(a * K + k) * row], row * sizeof(double));
    }

    void merge_saved(std::span<const std::byte> saved) override {
        std::size_t at = 0;
        auto get = [&](void* p, std::size_t n) {
            if (at + n > saved.size())
                throw std::runtime_error("a saved accumulator is shorter than its simulation's (" +
                                         std::to_string(saved.size()) + " bytes)");
            std::memcpy(p, saved.data() + at, n);
            at += n;
        };
        GiniHistogram g;
        auto get_gini = [&]() -> const GiniHistogram& {
            g.clear();
            std::int32_t range[2];
            std::uint8_t over = 0;
            get(range, sizeof range);
            get(&over, 1);
            if (range[0] < range[1]) {
                if (range[0] < 0 || range[1] > kGiniBins) throw std::runtime_error("a saved Gini histogram is damaged");
                get(g.n.data() + range[0], sizeof(std::int64_t) * static_cast<std::size_t>(range[1] - range[0]));
                get(g.sum.data() + range[0], sizeof(std::int64_t) * static_cast<std::size_t>(range[1] - range[0]));
                g.lo = range[0], g.hi = range[1];
            }
            g.overflow = over != 0;
            return g;
        };
        std::lock_guard lock(mutex);
        std::uint8_t any = 0;
        get(&any, 1);
        Tally x;
        for (auto& t : tally) {
            get(&x, sizeof x);
            t.merge(x);
        }
        for (auto& h : gini) h.merge(get_gini());
        get(&x, sizeof x);
        start.merge(x);
        start_gini.merge(get_gini());
        std::int64_t c = 0;
        for (auto& h : hist) {
            get(&c, sizeof c);
            h += c;
        }
        std::vector<std::int32_t> their_failing(failing.size());
        get(their_failing.data(), their_failing.size() * sizeof(std::int32_t));
        RegionTally r;
        for (auto& t : region) {
            get(&r, sizeof r);
            t.merge(r);
        }
        std::vector<std::uint8_t> their_failure(failure.size());
        get(their_failure.data(), their_failure.size());
        if (any) failing = their_failing, failure = their_failure, merged = true;  // the same in every unit
        std::vector<std::uint8_t> their_set(traj_set.size());
        get(their_set.data(), their_set.size());
        const std::size_t K = traj_set.size(), row = traj_row;
        for (std::size_t a = 0; a < arms; ++a)
            for (std::size_t k = 0; k < K; ++k)
                if (their_set[k]) get(&traj[(a * K + k) * row], row * sizeof(double));
        for (std::size_t k = 0; k < K; ++k) traj_set[k] |= their_set[k];
        if (at != saved.size())
            throw std::runtime_error("a saved accumulator is longer than its simulation's (" +
                                     std::to_string(saved.size()) + " bytes)");
    }
};

std::int64_t household_count(const Params& p) { return p.villages * p.households; }

// The real tallies' names and units, for the message of a tally that did not
// hold its sum.
constexpr const char* kRealNames[] = {
#define X(n) #n,
    ARTEL_REAL_TALLIES(X)
#undef X
};
constexpr const char* kRealUnits[] = {
    "centners", "roubles",  "roubles",  "centners", "ha",      "centners", "centners",
    "centners", "centners", "centners", "centners", "centners", "centners", "roubles",
    "roubles",  "roubles",  "roubles",  "roubles",  "roubles"};
static_assert(std::size(kRealNames) == kReals && std::size(kRealUnits) == kReals);

// Stops the run where a tally of `x` or the Gini histogram `gini` did not
// hold its sum (kernels/tallies.hpp): the quantity, where, and what to do.
// `where`: "arm 'nep-1923' in 1938" or "the initial state"; `prefix` starts
// the message.
void check_held(const Tally& x, const GiniHistogram& gini, const std::string& where, const std::string& prefix) {
    std::string what;
    if (x.overflow) {
        const auto r = static_cast<std::size_t>(std::countr_zero(x.overflow));
        what = std::string(kRealNames[r]) + " (" + kRealUnits[r] + ")";
    } else if (gini.overflow) {
        what = "wealth max(0, cash + P grain - debt) for the Gini (roubles)";
    } else {
        return;
    }
    throw std::overflow_error(prefix + what + " summed over the households of " + where +
                              " is not a finite number up to 2^42 = 4.4e12, the most a tally adds up exactly: the "
                              "scenario's amounts grow too large for its population (configs/README.md, \"Valid "
                              "ranges\")");
}

// check_held for the initial state and every arm and year ([arm][year]).
void check_all(const std::vector<Arm>& arms, const Tally& start, const GiniHistogram& start_gini,
               const std::vector<Tally>& tally, const std::vector<GiniHistogram>& gini, const std::string& prefix) {
    check_held(start, start_gini, "the initial state", prefix);
    const auto T = static_cast<std::size_t>(arms[0].params.years);
    for (std::size_t i = 0; i < tally.size(); ++i)
        if (tally[i].overflow || gini[i].overflow)
            check_held(tally[i], gini[i],
                       "arm '" + arms[i / T].name + "' in " +
                           std::to_string(arms[0].params.start_year + static_cast<std::int64_t>(i % T)),
                       prefix);
}

}  // namespace

const std::vector<run::SeriesInfo>& series_catalogue() {
    static const std::vector<run::SeriesInfo> s = {
        {"households", "households", "living households", true},
        {"persons", "persons", "persons in living households", true},
        {"member_share", "1", "share of living households that are members (passive or active)", true},
        {"passive_share", "1", "share of living households that are passive members", true},
        {"active_share", "1", "share of living households that are active members", true},
        {"literacy", "1", "literate adults / adults", true},
        {"grain_mean", "centners", "mean grain held per living household", true},
        {"cash_mean", "roubles", "mean cash per living household", true},
        {"debt_mean", "roubles", "mean debt per living household", true},
        {"wealth_gini", "1", "Gini of household wealth max(0, cash + P grain - debt)", true},
        {"hunger_share", "1", "share of living households with an uncovered food shortfall", true},
        {"famine_deaths", "persons", "famine deaths in the year", false},
        {"births", "persons", "births in the year", false},
        {"deaths", "persons", "deaths other than famine in the year", false},
        {"famine_death_rate", "per 1000 persons", "famine deaths per 1000 persons at the start of the year", false},
        {"birth_rate", "per 1000 persons", "births per 1000 persons at the start of the year", false},
        {"death_rate", "per 1000 persons", "other deaths per 1000 persons at the start of the year", false},
        {"harvest_per_ha", "centners/ha", "gross harvest per sown hectare", false},
        {"failing_regions", "regions", "regions with a harvest failure", false},
        {"sold_coop", "centners", "grain sold through the co-operative", false},
        {"sold_private", "centners", "grain sold to private traders", false},
        {"sold_state", "centners", "grain sold to the state", false},
        {"coop_sales_share", "1", "co-operative share of grain sold", false},
        {"marketed_gross", "1", "grain sold / gross harvest", false},
        {"marketed_net", "1",
         "(grain sold - bought, borrowed, received as aid or drawn from the reserve) / gross harvest", false},
        {"stores_open", "villages", "villages with a co-operative store", true},
        {"reserve_per_household", "centners", "village reserves per living household", true},
        {"state_cost", "roubles", "bonuses (incl. leakage) + audits + aid + interest subsidy + write-offs", false},
        {"cost_bonus", "roubles", "bonuses paid, including leakage", false},
        {"cost_audit", "roubles", "cost of audits", false},
        {"cost_aid", "roubles", "co-operative mutual aid paid by the state", false},
        {"cost_interest", "roubles", "interest subsidy on members' debt (negative: a gain)", false},
        {"cost_writeoff", "roubles", "members' debt written off (defaults and dissolutions)", false},
        {"bonus_leakage", "roubles", "bonuses paid on false claims", false},
        {"claims", "households", "bonus claims made", false},
        {"audits", "households", "bonus claims audited", false},
        {"expulsions", "households", "members expelled (false claim caught or default)", false},
        {"defaults", "households", "households that defaulted", false},
        {"dissolved", "households", "households dissolved (size reached 0)", false},
    };
    return s;
}

const std::vector<run::EventInfo>& event_catalogue() {
    static const std::vector<run::EventInfo> e = {
        {"first_active_50", "year index",
         "first year t whose end-of-year active share reaches 0.5 (-1: already at the start; T: never)", true},
        {"first_active_90", "year index", "as first_active_50 for 0.9", true},
        {"first_literacy_90", "year index", "as first_active_50 for literacy 0.9", true},
        {"famine_deaths_total", "persons", "famine deaths over all years"},
        {"state_cost_total", "roubles", "state cost over all years"},
    };
    return e;
}

HouseholdSimulation::HouseholdSimulation(std::vector<Arm> arms, SimulationOptions options)
    : arms_(std::move(arms)), options_(std::move(options)) {
    if (arms_.empty()) throw std::invalid_argument("a simulation needs at least one arm");
    const Params& p = arms_[0].params;
    rng::check_stream_bounds(static_cast<std::uint64_t>(household_count(p)), static_cast<std::uint64_t>(p.years),
                             static_cast<std::uint64_t>(p.replications));
    if (options_.villages_per_block < 1) options_.villages_per_block = 1;

    schema_.replications = p.replications;
    schema_.years = p.years;
    schema_.start_year = p.start_year;
    for (const auto& a : arms_) schema_.arms.push_back(a.name);
    schema_.series = series_catalogue();
    schema_.events = event_catalogue();
    schema_.histogram_years = options_.histogram_years;
    const auto bins = options_.histogram_bins;
    auto edges = [bins](double max) {
        std::vector<double> e(static_cast<std::size_t>(bins + 1));
        for (std::int64_t k = 0; k <= bins; ++k)
            e[static_cast<std::size_t>(k)] = max * static_cast<double>(k) / static_cast<double>(bins);
        return e;
    };
    schema_.histograms = {
        {"wealth", "roubles", "household wealth max(0, cash + P grain - debt) at the end of the year",
         edges(options_.hist_wealth_max)},
        {"grain", "centners", "grain held at the end of the year", edges(options_.hist_grain_max)},
        {"literacy", "1", "literate adults / adults of the household at the end of the year", edges(1.0)},
    };
    schema_.trajectory_info = kTrajectoryVars;
    for (const auto& v : kTrajectoryVars) schema_.trajectory_vars.push_back(v.name);
    if (options_.regions) {
        schema_.regions = p.regions;
        schema_.regional = regional_catalogue();
    }
    if (const auto& sampler = options_.parameters) {
        schema_.design = uq::design_name(sampler->kind());
        schema_.design_source = sampler->table_source();
        for (const auto& up : sampler->parameters()) {
            run::ParameterInfo info;
            info.name = up.param->key();
            info.unit = std::string(up.param->unit);
            info.description = std::string(up.param->doc);
            info.prior = up.prior.to_toml();
            info.dist = up.prior.dist_name();
            info.numbers = up.prior.numbers();
            info.lists = up.prior.lists();
            schema_.parameters.push_back(std::move(info));
        }
    }
    const std::int64_t N = household_count(p);
    const std::int64_t K = std::min<std::int64_t>(options_.trajectory_households, N);
    schema_.trajectory_replications =
        K > 0 ? std::min<std::int64_t>(options_.trajectory_replications, p.replications) : 0;
    if (schema_.trajectory_replications > 0) {
        const std::int64_t stride = N / K;
        for (std::int64_t k = 0; k < K; ++k) schema_.trajectory_households.push_back(k * stride);
    }
}

void HouseholdSimulation::replication_params(std::uint64_t rep, std::vector<Params>& out) const {
    out.resize(arms_.size());
    for (std::size_t a = 0; a < arms_.size(); ++a) {
        Params& p = out[a];
        p = arms_[a].params;
        if (options_.parameters) options_.parameters->apply(rep, &p);
        for (const auto& [key, base] : arms_[a].links) config::write_value(&p, *key, config::read_value(&p, *base));
    }
}

std::size_t HouseholdSimulation::units_per_replication() const {
    const auto V = arms_[0].params.villages, B = options_.villages_per_block;
    return static_cast<std::size_t>((V + B - 1) / B);
}

std::int64_t HouseholdSimulation::unit_first_village(std::size_t unit) const {
    return static_cast<std::int64_t>(unit) * options_.villages_per_block;
}

std::int64_t HouseholdSimulation::unit_villages(std::size_t unit) const {
    return std::min(options_.villages_per_block, arms_[0].params.villages - unit_first_village(unit));
}

double HouseholdSimulation::work_per_unit(std::size_t unit) const {
    const Params& p = arms_[0].params;
    return static_cast<double>(unit_villages(unit) * p.households * p.years) * static_cast<double>(arms_.size());
}

std::size_t HouseholdSimulation::accumulator_bytes() const {
    const auto A = arms_.size(), T = static_cast<std::size_t>(arms_[0].params.years);
    const auto G = static_cast<std::size_t>(schema_.regions);
    return sizeof(HouseholdAccumulator) + A * T * (sizeof(Tally) + sizeof(GiniHistogram)) +
           A * T * G * sizeof(RegionTally) + T * G +
           A * schema_.histogram_cells() * sizeof(std::int64_t) +
           A * schema_.trajectory_households.size() * kTrajectoryVars.size() * (T + 1) * sizeof(double);
}

std::size_t HouseholdSimulation::worker_bytes() const {
    const auto A = arms_.size(), T = static_cast<std::size_t>(arms_[0].params.years);
    const auto households = static_cast<std::size_t>(options_.villages_per_block * arms_[0].params.households);
    const std::size_t per_household = 5 * sizeof(std::int32_t) + 5 * sizeof(float);  // HouseholdArrays
    return 2 * households * per_household + households * 32 +  // init and working state, scratch
           A * T * (sizeof(Tally) + sizeof(GiniHistogram)) + A * schema_.histogram_cells() * sizeof(std::int64_t) +
           A * T * static_cast<std::size_t>(schema_.regions) * sizeof(RegionTally) +
           // the rows of the sample households it holds (at most all of them)
           A * schema_.trajectory_households.size() * kTrajectoryVars.size() * (T + 1) * sizeof(double);
}

std::unique_ptr<run::Simulation> HouseholdSimulation::first_arms(std::size_t arms) const {
    const auto n = static_cast<std::ptrdiff_t>(std::clamp<std::size_t>(arms, 1, arms_.size()));
    return std::make_unique<HouseholdSimulation>(std::vector<Arm>(arms_.begin(), arms_.begin() + n), options_);
}

std::unique_ptr<run::Accumulator> HouseholdSimulation::make_accumulator() const {
    auto acc = std::make_unique<HouseholdAccumulator>();
    const auto A = arms_.size(), T = static_cast<std::size_t>(arms_[0].params.years);
    acc->tally.resize(A * T);
    acc->gini.resize(A * T);
    acc->hist.resize(A * schema_.histogram_cells());
    acc->traj.resize(A * schema_.trajectory_households.size() * kTrajectoryVars.size() * (T + 1));
    acc->failing.resize(T);
    acc->traj_set.resize(schema_.trajectory_households.size());
    acc->arms = A;
    acc->traj_row = kTrajectoryVars.size() * (T + 1);
    const auto G = static_cast<std::size_t>(schema_.regions);
    acc->region.resize(A * T * G);
    acc->failure.resize(T * G);
    acc->reset();
    return acc;
}

namespace {

class HouseholdWorker final : public run::Worker {
public:
    explicit HouseholdWorker(const HouseholdSimulation& sim) : sim_(sim) {
        const auto A = sim.arms().size();
        const auto T = static_cast<std::size_t>(sim.arms()[0].params.years);
        tally_.resize(A * T);
        gini_.resize(A * T);
        region_.resize(A * T * static_cast<std::size_t>(sim.schema().regions));
        hist_.resize(A * sim.schema().histogram_cells());
        hist_year_index_.assign(T, -1);
        const auto& hy = sim.schema().histogram_years;
        for (std::size_t k = 0; k < hy.size(); ++k) {
            const auto t = hy[k] - sim.schema().start_year;
            if (t >= 0 && t < static_cast<std::int64_t>(T)) hist_year_index_[static_cast<std::size_t>(t)] =
                static_cast<int>(k);
        }
    }

    void run(std::uint64_t replication, std::size_t unit) override {
        const auto& arms = sim_.arms();
        if (params_rep_ != static_cast<std::int64_t>(replication)) {
            sim_.replication_params(replication, params_);
            params_rep_ = static_cast<std::int64_t>(replication);
        }
        const Params& base = params_[0];
        // The replication whose random streams this one draws from (itself,
        // but for a Saltelli design's blocks, which share theirs).
        const auto& sampler = sim_.options().parameters;
        const auto rep = static_cast<std::uint32_t>(sampler ? sampler->stream_replication(replication) : replication);
        const auto T = static_cast<std::size_t>(base.years);
        const auto G = static_cast<std::size_t>(base.regions);

        using Clock = std::chrono::steady_clock;
        init_.shape(rep, sim_.unit_first_village(unit), sim_.unit_villages(unit), base.households);
        auto t0 = Clock::now();
        if (sim_.options().simd)
            init_block_simd(base, init_);
        else
            init_block(base, init_);
        Clock::duration in_kernels = Clock::now() - t0;
        if (weather_rep_ != static_cast<std::int64_t>(replication)) {  // its parameters too, not only its streams
            draw_weather(base, rep, weather_);
            weather_rep_ = static_cast<std::int64_t>(replication);
        }

        // Everything below adds to what the worker holds (merge() clears it).
        price0_.assign(G, base.price0);
        tally_stocks(base, init_, price0_.data(), start_, start_gini_);
        find_samples(replication);

        for (std::size_t a = 0; a < arms.size(); ++a) {
            state_.copy_from(init_);
            record_samples(a, 0);
            for (std::size_t t = 0; t < T; ++t) {
                RegionTally* regions = region_.empty() ? nullptr : &region_[(a * T + t) * G];
                t0 = Clock::now();
                if (sim_.options().simd)
                    step_year_simd(params_[a], weather_, static_cast<std::int64_t>(t), state_, scratch_,
                                   tally_[a * T + t], gini_[a * T + t], regions);
                else
                    step_year(params_[a], weather_, static_cast<std::int64_t>(t), state_, scratch_,
                              tally_[a * T + t], gini_[a * T + t], nullptr, regions);
                in_kernels += Clock::now() - t0;
                if (hist_year_index_[t] >= 0) add_histograms(a, static_cast<std::size_t>(hist_year_index_[t]), t);
                record_samples(a, t + 1);
            }
        }
        sim_.add_kernel_time(in_kernels);
        // The units held so far (the runner also names the unit; a plan's
        // trial unit runs without it).
        check_all(arms, start_, start_gini_, tally_, gini_, "replication " + std::to_string(replication) + ": ");
    }

    void merge(run::Accumulator& acc_base) override {
        auto& acc = static_cast<HouseholdAccumulator&>(acc_base);
        const auto A = sim_.arms().size();
        const auto T = static_cast<std::size_t>(sim_.arms()[0].params.years);
        {
            std::lock_guard lock(acc.mutex);
            for (std::size_t i = 0; i < tally_.size(); ++i) {
                acc.tally[i].merge(tally_[i]);
                acc.gini[i].merge(gini_[i]);
            }
            acc.start.merge(start_);
            acc.start_gini.merge(start_gini_);
            for (std::size_t i = 0; i < hist_.size(); ++i) acc.hist[i] += hist_[i];
            for (std::size_t i = 0; i < region_.size(); ++i) acc.region[i].merge(region_[i]);
            // The same in every unit of the replication.
            for (std::size_t t = 0; t < T; ++t) acc.failing[t] = weather_.failing[t];
            if (!acc.failure.empty()) std::copy(weather_.failure.begin(), weather_.failure.end(), acc.failure.begin());
            acc.merged = true;
            for (const auto k : held_k_) acc.traj_set[k] = 1;
        }
        // The sample households of different units are different slots:
        // no lock needed.
        const auto K = sim_.schema().trajectory_households.size();
        const std::size_t n = kVars * (T + 1);
        for (std::size_t s = 0; s < held_k_.size(); ++s)
            for (std::size_t a = 0; a < A; ++a)
                std::copy_n(&held_traj_[(s * A + a) * n], n, &acc.traj[(a * K + held_k_[s]) * n]);
        clear();
    }

private:
    static constexpr std::size_t kVars = 10;

    void clear() {
        std::fill(tally_.begin(), tally_.end(), Tally{});
        std::fill(region_.begin(), region_.end(), RegionTally{});
        for (auto& g : gini_) g.clear();
        start_ = Tally{};
        start_gini_.clear();
        std::fill(hist_.begin(), hist_.end(), 0);
        held_k_.clear();
        held_traj_.clear();
    }

    // The sample households in this unit: their indices in the sample go to
    // held_k_ (from held_k_[first_sample_] on), their indices in the block to
    // samples_; held_traj_ gets their rows, NaN until recorded.
    void find_samples(std::uint64_t replication) {
        samples_.clear();
        first_sample_ = held_k_.size();
        const auto& sch = sim_.schema();
        if (static_cast<std::int64_t>(replication) >= sch.trajectory_replications) return;
        const std::int64_t lo = init_.first_village * init_.households;
        const std::int64_t hi = lo + static_cast<std::int64_t>(init_.n_households());
        for (std::size_t k = 0; k < sch.trajectory_households.size(); ++k) {
            const auto id = sch.trajectory_households[k];
            if (id >= lo && id < hi) {
                held_k_.push_back(k);
                samples_.push_back(static_cast<std::size_t>(id - lo));
            }
        }
        const auto T1 = static_cast<std::size_t>(sim_.arms()[0].params.years) + 1;
        held_traj_.resize(held_k_.size() * sim_.arms().size() * kVars * T1, kNaN);
    }

    void record_samples(std::size_t a, std::size_t col) {
        const auto A = sim_.arms().size();
        const auto T1 = static_cast<std::size_t>(sim_.arms()[0].params.years) + 1;
        const auto& h = state_.hh;
        for (std::size_t s = 0; s < samples_.size(); ++s) {
            const auto i = samples_[s];
            const double v[kVars] = {double(h.size[i]), double(h.adults[i]), double(h.literate[i]),
                                     double(h.coop[i]), double(h.hunger[i]), h.land[i],
                                     h.grain[i],        h.cash[i],           h.debt[i],
                                     h.skill[i]};
            const std::size_t row = ((first_sample_ + s) * A + a) * kVars;
            for (std::size_t k = 0; k < kVars; ++k) held_traj_[(row + k) * T1 + col] = v[k];
        }
    }

    void add_histograms(std::size_t a, std::size_t hy, std::size_t t) {
        const auto& sch = sim_.schema();
        const auto nh = sch.histogram_years.size();
        const auto G = static_cast<std::uint32_t>(sim_.arms()[0].params.regions);
        const auto& h = state_.hh;
        const auto H = static_cast<std::size_t>(state_.households);
        // offsets of [arm a][hist][hy][.]
        std::size_t offset[3];
        std::size_t off = a * sch.histogram_cells();
        for (std::size_t k = 0; k < 3; ++k) {
            const auto bins = sch.histograms[k].edges.size() - 1;
            offset[k] = off + hy * bins;
            off += nh * bins;
        }
        auto binner = [&](int k) {
            const auto& e = sch.histograms[k].edges;
            return HistogramBinner(e.back(), e.size() - 1);
        };
        const HistogramBinner wealth_bin = binner(0), grain_bin = binner(1), literacy_bin = binner(2);
        std::int64_t* const hw = hist_.data() + offset[0];
        std::int64_t* const hg = hist_.data() + offset[1];
        std::int64_t* const hl = hist_.data() + offset[2];
        // The literacy bin of l literate of a adults, for a, l < kTableAdults,
        // from a table instead of two divisions per household: this worker's
        // own time (mostly this loop) fell from 7.5% to 5.5% of a 1-thread
        // run (perf).
        constexpr std::int32_t kTableAdults = 32;
        if (lit_bins_.empty()) {
            lit_bins_.resize(kTableAdults * kTableAdults);
            for (std::int32_t ad = 0; ad < kTableAdults; ++ad)
                for (std::int32_t li = 0; li < kTableAdults; ++li)
                    lit_bins_[static_cast<std::size_t>(ad * kTableAdults + li)] =
                        literacy_bin(ad > 0 ? double(li) / double(ad) : 0.0);
        }
        // Bins first, a village at a time, in loops the compiler vectorises
        // (divisions and selects lane-wise), then the counts, in four copies
        // of each histogram (household i in copy i % 4), added up at the end:
        // neighbours often fall in the same bin, and with one copy each
        // increment waited for the store of the one before.
        constexpr std::size_t kCopies = 4;
        const std::size_t nw = sch.histograms[0].edges.size() - 1, ng = sch.histograms[1].edges.size() - 1,
                          nl = sch.histograms[2].edges.size() - 1;
        copies_.assign(kCopies * (nw + ng + nl), 0);
        std::int64_t* const cw = copies_.data();
        std::int64_t* const cg = cw + kCopies * nw;
        std::int64_t* const cl = cg + kCopies * ng;
        wealth_scratch_.resize(H);
        bin_scratch_.resize(2 * H);
        double* const wealth = wealth_scratch_.data();
        std::int32_t* const wb = bin_scratch_.data();
        std::int32_t* const gb = wb + H;
        // Household i, the j-th of its village, in copy c; a dissolved
        // household adds 0 to the bins of its zeros (no branch: the branch on
        // it was mispredicted).
        const auto count = [&](std::size_t i, std::size_t j, std::size_t c) {
            const std::int64_t living = h.size[i] != 0;
            cw[static_cast<std::size_t>(wb[j]) * kCopies + c] += living;
            cg[static_cast<std::size_t>(gb[j]) * kCopies + c] += living;
            const std::int32_t ad = h.adults[i], li = h.literate[i];
            const std::size_t lb =
                static_cast<std::uint32_t>(ad) < kTableAdults && static_cast<std::uint32_t>(li) < kTableAdults
                    ? lit_bins_[static_cast<std::size_t>(ad * kTableAdults + li)]
                    : literacy_bin(ad > 0 ? double(li) / double(ad) : 0.0);
            cl[lb * kCopies + c] += living;
        };
        for (std::int64_t v = 0; v < state_.villages; ++v) {
            const auto P = static_cast<float>(
                weather_.P[weather_.at(static_cast<std::int64_t>(t), state_.village_id(v) % G)]);
            const std::size_t b = static_cast<std::size_t>(v) * H;
            for (std::size_t i = 0; i < H; ++i)
                wealth[i] = household_wealth(h.cash[b + i], h.grain[b + i], h.debt[b + i], P);
            wealth_bin.bins(wealth, H, wb);
            grain_bin.bins(h.grain.data() + b, H, gb);
            std::size_t j = 0;
            for (; j + kCopies <= H; j += kCopies)
                for (std::size_t c = 0; c < kCopies; ++c) count(b + j + c, j + c, c);
            for (; j < H; ++j) count(b + j, j, 0);
        }
        const auto add = [&](std::int64_t* to, const std::int64_t* from, std::size_t bins) {
            for (std::size_t k = 0; k < bins; ++k)
                for (std::size_t c = 0; c < kCopies; ++c) to[k] += from[k * kCopies + c];
        };
        add(hw, cw, nw);
        add(hg, cg, ng);
        add(hl, cl, nl);
    }

    const HouseholdSimulation& sim_;
    BlockState init_, state_;
    YearScratch scratch_;
    Weather weather_;
    std::int64_t weather_rep_ = -1;
    std::vector<Params> params_;  // every arm's parameters in replication params_rep_
    std::int64_t params_rep_ = -1;
    std::vector<double> price0_;
    Tally start_;
    GiniHistogram start_gini_;
    std::vector<Tally> tally_;
    std::vector<GiniHistogram> gini_;
    std::vector<RegionTally> region_;  // [arm][year][region], empty without per-region series
    std::vector<std::int64_t> hist_;
    std::vector<std::size_t> lit_bins_;       // add_histograms' literacy bins by (adults, literate)
    std::vector<double> wealth_scratch_;      // add_histograms': a village's wealth,
    std::vector<std::int32_t> bin_scratch_;   // and its wealth and grain bins
    std::vector<std::int64_t> copies_;        // add_histograms' four copies of each histogram
    std::vector<int> hist_year_index_;
    std::vector<std::size_t> samples_;  // the current unit's sample households, by index in the block
    std::size_t first_sample_ = 0;      // their first index in held_k_
    std::vector<std::size_t> held_k_;   // the held sample households, by index in the sample
    std::vector<double> held_traj_;     // and their rows: [held sample][arm][variable][year + 1]
};

// The series of one (arm, year) or the start, in series_catalogue() order.
void fill_series(const Tally& x, const GiniHistogram& gini, bool start, double failing, double* out) {
    const double living = double(x[Count::living]);
    const double persons_start = double(x[Count::persons_start]);
    const double sold = x[Real::sold_coop] + x[Real::sold_private] + x[Real::sold_state];
    const double harvest = x[Real::harvest];
    const double inflow = x[Real::bought] + x[Real::borrowed] + x[Real::aid] + x[Real::reserve_drawn];
    const double cost_parts[5] = {x[Real::cost_bonus], x[Real::cost_audit], x[Real::cost_aid],
                                  x[Real::cost_interest], x[Real::cost_writeoff]};
    const double state_cost = cost_parts[0] + cost_parts[1] + cost_parts[2] + cost_parts[3] + cost_parts[4];
    const double flows[] = {
        double(x[Count::famine_deaths]), double(x[Count::births]), double(x[Count::deaths]),
        1000.0 * ratio(double(x[Count::famine_deaths]), persons_start),
        1000.0 * ratio(double(x[Count::births]), persons_start),
        1000.0 * ratio(double(x[Count::deaths]), persons_start),
        ratio(harvest, x[Real::land]), failing,
        x[Real::sold_coop], x[Real::sold_private], x[Real::sold_state],
        ratio(x[Real::sold_coop], sold), ratio(sold, harvest), ratio(sold - inflow, harvest),
    };
    const double stocks_head[] = {
        living,
        double(x[Count::persons]),
        share(double(x[Count::passive] + x[Count::active]), living),
        share(double(x[Count::passive]), living),
        share(double(x[Count::active]), living),
        share(double(x[Count::literate]), double(x[Count::adults])),
        ratio(x[Real::grain], living),
        ratio(x[Real::cash], living),
        ratio(x[Real::debt], living),
        gini.gini(),
        share(double(x[Count::hungry]), living),
    };
    std::size_t k = 0;
    for (double v : stocks_head) out[k++] = v;
    for (double v : flows) out[k++] = start ? kNaN : v;
    out[k++] = double(x[Count::stores_open]);
    out[k++] = ratio(x[Real::reserve], living);
    const double tail[] = {state_cost,  cost_parts[0], cost_parts[1], cost_parts[2], cost_parts[3], cost_parts[4],
                           x[Real::leakage], double(x[Count::claims]), double(x[Count::audits]),
                           double(x[Count::expulsions]), double(x[Count::defaults]), double(x[Count::dissolved])};
    for (double v : tail) out[k++] = start ? kNaN : v;
    if (k != series_catalogue().size()) throw std::logic_error("fill_series: catalogue mismatch");
}

std::int64_t index_of(std::string_view name) {
    const auto& s = series_catalogue();
    for (std::size_t i = 0; i < s.size(); ++i)
        if (s[i].name == name) return static_cast<std::int64_t>(i);
    throw std::logic_error("no series " + std::string(name));
}

}  // namespace

std::unique_ptr<run::Worker> HouseholdSimulation::make_worker() const {
    return std::make_unique<HouseholdWorker>(*this);
}

void HouseholdSimulation::finish_replication(std::uint64_t rep, const run::Accumulator& acc_base,
                                             run::ReplicationRecord& out) const {
    const auto& acc = static_cast<const HouseholdAccumulator&>(acc_base);
    // The sums of all units (each unit's were checked as it ran).
    check_all(arms_, acc.start, acc.start_gini, acc.tally, acc.gini, "replication " + std::to_string(rep) + ": ");
    const auto A = arms_.size(), T = static_cast<std::size_t>(schema_.years), S = schema_.series.size();
    out.shape(schema_, static_cast<std::int64_t>(rep) < schema_.trajectory_replications);
    out.replication = rep;
    std::vector<double> start(S);
    fill_series(acc.start, acc.start_gini, true, kNaN, start.data());
    static const auto i_active = index_of("active_share"), i_lit = index_of("literacy"),
                      i_famine = index_of("famine_deaths"), i_cost = index_of("state_cost");
    for (std::size_t a = 0; a < A; ++a) {
        for (std::size_t s = 0; s < S; ++s)
            out.start[a * S + s] = schema_.series[s].has_start ? start[s] : kNaN;
        std::vector<double> year(S);
        for (std::size_t t = 0; t < T; ++t) {
            fill_series(acc.tally[a * T + t], acc.gini[a * T + t], false, double(acc.failing[t]), year.data());
            for (std::size_t s = 0; s < S; ++s) out.series[(a * S + s) * T + t] = year[s];
        }
        // Events (MODEL.md §7): first year reaching a threshold, -1 if the start does, T if never.
        auto first_reaching = [&](std::int64_t series, double threshold) {
            if (out.start[a * S + static_cast<std::size_t>(series)] >= threshold) return -1.0;
            for (std::size_t t = 0; t < T; ++t)
                if (out.series[(a * S + static_cast<std::size_t>(series)) * T + t] >= threshold) return double(t);
            return double(T);
        };
        double famine = 0, cost = 0;
        for (std::size_t t = 0; t < T; ++t) {
            famine += out.series[(a * S + static_cast<std::size_t>(i_famine)) * T + t];
            cost += out.series[(a * S + static_cast<std::size_t>(i_cost)) * T + t];
        }
        const double ev[] = {first_reaching(i_active, 0.5), first_reaching(i_active, 0.9),
                             first_reaching(i_lit, 0.9), famine, cost};
        std::copy(std::begin(ev), std::end(ev), out.events.begin() + static_cast<std::ptrdiff_t>(a * std::size(ev)));
    }
    std::copy(acc.hist.begin(), acc.hist.end(), out.histograms.begin());
    if (!out.trajectories.empty()) std::copy(acc.traj.begin(), acc.traj.end(), out.trajectories.begin());
    if (options_.parameters) options_.parameters->values(rep, out.parameters);
    fill_regions(acc.region, acc.failure, out.regions);
}

// The per-region series (MODEL.md §7) of every arm: [arm][series][year][region].
void HouseholdSimulation::fill_regions(const std::vector<RegionTally>& region, const std::vector<std::uint8_t>& failure,
                                       std::vector<double>& out) const {
    const auto G = static_cast<std::size_t>(schema_.regions);
    if (G == 0) return;
    const auto A = arms_.size(), T = static_cast<std::size_t>(schema_.years), V = schema_.regional.size();
    for (std::size_t a = 0; a < A; ++a)
        for (std::size_t t = 0; t < T; ++t)
            for (std::size_t g = 0; g < G; ++g) {
                const RegionTally& x = region[(a * T + t) * G + g];
                if (x.overflow)
                    throw std::overflow_error("arm '" + arms_[a].name + "', year " + std::to_string(t) + ", region " +
                                              std::to_string(g) + ": a regional sum beyond what the tallies hold");
                const double v[] = {ratio(x[Real::harvest], x[Real::land]),
                                    double(failure[t * G + g]),
                                    share(double(x[Count::hungry]), double(x[Count::living])),
                                    double(x[Count::famine_deaths]),
                                    double(x[Count::persons]),
                                    x[Real::sold_coop],
                                    x[Real::sold_private],
                                    x[Real::sold_state]};
                static_assert(std::size(v) == 8);
                for (std::size_t k = 0; k < V; ++k) out[((a * V + k) * T + t) * G + g] = v[k];
            }
}

const std::vector<run::SeriesInfo>& regional_catalogue() {
    static const std::vector<run::SeriesInfo> r = {
        {"harvest_per_ha", "centners/ha", "gross harvest per sown hectare of the region's villages", false},
        {"failed", "1", "1 if the region's harvest failed that year, else 0", false},
        {"hunger_share", "1", "share of the region's living households with an uncovered food shortfall", false},
        {"famine_deaths", "persons", "famine deaths in the region in the year", false},
        {"persons", "persons", "persons in the region's living households at the end of the year", false},
        {"sold_coop", "centners", "grain the region's households sold through the co-operative", false},
        {"sold_private", "centners", "grain the region's households sold to private traders", false},
        {"sold_state", "centners", "grain the region's households sold to the state", false},
    };
    return r;
}

}  // namespace artel::model
