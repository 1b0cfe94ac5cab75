// The household model's driver for the command line: scenario file → arms →
// HouseholdSimulation, and the headline results `artel info` prints.
#pragma once

#include "engine/cli/driver.hpp"
#include "kernels/simulation.hpp"

namespace artel::model {

cli::ModelDriver& driver();

// The base parameters, arms and options of a scenario file after "key=value"
// assignments, validated (throws config::ConfigError).
struct LoadedScenario {
    Params base;
    std::vector<Arm> arms;
    SimulationOptions options;
    std::string resolved_text;
    std::vector<std::string> arm_overrides;
    std::vector<output::ArmSweep> arm_sweeps;  // per arm: the sweep that made it (empty name: none)
};
LoadedScenario load_scenario(const std::filesystem::path& file, const std::vector<std::string>& sets);

}  // namespace artel::model
