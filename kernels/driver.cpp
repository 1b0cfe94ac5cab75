#include "kernels/driver.hpp"

#include <cmath>

#include "engine/config/scenario_file.hpp"
#include "engine/uncertainty/from_scenario.hpp"
#include "kernels/simd/step_simd.hpp"

namespace artel::model {

LoadedScenario load_scenario(const std::filesystem::path& file, const std::vector<std::string>& sets) {
    LoadedScenario out;
    const auto table = param_table();
    auto sc = config::load_scenario(file, table, &out.base);
    for (const auto& s : sets) config::apply_set(s, table, &out.base, sc);
    config::expand_sweeps(sc);
    config::validate(table, &out.base, sc, model::cross_checks());
    out.resolved_text = config::render_scenario(table, &out.base, sc);
    out.options.parameters = uq::make_sampler(file, sc, out.base.seed, out.base.replications);
    for (const auto& a : sc.arms) {
        Arm arm{a.name, out.base, {}};
        config::apply_arm(a, &arm.params);
        std::string text;
        for (const auto& o : a.overrides) {
            if (o.follows) arm.links.emplace_back(o.param, o.follows);
            text += std::string(o.param->name) + " = " +
                    (o.follows ? "\"" + o.follows->key() + "\"" : config::format_value(&arm.params, *o.param)) + "\n";
        }
        out.arms.push_back(std::move(arm));
        out.arm_overrides.push_back(text);
        out.arm_sweeps.push_back({a.sweep, a.coordinates});
    }
    const auto& o = sc.output;
    out.options.histogram_years = o.histogram_years;
    out.options.histogram_bins = o.histogram_bins;
    out.options.hist_wealth_max = out.base.hist_wealth_max;
    out.options.hist_grain_max = out.base.hist_grain_max;
    out.options.trajectory_households = o.trajectory_households;
    out.options.trajectory_replications = o.trajectory_replications;
    out.options.regions = out.base.output_regions;
    // The per-region series hold arms x years x regions values per
    // replication (and as many tallies per worker): bounded like the arms.
    constexpr std::int64_t kMaxRegionalRegions = 1024;
    if (out.base.output_regions && out.base.regions > kMaxRegionalRegions) {
        const auto it = sc.positions.find("population.regions");
        const auto pos = it != sc.positions.end() ? config::to_string(it->second) + ": " : std::string();
        throw config::ConfigError(pos + "population.regions = " + std::to_string(out.base.regions) +
                                  " with output.regions = true: the per-region series are written for at most " +
                                  std::to_string(kMaxRegionalRegions) +
                                  " regions; set output.regions = false, or use fewer regions");
    }
    // About 2000 households per work unit: fits in L2 and gives many units.
    out.options.villages_per_block = std::max<std::int64_t>(1, 2048 / out.base.households);
    return out;
}

namespace {

class HouseholdDriver final : public cli::ModelDriver {
public:
    cli::PreparedRun prepare(const std::filesystem::path& file, const std::vector<std::string>& sets) const override {
        auto sc = load_scenario(file, sets);
        cli::PreparedRun run;
        run.metadata.scenario_text = sc.resolved_text;
        run.metadata.scenario_file = file.string();
        run.metadata.seed = sc.base.seed;
        run.metadata.arm_overrides = sc.arm_overrides;
        run.metadata.arm_sweeps = sc.arm_sweeps;
        run.work = static_cast<double>(sc.base.replications) * static_cast<double>(sc.base.villages) *
                   static_cast<double>(sc.base.households) * static_cast<double>(sc.base.years) *
                   static_cast<double>(sc.arms.size());
        sc.options.simd = !reference_;
        run.parameters = sc.options.parameters;
        run.simulation = std::make_unique<HouseholdSimulation>(std::move(sc.arms), sc.options);
        return run;
    }

    void select_kernel(const std::string& name) override {
        if (name == "reference") {
            reference_ = true;
            return;
        }
        reference_ = false;
        set_simd_target(name);
    }
    std::string kernel() const override { return reference_ ? "reference (scalar)" : "simd " + simd_target(); }
    std::vector<std::string> kernels() const override {
        auto k = available_simd_targets();
        k.push_back("reference");
        return k;
    }

    std::vector<cli::Headline> headlines() const override {
        return {
            {"active share", "active_share", true, 3},
            {"member share", "member_share", true, 3},
            {"literacy", "literacy", true, 3},
            {"hunger share", "hunger_share", true, 3},
            {"year active >= 50% (index)", "first_active_50", false, 1},
            {"famine deaths (total)", "famine_deaths_total", false, 0},
            {"state cost (total, roubles)", "state_cost_total", false, 0},
        };
    }

private:
    bool reference_ = false;
};

}  // namespace

cli::ModelDriver& driver() {
    static HouseholdDriver d;
    return d;
}

}  // namespace artel::model
