// A scenario's priors and [uncertainty] section as the sampler a run uses.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "engine/config/scenario_file.hpp"
#include "engine/uncertainty/sampler.hpp"

namespace artel::uq {

// Null when no parameter has a prior. A design that cannot serve the run
// (saltelli with a replication count it cannot use, a table without the
// priors' columns, too few rows or values out of range) throws
// config::ConfigError naming the [uncertainty] key or the table's cell. A
// table's path is taken relative to the scenario file's directory.
std::shared_ptr<const ParameterSampler> make_sampler(const std::filesystem::path& scenario_file,
                                                     const config::ScenarioFile& scenario, std::uint64_t seed,
                                                     std::int64_t replications);

}  // namespace artel::uq
